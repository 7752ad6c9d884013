use sea_orm_migration::prelude::*;

use crate::{run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &["topics", "subscriptions", "broadcasts"];

/// Subscriptions to events of interest: the kinds of event a commune publishes ("road works in
/// my area", "school canteen menu"), who subscribed by which channels, and every message sent
/// to a kind's subscribers (the messages themselves are in the outbox).
const SCHEMA: &str = r#"
CREATE TABLE topics (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_en TEXT,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE subscriptions (
    tenant_id BIGINT NOT NULL,
    topic_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    by_email BOOLEAN NOT NULL,
    by_sms BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, topic_id, person_id),
    FOREIGN KEY (tenant_id, topic_id) REFERENCES topics (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX subscriptions_person ON subscriptions (tenant_id, person_id);
CREATE TABLE broadcasts (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    topic_id TEXT NOT NULL,
    text TEXT NOT NULL,
    sent_by TEXT NOT NULL,
    recipients INTEGER NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX broadcasts_recent ON broadcasts (tenant_id, sent_at)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await
    }
}
