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
        tx.commit().await?;
        let rows = list
            .iter()
            .map(|e| {
                vec![
                    text(when(e.at)),
                    text(format!("{} ({})", e.actor_name, e.actor)),
                    text(&e.action),
                    text(&e.object),
                    text(e.on_behalf_of.as_deref().unwrap_or("")),
                    text(e.purpose.as_deref().unwrap_or("")),
                    text(&e.detail),
                ]
            })
            .collect();
        Ok(vec![table(
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
        )])
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
