//! `POST /stripe/webhook` on the federation's host: Stripe's events for every commune's
//! connected account (`sportello_payments::online::webhook`). A machine speaks here: no session
//! or CSRF applies, the signature over the raw body is the proof; the answer is JSON. A
//! refused signature is a 400 (Stripe tries again later; a forger learns nothing), an event
//! taken or acknowledged a 200, our own failure a 500 (Stripe tries again).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use sportello_payments::online::webhook::{self, Received, Refused};

use super::Ctx;

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::FEDERATION)
        .post("/stripe/webhook", receive);
}

async fn receive(ctx: Ctx, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if !matches!(ctx.site, crate::middleware::Site::Federation) {
        return HttpResponse::NotFound().json(json!({"error": "not found"}));
    }
    let signature = req
        .headers()
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Ok(text) = std::str::from_utf8(&body) else {
        return HttpResponse::BadRequest().json(json!({"error": "not UTF-8"}));
    };
    match webhook::receive(&ctx.state, text, signature).await {
        Ok(Ok(r)) => {
            let what = match r {
                Received::Applied(_, outcome) => outcome,
                Received::Duplicate => "duplicate",
                Received::Ignored(why) => why,
            };
            HttpResponse::Ok().json(json!({"received": true, "outcome": what}))
        }
        Ok(Err(Refused::NotConfigured)) => {
            tracing::warn!("a stripe event came, but no webhook secret is configured");
            HttpResponse::ServiceUnavailable().json(json!({"error": "not configured"}))
        }
        Ok(Err(why)) => {
            tracing::warn!(?why, "stripe event refused");
            HttpResponse::BadRequest().json(json!({"error": "signature"}))
        }
        Err(e) => {
            tracing::error!(error = %e, "applying a stripe event failed");
            HttpResponse::InternalServerError().json(json!({"error": "internal"}))
        }
    }
}
