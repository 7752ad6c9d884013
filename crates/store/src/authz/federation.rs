//! Across communes: the policy snapshot a node starts from, the numbered policy changes, the
//! federation's audit log and the console's activity figures.

use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, TransactionTrait, Value};
use serde::Serialize;

use crate::identity::{get, stmt};
use crate::{FederationDb, Result};

use super::*;

/// Every commune's policy rows, read once at start-up.
#[derive(Debug, Default)]
pub struct PolicySnapshot {
    pub revision: i64,
    pub communes: Vec<i64>,
    pub policies: Vec<(i64, StoredPolicy)>,
    /// (commune, staff id, role)
    pub assignments: Vec<(i64, String, String)>,
    /// (commune, until)
    pub support: Vec<(i64, i64)>,
    pub federation_staff: Vec<String>,
}

/// One row of the federation's own audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FederationAuditEntry {
    pub at: i64,
    pub actor: String,
    pub actor_name: String,
    pub commune_id: Option<i64>,
    pub action: String,
    pub detail: String,
}

async fn all_rows(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>> {
    Ok(conn
        .query_all_raw(stmt(conn.get_database_backend(), sql, values))
        .await?)
}

impl FederationDb<'_> {
    /// Every commune's policy, roles and support grants, across communes: the start-up load of
    /// the enforcer. On PostgreSQL this transaction sets `sportello.scope = 'policies'`, which
    /// the row-level security of these three tables lets read (and nothing else).
    pub async fn policy_snapshot(&self, now: i64) -> Result<PolicySnapshot> {
        let conn: &DatabaseConnection = self.conn();
        // A read: on SQLite a deferred transaction (a consistent snapshot in WAL mode) that
        // never waits for the writer, so a node starting while others write is not starved of
        // the write lock it does not need.
        let txn = conn.begin().await?;
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            txn.execute_unprepared("SELECT set_config('sportello.scope', 'policies', true)")
                .await?;
        }
        let mut s = PolicySnapshot::default();
        // The revision first: a change committed while we read is reloaded again afterwards.
        if let Some(r) = all_rows(
            &txn,
            "SELECT value FROM federation_meta WHERE key = 'policy_revision'",
            vec![],
        )
        .await?
        .first()
        {
            s.revision = get(r, "value")?;
        }
        for r in all_rows(&txn, "SELECT id FROM communes ORDER BY id", vec![]).await? {
            s.communes.push(get(&r, "id")?);
        }
        for r in all_rows(
            &txn,
            "SELECT tenant_id, template_version, custom_rules FROM commune_policies",
            vec![],
        )
        .await?
        {
            s.policies.push((
                get(&r, "tenant_id")?,
                StoredPolicy {
                    template_version: get(&r, "template_version")?,
                    custom_rules: get(&r, "custom_rules")?,
                },
            ));
        }
        for r in all_rows(
            &txn,
            "SELECT tenant_id, staff_id, role FROM role_assignments",
            vec![],
        )
        .await?
        {
            s.assignments.push((
                get(&r, "tenant_id")?,
                get(&r, "staff_id")?,
                get(&r, "role")?,
            ));
        }
        for r in all_rows(
            &txn,
            "SELECT tenant_id, MAX(expires_at) AS until FROM support_grants \
             WHERE revoked_at IS NULL AND expires_at > $1 GROUP BY tenant_id",
            vec![now.into()],
        )
        .await?
        {
            s.support.push((get(&r, "tenant_id")?, get(&r, "until")?));
        }
        s.federation_staff = self.federation_staff_ids_in(&txn).await?;
        txn.commit().await?;
        Ok(s)
    }

    async fn federation_staff_ids_in(&self, conn: &impl ConnectionTrait) -> Result<Vec<String>> {
        all_rows(
            conn,
            "SELECT id FROM federation_staff WHERE role = 'federation' ORDER BY id",
            vec![],
        )
        .await?
        .iter()
        .map(|r| get(r, "id"))
        .collect()
    }

    /// The federation staff who hold the platform role.
    pub async fn federation_staff_ids(&self) -> Result<Vec<String>> {
        self.federation_staff_ids_in(self.conn()).await
    }

    pub async fn policy_revision(&self) -> Result<i64> {
        let rows = all_rows(
            self.conn(),
            "SELECT value FROM federation_meta WHERE key = 'policy_revision'",
            vec![],
        )
        .await?;
        rows.first().map(|r| get(r, "value")).unwrap_or(Ok(0))
    }

    /// The changes numbered after `revision`: (revision, commune or `None` for the federation).
    pub async fn policy_changes_since(&self, revision: i64) -> Result<Vec<(i64, Option<i64>)>> {
        all_rows(
            self.conn(),
            "SELECT revision, commune_id FROM policy_changes WHERE revision > $1 ORDER BY revision",
            vec![revision.into()],
        )
        .await?
        .iter()
        .map(|r| Ok((get(r, "revision")?, get(r, "commune_id")?)))
        .collect()
    }

    /// Numbers a federation-level change (its staff).
    pub async fn note_federation_change(&self, now: i64) -> Result<i64> {
        let txn = crate::begin(self.conn()).await?;
        let rev = note_change(&txn, None, now).await?;
        txn.commit().await?;
        Ok(rev)
    }

    pub async fn federation_audit(&self, e: &FederationAuditEntry) -> Result<()> {
        self.conn()
            .execute_raw(stmt(
                self.conn().get_database_backend(),
                "INSERT INTO federation_audit (id, at, actor, actor_name, commune_id, action, \
                 detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    uuid::Uuid::new_v4().simple().to_string().into(),
                    e.at.into(),
                    e.actor.clone().into(),
                    e.actor_name.clone().into(),
                    e.commune_id.into(),
                    e.action.clone().into(),
                    e.detail.clone().into(),
                ],
            ))
            .await?;
        Ok(())
    }

    /// Sign-ins per commune since `since` (from the federation's sign-in log).
    pub async fn sign_ins_since(&self, communes: &[i64], since: i64) -> Result<Vec<(i64, i64)>> {
        if communes.is_empty() {
            return Ok(vec![]);
        }
        let list = communes
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        all_rows(
            self.conn(),
            &format!(
                "SELECT commune_id, COUNT(*) AS n FROM auth_audit WHERE commune_id IN ({list}) \
                 AND at >= $1 AND event IN ('handoff', 'staff_sign_in') GROUP BY commune_id"
            ),
            vec![since.into()],
        )
        .await?
        .iter()
        .map(|r| Ok((get(r, "commune_id")?, get(r, "n")?)))
        .collect()
    }

    /// Every active support grant of every commune (the federation console), via the same
    /// read-only scope as [`FederationDb::policy_snapshot`].
    pub async fn active_support_grants(&self, now: i64) -> Result<Vec<SupportGrant>> {
        let txn = crate::begin(self.conn()).await?;
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            txn.execute_unprepared("SELECT set_config('sportello.scope', 'policies', true)")
                .await?;
        }
        let rows = all_rows(
            &txn,
            &format!(
                "SELECT {GRANT_COLS} FROM support_grants WHERE revoked_at IS NULL \
                 AND expires_at > $1 ORDER BY expires_at"
            ),
            vec![now.into()],
        )
        .await?;
        txn.commit().await?;
        rows.iter().map(grant_of).collect()
    }
}
