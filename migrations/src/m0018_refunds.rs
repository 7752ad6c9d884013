use sea_orm_migration::prelude::*;

use crate::{run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &["refunds"];

/// Refunds and reconciliation. `refunds`: money given back on a succeeded payment, whole or in
/// part, by staff holding `refund`, with the reason; its idempotency key is written before
/// Stripe is called (a retry after a lost answer refunds once); its state follows Stripe's
/// (`created` until Stripe answered, then `pending`, `succeeded`, `failed`, `canceled`,
/// `requires_action`). `payments.charge_id`: the charge Stripe made for a succeeded payment,
/// the `source` of its balance transaction, so the day's reconciliation pairs them.
const SCHEMA: &str = r#"
CREATE TABLE refunds (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    refund_fee BOOLEAN NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    stripe_refund_id TEXT NULL,
    failure TEXT NULL,
    requested_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, stripe_refund_id),
    FOREIGN KEY (tenant_id, payment_id) REFERENCES payments (tenant_id, id)
);
CREATE INDEX refunds_payment ON refunds (tenant_id, payment_id);
CREATE INDEX refunds_open ON refunds (tenant_id, status, updated_at);
ALTER TABLE payments ADD COLUMN charge_id TEXT NULL;
CREATE INDEX payments_succeeded ON payments (tenant_id, succeeded_at);
CREATE INDEX payments_charge ON payments (tenant_id, charge_id)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await
    }
}
