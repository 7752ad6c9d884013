//! Services: their list, a new one, a page with channels, levels, cost, duration, routing
//! and history, update.

use actix_web::{HttpResponse, web};
use sportello_authz::{Action, Object};
use sportello_domain::{AssuranceLevel, Audience, Channel, LifeEvent};

use crate::authz::{Actor, Admitted};
use crate::error::{AppError, AppResult};
use crate::routes::console_page::{
    after_post_or, check, field, field_help, form, link, no_query, notice_of, render, select,
    table, text,
};
use crate::routes::{Ctx, Posted};
use sportello_charter::edit;

use super::*;

pub(super) async fn office_options(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<(String, String)>> {
    let c = actor.commune()?;
    let tx = ctx.state.store.tenant(c).await?;
    let list = tx.db().offices().await?;
    tx.commit().await?;
    let mut v = vec![(String::new(), ctx.t("console_none").to_owned())];
    v.extend(list.into_iter().map(|o| (o.id.to_string(), o.name)));
    Ok(v)
}

pub(super) async fn services(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let list = tx.db().services().await?;
        tx.commit().await?;
        let offices = office_options(&ctx, &actor).await?;
        let rows = list
            .iter()
            .map(|s| {
                let office = s
                    .office_id
                    .as_ref()
                    .and_then(|o| offices.iter().find(|(id, _)| id == o))
                    .map_or("—", |(_, name)| name.as_str());
                vec![
                    link(&s.title, format!("/console/servizi/{}", s.id)),
                    text(office),
                    text(if s.online() {
                        s.online_level.label(ctx.lang)
                    } else {
                        ctx.t("console_not_online")
                    }),
                ]
            })
            .collect();
        let mut out = vec![table(
            ctx.t("console_services"),
            &[
                ctx.t("console_service"),
                ctx.t("console_competent_office"),
                ctx.t("console_online_level"),
            ],
            rows,
        )];
        if actor
            .may(&ctx.state, Object::Services, Action::Create)
            .await
        {
            out.push(form(
                ctx.t("console_new_service"),
                "/console/servizi",
                ctx.t("console_create_service"),
                vec![
                    field_help(
                        "text",
                        "id",
                        ctx.t("console_identifier"),
                        "",
                        ctx.t("console_slug_help"),
                    ),
                    field("text", "title", ctx.t("console_title"), ""),
                    select(
                        "office",
                        ctx.t("console_competent_office_help"),
                        &office_options(&ctx, &actor).await?,
                        "",
                    ),
                ],
            ));
        }
        Ok(out)
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/servizi",
                ctx.t("console_services"),
                ctx.t("console_services_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn service_create(
    ctx: Ctx,
    actor: Admitted,
    f: Posted<edit::NewService>,
) -> HttpResponse {
    let r = async {
        let id = edit::create_service(&ctx.state, &actor, &f).await?;
        Ok(format!("/console/servizi/{id}?esito=creato"))
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| services(ctx, actor, no_query())).await
}

pub(super) async fn service_page(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    q: Query,
) -> HttpResponse {
    let r: AppResult<(String, Vec<serde_json::Value>)> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let db = tx.db();
        let s = db.service(&id).await?.ok_or(AppError::NotFound)?;
        let history = db.history("service", &id).await?;
        let staff = db.staff_db().list().await?;
        tx.commit().await?;
        let offices = office_options(&ctx, &actor).await?;
        let mut out = vec![table(
            ctx.t("form_editor_title"),
            &[ctx.t("form_editor_title")],
            vec![vec![link(
                ctx.t("form_editor_open"),
                format!("/console/servizi/{}/modulo", s.id),
            )]],
        )];
        if actor
            .may(&ctx.state, Object::Services, Action::Update)
            .await
        {
            let mut fields = vec![
                field("text", "title", ctx.t("console_title"), &s.title),
                field(
                    "text",
                    "title_en",
                    ctx.t("console_title_en"),
                    s.title_en.as_deref().unwrap_or(""),
                ),
                field("textarea", "summary", ctx.t("console_summary"), &s.summary),
                field(
                    "textarea",
                    "summary_en",
                    ctx.t("console_summary_en"),
                    s.summary_en.as_deref().unwrap_or(""),
                ),
                field(
                    "textarea",
                    "description",
                    ctx.t("console_description"),
                    &s.description,
                ),
                field(
                    "textarea",
                    "description_en",
                    ctx.t("console_description_en"),
                    s.description_en.as_deref().unwrap_or(""),
                ),
                select(
                    "audience",
                    ctx.t("console_audience"),
                    &Audience::ALL
                        .iter()
                        .map(|a| (a.key().to_owned(), a.label(ctx.lang).to_owned()))
                        .collect::<Vec<_>>(),
                    s.audience.key(),
                ),
                select(
                    "office",
                    ctx.t("console_competent_office_help"),
                    &offices,
                    &s.office_id.clone().unwrap_or_default(),
                ),
                field_help(
                    "textarea",
                    "documents",
                    ctx.t("console_documents"),
                    s.documents.join("\n"),
                    ctx.t("console_one_per_line"),
                ),
                field_help(
                    "text",
                    "cost",
                    ctx.t("console_cost"),
                    format!("{},{:02}", s.cost.cents() / 100, s.cost.cents() % 100),
                    ctx.t("console_cost_help"),
                ),
                field(
                    "number",
                    "max_days",
                    ctx.t("console_max_days"),
                    s.max_days.map(|d| d.to_string()).unwrap_or_default(),
                ),
                select(
                    "online_level",
                    ctx.t("console_service_level"),
                    &AssuranceLevel::ALL
                        .iter()
                        .map(|a| (a.key().to_owned(), a.label(ctx.lang).to_owned()))
                        .collect::<Vec<_>>(),
                    s.online_level.key(),
                ),
                field_help(
                    "url",
                    "online_url",
                    ctx.t("console_online_url"),
                    s.online_url.as_ref().map_or("", |u| u.as_str()),
                    ctx.t("console_online_url_help"),
                ),
            ];
            if edit::speaks_german(&ctx.state, &actor) {
                fields.splice(
                    6..6,
                    [
                        field(
                            "text",
                            "title_de",
                            ctx.t("console_title_de"),
                            s.title_de.as_deref().unwrap_or(""),
                        ),
                        field(
                            "textarea",
                            "summary_de",
                            ctx.t("console_summary_de"),
                            s.summary_de.as_deref().unwrap_or(""),
                        ),
                        field(
                            "textarea",
                            "description_de",
                            ctx.t("console_description_de"),
                            s.description_de.as_deref().unwrap_or(""),
                        ),
                    ],
                );
            }
            for e in LifeEvent::ALL {
                fields.push(check(
                    &format!("event:{}", e.key()),
                    &ctx.tf("console_life_event", &[&e.label(ctx.lang)]),
                    s.life_events.contains(e),
                ));
            }
            for ch in Channel::ALL {
                fields.push(check(
                    &format!("channel:{}", ch.key()),
                    &ctx.tf("console_channel", &[&ch.label(ctx.lang)]),
                    s.channels.contains(ch),
                ));
            }
            out.push(form(
                ctx.t("console_service_card"),
                &format!("/console/servizi/{}", s.id),
                ctx.t("console_save"),
                fields,
            ));
        }
        out.push(history_table(&ctx, &history, &staff));
        Ok((s.title.clone(), out))
    }
    .await;
    match r {
        Ok((title, s)) => {
            render(
                &ctx,
                &actor,
                "/console/servizi",
                &title,
                "",
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn service_update(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Pairs,
) -> HttpResponse {
    let r = async {
        let form = service_change(&f);
        let changed = edit::update_service(&ctx.state, &actor, &id, &form).await?;
        Ok(format!(
            "/console/servizi/{id}?esito={}",
            if changed { "salvato" } else { "invariato" }
        ))
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| service_page(ctx, actor, id, no_query())).await
}

/// The service form: life events and channels arrive as repeated checkbox keys.
fn service_change(pairs: &[(String, String)]) -> edit::ServiceChange {
    let mut f = edit::ServiceChange::default();
    for (k, v) in pairs {
        match k.as_str() {
            "title" => f.title = v.clone(),
            "title_en" => f.title_en = v.clone(),
            "summary" => f.summary = v.clone(),
            "summary_en" => f.summary_en = v.clone(),
            "description" => f.description = v.clone(),
            "description_en" => f.description_en = v.clone(),
            "title_de" => f.title_de = v.clone(),
            "summary_de" => f.summary_de = v.clone(),
            "description_de" => f.description_de = v.clone(),
            "audience" => f.audience = v.clone(),
            "office" => f.office = v.clone(),
            "documents" => f.documents = v.clone(),
            "cost" => f.cost = v.clone(),
            "max_days" => f.max_days = v.clone(),
            "online_level" => f.online_level = v.clone(),
            "online_url" => f.online_url = v.clone(),
            k if k.starts_with("event:") => f.life_events.push(k[6..].to_owned()),
            k if k.starts_with("channel:") => f.channels.push(k[8..].to_owned()),
            _ => {}
        }
    }
    f
}
