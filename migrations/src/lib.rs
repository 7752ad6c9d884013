//! Sportello's schema. Every migration is one SQL text that both SQLite and PostgreSQL accept
//! (BIGINT, TEXT, INTEGER, DOUBLE PRECISION, BOOLEAN, composite keys), plus PostgreSQL-only
//! statements for row-level security and the application role.
//!
//! Two kinds of table:
//! - federation tables (`communes`, `commune_hosts`, `federation_meta`, the identity tables,
//!   `federation_staff*`, `policy_changes`, `federation_audit`): the registry of communes,
//!   public data read across communes to route requests; and the federation's bookkeeping with
//!   no commune content (`stripe_accounts`, `commune_jobs`);
//! - commune tables: every other table. Each carries `tenant_id` as the first column of its
//!   primary key and of every foreign key, so the schema can be distributed by commune, and on
//!   PostgreSQL each has row-level security enabled and forced.

pub use sea_orm_migration::prelude::*;

mod m0001_foundation;
mod m0002_identity;
mod m0003_authz;
mod m0004_legal;
mod m0005_online_links;
mod m0006_staff_audit;
mod m0007_drafts;
mod m0008_contact_verification;
mod m0009_descriptions_en;
mod m0010_german;
mod m0011_messages;
mod m0012_topics;
mod m0013_cases;
mod m0014_acting_for;
mod m0015_queue_search;
mod m0016_payments;
mod m0017_stripe;
mod m0018_refunds;
mod m0019_tickets;
mod m0020_imu;
mod m0021_service_fees;
mod m0022_reconciliations;
mod m0023_registry;
mod m0024_agencies;
mod m0025_residence;

/// The PostgreSQL role the server connects as: it owns no table, so row-level security applies.
pub const APP_ROLE: &str = "sportello_app";

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_identity::Migration),
            Box::new(m0003_authz::Migration),
            Box::new(m0004_legal::Migration),
            Box::new(m0005_online_links::Migration),
            Box::new(m0006_staff_audit::Migration),
            Box::new(m0007_drafts::Migration),
            Box::new(m0008_contact_verification::Migration),
            Box::new(m0009_descriptions_en::Migration),
            Box::new(m0010_german::Migration),
            Box::new(m0011_messages::Migration),
            Box::new(m0012_topics::Migration),
            Box::new(m0013_cases::Migration),
            Box::new(m0014_acting_for::Migration),
            Box::new(m0015_queue_search::Migration),
            Box::new(m0016_payments::Migration),
            Box::new(m0017_stripe::Migration),
            Box::new(m0018_refunds::Migration),
            Box::new(m0019_tickets::Migration),
            Box::new(m0020_imu::Migration),
            Box::new(m0021_service_fees::Migration),
            Box::new(m0022_reconciliations::Migration),
            Box::new(m0023_registry::Migration),
            Box::new(m0024_agencies::Migration),
            Box::new(m0025_residence::Migration),
        ]
    }
}

/// The commune tables of the schema (row-level security on PostgreSQL), all migrations together.
pub const COMMUNE_TABLES: &[&str] = &[
    "buildings",
    "offices",
    "staff",
    "services",
    "charter_history",
    "citizens",
    "staff_accounts",
    "staff_tokens",
    "commune_idps",
    "commune_policies",
    "role_assignments",
    "audit_log",
    "support_grants",
    "commune_settings",
    "messages",
    "topics",
    "subscriptions",
    "broadcasts",
    "forms",
    "case_drafts",
    "protocol_counters",
    "cases",
    "case_events",
    "case_files",
    "case_ratings",
    "delegations",
    "case_settings",
    "desk_filings",
    "case_counts",
    "case_names",
    "payment_settings",
    "payment_notices",
    "payments",
    "payment_items",
    "stripe_events",
    "receipt_counters",
    "refunds",
    "ticket_offers",
    "ticket_slots",
    "ticket_orders",
    "tickets",
    "imu_rates",
    "imu_properties",
    "imu_positions",
    "service_fees",
    "reconciliations",
    "registry_streets",
    "registry_people",
    "registry_versions",
    "registry_counters",
    "registry_access",
    "signing_keys",
    "certificates",
    "agencies",
    "agency_members",
    "residence_moves",
    "registry_reminders",
    "certificate_requests",
];

pub(crate) async fn run_script(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    for stmt in sql.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        conn.execute_unprepared(stmt).await?;
    }
    Ok(())
}

/// Runs `sql` (one statement) reading every commune's cases: on PostgreSQL the owner sees them
/// only with row-level security not forced on it, for this statement.
pub(crate) async fn backfill_from_cases(
    manager: &SchemaManager<'_>,
    sql: &str,
) -> Result<(), DbErr> {
    let postgres = manager.get_database_backend() == sea_orm::DbBackend::Postgres;
    if postgres {
        run_script(manager, "ALTER TABLE cases NO FORCE ROW LEVEL SECURITY").await?;
    }
    run_script(manager, sql).await?;
    if postgres {
        run_script(manager, "ALTER TABLE cases FORCE ROW LEVEL SECURITY").await?;
    }
    Ok(())
}

/// Enables and forces row-level security on commune tables and grants the application role what
/// it needs (PostgreSQL only). The commune is read from the `sportello.tenant_id` setting, which
/// the store sets per transaction; with none set, no row is visible or writable.
pub(crate) async fn secure_commune_tables(
    manager: &SchemaManager<'_>,
    tables: &[&str],
) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    let mut sql = String::new();
    for t in tables {
        sql.push_str(&format!(
            "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;\n\
             ALTER TABLE {t} FORCE ROW LEVEL SECURITY;\n\
             DROP POLICY IF EXISTS commune_isolation ON {t};\n\
             CREATE POLICY commune_isolation ON {t} \
               USING (tenant_id = NULLIF(current_setting('sportello.tenant_id', true), '')::bigint) \
               WITH CHECK (tenant_id = NULLIF(current_setting('sportello.tenant_id', true), '')::bigint);\n\
             GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {APP_ROLE};\n"
        ));
    }
    run_script(manager, &sql).await
}

/// Lets the application role read and write federation tables (no row-level security: they
/// hold no commune content). PostgreSQL only.
pub(crate) async fn grant_federation_tables(
    manager: &SchemaManager<'_>,
    tables: &[&str],
) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    run_script(
        manager,
        &format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {APP_ROLE}",
            tables.join(", ")
        ),
    )
    .await
}

pub(crate) async fn ensure_app_role(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    // A role is cluster-wide: production creates it (infra/postgres/roles.sql) with a password;
    // development and tests get a login role without one (local trust authentication). Two
    // migrations racing to create it (parallel tests on a fresh cluster) both succeed.
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') \
             THEN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; END IF; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        ))
        .await?;
    Ok(())
}
