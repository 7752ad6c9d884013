//! Support access for the federation: grants, revocation, and the door support staff enter by.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use sportello_authz::{Action, Object};

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::console_page::{
    after_post_or, button, field, field_help, form, no_query, notice_of, render, table, text, when,
};
use crate::routes::{Button, Ctx, Posted};
use sportello_admin::commune;

use super::*;

pub(super) async fn support(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let list = tx.db().support_grants().await?;
        tx.commit().await?;
        let now = sportello_store::now_micros();
        let can_revoke = actor.may(&ctx.state, Object::Support, Action::Delete).await;
        let rows = list
            .iter()
            .map(|g| {
                let active = g.revoked_at.is_none() && g.expires_at > now;
                let mut row = vec![
                    text(when(&ctx, g.created_at)),
                    text(&g.reason),
                    text(when(&ctx, g.expires_at)),
                    text(if active {
                        "attivo"
                    } else if g.revoked_at.is_some() {
                        "revocato"
                    } else {
                        "scaduto"
                    }),
                ];
                if active && can_revoke {
                    row.push(button(
                        ctx.t("console_revoke"),
                        format!("/console/supporto/{}/revoca", g.id),
                        &[],
                    ));
                }
                row
            })
            .collect();
        let mut out = vec![table(
            ctx.t("console_grants"),
            &[
                ctx.t("console_granted_on"),
                ctx.t("console_reason"),
                ctx.t("console_until"),
                ctx.t("console_status"),
                "",
            ],
            rows,
        )];
        if actor.may(&ctx.state, Object::Support, Action::Create).await {
            out.push(form(
                ctx.t("console_grant_support"),
                "/console/supporto",
                ctx.t("console_grant"),
                vec![
                    field("text", "reason", ctx.t("console_reason_help"), ""),
                    field_help(
                        "number",
                        "hours",
                        ctx.t("console_hours_duration"),
                        "4",
                        ctx.t("console_1_to_72"),
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
                "/console/supporto",
                ctx.t("role_support"),
                ctx.t("console_support_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn support_grant(
    ctx: Ctx,
    actor: Admitted,
    f: Posted<commune::NewGrant>,
) -> HttpResponse {
    let r = async {
        commune::grant_support(&ctx.state, &actor, &f).await?;
        Ok("/console/supporto?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| support(ctx, actor, no_query())).await
}

pub(super) async fn support_revoke(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    b: Posted<Button>,
) -> HttpResponse {
    let r = async {
        let c = actor.commune()?;
        commune::revoke_support(&ctx.state, &actor, c, &id).await?;
        Ok("/console/supporto?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &b, r, |ctx| support(ctx, actor, no_query())).await
}

#[derive(Deserialize)]
pub(super) struct CodeQuery {
    code: String,
}

pub(super) async fn support_enter(ctx: Ctx, q: web::Query<CodeQuery>) -> HttpResponse {
    let r = async {
        let c = ctx.commune()?.clone();
        sportello_admin::federation::redeem_support(
            &ctx.state,
            c.id(),
            &c.record.primary_host,
            &q.code,
            ctx.user_agent.clone(),
        )
        .await
        .map_err(crate::error::AppError::from)
    }
    .await;
    match r {
        Ok(token) => ctx.start_session(sportello_kernel::session::Kind::Staff, token, "/console"),
        Err(e) => ctx.respond(Err(e)),
    }
}
