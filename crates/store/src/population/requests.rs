//! Certificates asked online that wait for their stamp duty: what was asked, by whom, and
//! whether it was collected.

use crate::identity::get;
use crate::{Result, TenantDb};

/// A certificate asked, its duty to pay first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertificateRequest {
    pub id: String,
    /// The portal's person who asked, and their fiscal code.
    pub person_id: String,
    pub fiscal_code: String,
    pub kind: String,
    /// The fiscal code of the person it is about ("" for the requester).
    pub subject: String,
    pub at_date: String,
    pub purpose: String,
    pub created_at: i64,
    /// `to_pay`, `collecting`, `collected`.
    pub state: String,
    /// `year/number` once collected.
    pub certificate: Option<String>,
}

fn row(r: &sea_orm::QueryResult) -> Result<CertificateRequest> {
    Ok(CertificateRequest {
        id: get(r, "id")?,
        person_id: get(r, "person_id")?,
        fiscal_code: get(r, "fiscal_code")?,
        kind: get(r, "kind")?,
        subject: get(r, "subject")?,
        at_date: get(r, "at_date")?,
        purpose: get(r, "purpose")?,
        created_at: get(r, "created_at")?,
        state: get(r, "state")?,
        certificate: get(r, "certificate")?,
    })
}

const COLUMNS: &str =
    "id, person_id, fiscal_code, kind, subject, at_date, purpose, created_at, state, certificate";

impl TenantDb<'_> {
    /// Records a request; false: the same one waits for its duty already (asked at once twice).
    pub async fn add_certificate_request(&self, c: &CertificateRequest) -> Result<bool> {
        Ok(self.exec(
            &format!(
                "INSERT INTO certificate_requests (tenant_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL) \
                 ON CONFLICT (tenant_id, person_id, kind, subject, at_date, purpose) WHERE state = 'to_pay' DO NOTHING"
            ),
            vec![
                c.id.clone().into(),
                c.person_id.clone().into(),
                c.fiscal_code.clone().into(),
                c.kind.clone().into(),
                c.subject.clone().into(),
                c.at_date.clone().into(),
                c.purpose.clone().into(),
                c.created_at.into(),
                c.state.clone().into(),
            ],
        )
        .await?
            == 1)
    }

    /// A person's requests, newest first.
    pub async fn certificate_requests(
        &self,
        person_id: &str,
        limit: u64,
    ) -> Result<Vec<CertificateRequest>> {
        self.all(
            &format!(
                "SELECT {COLUMNS} FROM certificate_requests WHERE tenant_id = $1 AND person_id = $2 \
                 ORDER BY created_at DESC, id LIMIT {limit}"
            ),
            vec![person_id.into()],
        )
        .await?
        .iter()
        .map(row)
        .collect()
    }

    /// One of a person's requests.
    pub async fn certificate_request(
        &self,
        person_id: &str,
        id: &str,
    ) -> Result<Option<CertificateRequest>> {
        self.one(
            &format!(
                "SELECT {COLUMNS} FROM certificate_requests WHERE tenant_id = $1 AND person_id = $2 AND id = $3"
            ),
            vec![person_id.into(), id.into()],
        )
        .await?
        .as_ref()
        .map(row)
        .transpose()
    }

    /// Claims a request for collecting: from `to_pay`, or from a `collecting` claimed before
    /// `stale` (a collection that never ended); false: another is under way or it is done.
    pub async fn claim_certificate_request(&self, id: &str, now: i64, stale: i64) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE certificate_requests SET state = 'collecting', claimed_at = $3 \
                 WHERE tenant_id = $1 AND id = $2 AND (state = 'to_pay' \
                 OR (state = 'collecting' AND claimed_at < $4))",
                vec![id.into(), now.into(), stale.into()],
            )
            .await?
            == 1)
    }

    /// Ends the collection claimed at `token`: `to_pay` again, or `collected` with the
    /// certificate's number; false: another claim took it over since.
    pub async fn finish_certificate_request(
        &self,
        id: &str,
        token: i64,
        to: &str,
        certificate: Option<&str>,
    ) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE certificate_requests SET state = $3, certificate = $4 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'collecting' AND claimed_at = $5",
                vec![
                    id.into(),
                    to.into(),
                    certificate.map(str::to_owned).into(),
                    token.into(),
                ],
            )
            .await?
            == 1)
    }
}
