//! A staff member's own API token: made here (shown once), replaced by the next, revoked at
//! will. Programs send it as `Authorization: Bearer` to the cases API; it acts with exactly the
//! staff member's roles.

use serde_json::json;
use sportello_identity::api_tokens;

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::console_page::{button, form_with_text, notice_of, render, table, text};
use crate::routes::{Ctx, Posted};

use super::*;

pub(super) async fn api_token_page(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = actor.commune()?;
        let active = {
            let tx = ctx
                .state
                .store
                .staff(sportello_store::staff::Realm::Commune(c))
                .await?;
            let n = tx
                .db()
                .staff_tokens_left(&actor.staff_id, "api", sportello_store::now_micros())
                .await?;
            tx.commit().await?;
            n > 0
        };
        let mut out = vec![form_with_text(
            ctx.t("api_token_new"),
            ctx.t("api_token_new_text"),
            "/console/accesso-api",
            ctx.t("api_token_new_submit"),
            vec![],
        )];
        out.push(table(
            ctx.t("api_token_state"),
            &[ctx.t("api_token_state"), ""],
            vec![vec![
                text(if active {
                    ctx.t("api_token_active")
                } else {
                    ctx.t("api_token_none")
                }),
                if active {
                    button(
                        ctx.t("api_token_revoke"),
                        "/console/accesso-api/revoca",
                        &[],
                    )
                } else {
                    text("")
                },
            ]],
        ));
        Ok(out)
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/accesso-api",
                ctx.t("api_token_title"),
                ctx.t("api_token_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

/// Makes a new token and shows it once (never stored in the clear, never in an address).
pub(super) async fn api_token_create(
    ctx: Ctx,
    actor: Admitted,
    _f: Posted<crate::routes::posted::Button>,
) -> HttpResponse {
    let r: AppResult<(String, i64)> =
        async { Ok(api_tokens::create(&ctx.state.store, &actor).await?) }.await;
    match r {
        Ok((token, expires)) => {
            let section = json!({"heading": ctx.t("api_token_made"), "table": {"headers": [ctx.t("api_token_made"), ctx.t("api_token_expires")], "rows": [[{"text": token}, {"text": crate::routes::console_page::when(&ctx, expires)}]]}});
            let mut res = render(
                &ctx,
                &actor,
                "/console/accesso-api",
                ctx.t("api_token_title"),
                ctx.t("api_token_copy_now"),
                None,
                vec![section],
            )
            .await;
            res.headers_mut().insert(
                actix_web::http::header::CACHE_CONTROL,
                actix_web::http::header::HeaderValue::from_static("no-store"),
            );
            res
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn api_token_revoke(
    ctx: Ctx,
    actor: Admitted,
    _f: Posted<crate::routes::posted::Button>,
) -> HttpResponse {
    let r: AppResult<()> = async { Ok(api_tokens::revoke(&ctx.state.store, &actor).await?) }.await;
    match r {
        Ok(()) => ctx.see_other("/console/accesso-api?esito=salvato"),
        Err(e) => ctx.respond(Err(e)),
    }
}
