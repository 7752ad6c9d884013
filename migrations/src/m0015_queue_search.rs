use sea_orm_migration::prelude::*;

use crate::{backfill_from_cases, run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &["case_names"];

/// The offices' queues on large data. "Near the deadline" reads only open cases with a legal
/// duration: a partial index holds just those, in the queue's order (a count of up to 1,001 of
/// them reads 1,001 entries, never the table); "mine" likewise the open cases assigned to each
/// person, oldest first. "Closed" and "all" read newest first: an index in that order, per
/// office and for the whole commune. Every queue's condition is served by an index in the
/// queue's order, so no plan depends on the database's statistics (SQLite keeps none unless
/// asked). The applicant's name is searched by
/// the beginnings of its words: `case_names` holds each word of the folded name (letters and
/// digits), so a search is a range on an index instead of a scan of every name.
const SCHEMA: &str = r#"
DROP INDEX cases_due_order;
DROP INDEX cases_due_time;
CREATE INDEX cases_open_due ON cases (tenant_id, office_id, due_on, submitted_at, id) WHERE status IN ('submitted', 'in_charge') AND max_days > 0;
CREATE INDEX cases_open_due_time ON cases (tenant_id, due_on, submitted_at, id) WHERE status IN ('submitted', 'in_charge') AND max_days > 0;
CREATE INDEX cases_office_time ON cases (tenant_id, office_id, submitted_at, id);
DROP INDEX cases_assigned;
CREATE INDEX cases_mine ON cases (tenant_id, assigned_to, submitted_at, id) WHERE status IN ('submitted', 'in_charge', 'waiting');
CREATE INDEX cases_time ON cases (tenant_id, submitted_at, id);
CREATE TABLE case_names (
    tenant_id BIGINT NOT NULL,
    word TEXT NOT NULL,
    case_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, word, case_id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES cases (tenant_id, id)
)
"#;

/// The words of the names already there (the folded name is words of letters and digits
/// separated by single spaces).
const BACKFILL_POSTGRES: &str = "INSERT INTO case_names (tenant_id, word, case_id) \
    SELECT DISTINCT tenant_id, w, id FROM cases CROSS JOIN LATERAL regexp_split_to_table(applicant_search, ' ') AS w \
    WHERE w <> ''";
const BACKFILL_SQLITE: &str = "WITH RECURSIVE split(tenant_id, case_id, word, rest) AS ( \
    SELECT tenant_id, id, '', applicant_search || ' ' FROM cases \
    UNION ALL \
    SELECT tenant_id, case_id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1) \
    FROM split WHERE rest <> '') \
    INSERT INTO case_names (tenant_id, word, case_id) SELECT DISTINCT tenant_id, word, case_id FROM split WHERE word <> ''";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        let postgres = manager.get_database_backend() == sea_orm::DbBackend::Postgres;
        backfill_from_cases(
            manager,
            if postgres {
                BACKFILL_POSTGRES
            } else {
                BACKFILL_SQLITE
            },
        )
        .await?;
        secure_commune_tables(manager, TABLES).await?;
        Ok(())
    }
}
