//! SMS through a commune's HTTP gateway. The adapter speaks what Italian SMS gateways speak: a
//! JSON POST with recipient, text and sender, answered with the gateway's id for the message;
//! delivery reports come back later on the commune's webhook (see [`crate::reports`]).
//!
//! Request: `POST <endpoint>`, `Authorization: Bearer <token>`, `Idempotency-Key: <message id>`,
//! body `{"to": "+39…", "text": "…", "sender": "…", "reference": "<message id>",
//! "parts": ["…", …]}` (the text in GSM characters, and the parts it is sent in, cut between
//! words). Answer: 2xx with `{"id": "…"}`. A 4xx answer (but 408 and 429) is permanent — a bad
//! number, a refused sender; anything else (5xx, 408, 429, no answer in time) is tried again.

use serde::Deserialize;
use sportello_domain::TenantId;
use sportello_kernel::mail::SendError;
use sportello_kernel::secretbox::SecretBox;
use sportello_store::Store;

/// A commune's gateway, its token opened.
#[derive(Debug, Clone)]
pub struct Gateway {
    pub endpoint: String,
    pub token: String,
    /// The sender alias the messages show ("ComunePisa"); empty: the text's own sender.
    pub sender: String,
}

/// The commune's gateway, if it has one and pays for SMS.
pub async fn load(
    store: &Store,
    secrets: &SecretBox,
    t: TenantId,
) -> Result<Option<Gateway>, String> {
    let tx = store.tenant(t).await.map_err(|e| e.to_string())?;
    let row = tx.db().sms_gateway().await.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    let (true, Some(endpoint)) = (row.enabled, row.endpoint) else {
        return Ok(None);
    };
    let token = match row.token_sealed {
        Some(s) => String::from_utf8(secrets.open(&s)?).map_err(|e| e.to_string())?,
        None => String::new(),
    };
    Ok(Some(Gateway {
        endpoint,
        token,
        sender: row.sender.unwrap_or_default(),
    }))
}

#[derive(Deserialize)]
struct Accepted {
    id: String,
}

/// Hands one SMS to the gateway; gives the gateway's id for it.
pub async fn send(
    http: &reqwest::Client,
    g: &Gateway,
    message_id: &str,
    to: &str,
    text: &str,
    sender: &str,
) -> Result<String, SendError> {
    let parts = sportello_domain::sms::parts(text);
    let alias = if g.sender.is_empty() {
        sender
    } else {
        &g.sender
    };
    let mut req = http
        .post(&g.endpoint)
        .header("Idempotency-Key", message_id)
        .json(&serde_json::json!({
            "to": to,
            "text": parts.join(" "),
            "sender": alias,
            "reference": message_id,
            "parts": parts,
        }));
    if !g.token.is_empty() {
        req = req.bearer_auth(&g.token);
    }
    let r = req
        .send()
        .await
        .map_err(|e| SendError::Temporary(format!("gateway: {e}")))?;
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    let said = || {
        let b: String = body.chars().take(200).collect();
        format!("gateway answered {}: {b}", status.as_u16())
    };
    if status.is_success() {
        serde_json::from_str::<Accepted>(&body)
            .map(|a| a.id)
            .map_err(|_| SendError::Temporary(said()))
    } else if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
        Err(SendError::Permanent(said()))
    } else {
        Err(SendError::Temporary(said()))
    }
}
