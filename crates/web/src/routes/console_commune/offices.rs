//! Offices: their list, a new one, a page with hours, closures and history, update, delete.

use actix_web::{HttpResponse, web};
use sportello_authz::{Action, Object};
use sportello_domain::hours::Closure;

use crate::authz::Admitted;
use crate::error::{AppError, AppResult};
use crate::routes::console_page::{
    after_post, button, field, field_help, form, link, notice_of, render, table, text, when,
};
use crate::routes::{Button, Ctx, Posted};
use sportello_charter::edit;

use super::*;

pub(super) async fn offices(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let list = tx.db().offices().await?;
        tx.commit().await?;
        let rows = list
            .iter()
            .map(|o| {
                vec![
                    link(&o.name, format!("/console/uffici/{}", o.id)),
                    text(&o.id),
                    text(o.hours.weekly.to_lines().replace('\n', " · ")),
                ]
            })
            .collect();
        let mut s = vec![table(
            "Uffici",
            &["Ufficio", "Identificativo", "Orari"],
            rows,
        )];
        if actor.may(&ctx.state, Object::Offices, Action::Create).await {
            s.push(form(
                "Nuovo ufficio",
                "/console/uffici",
                "Crea l'ufficio",
                vec![
                    field_help(
                        "text",
                        "id",
                        "Identificativo",
                        "",
                        "lettere minuscole, cifre e trattini, es. ufficio-tributi",
                    ),
                    field("text", "name", "Nome", ""),
                ],
            ));
        }
        Ok(s)
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/uffici",
                "Uffici e orari",
                "Gli uffici del comune, i loro orari e le chiusure.",
                notice_of(&q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn office_create(
    ctx: Ctx,
    actor: Admitted,
    f: Posted<edit::NewOffice>,
) -> HttpResponse {
    let r = async {
        let id = edit::create_office(&ctx.state, &actor, &f).await?;
        Ok(format!("/console/uffici/{id}?esito=creato"))
    }
    .await;
    after_post(&ctx, r)
}

pub(super) async fn office_page(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    q: Query,
) -> HttpResponse {
    let r: AppResult<(String, Vec<serde_json::Value>)> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let db = tx.db();
        let o = db.office(&id).await?.ok_or(AppError::NotFound)?;
        let history = db.history("office", &id).await?;
        tx.commit().await?;
        let mut s = vec![];
        if actor.may(&ctx.state, Object::Offices, Action::Update).await {
            s.push(form(
                "Dati dell'ufficio",
                &format!("/console/uffici/{}", o.id),
                "Salva",
                vec![
                    field("text", "name", "Nome", &o.name),
                    field("text", "name_en", "Nome in inglese", o.name_en.as_deref().unwrap_or("")),
                    field("textarea", "description", "Descrizione", &o.description),
                    field("text", "floor", "Piano", &o.floor),
                    field("text", "room", "Stanza", &o.room),
                    field("textarea", "directions", "Come arrivare", &o.directions),
                    field("text", "phone", "Telefono", &o.phone),
                    field("email", "email", "E-mail", &o.email),
                    field_help("textarea", "hours", "Orari settimanali", o.hours.weekly.to_lines(), "una riga per giorno: lun 08:30-12:30 15:00-17:00"),
                    field_help("textarea", "closures", "Chiusure e orari ridotti", Closure::to_lines(&o.hours.closures), "una riga per data: 2026-12-24 Vigilia (chiuso) oppure 2026-12-31 09:00-12:00 Ultimo dell'anno"),
                ],
            ));
        }
        s.push(history_table(&history));
        if actor.may(&ctx.state, Object::Offices, Action::Delete).await {
            s.push(table("Elimina", &["Ufficio", ""], vec![vec![text(&o.name), button("Elimina l'ufficio", format!("/console/uffici/{}/elimina", o.id), &[])]]));
        }
        Ok((o.name.clone(), s))
    }
    .await;
    match r {
        Ok((name, s)) => render(&ctx, &actor, "/console/uffici", &name, "", notice_of(&q), s).await,
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) fn history_table(h: &[sportello_store::sync::HistoryEntry]) -> serde_json::Value {
    table(
        "Storico delle versioni",
        &["Versione", "Dal", "Al", "Modificato da"],
        h.iter()
            .map(|v| {
                vec![
                    text(v.version),
                    text(when(v.valid_from)),
                    text(v.valid_to.map(when).unwrap_or_else(|| "in vigore".into())),
                    text(&v.changed_by),
                ]
            })
            .collect(),
    )
}

pub(super) async fn office_update(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Posted<edit::OfficeChange>,
) -> HttpResponse {
    let r = async {
        let changed = edit::update_office(&ctx.state, &actor, &id, &f).await?;
        Ok(format!(
            "/console/uffici/{id}?esito={}",
            if changed { "salvato" } else { "invariato" }
        ))
    }
    .await;
    after_post(&ctx, r)
}

pub(super) async fn office_delete(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    _: Posted<Button>,
) -> HttpResponse {
    let r = async {
        edit::delete_office(&ctx.state, &actor, &id).await?;
        Ok("/console/uffici?esito=eliminato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}
