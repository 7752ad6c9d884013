//! What authorization keeps: each commune's policy (template version or its own rules), staff
//! roles, support grants, the audit log, commune settings; and, federation-wide, the numbered
//! log of policy changes that tells every node which commune to reload.

use sea_orm::{ConnectionTrait, QueryResult};
use serde::Serialize;

use crate::identity::{get, stmt};
use crate::{Result, TenantDb};

mod commune;
mod federation;

pub use federation::*;

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
    /// The data protection officer, for the privacy notice.
    pub dpo_name: Option<String>,
    pub dpo_email: Option<String>,
    /// The commune's accessibility statement (AgID), linked from every page's footer.
    pub accessibility_url: Option<String>,
    /// The commune's own words added to the federation's privacy notice.
    pub privacy_notes: Option<String>,
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
