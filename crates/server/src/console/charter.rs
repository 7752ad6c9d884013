//! Offices and services of the charter, edited from the console (each change is a new version
//! in the charter's history, visible on the portal at once).

use serde::Deserialize;
use serde_json::json;
use sportello_authz::{Action, Object, Role};
use sportello_domain::hours::{Closure, WeeklyHours};
use sportello_domain::{AssuranceLevel, Audience, Channel, LifeEvent, Slug};
use sportello_store::entity::{office, service};

use super::{audit, commune_of, optional, required};
use crate::AppState;
use crate::authz::Actor;
use crate::error::{AppError, AppResult};

/// The offices an actor's work on `obj`/`act` is limited to (`None`: the whole commune). Only the
/// roles that grant that permission count: a commune-wide assignment of one of them opens the
/// commune; office-scoped ones open their offices; other roles open nothing here.
pub async fn office_scope(
    state: &AppState,
    actor: &Actor,
    obj: Object,
    act: Action,
) -> AppResult<Option<Vec<String>>> {
    if actor.federation {
        return Ok(None);
    }
    let c = commune_of(actor)?;
    let rules = state.policies.rules_of(c).await;
    let tx = state.store.tenant(c).await?;
    let roles = tx.db().role_assignments().await?;
    tx.commit().await?;
    let mut offices = Vec::new();
    for r in roles.into_iter().filter(|r| r.staff_id == actor.staff_id) {
        let Some(role) = Role::parse(&r.role) else {
            continue;
        };
        let grants = rules
            .get(&(role, obj))
            .is_some_and(|actions| actions.contains(&act));
        if !grants {
            continue;
        }
        match r.office_id {
            None => return Ok(None),
            Some(o) => offices.push(o),
        }
    }
    Ok(Some(offices))
}

fn check_scope(scope: &Option<Vec<String>>, office: Option<&str>) -> AppResult<()> {
    match (scope, office) {
        (None, _) => Ok(()),
        (Some(list), Some(o)) if list.iter().any(|x| x == o) => Ok(()),
        _ => Err(AppError::Forbidden(
            "this office is not one of yours".into(),
        )),
    }
}

fn slug(name: &str, v: &str) -> AppResult<String> {
    Slug::parse(v.trim())
        .map(|s| s.to_string())
        .map_err(|e| AppError::BadRequest(format!("{name}: {e}")))
}

#[derive(Debug, Deserialize)]
pub struct NewOffice {
    pub id: String,
    pub name: String,
}

pub async fn create_office(state: &AppState, actor: &Actor, f: &NewOffice) -> AppResult<String> {
    let id = slug("identifier", &f.id)?;
    let name = required("name", &f.name)?;
    let tx = state.store.tenant(commune_of(actor)?).await?;
    let db = tx.db();
    if db.office_row(&id).await?.is_some() {
        return Err(AppError::BadRequest(format!(
            "identifier: an office {id} exists already"
        )));
    }
    let m = office::Model {
        tenant_id: 0,
        id: id.clone(),
        name,
        name_en: None,
        description: String::new(),
        building_id: None,
        floor: String::new(),
        room: String::new(),
        directions: String::new(),
        phone: String::new(),
        email: String::new(),
        pec: None,
        head_id: None,
        hours: json!({"weekly": {}, "closures": []}).to_string(),
        search_text: String::new(),
        updated_at: 0,
    };
    db.put_office_row(m, &actor.audit_name()).await?;
    audit(
        &db,
        actor,
        "office_created",
        &format!("office:{id}"),
        json!({"name": f.name.trim()}),
    )
    .await?;
    tx.commit().await?;
    super::apply_registry_changes(state).await;
    Ok(id)
}

#[derive(Debug, Deserialize)]
pub struct OfficeForm {
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub floor: String,
    #[serde(default)]
    pub room: String,
    #[serde(default)]
    pub directions: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub hours: String,
    #[serde(default)]
    pub closures: String,
}

pub async fn update_office(
    state: &AppState,
    actor: &Actor,
    id: &str,
    f: &OfficeForm,
) -> AppResult<bool> {
    check_scope(
        &office_scope(state, actor, Object::Offices, Action::Update).await?,
        Some(id),
    )?;
    let weekly =
        WeeklyHours::parse_lines(&f.hours).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let closures =
        Closure::parse_lines(&f.closures).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let email = optional(&f.email)
        .map(|e| sportello_domain::Email::parse(&e).map(|e| e.as_str().to_owned()))
        .transpose()
        .map_err(|e| AppError::BadRequest(format!("e-mail: {e}")))?;
    let tx = state.store.tenant(commune_of(actor)?).await?;
    let db = tx.db();
    let mut m = db.office_row(id).await?.ok_or(AppError::NotFound)?;
    m.name = required("name", &f.name)?;
    m.name_en = optional(&f.name_en);
    m.description = f.description.trim().to_owned();
    m.floor = f.floor.trim().to_owned();
    m.room = f.room.trim().to_owned();
    m.directions = f.directions.trim().to_owned();
    m.phone = f.phone.trim().to_owned();
    m.email = email.unwrap_or_default();
    m.hours = serde_json::to_string(&sportello_store::charter::StoredHours { weekly, closures })
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let changed = db.put_office_row(m, &actor.audit_name()).await?;
    if changed {
        audit(
            &db,
            actor,
            "office_updated",
            &format!("office:{id}"),
            json!({"name": f.name.trim()}),
        )
        .await?;
    }
    tx.commit().await?;
    super::apply_registry_changes(state).await;
    Ok(changed)
}

pub async fn delete_office(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let tx = state.store.tenant(commune_of(actor)?).await?;
    let db = tx.db();
    if !db.delete_office(id).await? {
        return Err(AppError::NotFound);
    }
    audit(
        &db,
        actor,
        "office_deleted",
        &format!("office:{id}"),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    super::apply_registry_changes(state).await;
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct NewService {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub office: String,
}

pub async fn create_service(state: &AppState, actor: &Actor, f: &NewService) -> AppResult<String> {
    let id = slug("identifier", &f.id)?;
    let title = required("title", &f.title)?;
    let office = optional(&f.office);
    check_scope(
        &office_scope(state, actor, Object::Services, Action::Create).await?,
        office.as_deref(),
    )?;
    let tx = state.store.tenant(commune_of(actor)?).await?;
    let db = tx.db();
    if db.service_row(&id).await?.is_some() {
        return Err(AppError::BadRequest(format!(
            "identifier: a service {id} exists already"
        )));
    }
    let m = service::Model {
        tenant_id: 0,
        id: id.clone(),
        title: title.clone(),
        title_en: None,
        summary: title,
        summary_en: None,
        description: String::new(),
        audience: Audience::Citizens.key().to_owned(),
        life_events: "[]".into(),
        office_id: office,
        responsible_id: None,
        documents: "[]".into(),
        cost_cents: 0,
        cost_note: None,
        max_days: None,
        channels: json!([Channel::Desk]).to_string(),
        online_level: AssuranceLevel::None.key().to_owned(),
        available_from: None,
        available_to: None,
        search_text: String::new(),
        updated_at: 0,
    };
    db.put_service_row(m, &actor.audit_name()).await?;
    audit(
        &db,
        actor,
        "service_created",
        &format!("service:{id}"),
        json!({"title": f.title.trim()}),
    )
    .await?;
    tx.commit().await?;
    super::apply_registry_changes(state).await;
    Ok(id)
}

/// The service form: checkboxes arrive as repeated keys, so it is read from the raw pairs.
#[derive(Debug, Default)]
pub struct ServiceForm {
    pub title: String,
    pub title_en: String,
    pub summary: String,
    pub description: String,
    pub audience: String,
    pub life_events: Vec<String>,
    pub office: String,
    pub documents: String,
    pub cost: String,
    pub max_days: String,
    pub channels: Vec<String>,
    pub online_level: String,
}

impl ServiceForm {
    pub fn from_pairs(pairs: &[(String, String)]) -> ServiceForm {
        let mut f = ServiceForm::default();
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
}

/// `16,00`, `16.5`, `0` → cents.
pub fn parse_euros(s: &str) -> AppResult<i64> {
    let s = s.trim().replace(['€', ' '], "").replace(',', ".");
    if s.is_empty() {
        return Ok(0);
    }
    let bad = || AppError::BadRequest(format!("cost: {s:?} is not an amount in euros"));
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    if frac.len() > 2
        || int.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let euros: i64 = int.parse().map_err(|_| bad())?;
    let cents: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    euros
        .checked_mul(100)
        .and_then(|e| e.checked_add(cents))
        .ok_or_else(bad)
}

pub async fn update_service(
    state: &AppState,
    actor: &Actor,
    id: &str,
    f: &ServiceForm,
) -> AppResult<bool> {
    let bad = |e: sportello_domain::ParseError| AppError::BadRequest(e.to_string());
    let audience = Audience::parse(&f.audience).map_err(bad)?;
    let level = AssuranceLevel::parse(&f.online_level).map_err(bad)?;
    let events = f
        .life_events
        .iter()
        .map(|e| LifeEvent::parse(e))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let channels = f
        .channels
        .iter()
        .map(|c| Channel::parse(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let cost = parse_euros(&f.cost)?;
    let max_days = match f.max_days.trim() {
        "" => None,
        d => Some(
            d.parse::<i32>()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or_else(|| {
                    AppError::BadRequest(
                        "maximum duration: a number of days between 1 and 3650".into(),
                    )
                })?,
        ),
    };
    let documents: Vec<String> = f
        .documents
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let scope = office_scope(state, actor, Object::Services, Action::Update).await?;
    let office = optional(&f.office);
    let tx = state.store.tenant(commune_of(actor)?).await?;
    let db = tx.db();
    let mut m = db.service_row(id).await?.ok_or(AppError::NotFound)?;
    // A scoped head edits services of their offices, and keeps them there.
    check_scope(&scope, m.office_id.as_deref())?;
    check_scope(&scope, office.as_deref())?;
    m.title = required("title", &f.title)?;
    m.title_en = optional(&f.title_en);
    m.summary = required("summary", &f.summary)?;
    m.description = f.description.trim().to_owned();
    m.audience = audience.key().to_owned();
    m.life_events = to_json(&events)?;
    m.office_id = office;
    m.documents = to_json(&documents)?;
    m.cost_cents = cost;
    m.max_days = max_days;
    m.channels = to_json(&channels)?;
    m.online_level = level.key().to_owned();
    let changed = db.put_service_row(m, &actor.audit_name()).await?;
    if changed {
        audit(
            &db,
            actor,
            "service_updated",
            &format!("service:{id}"),
            json!({"title": f.title.trim(), "office": f.office.trim()}),
        )
        .await?;
    }
    tx.commit().await?;
    super::apply_registry_changes(state).await;
    Ok(changed)
}

fn to_json<T: serde::Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(|e| AppError::BadRequest(e.to_string()))
}
