//! What authorization keeps: each commune's policy (template version or its own rules), staff
//! roles, support grants, the audit log, commune settings; and, federation-wide, the numbered
//! log of policy changes that tells every node which commune to reload.

use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, TransactionTrait, Value};
use serde::Serialize;

use crate::identity::{get, stmt};
use crate::{FederationDb, Result, TenantDb};

/// A role given to a staff account, for the whole commune (`office_id` `None`) or one office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleAssignment {
    pub staff_id: String,
    pub role: String,
    pub office_id: Option<String>,
    pub granted_by: String,
    pub granted_at: i64,
}

/// A commune's policy as stored: the template version, and its own rules (JSON) if it has some.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPolicy {
    pub template_version: i32,
    pub custom_rules: Option<String>,
}

/// Support access a commune gave the federation's staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupportGrant {
    pub commune_id: i64,
    pub id: String,
    pub reason: String,
    pub granted_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
}

/// One entry of a commune's audit log: who, for whom and why, did what.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: String,
    pub at: i64,
    /// `staff:<id>`, `federation:<id>` or `cli`.
    pub actor: String,
    pub actor_name: String,
    pub on_behalf_of: Option<String>,
    pub purpose: Option<String>,
    pub action: String,
    pub object: String,
    /// JSON: what changed.
    pub detail: String,
}

/// A commune's own mail settings (its languages and branding are in the registry).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommuneSettings {
    /// The name mails are sent under (the address is the federation's sender).
    pub mail_from_name: Option<String>,
    pub mail_reply_to: Option<String>,
}

fn grant_of(r: &QueryResult) -> Result<SupportGrant> {
    Ok(SupportGrant {
        commune_id: get(r, "tenant_id")?,
        id: get(r, "id")?,
        reason: get(r, "reason")?,
        granted_by: get(r, "granted_by")?,
        created_at: get(r, "created_at")?,
        expires_at: get(r, "expires_at")?,
        revoked_at: get(r, "revoked_at")?,
        revoked_by: get(r, "revoked_by")?,
    })
}

const GRANT_COLS: &str =
    "tenant_id, id, reason, granted_by, created_at, expires_at, revoked_at, revoked_by";

/// The policy template version onboarding gives a new commune (the authorization crate's
/// current template; a test in the server keeps the two equal).
pub const ONBOARDING_POLICY_TEMPLATE: i32 = 1;

impl TenantDb<'_> {
    /// Records that a new commune follows the template onboarding applies.
    pub async fn apply_onboarding_policy(&self, by: &str) -> Result<()> {
        self.set_policy(
            &StoredPolicy {
                template_version: ONBOARDING_POLICY_TEMPLATE,
                custom_rules: None,
            },
            by,
            crate::now_micros(),
        )
        .await
    }

    /// How many services and staff accounts the commune has (the federation console's activity).
    pub async fn sizes(&self) -> Result<(i64, i64)> {
        let count = |table: &'static str| async move {
            let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = $1");
            match self.one(&sql, vec![]).await? {
                Some(r) => get::<i64>(&r, "n"),
                None => Ok(0),
            }
        };
        Ok((count("services").await?, count("staff_accounts").await?))
    }

    /// The commune's policy (`None`: never changed since onboarding, the current template).
    pub async fn policy(&self) -> Result<Option<StoredPolicy>> {
        let rows = self
            .all(
                "SELECT template_version, custom_rules FROM commune_policies WHERE tenant_id = $1",
                vec![],
            )
            .await?;
        rows.first()
            .map(|r| {
                Ok(StoredPolicy {
                    template_version: get(r, "template_version")?,
                    custom_rules: get(r, "custom_rules")?,
                })
            })
            .transpose()
    }

    pub async fn set_policy(&self, p: &StoredPolicy, by: &str, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO commune_policies (tenant_id, template_version, custom_rules, updated_at, \
             updated_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET \
             template_version = excluded.template_version, custom_rules = excluded.custom_rules, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            vec![
                p.template_version.into(),
                p.custom_rules.clone().into(),
                now.into(),
                by.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Every role given in this commune.
    pub async fn role_assignments(&self) -> Result<Vec<RoleAssignment>> {
        let rows = self
            .all(
                "SELECT staff_id, role, office_id, granted_by, granted_at FROM role_assignments \
                 WHERE tenant_id = $1 ORDER BY staff_id, role, office_id",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let office: String = get(r, "office_id")?;
                Ok(RoleAssignment {
                    staff_id: get(r, "staff_id")?,
                    role: get(r, "role")?,
                    office_id: (!office.is_empty()).then_some(office),
                    granted_by: get(r, "granted_by")?,
                    granted_at: get(r, "granted_at")?,
                })
            })
            .collect()
    }

    /// Gives a role; `false` if the account had it already (for that office).
    pub async fn assign_role(
        &self,
        staff_id: &str,
        role: &str,
        office_id: Option<&str>,
        by: &str,
        now: i64,
    ) -> Result<bool> {
        Ok(self
            .exec(
                "INSERT INTO role_assignments (tenant_id, staff_id, role, office_id, granted_by, \
                 granted_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (tenant_id, staff_id, role, office_id) DO NOTHING",
                vec![
                    staff_id.into(),
                    role.into(),
                    office_id.unwrap_or("").into(),
                    by.into(),
                    now.into(),
                ],
            )
            .await?
            == 1)
    }

    /// Takes a role back; `false` if the account did not have it.
    pub async fn unassign_role(
        &self,
        staff_id: &str,
        role: &str,
        office_id: Option<&str>,
    ) -> Result<bool> {
        Ok(self
            .exec(
                "DELETE FROM role_assignments WHERE tenant_id = $1 AND staff_id = $2 AND role = $3 \
                 AND office_id = $4",
                vec![staff_id.into(), role.into(), office_id.unwrap_or("").into()],
            )
            .await?
            == 1)
    }

    /// Takes every role of an account back.
    pub async fn unassign_all(&self, staff_id: &str) -> Result<u64> {
        self.exec(
            "DELETE FROM role_assignments WHERE tenant_id = $1 AND staff_id = $2",
            vec![staff_id.into()],
        )
        .await
    }

    /// Support grants, newest first.
    pub async fn support_grants(&self) -> Result<Vec<SupportGrant>> {
        let sql = format!(
            "SELECT {GRANT_COLS} FROM support_grants WHERE tenant_id = $1 ORDER BY created_at DESC"
        );
        self.all(&sql, vec![]).await?.iter().map(grant_of).collect()
    }

    /// Until when support may enter now (the latest grant neither expired nor revoked).
    pub async fn support_until(&self, now: i64) -> Result<Option<i64>> {
        let rows = self
            .all(
                "SELECT MAX(expires_at) AS until FROM support_grants WHERE tenant_id = $1 \
                 AND revoked_at IS NULL AND expires_at > $2",
                vec![now.into()],
            )
            .await?;
        Ok(match rows.first() {
            Some(r) => get::<Option<i64>>(r, "until")?,
            None => None,
        })
    }

    pub async fn grant_support(
        &self,
        reason: &str,
        by: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<String> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        self.exec(
            "INSERT INTO support_grants (tenant_id, id, reason, granted_by, created_at, expires_at, \
             revoked_at, revoked_by) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)",
            vec![
                id.clone().into(),
                reason.into(),
                by.into(),
                now.into(),
                expires_at.into(),
            ],
        )
        .await?;
        Ok(id)
    }

    /// Ends a grant early; `false` if it was not active.
    pub async fn revoke_support(&self, id: &str, by: &str, now: i64) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE support_grants SET revoked_at = $2, revoked_by = $3 WHERE tenant_id = $1 \
                 AND id = $4 AND revoked_at IS NULL AND expires_at > $2",
                vec![now.into(), by.into(), id.into()],
            )
            .await?
            == 1)
    }

    /// Appends to the commune's audit log.
    pub async fn audit(&self, e: &AuditEntry) -> Result<()> {
        let id = if e.id.is_empty() {
            uuid::Uuid::new_v4().simple().to_string()
        } else {
            e.id.clone()
        };
        self.exec(
            "INSERT INTO audit_log (tenant_id, id, at, actor, actor_name, on_behalf_of, purpose, \
             action, object, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            vec![
                id.into(),
                e.at.into(),
                e.actor.clone().into(),
                e.actor_name.clone().into(),
                e.on_behalf_of.clone().into(),
                e.purpose.clone().into(),
                e.action.clone().into(),
                e.object.clone().into(),
                e.detail.clone().into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The latest `limit` entries of the audit log, newest first.
    pub async fn audit_log(&self, limit: u64) -> Result<Vec<AuditEntry>> {
        let rows = self
            .all(
                "SELECT id, at, actor, actor_name, on_behalf_of, purpose, action, object, detail \
                 FROM audit_log WHERE tenant_id = $1 ORDER BY at DESC, id LIMIT $2",
                vec![(limit as i64).into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: get(r, "id")?,
                    at: get(r, "at")?,
                    actor: get(r, "actor")?,
                    actor_name: get(r, "actor_name")?,
                    on_behalf_of: get(r, "on_behalf_of")?,
                    purpose: get(r, "purpose")?,
                    action: get(r, "action")?,
                    object: get(r, "object")?,
                    detail: get(r, "detail")?,
                })
            })
            .collect()
    }

    /// The commune's mail settings (defaults when never set).
    pub async fn settings(&self) -> Result<CommuneSettings> {
        let rows = self
            .all(
                "SELECT mail_from_name, mail_reply_to FROM commune_settings WHERE tenant_id = $1",
                vec![],
            )
            .await?;
        match rows.first() {
            Some(r) => Ok(CommuneSettings {
                mail_from_name: get(r, "mail_from_name")?,
                mail_reply_to: get(r, "mail_reply_to")?,
            }),
            None => Ok(CommuneSettings::default()),
        }
    }

    pub async fn set_settings(&self, s: &CommuneSettings, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO commune_settings (tenant_id, mail_from_name, mail_reply_to, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET \
             mail_from_name = excluded.mail_from_name, \
             mail_reply_to = excluded.mail_reply_to, updated_at = excluded.updated_at",
            vec![
                s.mail_from_name.clone().into(),
                s.mail_reply_to.clone().into(),
                now.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The commune's public branding, default language and the languages its portal offers
    /// (comma-separated keys; its row of the registry: every node picks the change up with the
    /// registry revision).
    #[allow(clippy::too_many_arguments)]
    pub async fn set_branding(
        &self,
        color: &str,
        email: Option<&str>,
        phone: Option<&str>,
        website: Option<&str>,
        default_language: &str,
        languages: &str,
        now: i64,
    ) -> Result<()> {
        self.conn()
            .execute_raw(stmt(
                self.conn().get_database_backend(),
                "UPDATE communes SET color = $1, email = $2, phone = $3, website = $4, \
                 default_language = $5, languages = $6, updated_at = $7 WHERE id = $8",
                vec![
                    color.into(),
                    email.into(),
                    phone.into(),
                    website.into(),
                    default_language.into(),
                    languages.into(),
                    now.into(),
                    self.tenant().0.into(),
                ],
            ))
            .await?;
        crate::sync::bump_registry_revision(self.conn()).await
    }

    /// Numbers a change of this commune's policy, roles or support grants, so that every node
    /// reloads it. Serialised by the row lock on the counter: revisions commit in order.
    pub async fn note_policy_change(&self, now: i64) -> Result<i64> {
        note_change(self.conn(), Some(self.tenant().0), now).await
    }
}

async fn note_change<C: ConnectionTrait>(conn: &C, tenant: Option<i64>, now: i64) -> Result<i64> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(stmt(
            backend,
            "UPDATE federation_meta SET value = value + 1 WHERE key = 'policy_revision' \
             RETURNING value",
            vec![],
        ))
        .await?
        .ok_or_else(|| crate::StoreError::Corrupt("policy_revision missing".into()))?;
    let rev: i64 = get(&row, "value")?;
    conn.execute_raw(stmt(
        backend,
        "INSERT INTO policy_changes (revision, commune_id, at) VALUES ($1, $2, $3)",
        vec![rev.into(), tenant.into(), now.into()],
    ))
    .await?;
    Ok(rev)
}

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
        let txn = self.conn().begin().await?;
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
        let txn = self.conn().begin().await?;
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
