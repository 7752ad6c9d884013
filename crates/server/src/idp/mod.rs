//! The identity providers the federation trusts: SAML 2.0 (SPID/CIE style) and OpenID Connect.

pub mod oidc;

use serde_json::{Value, json};

use crate::AppState;

/// The sign-in page's buttons, one per provider.
pub fn buttons(state: &AppState) -> Vec<Value> {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut out = Vec::new();
    for p in &state.oidc.providers {
        out.push(json!({
            "name": p.config.name,
            "protocol": "OpenID Connect",
            "url": format!("/oidc/login?provider={}", enc(&p.config.id)),
        }));
    }
    out
}
