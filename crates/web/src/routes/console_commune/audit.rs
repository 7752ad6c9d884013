//! The commune's audit log.

use actix_web::HttpResponse;

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::Ctx;
use crate::routes::console_page::{render, table, text, when};

pub(super) async fn audit_log(ctx: Ctx, actor: Admitted) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let list = tx.db().audit_log(200).await?;
        let staff = tx.db().staff_db().list().await?;
        tx.commit().await?;
        let sign_ins = ctx.state.store.identity().staff_audit_log(c.0, 200).await?;
        let name_of = |id: &str| {
            staff.iter().find(|s| s.id == id).map_or_else(
                || id.to_owned(),
                |s| format!("{} ({})", s.display_name, s.email),
            )
        };
        let sign_in_rows = sign_ins
            .iter()
            .map(|e| {
                vec![
                    text(when(&ctx, e.at)),
                    text(e.staff_id.as_deref().map(name_of).unwrap_or_default()),
                    text(ctx.label_or_code("event_", &e.event)),
                    text(e.ip.as_deref().unwrap_or("")),
                ]
            })
            .collect();
        let rows = list
            .iter()
            .map(|e| {
                vec![
                    text(when(&ctx, e.at)),
                    text(who(&ctx, &e.actor_name, &e.actor)),
                    text(ctx.label_or_code("audit_", &e.action)),
                    text(&e.object),
                    text(e.on_behalf_of.as_deref().unwrap_or("")),
                    text(e.purpose.as_deref().unwrap_or("")),
                    text(detail_words(&e.detail)),
                ]
            })
            .collect();
        Ok(vec![
            table(
                ctx.t("console_last_200"),
                &[
                    ctx.t("console_when"),
                    ctx.t("console_who"),
                    ctx.t("console_what"),
                    ctx.t("console_object"),
                    ctx.t("console_on_behalf_of"),
                    ctx.t("console_reason"),
                    ctx.t("console_details"),
                ],
                rows,
            ),
            table(
                ctx.t("console_staff_sign_ins"),
                &[
                    ctx.t("console_when"),
                    ctx.t("console_who"),
                    ctx.t("console_what"),
                    ctx.t("console_from_address"),
                ],
                sign_in_rows,
            ),
        ])
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/registro",
                ctx.t("console_nav_audit"),
                ctx.t("console_audit_intro"),
                None,
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

/// Who acted, by name ("cli" and unnamed accounts by their kind).
fn who(ctx: &Ctx, name: &str, actor: &str) -> String {
    if !name.trim().is_empty() {
        return name.trim().to_owned();
    }
    match actor.split_once(':') {
        Some(("federation", _)) => ctx.t("console_by_federation").to_owned(),
        _ => actor.to_owned(),
    }
}

/// The details as "field: value" pairs rather than raw JSON.
fn detail_words(detail: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(serde_json::Value::Object(m)) => m
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join(" · "),
        _ => detail.to_owned(),
    }
}
