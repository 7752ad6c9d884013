//! The SAML service provider's endpoints on the sign-in host: metadata, the start of a sign-in
//! (HTTP-Redirect or HTTP-POST binding), the assertion consumer service, and the step that binds
//! a verified answer to the browser that asked for it.
//!
//! The IdP's answer arrives as a cross-site POST, which carries no SameSite=Lax cookie: the ACS
//! checks the response against the pending request it answers (by `InResponseTo`, single use),
//! parks the verified identity under a one-time ticket, and redirects to `/saml/completa`, a
//! top-level GET that does carry the browser's flow cookie; only there, if the flow matches, is a
//! session opened.

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use sportello_domain::AssuranceLevel;
use sportello_domain::identity::fiscal_code_from_idp;
use sportello_store::identity::{AuditEvent, AuthRequest, VerifiedIdentity};
use sportello_store::now_micros;

use super::Ctx;
use super::signin::{complete_with, flow_cookie_name};
use crate::error::{AppError, AppResult};
use sportello_identity::citizen::{self, audit};
use sportello_identity::idp::saml::{Expected, LogoutMessage, Rejected, SamlSubject};
use sportello_kernel::tokens;

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::LOGIN)
        .get("/saml/metadata", metadata)
        .get("/saml/login", login)
        .post("/saml/acs", acs)
        .get("/saml/completa", complete_sign_in)
        .get("/saml/slo", single_logout);
}

const MICROS: i64 = 1_000_000;
/// A pending AuthnRequest is answered within this time.
const REQUEST_SECONDS: i64 = 10 * 60;
/// The ticket between the ACS and `/saml/completa`.
const TICKET_SECONDS: i64 = 60;

fn saml(ctx: &Ctx) -> AppResult<std::sync::Arc<sportello_identity::idp::saml::Saml>> {
    ctx.on_login_host()?;
    ctx.state.saml.clone().ok_or(AppError::NotFound)
}

async fn metadata(ctx: Ctx) -> HttpResponse {
    let r = saml(&ctx).and_then(|s| s.metadata_xml().map_err(AppError::Upstream));
    match r {
        Ok(xml) => HttpResponse::Ok()
            .content_type("application/samlmetadata+xml")
            .body(xml),
        Err(e) => ctx.respond(Err(e)),
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    idp: String,
    #[serde(default)]
    binding: Option<String>,
}

async fn login(ctx: Ctx, req: HttpRequest, q: web::Query<LoginQuery>) -> HttpResponse {
    let r: AppResult<HttpResponse> = async {
        let s = saml(&ctx)?;
        let idp = s.idp(&q.idp).ok_or(AppError::NotFound)?;
        let (flow, level, _) = super::oidc::flow_token(&ctx, &req).await?;
        let relay = tokens::new_token();
        let post = q.binding.as_deref() == Some("post");
        let (id, issued, out) = if post {
            s.post_request(idp, level, &relay)
        } else {
            s.redirect_request(idp, level, &relay)
        }
        .map_err(AppError::Upstream)?;
        let at = issued.timestamp_micros();
        ctx.state
            .store
            .identity()
            .create_auth_request(&AuthRequest {
                request_id: id,
                flow_hash: tokens::hash(&flow),
                protocol: "saml".into(),
                idp: idp.entity_id.clone(),
                level: level.key().into(),
                nonce: Some(tokens::hash(&relay)),
                pkce_verifier: None,
                created_at: at,
                expires_at: at + REQUEST_SECONDS * MICROS,
            })
            .await?;
        Ok(if post {
            HttpResponse::Ok()
                .content_type(ContentType::html())
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((
                    header::CONTENT_SECURITY_POLICY,
                    sportello_identity::idp::saml::AUTO_SUBMIT_CSP,
                ))
                .body(out)
        } else {
            HttpResponse::Found()
                .insert_header((header::LOCATION, out))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        })
    }
    .await;
    ctx.respond(r)
}

#[derive(Deserialize)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
}

/// The identity parked between the ACS and `/saml/completa`.
#[derive(Serialize, Deserialize)]
struct Parked {
    who: VerifiedIdentity,
    level: AssuranceLevel,
    idp: String,
    idp_entity_id: String,
    subject: SamlSubject,
}

async fn acs(ctx: Ctx, form: web::Form<AcsForm>) -> HttpResponse {
    let r = acs_inner(&ctx, form.into_inner())
        .await
        .map(|ticket| format!("/saml/completa?ticket={ticket}"));
    super::signin::after_idp_answer(&ctx, r, "saml", |e| e.to_string()).await
}

async fn acs_inner(ctx: &Ctx, form: AcsForm) -> AppResult<String> {
    let s = saml(ctx)?;
    if form.saml_response.len() > 256 * 1024 {
        return Err(AppError::BadRequest("SAMLResponse: too large".into()));
    }
    let refused = AppError::SignInRefused;
    let in_response_to = sportello_identity::idp::saml::Saml::peek_in_response_to(
        &form.saml_response,
    )
    .map_err(|e| match e {
        Rejected::Invalid { reason } => refused(reason),
        other => refused(other.to_string()),
    })?;
    let now = now_micros();
    // Read, not used up: only a verified answer consumes it (below), so an answer forged by
    // someone who learnt the request's id cannot cancel the sign-in.
    let pending = ctx
        .state
        .store
        .identity()
        .peek_auth_request(&in_response_to, now)
        .await?
        .filter(|p| p.protocol == "saml")
        .ok_or_else(|| refused("this sign-in has expired or was already completed".into()))?;
    if pending.nonce.as_deref() != Some(tokens::hash(&form.relay_state).as_str()) {
        return Err(refused("the RelayState does not match the request".into()));
    }
    let level = AssuranceLevel::parse(&pending.level).unwrap_or(AssuranceLevel::Low);
    let issued_at = chrono::DateTime::from_timestamp_micros(pending.created_at)
        .ok_or_else(|| AppError::Upstream("stored request time".into()))?;
    let response = form.saml_response;
    let s2 = s.clone();
    let idp = pending.idp.clone();
    let request_id = pending.request_id.clone();
    let verdict = tokio::task::spawn_blocking(move || {
        s2.validate(
            &response,
            &Expected {
                request_id: &request_id,
                issued_at,
                level,
                idp_entity_id: &idp,
            },
        )
    })
    .await
    .map_err(|e| AppError::Upstream(e.to_string()))?;
    let asserted = match verdict {
        Ok(a) => a,
        Err(Rejected::IdpStatus { message }) => {
            return Err(AppError::IdpSaidNo(message));
        }
        Err(Rejected::Invalid { reason }) => {
            tracing::warn!(idp = %pending.idp, %reason, "SAML response rejected");
            return Err(refused(reason));
        }
    };
    // Verified: now the pending request is used up, once (a second verified answer to it, in a
    // race, finds it gone).
    if ctx
        .state
        .store
        .identity()
        .take_auth_request(&pending.request_id, now)
        .await?
        .is_none()
    {
        return Err(refused(
            "this sign-in has expired or was already completed".into(),
        ));
    }
    if !ctx
        .state
        .store
        .identity()
        .remember_assertion(
            &asserted.assertion_id,
            &asserted.idp_entity_id,
            asserted.not_on_or_after.timestamp_micros(),
        )
        .await?
    {
        return Err(refused("this answer was already used (replay)".into()));
    }
    let attr = |k: &str| {
        asserted
            .attributes
            .get(k)
            .cloned()
            .filter(|v| !v.is_empty())
    };
    let cf = attr("fiscalNumber")
        .ok_or_else(|| refused("the identity provider did not give a fiscal code".into()))?;
    let cf = fiscal_code_from_idp(&cf).map_err(|e| refused(e.to_string()))?;
    let parked = Parked {
        who: VerifiedIdentity {
            fiscal_code: cf.as_str().to_owned(),
            given_name: attr("name").unwrap_or_default(),
            family_name: attr("familyName").unwrap_or_default(),
            email: attr("email"),
            mobile: attr("mobilePhone"),
            date_of_birth: attr("dateOfBirth"),
            place_of_birth: attr("placeOfBirth"),
        },
        level: asserted.level,
        idp: format!("saml:{}", asserted.idp_entity_id),
        idp_entity_id: asserted.idp_entity_id.clone(),
        subject: asserted.subject.clone(),
    };
    let ticket = tokens::new_token();
    let json = serde_json::to_string(&parked).map_err(|e| AppError::Upstream(e.to_string()))?;
    ctx.state
        .store
        .identity()
        .put_auth_result(
            &tokens::hash(&ticket),
            &pending.flow_hash,
            &json,
            now + TICKET_SECONDS * MICROS,
        )
        .await?;
    Ok(ticket)
}

#[derive(Deserialize)]
pub struct TicketQuery {
    ticket: String,
}

async fn complete_sign_in(ctx: Ctx, req: HttpRequest, q: web::Query<TicketQuery>) -> HttpResponse {
    let r: AppResult<String> = async {
        saml(&ctx)?;
        let expired = || AppError::Refused("sign_in_other_browser");
        let (flow_hash, json) = ctx
            .state
            .store
            .identity()
            .take_auth_result(&tokens::hash(&q.ticket), now_micros())
            .await?
            .ok_or_else(expired)?;
        let cookie = req
            .cookie(flow_cookie_name(&ctx))
            .map(|c| c.value().to_owned());
        let flow = citizen::flow(&ctx.state, cookie.as_deref()).await?;
        if flow.as_ref().map(|f| f.flow_hash.as_str()) != Some(flow_hash.as_str()) {
            return Err(expired());
        }
        let parked: Parked =
            serde_json::from_str(&json).map_err(|e| AppError::Upstream(e.to_string()))?;
        // SAML identity providers are the federation's: federation-wide sign-in.
        let person = citizen::person_from_idp(&ctx.state, &parked.who, true).await?;
        let (to, sso_hash) =
            complete_with(&ctx, flow, &person, parked.level, &parked.idp, None).await?;
        // Remember who the IdP signed in, for Single Logout.
        let subject = serde_json::to_string(&parked.subject)
            .map_err(|e| AppError::Upstream(e.to_string()))?;
        ctx.state
            .store
            .identity()
            .put_saml_session(
                &sso_hash,
                &parked.idp_entity_id,
                &tokens::hash(&parked.subject.name_id),
                &subject,
                now_micros() + ctx.state.sessions.lifetimes.absolute * MICROS,
            )
            .await?;
        Ok(to)
    }
    .await;
    super::signin::after_idp_answer(&ctx, r, "saml", |e| e.to_string()).await
}

/// After a local sign-out: if the SSO session came from a SAML IdP with a SingleLogoutService,
/// the signed LogoutRequest to send the browser to (the IdP answers at `/saml/slo`).
pub(crate) async fn logout_at_idp(ctx: &Ctx, sso_hash: &str) -> AppResult<Option<String>> {
    let Some(s) = ctx.state.saml.clone() else {
        return Ok(None);
    };
    let Some((idp_id, subject)) = ctx
        .state
        .store
        .identity()
        .take_saml_session(sso_hash)
        .await?
    else {
        return Ok(None);
    };
    let Some(idp) = s.idp(&idp_id) else {
        return Ok(None);
    };
    let subject: SamlSubject =
        serde_json::from_str(&subject).map_err(|e| AppError::Upstream(e.to_string()))?;
    let Some((id, url)) = s
        .logout_request(idp, &subject, &tokens::new_token())
        .map_err(AppError::Upstream)?
    else {
        return Ok(None);
    };
    let now = now_micros();
    ctx.state
        .store
        .identity()
        .create_auth_request(&AuthRequest {
            request_id: id,
            flow_hash: String::new(),
            protocol: "saml-logout".into(),
            idp: idp.entity_id.clone(),
            level: AssuranceLevel::Low.key().into(),
            nonce: None,
            pkce_verifier: None,
            created_at: now,
            expires_at: now + REQUEST_SECONDS * MICROS,
        })
        .await?;
    Ok(Some(url))
}

/// The SingleLogoutService (HTTP-Redirect): the IdP's answer to our LogoutRequest, or the IdP
/// ending a session itself (then every session it opened for that person ends here too, and
/// we answer with a signed LogoutResponse).
async fn single_logout(ctx: Ctx, req: HttpRequest) -> HttpResponse {
    let r: AppResult<HttpResponse> = async {
        let s = saml(&ctx)?;
        let msg = s
            .verify_logout(req.query_string())
            .map_err(AppError::SignInRefused)?;
        match msg {
            LogoutMessage::Response {
                in_response_to,
                success,
                ..
            } => {
                ctx.state
                    .store
                    .identity()
                    .take_auth_request(&in_response_to, now_micros())
                    .await?
                    .filter(|p| p.protocol == "saml-logout")
                    .ok_or(AppError::Refused("sign_in_expired"))?;
                if !success {
                    tracing::warn!("the identity provider did not confirm the logout");
                }
                signed_out_page(&ctx)
            }
            LogoutMessage::Request {
                idp_entity_id,
                request_id,
                name_id,
                relay_state,
            } => {
                let ended = ctx
                    .state
                    .store
                    .identity()
                    .saml_sessions_of(&idp_entity_id, &tokens::hash(&name_id))
                    .await?;
                for sso in &ended {
                    ctx.state.sessions.end_sso(&ctx.state.store, sso).await?;
                }
                audit(
                    &ctx.state,
                    AuditEvent {
                        at: now_micros(),
                        event: "idp_logout".into(),
                        idp: Some(format!("saml:{idp_entity_id}")),
                        detail: Some(format!("{} sign-ins ended", ended.len())),
                        ..Default::default()
                    },
                )
                .await;
                let idp = s.idp(&idp_entity_id).ok_or(AppError::NotFound)?;
                let url = s
                    .logout_response(idp, &request_id, true, relay_state.as_deref().unwrap_or(""))
                    .map_err(AppError::Upstream)?
                    .ok_or(AppError::NotFound)?;
                Ok(HttpResponse::Found()
                    .insert_header((header::LOCATION, url))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .finish())
            }
        }
    }
    .await;
    ctx.respond(r)
}

fn signed_out_page(ctx: &Ctx) -> AppResult<HttpResponse> {
    let s = &ctx.state.render.strings;
    Ok(ctx.page(Ok((
        "message.html",
        serde_json::json!({
            "title": s.get(ctx.lang, "signed_out_title"),
            "text": s.get(ctx.lang, "signed_out_text"),
        }),
    ))))
}
