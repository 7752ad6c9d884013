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
pub(crate) fn to_sign_in(ctx: &Ctx) -> HttpResponse {
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
    /// The stars chosen at the rating's first step.
    stelle: Option<u8>,
    valutata: Option<String>,
    allegato: Option<String>,
}

pub async fn case(ctx: Ctx, id: web::Path<String>, q: web::Query<CaseQuery>) -> HttpResponse {
    if ctx.citizen().is_none() {
        return to_sign_in(&ctx);
    }
    let notice = if q.inviato.is_some() {
        Some("case_message_sent")
    } else if q.valutata.is_some() {
        Some("case_rated")
    } else if q.allegato.is_some() {
        Some("case_file_added")
    } else {
        None
    };
    let stars = q.stelle.filter(|s| (1..=5).contains(s));
    let r = case_page(&ctx, &id, q.inviata.is_some(), notice, stars).await;
    ctx.page(r)
}

/// The rating's second question, for the stars chosen: its fixed answers in words.
fn rating_answers(ctx: &Ctx, stars: u8) -> Vec<serde_json::Value> {
    sportello_domain::rating::Rating::answers_for(stars)
        .iter()
        .map(|a| json!({"value": a, "label": ctx.label_or_code("rating_answer_", a)}))
        .collect()
}

async fn case_page(
    ctx: &Ctx,
    id: &str,
    submitted: bool,
    notice: Option<&'static str>,
    stars: Option<u8>,
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
        &[
            ("text", "reply-text"),
            ("reason", "withdraw-reason"),
            ("answer", "rate-answer"),
            ("details", "rate-details"),
            ("stars", "rate-stars"),
            ("file", "case-file"),
        ],
        "case-forms",
    );
    // A refused rating comes back at its second step, with the stars sent.
    let stars = stars.or_else(|| fs["values"]["stars"].as_str().and_then(|s| s.parse().ok()));
    Ok((
        "case_page.html",
        json!({
            "case": v,
            "status_label": status_label(ctx, &v.status),
            "submitted": crate::views::when::when(ctx.lang, v.submitted_at),
            "events": events,
            "just_submitted": submitted,
            "notice": notice.map(|k| ctx.t(k)),
            "rate": v.closed && v.rated.is_none(),
            "stars": stars,
            "rating_question": stars.map(|s| ctx.t(if s < 4 { "rating_where_hard" } else { "rating_what_liked" })),
            "rating_answers": stars.map(|s| rating_answers(ctx, s)),
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
pub struct RateForm {
    #[serde(default)]
    stars: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    details: String,
}

pub async fn rate(ctx: Ctx, id: web::Path<String>, form: Posted<RateForm>) -> HttpResponse {
    let r = async {
        let u = who(&ctx)?;
        follow::rate(
            &ctx.state,
            ctx.commune()?.id(),
            &u,
            &id,
            &form.stars,
            &form.answer,
            &form.details,
        )
        .await?;
        Ok(())
    }
    .await;
    after(ctx, &id, &form, r, "valutata").await
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

/// The case page again after a refused post (its words by the field), status 400.
pub(super) async fn case_again(ctx: &Ctx, id: &str) -> HttpResponse {
    let mut res = ctx.page(case_page(ctx, id, false, None, None).await);
    if res.status().is_success() {
        *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    res
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
                let mut res = ctx.page(case_page(&ctx, id, false, None, None).await);
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
pub struct StatusForm {
    #[serde(default)]
    protocollo: String,
    #[serde(default)]
    codice: String,
}

/// The status page's empty form.
pub async fn status_form(ctx: Ctx) -> HttpResponse {
    ctx.page(status_page(&ctx, None).await)
}

/// The status by protocol number and code: what the receipt lets anyone see, nothing personal.
/// Posted, so the code stays out of addresses, logs and the browser's history.
pub async fn status(ctx: Ctx, form: Posted<StatusForm>) -> HttpResponse {
    ctx.page(status_page(&ctx, Some(&form)).await)
}

async fn status_page(
    ctx: &Ctx,
    asked: Option<&StatusForm>,
) -> AppResult<(&'static str, serde_json::Value)> {
    let c = ctx.commune()?.id();
    let found = match asked {
        Some(f) => {
            follow::status_by_code(&ctx.state, c, &f.protocollo, &f.codice, ctx.lang).await?
        }
        None => None,
    };
    Ok((
        "case_status.html",
        json!({
            "asked": asked.is_some(),
            "protocol": asked.map(|f| f.protocollo.clone()).unwrap_or_default(),
            "csrf": ctx.csrf_token(),
            "found": found.as_ref().map(|s| json!({
                "protocol": s.protocol, "service": s.service_title,
                "status": s.status, "status_label": status_label(ctx, &s.status),
                "submitted": crate::views::when::when(ctx.lang, s.submitted_at),
                "updated": crate::views::when::when(ctx.lang, s.updated_at),
            })),
        }),
    ))
}

/// The receipt of one of the person's cases, as a PDF download.
pub async fn receipt(ctx: Ctx, id: web::Path<String>) -> HttpResponse {
    if ctx.citizen().is_none() {
        return to_sign_in(&ctx);
    }
    let r = async {
        let u = who(&ctx)?;
        let base = ctx.base_url()?;
        Ok(sportello_cases::receipt::receipt(
            &ctx.state,
            ctx.commune()?.id(),
            &u,
            &id,
            ctx.lang,
            &base,
        )
        .await?)
    }
    .await;
    match r {
        Ok((name, pdf)) => ctx.respond(Ok(HttpResponse::Ok()
            .insert_header((actix_web::http::header::CONTENT_TYPE, "application/pdf"))
            .insert_header((
                actix_web::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ))
            .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
            .body(pdf))),
        Err(e) => ctx.respond(Err(e)),
    }
}
