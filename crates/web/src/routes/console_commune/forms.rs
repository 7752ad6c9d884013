//! The form editor of a service (`/console/servizi/{id}/modulo`): the pages and fields as they
//! stand, a step at a time (add a field on a page or a new one, with a condition on an earlier
//! answer; move it; remove it), and the preview of the citizen's view. The service decides who
//! may change what (`sportello_cases::form_edit`).

use serde_json::{Value, json};
use sportello_cases::form_edit::{self, FormOp};
use sportello_domain::form::{Kind, NewField};

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::console_page::{
    button, check, field, form, link, notice_of, render, select, table, text,
};

use super::*;

/// The kinds a field can be, by their stored name.
const KINDS: &[&str] = &[
    "text",
    "long_text",
    "number",
    "money",
    "date",
    "choice",
    "multi_choice",
    "checkbox",
    "email",
    "phone",
    "fiscal_code",
    "iban",
    "address",
    "file",
];

fn condition_words(ctx: &Ctx, f: &sportello_domain::form::Field) -> String {
    match &f.show_if {
        None => "—".into(),
        Some(c) => match (&c.equals, &c.any_of) {
            (Some(v), _) => format!("{} = {v}", c.field),
            (None, Some(list)) => format!("{} ∈ {}", c.field, list.join(", ")),
            _ => format!("{} {}", c.field, ctx.t("form_editor_filled")),
        },
    }
}

pub(super) async fn form_editor(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    q: Query,
) -> HttpResponse {
    let r: AppResult<(String, Vec<Value>)> = async {
        let e = form_edit::editor(&ctx.state, &actor, &id).await?;
        let may = actor
            .may(&ctx.state, Object::Services, Action::Update)
            .await;
        let action = format!("/console/servizi/{}/modulo", e.service_id);
        let mut out = vec![];
        for (i, p) in e.def.pages.iter().enumerate() {
            let rows = p
                .fields
                .iter()
                .map(|f| {
                    let mut row = vec![
                        text(&f.id),
                        text(&f.label),
                        text(ctx.label_or_code("form_kind_", &serde_json::to_value(f.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())),
                        text(if f.required { ctx.t("yes") } else { ctx.t("no") }),
                        text(condition_words(&ctx, f)),
                    ];
                    if may {
                        let v = e.version.to_string();
                    row.push(button(ctx.t("form_editor_up"), &action, &[("azione", "su"), ("field", &f.id), ("version", &v)]));
                        row.push(button(ctx.t("form_editor_down"), &action, &[("azione", "giu"), ("field", &f.id), ("version", &v)]));
                        row.push(button(ctx.t("form_editor_remove"), &action, &[("azione", "elimina"), ("field", &f.id), ("version", &v)]));
                    }
                    row
                })
                .collect();
            let mut headers = vec![
                "id",
                ctx.t("form_editor_label"),
                ctx.t("form_editor_kind"),
                ctx.t("form_editor_required"),
                ctx.t("form_editor_condition"),
            ];
            if may {
                headers.extend(["", "", ""]);
            }
            out.push(table(
                &format!("{} {} · {}", ctx.t("form_editor_page"), i + 1, p.title),
                &headers,
                rows,
            ));
        }
        out.push(table(
            ctx.t("form_editor_preview"),
            &[ctx.t("form_editor_preview")],
            if e.def.pages.is_empty() {
                vec![vec![text(ctx.t("form_editor_empty"))]]
            } else {
                vec![vec![link(
                    ctx.t("form_editor_preview_open"),
                    format!("{action}/anteprima"),
                )]]
            },
        ));
        if may {
            let mut pages: Vec<(String, String)> = e
                .def
                .pages
                .iter()
                .enumerate()
                .map(|(i, p)| (i.to_string(), format!("{} {} · {}", ctx.t("form_editor_page"), i + 1, p.title)))
                .collect();
            pages.push(("nuova".into(), ctx.t("form_editor_new_page").to_owned()));
            let kinds: Vec<(String, String)> = KINDS
                .iter()
                .map(|k| ((*k).to_owned(), ctx.label_or_code("form_kind_", k)))
                .collect();
            let mut earlier: Vec<(String, String)> = vec![(String::new(), "—".into())];
            earlier.extend(e.def.fields().filter(|f| f.kind != Kind::File).map(|f| (f.id.clone(), format!("{} ({})", f.label, f.id))));
            out.push(form(
                ctx.t("form_editor_add"),
                &action,
                ctx.t("form_editor_add_submit"),
                vec![
                    json!({"kind": "hidden", "name": "azione", "value": "aggiungi"}),
                    json!({"kind": "hidden", "name": "version", "value": e.version.to_string()}),
                    select("page", ctx.t("form_editor_page"), &pages, "0"),
                    field("text", "new_page", ctx.t("form_editor_new_page_title"), ""),
                    field("text", "id", ctx.t("form_editor_id"), ""),
                    select("kind", ctx.t("form_editor_kind"), &kinds, "text"),
                    field("text", "label", ctx.t("form_editor_label"), ""),
                    field("text", "label_en", ctx.t("form_editor_label_en"), ""),
                    field("text", "help", ctx.t("form_editor_help"), ""),
                    check("required", ctx.t("form_editor_required"), false),
                    json!({"kind": "textarea", "name": "options", "label": ctx.t("form_editor_options"),
                           "help": ctx.t("form_editor_options_help"), "value": "", "rows": 4}),
                    select("when_field", ctx.t("form_editor_when_field"), &earlier, ""),
                    field("text", "when_value", ctx.t("form_editor_when_value"), ""),
                ],
            ));
        }
        let title = format!(
            "{} · {} ({} {})",
            ctx.t("form_editor_title"),
            e.service_title,
            ctx.t("form_editor_version"),
            e.version
        );
        Ok((title, out))
    }
    .await;
    match r {
        Ok((title, s)) => {
            render(
                &ctx,
                &actor,
                "/console/servizi",
                &title,
                ctx.t("form_editor_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn form_edit(
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
    let op = match get("azione").as_str() {
        "aggiungi" => FormOp::AddField {
            page: get("page").parse().ok(),
            new_page: get("new_page"),
            field: Box::new(NewField {
                id: get("id"),
                kind: get("kind"),
                label: get("label"),
                label_en: get("label_en"),
                help: get("help"),
                required: !get("required").is_empty(),
                options: get("options"),
                when_field: get("when_field"),
                when_value: get("when_value"),
            }),
        },
        "su" | "giu" => FormOp::Move {
            field: get("field"),
            up: get("azione") == "su",
        },
        "elimina" => FormOp::Remove {
            field: get("field"),
        },
        _ => return ctx.respond(Err(crate::error::AppError::BadParam("azione".into()))),
    };
    let seen: i32 = get("version").parse().unwrap_or(-1);
    match form_edit::edit(&ctx.state, &actor, &id, seen, &op).await {
        Ok(_) => ctx.see_other(&format!("/console/servizi/{id}/modulo?esito=salvato")),
        Err(e) => match ctx.redo(&f, e.into()) {
            Ok(()) => form_editor(ctx, actor, id, crate::routes::console_page::no_query()).await,
            Err(e) => ctx.respond(Err(e)),
        },
    }
}

#[derive(serde::Deserialize)]
pub(super) struct PreviewQuery {
    pagina: Option<usize>,
}

/// The citizen's view of one page, as the form stands (nothing can be sent from it).
pub(super) async fn form_preview(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    q: web::Query<PreviewQuery>,
) -> HttpResponse {
    let r = async {
        let e = form_edit::editor(&ctx.state, &actor, &id).await?;
        let tx = ctx.state.store.tenant_read(actor.commune()?).await?;
        let service = tx
            .db()
            .service(&id)
            .await?
            .ok_or(crate::error::AppError::NotFound)?;
        tx.commit().await?;
        if e.def.pages.is_empty() {
            return Err(crate::error::AppError::NotFound);
        }
        let page = q.pagina.unwrap_or(0).min(e.def.pages.len() - 1);
        let mut v = crate::routes::cases::fill::preview_context(
            &ctx,
            sportello_cases::forms::ServiceForm {
                service,
                version: e.version,
                def: e.def,
            },
            page,
        );
        v["base"] = json!(format!("/console/servizi/{id}/modulo/anteprima"));
        v["layout"] = json!("console_layout.html");
        v["preview"] = json!(true);
        Ok(("case_fill.html", v))
    }
    .await;
    ctx.page(r)
}
