//! A commune's side of signing in: `/accedi` (to the sign-in host and back with a one-time code),
//! `/esci` (everywhere), the personal area, and the gate in front of a service's online channel.

use crate::auth::cookies::SessionCookies;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use sportello_domain::AssuranceLevel;
use sportello_store::now_micros;

use super::signin::client;
use super::{Button, Ctx, Posted};
use crate::error::{AppError, AppResult};
use crate::middleware::Site;
use crate::views::when::when;
use sportello_identity::citizen;
use sportello_kernel::session::Kind;

pub fn configure(t: &mut super::table::Table<'_>) {
    use super::table::on::{COMMUNE, LOGIN};
    t.on(COMMUNE | LOGIN).post("/esci", sign_out);
    t.on(COMMUNE)
        .get("/accedi", sign_in)
        .get("/accedi/ritorno", handoff_return)
        .get("/area-personale", personal_area)
        .post("/area-personale/contatti", save_contacts)
        .post("/area-personale/contatti/verifica", verify_contact)
        .get("/servizi/{id}/avvia", start_service)
        .get("/accedi/operatore", staff_through_idp);
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    livello: Option<String>,
}

/// The hand-off cookie: a random state this browser sends to the sign-in host and must show
/// again with the code that comes back (login CSRF: no one can push their own sign-in into
/// another browser).
fn handoff_cookie_name(ctx: &Ctx) -> &'static str {
    if ctx.state.sessions.secure_cookies {
        "__Host-sportello_handoff"
    } else {
        "sportello_handoff"
    }
}

/// The URL that signs the visitor in on this commune (through the sign-in host); sets the
/// browser's hand-off state.
fn sign_in_url(ctx: &Ctx, next: &str, level: AssuranceLevel) -> AppResult<String> {
    let host = &ctx.commune()?.record.primary_host;
    let state = sportello_kernel::tokens::new_token();
    ctx.set_cookie(
        ctx.state
            .sessions
            .cookie(handoff_cookie_name(ctx), state.clone()),
    );
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    Ok(ctx.login_url(&format!(
        "/autorizza?host={}&next={}&level={}&state={state}",
        enc(host),
        enc(next),
        level.key()
    )))
}

async fn sign_in(ctx: Ctx, q: web::Query<SignInQuery>) -> HttpResponse {
    let r = (|| {
        ctx.commune()?;
        let next = citizen::safe_next(q.next.as_deref());
        let level = match q.livello.as_deref() {
            None | Some("") => AssuranceLevel::Low,
            Some(l) => AssuranceLevel::parse(l).map_err(|e| AppError::BadRequest(e.to_string()))?,
        };
        if ctx.citizen().is_some_and(|u| u.level >= level) {
            return Ok(next);
        }
        sign_in_url(&ctx, &next, level)
    })();
    match r {
        Ok(to) => ctx.see_other(&to),
        Err(e) => ctx.respond(Err(e)),
    }
}

#[derive(Deserialize)]
pub struct CodeQuery {
    code: String,
}

async fn handoff_return(ctx: Ctx, req: HttpRequest, q: web::Query<CodeQuery>) -> HttpResponse {
    let browser_state = req
        .cookie(handoff_cookie_name(&ctx))
        .map(|c| c.value().to_owned());
    let r = async {
        let c = ctx.commune()?;
        let (token, next) = citizen::redeem_handoff(
            &ctx.state,
            &q.code,
            &c.record.primary_host,
            c.id(),
            ctx.citizen().map(|u| u.as_ref()),
            &client(&ctx),
            browser_state.as_deref(),
        )
        .await?;
        ctx.set_cookie(ctx.state.sessions.removal(handoff_cookie_name(&ctx)));
        ctx.set_cookie(
            ctx.state
                .sessions
                .cookie(ctx.state.sessions.cookie_name(Kind::Citizen), token),
        );
        Ok(next)
    }
    .await;
    match r {
        Ok(next) => ctx.see_other(&next),
        Err(e) => ctx.respond(Err(e)),
    }
}

/// Signing out ends the single sign-on session and every commune session handed out from it.
async fn sign_out(ctx: Ctx, _: Posted<Button>) -> HttpResponse {
    let r = async {
        let kind = match ctx.site {
            Site::Commune(_) => Kind::Citizen,
            Site::Login => Kind::Sso,
            Site::Federation => return Err(AppError::NotFound),
        };
        let mut at_idp = None;
        if let Some(u) = ctx.user.as_ref().filter(|u| u.kind == kind) {
            let sso = u.sso_hash.clone().unwrap_or_else(|| u.token_hash.clone());
            // Signed in through a SAML IdP: log out there too (Single Logout).
            at_idp = super::saml::logout_at_idp(&ctx, &sso).await?;
            let n = ctx.state.sessions.end_sso(&ctx.state.store, &sso).await?;
            citizen::audit(
                &ctx.state,
                sportello_store::identity::AuditEvent {
                    at: now_micros(),
                    event: "sign_out".into(),
                    person_id: u.person.as_ref().map(|p| p.id.clone()),
                    commune_id: u.commune.map(|t| t.0),
                    idp: Some(u.idp.clone()),
                    ip: ctx.ip.map(|i| i.to_string()),
                    detail: Some(format!("{n} sessions ended")),
                    ..Default::default()
                },
            )
            .await;
        }
        ctx.set_cookie(
            ctx.state
                .sessions
                .removal(ctx.state.sessions.cookie_name(kind)),
        );
        ctx.forget_user();
        let s = &ctx.state.render.strings;
        Ok((
            at_idp,
            (
                "message.html",
                json!({
                    "title": s.get(ctx.lang, "signed_out_title"),
                    "text": s.get(ctx.lang, "signed_out_text"),
                    "link": {"href": "/", "label": s.get(ctx.lang, "home")},
                    // Signing in again starts from the home page, not from this POST.
                    "next_path": "/",
                }),
            ),
        ))
    }
    .await;
    match r {
        Ok((Some(idp_url), _)) => ctx.see_other(&idp_url),
        Ok((None, page)) => ctx.page(Ok(page)),
        Err(e) => ctx.respond(Err(e)),
    }
}

#[derive(Deserialize)]
pub struct PersonalQuery {
    salvato: Option<String>,
    verifica: Option<String>,
    avvisi: Option<String>,
}

async fn personal_area(ctx: Ctx, q: web::Query<PersonalQuery>) -> HttpResponse {
    let Some(user) = ctx.citizen().cloned() else {
        return match sign_in_url(&ctx, "/area-personale", AssuranceLevel::Low) {
            Ok(to) => ctx.see_other(&to),
            Err(e) => ctx.respond(Err(e)),
        };
    };
    let key = if q.verifica.is_some() {
        Some("contacts_code_sent")
    } else if q.salvato.is_some() {
        Some("contacts_saved")
    } else if q.avvisi.is_some() {
        Some("topics_saved")
    } else {
        None
    };
    let notice = key.map(|k| ctx.state.render.strings.get(ctx.lang, k).to_owned());
    let r = personal_context(&ctx, &user, notice).await;
    ctx.page(r)
}

async fn personal_context(
    ctx: &Ctx,
    user: &sportello_kernel::session::Current,
    notice: Option<String>,
) -> AppResult<(&'static str, serde_json::Value)> {
    let person = user.person.clone().ok_or(AppError::NotFound)?;
    let now = now_micros();
    let reg = ctx.state.tenancy.snapshot();
    let name_of = |id: Option<i64>| {
        id.and_then(|id| {
            reg.communes
                .iter()
                .find(|c| c.id().0 == id)
                .map(|c| c.record.name.clone())
        })
    };
    let sessions: Vec<_> = ctx
        .state
        .store
        .identity()
        .sessions_of_person(&person.id, now)
        .await?
        .into_iter()
        .filter(|s| s.kind == "citizen")
        .map(|s| {
            json!({
                "commune": name_of(s.commune_id),
                "level": level_words(ctx, Some(&s.level)),
                "idp": provider_words(ctx, &s.idp),
                "since": when(ctx.lang, s.created_at),
                "last_seen": when(ctx.lang, s.last_seen_at),
                "current": s.token_hash == user.token_hash,
            })
        })
        .collect();
    let events: Vec<_> = ctx
        .state
        .store
        .identity()
        .audit_log(Some(&person.id), 10)
        .await?
        .into_iter()
        .map(|e| {
            json!({
                "at": when(ctx.lang, e.at),
                "event": ctx.label_or_code("event_", &e.event),
                "commune": name_of(e.commune_id),
                "idp": e.idp.as_deref().map(|i| provider_words(ctx, i)),
                "level": e.level.as_deref().map(|l| level_words(ctx, Some(l))),
            })
        })
        .collect();
    // What this commune (on the sign-in host: the federation) sent the person.
    let from = ctx
        .commune()
        .map_or(sportello_domain::TenantId(0), |c| c.record.id);
    let messages: Vec<_> = sportello_notify::lists::for_person(&ctx.state, from, &person.id)
        .await?
        .into_iter()
        .take(20)
        .map(|m| {
            json!({
                "at": when(ctx.lang, m.created_at),
                "channel": ctx.label_or_code("channel_", &m.channel),
                "subject": m.subject,
                "secret": m.secret,
                "status": ctx.label_or_code("msg_status_", m.status.key()),
            })
        })
        .collect();
    let contacts = sportello_identity::citizen::contacts::of(&ctx.state, &person.id).await?;
    // A refused form shows what was sent: the contacts, or the code that proves the address.
    let verifying = ctx.redo_action().is_some_and(|a| a.ends_with("/verifica"));
    let subscribing = ctx.redo_action().is_some_and(|a| a.ends_with("/avvisi"));
    let empty = json!({"values": {}, "errors": {}, "summary": []});
    let topics = super::subscriptions::view(ctx, &person.id).await?;
    let tfs = if subscribing {
        let ids: Vec<(String, String)> = topics
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["id"].as_str())
            .flat_map(|id| {
                [
                    (format!("email:{id}"), format!("tp-email-{id}")),
                    (format!("sms:{id}"), format!("tp-sms-{id}")),
                ]
            })
            .collect();
        let pairs: Vec<(&str, &str)> = ids.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        ctx.form_state(&pairs, "topics-form")
    } else {
        empty.clone()
    };
    let vfs = if verifying {
        ctx.form_state(&[("code", "verify-code")], "verify-form")
    } else {
        empty.clone()
    };
    let fs = if verifying || subscribing {
        empty
    } else {
        ctx.form_state(
            &[
                ("email", "c-email"),
                ("mobile", "c-mobile"),
                ("email_consent", "email_consent"),
                ("sms_consent", "sms_consent"),
            ],
            "contacts-form",
        )
    };
    let contacts = if ctx.redoing() && !verifying && !subscribing {
        let v = &fs["values"];
        json!({
            "email": v["email"], "mobile": v["mobile"],
            "email_consent": !v["email_consent"].is_null(),
            "sms_consent": !v["sms_consent"].is_null(),
        })
    } else {
        json!(contacts)
    };
    Ok((
        "personal.html",
        json!({
            "contacts": contacts,
            "vfs": vfs,
            "fs": fs,
            "person": person,
            "level": user.level.number(),
            "level_label": user.level.label(ctx.lang),
            "idp": user.idp,
            "sessions": sessions,
            "messages": messages,
            "topics": topics,
            "tfs": tfs,
            "on_commune": ctx.commune().is_ok(),
            "sms_available": sportello_notify::channels::sms_enabled(&ctx.state, from).await?,
            "events": events,
            "notice": notice,
            "csrf": ctx.csrf_token(),
        }),
    ))
}

/// A level as a person reads it ("SPID livello 2 o CIE").
fn level_words(ctx: &Ctx, level: Option<&str>) -> String {
    level
        .and_then(|l| AssuranceLevel::parse(l).ok())
        .map(|l| l.label(ctx.lang).to_owned())
        .unwrap_or_default()
}

/// The way a person signed in, by name: password, the demo, an identity provider's own name.
fn provider_words(ctx: &Ctx, idp: &str) -> String {
    let (kind, id) = idp.split_once(':').unwrap_or((idp, ""));
    match kind {
        "password" => ctx.t("provider_password").to_owned(),
        "demo" => "Sportello Demo ID".to_owned(),
        "saml" => ctx
            .state
            .saml
            .as_ref()
            .and_then(|s| s.idp(id))
            .map_or_else(|| id.to_owned(), |i| i.name.clone()),
        "oidc" => ctx.state.oidc.provider(id).map_or_else(
            || ctx.t("provider_oidc").to_owned(),
            |p| p.config.name.clone(),
        ),
        _ => idp.to_owned(),
    }
}

#[derive(Deserialize)]
pub struct ContactsForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    email_consent: Option<String>,
    #[serde(default)]
    sms_consent: Option<String>,
}

async fn save_contacts(ctx: Ctx, form: Posted<ContactsForm>) -> HttpResponse {
    let r = async {
        let user = ctx
            .citizen()
            .cloned()
            .ok_or(AppError::Refused("session_ended"))?;
        let person = user.person.as_ref().ok_or(AppError::NotFound)?;
        let change = sportello_identity::citizen::contacts::ContactsChange {
            email: &form.email,
            mobile: &form.mobile,
            email_consent: form.email_consent.is_some(),
            sms_consent: form.sms_consent.is_some(),
        };
        // The code goes out from this commune (the sign-in host: the federation).
        let from = ctx
            .commune()
            .map_or(sportello_domain::TenantId(0), |c| c.record.id);
        let saved = sportello_identity::citizen::contacts::save(
            &ctx.state, from, ctx.lang, &person.id, &change,
        )
        .await?;
        ctx.state.sessions.forget(&user.token_hash);
        Ok(match saved {
            sportello_identity::citizen::contacts::Saved::CodeSent => "/area-personale?verifica=1",
            sportello_identity::citizen::contacts::Saved::Done => "/area-personale?salvato=1",
        })
    }
    .await;
    personal_answer(ctx, &form, r).await
}

/// After a post to the personal area: on to it, or the page again with the form refused.
pub(super) async fn personal_answer<T>(
    ctx: Ctx,
    form: &Posted<T>,
    r: AppResult<&'static str>,
) -> HttpResponse {
    match r {
        Ok(to) => ctx.see_other(to),
        Err(e) => match (ctx.redo(form, e), ctx.citizen().cloned()) {
            (Ok(()), Some(user)) => {
                let page = personal_context(&ctx, &user, None).await;
                let mut res = ctx.page(page);
                if res.status().is_success() {
                    *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
                }
                res
            }
            (Ok(()), None) => ctx.respond(Err(AppError::Refused("session_ended"))),
            (Err(e), _) => ctx.respond(Err(e)),
        },
    }
}

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    code: String,
}

/// The code mailed to a new contact address, typed back: the address is proven.
async fn verify_contact(ctx: Ctx, form: Posted<VerifyForm>) -> HttpResponse {
    let r = async {
        let user = ctx
            .citizen()
            .cloned()
            .ok_or(AppError::Refused("session_ended"))?;
        let person = user.person.as_ref().ok_or(AppError::NotFound)?;
        // Guesses are limited per person by the service (a code stops working after a few).
        sportello_identity::citizen::contacts::verify(&ctx.state, &person.id, &form.code).await?;
        Ok("/area-personale?salvato=1")
    }
    .await;
    personal_answer(ctx, &form, r).await
}

/// The online channel of a service: signed in at the level the charter states, or sent to sign
/// in (or step up) first. Never let in below it.
async fn start_service(ctx: Ctx, id: web::Path<String>) -> HttpResponse {
    let r = async {
        let ch = super::portal::load_charter(&ctx).await?;
        let s = ch
            .services
            .iter()
            .find(|s| s.id == *id)
            .ok_or(AppError::NotFound)?;
        if !s.channels.contains(&sportello_domain::Channel::Online) {
            return Err(AppError::NotFound);
        }
        let needed = s.online_level.max(AssuranceLevel::Low);
        match ctx.citizen() {
            // A service that takes cases here: its form.
            Some(u) if u.level >= needed && super::cases::has_form(&ctx, &s.id).await? => {
                Ok(Ok(format!("/pratiche/compila/{}", s.id)))
            }
            Some(u) if u.level >= needed => {
                let person = u.person.clone().ok_or(AppError::NotFound)?;
                Ok(Err((
                    "service_start.html",
                    json!({
                        "service": {"id": s.id, "title": if ctx.lang == sportello_domain::Language::En { s.title_en.clone().unwrap_or_else(|| s.title.clone()) } else { s.title.clone() }},
                        "person": person,
                        "level": u.level.number(),
                        "needed": needed.number(),
                        "needed_label": needed.label(ctx.lang),
                        "documents": s.documents,
                    }),
                )))
            }
            _ => Ok(Ok(sign_in_url(&ctx, &format!("/servizi/{}/avvia", s.id), needed)?)),
        }
    }
    .await;
    match r {
        Ok(Ok(to)) => ctx.see_other(&to),
        Ok(Err(page)) => ctx.page(Ok(page)),
        Err(e) => ctx.respond(Err(e)),
    }
}

/// Staff sign-in through an identity provider: sign in as a citizen at level 2 or more (or step
/// up), then, if the fiscal code is linked to a staff account of this commune, into the console.
async fn staff_through_idp(ctx: Ctx) -> HttpResponse {
    let r = async {
        let commune = ctx.commune()?.id();
        match ctx.citizen() {
            Some(u) if u.level >= AssuranceLevel::Substantial => {
                let token = sportello_identity::staff::sign_in_with_idp(
                    &ctx.state,
                    sportello_store::staff::Realm::Commune(commune),
                    u,
                    &client(&ctx),
                )
                .await?;
                Ok(Ok(token))
            }
            _ => Ok(Err(sign_in_url(
                &ctx,
                "/accedi/operatore",
                AssuranceLevel::Substantial,
            )?)),
        }
    }
    .await;
    match r {
        Ok(Ok(token)) => ctx.start_session(Kind::Staff, token, "/console"),
        Ok(Err(to)) => ctx.see_other(&to),
        Err(e) => ctx.respond(Err(e)),
    }
}
