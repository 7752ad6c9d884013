//! Services: their list, a new one, a page with channels, levels, cost, duration, routing
//! and history, update.

use actix_web::{HttpResponse, web};
use sportello_authz::{Action, Object};
use sportello_domain::{AssuranceLevel, Audience, Channel, Language, LifeEvent};

use crate::authz::{Actor, Admitted};
use crate::error::{AppError, AppResult};
use crate::routes::console_page::{
    after_post, check, field, field_help, form, link, notice_of, render, select, table, text,
};
use crate::routes::{Ctx, Posted};
use sportello_charter::edit;

use super::*;

pub(super) async fn office_options(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<(String, String)>> {
    let c = actor.commune()?;
    let tx = ctx.state.store.tenant(c).await?;
    let list = tx.db().offices().await?;
    tx.commit().await?;
    let mut v = vec![(String::new(), "— nessuno —".to_owned())];
    v.extend(list.into_iter().map(|o| (o.id.to_string(), o.name)));
    Ok(v)
}

pub(super) async fn services(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let list = tx.db().services().await?;
        tx.commit().await?;
        let rows = list
            .iter()
            .map(|s| {
                vec![
                    link(&s.title, format!("/console/servizi/{}", s.id)),
                    text(s.office_id.clone().unwrap_or_default()),
                    text(s.online_level.key()),
                ]
            })
            .collect();
        let mut out = vec![table(
            "Servizi",
            &[
                "Servizio",
                "Ufficio competente",
                "Livello di accesso online",
            ],
            rows,
        )];
        if actor
            .may(&ctx.state, Object::Services, Action::Create)
            .await
        {
            out.push(form(
                "Nuovo servizio",
                "/console/servizi",
                "Crea il servizio",
                vec![
                    field_help(
                        "text",
                        "id",
                        "Identificativo",
                        "",
                        "lettere minuscole, cifre e trattini",
                    ),
                    field("text", "title", "Titolo", ""),
                    select(
                        "office",
                        "Ufficio competente (dove arrivano le richieste)",
                        &office_options(&ctx, &actor).await?,
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
                "/console/servizi",
                "Servizi",
                "La carta dei servizi e l'ufficio a cui arriva ogni richiesta.",
                notice_of(&q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn service_create(
    ctx: Ctx,
    actor: Admitted,
    f: Posted<edit::NewService>,
) -> HttpResponse {
    let r = async {
        let id = edit::create_service(&ctx.state, &actor, &f).await?;
        Ok(format!("/console/servizi/{id}?esito=creato"))
    }
    .await;
    after_post(&ctx, r)
}

pub(super) async fn service_page(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    q: Query,
) -> HttpResponse {
    let r: AppResult<(String, Vec<serde_json::Value>)> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let db = tx.db();
        let s = db.service(&id).await?.ok_or(AppError::NotFound)?;
        let history = db.history("service", &id).await?;
        tx.commit().await?;
        let offices = office_options(&ctx, &actor).await?;
        let mut out = vec![];
        if actor
            .may(&ctx.state, Object::Services, Action::Update)
            .await
        {
            let mut fields = vec![
                field("text", "title", "Titolo", &s.title),
                field(
                    "text",
                    "title_en",
                    "Titolo in inglese",
                    s.title_en.as_deref().unwrap_or(""),
                ),
                field("textarea", "summary", "In breve", &s.summary),
                field("textarea", "description", "Descrizione", &s.description),
                select(
                    "audience",
                    "Destinatari",
                    &Audience::ALL
                        .iter()
                        .map(|a| (a.key().to_owned(), a.label(Language::It).to_owned()))
                        .collect::<Vec<_>>(),
                    s.audience.key(),
                ),
                select(
                    "office",
                    "Ufficio competente (dove arrivano le richieste)",
                    &offices,
                    &s.office_id.clone().unwrap_or_default(),
                ),
                field_help(
                    "textarea",
                    "documents",
                    "Documenti richiesti",
                    s.documents.join("\n"),
                    "uno per riga",
                ),
                field_help(
                    "text",
                    "cost",
                    "Costo (euro)",
                    format!("{},{:02}", s.cost.cents() / 100, s.cost.cents() % 100),
                    "es. 16,00; 0 se gratuito",
                ),
                field(
                    "number",
                    "max_days",
                    "Durata massima per legge (giorni)",
                    s.max_days.map(|d| d.to_string()).unwrap_or_default(),
                ),
                select(
                    "online_level",
                    "Livello di identità per il servizio online",
                    &AssuranceLevel::ALL
                        .iter()
                        .map(|a| (a.key().to_owned(), a.label(Language::It).to_owned()))
                        .collect::<Vec<_>>(),
                    s.online_level.key(),
                ),
            ];
            for e in LifeEvent::ALL {
                fields.push(check(
                    &format!("event:{}", e.key()),
                    &format!("Evento della vita: {}", e.label(Language::It)),
                    s.life_events.contains(e),
                ));
            }
            for ch in Channel::ALL {
                fields.push(check(
                    &format!("channel:{}", ch.key()),
                    &format!("Canale: {}", ch.label(Language::It)),
                    s.channels.contains(ch),
                ));
            }
            out.push(form(
                "Scheda del servizio",
                &format!("/console/servizi/{}", s.id),
                "Salva",
                fields,
            ));
        }
        out.push(history_table(&history));
        Ok((s.title.clone(), out))
    }
    .await;
    match r {
        Ok((title, s)) => {
            render(
                &ctx,
                &actor,
                "/console/servizi",
                &title,
                "",
                notice_of(&q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn service_update(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Pairs,
) -> HttpResponse {
    let r = async {
        let form = service_change(&f);
        let changed = edit::update_service(&ctx.state, &actor, &id, &form).await?;
        Ok(format!(
            "/console/servizi/{id}?esito={}",
            if changed { "salvato" } else { "invariato" }
        ))
    }
    .await;
    after_post(&ctx, r)
}

/// The service form: life events and channels arrive as repeated checkbox keys.
fn service_change(pairs: &[(String, String)]) -> edit::ServiceChange {
    let mut f = edit::ServiceChange::default();
    for (k, v) in pairs {
        match k.as_str() {
            "title" => f.title = v.clone(),
            "title_en" => f.title_en = v.clone(),
            "summary" => f.summary = v.clone(),
            "description" => f.description = v.clone(),
            "audience" => f.audience = v.clone(),
            "office" => f.office = v.clone(),
            "documents" => f.documents = v.clone(),
            "cost" => f.cost = v.clone(),
            "max_days" => f.max_days = v.clone(),
            "online_level" => f.online_level = v.clone(),
            k if k.starts_with("event:") => f.life_events.push(k[6..].to_owned()),
            k if k.starts_with("channel:") => f.channels.push(k[8..].to_owned()),
            _ => {}
        }
    }
    f
}
