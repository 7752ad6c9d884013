//! Identity across the federation: people (one per fiscal code), local password accounts,
//! server-side sessions, the single sign-on hand-off, pending sign-ins, the SAML replay cache and
//! the sign-in audit log.
//!
//! These tables are federation-wide by nature (one identity for every commune), so they are
//! reached through [`IdentityDb`], a door of its own (grep for it), not through a commune's
//! [`crate::TenantDb`]. What a commune keeps about a person (`citizens`) and a commune's staff
//! accounts are commune tables, in [`crate::staff`].
//!
//! Secrets (session ids, hand-off codes, e-mail tokens) are stored only as SHA-256 hashes.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement, Value};
use serde::{Deserialize, Serialize};

use crate::{Result, StoreError};

/// Federation-wide identity data. Obtain with [`crate::Store::identity`].
#[derive(Clone, Copy)]
pub struct IdentityDb<'a> {
    pub(crate) conn: &'a DatabaseConnection,
}

/// `$1, $2, …` placeholders as each database wants them.
pub(crate) fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    if backend == DbBackend::Postgres {
        Statement::from_sql_and_values(backend, sql, values)
    } else {
        Statement::from_sql_and_values(backend, sql.replace('$', "?"), values)
    }
}

pub(crate) fn get<T: sea_orm::TryGetable>(row: &QueryResult, col: &str) -> Result<T> {
    row.try_get::<T>("", col)
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

/// A person as the identity providers described them, plus the contacts they chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    /// Present once an identity provider vouched for it; never set from a form.
    pub fiscal_code: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<String>,
    pub place_of_birth: Option<String>,
    pub idp_email: Option<String>,
    pub idp_mobile: Option<String>,
    pub contact_email: Option<String>,
    pub contact_mobile: Option<String>,
    pub email_consent: bool,
    pub sms_consent: bool,
}

/// What an identity provider asserted about a person (already checked by the caller).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifiedIdentity {
    /// The normalised fiscal code (omocodia folded).
    pub fiscal_code: String,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub date_of_birth: Option<String>,
    pub place_of_birth: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LocalAccount {
    pub person_id: String,
    pub email: String,
    pub password_hash: String,
    pub email_verified: bool,
}

/// A stored session: `sso` on the sign-in host, `citizen` or `staff` on a commune's host.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub token_hash: String,
    pub kind: String,
    pub sso_hash: Option<String>,
    pub commune_id: Option<i64>,
    pub person_id: Option<String>,
    pub staff_id: Option<String>,
    pub level: String,
    pub idp: String,
    pub mfa: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
}

/// A sign-in in progress on the sign-in host (bound to the browser by the flow cookie).
#[derive(Debug, Clone, PartialEq)]
pub struct LoginFlow {
    pub flow_hash: String,
    pub target_host: Option<String>,
    pub next_path: String,
    /// The hash of the commune's hand-off state (its cookie): the code issued at the end of this
    /// sign-in is redeemed only by the browser that asked for it.
    pub state_hash: Option<String>,
    pub level: String,
    pub expires_at: i64,
}

/// A request sent to an identity provider, kept to check the answer against.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthRequest {
    pub request_id: String,
    pub flow_hash: String,
    pub protocol: String,
    pub idp: String,
    pub level: String,
    pub nonce: Option<String>,
    pub pkce_verifier: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// One line of the sign-in audit log.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuditEvent {
    pub at: i64,
    pub event: String,
    pub person_id: Option<String>,
    pub commune_id: Option<i64>,
    pub staff_id: Option<String>,
    pub idp: Option<String>,
    pub level: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

const PERSON_COLS: &str = "id, fiscal_code, given_name, family_name, date_of_birth, place_of_birth, \
     idp_email, idp_mobile, contact_email, contact_mobile, email_consent, sms_consent";

fn person_of(row: &QueryResult) -> Result<Person> {
    Ok(Person {
        id: get(row, "id")?,
        fiscal_code: get(row, "fiscal_code")?,
        given_name: get(row, "given_name")?,
        family_name: get(row, "family_name")?,
        date_of_birth: get(row, "date_of_birth")?,
        place_of_birth: get(row, "place_of_birth")?,
        idp_email: get(row, "idp_email")?,
        idp_mobile: get(row, "idp_mobile")?,
        contact_email: get(row, "contact_email")?,
        contact_mobile: get(row, "contact_mobile")?,
        email_consent: get(row, "email_consent")?,
        sms_consent: get(row, "sms_consent")?,
    })
}

const SESSION_COLS: &str = "token_hash, kind, sso_hash, commune_id, person_id, staff_id, level, idp, \
     mfa, created_at, last_seen_at, expires_at, user_agent";

fn session_of(row: &QueryResult) -> Result<SessionRow> {
    Ok(SessionRow {
        token_hash: get(row, "token_hash")?,
        kind: get(row, "kind")?,
        sso_hash: get(row, "sso_hash")?,
        commune_id: get(row, "commune_id")?,
        person_id: get(row, "person_id")?,
        staff_id: get(row, "staff_id")?,
        level: get(row, "level")?,
        idp: get(row, "idp")?,
        mfa: get(row, "mfa")?,
        created_at: get(row, "created_at")?,
        last_seen_at: get(row, "last_seen_at")?,
        expires_at: get(row, "expires_at")?,
        user_agent: get(row, "user_agent")?,
    })
}

fn opt(s: &Option<String>) -> Value {
    s.clone().into()
}

impl<'a> IdentityDb<'a> {
    fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    async fn exec(&self, sql: &str, values: Vec<Value>) -> Result<u64> {
        Ok(self
            .conn
            .execute_raw(stmt(self.backend(), sql, values))
            .await?
            .rows_affected())
    }

    async fn one(&self, sql: &str, values: Vec<Value>) -> Result<Option<QueryResult>> {
        Ok(self
            .conn
            .query_one_raw(stmt(self.backend(), sql, values))
            .await?)
    }

    async fn all(&self, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>> {
        Ok(self
            .conn
            .query_all_raw(stmt(self.backend(), sql, values))
            .await?)
    }

    // --- people ---------------------------------------------------------------------------------

    /// The person with this fiscal code, created on first sight; the profile is refreshed from
    /// what the identity provider says now (contacts chosen by the person are kept).
    pub async fn person_from_idp(&self, who: &VerifiedIdentity, now: i64) -> Result<Person> {
        let id = uuid::Uuid::new_v4().to_string();
        let sql = format!(
            "INSERT INTO people ({PERSON_COLS}, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, FALSE, FALSE, $9, $10) \
             ON CONFLICT (fiscal_code) DO UPDATE SET given_name = excluded.given_name, \
             family_name = excluded.family_name, date_of_birth = excluded.date_of_birth, \
             place_of_birth = excluded.place_of_birth, idp_email = excluded.idp_email, \
             idp_mobile = excluded.idp_mobile, updated_at = excluded.updated_at \
             RETURNING {PERSON_COLS}"
        );
        let row = self
            .one(
                &sql,
                vec![
                    id.into(),
                    who.fiscal_code.clone().into(),
                    who.given_name.clone().into(),
                    who.family_name.clone().into(),
                    opt(&who.date_of_birth),
                    opt(&who.place_of_birth),
                    opt(&who.email),
                    opt(&who.mobile),
                    now.into(),
                    now.into(),
                ],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("upsert returned no row".into()))?;
        person_of(&row)
    }

    /// The person with this fiscal code, created on first sight but never updated: for identity
    /// providers trusted by one commune only, which must not rewrite a federation-wide profile.
    pub async fn person_from_local_idp(&self, who: &VerifiedIdentity, now: i64) -> Result<Person> {
        self.exec(
            "INSERT INTO people (id, fiscal_code, given_name, family_name, date_of_birth, \
             place_of_birth, idp_email, idp_mobile, email_consent, sms_consent, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, FALSE, $9, $10) \
             ON CONFLICT (fiscal_code) DO NOTHING",
            vec![
                uuid::Uuid::new_v4().to_string().into(),
                who.fiscal_code.clone().into(),
                who.given_name.clone().into(),
                who.family_name.clone().into(),
                opt(&who.date_of_birth),
                opt(&who.place_of_birth),
                opt(&who.email),
                opt(&who.mobile),
                now.into(),
                now.into(),
            ],
        )
        .await?;
        self.person_by_fiscal_code(&who.fiscal_code)
            .await?
            .ok_or_else(|| StoreError::Corrupt("person vanished".into()))
    }

    pub async fn person(&self, id: &str) -> Result<Option<Person>> {
        let sql = format!("SELECT {PERSON_COLS} FROM people WHERE id = $1");
        self.one(&sql, vec![id.into()])
            .await?
            .map(|r| person_of(&r))
            .transpose()
    }

    pub async fn person_by_fiscal_code(&self, cf: &str) -> Result<Option<Person>> {
        let sql = format!("SELECT {PERSON_COLS} FROM people WHERE fiscal_code = $1");
        self.one(&sql, vec![cf.into()])
            .await?
            .map(|r| person_of(&r))
            .transpose()
    }

    pub async fn people_count(&self) -> Result<i64> {
        let row = self
            .one("SELECT COUNT(*) AS n FROM people", vec![])
            .await?
            .ok_or_else(|| StoreError::Corrupt("count".into()))?;
        get(&row, "n")
    }

    /// The notification contacts a person chose.
    pub async fn set_contacts(
        &self,
        person_id: &str,
        email: Option<String>,
        mobile: Option<String>,
        email_consent: bool,
        sms_consent: bool,
        now: i64,
    ) -> Result<()> {
        self.exec(
            "UPDATE people SET contact_email = $1, contact_mobile = $2, email_consent = $3, \
             sms_consent = $4, updated_at = $5 WHERE id = $6",
            vec![
                email.into(),
                mobile.into(),
                email_consent.into(),
                sms_consent.into(),
                now.into(),
                person_id.into(),
            ],
        )
        .await?;
        Ok(())
    }

    // --- local accounts -------------------------------------------------------------------------

    /// A new person with a password account. `None` if the e-mail address is taken; nothing is
    /// written then.
    pub async fn create_local_account(
        &self,
        email: &str,
        password_hash: &str,
        given_name: &str,
        family_name: &str,
        now: i64,
    ) -> Result<Option<String>> {
        use sea_orm::TransactionTrait;
        let txn = self.conn.begin().await?;
        let b = self.backend();
        let taken = txn
            .query_one_raw(stmt(
                b,
                "SELECT person_id FROM local_accounts WHERE email = $1",
                vec![email.into()],
            ))
            .await?;
        if taken.is_some() {
            return Ok(None);
        }
        let id = uuid::Uuid::new_v4().to_string();
        txn.execute_raw(stmt(
            b,
            "INSERT INTO people (id, fiscal_code, given_name, family_name, email_consent, \
             sms_consent, created_at, updated_at) VALUES ($1, NULL, $2, $3, FALSE, FALSE, $4, $5)",
            vec![
                id.clone().into(),
                given_name.into(),
                family_name.into(),
                now.into(),
                now.into(),
            ],
        ))
        .await?;
        let inserted = txn
            .execute_raw(stmt(
                b,
                "INSERT INTO local_accounts (person_id, email, password_hash, email_verified_at, \
                 failed_attempts, locked_until, created_at) VALUES ($1, $2, $3, NULL, 0, NULL, $4) \
                 ON CONFLICT (email) DO NOTHING",
                vec![
                    id.clone().into(),
                    email.into(),
                    password_hash.into(),
                    now.into(),
                ],
            ))
            .await?;
        if inserted.rows_affected() != 1 {
            return Ok(None);
        }
        txn.commit().await?;
        Ok(Some(id))
    }

    pub async fn local_account_by_email(&self, email: &str) -> Result<Option<LocalAccount>> {
        self.one(
            "SELECT person_id, email, password_hash, email_verified_at FROM local_accounts \
             WHERE email = $1",
            vec![email.into()],
        )
        .await?
        .map(|r| {
            Ok(LocalAccount {
                person_id: get(&r, "person_id")?,
                email: get(&r, "email")?,
                password_hash: get(&r, "password_hash")?,
                email_verified: get::<Option<i64>>(&r, "email_verified_at")?.is_some(),
            })
        })
        .transpose()
    }

    pub async fn local_account_of(&self, person_id: &str) -> Result<Option<LocalAccount>> {
        let Some(row) = self
            .one(
                "SELECT email FROM local_accounts WHERE person_id = $1",
                vec![person_id.into()],
            )
            .await?
        else {
            return Ok(None);
        };
        let email: String = get(&row, "email")?;
        self.local_account_by_email(&email).await
    }

    /// Claims one password attempt before the password is checked: `None` if the account is
    /// locked now. Otherwise the attempt is counted (a lock that ran out starts a new count) and
    /// the account locked until `now + lock_micros` from the `lock_after`-th attempt without a
    /// success ([`Self::reset_password_failures`] clears it). One atomic statement, so parallel
    /// guesses cannot get past the limit.
    pub async fn claim_password_attempt(
        &self,
        person_id: &str,
        lock_after: i32,
        now: i64,
        lock_micros: i64,
    ) -> Result<Option<i32>> {
        self.one(
            "UPDATE local_accounts SET \
             failed_attempts = CASE WHEN locked_until IS NOT NULL AND locked_until <= $4 \
               THEN 1 ELSE failed_attempts + 1 END, \
             locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= $4 THEN NULL \
               WHEN failed_attempts + 1 >= $1 THEN $2 ELSE locked_until END \
             WHERE person_id = $3 AND (locked_until IS NULL OR locked_until <= $4) \
             RETURNING failed_attempts",
            vec![
                lock_after.into(),
                (now + lock_micros).into(),
                person_id.into(),
                now.into(),
            ],
        )
        .await?
        .map(|r| get(&r, "failed_attempts"))
        .transpose()
    }

    pub async fn reset_password_failures(&self, person_id: &str) -> Result<()> {
        self.exec(
            "UPDATE local_accounts SET failed_attempts = 0, locked_until = NULL WHERE person_id = $1",
            vec![person_id.into()],
        )
        .await?;
        Ok(())
    }

    pub async fn mark_email_verified(&self, person_id: &str, now: i64) -> Result<()> {
        self.exec(
            "UPDATE local_accounts SET email_verified_at = $1 WHERE person_id = $2",
            vec![now.into(), person_id.into()],
        )
        .await?;
        Ok(())
    }

    pub async fn set_password(&self, person_id: &str, password_hash: &str) -> Result<()> {
        self.exec(
            "UPDATE local_accounts SET password_hash = $1, failed_attempts = 0, \
             locked_until = NULL WHERE person_id = $2",
            vec![password_hash.into(), person_id.into()],
        )
        .await?;
        Ok(())
    }

    /// Stores a one-time e-mail token (`verify` or `reset`), replacing older ones of that purpose.
    pub async fn create_account_token(
        &self,
        token_hash: &str,
        person_id: &str,
        purpose: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.exec(
            "DELETE FROM account_tokens WHERE person_id = $1 AND purpose = $2",
            vec![person_id.into(), purpose.into()],
        )
        .await?;
        self.exec(
            "INSERT INTO account_tokens (token_hash, person_id, purpose, expires_at) \
             VALUES ($1, $2, $3, $4)",
            vec![
                token_hash.into(),
                person_id.into(),
                purpose.into(),
                expires_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The person a token is for, without using it up (to check a form before spending it).
    pub async fn account_token(
        &self,
        token_hash: &str,
        purpose: &str,
        now: i64,
    ) -> Result<Option<String>> {
        self.one(
            "SELECT person_id FROM account_tokens WHERE token_hash = $1 AND purpose = $2 \
             AND expires_at > $3",
            vec![token_hash.into(), purpose.into(), now.into()],
        )
        .await?
        .map(|r| get(&r, "person_id"))
        .transpose()
    }

    /// Uses up a token: the person it was for, if it exists, has this purpose and is not expired.
    pub async fn take_account_token(
        &self,
        token_hash: &str,
        purpose: &str,
        now: i64,
    ) -> Result<Option<String>> {
        let row = self
            .one(
                "DELETE FROM account_tokens WHERE token_hash = $1 RETURNING person_id, purpose, \
                 expires_at",
                vec![token_hash.into()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let p: String = get(&row, "purpose")?;
        let exp: i64 = get(&row, "expires_at")?;
        (p == purpose && exp > now)
            .then(|| get(&row, "person_id"))
            .transpose()
    }

    // --- sessions -------------------------------------------------------------------------------

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

    /// Uses up a pending request (an answer is accepted once): `None` if unknown or expired.
    pub async fn take_auth_request(
        &self,
        request_id: &str,
        now: i64,
    ) -> Result<Option<AuthRequest>> {
        let row = self
            .one(
                "DELETE FROM auth_requests WHERE request_id = $1 RETURNING request_id, flow_hash, \
                 protocol, idp, level, nonce, pkce_verifier, created_at, expires_at",
                vec![request_id.into()],
            )
            .await?;
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
        rows.iter()
            .map(|r| {
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
            })
            .collect()
    }
}
