use sea_orm_migration::prelude::*;

use crate::{APP_ROLE, ensure_app_role, run_script, secure_commune_tables};

/// The commune tables this migration creates.
const TABLES: &[&str] = &[
    "buildings",
    "offices",
    "staff",
    "services",
    "charter_history",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Times are microseconds since the Unix epoch (BIGINT): exact, ordered and alike on both
/// databases. Dates are ISO `YYYY-MM-DD` text. Lists and nested values are JSON text.
const SCHEMA: &str = r#"
CREATE TABLE communes (
    id BIGINT NOT NULL PRIMARY KEY,
    istat_code TEXT NOT NULL UNIQUE,
    cadastral_code TEXT NOT NULL,
    name TEXT NOT NULL,
    name_other TEXT,
    province_code TEXT NOT NULL,
    province_name TEXT NOT NULL,
    region TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    primary_host TEXT NOT NULL UNIQUE,
    default_language TEXT NOT NULL,
    status TEXT NOT NULL,
    color TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    pec TEXT,
    website TEXT,
    patron_day TEXT,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE commune_hosts (
    host TEXT NOT NULL PRIMARY KEY,
    commune_id BIGINT NOT NULL REFERENCES communes (id),
    is_primary BOOLEAN NOT NULL
);
CREATE INDEX commune_hosts_commune ON commune_hosts (commune_id);
CREATE TABLE federation_meta (
    key TEXT NOT NULL PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO federation_meta (key, value) VALUES ('registry_revision', 0);
CREATE TABLE buildings (
    tenant_id BIGINT NOT NULL REFERENCES communes (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE offices (
    tenant_id BIGINT NOT NULL REFERENCES communes (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_en TEXT,
    description TEXT NOT NULL,
    building_id TEXT,
    floor TEXT NOT NULL,
    room TEXT NOT NULL,
    directions TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT NOT NULL,
    pec TEXT,
    head_id TEXT,
    hours TEXT NOT NULL,
    search_text TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, building_id) REFERENCES buildings (tenant_id, id)
);
CREATE TABLE staff (
    tenant_id BIGINT NOT NULL REFERENCES communes (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    office_id TEXT,
    email TEXT,
    phone TEXT,
    search_text TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, office_id) REFERENCES offices (tenant_id, id)
);
CREATE TABLE services (
    tenant_id BIGINT NOT NULL REFERENCES communes (id),
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    title_en TEXT,
    summary TEXT NOT NULL,
    summary_en TEXT,
    description TEXT NOT NULL,
    audience TEXT NOT NULL,
    life_events TEXT NOT NULL,
    office_id TEXT,
    responsible_id TEXT,
    documents TEXT NOT NULL,
    cost_cents BIGINT NOT NULL,
    cost_note TEXT,
    max_days INTEGER,
    channels TEXT NOT NULL,
    online_level TEXT NOT NULL,
    available_from TEXT,
    available_to TEXT,
    search_text TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, office_id) REFERENCES offices (tenant_id, id),
    FOREIGN KEY (tenant_id, responsible_id) REFERENCES staff (tenant_id, id)
);
CREATE TABLE charter_history (
    tenant_id BIGINT NOT NULL REFERENCES communes (id),
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT,
    snapshot TEXT,
    changed_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind, entity_id, version)
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ensure_app_role(manager).await?;
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            run_script(
                manager,
                &format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON communes, commune_hosts, federation_meta TO {APP_ROLE};\n\
                     GRANT SELECT ON seaql_migrations TO {APP_ROLE};\n"
                ),
            )
            .await?;
        }
        Ok(())
    }
}
