//! Offices: their list, a new one, a page with hours, closures and history, update, delete.

use actix_web::{HttpResponse, web};
use sportello_authz::{Action, Object};
use sportello_domain::hours::Closure;

use crate::authz::Admitted;
use crate::error::{AppError, AppResult};
use crate::routes::console_page::{
    after_post_or, field, field_help, form, form_with_text, link, no_query, notice_of,
    removal_fields, render, table, text, when,
};
use crate::routes::{Ctx, Posted};
use sportello_charter::edit;
use sportello_kernel::input::Removal;

use super::*;

pub(super) async fn offices(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let list = tx.db().offices().await?;
        tx.commit().await?;
        let rows = list
            .iter()
            .map(|o| {
                vec![
                    link(&o.name, format!("/console/uffici/{}", o.id)),
                    text(&o.id),
                    text(o.hours.weekly.to_lines().replace('\n', " · ")),
                    text(if o.draft {
                        ctx.t("console_draft")
                    } else {
                        ctx.t("console_published")
                    }),
                ]
            })
            .collect();
        let mut s = vec![table(
            ctx.t("console_offices"),
            &[
                ctx.t("console_office"),
                ctx.t("console_identifier"),
                ctx.t("console_hours"),
                ctx.t("console_status"),
            ],
            rows,
        )];
        if actor.may(&ctx.state, Object::Offices, Action::Create).await {
            s.push(form(
                ctx.t("console_new_office"),
                "/console/uffici",
                ctx.t("console_create_office"),
                vec![
                    field_help(
                        "text",
                        "id",
                        ctx.t("console_identifier"),
                        "",
                        ctx.t("console_slug_help_office"),
                    ),
                    field("text", "name", ctx.t("console_name"), ""),
                ],
            ));
        }
        Ok(s)
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/uffici",
                ctx.t("console_nav_offices"),
                ctx.t("console_offices_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn office_create(
    ctx: Ctx,
    actor: Admitted,
    f: Posted<edit::NewOffice>,
) -> HttpResponse {
    let r = async {
        let id = edit::create_office(&ctx.state, &actor, &f).await?;
        Ok(format!("/console/uffici/{id}?esito=creato"))
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| offices(ctx, actor, no_query())).await
}

pub(super) async fn office_page(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    q: Query,
) -> HttpResponse {
    let r: AppResult<(String, Vec<serde_json::Value>)> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let db = tx.db();
        let o = db.office(&id).await?.ok_or(AppError::NotFound)?;
        let history = db.history("office", &id).await?;
        let staff = db.staff_db().list().await?;
        tx.commit().await?;
        let mut s = vec![];
        // A draft: who may publish it is offered to.
        if o.draft {
            let publish = actor.may(&ctx.state, Object::Charter, Action::Update).await;
            s.push(form_with_text(
                ctx.t("console_draft_heading"),
                ctx.t(if publish {
                    "console_office_draft_text"
                } else {
                    "console_office_draft_wait"
                }),
                &format!("/console/uffici/{}/pubblica", o.id),
                ctx.t("console_publish_office"),
                vec![],
            ));
            if !publish && let Some(m) = s.last_mut().and_then(|v| v.as_object_mut()) {
                m.remove("form");
            }
        }
        if actor.may(&ctx.state, Object::Offices, Action::Update).await {
            let mut fields = vec![
                field("text", "name", ctx.t("console_name"), &o.name),
                field(
                    "text",
                    "name_en",
                    ctx.t("console_name_en"),
                    o.name_en.as_deref().unwrap_or(""),
                ),
                field(
                    "textarea",
                    "description",
                    ctx.t("console_description"),
                    &o.description,
                ),
                field(
                    "textarea",
                    "description_en",
                    ctx.t("console_description_en"),
                    o.description_en.as_deref().unwrap_or(""),
                ),
                field("text", "floor", ctx.t("console_floor"), &o.floor),
                field("text", "room", ctx.t("console_room"), &o.room),
                field(
                    "textarea",
                    "directions",
                    ctx.t("console_directions"),
                    &o.directions,
                ),
                field("text", "phone", ctx.t("console_phone"), &o.phone),
                field("email", "email", ctx.t("console_email"), &o.email),
                super::hours_form::week_field(&ctx, &o.hours.weekly),
                super::hours_form::closures_field(&ctx, &o.hours.closures),
                // The same as text, for whoever prefers typing it: changed, it wins.
                field_help(
                    "textarea",
                    "hours",
                    ctx.t("console_weekly_hours_text"),
                    o.hours.weekly.to_lines(),
                    ctx.t("console_weekly_hours_help"),
                ),
                field("hidden", "hours_was", "", o.hours.weekly.to_lines()),
                field_help(
                    "textarea",
                    "closures",
                    ctx.t("console_closures_text"),
                    Closure::to_lines(&o.hours.closures),
                    ctx.t("console_closures_help"),
                ),
                field(
                    "hidden",
                    "closures_was",
                    "",
                    Closure::to_lines(&o.hours.closures),
                ),
            ];
            if edit::speaks_german(&ctx.state, &actor) {
                fields.splice(
                    4..4,
                    [
                        field(
                            "text",
                            "name_de",
                            ctx.t("console_name_de"),
                            o.name_de.as_deref().unwrap_or(""),
                        ),
                        field(
                            "textarea",
                            "description_de",
                            ctx.t("console_description_de"),
                            o.description_de.as_deref().unwrap_or(""),
                        ),
                    ],
                );
            }
            s.push(form(
                ctx.t("console_office_data"),
                &format!("/console/uffici/{}", o.id),
                ctx.t("console_save"),
                fields,
            ));
        }
        s.push(history_table(&ctx, &history, &staff));
        if actor.may(&ctx.state, Object::Offices, Action::Delete).await {
            s.push(form_with_text(
                ctx.t("console_delete"),
                ctx.t("console_delete_office_text"),
                &format!("/console/uffici/{}/elimina", o.id),
                ctx.t("console_delete_office"),
                removal_fields(&ctx, ctx.t("console_delete_office_confirm")),
            ));
        }
        Ok((o.name.clone(), s))
    }
    .await;
    match r {
        Ok((name, s)) => {
            render(
                &ctx,
                &actor,
                "/console/uffici",
                &name,
                "",
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

/// Who made a version, in words: a person of the staff by name, the federation, the tenant
/// file, the onboarding.
fn changed_by_words(
    ctx: &Ctx,
    raw: &str,
    staff: &[sportello_store::staff::StaffAccount],
) -> String {
    match raw.split_once(':') {
        Some(("staff", id)) => staff.iter().find(|s| s.id == id).map_or_else(
            || ctx.t("console_by_former_staff").to_owned(),
            |s| s.display_name.clone(),
        ),
        Some(("federation", _)) => ctx.t("console_by_federation").to_owned(),
        _ if raw == "istat-import" || raw == "console" => ctx.t("console_by_onboarding").to_owned(),
        _ if raw.contains(".toml") => {
            let file = raw.rsplit(['/', ':']).next().unwrap_or(raw);
            format!("{} ({file})", ctx.t("console_by_file"))
        }
        _ => raw.to_owned(),
    }
}

pub(super) fn history_table(
    ctx: &Ctx,
    h: &[sportello_store::sync::HistoryEntry],
    staff: &[sportello_store::staff::StaffAccount],
) -> serde_json::Value {
    table(
        ctx.t("console_history"),
        &[
            ctx.t("console_version"),
            ctx.t("console_from"),
            ctx.t("console_to"),
            ctx.t("console_changed_by"),
        ],
        h.iter()
            .map(|v| {
                vec![
                    text(v.version),
                    text(when(ctx, v.valid_from)),
                    text(
                        v.valid_to
                            .map(|t| when(ctx, t))
                            .unwrap_or_else(|| ctx.t("console_in_force").into()),
                    ),
                    text(changed_by_words(ctx, &v.changed_by, staff)),
                ]
            })
            .collect(),
    )
}

pub(super) async fn office_update(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Pairs,
) -> HttpResponse {
    let r = async {
        let (change, sources) = office_change(&f);
        let changed = edit::update_office(&ctx.state, &actor, &id, &change)
            .await
            .map_err(|e| match e {
                // By the rows the person typed the hours in, when they did.
                sportello_kernel::Error::Invalid(mut p) => {
                    for problem in &mut p.0 {
                        problem.field = sources.field_of(&problem.field).to_owned();
                    }
                    sportello_kernel::Error::Invalid(p)
                }
                other => other,
            })?;
        Ok(format!(
            "/console/uffici/{id}?esito={}",
            if changed { "salvato" } else { "invariato" }
        ))
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| office_page(ctx, actor, id, no_query())).await
}

pub(super) async fn office_delete(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Posted<Removal>,
) -> HttpResponse {
    let r = async {
        edit::delete_office(&ctx.state, &actor, &id, &f).await?;
        Ok("/console/uffici?esito=eliminato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| office_page(ctx, actor, id, no_query())).await
}

/// The office form: the hours arrive as rows of times (or as text), see `hours_form`.
fn office_change(pairs: &[(String, String)]) -> (edit::OfficeChange, super::hours_form::Sources) {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (hours, closures, sources) = super::hours_form::lines_of(pairs);
    let change = edit::OfficeChange {
        name: get("name"),
        name_en: get("name_en"),
        description: get("description"),
        description_en: get("description_en"),
        name_de: get("name_de"),
        description_de: get("description_de"),
        floor: get("floor"),
        room: get("room"),
        directions: get("directions"),
        phone: get("phone"),
        email: get("email"),
        hours,
        closures,
    };
    (change, sources)
}

pub(super) async fn office_publish(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    b: Posted<crate::routes::Button>,
) -> HttpResponse {
    let r = async {
        edit::publish_office(&ctx.state, &actor, &id).await?;
        Ok(format!("/console/uffici/{id}?esito=pubblicato"))
    }
    .await;
    after_post_or(ctx, &b, r, |ctx| office_page(ctx, actor, id, no_query())).await
}
