//! Payments on the citizen's side: "Da pagare" (the notices this commune addressed to the
//! signed-in person's fiscal code) and each notice, printable with its pagoPA QR code.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;
use sportello_payments::{document, due};

use crate::error::AppError;
use crate::routes::Ctx;

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::COMMUNE)
        .get("/area-personale/pagamenti", mine)
        .get("/area-personale/pagamenti/{number}/avviso", notice_pdf);
}

fn to_sign_in(ctx: &Ctx) -> HttpResponse {
    ctx.see_other(&format!(
        "/accedi?next={}",
        url::form_urlencoded::byte_serialize(ctx.path.as_bytes()).collect::<String>()
    ))
}

fn day(s: &str) -> String {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| s.to_owned())
}

pub async fn mine(ctx: Ctx) -> HttpResponse {
    let Some(u) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let r = async {
        let list = due::mine(&ctx.state, ctx.commune()?.id(), &u).await?;
        let lines: Option<Vec<_>> = list.map(|l| {
            l.iter()
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
        Ok(("payments_due.html", json!({"notices": lines})))
    }
    .await;
    ctx.page(r)
}

/// A PDF handed over as a file, never cached.
pub(crate) fn pdf_response(ctx: &Ctx, number: &str, pdf: Vec<u8>) -> HttpResponse {
    let name: String = number.chars().filter(char::is_ascii_digit).collect();
    ctx.respond(Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/pdf"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"avviso-{name}.pdf\""),
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
