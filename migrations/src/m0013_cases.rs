use sea_orm_migration::prelude::*;

use crate::{APP_ROLE, run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &[
    "forms",
    "case_drafts",
    "protocol_counters",
    "cases",
    "case_events",
    "case_files",
    "case_ratings",
];

/// Cases (pratiche): a service's online form as numbered versions, the drafts people keep while
/// filling one in, the protocol register's counter (per commune and year), the cases, their
/// append-only history and the files attached (a draft's until it is submitted, then the case's).
const SCHEMA: &str = r#"
CREATE TABLE forms (
    tenant_id BIGINT NOT NULL,
    service_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, service_id, version)
);
CREATE TABLE case_drafts (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    form_version INTEGER NOT NULL,
    raw TEXT NOT NULL,
    page INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expiry_notice_at BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX case_drafts_person_service ON case_drafts (tenant_id, person_id, service_id);
CREATE INDEX case_drafts_updated ON case_drafts (tenant_id, updated_at);
CREATE TABLE protocol_counters (
    tenant_id BIGINT NOT NULL,
    year INTEGER NOT NULL,
    last_number BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, year)
);
CREATE TABLE cases (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    year INTEGER,
    number BIGINT,
    idempotency_key TEXT NOT NULL,
    person_id TEXT NOT NULL,
    fiscal_code TEXT,
    applicant_name TEXT NOT NULL,
    applicant_search TEXT NOT NULL,
    service_id TEXT NOT NULL,
    form_version INTEGER NOT NULL,
    office_id TEXT NOT NULL,
    status TEXT NOT NULL,
    answers TEXT NOT NULL,
    level INTEGER NOT NULL,
    idp TEXT NOT NULL,
    lang TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    max_days INTEGER NOT NULL,
    submitted_at BIGINT NOT NULL,
    submitted_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    paused_days INTEGER NOT NULL,
    paused_since TEXT,
    taken_at BIGINT,
    taken_by TEXT,
    assigned_to TEXT,
    closed_at BIGINT,
    last_event INTEGER NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX cases_number ON cases (tenant_id, year, number);
CREATE UNIQUE INDEX cases_idempotency ON cases (tenant_id, idempotency_key);
CREATE INDEX cases_person ON cases (tenant_id, person_id, submitted_at);
CREATE INDEX cases_queue ON cases (tenant_id, office_id, status, submitted_at);
CREATE INDEX cases_due ON cases (tenant_id, office_id, due_on);
CREATE INDEX cases_assigned ON cases (tenant_id, assigned_to, status);
CREATE INDEX cases_fiscal_code ON cases (tenant_id, fiscal_code);
CREATE TABLE case_events (
    tenant_id BIGINT NOT NULL,
    case_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    body TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, case_id, seq),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id)
);
CREATE TABLE case_files (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    draft_id TEXT,
    case_id TEXT,
    field TEXT NOT NULL,
    name TEXT NOT NULL,
    file_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id)
);
CREATE INDEX case_files_case ON case_files (tenant_id, case_id);
CREATE INDEX case_files_draft ON case_files (tenant_id, draft_id);
CREATE TABLE case_ratings (
    tenant_id BIGINT NOT NULL,
    case_id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    office_id TEXT NOT NULL,
    stars INTEGER NOT NULL,
    answer TEXT NOT NULL,
    details TEXT NOT NULL,
    rated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, case_id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id)
);
CREATE INDEX case_ratings_service ON case_ratings (tenant_id, service_id);
CREATE INDEX case_ratings_office ON case_ratings (tenant_id, office_id)
"#;

/// A case's history is written once: SQLite refuses changes by trigger, PostgreSQL by grant.
const SQLITE_APPEND_ONLY: &str = "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;\n\
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            run_script(
                manager,
                &format!("REVOKE UPDATE, DELETE ON case_events FROM {APP_ROLE}"),
            )
            .await
        } else {
            run_script(manager, SQLITE_APPEND_ONLY).await
        }
    }
}
