//! Purging what expired, and the sign-in audit log.

use super::*;
use crate::Result;

impl IdentityDb<'_> {
    /// Deletes everything expired (sessions, codes, flows, requests, tickets, replay entries,
    /// revocations older than an hour: no cache keeps a session that long).
    pub async fn purge_expired(&self, now: i64) -> Result<u64> {
        let mut n = self
            .exec(
                "DELETE FROM session_revocations WHERE revoked_at < $1",
                vec![(now - 3_600_000_000).into()],
            )
            .await?;
        for table in [
            "sessions",
            "handoff_codes",
            "login_flows",
            "auth_requests",
            "auth_results",
            "saml_seen_assertions",
            "saml_sessions",
            "account_tokens",
        ] {
            n += self
                .exec(
                    &format!("DELETE FROM {table} WHERE expires_at <= $1"),
                    vec![now.into()],
                )
                .await?;
        }
        Ok(n)
    }

    // --- audit ----------------------------------------------------------------------------------

    pub async fn audit(&self, e: &AuditEvent) -> Result<()> {
        self.exec(
            "INSERT INTO auth_audit (id, at, event, person_id, commune_id, staff_id, idp, level, \
             ip, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            vec![
                uuid::Uuid::new_v4().to_string().into(),
                e.at.into(),
                e.event.clone().into(),
                opt(&e.person_id),
                e.commune_id.into(),
                opt(&e.staff_id),
                opt(&e.idp),
                opt(&e.level),
                opt(&e.ip),
                opt(&e.detail),
            ],
        )
        .await?;
        Ok(())
    }

    /// The latest audit events, optionally of one person, newest first.
    pub async fn audit_log(&self, person_id: Option<&str>, limit: u64) -> Result<Vec<AuditEvent>> {
        let rows = match person_id {
            Some(p) => {
                self.all(
                    "SELECT at, event, person_id, commune_id, staff_id, idp, level, ip, detail \
                     FROM auth_audit WHERE person_id = $1 ORDER BY at DESC LIMIT $2",
                    vec![p.into(), (limit as i64).into()],
                )
                .await?
            }
            None => {
                self.all(
                    "SELECT at, event, person_id, commune_id, staff_id, idp, level, ip, detail \
                     FROM auth_audit ORDER BY at DESC LIMIT $1",
                    vec![(limit as i64).into()],
                )
                .await?
            }
        };
        rows.iter().map(event_of).collect()
    }

    /// The latest sign-in events of one commune's staff (its console's log), newest first.
    pub async fn staff_audit_log(&self, commune_id: i64, limit: u64) -> Result<Vec<AuditEvent>> {
        let rows = self
            .all(
                "SELECT at, event, person_id, commune_id, staff_id, idp, level, ip, detail \
                 FROM auth_audit WHERE commune_id = $1 AND staff_id IS NOT NULL \
                 ORDER BY at DESC LIMIT $2",
                vec![commune_id.into(), (limit as i64).into()],
            )
            .await?;
        rows.iter().map(event_of).collect()
    }
}

fn event_of(r: &sea_orm::QueryResult) -> Result<AuditEvent> {
    Ok(AuditEvent {
        at: get(r, "at")?,
        event: get(r, "event")?,
        person_id: get(r, "person_id")?,
        commune_id: get(r, "commune_id")?,
        staff_id: get(r, "staff_id")?,
        idp: get(r, "idp")?,
        level: get(r, "level")?,
        ip: get(r, "ip")?,
        detail: get(r, "detail")?,
    })
}
