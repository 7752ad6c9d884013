//! SMS through a commune's HTTP gateway. The adapter speaks what Italian SMS gateways speak: a
//! JSON POST with recipient, text and sender, answered with the gateway's id for the message;
//! delivery reports come back later on the commune's webhook (see [`crate::reports`]).
//!
//! Request: `POST <endpoint>`, `Authorization: Bearer <token>`, `Idempotency-Key: <message id>`,
//! body `{"to": "+39…", "text": "…", "sender": "…", "reference": "<message id>",
//! "parts": ["…", …]}` (the text in GSM characters, and the parts it is sent in, cut between
//! words). Answer: 2xx with `{"id": "…"}`. A 4xx answer (but 408 and 429) is permanent — a bad
//! number, a refused sender; anything else (5xx, 408, 429, no answer in time) is tried again.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use sportello_domain::TenantId;
use sportello_kernel::config::Delivery;
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
    let tx = store.tenant_read(t).await.map_err(|e| e.to_string())?;
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

/// Whether an address is on the public internet (not loopback, private, link-local, shared,
/// documentation, multicast or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_documentation()
                || a.is_multicast()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 198 && (o[1] & 0xfe) == 18))
        }
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let s = a.segments();
                // Loopback, ULA, link- and site-local, NAT64, 6to4, IPv4-compatible: none is a
                // public gateway's address.
                !(a.is_loopback()
                    || a.is_unspecified()
                    || a.is_multicast()
                    || (s[0] & 0xfe00) == 0xfc00
                    || (s[0] & 0xffc0) == 0xfe80
                    || (s[0] & 0xffc0) == 0xfec0
                    || (s[0] == 0x64 && s[1] == 0xff9b)
                    || s[0] == 0x2002
                    || s[..6].iter().all(|x| *x == 0))
            }
        },
    }
}

/// Resolves names to their public addresses only: a gateway's name cannot lead the node into
/// its own network.
pub(crate) struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if public.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// The client the workers call gateways with: no redirects (a gateway answers, it does not
/// send the node elsewhere) and, unless `private_gateways`, public addresses only.
pub fn client(cfg: &Delivery) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .timeout(Duration::from_millis(cfg.timeout_ms.max(100)))
        .pool_max_idle_per_host(cfg.concurrency.max(1))
        .redirect(reqwest::redirect::Policy::none());
    if !cfg.private_gateways {
        b = b.dns_resolver(Arc::new(PublicOnly));
    }
    b.build().map_err(|e| format!("SMS client: {e}"))
}

/// Whether a gateway address may be called: https to a public host, or anything on a private
/// network where the deployment allows it.
pub fn allowed(url: &reqwest::Url, private_gateways: bool) -> bool {
    let host_ok = match url.host() {
        Some(url::Host::Ipv4(a)) => private_gateways || is_public(IpAddr::V4(a)),
        Some(url::Host::Ipv6(a)) => private_gateways || is_public(IpAddr::V6(a)),
        Some(url::Host::Domain(d)) => {
            private_gateways || !(d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost"))
        }
        None => false,
    };
    host_ok
        && url.username().is_empty()
        && url.password().is_none()
        && (url.scheme() == "https" || (private_gateways && url.scheme() == "http"))
}

/// What a gateway said, in a few words: its JSON `error` or `message`, else only the status
/// (never a page's body: it could be anything the gateway's address leads to).
fn said(status: reqwest::StatusCode, body: &str) -> String {
    let words = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            ["error", "message"]
                .iter()
                .find_map(|k| v[*k].as_str().map(str::to_owned))
        })
        .map(|w| {
            w.chars()
                .filter(|c| !c.is_control())
                .take(120)
                .collect::<String>()
        });
    match words {
        Some(w) => format!("gateway answered {}: {w}", status.as_u16()),
        None => format!("gateway answered {}", status.as_u16()),
    }
}

/// Hands one SMS to the gateway; gives the gateway's id for it.
pub async fn send(
    http: &reqwest::Client,
    g: &Gateway,
    message_id: &str,
    to: &str,
    text: &str,
    sender: &str,
    private: bool,
) -> Result<String, SendError> {
    let parts = sportello_domain::sms::parts(text);
    let alias = if g.sender.is_empty() {
        sender
    } else {
        &g.sender
    };
    let url = reqwest::Url::parse(&g.endpoint)
        .map_err(|_| SendError::Temporary("the gateway's address is not valid".into()))?;
    if !allowed(&url, private) {
        return Err(SendError::Temporary(
            "the gateway's address is not allowed here".into(),
        ));
    }
    let mut req = http
        .post(url)
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
        .map_err(|e| SendError::Temporary(format!("gateway: {}", without_url(e))))?;
    let status = r.status();
    let body = capped_body(r).await;
    let code = status.as_u16();
    if status.is_success() {
        // The gateway's id as something the database and a report can hold: printable ASCII.
        serde_json::from_str::<Accepted>(&body)
            .ok()
            .map(|a| a.id)
            .filter(|id| {
                !id.is_empty() && id.len() <= 200 && id.bytes().all(|b| b.is_ascii_graphic())
            })
            .ok_or_else(|| SendError::Temporary(said(status, "")))
    } else if status.is_client_error() && !matches!(code, 401 | 403 | 408 | 429) {
        // The message itself is refused (a number that does not exist, a text it will not
        // take). Credentials refused are the commune's to fix: tried again later.
        Err(SendError::Permanent(said(status, &body)))
    } else {
        Err(SendError::Temporary(said(status, &body)))
    }
}

/// The answer's body, at most 64 KiB of it (a gateway answers in a few words).
async fn capped_body(mut r: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = r.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > 64 * 1024 {
            body.truncate(64 * 1024);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// A request error without the URL (it may carry a token in its query).
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}
