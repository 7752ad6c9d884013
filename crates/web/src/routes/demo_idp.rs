//! `/demo/identita` on the sign-in host, in demo mode only (`serve --demo`; the routes are not
//! even registered otherwise): the demonstration identity provider's page, and signing in as one
//! of its fictitious people through the same path as a real provider's answer.

use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use sportello_domain::AssuranceLevel;

use super::signin::{after_idp_answer, complete, flow_cookie_name};
use super::{Ctx, Posted};
use crate::error::{AppError, AppResult};
use sportello_identity::citizen::{self};
use sportello_identity::idp::demo;

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::LOGIN)
        .get("/demo/identita", page)
        .post("/demo/identita", sign_in);
}

async fn page(ctx: Ctx, req: HttpRequest) -> HttpResponse {
    let r = async {
        ctx.on_login_host()?;
        let flow_token = req
            .cookie(flow_cookie_name(&ctx))
            .map(|c| c.value().to_owned());
        let flow = citizen::flow(&ctx.state, flow_token.as_deref()).await?;
        let needed = flow
            .as_ref()
            .and_then(|f| AssuranceLevel::parse(&f.level).ok())
            .unwrap_or(AssuranceLevel::Low);
        let people: Vec<_> = demo::PEOPLE
            .iter()
            .map(|p| {
                let commune = p
                    .commune_istat
                    .parse()
                    .ok()
                    .and_then(|id| ctx.state.tenancy.by_id(sportello_domain::TenantId(id)))
                    .map(|c| c.record.name.clone());
                json!({
                    "id": p.id,
                    "name": format!("{} {}", p.given_name, p.family_name),
                    "fiscal_code": p.fiscal_code,
                    "level": p.level.number(),
                    "level_label": p.level.label(ctx.lang),
                    "enough": p.level >= needed,
                    "commune": commune,
                    "address": p.address,
                })
            })
            .collect();
        Ok(ctx.page(Ok((
            "demo_idp.html",
            json!({
                "people": people,
                "needed_level": needed.number(),
                "needed_label": needed.label(ctx.lang),
                "csrf": ctx.csrf_token(),
            }),
        ))))
    }
    .await;
    ctx.respond(r)
}

#[derive(Deserialize)]
pub struct DemoForm {
    person: String,
}

async fn sign_in(ctx: Ctx, req: HttpRequest, form: Posted<DemoForm>) -> HttpResponse {
    let r = sign_in_inner(&ctx, &req, &form).await;
    // The provider, not the posted text (anyone may post anything here).
    after_idp_answer(&ctx, r, "demo", |e| match demo::person(&form.person) {
        Some(p) => format!("{}: {e}", p.id),
        None => e.to_string(),
    })
    .await
}

async fn sign_in_inner(ctx: &Ctx, req: &HttpRequest, form: &DemoForm) -> AppResult<String> {
    ctx.on_login_host()?;
    let who = demo::person(&form.person)
        .ok_or_else(|| AppError::BadRequest("person: not a person of the demo".into()))?;
    // The sign-in this browser started (a commune waiting, the level it needs), or a new one.
    let (flow_token, requested, _) = super::oidc::flow_token(ctx, req).await?;
    let (person, level) = demo::sign_in(&ctx.state, who, requested).await?;
    let flow = citizen::flow(&ctx.state, Some(&flow_token)).await?;
    complete(ctx, flow, &person, level, &format!("demo:{}", who.id), None).await
}
