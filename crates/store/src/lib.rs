//! Persistence for Sportello.
//!
//! Two doors, and only two:
//! - [`TenantDb`]: one commune's data. Every repository function for commune data takes it; it
//!   cannot be built without naming the commune, and on PostgreSQL it also sets the commune for
//!   row-level security, so a forgotten filter returns nothing instead of another commune's rows.
//! - [`FederationDb`]: work that spans communes (the registry, onboarding, the federation
//!   portal). Grep for it to audit cross-commune access.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod authz;
pub mod cases;
pub mod channels;
pub mod charter;
pub mod desk_consents;
pub mod entity;
pub mod identity;
pub mod istat;
pub mod outbox;
pub mod payments;
pub mod population;
mod raw;
pub mod registry;
pub mod staff;
pub mod sync;
pub mod tenant_file;
pub mod topics;

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    Statement, TransactionTrait,
};
use sportello_domain::TenantId;
use sportello_migrations::MigratorTrait;

pub use sea_orm::DbBackend;
pub use sportello_migrations::{APP_ROLE, COMMUNE_TABLES};

/// What can go wrong below the request path.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// Input that cannot be stored: the message names what and where.
    #[error("{0}")]
    Invalid(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The row changed since it was read (someone else acted first).
    #[error("changed in the meantime")]
    Conflict,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A handle on the database: a pool of connections.
#[derive(Clone, Debug)]
pub struct Store {
    conn: DatabaseConnection,
    /// Statements run through this pool (and its clones) since it was opened.
    queries: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Connects to `sqlite://…` or `postgres://…`. SQLite files are created when missing and use
    /// WAL journaling so readers do not wait for a writer.
    ///
    /// A PostgreSQL URL on the loopback interface without an explicit `sslmode` gets
    /// `sslmode=disable`: TLS there protects nothing, and measured here it made every statement
    /// wait ~40 ms (a TLS record split over two TCP segments meets delayed ACKs), which turned a
    /// 21 s import into 12 minutes.
    pub async fn connect(url: &str) -> Result<Self> {
        let url = loopback_without_tls(url);
        let mut opts = ConnectOptions::new(url.clone());
        opts.sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(if url.starts_with("sqlite") { 8 } else { 16 });
        opts.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
        let mut conn = Database::connect(opts).await?;
        let queries = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = queries.clone();
        conn.set_metric_callback(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        Ok(Self { conn, queries })
    }

    /// How many statements this pool has run (its clones included): what a page view costs the
    /// database, for tests and metrics.
    pub fn queries(&self) -> u64 {
        self.queries.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Applies pending migrations. On PostgreSQL, connect as the schema owner to do this, and
    /// serve as [`APP_ROLE`].
    pub async fn migrate(&self) -> Result<()> {
        sportello_migrations::Migrator::up(&self.conn, None).await?;
        Ok(())
    }

    /// Brings the query planner's statistics up to date where the database does not do it by
    /// itself: SQLite plans without any until asked (`PRAGMA optimize`, which analyses only the
    /// tables that changed much, each on a sample). PostgreSQL's autovacuum keeps its own.
    pub async fn refresh_statistics(&self) -> Result<()> {
        use sea_orm::ConnectionTrait;
        if self.backend() != DbBackend::Sqlite {
            return Ok(());
        }
        // One connection for both (the limit is the connection's setting), holding the write
        // lock from the start: the statistics are written, and the delivery workers write too.
        let tx = begin(&self.conn).await?;
        tx.execute_unprepared("PRAGMA analysis_limit = 1000")
            .await?;
        tx.execute_unprepared("PRAGMA optimize = 0x10002").await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many migrations this database has not had yet (reading needs no schema ownership:
    /// the application role may ask).
    pub async fn pending_migrations(&self) -> Result<usize> {
        use sea_orm::ConnectionTrait;
        // Read, never installed (sea-orm's own check would create its table: the owner's job).
        let applied: Vec<String> = match self
            .conn
            .query_all_raw(sea_orm::Statement::from_string(
                self.backend(),
                "SELECT version FROM seaql_migrations",
            ))
            .await
        {
            Ok(rows) => rows
                .iter()
                .filter_map(|r| r.try_get::<String>("", "version").ok())
                .collect(),
            // No table yet: nothing applied.
            Err(_) => vec![],
        };
        Ok(sportello_migrations::Migrator::migrations()
            .iter()
            .filter(|m| !applied.iter().any(|a| a == m.name()))
            .count())
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<()> {
        self.conn.ping().await?;
        Ok(())
    }

    /// Begins a transaction scoped to one commune.
    pub async fn tenant(&self, tenant: TenantId) -> Result<TenantTx> {
        let txn = crate::begin(&self.conn).await?;
        set_tenant(&txn, tenant).await?;
        Ok(TenantTx { txn, tenant })
    }

    /// A transaction scoped to one commune that only reads: on SQLite it takes no lock (WAL
    /// readers wait for nobody; [`Store::tenant`] takes the write lock at once). Writing through
    /// it may fail with "database is locked" beside other writers.
    pub async fn tenant_read(&self, tenant: TenantId) -> Result<TenantTx> {
        let txn = self.conn.begin().await?;
        set_tenant(&txn, tenant).await?;
        Ok(TenantTx { txn, tenant })
    }

    /// A transaction on the staff accounts of a commune (scoped like [`Store::tenant`]) or of the
    /// federation.
    pub async fn staff(&self, realm: staff::Realm) -> Result<staff::StaffTx> {
        let txn = crate::begin(&self.conn).await?;
        if let staff::Realm::Commune(t) = realm {
            set_tenant(&txn, t).await?;
        }
        Ok(staff::StaffTx { txn, realm })
    }

    /// The same for reading only (no write lock taken on SQLite): a token's check on every API
    /// call.
    pub async fn staff_read(&self, realm: staff::Realm) -> Result<staff::StaffTx> {
        let txn = self.conn.begin().await?;
        if let staff::Realm::Commune(t) = realm {
            set_tenant(&txn, t).await?;
        }
        Ok(staff::StaffTx { txn, realm })
    }

    /// Federation-wide identity: people, password accounts, sessions, sign-ins in progress.
    pub fn identity(&self) -> identity::IdentityDb<'_> {
        identity::IdentityDb { conn: &self.conn }
    }

    /// One commune's transaction opened on behalf of another commune's act (cross-commune,
    /// like [`Store::federation`]: greppable, and `why` logged with both). Today: a declaration
    /// of residence registered in `from` recording its movers emigrated in `to`.
    pub async fn tenant_across(
        &self,
        from: TenantId,
        to: TenantId,
        why: &'static str,
    ) -> Result<TenantTx> {
        tracing::info!(from = from.0, to = to.0, why, "cross-commune transaction");
        self.tenant(to).await
    }

    /// Cross-commune access: the registry, onboarding, the federation portal.
    pub fn federation(&self) -> FederationDb<'_> {
        FederationDb { conn: &self.conn }
    }

    /// The raw connection, for the tests of this crate and the schema catalogue test.
    #[doc(hidden)]
    pub fn raw_connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub async fn close(self) -> Result<()> {
        self.conn.close().await?;
        Ok(())
    }
}

fn loopback_without_tls(url: &str) -> String {
    let is_pg = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let host = url.split_once('@').map_or("", |(_, rest)| rest);
    let loopback = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|h| host.starts_with(h));
    if is_pg && loopback && !url.contains("sslmode=") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}sslmode=disable")
    } else {
        url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_postgres_skips_tls_unless_asked() {
        use super::loopback_without_tls as f;
        assert_eq!(
            f("postgres://app@127.0.0.1/db"),
            "postgres://app@127.0.0.1/db?sslmode=disable"
        );
        assert_eq!(
            f("postgres://app@localhost:5432/db?x=1"),
            "postgres://app@localhost:5432/db?x=1&sslmode=disable"
        );
        assert_eq!(
            f("postgres://app@127.0.0.1/db?sslmode=require"),
            "postgres://app@127.0.0.1/db?sslmode=require"
        );
        assert_eq!(
            f("postgres://app@db.example.org/db"),
            "postgres://app@db.example.org/db"
        );
        assert_eq!(f("sqlite://x.db"), "sqlite://x.db");
    }
}

async fn set_tenant(txn: &DatabaseTransaction, tenant: TenantId) -> Result<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('sportello.tenant_id', $1, true)",
            [tenant.0.to_string().into()],
        ))
        .await?;
    }
    Ok(())
}

/// An open transaction on one commune's data. Dropping it rolls back; [`TenantTx::commit`] keeps it.
pub struct TenantTx {
    txn: DatabaseTransaction,
    tenant: TenantId,
}

impl TenantTx {
    pub fn db(&self) -> TenantDb<'_> {
        TenantDb {
            conn: &self.txn,
            tenant: self.tenant,
        }
    }
    pub async fn commit(self) -> Result<()> {
        self.txn.commit().await?;
        Ok(())
    }
}

/// One commune's data, inside a transaction. Repository functions for commune tables take this.
#[derive(Clone, Copy)]
pub struct TenantDb<'a> {
    conn: &'a DatabaseTransaction,
    tenant: TenantId,
}

impl<'a> TenantDb<'a> {
    /// Switches a federation transaction to one commune (PostgreSQL: for row-level security too).
    pub(crate) async fn enter(conn: &'a DatabaseTransaction, tenant: TenantId) -> Result<Self> {
        set_tenant(conn, tenant).await?;
        Ok(Self { conn, tenant })
    }
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }
    pub(crate) fn conn(&self) -> &'a DatabaseTransaction {
        self.conn
    }

    /// Raw SQL in this commune (see [`raw`]: `$1` is always this commune).
    fn raw(&self) -> raw::Scoped<'a> {
        raw::Scoped {
            conn: self.conn,
            scope: self.tenant.0,
        }
    }

    pub(crate) fn is_postgres(&self) -> bool {
        use sea_orm::ConnectionTrait;
        self.conn.get_database_backend() == DbBackend::Postgres
    }

    /// Runs raw SQL whose `$1` is this commune (the values given are `$2`…).
    pub(crate) async fn exec(&self, sql: &str, values: Vec<sea_orm::Value>) -> Result<u64> {
        self.raw().exec(sql, values).await
    }

    pub(crate) async fn one(
        &self,
        sql: &str,
        values: Vec<sea_orm::Value>,
    ) -> Result<Option<sea_orm::QueryResult>> {
        self.raw().one(sql, values).await
    }

    pub(crate) async fn all(
        &self,
        sql: &str,
        values: Vec<sea_orm::Value>,
    ) -> Result<Vec<sea_orm::QueryResult>> {
        self.raw().all(sql, values).await
    }
}

/// Cross-commune access. Everything that reads or writes more than one commune goes through here.
#[derive(Clone, Copy)]
pub struct FederationDb<'a> {
    conn: &'a DatabaseConnection,
}

impl<'a> FederationDb<'a> {
    pub(crate) fn conn(&self) -> &'a DatabaseConnection {
        self.conn
    }
}

/// Begins a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
/// transaction that reads and then writes would otherwise fail at once with "database is
/// locked" whenever another connection wrote in between (the delivery workers write all the
/// time), where waiting its turn (the busy timeout) is what is wanted. PostgreSQL: `BEGIN`.
pub(crate) async fn begin(conn: &DatabaseConnection) -> Result<DatabaseTransaction> {
    Ok(if conn.get_database_backend() == DbBackend::Sqlite {
        conn.begin_with_options(sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?
    } else {
        conn.begin().await?
    })
}

/// Microseconds since the Unix epoch: how times are stored.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Lower case, accents folded, for search columns and queries.
pub fn fold_for_search(s: &str) -> String {
    sportello_domain::slugify(s).replace('-', " ")
}
