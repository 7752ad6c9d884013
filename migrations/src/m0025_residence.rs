use sea_orm_migration::prelude::*;

use crate::{run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &[
    "residence_moves",
    "registry_reminders",
    "certificate_requests",
];

/// Declarations of residence the registry office has acted on (the declaration itself is a
/// case): the legal day it holds from, its deadlines, its state (`registered`, `confirmed`,
/// `rejected`), and for each person moved the version their record had before (none: newly
/// registered), so a rejection can restore it; and the same of the member commune they came from
/// (`elsewhere`: its id and the people it recorded emigrated). And the identity cards whose holder was reminded
/// of their expiry (once a document: `told` false when the holder could not be reached). And a
/// signing key's X.509 certificate (PEM), issued by the deployment's CA for PAdES signatures.
/// And the certificates asked online that wait for their stamp duty to be paid (`to_pay`, then
/// `collecting` while it is made, `collected` with its number).
const SCHEMA: &str = r#"
CREATE TABLE residence_moves (
    tenant_id BIGINT NOT NULL,
    case_id TEXT NOT NULL,
    state TEXT NOT NULL,
    legal_day TEXT NOT NULL,
    check_by TEXT NOT NULL,
    people TEXT NOT NULL,
    elsewhere TEXT NULL,
    registered_at BIGINT NOT NULL,
    registered_by TEXT NOT NULL,
    decided_at BIGINT NULL,
    decided_by TEXT NULL,
    PRIMARY KEY (tenant_id, case_id)
);
CREATE INDEX residence_moves_state ON residence_moves (tenant_id, state, check_by);
CREATE TABLE registry_reminders (
    tenant_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    doc_number TEXT NOT NULL,
    sent_on TEXT NOT NULL,
    told BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, person_id, doc_number)
);
CREATE INDEX registry_versions_doc ON registry_versions (tenant_id, doc_expires);
ALTER TABLE signing_keys ADD COLUMN certificate TEXT NULL;
CREATE TABLE certificate_requests (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    fiscal_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    at_date TEXT NOT NULL,
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    claimed_at BIGINT NULL,
    certificate TEXT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX certificate_requests_person ON certificate_requests (tenant_id, person_id);
CREATE UNIQUE INDEX certificate_requests_once ON certificate_requests
    (tenant_id, person_id, kind, subject, at_date, purpose) WHERE state = 'to_pay'
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await
    }
}
