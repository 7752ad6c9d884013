//! The registry on the citizen's side: "La mia posizione anagrafica" (my record, my family,
//! my address's history, my document, who looked at my data), certificates at once as PDF, the
//! public verification page of a certificate's stamp, and the commune's published keys.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use sportello_domain::registry::certificate::{EXEMPTIONS, Kind};
use sportello_population::{certificates, keys, position, verify};

use crate::error::AppResult;
use crate::routes::cases::to_sign_in;
use crate::routes::{Ctx, Posted};

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::COMMUNE)
        .get("/area-personale/anagrafe", mine)
        .post("/area-personale/anagrafe/certificati", issue)
        .post("/area-personale/anagrafe/certificati/ritira", collect)
        .get(keys::WELL_KNOWN, published)
        // Registered with the sign-in host's page of the same path, which hands commune hosts here.
        .also("/verifica", "GET");
}

type Pairs = Posted<Vec<(String, String)>>;

fn day(s: &str) -> String {
    sportello_payments::italian_day(s)
}

fn get<'a>(f: &'a [(String, String)], k: &str) -> &'a str {
    f.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

async fn mine_page(ctx: &Ctx) -> AppResult<(&'static str, Value)> {
    let Some(u) = ctx.citizen().cloned() else {
        return Err(crate::error::AppError::NotFound);
    };
    let c = ctx.commune()?.id();
    let pos = position::mine(&ctx.state, c, &u).await?;
    let issued = certificates::mine(&ctx.state, c, &u).await?;
    let person = |v: &sportello_store::population::Version| {
        let f = &v.facts;
        json!({"code": v.fiscal_code, "name": f.name(), "born": f.birth_date.format("%d/%m/%Y").to_string(),
               "place": f.birth_place_name, "relation": ctx.label_or_code("registry_relation_", f.relation.key()),
               "marital": ctx.label_or_code("registry_marital_", f.marital.key()),
               "citizenship": f.citizenship})
    };
    let position = pos.as_ref().map(|p| {
        let f = &p.current.facts;
        let address = |street: &str, f: &sportello_domain::registry::Facts| {
            let mut a = format!("{street} {}", f.number);
            if !f.interior.is_empty() {
                a.push_str(&format!(" int. {}", f.interior));
            }
            a
        };
        json!({
            "me": person(&p.current),
            "address": address(&p.street, f),
            "since": day(&p.current.valid_from),
            "voter": f.voter,
            "document": f.document.as_ref().map(|d| json!({
                "kind": ctx.label_or_code("registry_doc_", d.kind.key()), "number": d.number,
                "expires": d.expires.format("%d/%m/%Y").to_string(),
                "soon": p.document_days.is_some_and(|n| n <= position::DOCUMENT_WARN_DAYS),
                "expired": p.document_days.is_some_and(|n| n < 0)})),
            "family": p.family.iter().map(&person).collect::<Vec<_>>(),
            "history": p.history.iter().map(|(v, street)| json!({
                "from": day(&v.valid_from), "to": v.valid_to.as_deref().map(day),
                "address": address(street, &v.facts),
                "cause": ctx.label_or_code("registry_cause_", &v.cause)})).collect::<Vec<_>>(),
            "accesses": p.accesses.iter().map(|a| json!({
                "when": crate::views::when::when(ctx.lang, a.at), "who": a.who_name,
                "capacity": ctx.label_or_code("registry_capacity_", &a.capacity),
                "purpose": a.purpose, "reference": a.reference, "what": a.what})).collect::<Vec<_>>(),
            "subjects": p.family.iter().map(|m| json!({"value": if m.fiscal_code == p.current.fiscal_code { String::new() } else { m.fiscal_code.clone() }, "label": m.facts.name()})).collect::<Vec<_>>(),
        })
    });
    let kinds: Vec<Value> = Kind::ALL
        .iter()
        .map(
            |k| json!({"value": k.key(), "label": ctx.label_or_code("certificate_kind_", k.key())}),
        )
        .collect();
    let mut exemptions = vec![json!({"value": "", "label": ctx.t("certificate_no_exemption")})];
    exemptions.extend(
        EXEMPTIONS
            .iter()
            .map(|e| json!({"value": e.key, "label": format!("{} ({})", e.it, e.rule)})),
    );
    let issued: Vec<Value> = issued
        .iter()
        .map(|c| json!({"number": format!("{}/{}", c.year, c.number), "kind": ctx.label_or_code("certificate_kind_", &c.kind),
                        "when": crate::views::when::when(ctx.lang, c.issued_at), "expires": day(&c.expires_on),
                        "for": c.on_behalf_of}))
        .collect();
    let waiting: Vec<Value> = certificates::duty::waiting(&ctx.state, c, &u)
        .await?
        .iter()
        .map(|w| json!({"id": w.request.id, "kind": ctx.label_or_code("certificate_kind_", &w.request.kind),
                        "when": crate::views::when::when(ctx.lang, w.request.created_at),
                        "notice": w.notice, "paid": w.paid, "state": w.request.state,
                        "certificate": w.request.certificate}))
        .collect();
    let fields = [
        ("kind", "c-kind"),
        ("subject", "c-subject"),
        ("at", "c-at"),
        ("purpose", "c-purpose"),
        ("exemption", "c-exemption"),
    ];
    Ok((
        "registry_mine.html",
        json!({"position": position, "kinds": kinds, "exemptions": exemptions, "issued": issued, "waiting": waiting,
               "csrf": ctx.csrf_token(), "fs": ctx.form_state(&fields, "certificate-form")}),
    ))
}

fn answer(ctx: &Ctx, r: AppResult<(&'static str, Value)>) -> HttpResponse {
    let mut res = ctx.page(r);
    if ctx.redoing() && res.status().is_success() {
        *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

async fn mine(ctx: Ctx) -> HttpResponse {
    if ctx.citizen().is_none() {
        return to_sign_in(&ctx);
    }
    let r = mine_page(&ctx).await;
    answer(&ctx, r)
}

/// A certificate asked for: the PDF at once, or the page again with what was refused.
async fn issue(ctx: Ctx, f: Pairs) -> HttpResponse {
    let Some(u) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let req = certificates::Request {
        kind: get(&f, "kind").to_owned(),
        subject: get(&f, "subject").to_owned(),
        at: get(&f, "at").to_owned(),
        purpose: get(&f, "purpose").to_owned(),
        exemption: get(&f, "exemption").to_owned(),
        duty_paid: String::new(),
    };
    let r = async {
        let c = ctx.commune()?.id();
        Ok::<_, crate::error::AppError>(certificates::duty::ask(&ctx.state, c, &u, &req).await?)
    }
    .await;
    match r {
        // The stamp duty first: to "Da pagare", where the notice waits.
        Ok(certificates::duty::Asked::ToPay { .. }) => ctx.see_other("/area-personale/pagamenti"),
        Ok(certificates::duty::Asked::Issued(done)) => pdf_of(&ctx, done),
        Err(e) => {
            if let Err(e) = ctx.redo(&f, e) {
                return ctx.respond(Err(e));
            }
            let r = mine_page(&ctx).await;
            answer(&ctx, r)
        }
    }
}

/// A certificate whose stamp duty is paid, collected (once).
async fn collect(ctx: Ctx, f: Pairs) -> HttpResponse {
    let Some(u) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let r = async {
        let c = ctx.commune()?.id();
        Ok::<_, crate::error::AppError>(
            certificates::duty::collect(&ctx.state, c, &u, get(&f, "request")).await?,
        )
    }
    .await;
    match r {
        Ok(done) => pdf_of(&ctx, done),
        Err(e) => ctx.respond(Err(e)),
    }
}

fn pdf_of(ctx: &Ctx, done: certificates::Issued) -> HttpResponse {
    ctx.respond(Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/pdf"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", done.file_name()),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(done.pdf)))
}

#[derive(serde::Deserialize)]
pub struct VerifyQuery {
    t: Option<String>,
}

/// The public verification page: paste the code's text, or arrive by scanning it.
pub(super) async fn verify_page(ctx: Ctx, q: web::Query<VerifyQuery>) -> HttpResponse {
    let r = async {
        let c = ctx.commune()?.id();
        let text = q.t.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let result = match text {
            None => Value::Null,
            Some(t) if t.len() > 8192 => {
                json!({"ok": false, "why": ctx.t("verify_refusal_malformed")})
            }
            Some(t) => {
                let checked = verify::on_host(&ctx.state, c, t).await?;
                match checked.verdict {
                    Ok(content) => {
                        json!({"ok": true, "recorded": checked.recorded, "number": content.n,
                        "kind": ctx.label_or_code("certificate_kind_", &content.k),
                        "issued": day(&content.i), "expires": day(&content.x), "lines": content.l})
                    }
                    Err(why) => {
                        json!({"ok": false, "why": ctx.label_or_code("verify_refusal_", why.key())})
                    }
                }
            }
        };
        Ok((
            "verify.html",
            json!({"result": result, "text": text.filter(|t| t.len() <= 8192).unwrap_or("")}),
        ))
    }
    .await;
    let mut res = ctx.page(r);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    res
}

/// The commune's public keys, for verifiers that work offline.
async fn published(ctx: Ctx) -> HttpResponse {
    let r = async {
        let c = ctx.commune()?.id();
        Ok(serde_json::to_value(keys::published(&ctx.state, c).await?).unwrap_or_default())
    }
    .await;
    ctx.json(r)
}
