use sea_orm_migration::prelude::*;

use crate::{run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &["service_fees"];

/// Paying for a service as the last step of its case: per service, when (`before`: the case is
/// submitted only once paid; `after`: submitted, and awaiting payment), whether it needs the
/// stamp duty, and the exemptions from it a person may declare (one per line). The amount is
/// the charter's cost of the service; the fee is a payment notice of the person's, referenced
/// by the case's draft (`PRATICA-<draft>`, the case's own key).
const SCHEMA: &str = r#"
CREATE TABLE service_fees (
    tenant_id BIGINT NOT NULL,
    service_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    stamp_duty BOOLEAN NOT NULL,
    exemptions TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, service_id)
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await
    }
}
