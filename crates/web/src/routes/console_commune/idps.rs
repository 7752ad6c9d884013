//! The commune's own identity providers: list, add, remove.

use actix_web::{HttpResponse, web};
use sportello_authz::{Action, Object};

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::console_page::{after_post, field, form, notice_of, render, table, text};
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
            "Fornitori di identità del comune",
            &["Nome", "Identificativo", "Emittente", "Client ID", ""],
            rows,
        )];
        if actor.may(&ctx.state, Object::Idps, Action::Create).await {
            out.push(form(
                "Aggiungi un fornitore OpenID Connect",
                "/console/identita",
                "Aggiungi",
                vec![
                    field("text", "id", "Identificativo", ""),
                    field("text", "name", "Nome mostrato", ""),
                    field("url", "issuer", "Emittente (issuer)", ""),
                    field("text", "client_id", "Client ID", ""),
                    field("password", "client_secret", "Client secret", ""),
                ],
            ));
        }
        Ok(out)
    }
    .await;
    match r {
        Ok(s) => render(&ctx, &actor, "/console/identita", "Identità digitali", "SPID e CIE valgono in ogni comune della federazione; qui il comune aggiunge i propri fornitori.", notice_of(&q), s).await,
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn idp_add(ctx: Ctx, actor: Admitted, f: Posted<commune::NewIdp>) -> HttpResponse {
    let r = async {
        commune::add_idp(&ctx.state, &actor, &f).await?;
        Ok("/console/identita?esito=salvato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}

pub(super) async fn idp_remove(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    _: Posted<Button>,
) -> HttpResponse {
    let r = async {
        commune::remove_idp(&ctx.state, &actor, &id).await?;
        Ok("/console/identita?esito=eliminato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}
