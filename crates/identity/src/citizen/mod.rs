//! The citizen side of identity: sign-in flows, the single sign-on session on the sign-in host,
//! its hand-off to commune hosts by one-time codes, the person behind an identity provider's
//! answer; local password accounts are in [`accounts`].

mod accounts;
pub mod contacts;

pub use accounts::{
    Registration, check_password, confirm_email, register, request_reset, reset_password,
};

use sportello_domain::{AssuranceLevel, TenantId};
use sportello_store::identity::{AuditEvent, LoginFlow, VerifiedIdentity};
use sportello_store::now_micros;

use sportello_kernel::Deps;
use sportello_kernel::session::{Current, Kind, NewSession};
use sportello_kernel::tokens;
use sportello_kernel::{Error, Result};

const MICROS: i64 = 1_000_000;
/// A hand-off code lives this long (seconds).
pub const HANDOFF_SECONDS: i64 = 60;
/// A sign-in in progress (the flow cookie) lives this long.
pub const FLOW_SECONDS: i64 = 15 * 60;
/// Five wrong passwords in a row lock an account for fifteen minutes.
pub const LOCK_AFTER: i32 = 5;
pub const LOCK_SECONDS: i64 = 15 * 60;

/// What a sign-in request came with, for the audit log.
#[derive(Clone, Default)]
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The longest detail kept in the sign-in audit log (characters): reasons are short, and what a
/// request carries must not fill the log.
pub const AUDIT_DETAIL_MAX: usize = 300;

pub async fn audit(deps: &Deps, mut e: AuditEvent) {
    if let Some(d) = &mut e.detail
        && d.chars().count() > AUDIT_DETAIL_MAX
    {
        *d = d.chars().take(AUDIT_DETAIL_MAX).chain(['…']).collect();
    }
    let idp = e.idp.as_deref().unwrap_or("");
    // Bounded label values: the kind of provider, not its id.
    let idp_kind = idp.split(':').next().unwrap_or("");
    deps.metrics
        .auth_events
        .with_label_values(&[e.event.as_str(), idp_kind])
        .inc();
    if let Err(err) = deps.store.identity().audit(&e).await {
        tracing::error!(error = %err, event = %e.event, "audit log write failed");
    }
}

/// A `next` path that stays on the host: starts with one `/`, no scheme, no control characters.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.len() <= 512
                && !n.chars().any(|c| c.is_control()) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Starts a sign-in on the sign-in host: returns the flow token for the cookie.
pub async fn start_flow(
    deps: &Deps,
    target_host: Option<String>,
    next: String,
    level: AssuranceLevel,
    state_hash: Option<String>,
) -> Result<String> {
    let token = tokens::new_token();
    let now = now_micros();
    deps.store
        .identity()
        .create_flow(
            &LoginFlow {
                flow_hash: tokens::hash(&token),
                target_host,
                next_path: next,
                state_hash,
                level: level.key().into(),
                expires_at: now + FLOW_SECONDS * MICROS,
            },
            now,
        )
        .await?;
    Ok(token)
}

pub async fn flow(deps: &Deps, token: Option<&str>) -> Result<Option<LoginFlow>> {
    match token {
        Some(t) if !t.is_empty() && t.len() < 100 => Ok(deps
            .store
            .identity()
            .flow(&tokens::hash(t), now_micros())
            .await?),
        _ => Ok(None),
    }
}

/// Opens a new single sign-on session (always a new id: sign-in and level change rotate it) and
/// ends the previous one of this browser with every commune session it handed out.
pub async fn open_sso(
    deps: &Deps,
    person_id: &str,
    level: AssuranceLevel,
    idp: &str,
    previous: Option<&Current>,
    client: &Client,
    scope: Option<TenantId>,
) -> Result<String> {
    if let Some(prev) = previous {
        deps.sessions.end_sso(&deps.store, &prev.token_hash).await?;
    }
    let token = deps
        .sessions
        .create(
            &deps.store,
            NewSession {
                kind: Kind::Sso,
                sso_hash: None,
                // A sign-in through a commune's own provider counts for that commune only.
                commune: scope,
                person_id: Some(person_id),
                staff_id: None,
                level,
                idp,
                mfa: false,
                user_agent: client.user_agent.clone(),
                not_after: None,
            },
        )
        .await?;
    audit(
        deps,
        AuditEvent {
            at: now_micros(),
            event: "sign_in".into(),
            person_id: Some(person_id.into()),
            idp: Some(idp.into()),
            level: Some(level.key().into()),
            ip: client.ip.clone(),
            ..Default::default()
        },
    )
    .await;
    Ok(token)
}

/// Where a fiscal code says its holder was born: a commune of the ISTAT list (by cadastral
/// code), abroad (`Z…` codes), or a code the current list does not have (a commune merged or
/// renamed since: the person is real, so this is recorded, not refused).
pub fn birthplace(cf: &sportello_domain::FiscalCode) -> (String, bool) {
    let code = cf.birthplace();
    if code.starts_with('Z') {
        return (format!("estero ({code})"), true);
    }
    match sportello_store::istat::by_cadastral_code(&code) {
        Some(r) => (format!("{} ({})", r.name_it, r.province_code), true),
        None => (code, false),
    }
}

/// The person an identity provider vouched for, created or refreshed. The fiscal code was
/// parsed (check character, omocodia folded) by the caller; its birthplace is looked up here.
///
/// `federation_wide`: the provider is one the whole federation trusts, so it may refresh the
/// person's profile; a commune's own provider only creates people it has not seen.
pub async fn person_from_idp(
    deps: &Deps,
    who: &VerifiedIdentity,
    federation_wide: bool,
) -> Result<String> {
    let cf = sportello_domain::FiscalCode::parse(&who.fiscal_code)
        .map_err(|e| Error::SignInRefused(format!("fiscal code: {e}")))?;
    let (place, known) = birthplace(&cf);
    let mut who = who.clone();
    who.place_of_birth = Some(place.clone());
    let person = if federation_wide {
        deps.store
            .identity()
            .person_from_idp(&who, now_micros())
            .await?
    } else {
        deps.store
            .identity()
            .person_from_local_idp(&who, now_micros())
            .await?
    };
    if !known {
        tracing::warn!(birthplace = %place, "fiscal code's birthplace is not in the ISTAT list");
        audit(
            deps,
            AuditEvent {
                at: now_micros(),
                event: "birthplace_unknown".into(),
                person_id: Some(person.id.clone()),
                detail: Some(place),
                ..Default::default()
            },
        )
        .await;
    }
    Ok(person.id)
}

/// A one-time code that signs the SSO session's person in on `target_host`.
pub async fn issue_handoff(
    deps: &Deps,
    sso_hash: &str,
    target_host: &str,
    next: &str,
    state_hash: &str,
) -> Result<String> {
    let code = tokens::new_token();
    deps.store
        .identity()
        .create_handoff(
            &tokens::hash(&code),
            sso_hash,
            target_host,
            next,
            state_hash,
            now_micros() + HANDOFF_SECONDS * MICROS,
        )
        .await?;
    Ok(code)
}

/// Uses a hand-off code on a commune host: a new citizen session (token) and where to go. The
/// code must come back to the browser that asked for it (`browser_state`: its hand-off cookie),
/// so nobody can push their own sign-in into someone else's browser.
pub async fn redeem_handoff(
    deps: &Deps,
    code: &str,
    host: &str,
    commune: TenantId,
    previous: Option<&Current>,
    client: &Client,
    browser_state: Option<&str>,
) -> Result<(String, String)> {
    let refused = || Error::Refused("handoff_expired");
    if code.is_empty() || code.len() > 100 {
        return Err(refused());
    }
    let state_hash = tokens::hash(
        browser_state
            .filter(|s| !s.is_empty())
            .ok_or_else(refused)?,
    );
    let now = now_micros();
    let Some((sso_hash, next)) = deps
        .store
        .identity()
        .take_handoff(&tokens::hash(code), host, &state_hash, now)
        .await?
    else {
        return Err(refused());
    };
    let Some(sso) = deps.store.identity().session(&sso_hash).await? else {
        return Err(refused());
    };
    if sso.kind != "sso" || sso.expires_at <= now {
        return Err(refused());
    }
    let level = AssuranceLevel::parse(&sso.level)
        .map_err(|e| Error::Upstream(format!("stored level: {e}")))?;
    let person_id = sso.person_id.clone().ok_or_else(refused)?;
    if let Some(prev) = previous {
        deps.sessions.end(&deps.store, &prev.token_hash).await?;
    }
    let token = deps
        .sessions
        .create(
            &deps.store,
            NewSession {
                kind: Kind::Citizen,
                sso_hash: Some(sso_hash),
                commune: Some(commune),
                person_id: Some(&person_id),
                staff_id: None,
                level,
                idp: &sso.idp,
                mfa: false,
                user_agent: client.user_agent.clone(),
                not_after: Some(sso.expires_at),
            },
        )
        .await?;
    let tx = deps.store.tenant(commune).await?;
    tx.db().touch_citizen(&person_id, now).await?;
    tx.commit().await?;
    audit(
        deps,
        AuditEvent {
            at: now,
            event: "handoff".into(),
            person_id: Some(person_id),
            commune_id: Some(commune.0),
            idp: Some(sso.idp),
            level: Some(level.key().into()),
            ip: client.ip.clone(),
            ..Default::default()
        },
    )
    .await;
    Ok((token, next))
}

#[cfg(test)]
#[path = "../tests/citizen.rs"]
mod tests;
