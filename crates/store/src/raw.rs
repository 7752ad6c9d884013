//! Raw SQL, one way. The rule of this crate: sea-orm entities for plain reads and writes of
//! rows; raw SQL only for what sea-orm cannot say (upserts on composite keys, deletes across
//! tables, locks, counting joins), and then only through [`Scoped`]: `$1` is always the scope
//! the statement runs in (the commune; 0 for the federation's own staff), the caller's values
//! follow as `$2`…, so a raw query cannot forget its commune. `TenantDb` and `StaffDb` both
//! go through it.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, QueryResult, Statement, Value};

use crate::Result;

/// A statement for `backend`: PostgreSQL's `$n` placeholders, SQLite's `?` (both positional).
pub(crate) fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    if backend == DbBackend::Postgres {
        Statement::from_sql_and_values(backend, sql, values)
    } else {
        Statement::from_sql_and_values(backend, sql.replace('$', "?"), values)
    }
}

/// Raw statements bound to one scope inside a transaction.
#[derive(Clone, Copy)]
pub(crate) struct Scoped<'a> {
    pub conn: &'a DatabaseTransaction,
    pub scope: i64,
}

impl Scoped<'_> {
    fn statement(&self, sql: &str, mut values: Vec<Value>) -> Statement {
        values.insert(0, self.scope.into());
        stmt(self.conn.get_database_backend(), sql, values)
    }

    /// Runs `sql`; gives the rows it changed.
    pub async fn exec(&self, sql: &str, values: Vec<Value>) -> Result<u64> {
        Ok(self
            .conn
            .execute_raw(self.statement(sql, values))
            .await?
            .rows_affected())
    }

    pub async fn one(&self, sql: &str, values: Vec<Value>) -> Result<Option<QueryResult>> {
        Ok(self.conn.query_one_raw(self.statement(sql, values)).await?)
    }

    pub async fn all(&self, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>> {
        Ok(self.conn.query_all_raw(self.statement(sql, values)).await?)
    }
}
