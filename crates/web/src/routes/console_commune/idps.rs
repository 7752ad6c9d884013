//! The commune's own identity providers: list, add, remove.

use actix_web::{HttpResponse, web};
use sportello_authz::{Action, Object};

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::console_page::{
    after_post_or, field, form, no_query, notice_of, render, table, text,
};
use crate::routes::{Button, Ctx, Posted};
use sportello_admin::commune;

use super::*;

pub(super) async fn idps(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let list = tx.db().commune_idps().await?;
        tx.commit().await?;
        let rows = list
            .iter()
            .map(|i| {
                vec![
                    text(&i.name),
                    text(&i.id),
                    text(&i.issuer),
                    text(&i.client_id),
                ]
            })
            .collect();
        let mut out = vec![table(
            ctx.t("console_commune_idps"),
            &[
                ctx.t("console_name"),
                ctx.t("console_identifier"),
                ctx.t("console_issuer"),
                ctx.t("console_client_id"),
                "",
            ],
            rows,
        )];
        if actor.may(&ctx.state, Object::Idps, Action::Create).await {
            out.push(form(
                ctx.t("console_add_oidc"),
                "/console/identita",
                ctx.t("console_add"),
                vec![
                    field("text", "id", ctx.t("console_identifier"), ""),
                    field("text", "name", ctx.t("console_display_name"), ""),
                    field("url", "issuer", ctx.t("console_issuer_url"), ""),
                    field("text", "client_id", ctx.t("console_client_id"), ""),
                    field(
                        "password",
                        "client_secret",
                        ctx.t("console_client_secret"),
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
                "/console/identita",
                ctx.t("console_nav_idps"),
                ctx.t("console_idps_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn idp_add(ctx: Ctx, actor: Admitted, f: Posted<commune::NewIdp>) -> HttpResponse {
    let r = async {
        commune::add_idp(&ctx.state, &actor, &f).await?;
        Ok("/console/identita?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| idps(ctx, actor, no_query())).await
}

pub(super) async fn idp_remove(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    b: Posted<Button>,
) -> HttpResponse {
    let r = async {
        commune::remove_idp(&ctx.state, &actor, &id).await?;
        Ok("/console/identita?esito=eliminato".to_owned())
    }
    .await;
    after_post_or(ctx, &b, r, |ctx| idps(ctx, actor, no_query())).await
}
