//! The commune console's pages (on the commune's host). Every route here is declared with its
//! permission in [`routes`]; the guard has checked it before these handlers run.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use sportello_authz::{Action, Object, Role};
use sportello_domain::hours::Closure;
use sportello_domain::{AssuranceLevel, Audience, Channel, Language, LifeEvent};

use super::console_page::{
    after_post, button, check, checkbox, field, field_help, form, link, notice_of, render, select,
    table, text, when,
};
use super::{Button, Ctx, Posted};
use crate::authz::{Actor, Need, Needs, Routes};
use crate::console::{charter, commune, people, policy};
use crate::error::{AppError, AppResult};

type Query = web::Query<HashMap<String, String>>;
type Pairs = super::Posted<Vec<(String, String)>>;

/// The commune console's pages (commune hosts only), each with the permission it needs.
pub fn routes(r: &mut Routes) {
    use Action::{Create, Delete, Read, Update};
    let allow = |obj, act| Needs::Commune(Need::Allow(obj, act));
    r.get("/console/uffici", allow(Object::Offices, Read), offices)
        .post(
            "/console/uffici",
            allow(Object::Offices, Create),
            office_create,
        )
        .get(
            "/console/uffici/{id}",
            allow(Object::Offices, Read),
            office_page,
        )
        .post(
            "/console/uffici/{id}",
            allow(Object::Offices, Update),
            office_update,
        )
        .post(
            "/console/uffici/{id}/elimina",
            allow(Object::Offices, Delete),
            office_delete,
        )
        .get("/console/servizi", allow(Object::Services, Read), services)
        .post(
            "/console/servizi",
            allow(Object::Services, Create),
            service_create,
        )
        .get(
            "/console/servizi/{id}",
            allow(Object::Services, Read),
            service_page,
        )
        .post(
            "/console/servizi/{id}",
            allow(Object::Services, Update),
            service_update,
        )
        .get("/console/personale", allow(Object::Staff, Read), staff)
        .post(
            "/console/personale",
            allow(Object::Staff, Create),
            staff_invite,
        )
        .post(
            "/console/personale/{id}/ruoli",
            allow(Object::Staff, Update),
            staff_role,
        )
        .post(
            "/console/personale/{id}/elimina",
            allow(Object::Staff, Delete),
            staff_remove,
        )
        .get("/console/permessi", allow(Object::Policies, Read), policies)
        .post(
            "/console/permessi",
            allow(Object::Policies, Update),
            policies_save,
        )
        .post(
            "/console/permessi/modello",
            allow(Object::Policies, Update),
            policies_template,
        )
        .get(
            "/console/impostazioni",
            allow(Object::Settings, Read),
            settings,
        )
        .post(
            "/console/impostazioni",
            allow(Object::Settings, Update),
            settings_save,
        )
        .get("/console/identita", allow(Object::Idps, Read), idps)
        .post("/console/identita", allow(Object::Idps, Create), idp_add)
        .post(
            "/console/identita/{id}/elimina",
            allow(Object::Idps, Delete),
            idp_remove,
        )
        .get("/console/registro", allow(Object::Audit, Read), audit_log)
        .get("/console/supporto", allow(Object::Support, Read), support)
        .post(
            "/console/supporto",
            allow(Object::Support, Create),
            support_grant,
        )
        .post(
            "/console/supporto/{id}/revoca",
            allow(Object::Support, Delete),
            support_revoke,
        )
        // Federation support staff arrive with a one-time code, not yet signed in here.
        .get(
            "/console/supporto/ingresso",
            Needs::Commune(Need::Public),
            support_enter,
        );
}

pub async fn home(ctx: Ctx, actor: Actor) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = crate::console::commune_of(&actor)?;
        let tx = ctx.state.store.tenant(c).await?;
        let db = tx.db();
        let offices = db.offices().await?.len();
        let services = db.services().await?.len();
        let roles: Vec<String> = db
            .role_assignments()
            .await?
            .into_iter()
            .filter(|r| r.staff_id == actor.staff_id)
            .map(|r| match r.office_id {
                Some(o) => format!("{} ({o})", r.role),
                None => r.role,
            })
            .collect();
        tx.commit().await?;
        Ok(vec![table(
            "Il comune in breve",
            &["Voce", "Valore"],
            vec![
                vec![text("Uffici"), text(offices)],
                vec![text("Servizi"), text(services)],
                vec![
                    text("I suoi ruoli"),
                    text(if actor.federation {
                        "supporto della federazione".to_owned()
                    } else {
                        roles.join(", ")
                    }),
                ],
            ],
        )])
    }
    .await;
    match r {
        Ok(sections) => {
            let intro = format!("{} · {}", actor.name, actor.email);
            render(
                &ctx,
                &actor,
                "/console",
                "Console del comune",
                &intro,
                None,
                sections,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

// --- offices ---------------------------------------------------------------------------------

async fn offices(ctx: Ctx, actor: Actor, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = crate::console::commune_of(&actor)?;
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

async fn office_create(ctx: Ctx, actor: Actor, f: Posted<charter::NewOffice>) -> HttpResponse {
    let r = async {
        let id = charter::create_office(&ctx.state, &actor, &f).await?;
        Ok(format!("/console/uffici/{id}?esito=creato"))
    }
    .await;
    after_post(&ctx, r)
}

async fn office_page(ctx: Ctx, actor: Actor, id: web::Path<String>, q: Query) -> HttpResponse {
    let r: AppResult<(String, Vec<serde_json::Value>)> = async {
        let c = crate::console::commune_of(&actor)?;
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

fn history_table(h: &[sportello_store::sync::HistoryEntry]) -> serde_json::Value {
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

async fn office_update(
    ctx: Ctx,
    actor: Actor,
    id: web::Path<String>,
    f: Posted<charter::OfficeForm>,
) -> HttpResponse {
    let r = async {
        let changed = charter::update_office(&ctx.state, &actor, &id, &f).await?;
        Ok(format!(
            "/console/uffici/{id}?esito={}",
            if changed { "salvato" } else { "invariato" }
        ))
    }
    .await;
    after_post(&ctx, r)
}

async fn office_delete(
    ctx: Ctx,
    actor: Actor,
    id: web::Path<String>,
    _: Posted<Button>,
) -> HttpResponse {
    let r = async {
        charter::delete_office(&ctx.state, &actor, &id).await?;
        Ok("/console/uffici?esito=eliminato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}

// --- services --------------------------------------------------------------------------------

async fn office_options(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<(String, String)>> {
    let c = crate::console::commune_of(actor)?;
    let tx = ctx.state.store.tenant(c).await?;
    let list = tx.db().offices().await?;
    tx.commit().await?;
    let mut v = vec![(String::new(), "— nessuno —".to_owned())];
    v.extend(list.into_iter().map(|o| (o.id.to_string(), o.name)));
    Ok(v)
}

async fn services(ctx: Ctx, actor: Actor, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = crate::console::commune_of(&actor)?;
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

async fn service_create(ctx: Ctx, actor: Actor, f: Posted<charter::NewService>) -> HttpResponse {
    let r = async {
        let id = charter::create_service(&ctx.state, &actor, &f).await?;
        Ok(format!("/console/servizi/{id}?esito=creato"))
    }
    .await;
    after_post(&ctx, r)
}

async fn service_page(ctx: Ctx, actor: Actor, id: web::Path<String>, q: Query) -> HttpResponse {
    let r: AppResult<(String, Vec<serde_json::Value>)> = async {
        let c = crate::console::commune_of(&actor)?;
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

async fn service_update(ctx: Ctx, actor: Actor, id: web::Path<String>, f: Pairs) -> HttpResponse {
    let r = async {
        let form = charter::ServiceForm::from_pairs(&f);
        let changed = charter::update_service(&ctx.state, &actor, &id, &form).await?;
        Ok(format!(
            "/console/servizi/{id}?esito={}",
            if changed { "salvato" } else { "invariato" }
        ))
    }
    .await;
    after_post(&ctx, r)
}

// --- staff -----------------------------------------------------------------------------------

fn role_options() -> Vec<(String, String)> {
    Role::STAFF
        .iter()
        .map(|r| (r.key().to_owned(), role_label(*r).to_owned()))
        .collect()
}

pub fn role_label(r: Role) -> &'static str {
    match r {
        Role::Citizen => "Cittadino",
        Role::FrontDesk => "Operatore di sportello",
        Role::CallCentre => "Operatore del call center",
        Role::Clerk => "Impiegato d'ufficio",
        Role::OfficeHead => "Responsabile d'ufficio",
        Role::Admin => "Amministratore del comune",
        Role::Intermediary => "Intermediario (CAF, patronato)",
        Role::Verifier => "Ente di verifica (forze dell'ordine, INPS, ASL)",
        Role::Support => "Supporto della federazione",
        Role::Federation => "Personale della federazione",
    }
}

async fn staff(ctx: Ctx, actor: Actor, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = crate::console::commune_of(&actor)?;
        let tx = ctx.state.store.tenant(c).await?;
        let db = tx.db();
        let accounts = db.staff_db().list().await?;
        let roles = db.role_assignments().await?;
        tx.commit().await?;
        let can_update = actor.may(&ctx.state, Object::Staff, Action::Update).await;
        let can_delete = actor.may(&ctx.state, Object::Staff, Action::Delete).await;
        let mut rows = vec![];
        for a in &accounts {
            let mine: Vec<_> = roles.iter().filter(|r| r.staff_id == a.id).collect();
            let mut cells = vec![text(&a.display_name), text(&a.email)];
            let list: Vec<String> = mine
                .iter()
                .map(|r| match &r.office_id {
                    Some(o) => format!("{} ({o})", r.role),
                    None => r.role.clone(),
                })
                .collect();
            cells.push(text(list.join(", ")));
            cells.push(text(if a.totp_confirmed {
                "attivo"
            } else {
                "invitato"
            }));
            if can_update {
                for r in &mine {
                    let o = r.office_id.clone().unwrap_or_default();
                    cells.push(button(
                        &format!("Togli {}", r.role),
                        format!("/console/personale/{}/ruoli", a.id),
                        &[("role", &r.role), ("office", &o), ("op", "remove")],
                    ));
                }
            }
            if can_delete {
                cells.push(button(
                    "Elimina account",
                    format!("/console/personale/{}/elimina", a.id),
                    &[],
                ));
            }
            rows.push(cells);
        }
        let mut out = vec![table(
            "Personale",
            &["Nome", "E-mail", "Ruoli", "Stato", "Azioni"],
            rows,
        )];
        let offices = office_options(&ctx, &actor).await?;
        if actor.may(&ctx.state, Object::Staff, Action::Create).await {
            out.push(form(
                "Invita una persona",
                "/console/personale",
                "Invia l'invito",
                vec![
                    field("email", "email", "E-mail", ""),
                    field("text", "name", "Nome e cognome", ""),
                    select("role", "Ruolo", &role_options(), "clerk"),
                    select(
                        "office",
                        "Solo per l'ufficio (impiegati e responsabili)",
                        &offices,
                        "",
                    ),
                ],
            ));
        }
        if can_update {
            for a in &accounts {
                out.push(form(
                    &format!("Dai un ruolo a {}", a.display_name),
                    &format!("/console/personale/{}/ruoli", a.id),
                    "Dai il ruolo",
                    vec![
                        select("role", "Ruolo", &role_options(), "clerk"),
                        select("office", "Solo per l'ufficio", &offices, ""),
                        field("hidden", "op", "", "add"),
                    ],
                ));
            }
        }
        Ok(out)
    }
    .await;
    match r {
        Ok(s) => render(&ctx, &actor, "/console/personale", "Personale e ruoli", "Chi lavora nella console e con quale ruolo. Al primo accesso ognuno configura l'app di autenticazione (TOTP).", notice_of(&q), s).await,
        Err(e) => ctx.respond(Err(e)),
    }
}

async fn staff_invite(ctx: Ctx, actor: Actor, f: Posted<people::Invite>) -> HttpResponse {
    let r = async {
        let base = ctx.base_url()?;
        people::invite(&ctx.state, &actor, &f, &base).await?;
        Ok("/console/personale?esito=invitato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}

async fn staff_role(
    ctx: Ctx,
    actor: Actor,
    id: web::Path<String>,
    f: Posted<people::RoleChange>,
) -> HttpResponse {
    let r = async {
        let changed = people::change_role(&ctx.state, &actor, &id, &f).await?;
        Ok(format!(
            "/console/personale?esito={}",
            if changed { "salvato" } else { "invariato" }
        ))
    }
    .await;
    after_post(&ctx, r)
}

async fn staff_remove(
    ctx: Ctx,
    actor: Actor,
    id: web::Path<String>,
    _: Posted<Button>,
) -> HttpResponse {
    let r = async {
        people::remove(&ctx.state, &actor, &id).await?;
        Ok("/console/personale?esito=eliminato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}

// --- policies --------------------------------------------------------------------------------

async fn policies(ctx: Ctx, actor: Actor, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = crate::console::commune_of(&actor)?;
        let rules = ctx.state.policies.rules_of(c).await;
        let tx = ctx.state.store.tenant(c).await?;
        let stored = tx.db().policy().await?;
        tx.commit().await?;
        let custom = stored.as_ref().is_some_and(|p| p.custom_rules.is_some());
        let editable = actor.may(&ctx.state, Object::Policies, Action::Update).await;
        let mut headers = vec!["Ruolo e oggetto"];
        headers.extend(sportello_authz::Action::ALL.iter().map(|a| a.key()));
        let mut rows = vec![];
        for role in Role::COMMUNE {
            for object in Object::COMMUNE {
                let have = rules.get(&(role, object)).cloned().unwrap_or_default();
                let mut row = vec![text(format!("{} · {}", role_label(role), object.key()))];
                for a in sportello_authz::Action::ALL {
                    let name = policy::cell(role, object, a);
                    let label = format!("{} può {} {}", role.key(), a.key(), object.key());
                    let mut cbox = checkbox(&name, have.contains(&a), &label);
                    if !editable && let Some(m) = cbox.as_object_mut() {
                        m.insert("disabled".into(), true.into());
                    }
                    row.push(cbox);
                }
                rows.push(row);
            }
        }
        let mut matrix = table(
            if custom { "Regole del comune (personalizzate)" } else { "Regole del comune (dal modello della federazione)" },
            &headers,
            rows,
        );
        if editable && let Some(m) = matrix.as_object_mut() {
            m.insert("form".into(), serde_json::json!({"action": "/console/permessi", "submit": "Salva le regole", "fields": []}));
        }
        let mut out = vec![matrix];
        if editable {
            out.push(form(
                "Modello della federazione",
                "/console/permessi/modello",
                "Riapplica il modello",
                vec![],
            ));
        }
        Ok(out)
    }
    .await;
    match r {
        Ok(s) => render(&ctx, &actor, "/console/permessi", "Permessi", "Cosa può fare ogni ruolo in questo comune. Le modifiche valgono dalla richiesta successiva.", notice_of(&q), s).await,
        Err(e) => ctx.respond(Err(e)),
    }
}

async fn policies_save(ctx: Ctx, actor: Actor, f: Pairs) -> HttpResponse {
    let r = async {
        let rules = policy::rules_from_form(&f)?;
        policy::save_rules(&ctx.state, &actor, rules).await?;
        Ok("/console/permessi?esito=salvato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}

async fn policies_template(ctx: Ctx, actor: Actor, _: Posted<Button>) -> HttpResponse {
    let r = async {
        policy::apply_template(&ctx.state, &actor).await?;
        Ok("/console/permessi?esito=salvato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}

// --- settings, identity providers, audit, support -------------------------------------------

async fn settings(ctx: Ctx, actor: Actor, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = ctx.commune()?.clone();
        let tx = ctx.state.store.tenant(c.id()).await?;
        let s = tx.db().settings().await?;
        tx.commit().await?;
        let langs: Vec<(String, String)> = [Language::It, Language::En]
            .iter()
            .map(|l| (l.key().to_owned(), l.key().to_uppercase()))
            .collect();
        let mut fields = vec![
            field(
                "color",
                "color",
                "Colore dell'intestazione",
                &c.record.color,
            ),
            field(
                "email",
                "email",
                "E-mail del comune",
                c.record.email.as_deref().unwrap_or(""),
            ),
            field(
                "text",
                "phone",
                "Telefono",
                c.record.phone.as_deref().unwrap_or(""),
            ),
            field(
                "url",
                "website",
                "Sito istituzionale",
                c.record.website.as_deref().unwrap_or(""),
            ),
            select(
                "default_language",
                "Lingua predefinita",
                &langs,
                c.record.default_language.key(),
            ),
        ];
        for l in [Language::It, Language::En] {
            fields.push(check(
                &format!("lang:{}", l.key()),
                &format!("Portale anche in {}", l.key().to_uppercase()),
                c.record.languages.contains(&l),
            ));
        }
        fields.push(field_help(
            "text",
            "mail_from_name",
            "Nome del mittente delle e-mail",
            s.mail_from_name.as_deref().unwrap_or(""),
            "es. Comune di Pisa – Sportello telematico",
        ));
        fields.push(field(
            "email",
            "mail_reply_to",
            "Indirizzo per le risposte",
            s.mail_reply_to.as_deref().unwrap_or(""),
        ));
        let editable = actor
            .may(&ctx.state, Object::Settings, Action::Update)
            .await;
        Ok(vec![if editable {
            form(
                "Aspetto, lingue e posta",
                "/console/impostazioni",
                "Salva",
                fields,
            )
        } else {
            table(
                "Aspetto, lingue e posta",
                &["Voce", "Valore"],
                vec![vec![text("Colore"), text(&c.record.color)]],
            )
        }])
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/impostazioni",
                "Impostazioni",
                "",
                notice_of(&q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

async fn settings_save(ctx: Ctx, actor: Actor, f: Pairs) -> HttpResponse {
    let r = async {
        commune::save_settings(&ctx.state, &actor, &commune::SettingsForm::from_pairs(&f)).await?;
        Ok("/console/impostazioni?esito=salvato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}

async fn idps(ctx: Ctx, actor: Actor, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = crate::console::commune_of(&actor)?;
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

async fn idp_add(ctx: Ctx, actor: Actor, f: Posted<commune::NewIdp>) -> HttpResponse {
    let r = async {
        commune::add_idp(&ctx.state, &actor, &f).await?;
        Ok("/console/identita?esito=salvato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}

async fn idp_remove(
    ctx: Ctx,
    actor: Actor,
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

async fn audit_log(ctx: Ctx, actor: Actor) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = crate::console::commune_of(&actor)?;
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

async fn support(ctx: Ctx, actor: Actor, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = crate::console::commune_of(&actor)?;
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
                    text(when(g.created_at)),
                    text(&g.reason),
                    text(when(g.expires_at)),
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
                        "Revoca",
                        format!("/console/supporto/{}/revoca", g.id),
                        &[],
                    ));
                }
                row
            })
            .collect();
        let mut out = vec![table(
            "Accessi concessi",
            &["Concesso il", "Motivo", "Fino al", "Stato", ""],
            rows,
        )];
        if actor.may(&ctx.state, Object::Support, Action::Create).await {
            out.push(form(
                "Concedi l'accesso al supporto",
                "/console/supporto",
                "Concedi",
                vec![
                    field(
                        "text",
                        "reason",
                        "Motivo (es. numero della segnalazione)",
                        "",
                    ),
                    field_help("number", "hours", "Durata in ore", "4", "da 1 a 72"),
                ],
            ));
        }
        Ok(out)
    }
    .await;
    match r {
        Ok(s) => render(&ctx, &actor, "/console/supporto", "Supporto della federazione", "Il personale della federazione non vede i dati del comune, salvo un accesso concesso qui, a tempo.", notice_of(&q), s).await,
        Err(e) => ctx.respond(Err(e)),
    }
}

async fn support_grant(ctx: Ctx, actor: Actor, f: Posted<commune::NewGrant>) -> HttpResponse {
    let r = async {
        commune::grant_support(&ctx.state, &actor, &f).await?;
        Ok("/console/supporto?esito=salvato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}

async fn support_revoke(
    ctx: Ctx,
    actor: Actor,
    id: web::Path<String>,
    _: Posted<Button>,
) -> HttpResponse {
    let r = async {
        let c = crate::console::commune_of(&actor)?;
        commune::revoke_support(&ctx.state, &actor, c, &id).await?;
        Ok("/console/supporto?esito=salvato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}

#[derive(Deserialize)]
struct CodeQuery {
    code: String,
}

async fn support_enter(ctx: Ctx, q: web::Query<CodeQuery>) -> HttpResponse {
    let r = async {
        let c = ctx.commune()?.clone();
        crate::console::federation::redeem_support(
            &ctx.state,
            c.id(),
            &c.record.primary_host,
            &q.code,
            ctx.user_agent.clone(),
        )
        .await
    }
    .await;
    match r {
        Ok(token) => ctx.start_session(crate::auth::session::Kind::Staff, token, "/console"),
        Err(e) => ctx.respond(Err(e)),
    }
}
