//! Password accounts on the sign-in host: registration, the address's confirmation, recovery
//! by mail and the new password. Each form refused comes back with its values and reasons.

use actix_web::HttpResponse;
use actix_web::web;
use serde::Deserialize;
use serde_json::json;

use super::{Ctx, Posted};
use crate::error::{AppError, AppResult};
use sportello_identity::citizen;

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::LOGIN)
        .get("/registrati", register_form)
        .post("/registrati", register)
        .get("/verifica", verify)
        .get("/recupero", recover_form)
        .post("/recupero", recover)
        .get("/reimposta", reset_form)
        .post("/reimposta", reset);
}

fn message(
    ctx: &Ctx,
    title_key: &str,
    text_key: &str,
    link: Option<(&str, &str)>,
) -> AppResult<(&'static str, serde_json::Value)> {
    let s = &ctx.state.render.strings;
    Ok((
        "message.html",
        json!({
            "title": s.get(ctx.lang, title_key),
            "text": s.get(ctx.lang, text_key),
            "link": link.map(|(href, key)| json!({"href": href, "label": s.get(ctx.lang, key)})),
        }),
    ))
}

async fn register_form(ctx: Ctx) -> HttpResponse {
    let r = ctx.on_login_host().and_then(|_| register_page(&ctx));
    ctx.page(r)
}

#[derive(Deserialize, serde::Serialize)]
pub struct RegisterForm {
    given_name: String,
    family_name: String,
    email: String,
    password: String,
    password_again: String,
    #[serde(default)]
    privacy: Option<String>,
}

async fn register(ctx: Ctx, form: Posted<RegisterForm>) -> HttpResponse {
    let r: AppResult<(&'static str, serde_json::Value)> = async {
        ctx.on_login_host()?;
        if !ctx.state.password_limiter.allow(ctx.ip) {
            return Err(AppError::TooManyRequests);
        }
        let base = format!("{}/verifica?token=", ctx.state.login_base);
        let f = citizen::Registration {
            given_name: &form.given_name,
            family_name: &form.family_name,
            email: &form.email,
            password: &form.password,
            password_again: &form.password_again,
            consent: form.privacy.is_some(),
        };
        match citizen::register(&ctx.state, &f, ctx.lang, |t| format!("{base}{t}")).await {
            Ok(()) => message(&ctx, "register_sent_title", "register_sent_text", None),
            Err(e) => {
                ctx.redo(&form, e.into())?;
                register_page(&ctx)
            }
        }
    }
    .await;
    form_answer(&ctx, r)
}

/// The registration form (again, after a refusal: `ctx` holds what was sent).
fn register_page(ctx: &Ctx) -> AppResult<(&'static str, serde_json::Value)> {
    let fields = [
        ("given_name", "given_name"),
        ("family_name", "family_name"),
        ("email", "email"),
        ("password", "password"),
        ("password_again", "password_again"),
        ("privacy", "privacy"),
    ];
    Ok((
        "register.html",
        json!({
            "csrf": ctx.csrf_token(),
            "fs": ctx.form_state(&fields, "register-form"),
            "privacy_url": format!("{}/privacy", ctx.federation_url()),
        }),
    ))
}

/// A page with a form: 400 when it shows a refused form again.
fn form_answer(ctx: &Ctx, r: AppResult<(&'static str, serde_json::Value)>) -> HttpResponse {
    let mut res = ctx.page(r);
    if ctx.redoing() && res.status().is_success() {
        *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    res
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: String,
}

/// `/verifica` is two pages: on the sign-in host, an e-mail address confirmed; on a commune's
/// host, a certificate's stamp checked (`routes::registry`).
async fn verify(ctx: Ctx, req: actix_web::HttpRequest) -> HttpResponse {
    if matches!(ctx.site, crate::middleware::Site::Commune(_)) {
        return match web::Query::from_query(req.query_string()) {
            Ok(q) => super::registry::verify_page(ctx, q).await,
            Err(_) => ctx.respond(Err(AppError::BadInput("bad_input_query"))),
        };
    }
    let q = match web::Query::<TokenQuery>::from_query(req.query_string()) {
        Ok(q) => q,
        Err(_) => return ctx.respond(Err(AppError::BadInput("bad_input_query"))),
    };
    let r = async {
        ctx.on_login_host()?;
        citizen::confirm_email(&ctx.state, &q.token).await?;
        message(
            &ctx,
            "verified_title",
            "verified_text",
            Some(("/", "sign_in")),
        )
    }
    .await;
    ctx.page(r)
}

async fn recover_form(ctx: Ctx) -> HttpResponse {
    let r = ctx.on_login_host().and_then(|_| recover_page(&ctx));
    ctx.page(r)
}

#[derive(Deserialize)]
pub struct RecoverForm {
    email: String,
}

async fn recover(ctx: Ctx, form: Posted<RecoverForm>) -> HttpResponse {
    let r = async {
        ctx.on_login_host()?;
        if !ctx.state.password_limiter.allow(ctx.ip) {
            return Err(AppError::TooManyRequests);
        }
        let base = format!("{}/reimposta?token=", ctx.state.login_base);
        match citizen::request_reset(&ctx.state, &form.email, ctx.lang, |t| format!("{base}{t}"))
            .await
        {
            Ok(()) => message(&ctx, "recover_sent_title", "recover_sent_text", None),
            Err(e) => {
                ctx.redo(&form, e.into())?;
                recover_page(&ctx)
            }
        }
    }
    .await;
    form_answer(&ctx, r)
}

fn recover_page(ctx: &Ctx) -> AppResult<(&'static str, serde_json::Value)> {
    Ok((
        "recover.html",
        json!({"csrf": ctx.csrf_token(), "fs": ctx.form_state(&[("email", "email")], "recover-form")}),
    ))
}

async fn reset_form(ctx: Ctx, q: web::Query<TokenQuery>) -> HttpResponse {
    let r = ctx.on_login_host().and_then(|_| reset_page(&ctx, &q.token));
    ctx.page(r)
}

fn reset_page(ctx: &Ctx, token: &str) -> AppResult<(&'static str, serde_json::Value)> {
    let fields = [
        ("password", "password"),
        ("password_again", "password_again"),
    ];
    Ok((
        "reset.html",
        json!({"csrf": ctx.csrf_token(), "token": token, "fs": ctx.form_state(&fields, "reset-form")}),
    ))
}

#[derive(Deserialize)]
pub struct ResetForm {
    token: String,
    password: String,
    password_again: String,
}

async fn reset(ctx: Ctx, form: Posted<ResetForm>) -> HttpResponse {
    let r = async {
        ctx.on_login_host()?;
        let done = citizen::reset_password(
            &ctx.state,
            &form.token,
            &form.password,
            &form.password_again,
        )
        .await;
        match done {
            Ok(()) => message(
                &ctx,
                "reset_done_title",
                "reset_done_text",
                Some(("/", "sign_in")),
            ),
            Err(e) => {
                ctx.redo(&form, e.into())?;
                reset_page(&ctx, &form.token)
            }
        }
    }
    .await;
    form_answer(&ctx, r)
}
