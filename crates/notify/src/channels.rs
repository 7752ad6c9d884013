//! A commune's channels: whether it pays for SMS and its gateway (endpoint, token, sender
//! alias, the secret its delivery reports carry). The token and the secret are sealed at rest
//! and never shown again: a blank field keeps the stored one.

use serde::{Deserialize, Serialize};
use sportello_kernel::input::optional;
use sportello_kernel::{Actor, Deps, Error, Problems, Result, Why};
use sportello_store::channels::SmsGatewayRow;

/// The gateway form.
#[derive(Debug, Default, Deserialize)]
pub struct GatewayForm {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub endpoint: String,
    /// Blank: keep the stored token.
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub sender: String,
    /// Blank: keep the stored secret.
    #[serde(default)]
    pub report_secret: String,
}

/// The gateway as the console shows it: the secrets only as "set".
#[derive(Debug, Clone, Default, Serialize)]
pub struct GatewayView {
    pub enabled: bool,
    pub endpoint: String,
    pub has_token: bool,
    pub sender: String,
    pub has_report_secret: bool,
}

pub async fn gateway(deps: &Deps, actor: &Actor) -> Result<GatewayView> {
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let g = tx.db().sms_gateway().await?;
    tx.commit().await?;
    Ok(GatewayView {
        enabled: g.enabled,
        endpoint: g.endpoint.unwrap_or_default(),
        has_token: g.token_sealed.is_some(),
        sender: g.sender.unwrap_or_default(),
        has_report_secret: g.report_secret_sealed.is_some(),
    })
}

/// An https address on the public internet (or, where the deployment allows private
/// gateways, any http(s) address).
fn endpoint(p: &mut Problems, raw: &str, private: bool) -> Option<reqwest::Url> {
    let raw = optional(raw)?;
    match reqwest::Url::parse(&raw) {
        Ok(u) if crate::sms::allowed(&u, private) => Some(u),
        _ => {
            p.add("endpoint", Why::AddressNeeded, "");
            None
        }
    }
}

/// Scheme, host and port: where a token goes.
fn origin(u: &str) -> Option<String> {
    reqwest::Url::parse(u)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}

/// The alphanumeric sender networks accept: 3 to 11 ASCII letters or digits.
fn sender(p: &mut Problems, raw: &str) -> Option<String> {
    let s = optional(raw)?;
    if !(3..=11).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        p.add("sender", Why::SenderInvalid, "");
    }
    Some(s)
}

pub async fn save_gateway(deps: &Deps, actor: &Actor, f: &GatewayForm) -> Result<()> {
    let c = actor.commune()?;
    let mut p = Problems::default();
    let endpoint = endpoint(&mut p, &f.endpoint, deps.settings.delivery.private_gateways)
        .map(|u| u.to_string());
    let sender = sender(&mut p, &f.sender);
    if f.enabled && f.endpoint.trim().is_empty() {
        p.add("endpoint", Why::Required, "");
    }
    // Every SMS shows a sender networks accept.
    if f.enabled && f.sender.trim().is_empty() {
        p.add("sender", Why::Required, "");
    }
    for (field, v) in [("token", &f.token), ("report_secret", &f.report_secret)] {
        if v.chars().count() > 500 {
            p.add(field, Why::TooLong, "500");
        }
    }
    // A report secret someone could guess proves nothing.
    if !f.report_secret.trim().is_empty() && f.report_secret.trim().chars().count() < 16 {
        p.add("report_secret", Why::SecretShort, "16");
    }
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    let old = db.sms_gateway().await?;
    // The stored token goes only where it went before: a new address needs it typed again.
    let moved = endpoint.as_deref().and_then(origin) != old.endpoint.as_deref().and_then(origin);
    if moved && endpoint.is_some() && old.token_sealed.is_some() && f.token.trim().is_empty() {
        p.add("token", Why::Required, "");
    }
    if !p.is_empty() {
        return Err(Error::Invalid(p));
    }
    let seal = |v: &str, old: Option<String>| -> Result<Option<String>> {
        match optional(v) {
            Some(v) => deps
                .secrets
                .seal(v.as_bytes())
                .map(Some)
                .map_err(Error::Internal),
            None => Ok(old),
        }
    };
    let row = SmsGatewayRow {
        enabled: f.enabled,
        endpoint,
        token_sealed: seal(&f.token, if moved { None } else { old.token_sealed })?,
        sender,
        report_secret_sealed: seal(&f.report_secret, old.report_secret_sealed)?,
    };
    db.set_sms_gateway(&row, sportello_store::now_micros())
        .await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "sms_gateway_changed",
        "settings:sms",
        serde_json::json!({"enabled": row.enabled, "endpoint": row.endpoint, "sender": row.sender}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the commune sends SMS (and so can prove a mobile number).
pub async fn sms_enabled(deps: &Deps, commune: sportello_domain::TenantId) -> Result<bool> {
    let tx = deps.store.tenant_read(commune).await?;
    let g = tx.db().sms_gateway().await?;
    tx.commit().await?;
    Ok(g.enabled && g.endpoint.is_some())
}
