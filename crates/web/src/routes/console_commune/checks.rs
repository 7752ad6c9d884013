//! Checks by agencies: the commune's agreements (fields, purposes, checks a minute) and which
//! verifier accounts act for which agency, on the registry page; the verifier's own page; and
//! the same check as JSON (`POST /api/v1/registry/checks`, a verifier's API token).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use sportello_population::checks::{self, AgencyForm, FIELDS, Question};

use crate::authz::Admitted;
use crate::error::{AppError, AppResult};
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post_or, button, check, field, field_help, form, no_query, notice_of, render_or, select,
    table, text,
};

use super::*;

fn get<'a>(f: &'a [(String, String)], k: &str) -> &'a str {
    f.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The agreements' sections of the registry page (for those who may change them).
pub(super) async fn agency_sections(ctx: &Ctx, actor: &Admitted) -> AppResult<Vec<Value>> {
    let list = checks::agencies(&ctx.state, actor).await?;
    let rows = list
        .iter()
        .map(|a| {
            vec![
                text(format!("{} ({})", a.name, a.id)),
                text(
                    a.fields
                        .iter()
                        .map(|f| ctx.label_or_code("check_field_", f))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                text(a.purposes.join("; ")),
                text(a.per_minute),
                if a.revoked_at.is_some() {
                    text(ctx.t("agency_revoked"))
                } else {
                    button(
                        ctx.t("agency_revoke"),
                        format!("/console/anagrafe/enti/{}/revoca", a.id),
                        &[],
                    )
                },
            ]
        })
        .collect();
    let mut t = table(
        ctx.t("agencies"),
        &[
            ctx.t("agency_name"),
            ctx.t("agency_fields"),
            ctx.t("agency_purposes"),
            ctx.t("agency_per_minute"),
            "",
        ],
        rows,
    );
    t["empty"] = json!(ctx.t("agencies_none"));
    t["text"] = json!(ctx.t("agencies_help"));
    let mut fields = vec![
        field_help(
            "text",
            "id",
            ctx.t("agency_id"),
            "",
            ctx.t("agency_id_help"),
        ),
        field("text", "name", ctx.t("agency_name"), ""),
    ];
    for f in FIELDS {
        fields.push(check(
            &format!("field:{f}"),
            &ctx.label_or_code("check_field_", f),
            false,
        ));
    }
    fields.push(field_help(
        "textarea",
        "purposes",
        ctx.t("agency_purposes"),
        "",
        ctx.t("agency_purposes_help"),
    ));
    fields.push(field(
        "number",
        "per_minute",
        ctx.t("agency_per_minute"),
        "60",
    ));
    let live: Vec<(String, String)> = list
        .iter()
        .filter(|a| a.revoked_at.is_none())
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let mut out = vec![
        t,
        form(
            ctx.t("agency_save"),
            "/console/anagrafe/enti",
            ctx.t("console_save"),
            fields,
        ),
    ];
    if !live.is_empty() {
        out.push(form(
            ctx.t("agency_member"),
            "/console/anagrafe/enti/membri",
            ctx.t("agency_member_link"),
            vec![
                select("agency", ctx.t("agency_name"), &live, ""),
                field_help(
                    "email",
                    "email",
                    ctx.t("agency_member_email"),
                    "",
                    ctx.t("agency_member_help"),
                ),
            ],
        ));
    }
    Ok(out)
}

pub(super) async fn agency_save(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let r = async {
        let form = AgencyForm {
            id: get(&f, "id").into(),
            name: get(&f, "name").into(),
            fields: f
                .iter()
                .filter_map(|(k, _)| k.strip_prefix("field:").map(str::to_owned))
                .collect(),
            purposes: get(&f, "purposes").into(),
            per_minute: get(&f, "per_minute").into(),
        };
        checks::save_agency(&ctx.state, &actor, &form).await?;
        Ok("/console/anagrafe?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| registry(ctx, actor, no_query())).await
}

pub(super) async fn agency_revoke(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Pairs,
) -> HttpResponse {
    let r = async {
        checks::revoke_agency(&ctx.state, &actor, &id).await?;
        Ok("/console/anagrafe?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| registry(ctx, actor, no_query())).await
}

pub(super) async fn agency_member(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let r = async {
        checks::link_member(&ctx.state, &actor, get(&f, "agency"), get(&f, "email")).await?;
        Ok("/console/anagrafe?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| registry(ctx, actor, no_query())).await
}

/// The verifier's page: the form, and the last answer.
async fn checks_page(
    ctx: Ctx,
    actor: Admitted,
    q: Query,
    answer: Option<checks::Answer>,
) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let agency = checks::agency_of(&ctx.state, &actor).await?;
        let mut out = vec![];
        if let Some(a) = answer {
            let mut rows = vec![vec![
                text(ctx.t("check_resident")),
                text(if a.resident {
                    ctx.t("yes")
                } else {
                    ctx.t("no")
                }),
            ]];
            for (k, v) in &a.fields {
                let shown = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                rows.push(vec![
                    text(ctx.label_or_code("check_field_", k)),
                    text(shown),
                ]);
            }
            out.push(table(
                &format!("{} — {}", ctx.t("check_answer"), a.fiscal_code),
                &[ctx.t("registry_field"), ctx.t("registry_value")],
                rows,
            ));
        }
        let purposes: Vec<(String, String)> = agency
            .purposes
            .iter()
            .map(|p| (p.clone(), p.clone()))
            .collect();
        let mut f = form(
            ctx.t("check_new"),
            "/console/verifiche",
            ctx.t("check_submit"),
            vec![
                field("text", "fiscal_code", ctx.t("registry_fiscal_code"), ""),
                select("purpose", ctx.t("registry_purpose"), &purposes, ""),
                field_help(
                    "text",
                    "reference",
                    ctx.t("check_reference"),
                    "",
                    ctx.t("check_reference_help"),
                ),
            ],
        );
        f["text"] = json!(ctx.tf("check_agreement", &[&agency.name]));
        out.push(f);
        Ok(out)
    }
    .await;
    render_or(
        &ctx,
        &actor,
        "/console/verifiche",
        (ctx.t("console_nav_checks"), ctx.t("checks_intro")),
        notice_of(&ctx, &q),
        r,
    )
    .await
}

pub(super) async fn checks_form(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    checks_page(ctx, actor, q, None).await
}

pub(super) async fn check_post(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let q = Question {
        fiscal_code: get(&f, "fiscal_code").into(),
        purpose: get(&f, "purpose").into(),
        reference: get(&f, "reference").into(),
    };
    match checks::check(&ctx.state, &actor, &q).await {
        Ok(a) => checks_page(ctx, actor, no_query(), Some(a)).await,
        Err(e) => match ctx.redo(&f, e.into()) {
            Ok(()) => checks_page(ctx, actor, no_query(), None).await,
            Err(e) => ctx.respond(Err(e)),
        },
    }
}

/// `POST /api/v1/registry/checks`: a JSON question, a JSON answer.
pub(crate) async fn api_check(
    ctx: Ctx,
    actor: Admitted,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let r = async {
        let json = crate::routes::api_cases::is_json(&req);
        if !json {
            return Err(AppError::BadRequest(
                "the body must be application/json".into(),
            ));
        }
        let q: Question = serde_json::from_slice(&body)
            .map_err(|e| AppError::BadRequest(format!("the body is not a check: {e}")))?;
        if [&q.fiscal_code, &q.purpose, &q.reference]
            .iter()
            .any(|s| s.chars().any(|c| c.is_control()))
        {
            return Err(AppError::BadRequest("control characters".into()));
        }
        let a = checks::check(&ctx.state, &actor, &q).await?;
        serde_json::to_value(a).map_err(|e| AppError::Internal(e.to_string()))
    }
    .await;
    ctx.json(r)
}
