//! The identity providers the federation trusts: SAML 2.0 (SPID/CIE style) and OpenID Connect,
//! federation-wide, plus the OpenID Connect providers a commune adds for itself (their client
//! secrets stored encrypted).

pub mod certificates;
pub mod demo;
pub mod oidc;
pub mod saml;

use std::sync::Arc;

use serde_json::{Value, json};
use sportello_domain::TenantId;

use sportello_kernel::Deps;
use sportello_kernel::config::{OidcProvider, Secret};
use sportello_kernel::{Error, Result};

/// The extra certificate authorities of setting `tls_ca_bundle` (a PEM file; empty path: none).
pub fn extra_roots(path: &str) -> std::result::Result<Vec<reqwest::Certificate>, String> {
    if path.trim().is_empty() {
        return Ok(vec![]);
    }
    let pem = std::fs::read(path).map_err(|e| format!("tls_ca_bundle {path}: {e}"))?;
    let roots = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("tls_ca_bundle {path}: {e}"))?;
    if roots.is_empty() {
        return Err(format!("tls_ca_bundle {path}: no certificate in it"));
    }
    tracing::info!(
        path,
        certificates = roots.len(),
        "extra certificate authorities trusted for identity providers"
    );
    Ok(roots)
}

/// An HTTP client builder that also trusts `roots` (setting `tls_ca_bundle`).
pub(crate) fn trusting(
    b: reqwest::ClientBuilder,
    roots: &[reqwest::Certificate],
) -> reqwest::ClientBuilder {
    roots
        .iter()
        .fold(b, |b, r| b.add_root_certificate(r.clone()))
}

/// The id of a commune's own provider: `commune-<ISTAT number>-<id>`.
pub fn commune_provider_id(tenant: TenantId, id: &str) -> String {
    format!("commune-{}-{id}", tenant.0)
}

/// The commune a provider belongs to, for a commune's own provider (`None`: the federation's).
pub fn provider_commune(id: &str) -> Option<TenantId> {
    parse_commune_provider_id(id).map(|(t, _)| t)
}

fn parse_commune_provider_id(id: &str) -> Option<(TenantId, &str)> {
    let rest = id.strip_prefix("commune-")?;
    let (t, local) = rest.split_once('-')?;
    Some((TenantId(t.parse().ok()?), local))
}

/// A commune's own OIDC providers, decrypted (a secret that no longer decrypts is skipped and
/// logged: the commune's sign-in falls back to the federation's providers).
async fn commune_providers(
    deps: &Deps,
    oidc: &oidc::Oidc,
    tenant: TenantId,
) -> Result<Vec<Arc<oidc::Provider>>> {
    let tx = deps.store.tenant(tenant).await?;
    let idps = tx.db().commune_idps().await?;
    tx.commit().await?;
    let mut out = Vec::new();
    for i in idps.into_iter().filter(|i| i.protocol == "oidc") {
        let secret = match deps.secrets.open(&i.client_secret) {
            Ok(s) => String::from_utf8_lossy(&s).into_owned(),
            Err(e) => {
                tracing::error!(commune = tenant.0, idp = %i.id, error = %e, "commune IdP secret unreadable");
                continue;
            }
        };
        out.push(oidc.commune_provider(OidcProvider {
            id: commune_provider_id(tenant, &i.id),
            name: i.name,
            issuer: i.issuer,
            client_id: i.client_id,
            client_secret: Secret::new(secret),
        }));
    }
    Ok(out)
}

/// An OIDC provider by id: the federation's, or a commune's own.
pub async fn oidc_provider(
    deps: &Deps,
    oidc: &oidc::Oidc,
    id: &str,
) -> Result<Arc<oidc::Provider>> {
    if let Some(p) = oidc.provider(id) {
        return Ok(p.clone());
    }
    let (tenant, _) = parse_commune_provider_id(id).ok_or(Error::NotFound)?;
    commune_providers(deps, oidc, tenant)
        .await?
        .into_iter()
        .find(|p| p.config.id == id)
        .ok_or(Error::NotFound)
}

/// The sign-in page's buttons: the federation's providers, plus the commune's own when the
/// sign-in is for a commune.
pub async fn buttons(
    deps: &Deps,
    oidc: &oidc::Oidc,
    saml: Option<&saml::Saml>,
    commune: Option<TenantId>,
) -> Result<Vec<Value>> {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut out = Vec::new();
    let mut oidc_list: Vec<Arc<oidc::Provider>> = oidc.providers.clone();
    if let Some(t) = commune {
        oidc_list.extend(commune_providers(deps, oidc, t).await?);
    }
    if let Some(saml) = saml {
        for i in &saml.idps {
            out.push(json!({
                "name": i.name,
                "protocol": "SAML 2.0",
                "url": format!("/saml/login?idp={}", enc(&i.entity_id)),
            }));
        }
    }
    if deps.settings.demo {
        out.push(json!({
            "name": "Sportello Demo ID",
            "protocol": "demo",
            "url": "/demo/identita",
        }));
    }
    for p in oidc_list {
        out.push(json!({
            "name": p.config.name,
            "protocol": "OpenID Connect",
            "url": format!("/oidc/login?provider={}", enc(&p.config.id)),
        }));
    }
    Ok(out)
}

/// A commune's own OpenID Connect provider, as given by its administrator.
pub struct NewCommuneOidc<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
}

/// Adds or replaces a commune's own OpenID Connect provider; the client secret is stored
/// encrypted with the server's secret key.
pub async fn put_commune_oidc(
    store: &sportello_store::Store,
    secrets: &sportello_kernel::secretbox::SecretBox,
    tenant: TenantId,
    idp: NewCommuneOidc<'_>,
) -> std::result::Result<(), String> {
    let NewCommuneOidc {
        id,
        name,
        issuer,
        client_id,
        client_secret,
    } = idp;
    let slug = sportello_domain::Slug::parse(id).map_err(|e| format!("id: {e}"))?;
    url::Url::parse(issuer).map_err(|e| format!("issuer: {e}"))?;
    if client_id.trim().is_empty() || client_secret.is_empty() {
        return Err("client id and secret are required".into());
    }
    let sealed = secrets.seal(client_secret.as_bytes())?;
    let tx = store.tenant(tenant).await.map_err(|e| e.to_string())?;
    tx.db()
        .put_commune_idp(
            &sportello_store::staff::CommuneIdp {
                id: slug.as_str().to_owned(),
                name: name.trim().to_owned(),
                protocol: "oidc".into(),
                issuer: issuer.trim_end_matches('/').to_owned(),
                client_id: client_id.trim().to_owned(),
                client_secret: sealed,
            },
            sportello_store::now_micros(),
        )
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())
}
