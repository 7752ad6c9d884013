use sea_orm_migration::prelude::*;

use crate::{grant_federation_tables, run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &[
    "payments",
    "payment_items",
    "stripe_events",
    "receipt_counters",
];

/// Paying online. `payments`: one attempt to pay one or several of a person's notices of one
/// commune, on the commune's Stripe connected account: its idempotency key is written before
/// Stripe is called, the PaymentIntent's id after; its state only moves forward (created →
/// pending → succeeded; failed may still succeed; succeeded is final). `payment_items`: the
/// notices it pays and how much of each. `stripe_events`: every Stripe event applied to the
/// commune, written in the transaction that applies it (an event is applied once).
/// A succeeded payment gets its receipt's number (per commune and year, from `receipt_counters`,
/// in the transaction that settles it). `stripe_accounts` is the federation's map from a connected account to its commune (events
/// name the account, not the commune): one commune per account.
/// `payment_notices.open_payment` holds the payment under way for a notice (one at a time).
const SCHEMA: &str = r#"
CREATE TABLE payments (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    fiscal_code TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    fee_cents BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    stripe_account TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    intent_id TEXT NULL,
    client_secret TEXT NULL,
    failure TEXT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    succeeded_at BIGINT NULL,
    receipt_year INTEGER NULL,
    receipt_number BIGINT NULL,
    checked_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, intent_id),
    UNIQUE (tenant_id, receipt_year, receipt_number)
);
CREATE INDEX payments_open ON payments (tenant_id, status, updated_at);
CREATE INDEX payments_person ON payments (tenant_id, person_id, created_at);
CREATE TABLE payment_items (
    tenant_id BIGINT NOT NULL,
    payment_id TEXT NOT NULL,
    notice_number TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, payment_id, notice_number),
    FOREIGN KEY (tenant_id, payment_id) REFERENCES payments (tenant_id, id),
    FOREIGN KEY (tenant_id, notice_number) REFERENCES payment_notices (tenant_id, notice_number)
);
CREATE TABLE stripe_events (
    tenant_id BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);
CREATE TABLE receipt_counters (
    tenant_id BIGINT NOT NULL,
    year INTEGER NOT NULL,
    next BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, year)
);
CREATE TABLE stripe_accounts (
    account_id TEXT NOT NULL PRIMARY KEY,
    commune_id BIGINT NOT NULL UNIQUE
);
ALTER TABLE payment_notices ADD COLUMN open_payment TEXT NULL;
ALTER TABLE payment_notices ADD COLUMN payment_id TEXT NULL
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await?;
        grant_federation_tables(manager, &["stripe_accounts"]).await
    }
}
