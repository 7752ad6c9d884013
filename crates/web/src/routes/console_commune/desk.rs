//! The desk: staff filing for a citizen (front desk, call centre, intermediaries), the forms
//! filled in as the citizen would, the cases they filed with their receipts, and an
//! intermediary's delegations. The services decide who may do what (`sportello_cases::desk`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use sportello_cases::desk::{self, PartnerDesk, StartRequest};
use sportello_cases::filer::FiledAs;
use sportello_domain::TenantId;

use crate::authz::Admitted;
use crate::error::{AppError, AppResult};
use crate::routes::cases::attach;
use crate::routes::cases::fill::{self, PageQuery, Place};
use crate::routes::console_page::{
    field, form, link, notice_of, render, select, table, text, when,
};
use crate::routes::{Ctx, Posted};

use super::*;

fn commune_param(s: &str) -> AppResult<TenantId> {
    s.parse::<i64>()
        .map(TenantId)
        .map_err(|_| AppError::NotFound)
}

pub(super) async fn desk_page(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let here = actor.commune()?;
        let as_ = desk::filed_as(&ctx.state, &actor).await?;
        let targets = if as_ == FiledAs::FrontDesk {
            PartnerDesk::targets(&ctx.state, here).await?
        } else {
            vec![(here, ctx.commune()?.record.name.clone())]
        };
        let target = match q.get("comune") {
            Some(c) => commune_param(c)?,
            None => here,
        };
        let (target, target_name) = targets
            .iter()
            .find(|(id, _)| *id == target)
            .cloned()
            .ok_or(AppError::NotFound)?;
        let services = {
            let tx = ctx.state.store.tenant_read(target).await?;
            let forms = tx.db().latest_forms().await?;
            let services = tx.db().services().await?;
            tx.commit().await?;
            services
                .into_iter()
                .filter(|s| forms.iter().any(|f| f.service_id == s.id))
                .map(|s| {
                    let t = sportello_cases::view::title(&s, ctx.lang).to_owned();
                    (s.id, t)
                })
                .collect::<Vec<_>>()
        };
        let mut out = vec![];
        if targets.len() > 1 {
            out.push(table(
                ctx.t("desk_communes"),
                &[ctx.t("desk_commune")],
                targets
                    .iter()
                    .map(|(id, name)| {
                        if *id == target {
                            vec![text(format!("▸ {name}"))]
                        } else {
                            vec![link(name, format!("/console/sportello?comune={}", id.0))]
                        }
                    })
                    .collect(),
            ));
        }
        let mut fields = vec![
            json!({"kind": "hidden", "name": "commune", "value": target.0.to_string()}),
            select("service", ctx.t("case_service"), &services, ""),
            field("text", "fiscal_code", ctx.t("desk_fiscal_code"), ""),
            field("text", "given_name", ctx.t("desk_given_name"), ""),
            field("text", "family_name", ctx.t("desk_family_name"), ""),
            json!({"kind": "textarea", "name": "purpose", "label": ctx.t("desk_purpose"),
                   "help": ctx.t("desk_purpose_help"), "value": "", "rows": 2}),
        ];
        if as_ == FiledAs::Intermediary {
            let ds: Vec<(String, String)> = desk::delegations(&ctx.state, &actor)
                .await?
                .into_iter()
                .filter(|d| d.in_force)
                .map(|d| {
                    let label = format!("{} ({}) · {}", d.client_name, d.fiscal_code, d.valid_until);
                    (d.id, label)
                })
                .collect();
            fields.push(select("delegation", ctx.t("desk_delegation"), &ds, ""));
        }
        out.push(form(
            &format!("{} · {target_name}", ctx.t("desk_start")),
            "/console/sportello",
            ctx.t("desk_start_submit"),
            fields,
        ));
        let filed = desk::filed_by_me(&ctx.state, &actor, ctx.lang).await?;
        out.push(table(
            ctx.t("desk_filed"),
            &[
                ctx.t("case_protocol"),
                ctx.t("desk_commune"),
                ctx.t("case_applicant"),
                ctx.t("case_service"),
                ctx.t("case_status"),
                ctx.t("case_submitted"),
            ],
            filed
                .iter()
                .map(|l| {
                    vec![
                        link(
                            &l.protocol,
                            format!("/console/sportello/pratiche/{}/{}", l.commune, l.id),
                        ),
                        text(&l.commune_name),
                        text(&l.applicant_name),
                        text(&l.service_title),
                        text(ctx.label_or_code("case_status_", &l.status)),
                        text(when(&ctx, l.submitted_at)),
                    ]
                })
                .collect(),
        ));
        if as_ != FiledAs::Intermediary {
            out.push(form(
                ctx.t("desk_lookup"),
                "/console/sportello/cittadino",
                ctx.t("desk_lookup_submit"),
                vec![
                    field("text", "fiscal_code", ctx.t("desk_fiscal_code"), ""),
                    field("text", "family_name", ctx.t("desk_family_name"), ""),
                    json!({"kind": "textarea", "name": "purpose", "label": ctx.t("desk_purpose"),
                           "help": ctx.t("desk_purpose_help"), "value": "", "rows": 2}),
                ],
            ));
        }
        if as_ == FiledAs::Intermediary {
            out.push(json!({"heading": ctx.t("desk_delegations"), "table": {"headers": [ctx.t("desk_delegations")], "rows": [[{"text": ctx.t("desk_delegations_manage"), "href": "/console/deleghe"}]]}}));
        }
        Ok(out)
    }
    .await;
    match r {
        Ok(sections) => {
            render(
                &ctx,
                &actor,
                "/console/sportello",
                ctx.t("desk_title"),
                ctx.t("desk_intro"),
                notice_of(&ctx, &q),
                sections,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn desk_start(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let r: AppResult<(TenantId, String)> = async {
        let req = StartRequest {
            target: commune_param(&get("commune"))?,
            service_id: get("service"),
            fiscal_code: get("fiscal_code"),
            given_name: get("given_name"),
            family_name: get("family_name"),
            purpose: get("purpose"),
            delegation_id: Some(get("delegation")).filter(|d| !d.is_empty()),
        };
        let id = desk::start(&ctx.state, &actor, &req).await?;
        Ok((req.target, id))
    }
    .await;
    match r {
        Ok((c, id)) => ctx.see_other(&format!("/console/sportello/bozze/{}/{id}", c.0)),
        Err(e) => match ctx.redo(&f, e) {
            Ok(()) => desk_page(ctx, actor, crate::routes::console_page::no_query()).await,
            Err(e) => ctx.respond(Err(e)),
        },
    }
}

/// The place of one of the actor's desk drafts.
async fn place(ctx: &Ctx, actor: &Admitted, commune: &str, draft: &str) -> AppResult<Place> {
    let target = commune_param(commune)?;
    let (filer, service) = desk::resume(&ctx.state, actor, target, draft).await?;
    Ok(Place {
        commune: target,
        filer,
        service,
        base: format!("/console/sportello/bozze/{}/{draft}", target.0),
        done: format!("/console/sportello/pratiche/{}/", target.0),
        discarded: "/console/sportello?esito=eliminato".into(),
        desk: true,
    })
}

type DraftPath = web::Path<(String, String)>;

pub(super) async fn desk_fill(
    ctx: Ctx,
    actor: Admitted,
    path: DraftPath,
    q: web::Query<PageQuery>,
) -> HttpResponse {
    match place(&ctx, &actor, &path.0, &path.1).await {
        Ok(p) => fill::page_at(&ctx, &p, q.pagina).await,
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn desk_save(
    ctx: Ctx,
    actor: Admitted,
    path: DraftPath,
    f: Pairs,
) -> HttpResponse {
    match place(&ctx, &actor, &path.0, &path.1).await {
        Ok(p) => fill::save_at(&ctx, &p, &f).await,
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn desk_summary(ctx: Ctx, actor: Admitted, path: DraftPath) -> HttpResponse {
    match place(&ctx, &actor, &path.0, &path.1).await {
        Ok(p) => fill::summary_at(&ctx, &p).await,
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn desk_submit(
    ctx: Ctx,
    actor: Admitted,
    path: DraftPath,
    _f: Posted<crate::routes::posted::Button>,
) -> HttpResponse {
    match place(&ctx, &actor, &path.0, &path.1).await {
        Ok(p) => fill::submit_at(&ctx, &p, &path.1, None).await,
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn desk_discard(
    ctx: Ctx,
    actor: Admitted,
    path: DraftPath,
    _f: Posted<crate::routes::posted::Button>,
) -> HttpResponse {
    // Not through the draft's place: a draft whose delegation ended can still be thrown away.
    let r: AppResult<()> = async {
        let target = commune_param(&path.0)?;
        Ok(desk::discard(&ctx.state, &actor, target, &path.1).await?)
    }
    .await;
    match r {
        Ok(()) => ctx.see_other("/console/sportello?esito=eliminato"),
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn desk_upload(
    ctx: Ctx,
    actor: Admitted,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    mp: actix_multipart::Multipart,
) -> HttpResponse {
    let (c, d, field) = path.into_inner();
    match place(&ctx, &actor, &c, &d).await {
        Ok(p) => attach::upload_at(&ctx, &req, &p, &field, mp).await,
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn desk_remove_file(
    ctx: Ctx,
    actor: Admitted,
    path: web::Path<(String, String, String)>,
    _f: Posted<crate::routes::posted::Button>,
) -> HttpResponse {
    let (c, d, file) = path.into_inner();
    match place(&ctx, &actor, &c, &d).await {
        Ok(p) => attach::remove_at(&ctx, &p, &file).await,
        Err(e) => ctx.respond(Err(e)),
    }
}

/// A case the actor filed: what the person would see, and its receipt.
pub(super) async fn desk_case(
    ctx: Ctx,
    actor: Admitted,
    path: DraftPath,
    q: Query,
) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let target = commune_param(&path.0)?;
        let v = desk::filed_case(&ctx.state, &actor, target, &path.1, ctx.lang).await?;
        let mut facts = vec![
            vec![text(ctx.t("case_protocol")), text(&v.protocol)],
            vec![
                text(ctx.t("case_code")),
                text(v.code.clone().unwrap_or_default()),
            ],
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
        ];
        if let Some(f) = &v.filed {
            facts.push(vec![text(ctx.t("desk_purpose")), text(&f.purpose)]);
        }
        facts.push(vec![
            text(ctx.t("case_receipt")),
            link(
                ctx.t("case_receipt_download"),
                format!("/console/sportello/pratiche/{}/{}/ricevuta", path.0, path.1),
            ),
        ]);
        let mut out = vec![table(
            &v.protocol,
            &[ctx.t("case_fact"), ctx.t("case_value")],
            facts,
        )];
        out.push(table(
            ctx.t("case_history"),
            &[ctx.t("case_when"), ctx.t("case_what"), ctx.t("case_who")],
            v.events
                .iter()
                .map(|e| {
                    vec![
                        text(when(&ctx, e.at)),
                        text(ctx.label_or_code("case_event_", &e.kind)),
                        text(&e.actor_name),
                    ]
                })
                .collect(),
        ));
        Ok(out)
    }
    .await;
    match r {
        Ok(sections) => {
            let notice = q
                .get("inviata")
                .map(|_| ("success", ctx.t("desk_filed_notice").to_owned()));
            render(
                &ctx,
                &actor,
                "/console/sportello",
                ctx.t("desk_case_title"),
                "",
                notice,
                sections,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn desk_receipt(ctx: Ctx, actor: Admitted, path: DraftPath) -> HttpResponse {
    let r = async {
        let target = commune_param(&path.0)?;
        let base = ctx.base_url_of(target)?;
        Ok(
            sportello_cases::receipt::filed(&ctx.state, &actor, target, &path.1, ctx.lang, &base)
                .await?,
        )
    }
    .await;
    match r {
        Ok((name, bytes)) => attach::send(
            &ctx,
            sportello_cases::files::Download {
                name,
                media_type: "application/pdf",
                bytes,
            },
        ),
        Err(e) => ctx.respond(Err(e)),
    }
}

/// A citizen's cases, looked up at the desk (the look is recorded, and shown on each case).
pub(super) async fn desk_lookup(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let r = sportello_cases::lookup::citizen_cases(
        &ctx.state,
        &actor,
        &get("fiscal_code"),
        &get("family_name"),
        &get("purpose"),
        ctx.lang,
    )
    .await;
    let looked = match r {
        Ok(l) => l,
        Err(e) => {
            return match ctx.redo(&f, e.into()) {
                Ok(()) => desk_page(ctx, actor, crate::routes::console_page::no_query()).await,
                Err(e) => ctx.respond(Err(e)),
            };
        }
    };
    let mut sections = vec![];
    if looked.cases.is_empty() {
        sections.push(json!({"heading": ctx.t("desk_lookup_none"), "table": {"headers": [ctx.t("case_protocol")], "rows": []}}));
    }
    for v in &looked.cases {
        let facts = vec![
            vec![text(ctx.t("case_service")), text(&v.service_title)],
            vec![
                text(ctx.t("case_status")),
                text(ctx.label_or_code("case_status_", &v.status)),
            ],
            vec![text(ctx.t("case_office")), text(&v.office_name)],
            vec![
                text(ctx.t("case_submitted")),
                text(when(&ctx, v.submitted_at)),
            ],
        ];
        let mut t = table(
            &v.protocol,
            &[ctx.t("case_fact"), ctx.t("case_value")],
            facts,
        );
        t["tables"] = json!([{
            "heading": ctx.t("case_history"),
            "headers": [ctx.t("case_when"), ctx.t("case_what"), ctx.t("case_who")],
            "rows": v.events.iter().map(|e| vec![
                text(when(&ctx, e.at)),
                text(ctx.label_or_code("case_event_", &e.kind)),
                text(&e.actor_name),
            ]).collect::<Vec<_>>(),
        }]);
        sections.push(t);
    }
    render(
        &ctx,
        &actor,
        "/console/sportello",
        &format!("{} {}", ctx.t("desk_lookup_title"), looked.applicant_name),
        ctx.t("desk_lookup_intro"),
        None,
        sections,
    )
    .await
}

/// Acting for citizens: the desk and an intermediary's delegations (the services check the
/// role: front desk, call centre or intermediary).
pub(super) fn routes(r: &mut Routes) {
    let act_for = Needs::Commune(Need::Allow(Object::Cases, Action::ActFor));
    r.get("/console/sportello", act_for, desk_page)
        .post("/console/sportello", act_for, desk_start)
        .post("/console/sportello/cittadino", act_for, desk_lookup)
        .get(
            "/console/sportello/bozze/{commune}/{draft}",
            act_for,
            desk_fill,
        )
        .post(
            "/console/sportello/bozze/{commune}/{draft}",
            act_for,
            desk_save,
        )
        .get(
            "/console/sportello/bozze/{commune}/{draft}/riepilogo",
            act_for,
            desk_summary,
        )
        .post(
            "/console/sportello/bozze/{commune}/{draft}/invia",
            act_for,
            desk_submit,
        )
        .post(
            "/console/sportello/bozze/{commune}/{draft}/elimina",
            act_for,
            desk_discard,
        )
        .post(
            "/console/sportello/bozze/{commune}/{draft}/allegati/{field}",
            act_for,
            desk_upload,
        )
        .post(
            "/console/sportello/bozze/{commune}/{draft}/allegati/{file}/elimina",
            act_for,
            desk_remove_file,
        )
        .get(
            "/console/sportello/pratiche/{commune}/{id}",
            act_for,
            desk_case,
        )
        .get(
            "/console/sportello/pratiche/{commune}/{id}/ricevuta",
            act_for,
            desk_receipt,
        )
        .get("/console/deleghe", act_for, delegations_page)
        .post("/console/deleghe", act_for, delegation_add)
        .post("/console/deleghe/certificato", act_for, client_certificate)
        .post("/console/deleghe/{id}/revoca", act_for, delegation_revoke)
        .get(
            "/console/deleghe/{id}/documento",
            act_for,
            delegation_document,
        );
}
