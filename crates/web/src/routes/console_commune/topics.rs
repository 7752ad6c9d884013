//! Kinds of event the commune publishes for citizens to subscribe to, and the messages sent to
//! their subscribers.

use actix_web::{HttpResponse, web};
use sportello_authz::{Action, Object};
use sportello_kernel::input::Removal;
use sportello_notify::topics;

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post_or, field, field_help, form, form_with_text, no_query, notice_of, removal_fields,
    render, table, text,
};

use super::*;

pub(super) async fn topics_page(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = actor.commune()?;
        let list = topics::topics(&ctx.state, c).await?;
        let rows = list
            .iter()
            .map(|t| {
                vec![
                    text(&t.id),
                    text(&t.name),
                    text(t.name_en.as_deref().unwrap_or("")),
                    text(&t.description),
                ]
            })
            .collect();
        let mut out = vec![table(
            ctx.t("console_topics_list"),
            &[
                ctx.t("console_id"),
                ctx.t("console_name"),
                ctx.t("console_name_en"),
                ctx.t("console_description"),
            ],
            rows,
        )];
        let may = |a| actor.may(&ctx.state, Object::Messages, a);
        if may(Action::Create).await {
            for t in &list {
                out.push(form_with_text(
                    &ctx.tf("console_topic_send", &[&t.name]),
                    &ctx.tf(
                        "console_topic_send_text",
                        &[&topics::PER_SECOND.to_string()],
                    ),
                    &format!("/console/avvisi/{}/invia", t.id),
                    ctx.t("console_send"),
                    vec![field("textarea", "text", ctx.t("console_message_text"), "")],
                ));
            }
        }
        if may(Action::Update).await {
            out.push(form(
                ctx.t("console_topic_new"),
                "/console/avvisi",
                ctx.t("console_save"),
                vec![
                    field_help(
                        "text",
                        "id",
                        ctx.t("console_id"),
                        "",
                        ctx.t("console_topic_id_help"),
                    ),
                    field("text", "name", ctx.t("console_name"), ""),
                    field("text", "name_en", ctx.t("console_name_en"), ""),
                    field("textarea", "description", ctx.t("console_description"), ""),
                ],
            ));
        }
        if may(Action::Delete).await {
            for t in &list {
                out.push(form(
                    &ctx.tf("console_topic_delete", &[&t.name]),
                    &format!("/console/avvisi/{}/elimina", t.id),
                    ctx.t("console_delete"),
                    removal_fields(&ctx, ctx.t("console_topic_delete_confirm")),
                ));
            }
        }
        Ok(out)
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/avvisi",
                ctx.t("console_nav_topics"),
                ctx.t("console_topics_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn topic_save(
    ctx: Ctx,
    actor: Admitted,
    f: Posted<topics::TopicForm>,
) -> HttpResponse {
    let r = async {
        topics::save_topic(&ctx.state, &actor, &f).await?;
        Ok("/console/avvisi?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| topics_page(ctx, actor, no_query())).await
}

#[derive(serde::Deserialize)]
pub(super) struct BroadcastForm {
    #[serde(default)]
    text: String,
}

pub(super) async fn topic_send(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Posted<BroadcastForm>,
) -> HttpResponse {
    let r = async {
        let area = format!("{}/area-personale", ctx.base_url()?);
        topics::broadcast(&ctx.state, &actor, &id, &f.text, &area).await?;
        Ok("/console/messaggi?esito=inviato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| topics_page(ctx, actor, no_query())).await
}

pub(super) async fn topic_delete(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Posted<Removal>,
) -> HttpResponse {
    let r = async {
        topics::delete_topic(&ctx.state, &actor, &id, &f).await?;
        Ok("/console/avvisi?esito=eliminato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| topics_page(ctx, actor, no_query())).await
}
