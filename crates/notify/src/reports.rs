//! Delivery reports from a commune's SMS gateway: `POST /sms/esiti` on the commune's host with
//! `Authorization: Bearer <the commune's report secret>` and `{"id": "<gateway id>", "status":
//! "delivered" | "failed", "reason": "…"}`. A wrong or missing secret changes nothing.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use sportello_domain::TenantId;
use sportello_kernel::{Deps, Error, Result};

#[derive(Debug, Deserialize)]
pub struct Report {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Equal secrets, compared in constant time (over their digests).
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Records a report; gives whether a message of this commune moved. The secret is checked
/// before anything is written (a flood of wrong ones takes no write lock); a status that is not
/// final yet ("sent", "buffered") is acknowledged and changes nothing.
pub async fn record(deps: &Deps, commune: TenantId, secret: &str, r: &Report) -> Result<bool> {
    let tx = deps.store.tenant_read(commune).await?;
    let g = tx.db().sms_gateway().await?;
    tx.commit().await?;
    let expected = match g.report_secret_sealed {
        Some(s) => String::from_utf8(deps.secrets.open(&s).map_err(Error::Internal)?)
            .map_err(|e| Error::Internal(e.to_string()))?,
        None => return Err(Error::Refused("sms_report_refused")),
    };
    if secret.is_empty() || !same(secret, &expected) {
        return Err(Error::Refused("sms_report_refused"));
    }
    let delivered = match r.status.as_str() {
        "delivered" => true,
        "failed" | "undeliverable" | "expired" | "rejected" => false,
        _ => return Ok(false),
    };
    let reason: Option<String> = r
        .reason
        .as_deref()
        .map(|s| s.chars().filter(|c| !c.is_control()).take(300).collect());
    let tx = deps.store.tenant(commune).await?;
    let moved = tx
        .db()
        .settle_by_provider_id(
            r.id.trim(),
            delivered,
            reason.as_deref(),
            sportello_store::now_micros(),
        )
        .await?;
    tx.commit().await?;
    Ok(moved)
}
