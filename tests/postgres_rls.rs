//! PostgreSQL row-level security: a forgotten commune filter fails closed. These tests always
//! run against PostgreSQL, whatever `SPORTELLO_TEST_DB` says.

use sea_orm::{ConnectionTrait, Statement};
use sportello_store::{APP_ROLE, COMMUNE_TABLES};
use sportello_tests::{TestDb, apex, tenants_dir};

async fn count(conn: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test]
async fn without_a_commune_set_the_application_role_sees_no_commune_row() {
    let db = TestDb::postgres().await;
    let app = db.app_store().await;
    app.federation()
        .sync_tenants_dir(&tenants_dir(), &apex())
        .await
        .unwrap();
    let raw = app.raw_connection();
    for t in COMMUNE_TABLES {
        if *t == "charter_history"
            || *t == "buildings"
            || *t == "offices"
            || *t == "staff"
            || *t == "services"
        {
            assert_eq!(
                count(raw, &format!("SELECT count(*) FROM {t}")).await,
                0,
                "{t} is readable with no commune set"
            );
        }
    }
    // The registry is a federation table: readable.
    assert_eq!(count(raw, "SELECT count(*) FROM communes").await, 11);
    // With a commune set, exactly its rows, even with no WHERE clause.
    let tx = app.tenant(sportello_domain::TenantId(50026)).await.unwrap();
    drop(tx);
    let owner = sportello_store::Store::connect(&db.admin_url)
        .await
        .unwrap();
    let pisa_services = count(
        owner.raw_connection(),
        "SELECT count(*) FROM services WHERE tenant_id = 50026",
    )
    .await;
    let all_services = count(owner.raw_connection(), "SELECT count(*) FROM services").await;
    assert!(pisa_services > 0 && all_services > pisa_services);
    use sea_orm::TransactionTrait;
    let txn = raw.begin().await.unwrap();
    txn.execute_unprepared("SELECT set_config('sportello.tenant_id', '50026', true)")
        .await
        .unwrap();
    assert_eq!(
        count(&txn, "SELECT count(*) FROM services").await,
        pisa_services
    );
    // Writing another commune's row is refused by the policy's WITH CHECK.
    let err = txn
        .execute_unprepared("UPDATE services SET title = 'x' WHERE tenant_id = 40007")
        .await
        .map(|r| r.rows_affected());
    assert_eq!(
        err.unwrap(),
        0,
        "another commune's rows are invisible, so untouched"
    );
    let ins = txn
        .execute_unprepared(
            "INSERT INTO buildings (tenant_id, id, name, address) VALUES (40007, 'x', 'x', 'x')",
        )
        .await;
    assert!(ins.is_err(), "inserting into another commune must fail");
}

#[tokio::test]
async fn every_table_with_a_commune_id_has_row_level_security_forced_and_the_app_owns_no_table() {
    let db = TestDb::postgres().await;
    let owner = sportello_store::Store::connect(&db.admin_url)
        .await
        .unwrap();
    let raw = owner.raw_connection();
    let rows = raw
        .query_all_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN information_schema.columns col ON col.table_schema = n.nspname AND col.table_name = c.relname \
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND col.column_name = 'tenant_id'",
        ))
        .await
        .unwrap();
    assert!(
        rows.len() >= COMMUNE_TABLES.len(),
        "expected at least {} commune tables",
        COMMUNE_TABLES.len()
    );
    for r in &rows {
        let name: String = r.try_get_by_index(0).unwrap();
        let rls: bool = r.try_get_by_index(1).unwrap();
        let forced: bool = r.try_get_by_index(2).unwrap();
        let table_owner: String = r.try_get_by_index(3).unwrap();
        assert!(
            rls && forced,
            "{name}: row-level security enabled={rls} forced={forced}"
        );
        assert_ne!(
            table_owner, APP_ROLE,
            "{name} is owned by the application role"
        );
    }
    let owned = count(
        raw,
        &format!(
            "SELECT count(*) FROM pg_class c WHERE pg_get_userbyid(c.relowner) = '{APP_ROLE}'"
        ),
    )
    .await;
    assert_eq!(owned, 0, "the application role owns objects");
    let su = count(raw, &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{APP_ROLE}' AND (rolsuper OR rolbypassrls)")).await;
    assert_eq!(su, 0, "the application role may bypass row-level security");
}

/// `serve --demo` migrates only what is pending: the application role can tell (it may read
/// the migrations table, never create it), so a production-like demo runs as that role once
/// the owner has migrated.
#[tokio::test]
async fn the_application_role_can_tell_that_nothing_is_pending() {
    let db = TestDb::postgres().await;
    assert_eq!(db.app_store().await.pending_migrations().await.unwrap(), 0);
    // A database nobody migrated: everything is pending for both roles, the application role
    // cannot migrate it, and once the owner has, nothing is pending.
    let fresh = TestDb::postgres_unmigrated().await;
    let app = fresh.app_store().await;
    let owner = sportello_store::Store::connect(&fresh.admin_url)
        .await
        .unwrap();
    let all = owner.pending_migrations().await.unwrap();
    assert!(all >= 3, "{all}");
    assert_eq!(app.pending_migrations().await.unwrap(), all);
    assert!(
        app.migrate().await.is_err(),
        "the application role owns no schema"
    );
    owner.migrate().await.unwrap();
    assert_eq!(app.pending_migrations().await.unwrap(), 0);
}
