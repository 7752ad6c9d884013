//! The shared sign-in host: choose how to sign in, password accounts (register, confirm, reset),
//! and the hand-off back to the commune the citizen came from.

use crate::auth::cookies::SessionCookies;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use sportello_domain::{AssuranceLevel, Host, TenantId};
use sportello_store::identity::LoginFlow;

use super::{Ctx, Posted};
use crate::error::{AppError, AppResult};
use crate::tenancy::Resolution;
use sportello_identity::citizen::{self, Client};
use sportello_kernel::session::Kind;

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::LOGIN)
        .get("/autorizza", authorize)
        .post("/password", password_sign_in);
}

pub(crate) fn flow_cookie_name(ctx: &Ctx) -> &'static str {
    if ctx.state.sessions.secure_cookies {
        "__Host-sportello_flow"
    } else {
        "sportello_flow"
    }
}

pub(crate) fn client(ctx: &Ctx) -> Client {
    Client {
        ip: ctx.ip.map(|i| i.to_string()),
        user_agent: ctx.user_agent.clone(),
    }
}

#[derive(Deserialize)]
pub struct AuthorizeQuery {
    host: String,
    next: Option<String>,
    level: Option<String>,
    /// The commune's hand-off state (also in a cookie on the commune's host): the code comes back
    /// only to that browser.
    state: String,
}

/// `/autorizza?host=<commune host>&next=<path>&level=<level>`: hands an existing sign-in over to
/// the commune (no prompt), or starts a sign-in that will.
async fn authorize(ctx: Ctx, q: web::Query<AuthorizeQuery>) -> HttpResponse {
    let r = authorize_inner(&ctx, &q).await;
    match r {
        Ok(location) => ctx.see_other(&location),
        Err(e) => ctx.respond(Err(e)),
    }
}

async fn authorize_inner(ctx: &Ctx, q: &AuthorizeQuery) -> AppResult<String> {
    ctx.on_login_host()?;
    let (host, tenant) = commune_host(ctx, &q.host)?;
    if q.state.len() < 20 || q.state.len() > 100 {
        return Err(AppError::BadRequest("state: missing or malformed".into()));
    }
    let state_hash = sportello_kernel::tokens::hash(&q.state);
    let level = match q.level.as_deref() {
        None | Some("") => AssuranceLevel::Low,
        Some(l) => AssuranceLevel::parse(l).map_err(|e| AppError::BadRequest(e.to_string()))?,
    }
    .max(AssuranceLevel::Low);
    let next = citizen::safe_next(q.next.as_deref());
    if let Some(sso) = ctx.user.as_ref().filter(|u| u.kind == Kind::Sso)
        && sso.level >= level
        && serves(sso, tenant)
    {
        let code =
            citizen::issue_handoff(&ctx.state, &sso.token_hash, &host, &next, &state_hash).await?;
        return Ok(handoff_url(ctx, &host, &code));
    }
    let token = citizen::start_flow(&ctx.state, Some(host), next, level, Some(state_hash)).await?;
    ctx.set_cookie(ctx.state.sessions.cookie(flow_cookie_name(ctx), token));
    Ok("/".into())
}

/// Whether a single sign-on session may be handed to this commune: any commune, unless it came
/// from a commune's own identity provider (then that commune only).
pub(crate) fn serves(sso: &sportello_kernel::session::Current, commune: TenantId) -> bool {
    sso.commune.is_none_or(|c| c == commune)
}

/// The commune a flow is for, from the registry.
pub(crate) fn flow_commune(ctx: &Ctx, flow: &LoginFlow) -> Option<TenantId> {
    let host = flow.target_host.as_deref()?;
    commune_host(ctx, host).ok().map(|(_, t)| t)
}

/// A commune's primary host from the registry: the only places a hand-off may go.
fn commune_host(ctx: &Ctx, raw: &str) -> AppResult<(String, TenantId)> {
    let bad = || AppError::BadRequest("host: not a commune of this federation".into());
    let h = Host::parse(raw).map_err(|_| bad())?;
    match ctx
        .state
        .tenancy
        .snapshot()
        .resolve(&h, &ctx.state.tenancy.apex)
    {
        Resolution::Commune(c) => Ok((c.record.primary_host.clone(), c.id())),
        _ => Err(bad()),
    }
}

fn handoff_url(ctx: &Ctx, host: &str, code: &str) -> String {
    format!("{}/accedi/ritorno?code={code}", ctx.origin.url_for(host))
}

/// The end of an identity provider's answer: any refusal goes to the audit log as
/// `sign_in_rejected` with the provider and why; then the browser goes on, or sees the refusal.
pub(crate) async fn after_idp_answer(
    ctx: &Ctx,
    result: AppResult<String>,
    idp: &str,
    detail: impl FnOnce(&AppError) -> String,
) -> HttpResponse {
    // Every refusal, at every step, with its real reason (a missing `state`, another browser,
    // an expired request, a provider that said no or could not be reached). Not a path that is
    // not there (a probe on another host, a provider not configured): nothing was refused.
    if let Err(e) = &result
        && !matches!(
            e,
            AppError::NotFound | AppError::NeedsCommune | AppError::MethodNotAllowed(_)
        )
    {
        citizen::audit(
            &ctx.state,
            sportello_store::identity::AuditEvent {
                at: sportello_store::now_micros(),
                event: "sign_in_rejected".into(),
                idp: Some(idp.into()),
                ip: ctx.ip.map(|i| i.to_string()),
                detail: Some(detail(e)),
                ..Default::default()
            },
        )
        .await;
    }
    match result {
        Ok(to) => ctx.see_other(&to),
        Err(e) => ctx.respond(Err(e)),
    }
}

/// Finishes a sign-in (any method): a new SSO session, then back to the commune if the sign-in
/// started there.
pub(crate) async fn complete(
    ctx: &Ctx,
    flow: Option<LoginFlow>,
    person_id: &str,
    level: AssuranceLevel,
    idp: &str,
    scope: Option<TenantId>,
) -> AppResult<String> {
    Ok(complete_with(ctx, flow, person_id, level, idp, scope)
        .await?
        .0)
}

/// [`complete`], also giving the new SSO session's hash.
pub(crate) async fn complete_with(
    ctx: &Ctx,
    flow: Option<LoginFlow>,
    person_id: &str,
    level: AssuranceLevel,
    idp: &str,
    scope: Option<TenantId>,
) -> AppResult<(String, String)> {
    let previous = ctx.user.as_ref().filter(|u| u.kind == Kind::Sso);
    let token = citizen::open_sso(
        &ctx.state,
        person_id,
        level,
        idp,
        previous.map(|p| p.as_ref()),
        &client(ctx),
        scope,
    )
    .await?;
    let sso_hash = sportello_kernel::tokens::hash(&token);
    ctx.set_cookie(
        ctx.state
            .sessions
            .cookie(ctx.state.sessions.cookie_name(Kind::Sso), token),
    );
    let Some(flow) = flow else {
        return Ok(("/".into(), sso_hash));
    };
    ctx.state
        .store
        .identity()
        .delete_flow(&flow.flow_hash)
        .await?;
    ctx.set_cookie(ctx.state.sessions.removal(flow_cookie_name(ctx)));
    match (flow.target_host, flow.state_hash) {
        (Some(host), Some(state_hash)) => {
            let code =
                citizen::issue_handoff(&ctx.state, &sso_hash, &host, &flow.next_path, &state_hash)
                    .await?;
            Ok((handoff_url(ctx, &host, &code), sso_hash))
        }
        _ => Ok(("/".into(), sso_hash)),
    }
}

/// The sign-in page (the sign-in host's `/`).
pub(crate) async fn page(ctx: &Ctx, req: &HttpRequest) -> HttpResponse {
    let flow_token = req
        .cookie(flow_cookie_name(ctx))
        .map(|c| c.value().to_owned());
    let r: AppResult<HttpResponse> = async {
        let flow = citizen::flow(&ctx.state, flow_token.as_deref()).await?;
        let sso = ctx.user.as_ref().filter(|u| u.kind == Kind::Sso);
        let needed = flow
            .as_ref()
            .and_then(|f| AssuranceLevel::parse(&f.level).ok())
            .unwrap_or(AssuranceLevel::Low);
        // Signed in well enough already and a commune waiting: hand over.
        if let (Some(s), Some(f)) = (sso, &flow)
            && s.level >= needed
            && let (Some(host), Some(state_hash)) = (&f.target_host, &f.state_hash)
            && flow_commune(ctx, f).is_some_and(|t| serves(s, t))
        {
            let code =
                citizen::issue_handoff(&ctx.state, &s.token_hash, host, &f.next_path, state_hash)
                    .await?;
            ctx.state.store.identity().delete_flow(&f.flow_hash).await?;
            ctx.set_cookie(ctx.state.sessions.removal(flow_cookie_name(ctx)));
            return Ok(see_other_raw(&handoff_url(ctx, host, &code)));
        }
        Ok(signin_page(ctx, flow.as_ref(), None, "", 200).await)
    }
    .await;
    ctx.respond(r)
}

fn see_other_raw(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Renders the sign-in page (with an error and the e-mail typed, after a failed attempt).
async fn signin_page(
    ctx: &Ctx,
    flow: Option<&LoginFlow>,
    error: Option<String>,
    email: &str,
    status: u16,
) -> HttpResponse {
    let needed = flow
        .and_then(|f| AssuranceLevel::parse(&f.level).ok())
        .unwrap_or(AssuranceLevel::Low);
    let target = flow.and_then(|f| f.target_host.as_deref()).and_then(|h| {
        let reg = ctx.state.tenancy.snapshot();
        Host::parse(h)
            .ok()
            .and_then(|h| match reg.resolve(&h, &ctx.state.tenancy.apex) {
                Resolution::Commune(c) => Some((c.record.name.clone(), c.id())),
                _ => None,
            })
    });
    // A sign-in through another commune's own provider does not count here.
    let sso = ctx
        .user
        .as_ref()
        .filter(|u| u.kind == Kind::Sso)
        .filter(|s| {
            flow.and_then(|f| flow_commune(ctx, f))
                .is_none_or(|t| serves(s, t))
        });
    let providers = match sportello_identity::idp::buttons(
        &ctx.state,
        &ctx.state.oidc,
        ctx.state.saml.as_deref(),
        target.as_ref().map(|t| t.1),
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return ctx.respond(Err(e.into())),
    };
    let back = match sso {
        Some(s) => way_back(ctx, target.as_ref().map(|t| t.1), s).await,
        None => serde_json::Value::Null,
    };
    // Signed in, no commune waiting: the person's cases in every commune, each linking to it.
    let everywhere = match (sso.and_then(|s| s.person.as_ref()), &target) {
        (Some(p), None) => {
            match sportello_cases::follow::everywhere(&ctx.state, &p.id, ctx.lang).await {
                Ok(list) => list
                    .into_iter()
                    .map(|c| {
                        let base = ctx.origin.url_for(&c.host);
                        let cases: Vec<_> = c
                            .cases
                            .iter()
                            .map(|x| json!({"id": x.id, "protocol": x.protocol, "service_title": x.service_title,
                                            "status": ctx.label_or_code("case_status_", &x.status)}))
                            .collect();
                        json!({"commune": c.commune, "base": base, "cases": cases})
                    })
                    .collect::<Vec<_>>(),
                Err(e) => return ctx.respond(Err(e.into())),
            }
        }
        _ => vec![],
    };
    let target = target.map(|t| t.0);
    let extra = json!({
        "everywhere": everywhere,
        "back": back,
        "target": target,
        "needed_level": needed.number(),
        "needed_label": needed.label(ctx.lang),
        "step_up": sso.is_some_and(|s| s.level < needed),
        "signed_in": sso.map(|s| json!({"name": s.display_name(), "level": s.level.number(), "idp": s.idp})),
        "password_allowed": needed <= AssuranceLevel::Low,
        "providers": providers,
        "error": error,
        "email": email,
        "csrf": ctx.csrf_token(),
    });
    let mut res = ctx.page(Ok(("signin.html", extra)));
    if let Ok(code) = actix_web::http::StatusCode::from_u16(status) {
        *res.status_mut() = code;
    }
    res
}

/// Where a signed-in person goes from the sign-in host: the commune this sign-in is for, or the
/// one they used last, with their personal area there; else the federation's portal.
async fn way_back(
    ctx: &Ctx,
    target: Option<TenantId>,
    sso: &sportello_kernel::session::Current,
) -> serde_json::Value {
    let mut commune = target;
    if commune.is_none()
        && let Some(p) = &sso.person
        && let Ok(sessions) = ctx
            .state
            .store
            .identity()
            .sessions_of_person(&p.id, sportello_store::now_micros())
            .await
    {
        commune = sessions
            .iter()
            .filter(|s| s.kind == "citizen")
            .max_by_key(|s| s.last_seen_at)
            .and_then(|s| s.commune_id)
            .map(TenantId);
    }
    match commune.and_then(|id| ctx.state.tenancy.by_id(id)) {
        Some(c) => {
            let base = ctx.origin.url_for(&c.record.primary_host);
            json!({
                "name": format!("{} {}", ctx.t("commune_of"), c.record.name),
                "home": format!("{base}/"),
                "area": format!("{base}/area-personale"),
            })
        }
        None => json!({
            "name": ctx.state.federation_name,
            "home": format!("{}/", ctx.federation_url()),
            "area": null,
        }),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    email: String,
    password: String,
}

async fn password_sign_in(ctx: Ctx, req: HttpRequest, form: Posted<PasswordForm>) -> HttpResponse {
    let flow_token = req
        .cookie(flow_cookie_name(&ctx))
        .map(|c| c.value().to_owned());
    let r: AppResult<HttpResponse> = async {
        ctx.on_login_host()?;
        let flow = citizen::flow(&ctx.state, flow_token.as_deref()).await?;
        if !ctx.state.password_limiter.allow(ctx.ip) {
            return Err(AppError::TooManyRequests);
        }
        let needed = flow
            .as_ref()
            .and_then(|f| AssuranceLevel::parse(&f.level).ok())
            .unwrap_or(AssuranceLevel::Low);
        if needed > AssuranceLevel::Low {
            return Ok(signin_page(
                &ctx,
                flow.as_ref(),
                Some(format!("{}: SPID / CIE", needed.label(ctx.lang))),
                &form.email,
                403,
            )
            .await);
        }
        match citizen::check_password(&ctx.state, &form.email, &form.password, &client(&ctx))
            .await
            .map_err(AppError::from)
        {
            Ok(person) => {
                let to =
                    complete(&ctx, flow, &person, AssuranceLevel::Low, "password", None).await?;
                Ok(see_other_raw(&to))
            }
            Err(e @ AppError::Refused(_)) => {
                let msg = ctx.message_of(&e);
                Ok(signin_page(&ctx, flow.as_ref(), msg, &form.email, 403).await)
            }
            Err(e) => Err(e),
        }
    }
    .await;
    ctx.respond(r)
}
