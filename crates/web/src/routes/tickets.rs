//! Tickets on the commune's site, for anyone (no sign-in: an e-mail address is enough): the
//! offers, one offer's times with the seats left and the form to buy, the order's page (its
//! state, Stripe's Payment Element while it can be paid, the tickets once paid) reached with
//! the key only the buyer has, and each ticket's page with its QR code for the entrance.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use sportello_payments::tickets::buy::{self, Buy};
use sportello_payments::tickets::{entrance, grouped_code, offers};

use crate::error::{AppError, AppResult};
use crate::routes::{Ctx, Posted};

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::COMMUNE)
        .get("/biglietti", list)
        .get("/biglietti/{offer}", offer)
        .post("/biglietti/{offer}", reserve)
        .get("/biglietti/ordine/{order}", order)
        .get("/biglietti/biglietto/{code}", ticket);
}

async fn list(ctx: Ctx) -> HttpResponse {
    let r = async {
        let l = offers::public(&ctx.state, ctx.commune()?.id()).await?;
        let l: Vec<_> = l
            .iter()
            .map(|o| {
                json!({"id": o.id, "title": o.title, "place": o.place,
                       "price": sportello_domain::Money::from_cents(o.price_cents).to_string()})
            })
            .collect();
        Ok(("tickets.html", json!({"offers": l})))
    }
    .await;
    ctx.page(r)
}

async fn offer(ctx: Ctx, id: web::Path<String>) -> HttpResponse {
    let r = offer_page(&ctx, &id).await;
    ctx.page(r)
}

async fn offer_page(ctx: &Ctx, id: &str) -> AppResult<(&'static str, serde_json::Value)> {
    let v = offers::public_one(&ctx.state, ctx.commune()?.id(), id).await?;
    let slots: Vec<_> = v
        .slots
        .iter()
        .map(|s| json!({"id": s.slot.id, "when": buy::when(&s.slot.starts_at), "free": s.free}))
        .collect();
    let fields = [
        ("slot", "t-slot"),
        ("quantity", "t-quantity"),
        ("email", "t-email"),
        ("name", "t-name"),
    ];
    let fee = {
        let tx = ctx.state.store.tenant_read(ctx.commune()?.id()).await?;
        let s = tx.db().payment_settings().await?;
        tx.commit().await?;
        sportello_domain::Money::from_cents(s.fee_cents).to_string()
    };
    Ok((
        "ticket_offer.html",
        json!({"offer": {"id": v.offer.id, "title": v.offer.title, "place": v.offer.place,
                         "price": sportello_domain::Money::from_cents(v.offer.price_cents).to_string(),
                         "max": v.offer.max_per_order},
               "slots": slots, "fee": fee,
               "online": sportello_payments::online::stripe::configured(&ctx.state),
               "csrf": ctx.csrf_token(), "fs": ctx.form_state(&fields, "ticket-form")}),
    ))
}

#[derive(Deserialize, serde::Serialize)]
pub struct BuyForm {
    #[serde(default)]
    slot: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
}

async fn reserve(ctx: Ctx, id: web::Path<String>, form: Posted<BuyForm>) -> HttpResponse {
    let r: AppResult<Result<String, (&'static str, serde_json::Value)>> = async {
        let commune = ctx.commune()?.id();
        if !ctx.state.tickets_limiter.allow(ctx.ip) {
            return Err(AppError::TooManyRequests);
        }
        let b = Buy {
            slot: form.slot.clone(),
            quantity: form.quantity.clone(),
            email: form.email.clone(),
            name: form.name.clone(),
        };
        match buy::reserve(&ctx.state, commune, &id, &b).await {
            Ok((order, key)) => Ok(Ok(format!("/biglietti/ordine/{order}?chiave={key}"))),
            Err(e) => {
                ctx.redo(&form, e.into())?;
                Ok(Err(offer_page(&ctx, &id).await?))
            }
        }
    }
    .await;
    match r {
        Ok(Ok(to)) => ctx.see_other(&to),
        Ok(Err(page)) => {
            let mut res = ctx.page(Ok(page));
            if res.status().is_success() {
                *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
            }
            res
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

#[derive(Deserialize)]
pub struct OrderQuery {
    #[serde(default)]
    chiave: String,
    /// Stripe sends the browser back with the intent's id: the server then asks Stripe.
    payment_intent: Option<String>,
}

async fn order(ctx: Ctx, id: web::Path<String>, q: web::Query<OrderQuery>) -> HttpResponse {
    let r = async {
        let c = ctx.commune()?.id();
        if q.payment_intent.is_some()
            && let Err(e) = buy::refresh(&ctx.state, c, &id, &q.chiave).await
        {
            tracing::warn!(error = %e, "asking stripe on the way back");
        }
        let v = buy::view(&ctx.state, c, &id, &q.chiave).await?;
        let stripe = &ctx.state.settings.stripe;
        let back = format!(
            "{}/biglietti/ordine/{}?chiave={}",
            ctx.base_url().unwrap_or_default(),
            v.order.id,
            q.chiave
        );
        let card = v
            .client_secret
            .as_ref()
            .filter(|_| !stripe.publishable_key.is_empty())
            .map(|s| {
                json!({"secret": s, "key": stripe.publishable_key, "account": v.account,
                       "js": stripe.js_url, "back": back})
            });
        let tickets: Vec<_> = v
            .tickets
            .iter()
            .map(|t| json!({"code": t.code, "grouped": grouped_code(&t.code), "seq": t.seq}))
            .collect();
        let status = if v.order.status == "held" {
            v.payment_status.clone()
        } else {
            v.order.status.clone()
        };
        Ok((
            "ticket_order.html",
            json!({"title": v.offer.title, "place": v.offer.place, "when": buy::when(&v.slot.starts_at),
                   "quantity": v.order.quantity, "email": v.order.email,
                   "status": status, "status_label": ctx.label_or_code("ticket_order_status_", &status),
                   "amount": v.amount.to_string(), "fee": v.fee.to_string(), "total": v.total.to_string(),
                   "card": card, "tickets": tickets, "receipt": v.receipt, "offer": v.offer.id}),
        ))
    }
    .await;
    let mut res = ctx.page(r);
    if res.status().is_success() {
        let csp = super::payments::pay_csp(&ctx.state.settings.stripe.js_url);
        if let Ok(v) = HeaderValue::from_str(&csp) {
            res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

async fn ticket(ctx: Ctx, code: web::Path<String>) -> HttpResponse {
    let r = async {
        let c = ctx.commune()?.id();
        let t = entrance::by_code(&ctx.state, c, &code).await?;
        let check = format!(
            "{}/console/biglietti/valida?codice={}",
            ctx.base_url()?,
            t.ticket.code
        );
        let qr = crate::views::qr::svg(&check, 240, ctx.t("ticket_qr_label")).unwrap_or_default();
        Ok((
            "ticket.html",
            json!({"title": t.offer.title, "place": t.offer.place, "when": buy::when(&t.slot.starts_at),
                   "code": grouped_code(&t.ticket.code), "seq": t.ticket.seq, "of": t.order.quantity,
                   "used": t.ticket.used_at.map(|u| crate::views::when::when(ctx.lang, u)),
                   "voided": t.ticket.voided_at.is_some(),
                   "qr": qr}),
        ))
    }
    .await;
    let mut res = ctx.page(r);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
