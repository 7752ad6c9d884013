use sea_orm_migration::prelude::*;

use crate::{run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &["messages"];

/// The outbox: every message the portal sends (e-mail, SMS) is a row, written in the same
/// transaction as the event that causes it, and delivered by the workers of every node.
/// `tenant_id` is the commune that sends it, 0 for the federation's own messages (sign-in host,
/// federation staff). `payload` is sealed (it may hold a link or a code); `id` is also the
/// idempotency key handed to the provider. A worker claims a row by moving it to `sending` with a
/// lease; a row whose lease ran out is claimed again (a worker died mid-batch).
///
/// The commune's channels: which it pays for, and its SMS gateway (HTTP adapter; token and
/// delivery-report secret sealed like the identity providers' secrets). A person's mobile
/// number, like their contact e-mail, is used once proven by a code.
const SCHEMA: &str = r#"
CREATE TABLE messages (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    channel TEXT NOT NULL,
    template TEXT NOT NULL,
    recipient TEXT NOT NULL,
    person_id TEXT,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    secret BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    provider_id TEXT,
    reason TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    done_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX messages_due ON messages (status, next_attempt_at);
CREATE INDEX messages_person ON messages (tenant_id, person_id, created_at);
CREATE INDEX messages_recent ON messages (tenant_id, created_at);
CREATE INDEX messages_provider ON messages (tenant_id, provider_id);
ALTER TABLE commune_settings ADD COLUMN sms_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE commune_settings ADD COLUMN sms_endpoint TEXT;
ALTER TABLE commune_settings ADD COLUMN sms_token TEXT;
ALTER TABLE commune_settings ADD COLUMN sms_sender TEXT;
ALTER TABLE commune_settings ADD COLUMN sms_report_secret TEXT;
ALTER TABLE people ADD COLUMN contact_mobile_verified TEXT
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            // The delivery workers claim and settle messages of every commune, in transactions
            // that declare it (`DeliveryDb`); nothing else reads across communes.
            // Reading and updating only: a worker never writes or deletes a message.
            run_script(
                manager,
                "CREATE POLICY delivery_read ON messages FOR SELECT \
                 USING (current_setting('sportello.scope', true) = 'delivery');\n\
                 CREATE POLICY delivery_update ON messages FOR UPDATE \
                 USING (current_setting('sportello.scope', true) = 'delivery') \
                 WITH CHECK (current_setting('sportello.scope', true) = 'delivery')",
            )
            .await?;
        }
        Ok(())
    }
}
