//! Certificates issued (numbered per commune per year) and the commune's signing keys.

use crate::identity::get;
use crate::{Result, StoreError, TenantDb};

/// A signing key of the commune: P-256, its public key as SubjectPublicKeyInfo DER in base64,
/// the private key sealed with the server's secret.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SigningKey {
    pub kid: String,
    pub algorithm: String,
    pub public_key: String,
    #[serde(skip)]
    pub sealed_private: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// A certificate as recorded.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CertificateRow {
    pub year: i32,
    pub number: i64,
    pub kind: String,
    pub person_id: i64,
    pub at_date: Option<String>,
    pub issued_at: i64,
    pub expires_on: String,
    /// `person:<id>`, `staff:<id>`.
    pub requested_by: String,
    /// The person id of the requester, when a person (their list in the personal area).
    pub requested_by_person: Option<String>,
    /// For whom staff or an intermediary asked (the fiscal code).
    pub on_behalf_of: Option<String>,
    /// `online`, `desk`, `kiosk`, `intermediary`.
    pub channel: String,
    pub purpose: String,
    pub exemption: Option<String>,
    pub stamp_duty_cents: i64,
    pub language: String,
    pub kid: String,
    pub pdf_sha256: String,
}

const COLUMNS: &str = "year, number, kind, person_id, at_date, issued_at, expires_on, requested_by, requested_by_person, \
    on_behalf_of, channel, purpose, exemption, stamp_duty_cents, language, kid, pdf_sha256";

fn certificate(r: &sea_orm::QueryResult) -> Result<CertificateRow> {
    Ok(CertificateRow {
        year: get(r, "year")?,
        number: get(r, "number")?,
        kind: get(r, "kind")?,
        person_id: get(r, "person_id")?,
        at_date: get(r, "at_date")?,
        issued_at: get(r, "issued_at")?,
        expires_on: get(r, "expires_on")?,
        requested_by: get(r, "requested_by")?,
        requested_by_person: get(r, "requested_by_person")?,
        on_behalf_of: get(r, "on_behalf_of")?,
        channel: get(r, "channel")?,
        purpose: get(r, "purpose")?,
        exemption: get(r, "exemption")?,
        stamp_duty_cents: get(r, "stamp_duty_cents")?,
        language: get(r, "language")?,
        kid: get(r, "kid")?,
        pdf_sha256: get(r, "pdf_sha256")?,
    })
}

fn key(r: &sea_orm::QueryResult) -> Result<SigningKey> {
    Ok(SigningKey {
        kid: get(r, "kid")?,
        algorithm: get(r, "algorithm")?,
        public_key: get(r, "public_key")?,
        sealed_private: get(r, "sealed_private")?,
        created_at: get(r, "created_at")?,
        retired_at: get(r, "retired_at")?,
    })
}

impl TenantDb<'_> {
    /// The commune's signing keys, newest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKey>> {
        self.all(
            "SELECT kid, algorithm, public_key, sealed_private, created_at, retired_at FROM signing_keys \
             WHERE tenant_id = $1 ORDER BY created_at DESC, kid",
            vec![],
        )
        .await?
        .iter()
        .map(key)
        .collect()
    }

    /// Adds a key and retires every other one still active (rotation).
    pub async fn add_signing_key(&self, k: &SigningKey) -> Result<()> {
        self.exec(
            "UPDATE signing_keys SET retired_at = $2 WHERE tenant_id = $1 AND retired_at IS NULL",
            vec![k.created_at.into()],
        )
        .await?;
        self.exec(
            "INSERT INTO signing_keys (tenant_id, kid, algorithm, public_key, sealed_private, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                k.kid.clone().into(),
                k.algorithm.clone().into(),
                k.public_key.clone().into(),
                k.sealed_private.clone().into(),
                k.created_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// A signing key's X.509 certificate (PEM), if one was issued.
    pub async fn signing_key_certificate(&self, kid: &str) -> Result<Option<String>> {
        match self
            .one(
                "SELECT certificate FROM signing_keys WHERE tenant_id = $1 AND kid = $2",
                vec![kid.into()],
            )
            .await?
        {
            Some(r) => get(&r, "certificate"),
            None => Ok(None),
        }
    }

    /// Keeps a signing key's certificate (replacing one another CA issued).
    pub async fn set_signing_key_certificate(&self, kid: &str, pem: &str) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE signing_keys SET certificate = $3 WHERE tenant_id = $1 AND kid = $2",
                vec![kid.into(), pem.into()],
            )
            .await?
            == 1)
    }

    /// Records an issued certificate.
    pub async fn insert_certificate(&self, c: &CertificateRow) -> Result<()> {
        let n = self
            .exec(
                &format!(
                    "INSERT INTO certificates (tenant_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                     $11, $12, $13, $14, $15, $16, $17, $18)"
                ),
                vec![
                    c.year.into(),
                    c.number.into(),
                    c.kind.clone().into(),
                    c.person_id.into(),
                    c.at_date.clone().into(),
                    c.issued_at.into(),
                    c.expires_on.clone().into(),
                    c.requested_by.clone().into(),
                    c.requested_by_person.clone().into(),
                    c.on_behalf_of.clone().into(),
                    c.channel.clone().into(),
                    c.purpose.clone().into(),
                    c.exemption.clone().into(),
                    c.stamp_duty_cents.into(),
                    c.language.clone().into(),
                    c.kid.clone().into(),
                    c.pdf_sha256.clone().into(),
                ],
            )
            .await?;
        if n != 1 {
            return Err(StoreError::Corrupt("certificate not written".into()));
        }
        Ok(())
    }

    /// Writes a certificate's PDF hash (or `void`) once its PDF is made.
    pub async fn seal_certificate(&self, year: i32, number: i64, sha: &str) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE certificates SET pdf_sha256 = $4 WHERE tenant_id = $1 AND year = $2 AND number = $3 AND pdf_sha256 = ''",
                vec![year.into(), number.into(), sha.to_owned().into()],
            )
            .await?
            == 1)
    }

    pub async fn certificate(&self, year: i32, number: i64) -> Result<Option<CertificateRow>> {
        self.one(
            &format!("SELECT {COLUMNS} FROM certificates WHERE tenant_id = $1 AND year = $2 AND number = $3"),
            vec![year.into(), number.into()],
        )
        .await?
        .as_ref()
        .map(certificate)
        .transpose()
    }

    /// Certificates a person asked for (their personal area), newest first.
    pub async fn certificates_requested_by(
        &self,
        person: &str,
        limit: u64,
    ) -> Result<Vec<CertificateRow>> {
        self.all(
            &format!(
                "SELECT {COLUMNS} FROM certificates WHERE tenant_id = $1 AND requested_by_person = $2 \
                 ORDER BY issued_at DESC LIMIT $3"
            ),
            vec![person.to_owned().into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(certificate)
        .collect()
    }
}
