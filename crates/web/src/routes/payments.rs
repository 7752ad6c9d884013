//! Payments on the citizen's side: "Da pagare" (the notices this commune addressed to the
//! signed-in person's fiscal code), each notice printable with its pagoPA QR code, paying one
//! or several online, and a payment's page (its state as the commune recorded it, and Stripe's
//! Payment Element while it can be paid).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;
use sportello_payments::online::pay;
use sportello_payments::{document, due, italian_day as day};

use crate::error::AppError;
use crate::routes::cases::to_sign_in;
use crate::routes::{Ctx, Posted};

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::COMMUNE)
        .get("/area-personale/pagamenti", mine)
        .get("/area-personale/pagamenti/{number}/avviso", notice_pdf)
        .post("/area-personale/pagamenti/paga", pay)
        .get("/area-personale/pagamenti/pagamento/{id}", payment_page)
        .get(
            "/area-personale/pagamenti/pagamento/{id}/ricevuta",
            receipt_pdf,
        );
}

#[derive(serde::Deserialize)]
pub struct MineQuery {
    scegli: Option<String>,
}

pub async fn mine(ctx: Ctx, q: web::Query<MineQuery>) -> HttpResponse {
    let Some(u) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let r = async {
        let list = due::mine(&ctx.state, ctx.commune()?.id(), &u).await?;
        let online = list.as_ref().is_some_and(|m| m.online);
        let payments: Vec<_> = list
            .as_ref()
            .map(|m| {
                m.payments
                    .iter()
                    .map(|p| {
                        json!({"id": p.id, "when": crate::views::when::when(ctx.lang, p.created_at),
                               "total": p.total.to_string(), "status": p.status,
                               "status_label": ctx.label_or_code("payment_status_", &p.status),
                               "receipt": p.receipt})
                    })
                    .collect()
            })
            .unwrap_or_default();
        let fee = list.as_ref().map(|m| m.fee.to_string());
        let lines: Option<Vec<_>> = list.map(|l| {
            l.notices
                .iter()
                .map(|n| {
                    json!({"number": n.number, "grouped": n.grouped, "reason": n.reason,
                           "kind": ctx.label_or_code("payment_kind_", &n.kind),
                           "amount": n.amount.to_string(), "due": day(&n.due_on), "overdue": n.overdue,
                           "reduced": n.reduced.as_ref().map(|(m, until)| json!({"amount": m.to_string(), "until": day(until)})),
                           "today": n.to_pay_today.to_string(),
                           "status": n.status.key(),
                           "status_label": ctx.label_or_code("notice_status_", n.status.key())})
                })
                .collect()
        });
        Ok((
            "payments_due.html",
            json!({"notices": lines, "online": online, "fee": fee, "csrf": ctx.csrf_token(),
                   "choose": q.scegli.is_some(), "payments": payments}),
        ))
    }
    .await;
    ctx.page(r)
}

/// A notice's PDF handed over as a file, never cached.
pub(crate) fn pdf_response(ctx: &Ctx, number: &str, pdf: Vec<u8>) -> HttpResponse {
    let name: String = number.chars().filter(char::is_ascii_digit).collect();
    pdf_file(ctx, &format!("avviso-{name}.pdf"), pdf)
}

fn pdf_file(ctx: &Ctx, name: &str, pdf: Vec<u8>) -> HttpResponse {
    ctx.respond(Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/pdf"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(pdf)))
}

pub async fn notice_pdf(ctx: Ctx, number: web::Path<String>) -> HttpResponse {
    let Some(u) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let r = async {
        Ok::<_, AppError>(
            document::for_citizen(&ctx.state, ctx.commune()?.id(), &u, &number, ctx.lang).await?,
        )
    }
    .await;
    match r {
        Ok(pdf) => pdf_response(&ctx, &number, pdf),
        Err(e) => ctx.respond(Err(e)),
    }
}

/// Pays the notices ticked (`avviso`, repeated): the payment is made, then its page.
pub async fn pay(ctx: Ctx, f: Posted<Vec<(String, String)>>) -> HttpResponse {
    let Some(u) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let numbers: Vec<String> = f
        .iter()
        .filter(|(k, _)| k == "avviso")
        .map(|(_, v)| v.clone())
        .collect();
    let r = async {
        let c = ctx.commune()?.id();
        Ok::<_, AppError>(pay::start(&ctx.state, c, &u, &numbers).await?)
    }
    .await;
    match r {
        Ok(id) => ctx.see_other(&format!("/area-personale/pagamenti/pagamento/{id}")),
        Err(AppError::Invalid(_)) => ctx.see_other("/area-personale/pagamenti?scegli=1"),
        Err(e) => ctx.respond(Err(e)),
    }
}

#[derive(serde::Deserialize)]
pub struct BackQuery {
    /// Stripe sends the browser back with the intent's id: the server then asks Stripe.
    payment_intent: Option<String>,
}

/// Where Stripe.js comes from, and what the payment page's policy lets it do (Stripe's
/// documented needs: its script, its frames, its API).
pub(crate) fn pay_csp(js_url: &str) -> String {
    let origin = url::Url::parse(js_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "https://js.stripe.com".into());
    format!(
        "default-src 'self'; script-src 'self' {origin}; frame-src {origin} https://js.stripe.com https://hooks.stripe.com; \
         connect-src 'self' {origin} https://api.stripe.com; style-src 'self'; style-src-attr 'unsafe-inline'; \
         img-src 'self' data: https://*.stripe.com; font-src 'self' data:; object-src 'none'; base-uri 'self'; \
         frame-ancestors 'none'"
    )
}

pub async fn payment_page(
    ctx: Ctx,
    id: web::Path<String>,
    q: web::Query<BackQuery>,
) -> HttpResponse {
    let Some(u) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let r = async {
        let c = ctx.commune()?.id();
        if q.payment_intent.is_some()
            && let Err(e) = pay::refresh(&ctx.state, c, &u, &id).await
        {
            // The page still says what the commune recorded; the webhook or the sweeper settle it.
            tracing::warn!(error = %e, "asking stripe on the way back");
        }
        let v = pay::view(&ctx.state, c, &u, &id).await?;
        let stripe = &ctx.state.settings.stripe;
        let items: Vec<_> = v
            .items
            .iter()
            .map(|(n, reason, m)| json!({"number": n, "reason": reason, "amount": m.to_string()}))
            .collect();
        let card = v.client_secret.as_ref().filter(|_| !stripe.publishable_key.is_empty()).map(|s| {
            json!({"secret": s, "key": stripe.publishable_key, "account": v.account, "js": stripe.js_url,
                   "back": format!("{}/area-personale/pagamenti/pagamento/{}", ctx.base_url().unwrap_or_default(), v.id)})
        });
        Ok((
            "payments_pay.html",
            json!({"id": v.id, "status": v.status, "status_label": ctx.label_or_code("payment_status_", &v.status),
                   "amount": v.amount.to_string(), "fee": v.fee.to_string(), "total": v.total.to_string(),
                   "items": items, "card": card, "receipt": v.receipt, "stale": v.stale}),
        ))
    }
    .await;
    let mut res = ctx.page(r);
    if res.status().is_success() {
        let csp = pay_csp(&ctx.state.settings.stripe.js_url);
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&csp) {
            res.headers_mut()
                .insert(actix_web::http::header::CONTENT_SECURITY_POLICY, v);
        }
        res.headers_mut().insert(
            actix_web::http::header::CACHE_CONTROL,
            actix_web::http::header::HeaderValue::from_static("no-store"),
        );
    }
    res
}

/// A paid payment's receipt.
pub async fn receipt_pdf(ctx: Ctx, id: web::Path<String>) -> HttpResponse {
    let Some(u) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let r = async {
        let c = ctx.commune()?.id();
        Ok::<_, AppError>(
            sportello_payments::receipt::for_citizen(&ctx.state, c, &u, &id, ctx.lang).await?,
        )
    }
    .await;
    match r {
        Ok((name, pdf)) => pdf_file(&ctx, &name, pdf),
        Err(e) => ctx.respond(Err(e)),
    }
}
