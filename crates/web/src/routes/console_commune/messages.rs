//! The messages the commune sent (e-mail, SMS) with their delivery status, counts per channel
//! that open the filtered list, and the commune's SMS gateway.

use actix_web::HttpResponse;
use sportello_authz::{Action, Object};
use sportello_notify::channels::{self, GatewayForm};
use sportello_store::outbox::{MessageFilter, Status};

use crate::authz::Admitted;
use crate::error::{AppError, AppResult};
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post_or, check, field_help, form, link, no_query, notice_of, render, table, text, when,
};

use super::*;

/// The status of a message in words.
fn status_words(ctx: &Ctx, s: Status) -> &str {
    ctx.t(match s {
        Status::Created => "msg_status_created",
        Status::Sending => "msg_status_sending",
        Status::Delivered => "msg_status_delivered",
        Status::TemporaryFailure => "msg_status_temporary_failure",
        Status::PermanentFailure => "msg_status_permanent_failure",
    })
}

fn channel_words(ctx: &Ctx, c: &str) -> String {
    ctx.label_or_code("channel_", c)
}

/// The list's filters from the query (`canale`, `stato`, `persona`); an unknown value is a 400.
fn filter(q: &HashMap<String, String>) -> AppResult<MessageFilter> {
    let channel = match q.get("canale").map(String::as_str) {
        None | Some("") => None,
        Some(c @ ("email" | "sms")) => Some(c.to_owned()),
        Some(_) => return Err(AppError::BadParam("canale".into())),
    };
    let status = match q.get("stato").map(String::as_str) {
        None | Some("") => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| AppError::BadParam("stato".into()))?),
    };
    let person_id = q.get("persona").filter(|p| !p.is_empty()).cloned();
    Ok(MessageFilter {
        channel,
        status,
        person_id,
        limit: 200,
    })
}

pub(super) async fn messages(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let f = filter(&q)?;
        let (rows, counts) = sportello_notify::lists::for_commune(&ctx.state, &actor, &f).await?;
        let count_cell = |channel: &str, s: Status, n: i64| {
            link(
                n,
                format!("/console/messaggi?canale={channel}&stato={}", s.key()),
            )
        };
        let count_rows = counts
            .iter()
            .map(|c| {
                vec![
                    link(
                        channel_words(&ctx, &c.channel),
                        format!("/console/messaggi?canale={}", c.channel),
                    ),
                    count_cell(&c.channel, Status::Created, c.created),
                    count_cell(&c.channel, Status::Sending, c.sending),
                    count_cell(&c.channel, Status::Delivered, c.delivered),
                    count_cell(&c.channel, Status::TemporaryFailure, c.temporary_failure),
                    count_cell(&c.channel, Status::PermanentFailure, c.permanent_failure),
                ]
            })
            .collect();
        let list_rows = rows
            .iter()
            .map(|m| {
                vec![
                    text(when(&ctx, m.created_at)),
                    text(channel_words(&ctx, &m.channel)),
                    match &m.person_id {
                        Some(p) => link(&m.recipient, format!("/console/messaggi?persona={p}")),
                        None => text(&m.recipient),
                    },
                    text(&m.subject),
                    text(status_words(&ctx, m.status)),
                    text(m.attempts),
                    text(m.reason.as_deref().unwrap_or("")),
                ]
            })
            .collect();
        let mut out = vec![
            table(
                ctx.t("console_messages_counts"),
                &[
                    ctx.t("console_channel_col"),
                    status_words(&ctx, Status::Created),
                    status_words(&ctx, Status::Sending),
                    status_words(&ctx, Status::Delivered),
                    status_words(&ctx, Status::TemporaryFailure),
                    status_words(&ctx, Status::PermanentFailure),
                ],
                count_rows,
            ),
            table(
                ctx.t("console_messages_list"),
                &[
                    ctx.t("console_when"),
                    ctx.t("console_channel_col"),
                    ctx.t("console_recipient"),
                    ctx.t("console_subject"),
                    ctx.t("console_status"),
                    ctx.t("console_attempts"),
                    ctx.t("console_reason"),
                ],
                list_rows,
            ),
        ];
        if actor
            .may(&ctx.state, Object::Policies, Action::Update)
            .await
        {
            out.push(gateway_form(&ctx, &actor).await?);
        }
        Ok(out)
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/messaggi",
                ctx.t("console_nav_messages"),
                ctx.t("console_messages_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

async fn gateway_form(ctx: &Ctx, actor: &Admitted) -> AppResult<serde_json::Value> {
    let g = channels::gateway(&ctx.state, actor).await?;
    let reports = format!("{}/sms/esiti", ctx.base_url()?);
    Ok(form(
        ctx.t("console_sms_gateway"),
        "/console/messaggi/sms",
        ctx.t("console_save"),
        vec![
            check("enabled", ctx.t("console_sms_enabled"), g.enabled),
            field_help(
                "url",
                "endpoint",
                ctx.t("console_sms_endpoint"),
                &g.endpoint,
                ctx.t("console_sms_endpoint_help"),
            ),
            field_help(
                "password",
                "token",
                ctx.t("console_sms_token"),
                "",
                ctx.t(if g.has_token {
                    "console_secret_kept_help"
                } else {
                    "console_secret_none_help"
                }),
            ),
            field_help(
                "text",
                "sender",
                ctx.t("console_sms_sender"),
                &g.sender,
                ctx.t("console_sms_sender_help"),
            ),
            field_help(
                "password",
                "report_secret",
                ctx.t("console_sms_report_secret"),
                "",
                &ctx.tf("console_sms_report_help", &[&reports]),
            ),
        ],
    ))
}

pub(super) async fn gateway_save(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let r = async {
        let get = |k: &str| {
            f.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let form = GatewayForm {
            enabled: f.iter().any(|(n, _)| n == "enabled"),
            endpoint: get("endpoint"),
            token: get("token"),
            sender: get("sender"),
            report_secret: get("report_secret"),
        };
        channels::save_gateway(&ctx.state, &actor, &form).await?;
        Ok("/console/messaggi?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| messages(ctx, actor, no_query())).await
}
