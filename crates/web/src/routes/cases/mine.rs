//! The person's cases: the list (with drafts), one case (answers, deadline, history, messages),
//! the answer to the office, the withdrawal; and the status of any case by protocol number and
//! the receipt's code, without signing in.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use sportello_cases::follow;

use crate::error::{AppError, AppResult};
use crate::routes::{Ctx, Posted};

fn who(ctx: &Ctx) -> AppResult<std::sync::Arc<sportello_kernel::session::Current>> {
    ctx.citizen()
        .cloned()
        .ok_or(AppError::Refused("session_ended"))
}

/// Not signed in: sign in, then come back here.
fn to_sign_in(ctx: &Ctx) -> HttpResponse {
    ctx.see_other(&format!(
        "/accedi?next={}",
        url::form_urlencoded::byte_serialize(ctx.path.as_bytes()).collect::<String>()
    ))
}

fn status_label(ctx: &Ctx, code: &str) -> String {
    ctx.label_or_code("case_status_", code)
}

#[derive(Deserialize)]
pub struct ListQuery {
    bozza: Option<String>,
}

pub async fn list(ctx: Ctx, q: web::Query<ListQuery>) -> HttpResponse {
    if ctx.citizen().is_none() {
        return to_sign_in(&ctx);
    }
    let r = async {
        let u = who(&ctx)?;
        let c = ctx.commune()?.id();
        let cases = follow::mine(&ctx.state, c, &u, ctx.lang).await?;
        let drafts = sportello_cases::draft::mine(&ctx.state, c, &u, ctx.lang).await?;
        let cases: Vec<_> = cases
            .iter()
            .map(|x| {
                json!({"id": x.id, "protocol": x.protocol, "service": x.service_title,
                       "status": x.status, "status_label": status_label(&ctx, &x.status),
                       "submitted": crate::views::when::when(ctx.lang, x.submitted_at), "deadline": x.deadline})
            })
            .collect();
        let drafts: Vec<_> = drafts
            .iter()
            .map(|d| json!({"service_id": d.service_id, "service": d.service_title, "updated": crate::views::when::when(ctx.lang, d.updated_at)}))
            .collect();
        Ok((
            "cases_mine.html",
            json!({"cases": cases, "drafts": drafts, "notice": q.bozza.as_ref().map(|_| ctx.t("case_draft_discarded"))}),
        ))
    }
    .await;
    ctx.page(r)
}

#[derive(Deserialize)]
pub struct CaseQuery {
    inviata: Option<String>,
    inviato: Option<String>,
}

pub async fn case(ctx: Ctx, id: web::Path<String>, q: web::Query<CaseQuery>) -> HttpResponse {
    if ctx.citizen().is_none() {
        return to_sign_in(&ctx);
    }
    let r = case_page(&ctx, &id, q.inviata.is_some(), q.inviato.is_some()).await;
    ctx.page(r)
}

async fn case_page(
    ctx: &Ctx,
    id: &str,
    submitted: bool,
    sent: bool,
) -> AppResult<(&'static str, serde_json::Value)> {
    let u = who(ctx)?;
    let v = follow::one(&ctx.state, ctx.commune()?.id(), &u, id, ctx.lang).await?;
    let events: Vec<_> = v
        .events
        .iter()
        .map(|e| {
            json!({"kind": e.kind, "label": ctx.label_or_code("case_event_", &e.kind), "who": e.actor_name,
                   "mine": e.by_citizen, "at": crate::views::when::when(ctx.lang, e.at), "text": e.text})
        })
        .collect();
    let fs = ctx.form_state(
        &[("text", "reply-text"), ("reason", "withdraw-reason")],
        "case-forms",
    );
    Ok((
        "case_page.html",
        json!({
            "case": v,
            "status_label": status_label(ctx, &v.status),
            "submitted": crate::views::when::when(ctx.lang, v.submitted_at),
            "events": events,
            "just_submitted": submitted,
            "just_sent": sent,
            "waiting": v.status == "waiting",
            "fs": fs,
            "csrf": ctx.csrf_token(),
        }),
    ))
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    text: String,
}

pub async fn reply(ctx: Ctx, id: web::Path<String>, form: Posted<ReplyForm>) -> HttpResponse {
    let r = async {
        let u = who(&ctx)?;
        let base = ctx.base_url()?;
        follow::reply(&ctx.state, ctx.commune()?.id(), &u, &id, &form.text, &base).await?;
        Ok(())
    }
    .await;
    after(ctx, &id, &form, r, "inviato").await
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    reason: String,
}

pub async fn withdraw(ctx: Ctx, id: web::Path<String>, form: Posted<WithdrawForm>) -> HttpResponse {
    let r = async {
        let u = who(&ctx)?;
        follow::withdraw(&ctx.state, ctx.commune()?.id(), &u, &id, &form.reason).await?;
        Ok(())
    }
    .await;
    after(ctx, &id, &form, r, "ritirata").await
}

async fn after<T>(
    ctx: Ctx,
    id: &str,
    form: &Posted<T>,
    r: AppResult<()>,
    done: &str,
) -> HttpResponse {
    match r {
        Ok(()) => ctx.see_other(&format!("/area-personale/pratiche/{id}?{done}=1")),
        Err(e) => match ctx.redo(form, e) {
            Ok(()) => {
                let mut res = ctx.page(case_page(&ctx, id, false, false).await);
                if res.status().is_success() {
                    *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
                }
                res
            }
            Err(e) => ctx.respond(Err(e)),
        },
    }
}

#[derive(Deserialize)]
pub struct StatusQuery {
    protocollo: Option<String>,
    codice: Option<String>,
}

/// The status by protocol number and code: what the receipt lets anyone see, nothing personal.
pub async fn status(ctx: Ctx, q: web::Query<StatusQuery>) -> HttpResponse {
    let r = async {
        let c = ctx.commune()?.id();
        let asked = q.protocollo.is_some() || q.codice.is_some();
        let found = match (&q.protocollo, &q.codice) {
            (Some(p), Some(code)) => {
                follow::status_by_code(&ctx.state, c, p, code, ctx.lang).await?
            }
            _ => None,
        };
        Ok((
            "case_status.html",
            json!({
                "asked": asked,
                "protocol": q.protocollo.clone().unwrap_or_default(),
                "found": found.as_ref().map(|s| json!({
                    "protocol": s.protocol, "service": s.service_title,
                    "status": s.status, "status_label": status_label(&ctx, &s.status),
                    "submitted": crate::views::when::when(ctx.lang, s.submitted_at),
                    "updated": crate::views::when::when(ctx.lang, s.updated_at),
                })),
            }),
        ))
    }
    .await;
    ctx.page(r)
}
