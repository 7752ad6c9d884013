use sea_orm_migration::prelude::*;

use crate::{backfill_from_cases, grant_federation_tables, run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &[
    "delegations",
    "case_settings",
    "desk_filings",
    "case_counts",
];

/// Cases filed for someone: a draft kept by staff at a desk (or an intermediary) is theirs, not
/// the citizen's (`filed_by`); a case records who filed it, as what, from which commune's desk
/// and why; a desk's own commune keeps where the cases it filed for partner communes are.
/// Intermediaries' delegations (the signed document, its expiry); each commune's case
/// settings (how its protocol numbers are written); which partner communes' desks each commune
/// lets file its cases (`desk_consents`, one row per commune, read across communes in one
/// query); and, with the identity tables, the communes each person has cases with and whether
/// a person was made known by a desk rather than an identity provider.
const SCHEMA: &str = r#"
ALTER TABLE case_drafts ADD COLUMN filed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE case_drafts ADD COLUMN filed_as TEXT NOT NULL DEFAULT '';
ALTER TABLE case_drafts ADD COLUMN filed_from BIGINT;
ALTER TABLE case_drafts ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
ALTER TABLE case_drafts ADD COLUMN delegation_id TEXT;
DROP INDEX case_drafts_person_service;
CREATE UNIQUE INDEX case_drafts_keeper ON case_drafts (tenant_id, person_id, service_id, filed_by);
CREATE INDEX case_drafts_filed_by ON case_drafts (tenant_id, filed_by, updated_at);
ALTER TABLE cases ADD COLUMN filed_by TEXT;
ALTER TABLE cases ADD COLUMN filed_by_name TEXT;
ALTER TABLE cases ADD COLUMN filed_as TEXT;
ALTER TABLE cases ADD COLUMN filed_from BIGINT;
ALTER TABLE cases ADD COLUMN purpose TEXT;
ALTER TABLE cases ADD COLUMN delegation_id TEXT;
ALTER TABLE cases ADD COLUMN protocol_text TEXT;
ALTER TABLE cases ADD COLUMN protocol_key TEXT;
CREATE INDEX cases_protocol_key ON cases (tenant_id, protocol_key);
CREATE INDEX cases_filed_by ON cases (tenant_id, filed_by, submitted_at);
CREATE INDEX cases_status_time ON cases (tenant_id, status, submitted_at, id);
DROP INDEX cases_queue;
DROP INDEX cases_due;
CREATE INDEX cases_queue_order ON cases (tenant_id, office_id, status, submitted_at, id);
CREATE INDEX cases_due_order ON cases (tenant_id, office_id, due_on, submitted_at, id);
CREATE INDEX cases_due_time ON cases (tenant_id, due_on, submitted_at, id);
CREATE TABLE delegations (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    fiscal_code TEXT NOT NULL,
    client_name TEXT NOT NULL,
    document_name TEXT NOT NULL,
    file_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX delegations_staff ON delegations (tenant_id, staff_id, fiscal_code);
CREATE TABLE case_settings (
    tenant_id BIGINT NOT NULL,
    protocol_format TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id)
);
CREATE TABLE desk_filings (
    tenant_id BIGINT NOT NULL,
    filed_by TEXT NOT NULL,
    commune_id BIGINT NOT NULL,
    case_id TEXT NOT NULL,
    filed_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, filed_by, commune_id, case_id)
);
CREATE TABLE case_counts (
    tenant_id BIGINT NOT NULL,
    office_id TEXT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, office_id, status)
);
CREATE TABLE desk_consents (
    commune_id BIGINT NOT NULL,
    partners TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (commune_id)
);
ALTER TABLE people ADD COLUMN desk_made BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE person_communes (
    person_id TEXT NOT NULL,
    commune_id BIGINT NOT NULL,
    first_at BIGINT NOT NULL,
    PRIMARY KEY (person_id, commune_id)
)
"#;

const BACKFILL: &str = "INSERT INTO case_counts (tenant_id, office_id, status, n) \
    SELECT tenant_id, office_id, status, COUNT(*) FROM cases WHERE number IS NOT NULL \
    GROUP BY tenant_id, office_id, status";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        // The offices' counts of the cases already there.
        backfill_from_cases(manager, BACKFILL).await?;
        secure_commune_tables(manager, TABLES).await?;
        // Identity data, federation-wide: which communes a person has cases with (the sign-in
        // host lists them all).
        grant_federation_tables(manager, &["person_communes", "desk_consents"]).await
    }
}
