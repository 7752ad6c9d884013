use sea_orm_migration::prelude::*;

use crate::{run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &[
    "registry_streets",
    "registry_people",
    "registry_versions",
    "registry_counters",
    "registry_access",
    "signing_keys",
    "certificates",
];

/// The population registry (anagrafe) of a commune, and the certificates it issues.
///
/// - `registry_people`: one row per person the commune's registry ever held, known by fiscal
///   code as issued (unique in the commune) and by its form without omocodia (`code_key`, not
///   unique: omocodia exists to tell apart people whose codes would otherwise be equal), which is
///   how a signed-in person's code arrives.
/// - `registry_versions`: every state of a person's record, each valid over legal days
///   `[valid_from, valid_to)` (`valid_to` NULL: still so). A change closes the version in force
///   on its legal day and opens a new one; a correction replaces a version's facts over the
///   same days and keeps the replaced one (`superseded_at`), so the registry answers "as it was
///   on day D" and shows what was corrected and when. A family is the `family_id` shared by its
///   members' versions, each with its relation to the head.
/// - `registry_access`: who looked at a person's record, with the declared purpose (shown to
///   the person).
/// - `signing_keys`: the commune's certificate signing keys (P-256; the private key sealed
///   with the server's secret), rotated, kept for verification after retirement.
/// - `certificates`: every certificate issued, numbered per commune per year.
const SCHEMA: &str = r#"
CREATE TABLE registry_streets (
    tenant_id BIGINT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (tenant_id, code)
);
CREATE TABLE registry_people (
    tenant_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    fiscal_code TEXT NOT NULL,
    code_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX registry_people_code ON registry_people (tenant_id, fiscal_code);
CREATE INDEX registry_people_key ON registry_people (tenant_id, code_key);
CREATE TABLE registry_versions (
    tenant_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    version INTEGER NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    superseded_at BIGINT NULL,
    cause TEXT NOT NULL,
    note TEXT NOT NULL,
    status TEXT NOT NULL,
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    birth_place TEXT NOT NULL,
    birth_place_name TEXT NOT NULL,
    citizenship TEXT NOT NULL,
    marital_status TEXT NOT NULL,
    doc_kind TEXT NULL,
    doc_number TEXT NULL,
    doc_expires TEXT NULL,
    electoral TEXT NOT NULL,
    family_id BIGINT NOT NULL,
    relation TEXT NOT NULL,
    street_code TEXT NOT NULL,
    house_number TEXT NOT NULL,
    interior TEXT NOT NULL,
    PRIMARY KEY (tenant_id, person_id, version),
    FOREIGN KEY (tenant_id, person_id) REFERENCES registry_people (tenant_id, id),
    FOREIGN KEY (tenant_id, street_code) REFERENCES registry_streets (tenant_id, code)
);
CREATE INDEX registry_versions_family ON registry_versions (tenant_id, family_id, valid_from);
CREATE TABLE registry_counters (
    tenant_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
CREATE TABLE registry_access (
    tenant_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    at BIGINT NOT NULL,
    who TEXT NOT NULL,
    who_name TEXT NOT NULL,
    capacity TEXT NOT NULL,
    purpose TEXT NOT NULL,
    reference TEXT NOT NULL,
    what TEXT NOT NULL,
    PRIMARY KEY (tenant_id, person_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES registry_people (tenant_id, id)
);
CREATE INDEX registry_access_at ON registry_access (tenant_id, person_id, at);
CREATE TABLE signing_keys (
    tenant_id BIGINT NOT NULL,
    kid TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    sealed_private TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT NULL,
    PRIMARY KEY (tenant_id, kid)
);
CREATE TABLE certificates (
    tenant_id BIGINT NOT NULL,
    year INTEGER NOT NULL,
    number BIGINT NOT NULL,
    kind TEXT NOT NULL,
    person_id BIGINT NOT NULL,
    at_date TEXT NULL,
    issued_at BIGINT NOT NULL,
    expires_on TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_by_person TEXT NULL,
    on_behalf_of TEXT NULL,
    channel TEXT NOT NULL,
    purpose TEXT NOT NULL,
    exemption TEXT NULL,
    stamp_duty_cents BIGINT NOT NULL,
    language TEXT NOT NULL,
    kid TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,
    PRIMARY KEY (tenant_id, year, number),
    FOREIGN KEY (tenant_id, person_id) REFERENCES registry_people (tenant_id, id),
    FOREIGN KEY (tenant_id, kid) REFERENCES signing_keys (tenant_id, kid)
);
CREATE INDEX certificates_person ON certificates (tenant_id, person_id, issued_at);
CREATE INDEX certificates_requester ON certificates (tenant_id, requested_by_person, issued_at)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await
    }
}
