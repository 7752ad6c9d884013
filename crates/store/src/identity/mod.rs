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

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Value};
use serde::{Deserialize, Serialize};

use crate::{Result, StoreError};

mod accounts;
mod audit;
mod people;
mod sessions;
mod signin;

/// Federation-wide identity data. Obtain with [`crate::Store::identity`].
#[derive(Clone, Copy)]
pub struct IdentityDb<'a> {
    pub(crate) conn: &'a DatabaseConnection,
}

/// `$1, $2, …` placeholders as each database wants them.
pub(crate) use crate::raw::stmt;

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
}
