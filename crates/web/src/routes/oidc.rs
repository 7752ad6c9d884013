//! `/oidc/login` and `/oidc/callback` on the sign-in host.

use crate::auth::cookies::SessionCookies;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use sportello_domain::AssuranceLevel;
use sportello_store::identity::AuthRequest;
use sportello_store::now_micros;

use super::Ctx;
use super::signin::{after_idp_answer, complete, flow_cookie_name};
use crate::error::{AppError, AppResult};
use sportello_identity::citizen::{self};
use sportello_kernel::tokens;

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::LOGIN)
        .get("/oidc/login", login)
        .get("/oidc/callback", callback);
}

/// A pending request lives this long (seconds).
const REQUEST_SECONDS: i64 = 10 * 60;

#[derive(Deserialize)]
pub struct LoginQuery {
    provider: String,
}

fn redirect_uri(ctx: &Ctx) -> String {
    ctx.login_url("/oidc/callback")
}

/// The browser's sign-in flow (from its cookie), or a new one with no commune waiting.
pub(super) async fn flow_token(
    ctx: &Ctx,
    req: &HttpRequest,
) -> AppResult<(String, AssuranceLevel, Option<sportello_domain::TenantId>)> {
    let existing = req
        .cookie(flow_cookie_name(ctx))
        .map(|c| c.value().to_owned());
    if let Some(f) = citizen::flow(&ctx.state, existing.as_deref()).await?
        && let Some(t) = existing
    {
        let level = AssuranceLevel::parse(&f.level).unwrap_or(AssuranceLevel::Low);
        return Ok((t, level, super::signin::flow_commune(ctx, &f)));
    }
    let t = citizen::start_flow(&ctx.state, None, "/".into(), AssuranceLevel::Low, None).await?;
    ctx.set_cookie(ctx.state.sessions.cookie(flow_cookie_name(ctx), t.clone()));
    Ok((t, AssuranceLevel::Low, None))
}

async fn login(ctx: Ctx, req: HttpRequest, q: web::Query<LoginQuery>) -> HttpResponse {
    let r = async {
        ctx.on_login_host()?;
        let p = sportello_identity::idp::oidc_provider(&ctx.state, &ctx.state.oidc, &q.provider)
            .await?;
        let (flow, level, commune) = flow_token(&ctx, &req).await?;
        // A commune's own provider signs people in for that commune only.
        if let Some(scope) = sportello_identity::idp::provider_commune(&p.config.id)
            && commune != Some(scope)
        {
            return Err(AppError::Refused("idp_not_for_this_commune"));
        }
        let started = ctx
            .state
            .oidc
            .start(&p, &redirect_uri(&ctx), level)
            .await
            .map_err(|e| {
                AppError::Upstream(format!("The identity provider is not reachable: {e}"))
            })?;
        let now = now_micros();
        ctx.state
            .store
            .identity()
            .create_auth_request(&AuthRequest {
                request_id: tokens::hash(&started.state),
                flow_hash: tokens::hash(&flow),
                protocol: "oidc".into(),
                idp: p.config.id.clone(),
                level: level.key().into(),
                nonce: Some(started.nonce),
                pkce_verifier: Some(started.pkce_verifier),
                created_at: now,
                expires_at: now + REQUEST_SECONDS * 1_000_000,
            })
            .await?;
        Ok(started.url)
    }
    .await;
    match r {
        Ok(url) => ctx.see_other(&url),
        Err(e) => ctx.respond(Err(e)),
    }
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(ctx: Ctx, req: HttpRequest, q: web::Query<CallbackQuery>) -> HttpResponse {
    let r = callback_inner(&ctx, &req, &q).await;
    after_idp_answer(&ctx, r, "oidc", |e| e.to_string()).await
}

async fn callback_inner(ctx: &Ctx, req: &HttpRequest, q: &CallbackQuery) -> AppResult<String> {
    ctx.on_login_host()?;
    let state = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() < 200)
        .ok_or_else(|| AppError::BadRequest("state: missing".into()))?;
    let now = now_micros();
    // Read first: the `state` travels in URLs, so whoever learnt it must not be able to
    // cancel the sign-in from another browser.
    let pending = ctx
        .state
        .store
        .identity()
        .peek_auth_request(&tokens::hash(state), now)
        .await?
        .filter(|p| p.protocol == "oidc")
        .ok_or(AppError::Refused("sign_in_expired"))?;
    // The answer must come back to the browser that asked.
    let flow_cookie = req
        .cookie(flow_cookie_name(ctx))
        .map(|c| c.value().to_owned());
    let flow = citizen::flow(&ctx.state, flow_cookie.as_deref()).await?;
    match &flow {
        Some(f) if f.flow_hash == pending.flow_hash => {}
        _ => {
            return Err(AppError::Refused("sign_in_other_browser"));
        }
    }
    // The browser that asked: from here the request is used up whatever happens next (a state
    // works once).
    ctx.state
        .store
        .identity()
        .take_auth_request(&pending.request_id, now)
        .await?
        .ok_or(AppError::Refused("sign_in_expired"))?;
    if let Some(err) = &q.error {
        let what = q.error_description.clone().unwrap_or_else(|| err.clone());
        return Err(AppError::IdpSaidNo(what));
    }
    let code = q
        .code
        .as_deref()
        .ok_or_else(|| AppError::BadRequest("code: missing".into()))?;
    let p =
        sportello_identity::idp::oidc_provider(&ctx.state, &ctx.state.oidc, &pending.idp).await?;
    let requested = AssuranceLevel::parse(&pending.level).unwrap_or(AssuranceLevel::Low);
    let (who, level) = ctx
        .state
        .oidc
        .finish(
            &p,
            &redirect_uri(ctx),
            code,
            pending.nonce.as_deref().unwrap_or(""),
            pending.pkce_verifier.as_deref().unwrap_or(""),
            requested,
        )
        .await
        .map_err(AppError::SignInRefused)?;
    let scope = sportello_identity::idp::provider_commune(&p.config.id);
    if let Some(scope) = scope
        && flow
            .as_ref()
            .and_then(|f| super::signin::flow_commune(ctx, f))
            != Some(scope)
    {
        return Err(AppError::Refused("idp_not_for_this_commune"));
    }
    let person = citizen::person_from_idp(&ctx.state, &who, scope.is_none()).await?;
    complete(
        ctx,
        flow,
        &person,
        level,
        &format!("oidc:{}", p.config.id),
        scope,
    )
    .await
}
