//! The commune console's door: staff sign-in with password and TOTP, invitations, sign-out.
//! (What the console manages arrives with the authorization issue.)

use crate::auth::cookies::SessionCookies;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::signin::client;
use super::{Button, Ctx, Posted};
use crate::authz::{Need, Needs, Routes};
use crate::error::{AppError, AppResult};
use sportello_authz::{Action, Object};
use sportello_identity::{staff, totp};
use sportello_kernel::session::Kind;
use sportello_store::staff::Realm;

/// The console's door and home (both hosts), then each console's pages.
pub fn routes(r: &mut Routes) {
    let home_needs = Needs::Each {
        commune: Need::Staff,
        federation: Need::Allow(Object::Communes, Action::Read),
    };
    let door = Needs::Both(Need::Public);
    r.get("/console", home_needs, home)
        .get("/console/accedi", door, sign_in_form)
        .post("/console/accedi", door, sign_in)
        .get("/console/codice", door, code_form)
        .post("/console/codice", door, code)
        .get("/console/invito", door, invite_form)
        .post("/console/invito", door, invite_password)
        .post("/console/invito/codice", door, invite_code)
        .post("/console/esci", door, sign_out);
    super::console_commune::routes(r);
    super::console_federation::routes(r);
}

fn staff_session(ctx: &Ctx) -> Option<&std::sync::Arc<sportello_kernel::session::Current>> {
    ctx.user.as_ref().filter(|u| u.kind == Kind::Staff)
}

async fn home(
    ctx: Ctx,
    actor: crate::authz::Admitted,
    q: web::Query<std::collections::HashMap<String, String>>,
) -> HttpResponse {
    match actor.realm {
        Realm::Commune(_) => super::console_commune::home(ctx, actor).await,
        Realm::Federation => super::console_federation::home(ctx, actor, q.into_inner()).await,
    }
}

fn form_page(
    ctx: &Ctx,
    template: &'static str,
    extra: serde_json::Value,
    status: u16,
) -> HttpResponse {
    // Signing in to the console through an identity provider passes through the commune's
    // public pages and the sign-in host: a live commune's only (not the apex's, not one being
    // prepared, where the password and the code are the way in).
    let idp_sign_in = ctx
        .commune()
        .is_ok_and(|c| c.record.status == sportello_domain::CommuneStatus::Active);
    let mut m = json!({"csrf": ctx.csrf_token(), "idp_sign_in": idp_sign_in});
    if let (Some(m), serde_json::Value::Object(e)) = (m.as_object_mut(), extra) {
        m.extend(e);
    }
    let mut res = ctx.page(ctx.realm().map(|_| (template, m)));
    if let Ok(s) = actix_web::http::StatusCode::from_u16(status)
        && res.status().is_success()
    {
        *res.status_mut() = s;
    }
    res
}

async fn sign_in_form(ctx: Ctx) -> HttpResponse {
    form_page(
        &ctx,
        "console_signin.html",
        json!({"error": null, "email": ""}),
        200,
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
}

async fn sign_in(ctx: Ctx, form: Posted<SignInForm>) -> HttpResponse {
    let r: AppResult<String> = async {
        let c = ctx.realm()?;
        if !ctx.state.password_limiter.allow(ctx.ip) {
            return Err(AppError::TooManyRequests);
        }
        if let Some(old) = staff_session(&ctx) {
            ctx.state
                .sessions
                .end(&ctx.state.store, &old.token_hash)
                .await?;
        }
        staff::sign_in_password(&ctx.state, c, &form.email, &form.password, &client(&ctx))
            .await
            .map_err(AppError::from)
    }
    .await;
    match r {
        Ok(token) => ctx.start_session(Kind::Staff, token, "/console/codice"),
        Err(e @ AppError::Refused(_)) => form_page(
            &ctx,
            "console_signin.html",
            json!({"error": ctx.message_of(&e), "email": form.email}),
            403,
        ),
        Err(e) => ctx.respond(Err(e)),
    }
}

async fn code_form(ctx: Ctx) -> HttpResponse {
    match staff_session(&ctx) {
        Some(u) if !u.mfa => form_page(&ctx, "console_code.html", json!({"error": null}), 200),
        Some(_) => ctx.see_other("/console"),
        None => ctx.see_other("/console/accedi"),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

async fn code(ctx: Ctx, form: Posted<CodeForm>) -> HttpResponse {
    let r: AppResult<String> = async {
        let c = ctx.realm()?;
        if !ctx.state.password_limiter.allow(ctx.ip) {
            return Err(AppError::TooManyRequests);
        }
        let pending = staff_session(&ctx)
            .filter(|u| !u.mfa)
            .ok_or(AppError::Refused("sign_in_password_first"))?;
        staff::sign_in_totp(&ctx.state, c, pending, &form.code, &client(&ctx))
            .await
            .map_err(AppError::from)
    }
    .await;
    match r {
        Ok(token) => {
            // Roles given outside this node (the CLI, another node) are in place before the
            // first console page, not a poll later.
            if let Err(e) = ctx.state.apply_policy_changes().await {
                tracing::warn!(error = %e, "applying policy changes at sign-in failed");
            }
            ctx.start_session(Kind::Staff, token, "/console")
        }
        Err(e @ AppError::Refused(_)) if staff_session(&ctx).is_some() => form_page(
            &ctx,
            "console_code.html",
            json!({"error": ctx.message_of(&e)}),
            403,
        ),
        Err(e) => ctx.respond(Err(e)),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: String,
}

async fn invite_form(ctx: Ctx, q: web::Query<TokenQuery>) -> HttpResponse {
    invite_page(&ctx, &q.token).await
}

/// The invitation's password form (again, after a refusal: `ctx` holds what was sent).
async fn invite_page(ctx: &Ctx, token: &str) -> HttpResponse {
    let r = async {
        let c = ctx.realm()?;
        let acc = staff::invited(&ctx.state, c, token).await?;
        let fields = [
            ("password", "password"),
            ("password_again", "password_again"),
        ];
        Ok(json!({
            "token": token, "name": acc.display_name, "email": acc.email,
            "fs": ctx.form_state(&fields, "invite-form"),
        }))
    }
    .await;
    let status = if ctx.redoing() { 400 } else { 200 };
    match r {
        Ok(extra) => form_page(ctx, "console_invite.html", extra, status),
        Err(e) => ctx.respond(Err(e)),
    }
}

#[derive(Deserialize)]
pub struct InvitePasswordForm {
    token: String,
    password: String,
    password_again: String,
}

async fn invite_password(ctx: Ctx, form: Posted<InvitePasswordForm>) -> HttpResponse {
    let r = async {
        let c = ctx.realm()?;
        let (acc, secret) = staff::accept_password(
            &ctx.state,
            c,
            &form.token,
            &form.password,
            &form.password_again,
        )
        .await?;
        Ok(enrol_page(
            &ctx,
            &form.token,
            &acc.email,
            &secret,
            None,
            200,
        ))
    }
    .await;
    match r {
        Ok(res) => res,
        Err(e) => match ctx.redo(&form, e) {
            Ok(()) => invite_page(&ctx, &form.token).await,
            Err(e) => ctx.respond(Err(e)),
        },
    }
}

/// The authenticator enrolment page: the secret (and its `otpauth://` URI) and the form for the
/// first code; after a wrong code, the same secret again with the message by the form.
fn enrol_page(
    ctx: &Ctx,
    token: &str,
    email: &str,
    secret: &[u8],
    error: Option<&str>,
    status: u16,
) -> HttpResponse {
    let issuer = match ctx.commune() {
        Ok(commune) => format!("{} – {}", ctx.state.federation_name, commune.record.name),
        Err(_) => ctx.state.federation_name.clone(),
    };
    let uri = totp::otpauth_uri(secret, &issuer, email);
    let extra = json!({
        "token": token,
        "secret": totp::base32(secret),
        "qr": crate::views::qr::svg(&uri, 220, ctx.t("totp_qr_label")),
        "uri": uri,
        "error": error,
    });
    form_page(ctx, "console_enrol.html", extra, status)
}

#[derive(Deserialize)]
pub struct InviteCodeForm {
    token: String,
    code: String,
}

async fn invite_code(ctx: Ctx, form: Posted<InviteCodeForm>) -> HttpResponse {
    let c = match ctx.realm() {
        Ok(c) => c,
        Err(e) => return ctx.respond(Err(e)),
    };
    match staff::accept_totp(&ctx.state, c, &form.token, &form.code, &client(&ctx)).await {
        Ok((token, codes)) => {
            // Roles given outside this node (the CLI, another node) are in place before the
            // first console page, not a poll later.
            if let Err(e) = ctx.state.apply_policy_changes().await {
                tracing::warn!(error = %e, "applying policy changes at sign-in failed");
            }
            // Signed in; the recovery codes are shown this once, then the console.
            let sessions = &ctx.state.sessions;
            ctx.set_cookie(sessions.cookie(sessions.cookie_name(Kind::Staff), token));
            form_page(&ctx, "console_recovery.html", json!({"codes": codes}), 200)
        }
        // A wrong first code: try again on the same page, with the same secret (the one already
        // in the person's authenticator app).
        Err(sportello_kernel::Error::Refused("code_wrong")) => {
            match staff::enrolment(&ctx.state, c, &form.token).await {
                Ok((acc, secret)) => enrol_page(
                    &ctx,
                    &form.token,
                    &acc.email,
                    &secret,
                    Some(ctx.t("code_wrong")),
                    403,
                ),
                Err(e) => ctx.respond(Err(e.into())),
            }
        }
        Err(e) => ctx.respond(Err(e.into())),
    }
}

async fn sign_out(ctx: Ctx, _: Posted<Button>) -> HttpResponse {
    let r = async {
        ctx.realm()?;
        if let Some(u) = staff_session(&ctx) {
            ctx.state
                .sessions
                .end(&ctx.state.store, &u.token_hash)
                .await?;
        }
        ctx.set_cookie(
            ctx.state
                .sessions
                .removal(ctx.state.sessions.cookie_name(Kind::Staff)),
        );
        Ok(())
    }
    .await;
    match r {
        Ok(()) => ctx.see_other("/console/accedi"),
        Err(e) => ctx.respond(Err(e)),
    }
}
