//! Server-side sessions, their revocations, and the single sign-on hand-off codes.

use super::*;
use crate::{Result, StoreError};

impl IdentityDb<'_> {
    pub async fn create_session(&self, s: &SessionRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO sessions ({SESSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13)"
        );
        self.exec(
            &sql,
            vec![
                s.token_hash.clone().into(),
                s.kind.clone().into(),
                opt(&s.sso_hash),
                s.commune_id.into(),
                opt(&s.person_id),
                opt(&s.staff_id),
                s.level.clone().into(),
                s.idp.clone().into(),
                s.mfa.into(),
                s.created_at.into(),
                s.last_seen_at.into(),
                s.expires_at.into(),
                opt(&s.user_agent),
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>> {
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE token_hash = $1");
        self.one(&sql, vec![token_hash.into()])
            .await?
            .map(|r| session_of(&r))
            .transpose()
    }

    pub async fn touch_session(&self, token_hash: &str, now: i64) -> Result<()> {
        self.exec(
            "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2",
            vec![now.into(), token_hash.into()],
        )
        .await?;
        Ok(())
    }

    /// The sessions a commune's staff account holds.
    pub async fn staff_session_hashes(&self, commune: i64, staff_id: &str) -> Result<Vec<String>> {
        self.all(
            "SELECT token_hash FROM sessions WHERE kind = 'staff' AND commune_id = $1 \
             AND staff_id = $2",
            vec![commune.into(), staff_id.into()],
        )
        .await?
        .iter()
        .map(|r| get(r, "token_hash"))
        .collect()
    }

    /// The federation support sessions open in a commune (each opened under a support grant).
    pub async fn support_session_hashes(&self, commune: i64) -> Result<Vec<String>> {
        self.all(
            "SELECT token_hash FROM sessions WHERE kind = 'staff' AND commune_id = $1 \
             AND idp = 'federation-support'",
            vec![commune.into()],
        )
        .await?
        .iter()
        .map(|r| get(r, "token_hash"))
        .collect()
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<u64> {
        self.exec(
            "DELETE FROM sessions WHERE token_hash = $1",
            vec![token_hash.into()],
        )
        .await
    }

    /// Records that sessions ended, for the other nodes' caches (see [`Self::revocations_since`]).
    pub async fn revoke(&self, token_hashes: &[String], now: i64) -> Result<()> {
        for h in token_hashes {
            self.exec(
                "INSERT INTO session_revocations (token_hash, revoked_at) VALUES ($1, $2) \
                 ON CONFLICT (token_hash) DO UPDATE SET revoked_at = excluded.revoked_at",
                vec![h.clone().into(), now.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Sessions ended at or after `since` (microseconds): `(token hash, when)`.
    pub async fn revocations_since(&self, since: i64) -> Result<Vec<(String, i64)>> {
        self.all(
            "SELECT token_hash, revoked_at FROM session_revocations WHERE revoked_at >= $1",
            vec![since.into()],
        )
        .await?
        .iter()
        .map(|r| Ok((get(r, "token_hash")?, get(r, "revoked_at")?)))
        .collect()
    }

    /// Ends a single sign-on session and every commune session handed out from it. Returns the
    /// hashes of the sessions ended (for the per-node cache).
    pub async fn end_sso(&self, sso_hash: &str) -> Result<Vec<String>> {
        let rows = self
            .all(
                "DELETE FROM sessions WHERE token_hash = $1 OR sso_hash = $2 RETURNING token_hash",
                vec![sso_hash.into(), sso_hash.into()],
            )
            .await?;
        self.exec(
            "DELETE FROM handoff_codes WHERE sso_hash = $1",
            vec![sso_hash.into()],
        )
        .await?;
        rows.iter().map(|r| get(r, "token_hash")).collect()
    }

    /// Every session of a person, newest first.
    pub async fn sessions_of_person(&self, person_id: &str, now: i64) -> Result<Vec<SessionRow>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE person_id = $1 AND expires_at > $2 \
             ORDER BY created_at DESC"
        );
        self.all(&sql, vec![person_id.into(), now.into()])
            .await?
            .iter()
            .map(session_of)
            .collect()
    }

    pub async fn session_count(&self) -> Result<i64> {
        let row = self
            .one("SELECT COUNT(*) AS n FROM sessions", vec![])
            .await?
            .ok_or_else(|| StoreError::Corrupt("count".into()))?;
        get(&row, "n")
    }

    // --- single sign-on hand-off ----------------------------------------------------------------

    pub async fn create_handoff(
        &self,
        code_hash: &str,
        sso_hash: &str,
        target_host: &str,
        next_path: &str,
        state_hash: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO handoff_codes (code_hash, sso_hash, target_host, next_path, state_hash, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                code_hash.into(),
                sso_hash.into(),
                target_host.into(),
                next_path.into(),
                state_hash.into(),
                expires_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Uses up a hand-off code: `(sso session hash, next path)` if it was issued for this host and
    /// has not expired. A code is deleted by its first use, whatever the outcome.
    /// Uses up a hand-off code: `(sso session hash, next path)` if it was issued for this host,
    /// for this browser's state (`state_hash`, from its cookie) and has not expired. A code is
    /// deleted by its first use, whatever the outcome.
    pub async fn take_handoff(
        &self,
        code_hash: &str,
        target_host: &str,
        state_hash: &str,
        now: i64,
    ) -> Result<Option<(String, String)>> {
        let row = self
            .one(
                "DELETE FROM handoff_codes WHERE code_hash = $1 RETURNING sso_hash, target_host, \
                 next_path, state_hash, expires_at",
                vec![code_hash.into()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let host: String = get(&row, "target_host")?;
        let state: String = get(&row, "state_hash")?;
        let exp: i64 = get(&row, "expires_at")?;
        if host != target_host || state != state_hash || exp <= now {
            return Ok(None);
        }
        Ok(Some((get(&row, "sso_hash")?, get(&row, "next_path")?)))
    }

    // --- sign-ins in progress -------------------------------------------------------------------
}
