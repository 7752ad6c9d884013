//! Sign-ins in progress: browser flows, pending requests to identity providers, parked
//! answers, SAML sessions for Single Logout, the assertion replay cache.

use super::*;
use crate::Result;

impl IdentityDb<'_> {
    pub async fn create_flow(&self, f: &LoginFlow, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO login_flows (flow_hash, target_host, next_path, state_hash, level, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                f.flow_hash.clone().into(),
                opt(&f.target_host),
                f.next_path.clone().into(),
                opt(&f.state_hash),
                f.level.clone().into(),
                now.into(),
                f.expires_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn flow(&self, flow_hash: &str, now: i64) -> Result<Option<LoginFlow>> {
        self.one(
            "SELECT flow_hash, target_host, next_path, state_hash, level, expires_at FROM login_flows \
             WHERE flow_hash = $1 AND expires_at > $2",
            vec![flow_hash.into(), now.into()],
        )
        .await?
        .map(|r| {
            Ok(LoginFlow {
                flow_hash: get(&r, "flow_hash")?,
                target_host: get(&r, "target_host")?,
                next_path: get(&r, "next_path")?,
                state_hash: get(&r, "state_hash")?,
                level: get(&r, "level")?,
                expires_at: get(&r, "expires_at")?,
            })
        })
        .transpose()
    }

    pub async fn delete_flow(&self, flow_hash: &str) -> Result<()> {
        self.exec(
            "DELETE FROM login_flows WHERE flow_hash = $1",
            vec![flow_hash.into()],
        )
        .await?;
        Ok(())
    }

    pub async fn create_auth_request(&self, r: &AuthRequest) -> Result<()> {
        self.exec(
            "INSERT INTO auth_requests (request_id, flow_hash, protocol, idp, level, nonce, \
             pkce_verifier, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                r.request_id.clone().into(),
                r.flow_hash.clone().into(),
                r.protocol.clone().into(),
                r.idp.clone().into(),
                r.level.clone().into(),
                opt(&r.nonce),
                opt(&r.pkce_verifier),
                r.created_at.into(),
                r.expires_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// A pending request, left in place: `None` if unknown or expired. An answer is checked
    /// against it first and [`Self::take_auth_request`] uses it up only once the answer is
    /// verified, so a forged answer naming it cannot cancel someone's sign-in.
    pub async fn peek_auth_request(
        &self,
        request_id: &str,
        now: i64,
    ) -> Result<Option<AuthRequest>> {
        let row = self
            .one(
                &format!("SELECT {AUTH_REQUEST_COLS} FROM auth_requests WHERE request_id = $1"),
                vec![request_id.into()],
            )
            .await?;
        auth_request(row, now)
    }

    /// Uses up a pending request (an answer is accepted once): `None` if unknown or expired.
    pub async fn take_auth_request(
        &self,
        request_id: &str,
        now: i64,
    ) -> Result<Option<AuthRequest>> {
        let row = self
            .one(
                &format!(
                    "DELETE FROM auth_requests WHERE request_id = $1 RETURNING {AUTH_REQUEST_COLS}"
                ),
                vec![request_id.into()],
            )
            .await?;
        auth_request(row, now)
    }

    /// Parks a verified identity until the browser that started the sign-in picks it up.
    pub async fn put_auth_result(
        &self,
        ticket_hash: &str,
        flow_hash: &str,
        identity_json: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO auth_results (ticket_hash, flow_hash, identity, expires_at) \
             VALUES ($1, $2, $3, $4)",
            vec![
                ticket_hash.into(),
                flow_hash.into(),
                identity_json.into(),
                expires_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Uses up a ticket: `(flow hash, identity JSON)` unless expired.
    pub async fn take_auth_result(
        &self,
        ticket_hash: &str,
        now: i64,
    ) -> Result<Option<(String, String)>> {
        let row = self
            .one(
                "DELETE FROM auth_results WHERE ticket_hash = $1 RETURNING flow_hash, identity, \
                 expires_at",
                vec![ticket_hash.into()],
            )
            .await?;
        let Some(r) = row else { return Ok(None) };
        let exp: i64 = get(&r, "expires_at")?;
        if exp <= now {
            return Ok(None);
        }
        Ok(Some((get(&r, "flow_hash")?, get(&r, "identity")?)))
    }

    /// Links an SSO session to the SAML subject that opened it (for Single Logout).
    pub async fn put_saml_session(
        &self,
        sso_hash: &str,
        idp: &str,
        name_id_hash: &str,
        subject_json: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO saml_sessions (sso_hash, idp, name_id_hash, subject, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                sso_hash.into(),
                idp.into(),
                name_id_hash.into(),
                subject_json.into(),
                expires_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The SAML subject of an SSO session and its IdP: `(idp, subject JSON)`; the link is
    /// removed (a logout uses it once).
    pub async fn take_saml_session(&self, sso_hash: &str) -> Result<Option<(String, String)>> {
        let row = self
            .one(
                "DELETE FROM saml_sessions WHERE sso_hash = $1 RETURNING idp, subject",
                vec![sso_hash.into()],
            )
            .await?;
        row.map(|r| Ok((get(&r, "idp")?, get(&r, "subject")?)))
            .transpose()
    }

    /// The SSO sessions an IdP opened for a subject (its LogoutRequest names it).
    pub async fn saml_sessions_of(&self, idp: &str, name_id_hash: &str) -> Result<Vec<String>> {
        self.all(
            "DELETE FROM saml_sessions WHERE idp = $1 AND name_id_hash = $2 RETURNING sso_hash",
            vec![idp.into(), name_id_hash.into()],
        )
        .await?
        .iter()
        .map(|r| get(r, "sso_hash"))
        .collect()
    }

    /// Remembers a SAML assertion id until it expires: `false` if it was seen before (a replay).
    pub async fn remember_assertion(&self, id: &str, idp: &str, expires_at: i64) -> Result<bool> {
        let n = self
            .exec(
                "INSERT INTO saml_seen_assertions (assertion_id, idp, expires_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (assertion_id) DO NOTHING",
                vec![id.into(), idp.into(), expires_at.into()],
            )
            .await?;
        Ok(n == 1)
    }
}

const AUTH_REQUEST_COLS: &str =
    "request_id, flow_hash, protocol, idp, level, nonce, pkce_verifier, created_at, expires_at";

fn auth_request(row: Option<sea_orm::QueryResult>, now: i64) -> Result<Option<AuthRequest>> {
    let Some(r) = row else { return Ok(None) };
    let req = AuthRequest {
        request_id: get(&r, "request_id")?,
        flow_hash: get(&r, "flow_hash")?,
        protocol: get(&r, "protocol")?,
        idp: get(&r, "idp")?,
        level: get(&r, "level")?,
        nonce: get(&r, "nonce")?,
        pkce_verifier: get(&r, "pkce_verifier")?,
        created_at: get(&r, "created_at")?,
        expires_at: get(&r, "expires_at")?,
    };
    Ok((req.expires_at > now).then_some(req))
}
