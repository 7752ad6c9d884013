//! A commune's support grants, audit log and settings.

use sea_orm::ConnectionTrait;

use crate::identity::{get, stmt};
use crate::{Result, TenantDb};

use super::*;

impl TenantDb<'_> {
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

    /// The commune's mail and legal settings (defaults when never set).
    pub async fn settings(&self) -> Result<CommuneSettings> {
        let rows = self
            .all(
                "SELECT mail_from_name, mail_reply_to, dpo_name, dpo_email, accessibility_url, \
                 privacy_notes FROM commune_settings WHERE tenant_id = $1",
                vec![],
            )
            .await?;
        match rows.first() {
            Some(r) => Ok(CommuneSettings {
                mail_from_name: get(r, "mail_from_name")?,
                mail_reply_to: get(r, "mail_reply_to")?,
                dpo_name: get(r, "dpo_name")?,
                dpo_email: get(r, "dpo_email")?,
                accessibility_url: get(r, "accessibility_url")?,
                privacy_notes: get(r, "privacy_notes")?,
            }),
            None => Ok(CommuneSettings::default()),
        }
    }

    pub async fn set_settings(&self, s: &CommuneSettings, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO commune_settings (tenant_id, mail_from_name, mail_reply_to, dpo_name, \
             dpo_email, accessibility_url, privacy_notes, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id) DO UPDATE SET \
             mail_from_name = excluded.mail_from_name, \
             mail_reply_to = excluded.mail_reply_to, dpo_name = excluded.dpo_name, \
             dpo_email = excluded.dpo_email, accessibility_url = excluded.accessibility_url, \
             privacy_notes = excluded.privacy_notes, updated_at = excluded.updated_at",
            vec![
                s.mail_from_name.clone().into(),
                s.mail_reply_to.clone().into(),
                s.dpo_name.clone().into(),
                s.dpo_email.clone().into(),
                s.accessibility_url.clone().into(),
                s.privacy_notes.clone().into(),
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

    /// Publishes the commune's portal, if it was being prepared: true when it was.
    pub async fn publish_portal(&self, now: i64) -> Result<bool> {
        let res = self
            .conn()
            .execute_raw(stmt(
                self.conn().get_database_backend(),
                "UPDATE communes SET status = 'active', updated_at = $1 \
                 WHERE id = $2 AND status = 'draft'",
                vec![now.into(), self.tenant().0.into()],
            ))
            .await?;
        if res.rows_affected() == 0 {
            return Ok(false);
        }
        crate::sync::bump_registry_revision(self.conn()).await?;
        Ok(true)
    }
}
