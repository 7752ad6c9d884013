use sea_orm_migration::prelude::*;

use crate::{APP_ROLE, run_script, secure_commune_tables};

/// The commune tables this migration creates.
const TABLES: &[&str] = &[
    "commune_policies",
    "role_assignments",
    "audit_log",
    "support_grants",
    "commune_settings",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Authorization: each commune's policy (the template version it follows, or its own rules),
/// the roles of its staff (optionally for some offices), the audit log of every change, and the
/// time-limited support access it grants to federation staff. Federation staff have accounts of
/// their own (`federation_staff`, same shape as `staff_accounts` with `tenant_id` always 0), and
/// every policy change is numbered in `policy_changes` so that other nodes reload that commune.
const SCHEMA: &str = r#"
CREATE TABLE commune_policies (
    tenant_id BIGINT NOT NULL PRIMARY KEY REFERENCES communes (id),
    template_version INTEGER NOT NULL,
    custom_rules TEXT,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE role_assignments (
    tenant_id BIGINT NOT NULL REFERENCES communes (id),
    staff_id TEXT NOT NULL,
    role TEXT NOT NULL,
    office_id TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, staff_id, role, office_id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff_accounts (tenant_id, id)
);
CREATE TABLE audit_log (
    tenant_id BIGINT NOT NULL REFERENCES communes (id),
    id TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    on_behalf_of TEXT,
    purpose TEXT,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_at ON audit_log (tenant_id, at);
CREATE TABLE support_grants (
    tenant_id BIGINT NOT NULL REFERENCES communes (id),
    id TEXT NOT NULL,
    reason TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_by TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE commune_settings (
    tenant_id BIGINT NOT NULL PRIMARY KEY REFERENCES communes (id),
    mail_from_name TEXT,
    mail_reply_to TEXT,
    updated_at BIGINT NOT NULL
);
CREATE TABLE federation_staff (
    tenant_id BIGINT NOT NULL,
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
CREATE TABLE federation_staff_tokens (
    tenant_id BIGINT NOT NULL,
    token_hash TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES federation_staff (tenant_id, id)
);
CREATE TABLE policy_changes (
    revision BIGINT NOT NULL PRIMARY KEY,
    commune_id BIGINT,
    at BIGINT NOT NULL
);
CREATE TABLE federation_audit (
    id TEXT NOT NULL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    commune_id BIGINT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX federation_audit_at ON federation_audit (at);
ALTER TABLE communes ADD COLUMN languages TEXT NOT NULL DEFAULT 'it,en';
INSERT INTO federation_meta (key, value) VALUES ('policy_revision', 0);
INSERT INTO commune_policies (tenant_id, template_version, custom_rules, updated_at, updated_by)
    SELECT id, 1, NULL, 0, 'migration' FROM communes;
INSERT INTO role_assignments (tenant_id, staff_id, role, office_id, granted_by, granted_at)
    SELECT tenant_id, id, role, '', 'migration', created_at FROM staff_accounts
    WHERE role IN ('front_desk', 'call_centre', 'clerk', 'office_head', 'admin', 'intermediary', 'verifier')
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            run_script(
                manager,
                &format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON federation_staff, federation_staff_tokens, \
                     policy_changes, federation_audit TO {APP_ROLE};\n"
                ),
            )
            .await?;
            // Federation staff share the staff queries (`tenant_id` is always 0 there): row-level
            // security keeps those tables to that realm, like every table with a `tenant_id`.
            let mut realm = String::new();
            for t in ["federation_staff", "federation_staff_tokens"] {
                realm.push_str(&format!(
                    "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;\n\
                     ALTER TABLE {t} FORCE ROW LEVEL SECURITY;\n\
                     CREATE POLICY federation_realm ON {t} USING (tenant_id = 0) \
                     WITH CHECK (tenant_id = 0);\n"
                ));
            }
            run_script(manager, &realm).await?;
            // The enforcer's start-up load reads these three tables across communes, read-only,
            // in a transaction that declares it (`FederationDb::policy_snapshot`).
            let mut sql = String::new();
            for t in ["commune_policies", "role_assignments", "support_grants"] {
                sql.push_str(&format!(
                    "CREATE POLICY federation_read ON {t} FOR SELECT \
                     USING (current_setting('sportello.scope', true) = 'policies');\n"
                ));
            }
            run_script(manager, &sql).await?;
        }
        Ok(())
    }
}
