//! `POST /sms/esiti` on a commune's host: its SMS gateway's delivery reports (see
//! `sportello_notify::reports`). A machine speaks here: the answer is JSON, errors too, and no
//! session or CSRF applies (the commune's secret, in `Authorization: Bearer`, is the proof).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::Ctx;
use crate::error::{AppError, AppResult};

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::COMMUNE)
        .post("/sms/esiti", delivery_report);
}

async fn delivery_report(ctx: Ctx, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let r: AppResult<bool> = async {
        let commune = ctx.commune()?.id();
        let secret = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("")
            .trim();
        let report: sportello_notify::reports::Report =
            serde_json::from_slice(&body).map_err(|_| AppError::BadInput("bad_input_fields"))?;
        Ok(sportello_notify::reports::record(&ctx.state, commune, secret, &report).await?)
    }
    .await;
    match r {
        Ok(recorded) => HttpResponse::Ok().json(json!({"recorded": recorded})),
        Err(e) => {
            if e.status().is_server_error() {
                tracing::error!(error = %e, "recording a delivery report failed");
            }
            let message = match &e {
                AppError::Refused(k) | AppError::BadInput(k) => {
                    ctx.state.render.strings.get(ctx.lang, k).to_owned()
                }
                other => other.public_message(),
            };
            HttpResponse::build(e.status())
                .json(json!({"error": {"status": e.status().as_u16(), "code": e.code(), "message": message}}))
        }
    }
}
