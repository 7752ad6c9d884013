use sea_orm_migration::prelude::*;

use crate::{grant_federation_tables, run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &["reconciliations"];

/// The nightly reconciliation. `reconciliations` is the commune's own record of each day
/// compared (its verdicts counted, its totals), read in its console. `commune_jobs` is the
/// federation's bookkeeping of per-commune nightly jobs (which commune's day is claimed by
/// which node, done, or to be tried again): no commune content, so that one statement finds
/// the communes still due across the federation and two nodes never run the same one.
const SCHEMA: &str = r#"
CREATE TABLE reconciliations (
    tenant_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    state TEXT NOT NULL,
    ran_at BIGINT NOT NULL,
    lines INTEGER NOT NULL,
    flagged INTEGER NOT NULL,
    ours_cents BIGINT NOT NULL,
    stripe_gross_cents BIGINT NOT NULL,
    stripe_fee_cents BIGINT NOT NULL,
    stripe_net_cents BIGINT NOT NULL,
    error TEXT NULL,
    PRIMARY KEY (tenant_id, day)
);
CREATE TABLE commune_jobs (
    job TEXT NOT NULL,
    commune_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL,
    PRIMARY KEY (job, commune_id, day)
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await?;
        grant_federation_tables(manager, &["commune_jobs"]).await
    }
}
