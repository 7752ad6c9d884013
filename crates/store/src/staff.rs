//! What a commune keeps about people: the citizens who used its portal and its staff accounts
//! (operators, clerks, administrators; password + TOTP). Commune tables, so only through
//! [`TenantDb`].

use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, Value};
use sportello_domain::TenantId;

use crate::identity::{get, stmt};
use crate::{Result, TenantDb};

/// A staff account of one commune.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffAccount {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    /// The fiscal code of the person, when linked: signing in through an identity provider at
    /// level 2 or more then opens the console too.
    pub fiscal_code: Option<String>,
    pub password_hash: Option<String>,
    /// Encrypted TOTP secret.
    pub totp_secret: Option<String>,
    pub totp_confirmed: bool,
    /// The last TOTP time step accepted (a code is accepted once).
    pub totp_last_step: Option<i64>,
}

const COLS: &str = "id, email, display_name, role, fiscal_code, password_hash, totp_secret, \
     totp_confirmed_at, totp_last_step";

fn staff_of(r: &QueryResult) -> Result<StaffAccount> {
    Ok(StaffAccount {
        id: get(r, "id")?,
        email: get(r, "email")?,
        display_name: get(r, "display_name")?,
        role: get(r, "role")?,
        fiscal_code: get(r, "fiscal_code")?,
        password_hash: get(r, "password_hash")?,
        totp_secret: get(r, "totp_secret")?,
        totp_confirmed: get::<Option<i64>>(r, "totp_confirmed_at")?.is_some(),
        totp_last_step: get(r, "totp_last_step")?,
    })
}

/// An identity provider a commune offers on top of the federation's (OpenID Connect).
#[derive(Debug, Clone, PartialEq)]
pub struct CommuneIdp {
    pub id: String,
    pub name: String,
    pub protocol: String,
    pub issuer: String,
    pub client_id: String,
    /// Encrypted with the server's secret key.
    pub client_secret: String,
}

impl<'a> TenantDb<'a> {
    /// The commune's own identity providers.
    pub async fn commune_idps(&self) -> Result<Vec<CommuneIdp>> {
        let rows = self
            .conn()
            .query_all_raw(stmt(
                self.conn().get_database_backend(),
                "SELECT id, name, protocol, issuer, client_id, client_secret FROM commune_idps \
                 WHERE tenant_id = $1 ORDER BY name",
                vec![self.tenant().0.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CommuneIdp {
                    id: get(r, "id")?,
                    name: get(r, "name")?,
                    protocol: get(r, "protocol")?,
                    issuer: get(r, "issuer")?,
                    client_id: get(r, "client_id")?,
                    client_secret: get(r, "client_secret")?,
                })
            })
            .collect()
    }

    /// Removes one of the commune's identity providers; `false` if it had none by that id.
    pub async fn delete_commune_idp(&self, id: &str) -> Result<bool> {
        Ok(self
            .exec(
                "DELETE FROM commune_idps WHERE tenant_id = $1 AND id = $2",
                vec![id.into()],
            )
            .await?
            == 1)
    }

    /// Adds one of the commune's identity providers; `false` if one has that identifier already.
    pub async fn insert_commune_idp(&self, idp: &CommuneIdp, now: i64) -> Result<bool> {
        Ok(self
            .exec(
                "INSERT INTO commune_idps (tenant_id, id, name, protocol, issuer, client_id, \
                 client_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant_id, id) DO NOTHING",
                vec![
                    idp.id.clone().into(),
                    idp.name.clone().into(),
                    idp.protocol.clone().into(),
                    idp.issuer.clone().into(),
                    idp.client_id.clone().into(),
                    idp.client_secret.clone().into(),
                    now.into(),
                ],
            )
            .await?
            == 1)
    }

    /// Adds or replaces one of the commune's identity providers.
    pub async fn put_commune_idp(&self, idp: &CommuneIdp, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO commune_idps (tenant_id, id, name, protocol, issuer, client_id, \
             client_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, \
             protocol = excluded.protocol, issuer = excluded.issuer, \
             client_id = excluded.client_id, client_secret = excluded.client_secret",
            vec![
                idp.id.clone().into(),
                idp.name.clone().into(),
                idp.protocol.clone().into(),
                idp.issuer.clone().into(),
                idp.client_id.clone().into(),
                idp.client_secret.clone().into(),
                now.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Records that a person used this commune's portal (first and last time).
    pub async fn touch_citizen(&self, person_id: &str, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO citizens (tenant_id, person_id, first_seen_at, last_seen_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, person_id) \
             DO UPDATE SET last_seen_at = excluded.last_seen_at",
            vec![person_id.into(), now.into(), now.into()],
        )
        .await?;
        Ok(())
    }

    /// When the person first used this commune's portal.
    pub async fn citizen_since(&self, person_id: &str) -> Result<Option<i64>> {
        self.one(
            "SELECT first_seen_at FROM citizens WHERE tenant_id = $1 AND person_id = $2",
            vec![person_id.into()],
        )
        .await?
        .map(|r| get(&r, "first_seen_at"))
        .transpose()
    }

    /// The staff accounts of this commune (for the console).
    pub fn staff_db(&self) -> StaffDb<'a> {
        StaffDb {
            conn: self.conn(),
            tenant: self.tenant().0,
            accounts: "staff_accounts",
            tokens: "staff_tokens",
        }
    }
}

/// Whose staff: a commune's (on its host) or the federation's (on the apex host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Realm {
    Commune(TenantId),
    Federation,
}

impl Realm {
    pub fn commune(self) -> Option<TenantId> {
        match self {
            Realm::Commune(c) => Some(c),
            Realm::Federation => None,
        }
    }
}

/// A transaction on one realm's staff accounts (see [`crate::Store::staff`]).
pub struct StaffTx {
    pub(crate) txn: DatabaseTransaction,
    pub(crate) realm: Realm,
}

impl StaffTx {
    /// The commune's other tables in the same transaction (`None` for the federation realm).
    pub fn tenant_db(&self) -> Option<crate::TenantDb<'_>> {
        match self.realm {
            Realm::Commune(t) => Some(crate::TenantDb {
                conn: &self.txn,
                tenant: t,
            }),
            Realm::Federation => None,
        }
    }

    pub fn db(&self) -> StaffDb<'_> {
        match self.realm {
            Realm::Commune(t) => StaffDb {
                conn: &self.txn,
                tenant: t.0,
                accounts: "staff_accounts",
                tokens: "staff_tokens",
            },
            Realm::Federation => StaffDb {
                conn: &self.txn,
                tenant: 0,
                accounts: "federation_staff",
                tokens: "federation_staff_tokens",
            },
        }
    }

    pub async fn commit(self) -> Result<()> {
        self.txn.commit().await?;
        Ok(())
    }
}

/// Staff accounts of one realm. A commune's live in `staff_accounts` (row-level security); the
/// federation's in `federation_staff`, the same shape with `tenant_id` 0, so one set of queries
/// serves both (the table names are swapped in).
#[derive(Clone, Copy)]
pub struct StaffDb<'a> {
    conn: &'a DatabaseTransaction,
    tenant: i64,
    accounts: &'static str,
    tokens: &'static str,
}

impl StaffDb<'_> {
    fn sql(&self, sql: &str) -> String {
        sql.replace("staff_tokens", self.tokens)
            .replace("staff_accounts", self.accounts)
    }

    /// Raw SQL in this realm, its table names swapped in (`$1` is the realm's scope).
    fn raw(&self) -> crate::raw::Scoped<'_> {
        crate::raw::Scoped {
            conn: self.conn,
            scope: self.tenant,
        }
    }

    async fn exec(&self, sql: &str, values: Vec<Value>) -> Result<u64> {
        self.raw().exec(&self.sql(sql), values).await
    }

    async fn one(&self, sql: &str, values: Vec<Value>) -> Result<Option<QueryResult>> {
        self.raw().one(&self.sql(sql), values).await
    }

    async fn all(&self, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>> {
        self.raw().all(&self.sql(sql), values).await
    }

    /// Every account, by name.
    pub async fn list(&self) -> Result<Vec<StaffAccount>> {
        let sql = format!(
            "SELECT {COLS} FROM staff_accounts WHERE tenant_id = $1 ORDER BY display_name, email"
        );
        self.all(&sql, vec![]).await?.iter().map(staff_of).collect()
    }

    /// Removes an account and its tokens (its sessions are ended by the caller).
    pub async fn delete(&self, id: &str) -> Result<bool> {
        self.exec(
            "DELETE FROM staff_tokens WHERE tenant_id = $1 AND staff_id = $2",
            vec![id.into()],
        )
        .await?;
        Ok(self
            .exec(
                "DELETE FROM staff_accounts WHERE tenant_id = $1 AND id = $2",
                vec![id.into()],
            )
            .await?
            == 1)
    }

    /// A new staff account (no password yet: it is set from the invitation). `None` if the
    /// e-mail address already has an account in this commune.
    pub async fn create_staff_account(
        &self,
        email: &str,
        display_name: &str,
        role: &str,
        now: i64,
    ) -> Result<Option<String>> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let n = self
            .exec(
                "INSERT INTO staff_accounts (tenant_id, id, email, display_name, role, \
                 password_hash, totp_secret, totp_confirmed_at, totp_last_step, failed_attempts, \
                 locked_until, created_at) VALUES ($1, $2, $3, $4, $5, NULL, NULL, NULL, NULL, 0, \
                 NULL, $6) ON CONFLICT (tenant_id, email) DO NOTHING",
                vec![
                    id.clone().into(),
                    email.into(),
                    display_name.into(),
                    role.into(),
                    now.into(),
                ],
            )
            .await?;
        Ok((n == 1).then_some(id))
    }

    pub async fn staff_by_email(&self, email: &str) -> Result<Option<StaffAccount>> {
        let sql = format!("SELECT {COLS} FROM staff_accounts WHERE tenant_id = $1 AND email = $2");
        self.one(&sql, vec![email.into()])
            .await?
            .map(|r| staff_of(&r))
            .transpose()
    }

    pub async fn staff_by_id(&self, id: &str) -> Result<Option<StaffAccount>> {
        let sql = format!("SELECT {COLS} FROM staff_accounts WHERE tenant_id = $1 AND id = $2");
        self.one(&sql, vec![id.into()])
            .await?
            .map(|r| staff_of(&r))
            .transpose()
    }

    /// The staff account linked to this fiscal code.
    pub async fn staff_by_fiscal_code(&self, cf: &str) -> Result<Option<StaffAccount>> {
        let sql =
            format!("SELECT {COLS} FROM staff_accounts WHERE tenant_id = $1 AND fiscal_code = $2");
        self.one(&sql, vec![cf.into()])
            .await?
            .map(|r| staff_of(&r))
            .transpose()
    }

    /// Links a staff account to a person's fiscal code; `false` if another account of this
    /// commune has it.
    pub async fn set_staff_fiscal_code(&self, id: &str, cf: &str) -> Result<bool> {
        let n = self
            .exec(
                "UPDATE staff_accounts SET fiscal_code = $2 WHERE tenant_id = $1 AND id = $3 \
                 AND NOT EXISTS (SELECT 1 FROM staff_accounts o WHERE o.tenant_id = $1 \
                 AND o.fiscal_code = $2 AND o.id <> $3)",
                vec![cf.into(), id.into()],
            )
            .await?;
        Ok(n == 1)
    }

    pub async fn set_staff_password(&self, id: &str, hash: &str) -> Result<()> {
        self.exec(
            "UPDATE staff_accounts SET password_hash = $2, failed_attempts = 0, locked_until = NULL \
             WHERE tenant_id = $1 AND id = $3",
            vec![hash.into(), id.into()],
        )
        .await?;
        Ok(())
    }

    /// Stores a new (unconfirmed) TOTP secret, replacing any previous one.
    pub async fn set_staff_totp(&self, id: &str, secret_enc: &str) -> Result<()> {
        self.exec(
            "UPDATE staff_accounts SET totp_secret = $2, totp_confirmed_at = NULL, \
             totp_last_step = NULL WHERE tenant_id = $1 AND id = $3",
            vec![secret_enc.into(), id.into()],
        )
        .await?;
        Ok(())
    }

    /// Accepts TOTP time step `step` for this account unless it (or a later one) was used
    /// already; confirms the secret on first use. Returns whether it was accepted.
    pub async fn use_totp_step(&self, id: &str, step: i64, now: i64) -> Result<bool> {
        let n = self
            .exec(
                "UPDATE staff_accounts SET totp_last_step = $2, \
                 totp_confirmed_at = COALESCE(totp_confirmed_at, $3) WHERE tenant_id = $1 \
                 AND id = $4 AND (totp_last_step IS NULL OR totp_last_step < $5)",
                vec![step.into(), now.into(), id.into(), step.into()],
            )
            .await?;
        Ok(n == 1)
    }

    /// Claims one sign-in attempt (password or code) before it is checked: `false` if the
    /// account is locked now; otherwise counted, locking the account from the `lock_after`-th
    /// attempt without a success (see [`crate::identity::IdentityDb::claim_password_attempt`]).
    pub async fn claim_staff_attempt(
        &self,
        id: &str,
        lock_after: i32,
        now: i64,
        lock_micros: i64,
    ) -> Result<bool> {
        let n = self
            .exec(
                "UPDATE staff_accounts SET \
                 failed_attempts = CASE WHEN locked_until IS NOT NULL AND locked_until <= $5 \
                   THEN 1 ELSE failed_attempts + 1 END, \
                 locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= $5 THEN NULL \
                   WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END \
                 WHERE tenant_id = $1 AND id = $4 AND (locked_until IS NULL OR locked_until <= $5)",
                vec![
                    lock_after.into(),
                    (now + lock_micros).into(),
                    id.into(),
                    now.into(),
                ],
            )
            .await?;
        Ok(n == 1)
    }

    pub async fn reset_staff_failures(&self, id: &str) -> Result<()> {
        self.exec(
            "UPDATE staff_accounts SET failed_attempts = 0, locked_until = NULL \
             WHERE tenant_id = $1 AND id = $2",
            vec![id.into()],
        )
        .await?;
        Ok(())
    }

    /// Stores a one-time staff token (`invite`), replacing older ones of that purpose.
    pub async fn create_staff_token(
        &self,
        token_hash: &str,
        staff_id: &str,
        purpose: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.exec(
            "DELETE FROM staff_tokens WHERE tenant_id = $1 AND staff_id = $2 AND purpose = $3",
            vec![staff_id.into(), purpose.into()],
        )
        .await?;
        self.exec(
            "INSERT INTO staff_tokens (tenant_id, token_hash, staff_id, purpose, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                token_hash.into(),
                staff_id.into(),
                purpose.into(),
                expires_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The staff account a token is for, if it has this purpose and is not expired. The token
    /// stays until [`TenantDb::delete_staff_token`] (an invitation is used over two steps).
    pub async fn staff_token(
        &self,
        token_hash: &str,
        purpose: &str,
        now: i64,
    ) -> Result<Option<String>> {
        self.one(
            "SELECT staff_id FROM staff_tokens WHERE tenant_id = $1 AND token_hash = $2 \
             AND purpose = $3 AND expires_at > $4",
            vec![token_hash.into(), purpose.into(), now.into()],
        )
        .await?
        .map(|r| get(&r, "staff_id"))
        .transpose()
    }

    /// Replaces a person's tokens of one purpose with these (recovery codes: a set at a time).
    pub async fn replace_staff_tokens(
        &self,
        staff_id: &str,
        purpose: &str,
        token_hashes: &[String],
        expires_at: i64,
    ) -> Result<()> {
        self.exec(
            "DELETE FROM staff_tokens WHERE tenant_id = $1 AND staff_id = $2 AND purpose = $3",
            vec![staff_id.into(), purpose.into()],
        )
        .await?;
        for h in token_hashes {
            self.exec(
                "INSERT INTO staff_tokens (tenant_id, token_hash, staff_id, purpose, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                vec![
                    h.as_str().into(),
                    staff_id.into(),
                    purpose.into(),
                    expires_at.into(),
                ],
            )
            .await?;
        }
        Ok(())
    }

    /// Spends one token of this person and purpose: true once, false ever after (or for a
    /// token that is not theirs, or expired).
    pub async fn take_staff_token(
        &self,
        token_hash: &str,
        purpose: &str,
        staff_id: &str,
        now: i64,
    ) -> Result<bool> {
        let n = self
            .exec(
                "DELETE FROM staff_tokens WHERE tenant_id = $1 AND token_hash = $2 \
                 AND purpose = $3 AND staff_id = $4 AND expires_at > $5",
                vec![
                    token_hash.into(),
                    purpose.into(),
                    staff_id.into(),
                    now.into(),
                ],
            )
            .await?;
        Ok(n == 1)
    }

    /// How many tokens of this purpose a person has left.
    pub async fn staff_tokens_left(&self, staff_id: &str, purpose: &str, now: i64) -> Result<i64> {
        self.one(
            "SELECT COUNT(*) AS n FROM staff_tokens WHERE tenant_id = $1 AND staff_id = $2 \
             AND purpose = $3 AND expires_at > $4",
            vec![staff_id.into(), purpose.into(), now.into()],
        )
        .await?
        .map_or(Ok(0), |r| get(&r, "n"))
    }

    pub async fn delete_staff_token(&self, token_hash: &str) -> Result<()> {
        self.exec(
            "DELETE FROM staff_tokens WHERE tenant_id = $1 AND token_hash = $2",
            vec![token_hash.into()],
        )
        .await?;
        Ok(())
    }
}
