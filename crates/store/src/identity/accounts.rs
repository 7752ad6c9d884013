//! Local password accounts: creation, lookup, attempts and lockout, e-mail tokens.

use sea_orm::ConnectionTrait;

use super::*;
use crate::Result;

impl IdentityDb<'_> {
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
        let txn = crate::begin(self.conn).await?;
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
    /// When the person's latest token of this purpose expires, if they have one.
    pub async fn account_token_expiry(
        &self,
        person_id: &str,
        purpose: &str,
    ) -> Result<Option<i64>> {
        self.one(
            "SELECT MAX(expires_at) AS e FROM account_tokens WHERE person_id = $1 AND purpose = $2",
            vec![person_id.into(), purpose.into()],
        )
        .await?
        .map_or(Ok(None), |r| get(&r, "e"))
    }

    /// Drops the person's tokens of this purpose (a code guessed at too often).
    pub async fn delete_account_tokens(&self, person_id: &str, purpose: &str) -> Result<()> {
        self.exec(
            "DELETE FROM account_tokens WHERE person_id = $1 AND purpose = $2",
            vec![person_id.into(), purpose.into()],
        )
        .await?;
        Ok(())
    }

    /// [`IdentityDb::create_account_token`] and the message that carries the token, in one
    /// transaction: the message (in `tenant`'s outbox; 0 for the sign-in host) exists if and
    /// only if the token does.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_account_token_with_message(
        &self,
        token_hash: &str,
        person_id: &str,
        purpose: &str,
        expires_at: i64,
        tenant: sportello_domain::TenantId,
        message: &crate::outbox::NewMessage,
        now: i64,
    ) -> Result<()> {
        let txn = crate::begin(self.conn).await?;
        let b = self.backend();
        txn.execute_raw(stmt(
            b,
            "DELETE FROM account_tokens WHERE person_id = $1 AND purpose = $2",
            vec![person_id.into(), purpose.into()],
        ))
        .await?;
        txn.execute_raw(stmt(
            b,
            "INSERT INTO account_tokens (token_hash, person_id, purpose, expires_at) \
             VALUES ($1, $2, $3, $4)",
            vec![
                token_hash.into(),
                person_id.into(),
                purpose.into(),
                expires_at.into(),
            ],
        ))
        .await?;
        crate::TenantDb::enter(&txn, tenant)
            .await?
            .enqueue_message(message, now)
            .await?;
        txn.commit().await?;
        Ok(())
    }

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
}
