//! An intermediary's delegations (a CAF, a patronato): each client's signed document, uploaded
//! once with the day it ends, and a registry certificate about a client while theirs holds; and a commune administrator's case settings (the protocol
//! number's format, the partner communes whose desks may file here).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use sportello_cases::delegations::{self, NewDelegation};
use sportello_cases::settings::{self, SettingsForm};

use crate::authz::Admitted;
use crate::error::{AppError, AppResult};
use crate::routes::Ctx;
use crate::routes::cases::attach;
use crate::routes::console_page::{
    button, field, field_help, form, link, no_query, notice_of, render, select, table, text,
};

use super::*;

pub(super) async fn delegations_page(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let list = sportello_cases::desk::delegations(&ctx.state, &actor).await?;
        let rows = list
            .iter()
            .map(|d| {
                let mut row = vec![
                    text(&d.client_name),
                    text(&d.fiscal_code),
                    link(&d.document_name, format!("/console/deleghe/{}/documento", d.id)),
                    text(&d.valid_until),
                    text(if d.in_force { ctx.t("desk_in_force") } else { ctx.t("desk_ended") }),
                ];
                row.push(if d.in_force {
                    button(ctx.t("desk_revoke"), format!("/console/deleghe/{}/revoca", d.id), &[])
                } else {
                    text("")
                });
                row
            })
            .collect();
        let mut f = form(
            ctx.t("desk_delegation_add"),
            "/console/deleghe",
            ctx.t("desk_delegation_add_submit"),
            vec![
                field("text", "fiscal_code", ctx.t("desk_fiscal_code"), ""),
                field("text", "client_name", ctx.t("desk_client_name"), ""),
                field("date", "valid_until", ctx.t("desk_valid_until"), ""),
                json!({"kind": "file", "name": "file", "label": ctx.t("desk_document"), "help": ctx.t("desk_document_help"), "value": ""}),
            ],
        );
        f["form"]["multipart"] = json!(true);
        // A registry certificate about a client, while their delegation holds.
        let clients: Vec<(String, String)> = list
            .iter()
            .filter(|d| d.in_force)
            .map(|d| (d.id.clone(), format!("{} ({})", d.client_name, d.fiscal_code)))
            .collect();
        let kinds: Vec<(String, String)> = sportello_domain::registry::certificate::Kind::ALL
            .iter()
            .map(|k| (k.key().to_owned(), ctx.label_or_code("certificate_kind_", k.key())))
            .collect();
        let mut exemptions = vec![(String::new(), ctx.t("certificate_no_exemption").to_owned())];
        exemptions.extend(
            sportello_domain::registry::certificate::EXEMPTIONS
                .iter()
                .map(|e| (e.key.to_owned(), format!("{} ({})", e.it, e.rule))),
        );
        let certificate = form(
            ctx.t("desk_client_certificate"),
            "/console/deleghe/certificato",
            ctx.t("certificate_get"),
            vec![
                select("delegation", ctx.t("desk_client_name"), &clients, ""),
                select("kind", ctx.t("certificate_kind"), &kinds, "residence"),
                field_help("date", "at", ctx.t("certificate_at"), "", ctx.t("certificate_at_help")),
                field("text", "purpose", ctx.t("certificate_purpose"), ""),
                select("exemption", ctx.t("certificate_exemption"), &exemptions, ""),
            ],
        );
        Ok(vec![
            table(
                ctx.t("desk_delegations"),
                &[
                    ctx.t("desk_client_name"),
                    ctx.t("desk_fiscal_code"),
                    ctx.t("desk_document"),
                    ctx.t("desk_valid_until"),
                    ctx.t("case_status"),
                    "",
                ],
                rows,
            ),
            f,
            certificate,
        ])
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/sportello",
                ctx.t("desk_delegations"),
                ctx.t("desk_delegations_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn delegation_add(
    ctx: Ctx,
    actor: Admitted,
    req: HttpRequest,
    mp: actix_multipart::Multipart,
) -> HttpResponse {
    let r: AppResult<()> = async {
        let _turn = attach::uploads()
            .acquire()
            .await
            .map_err(|_| AppError::Internal("uploads closed".into()))?;
        let up = attach::read(mp, delegations::DOCUMENT_KIB * 1024).await?;
        crate::auth::csrf::check(&req, &ctx.state.secrets, &ctx.state.sessions, &up.csrf)?;
        let get = |k: &str| {
            up.fields
                .iter()
                .find(|(n, _)| n == k)
                .map_or("", |(_, v)| v.as_str())
        };
        delegations::add(
            &ctx.state,
            &actor,
            &NewDelegation {
                fiscal_code: get("fiscal_code"),
                client_name: get("client_name"),
                valid_until: get("valid_until"),
                document_name: &up.name,
                document: &up.bytes,
            },
        )
        .await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => ctx.see_other("/console/deleghe?esito=creato"),
        Err(AppError::Invalid(p)) => {
            crate::routes::cases::attach::redo_upload(&ctx, p);
            let mut res =
                delegations_page(ctx, actor, crate::routes::console_page::no_query()).await;
            *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
            res
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

/// A registry certificate about a client who delegated the intermediary: the PDF.
pub(super) async fn client_certificate(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let r = sportello_population::certificates::Request {
        kind: get("kind"),
        at: get("at"),
        purpose: get("purpose"),
        exemption: get("exemption"),
        ..Default::default()
    };
    let done =
        sportello_population::certificates::for_client(&ctx.state, &actor, &get("delegation"), &r)
            .await;
    match done {
        Ok(c) => ctx.respond(Ok(HttpResponse::Ok()
            .insert_header((actix_web::http::header::CONTENT_TYPE, "application/pdf"))
            .insert_header((
                actix_web::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", c.file_name()),
            ))
            .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
            .body(c.pdf))),
        Err(e) => match ctx.redo(&f, e.into()) {
            Ok(()) => delegations_page(ctx, actor, no_query()).await,
            Err(e) => ctx.respond(Err(e)),
        },
    }
}

pub(super) async fn delegation_revoke(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    _f: crate::routes::Posted<crate::routes::posted::Button>,
) -> HttpResponse {
    match delegations::revoke(&ctx.state, &actor, &id).await {
        Ok(()) => ctx.see_other("/console/deleghe?esito=salvato"),
        Err(e) => ctx.respond(Err(e.into())),
    }
}

pub(super) async fn delegation_document(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
) -> HttpResponse {
    match delegations::document(&ctx.state, &actor, &id).await {
        Ok(d) => attach::send(&ctx, d),
        Err(e) => ctx.respond(Err(e.into())),
    }
}

pub(super) async fn case_settings(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let s = settings::get(&ctx.state, &actor).await?;
        let modes: Vec<(String, String)> = ["none", "all", "some"]
            .iter()
            .map(|m| ((*m).to_owned(), ctx.label_or_code("case_settings_desk_", m)))
            .collect();
        let partners = s
            .partners
            .iter()
            .map(|p| format!("{p:06}"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(vec![form(
            ctx.t("case_settings_title"),
            "/console/pratiche-impostazioni",
            ctx.t("console_save"),
            vec![
                json!({"kind": "text", "name": "protocol_format", "label": ctx.t("case_settings_format"),
                       "help": format!("{} {}", ctx.t("case_settings_format_help"), s.example), "value": s.protocol_format}),
                select("desk", ctx.t("case_settings_desk"), &modes, s.desk),
                json!({"kind": "text", "name": "partners", "label": ctx.t("case_settings_partners"),
                       "help": ctx.t("case_settings_partners_help"), "value": partners}),
            ],
        )])
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/pratiche",
                ctx.t("case_settings_title"),
                "",
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn case_settings_save(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let form = SettingsForm {
        protocol_format: get("protocol_format"),
        desk: get("desk"),
        partners: get("partners"),
    };
    match settings::save(&ctx.state, &actor, &form).await {
        Ok(_) => ctx.see_other("/console/pratiche-impostazioni?esito=salvato"),
        Err(e) => match ctx.redo(&f, e.into()) {
            Ok(()) => case_settings(ctx, actor, crate::routes::console_page::no_query()).await,
            Err(e) => ctx.respond(Err(e)),
        },
    }
}
