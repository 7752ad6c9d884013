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
            "Ultime 200 attività",
            &[
                "Quando",
                "Chi",
                "Cosa",
                "Oggetto",
                "Per conto di",
                "Motivo",
                "Dettagli",
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
                "Registro delle attività",
                "Ogni modifica fatta dalla console: chi, per conto di chi, perché.",
                None,
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}
