//! The back office: the queues of the offices the staff member works for, one case with its
//! whole history, and what they do with it (one form per action, posting to the case).

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use sportello_authz::{Action, Object};
use sportello_cases::office::{self, Act, QUEUES, QueueQuery};

use crate::authz::Admitted;
use crate::error::{AppError, AppResult};
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post_or, field, form, link, no_query, notice_of, render, select, table, text, when,
};

use super::*;

fn deadline_words(ctx: &Ctx, d: &Option<sportello_domain::Deadline>) -> String {
    match d {
        None => "—".into(),
        Some(d) if d.paused => ctx.t("case_deadline_paused").to_owned(),
        Some(d) if d.overdue => format!("{} ({})", ctx.t("case_overdue"), d.due),
        Some(d) => format!("{} · {} {}", d.due, d.days_left, ctx.t("case_days_left")),
    }
}

fn query(q: &HashMap<String, String>) -> AppResult<QueueQuery> {
    let code = q.get("coda").map_or("nuove", String::as_str);
    let queue = QUEUES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, x)| *x)
        .ok_or_else(|| AppError::BadParam("coda".into()))?;
    let page = match q.get("pagina") {
        None => 0,
        Some(p) => p
            .parse::<u64>()
            .ok()
            .filter(|p| *p < 10_000)
            .ok_or_else(|| AppError::BadParam("pagina".into()))?,
    };
    let opt = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    Ok(QueueQuery {
        queue,
        office: opt("ufficio"),
        service: opt("servizio"),
        search: opt("q"),
        from: None,
        to: None,
        page,
    })
}

pub(super) async fn cases(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let qq = query(&q)?;
        let code = q.get("coda").cloned().unwrap_or_else(|| "nuove".into());
        let page = office::queue(&ctx.state, &actor, &qq).await?;
        let search = q.get("q").cloned().unwrap_or_default();
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let tabs: Vec<Vec<Value>> = page
            .counts
            .iter()
            .map(|(c, n)| {
                let n = if *n > sportello_store::cases::COUNT_CAP {
                    format!("{}+", sportello_store::cases::COUNT_CAP)
                } else {
                    n.to_string()
                };
                let label = format!("{} ({n})", ctx.label_or_code("case_queue_", c));
                if *c == code {
                    vec![text(format!("▸ {label}"))]
                } else {
                    vec![link(label, format!("/console/pratiche?coda={c}&q={}", enc(&search)))]
                }
            })
            .collect();
        let rows: Vec<Vec<Value>> = page
            .lines
            .iter()
            .map(|l| {
                vec![
                    link(&l.protocol, format!("/console/pratiche/{}", l.id)),
                    text(&l.service_id),
                    text(&l.applicant_name),
                    text(ctx.label_or_code("case_status_", &l.status)),
                    text(when(&ctx, l.submitted_at)),
                    text(deadline_words(&ctx, &l.deadline)),
                    text(&l.office_id),
                ]
            })
            .collect();
        let mut out = vec![
            table(ctx.t("case_queues"), &[ctx.t("case_queue")], tabs),
            json!({"heading": ctx.t("case_search"), "text": ctx.t("case_search_help"), "search": {"action": format!("/console/pratiche?coda={code}"), "value": search}}),
            table(
                &ctx.label_or_code("case_queue_", &code),
                &[
                    ctx.t("case_protocol"),
                    ctx.t("case_service"),
                    ctx.t("case_applicant"),
                    ctx.t("case_status"),
                    ctx.t("case_submitted"),
                    ctx.t("case_deadline"),
                    ctx.t("case_office"),
                ],
                rows,
            ),
        ];
        let mut pages = vec![];
        if page.page > 0 {
            pages.push(vec![link(ctx.t("page_previous"), format!("/console/pratiche?coda={code}&q={}&pagina={}", enc(&search), page.page - 1))]);
        }
        if page.more {
            pages.push(vec![link(ctx.t("page_next"), format!("/console/pratiche?coda={code}&q={}&pagina={}", enc(&search), page.page + 1))]);
        }
        if !pages.is_empty() {
            out.push(table(ctx.t("case_pages"), &[ctx.t("case_pages")], pages));
        }
        let (by_service, by_office) = office::ratings(&ctx.state, &actor).await?;
        let avg = |a: &sportello_store::cases::ratings::Average| {
            vec![text(&a.id), text(format!("{},{}", a.tenths / 10, a.tenths % 10)), text(a.count)]
        };
        out.push(table(
            ctx.t("rating_by_service"),
            &[ctx.t("case_service"), ctx.t("rating_average"), ctx.t("rating_count")],
            by_service.iter().map(avg).collect(),
        ));
        out.push(table(
            ctx.t("rating_by_office"),
            &[ctx.t("case_office"), ctx.t("rating_average"), ctx.t("rating_count")],
            by_office.iter().map(avg).collect(),
        ));
        Ok(out)
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/pratiche",
                ctx.t("console_nav_cases"),
                ctx.t("console_cases_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn case_page(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    q: Query,
) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let v = office::case(&ctx.state, &actor, &id, ctx.lang).await?;
        let facts = vec![
            vec![text(ctx.t("case_protocol")), text(&v.protocol)],
            vec![text(ctx.t("case_service")), text(&v.service_title)],
            vec![
                text(ctx.t("case_applicant")),
                text(format!(
                    "{} ({})",
                    v.applicant_name,
                    v.fiscal_code.as_deref().unwrap_or("—")
                )),
            ],
            vec![
                text(ctx.t("case_status")),
                text(ctx.label_or_code("case_status_", &v.status)),
            ],
            vec![text(ctx.t("case_office")), text(&v.office_name)],
            vec![
                text(ctx.t("case_submitted")),
                text(when(&ctx, v.submitted_at)),
            ],
            vec![
                text(ctx.t("case_deadline")),
                text(deadline_words(&ctx, &v.deadline)),
            ],
            vec![
                text(ctx.t("case_signature")),
                text(format!(
                    "{} ({}, {} {})",
                    if v.signed {
                        ctx.t("case_signed")
                    } else {
                        ctx.t("case_not_signed")
                    },
                    v.idp,
                    ctx.t("level"),
                    v.level
                )),
            ],
        ];
        let mut out = vec![table(
            &v.protocol,
            &[ctx.t("case_fact"), ctx.t("case_value")],
            facts,
        )];
        for p in &v.answers {
            out.push(table(
                &p.title,
                &[ctx.t("case_question"), ctx.t("case_answer")],
                p.rows
                    .iter()
                    .map(|r| vec![text(&r.label), text(&r.value)])
                    .collect(),
            ));
        }
        if !v.files.is_empty() {
            out.push(table(
                ctx.t("case_files_attached"),
                &[ctx.t("case_file"), ctx.t("case_question"), "SHA-256"],
                v.files
                    .iter()
                    .map(|f| {
                        vec![
                            link(
                                &f.name,
                                format!("/console/pratiche/{}/allegati/{}", v.id, f.id),
                            ),
                            text(&f.field),
                            text(&f.sha256),
                        ]
                    })
                    .collect(),
            ));
        }
        let history = v
            .events
            .iter()
            .map(|e| {
                vec![
                    text(when(&ctx, e.at)),
                    text(ctx.label_or_code("case_event_", &e.kind)),
                    text(&e.actor_name),
                    text(if e.public {
                        ctx.t("case_public")
                    } else {
                        ctx.t("case_internal")
                    }),
                    text(match &e.office {
                        Some(o) if !e.text.is_empty() => format!("{} — {o}", e.text),
                        Some(o) => o.clone(),
                        None => e.text.clone(),
                    }),
                ]
            })
            .collect();
        out.push(table(
            ctx.t("case_history"),
            &[
                ctx.t("case_when"),
                ctx.t("case_what"),
                ctx.t("case_who"),
                ctx.t("case_seen_by"),
                ctx.t("case_text"),
            ],
            history,
        ));
        let may_work = actor.may(&ctx.state, Object::Cases, Action::Update).await;
        if !v.closed && may_work {
            out.extend(action_forms(&ctx, &actor, &v).await?);
        }
        // The response document: with the outcome or after it (a permit, a decision).
        if may_work && v.status != "submitted" && v.status != "withdrawn" {
            let mut f = form(
                ctx.t("case_response_document"),
                &format!("/console/pratiche/{}/documento", v.id),
                ctx.t("case_response_attach"),
                vec![
                    json!({"kind": "file", "name": "file", "label": ctx.t("case_response_file"),
                            "help": ctx.t("case_response_help"), "value": ""}),
                ],
            );
            f["form"]["multipart"] = json!(true);
            out.push(f);
        }
        Ok(out)
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/pratiche",
                ctx.t("console_nav_cases"),
                "",
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

async fn action_forms(
    ctx: &Ctx,
    actor: &Admitted,
    v: &sportello_cases::view::CaseView,
) -> AppResult<Vec<Value>> {
    let action = format!("/console/pratiche/{}", v.id);
    let hidden = |a: &str| json!({"kind": "hidden", "name": "azione", "value": a});
    let mut out = vec![];
    if v.status == "submitted" {
        out.push(form(
            ctx.t("case_act_take"),
            &action,
            ctx.t("case_act_take"),
            vec![hidden("prendi")],
        ));
    }
    if v.status == "in_charge" {
        out.push(form(
            ctx.t("case_act_ask"),
            &action,
            ctx.t("case_send"),
            vec![
                hidden("chiedi"),
                field("textarea", "text", ctx.t("case_act_ask_text"), ""),
            ],
        ));
        let outcomes = vec![
            (
                "accolta".to_owned(),
                ctx.t("case_status_accepted").to_owned(),
            ),
            (
                "respinta".to_owned(),
                ctx.t("case_status_rejected").to_owned(),
            ),
        ];
        out.push(form(
            ctx.t("case_act_decide"),
            &action,
            ctx.t("case_act_decide"),
            vec![
                hidden("esito"),
                select("outcome", ctx.t("case_outcome"), &outcomes, "accolta"),
                field("textarea", "reason", ctx.t("case_outcome_reason"), ""),
            ],
        ));
    }
    out.push(form(
        ctx.t("case_act_message"),
        &action,
        ctx.t("case_send"),
        vec![
            hidden("messaggio"),
            field("textarea", "text", ctx.t("case_message"), ""),
        ],
    ));
    out.push(form(
        ctx.t("case_act_note"),
        &action,
        ctx.t("save"),
        vec![
            hidden("nota"),
            field("textarea", "text", ctx.t("case_note"), ""),
        ],
    ));
    let colleagues = office::colleagues(&ctx.state, actor, &v.office_id).await?;
    if !colleagues.is_empty() {
        out.push(form(
            ctx.t("case_act_assign"),
            &action,
            ctx.t("case_act_assign"),
            vec![
                hidden("assegna"),
                select(
                    "staff_id",
                    ctx.t("case_assignee"),
                    &colleagues,
                    v.assigned_to.as_deref().unwrap_or(""),
                ),
            ],
        ));
    }
    let tx = ctx.state.store.tenant_read(actor.commune()?).await?;
    let offices: Vec<(String, String)> = tx
        .db()
        .offices()
        .await?
        .into_iter()
        .filter(|o| o.id != v.office_id)
        .map(|o| (o.id, o.name))
        .collect();
    tx.commit().await?;
    out.push(form(
        ctx.t("case_act_reroute"),
        &action,
        ctx.t("case_act_reroute"),
        vec![
            hidden("ufficio"),
            select("office", ctx.t("case_office"), &offices, ""),
            field("textarea", "reason", ctx.t("case_reroute_reason"), ""),
        ],
    ));
    Ok(out)
}

pub(super) async fn case_act(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Pairs,
) -> HttpResponse {
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let r = async {
        let act = match get("azione").as_str() {
            "prendi" => Act::Take,
            "chiedi" => Act::Ask { text: get("text") },
            "messaggio" => Act::Message { text: get("text") },
            "nota" => Act::Note { text: get("text") },
            "assegna" => Act::Assign {
                staff_id: get("staff_id"),
            },
            "esito" => Act::Decide {
                accept: get("outcome") == "accolta",
                reason: get("reason"),
            },
            "ufficio" => Act::Reroute {
                office: get("office"),
                reason: get("reason"),
            },
            _ => return Err(AppError::BadRequest("unknown action".into())),
        };
        let base = ctx.base_url()?;
        office::act(&ctx.state, &actor, &id, &act, &base).await?;
        Ok(format!("/console/pratiche/{id}?esito=salvato"))
    }
    .await;
    let again_id = id.clone();
    after_post_or(ctx, &f, r, |ctx| {
        case_page(ctx, actor, web::Path::from(again_id), no_query())
    })
    .await
}

/// The office attaches its response document (multipart, its form token in the body).
pub(super) async fn case_document(
    ctx: Ctx,
    actor: Admitted,
    req: actix_web::HttpRequest,
    id: web::Path<String>,
    mp: actix_multipart::Multipart,
) -> HttpResponse {
    use crate::routes::cases::attach;
    let r: AppResult<()> = async {
        let _turn = attach::uploads()
            .acquire()
            .await
            .map_err(|_| AppError::Internal("uploads closed".into()))?;
        let up = attach::read(mp, sportello_cases::response::RESPONSE_KIB * 1024).await?;
        crate::auth::csrf::check(&req, &ctx.state.secrets, &ctx.state.sessions, &up.csrf)?;
        let base = ctx.base_url()?;
        sportello_cases::response::attach(&ctx.state, &actor, &id, &up.name, &up.bytes, &base)
            .await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => ctx.see_other(&format!("/console/pratiche/{id}?esito=salvato")),
        Err(AppError::Invalid(p)) => {
            crate::routes::cases::attach::redo_upload(&ctx, p);
            let mut res = case_page(ctx, actor, id, crate::routes::console_page::no_query()).await;
            *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
            res
        }
        Err(e) => ctx.respond(Err(e)),
    }
}
