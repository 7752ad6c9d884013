use sea_orm_migration::prelude::*;

use crate::{run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &["ticket_offers", "ticket_slots", "ticket_orders", "tickets"];

/// Tickets (a museum, an event). `ticket_offers`: what a commune sells, its price per ticket;
/// `ticket_slots`: its times, each with a capacity and the seats taken (held by an order being
/// paid, or sold), never more than the capacity (the CHECK backs the conditional update that
/// takes them); `ticket_orders`: a buyer's seats in one slot (an e-mail address, no sign-in),
/// paid by one payment (`payments.purpose` = `tickets`), its page reached with a key whose
/// hash is kept; seats go back when its payment is given up; `tickets`: one per seat once paid,
/// with the code its QR carries, when it was let in (once), and when a refund of its order voided
/// it.
const SCHEMA: &str = r#"
CREATE TABLE ticket_offers (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    place TEXT NOT NULL,
    price_cents BIGINT NOT NULL,
    max_per_order INTEGER NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE ticket_slots (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    offer_id TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    taken INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, offer_id, starts_at),
    FOREIGN KEY (tenant_id, offer_id) REFERENCES ticket_offers (tenant_id, id),
    CHECK (taken >= 0 AND taken <= capacity)
);
CREATE TABLE ticket_orders (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    slot_id TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    status TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, payment_id),
    FOREIGN KEY (tenant_id, slot_id) REFERENCES ticket_slots (tenant_id, id)
);
CREATE TABLE tickets (
    tenant_id BIGINT NOT NULL,
    code TEXT NOT NULL,
    order_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    used_at BIGINT NULL,
    used_by TEXT NULL,
    voided_at BIGINT NULL,
    PRIMARY KEY (tenant_id, code),
    UNIQUE (tenant_id, order_id, seq),
    FOREIGN KEY (tenant_id, order_id) REFERENCES ticket_orders (tenant_id, id)
);
ALTER TABLE payments ADD COLUMN purpose TEXT NOT NULL DEFAULT 'notices'
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await
    }
}
