use sea_orm_migration::prelude::*;

use crate::{grant_federation_tables, run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The commune tables this migration creates.
const TABLES: &[&str] = &["citizens", "staff_accounts", "staff_tokens", "commune_idps"];

/// Identity: one person across the federation (keyed on the fiscal code once an identity provider
/// has vouched for it), local password accounts, server-side sessions, the single sign-on
/// hand-off, pending sign-ins, the SAML replay cache and the sign-in audit log. Tokens, codes and
/// session ids are stored as SHA-256 hashes: a copy of the database opens no session.
const SCHEMA: &str = r#"
CREATE TABLE people (
    id TEXT NOT NULL PRIMARY KEY,
    fiscal_code TEXT UNIQUE,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    date_of_birth TEXT,
    place_of_birth TEXT,
    idp_email TEXT,
    idp_mobile TEXT,
    contact_email TEXT,
    contact_mobile TEXT,
    email_consent BOOLEAN NOT NULL,
    sms_consent BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE local_accounts (
    person_id TEXT NOT NULL PRIMARY KEY REFERENCES people (id),
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    email_verified_at BIGINT,
    failed_attempts INTEGER NOT NULL,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE account_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id),
    purpose TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX account_tokens_person ON account_tokens (person_id);
CREATE TABLE sessions (
    token_hash TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    sso_hash TEXT,
    commune_id BIGINT REFERENCES communes (id),
    person_id TEXT REFERENCES people (id),
    staff_id TEXT,
    level TEXT NOT NULL,
    idp TEXT NOT NULL,
    mfa BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    user_agent TEXT
);
CREATE INDEX sessions_sso ON sessions (sso_hash);
CREATE INDEX sessions_person ON sessions (person_id);
CREATE TABLE session_revocations (
    token_hash TEXT NOT NULL PRIMARY KEY,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX session_revocations_at ON session_revocations (revoked_at);
CREATE TABLE handoff_codes (
    code_hash TEXT NOT NULL PRIMARY KEY,
    sso_hash TEXT NOT NULL,
    target_host TEXT NOT NULL,
    next_path TEXT NOT NULL,
    state_hash TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE login_flows (
    flow_hash TEXT NOT NULL PRIMARY KEY,
    target_host TEXT,
    next_path TEXT NOT NULL,
    state_hash TEXT,
    level TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE auth_requests (
    request_id TEXT NOT NULL PRIMARY KEY,
    flow_hash TEXT NOT NULL,
    protocol TEXT NOT NULL,
    idp TEXT NOT NULL,
    level TEXT NOT NULL,
    nonce TEXT,
    pkce_verifier TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE auth_results (
    ticket_hash TEXT NOT NULL PRIMARY KEY,
    flow_hash TEXT NOT NULL,
    identity TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE saml_seen_assertions (
    assertion_id TEXT NOT NULL PRIMARY KEY,
    idp TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE saml_sessions (
    sso_hash TEXT NOT NULL PRIMARY KEY,
    idp TEXT NOT NULL,
    name_id_hash TEXT NOT NULL,
    subject TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX saml_sessions_subject ON saml_sessions (idp, name_id_hash);
CREATE TABLE auth_audit (
    id TEXT NOT NULL PRIMARY KEY,
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    person_id TEXT,
    commune_id BIGINT,
    staff_id TEXT,
    idp TEXT,
    level TEXT,
    ip TEXT,
    detail TEXT
);
CREATE INDEX auth_audit_at ON auth_audit (at);
CREATE INDEX auth_audit_person ON auth_audit (person_id);
CREATE TABLE citizens (
    tenant_id BIGINT NOT NULL REFERENCES communes (id),
    person_id TEXT NOT NULL REFERENCES people (id),
    first_seen_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, person_id)
);
CREATE TABLE staff_accounts (
    tenant_id BIGINT NOT NULL REFERENCES communes (id),
    id TEXT NOT NULL,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    fiscal_code TEXT,
    password_hash TEXT,
    totp_secret TEXT,
    totp_confirmed_at BIGINT,
    totp_last_step BIGINT,
    failed_attempts INTEGER NOT NULL,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email),
    UNIQUE (tenant_id, fiscal_code)
);
CREATE TABLE staff_tokens (
    tenant_id BIGINT NOT NULL,
    token_hash TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff_accounts (tenant_id, id)
);
CREATE TABLE commune_idps (
    tenant_id BIGINT NOT NULL REFERENCES communes (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    protocol TEXT NOT NULL,
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await?;
        grant_federation_tables(
            manager,
            &[
                "people",
                "local_accounts",
                "account_tokens",
                "sessions",
                "session_revocations",
                "handoff_codes",
                "login_flows",
                "auth_requests",
                "auth_results",
                "saml_seen_assertions",
                "saml_sessions",
                "auth_audit",
            ],
        )
        .await
    }
}
