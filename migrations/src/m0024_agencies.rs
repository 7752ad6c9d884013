use sea_orm_migration::prelude::*;

use crate::{run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &["agencies", "agency_members"];

/// Agencies that check the registry (police, INPS, health authorities) under an agreement with
/// the commune: the fields they may see and the purposes they may declare, how many checks a
/// minute; and which of the commune's verifier accounts act for which agency.
const SCHEMA: &str = r#"
CREATE TABLE agencies (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    fields TEXT NOT NULL,
    purposes TEXT NOT NULL,
    per_minute INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE agency_members (
    tenant_id BIGINT NOT NULL,
    staff_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, staff_id),
    FOREIGN KEY (tenant_id, agency_id) REFERENCES agencies (tenant_id, id)
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await
    }
}
