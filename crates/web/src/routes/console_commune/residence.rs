//! Declarations of residence in the console (registry office): the ones to register (with
//! their two working days) and the ones under the police check (with its 45 days), one
//! declaration with its people as the registry holds them, and the three acts — register,
//! confirm, reject.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use sportello_authz::{Action, Object};
use sportello_population::residence;

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post_or, field, form, form_with_text, link, no_query, notice_of, render_or, select,
    table, text,
};

use super::registry::{day, get};
use super::*;

fn page_of(id: &str) -> String {
    format!("/console/anagrafe/residenze/{id}")
}

pub(super) async fn moves_page(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let (filed, registered) = residence::waiting(&ctx.state, &actor).await?;
        let rows = filed
            .iter()
            .map(|l| {
                let on = sportello_cases::rome_day(l.submitted_at);
                vec![
                    link(&l.protocol, page_of(&l.id)),
                    text(&l.applicant_name),
                    text(day(&on.to_string())),
                    text(day(
                        &sportello_domain::registry::residence::register_by(on).to_string()
                    )),
                ]
            })
            .collect();
        let mut a = table(
            ctx.t("residence_to_register"),
            &[
                ctx.t("residence_protocol"),
                ctx.t("residence_applicant"),
                ctx.t("residence_filed"),
                ctx.t("residence_register_by"),
            ],
            rows,
        );
        a["empty"] = json!(ctx.t("residence_none"));
        let rows = registered
            .iter()
            .map(|m| {
                vec![
                    link(&m.case_id, page_of(&m.case_id)),
                    text(day(&m.legal_day)),
                    text(day(&m.check_by)),
                    text(m.people.len()),
                ]
            })
            .collect();
        let mut b = table(
            ctx.t("residence_under_check"),
            &[
                ctx.t("residence_case"),
                ctx.t("residence_from"),
                ctx.t("residence_check_by"),
                ctx.t("residence_people"),
            ],
            rows,
        );
        b["empty"] = json!(ctx.t("residence_none"));
        Ok(vec![a, b])
    }
    .await;
    render_or(
        &ctx,
        &actor,
        "/console/anagrafe",
        (ctx.t("residence_title"), ctx.t("residence_intro")),
        notice_of(&ctx, &q),
        r,
    )
    .await
}

pub(super) async fn move_page(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    q: Query,
) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let v = residence::view(&ctx.state, &actor, &id).await?;
        let origin = match v.origin.0 {
            "" => String::new(),
            o => format!(
                "{} {}",
                ctx.label_or_code("residence_origin_", o),
                v.origin.1
            ),
        };
        let mut out = vec![table(
            &ctx.tf("residence_declaration", &[&v.protocol]),
            &[ctx.t("residence_what"), ctx.t("residence_value")],
            vec![
                vec![text(ctx.t("residence_filed")), text(day(&v.filed_on))],
                vec![
                    text(ctx.t("residence_register_by")),
                    text(day(&v.register_by)),
                ],
                vec![text(ctx.t("residence_check_by")), text(day(&v.check_by))],
                vec![text(ctx.t("residence_origin")), text(origin)],
                vec![
                    text(ctx.t("residence_address")),
                    text(format!("{} {} {}", v.street, v.number, v.interior)),
                ],
                vec![
                    text(ctx.t("residence_joins")),
                    text(v.joins.as_ref().map_or_else(
                        || ctx.t("residence_new_family").to_owned(),
                        |h| h.facts.name(),
                    )),
                ],
                vec![
                    text(ctx.t("residence_state")),
                    text(ctx.label_or_code(
                        "residence_state_",
                        v.registered.as_ref().map_or("filed", |m| m.state.as_str()),
                    )),
                ],
            ],
        )];
        let people = v
            .people
            .iter()
            .map(|p| {
                vec![
                    text(&p.code),
                    text(&p.name),
                    text(ctx.label_or_code("registry_relation_", p.relation)),
                    text(if p.now.is_some() {
                        ctx.t("residence_resident")
                    } else {
                        ctx.t("residence_newcomer")
                    }),
                ]
            })
            .collect();
        out.push(table(
            ctx.t("residence_people"),
            &[
                ctx.t("registry_fiscal_code"),
                ctx.t("registry_name"),
                ctx.t("registry_relation"),
                ctx.t("residence_in_registry"),
            ],
            people,
        ));
        if !v.problems.is_empty() {
            let rows = v
                .problems
                .iter()
                .map(|p| vec![text(&p.field), text(ctx.problem_text(p))])
                .collect();
            out.push(table(
                ctx.t("residence_problems"),
                &[ctx.t("payments_column"), ctx.t("payments_problem")],
                rows,
            ));
        }
        let closed = matches!(v.status.as_str(), "accepted" | "rejected" | "withdrawn");
        if closed {
            return Ok(out);
        }
        match &v.registered {
            None if v.problems.is_empty() => {
                let streets: Vec<(String, String)> = v.streets.clone();
                out.push(form_with_text(
                    ctx.t("residence_register"),
                    ctx.t("residence_register_help"),
                    &format!("{}/registra", page_of(&v.case_id)),
                    ctx.t("residence_register_submit"),
                    vec![select(
                        "street",
                        ctx.t("residence_street"),
                        &streets,
                        v.street_code.as_deref().unwrap_or(""),
                    )],
                ));
            }
            Some(m) if m.state == "registered" => {
                out.push(form(
                    ctx.t("residence_confirm"),
                    &format!("{}/conferma", page_of(&v.case_id)),
                    ctx.t("residence_confirm_submit"),
                    vec![],
                ));
            }
            _ => {}
        }
        if v.registered
            .as_ref()
            .is_none_or(|m| m.state == "registered")
        {
            out.push(form_with_text(
                ctx.t("residence_reject"),
                ctx.t("residence_reject_help"),
                &format!("{}/rigetta", page_of(&v.case_id)),
                ctx.t("residence_reject_submit"),
                vec![field("text", "reason", ctx.t("residence_reason"), "")],
            ));
        }
        Ok(out)
    }
    .await;
    render_or(
        &ctx,
        &actor,
        "/console/anagrafe",
        (ctx.t("residence_title"), ctx.t("residence_intro")),
        notice_of(&ctx, &q),
        r,
    )
    .await
}

async fn acted(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Pairs,
    what: &'static str,
) -> HttpResponse {
    let path = id.into_inner();
    let r = async {
        let base = ctx.base_url()?;
        match what {
            "register" => {
                residence::register(&ctx.state, &actor, &path, get(&f, "street"), &base).await?
            }
            "confirm" => residence::confirm(&ctx.state, &actor, &path, &base).await?,
            _ => residence::reject(&ctx.state, &actor, &path, get(&f, "reason"), &base).await?,
        }
        Ok(format!("{}?esito=salvato", page_of(&path)))
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| {
        move_page(ctx, actor, web::Path::from(path), no_query())
    })
    .await
}

async fn register(ctx: Ctx, actor: Admitted, id: web::Path<String>, f: Pairs) -> HttpResponse {
    acted(ctx, actor, id, f, "register").await
}
async fn confirm(ctx: Ctx, actor: Admitted, id: web::Path<String>, f: Pairs) -> HttpResponse {
    acted(ctx, actor, id, f, "confirm").await
}
async fn reject(ctx: Ctx, actor: Admitted, id: web::Path<String>, f: Pairs) -> HttpResponse {
    acted(ctx, actor, id, f, "reject").await
}

/// The registry office's acts need `records` update (the case's office is checked too).
pub(super) fn routes(r: &mut Routes) {
    let update = Needs::Commune(Need::Allow(Object::Records, Action::Update));
    r.get("/console/anagrafe/residenze", update, moves_page)
        .get("/console/anagrafe/residenze/{id}", update, move_page)
        .post(
            "/console/anagrafe/residenze/{id}/registra",
            update,
            register,
        )
        .post("/console/anagrafe/residenze/{id}/conferma", update, confirm)
        .post("/console/anagrafe/residenze/{id}/rigetta", update, reject);
}
