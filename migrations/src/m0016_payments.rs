use sea_orm_migration::prelude::*;

use crate::{run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &["payment_settings", "payment_notices"];

/// Payments owed to a commune. `payment_settings`: one row per commune once it sets payments
/// up: the tax code its notices carry, its pagoPA segregation code, the counter of its notices'
/// own numbers (bumped once per import, under the row's lock), the fee, the kinds it collects
/// online, the receipt's header and its Stripe connected account. `payment_notices`: a notice
/// is known by its pagoPA notice number (18 digits) and by the commune's own reference (unique:
/// an import is idempotent by it); a citizen's "to pay" list reads it by fiscal code.
const SCHEMA: &str = r#"
CREATE TABLE payment_settings (
    tenant_id BIGINT NOT NULL PRIMARY KEY,
    tax_code TEXT NULL,
    segregation INTEGER NOT NULL DEFAULT 1,
    next_local BIGINT NOT NULL DEFAULT 1,
    fee_cents BIGINT NOT NULL DEFAULT 100,
    kinds TEXT NOT NULL DEFAULT '',
    receipt_header TEXT NOT NULL DEFAULT '',
    stripe_account TEXT NULL,
    updated_at BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE payment_notices (
    tenant_id BIGINT NOT NULL,
    notice_number TEXT NOT NULL,
    reference TEXT NOT NULL,
    fiscal_code TEXT NOT NULL,
    payer_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    due_on TEXT NOT NULL,
    reduced_cents BIGINT NULL,
    reduced_until TEXT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    import_id TEXT NULL,
    paid_at BIGINT NULL,
    paid_cents BIGINT NULL,
    cancelled_at BIGINT NULL,
    cancel_reason TEXT NULL,
    PRIMARY KEY (tenant_id, notice_number),
    UNIQUE (tenant_id, reference)
);
CREATE INDEX payment_notices_payer ON payment_notices (tenant_id, fiscal_code, due_on, notice_number);
CREATE INDEX payment_notices_time ON payment_notices (tenant_id, created_at, notice_number)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await?;
        Ok(())
    }
}
