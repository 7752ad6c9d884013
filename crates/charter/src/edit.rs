//! Offices and services of the charter, edited from the console (each change is a new version
//! in the charter's history, visible on the portal at once).

use serde::Deserialize;
use serde_json::json;
use sportello_authz::{Action, Object};
use sportello_domain::hours::{Closure, WeeklyHours};
use sportello_domain::{AssuranceLevel, Audience, Channel, LifeEvent, Slug};
use sportello_store::entity::{office, service};

use sportello_kernel::Actor;
use sportello_kernel::Deps;
use sportello_kernel::input::{Removal, optional, required};
use sportello_kernel::scope::{check_scope, office_scope};
use sportello_kernel::{Error, Problems, Result, Why};

fn slug(field: &str, v: &str) -> Result<String> {
    Slug::parse(v.trim())
        .map(|s| s.to_string())
        .map_err(Error::parse(field))
}

#[derive(Debug, Deserialize)]
pub struct NewOffice {
    pub id: String,
    pub name: String,
}

pub async fn create_office(deps: &Deps, actor: &Actor, f: &NewOffice) -> Result<String> {
    // A new office belongs to the commune, not to anyone's offices.
    check_scope(
        &office_scope(deps, actor, Object::Offices, Action::Create).await?,
        None,
    )?;
    let id = slug("id", &f.id)?;
    let name = required("name", &f.name)?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    if db.office_row(&id).await?.is_some() {
        return Err(Error::invalid_at("id", Why::IdTaken, id));
    }
    let m = office::Model {
        tenant_id: 0,
        id: id.clone(),
        name,
        name_en: None,
        description: String::new(),
        description_en: None,
        name_de: None,
        description_de: None,
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
        // Citizens see it once someone who may edit the charter publishes it.
        draft: true,
    };
    db.put_office_row(m, &actor.audit_name()).await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "office_created",
        &format!("office:{id}"),
        json!({"name": f.name.trim()}),
    )
    .await?;
    tx.commit().await?;
    deps.apply_registry_changes().await;
    Ok(id)
}

#[derive(Debug, Default, Deserialize)]
pub struct OfficeChange {
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub name_de: String,
    #[serde(default)]
    pub description_de: String,
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

/// Whether the actor's commune carries its charter in German too (province of Bolzano/Bozen).
pub fn speaks_german(deps: &Deps, actor: &Actor) -> bool {
    actor
        .commune()
        .ok()
        .and_then(|c| deps.tenancy.by_id(c))
        .and_then(|c| sportello_domain::commune::co_official_language(&c.record.province_code))
        == Some(sportello_domain::Language::De)
}

pub async fn update_office(deps: &Deps, actor: &Actor, id: &str, f: &OfficeChange) -> Result<bool> {
    check_scope(
        &office_scope(deps, actor, Object::Offices, Action::Update).await?,
        Some(id),
    )?;
    // Every field is checked, so the form can show every mistake at once.
    let mut problems = Problems::default();
    let name = required("name", &f.name).map_err(|e| keep(&mut problems, e));
    let weekly = WeeklyHours::parse_lines(&f.hours).map_err(|e| problems.parse("hours", &e));
    let closures = Closure::parse_lines(&f.closures).map_err(|e| problems.parse("closures", &e));
    let email = optional(&f.email)
        .map(|e| sportello_domain::Email::parse(&e).map(|e| e.as_str().to_owned()))
        .transpose()
        .map_err(|e| problems.parse("email", &e));
    let (Ok(name), Ok(weekly), Ok(closures), Ok(email)) = (name, weekly, closures, email) else {
        return Err(Error::Invalid(problems));
    };
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    let mut m = db.office_row(id).await?.ok_or(Error::NotFound)?;
    m.name = name;
    m.name_en = optional(&f.name_en);
    m.description = f.description.trim().to_owned();
    m.description_en = optional(&f.description_en);
    // German only where it is official: elsewhere the form has no such fields to clear them.
    if speaks_german(deps, actor) {
        m.name_de = optional(&f.name_de);
        m.description_de = optional(&f.description_de);
    }
    m.floor = f.floor.trim().to_owned();
    m.room = f.room.trim().to_owned();
    m.directions = f.directions.trim().to_owned();
    m.phone = f.phone.trim().to_owned();
    m.email = email.unwrap_or_default();
    m.hours = to_json(&sportello_store::charter::StoredHours { weekly, closures })?;
    let changed = db.put_office_row(m, &actor.audit_name()).await?;
    if changed {
        sportello_kernel::audit::record(
            &db,
            actor,
            "office_updated",
            &format!("office:{id}"),
            json!({"name": f.name.trim()}),
        )
        .await?;
    }
    tx.commit().await?;
    deps.apply_registry_changes().await;
    Ok(changed)
}

/// Publishes an office made in the console: from now on citizens see it. Only who may edit the
/// commune's charter as a whole decides (an administrator, an office head of that office).
pub async fn publish_office(deps: &Deps, actor: &Actor, id: &str) -> Result<bool> {
    check_scope(
        &office_scope(deps, actor, Object::Charter, Action::Update).await?,
        Some(id),
    )?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    let mut m = db.office_row(id).await?.ok_or(Error::NotFound)?;
    if !m.draft {
        return Ok(false);
    }
    m.draft = false;
    db.put_office_row(m, &actor.audit_name()).await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "office_published",
        &format!("office:{id}"),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    deps.apply_registry_changes().await;
    Ok(true)
}

/// Deletes an office, once confirmed; the reason goes to the audit log.
pub async fn delete_office(deps: &Deps, actor: &Actor, id: &str, f: &Removal) -> Result<()> {
    check_scope(
        &office_scope(deps, actor, Object::Offices, Action::Delete).await?,
        Some(id),
    )?;
    let reason = f.reason()?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    let deleted = db.delete_office(id).await.map_err(|e| match e {
        // Services, staff entries or roles still refer to it.
        sportello_store::StoreError::Invalid(_) => Error::invalid("", Why::OfficeInUse),
        other => Error::Store(other),
    })?;
    if !deleted {
        return Err(Error::NotFound);
    }
    sportello_kernel::audit::record(
        &db,
        actor,
        "office_deleted",
        &format!("office:{id}"),
        json!({"reason": reason}),
    )
    .await?;
    tx.commit().await?;
    deps.apply_registry_changes().await;
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct NewService {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub office: String,
}

pub async fn create_service(deps: &Deps, actor: &Actor, f: &NewService) -> Result<String> {
    let id = slug("id", &f.id)?;
    let title = required("title", &f.title)?;
    let office = optional(&f.office);
    check_scope(
        &office_scope(deps, actor, Object::Services, Action::Create).await?,
        office.as_deref(),
    )?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    if db.service_row(&id).await?.is_some() {
        return Err(Error::invalid_at("id", Why::IdTaken, id));
    }
    let m = service::Model {
        tenant_id: 0,
        id: id.clone(),
        title: title.clone(),
        title_en: None,
        summary: title,
        summary_en: None,
        description: String::new(),
        description_en: None,
        title_de: None,
        summary_de: None,
        description_de: None,
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
        online_url: None,
        available_from: None,
        available_to: None,
        search_text: String::new(),
        updated_at: 0,
    };
    db.put_service_row(m, &actor.audit_name()).await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "service_created",
        &format!("service:{id}"),
        json!({"title": f.title.trim()}),
    )
    .await?;
    tx.commit().await?;
    deps.apply_registry_changes().await;
    Ok(id)
}

/// The service form: checkboxes arrive as repeated keys, so it is read from the raw pairs.
#[derive(Debug, Default)]
pub struct ServiceChange {
    pub title: String,
    pub title_en: String,
    pub summary: String,
    pub description: String,
    pub description_en: String,
    pub summary_en: String,
    pub title_de: String,
    pub summary_de: String,
    pub description_de: String,
    pub audience: String,
    pub life_events: Vec<String>,
    pub office: String,
    pub documents: String,
    pub cost: String,
    pub max_days: String,
    pub channels: Vec<String>,
    pub online_level: String,
    pub online_url: String,
}

pub async fn update_service(
    deps: &Deps,
    actor: &Actor,
    id: &str,
    f: &ServiceChange,
) -> Result<bool> {
    // Every field is checked, so the form can show every mistake at once.
    let mut p = Problems::default();
    let title = required("title", &f.title).map_err(|e| keep(&mut p, e));
    let summary = required("summary", &f.summary).map_err(|e| keep(&mut p, e));
    let audience = Audience::parse(&f.audience).map_err(|e| p.parse("audience", &e));
    let level = AssuranceLevel::parse(&f.online_level).map_err(|e| p.parse("online_level", &e));
    let events = f
        .life_events
        .iter()
        .map(|e| LifeEvent::parse(e))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| p.parse("life_events", &e));
    let channels = f
        .channels
        .iter()
        .map(|c| Channel::parse(c))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| p.parse("channels", &e));
    let cost = sportello_domain::Money::parse(&f.cost).map_err(|e| p.parse("cost", &e));
    let online_url = match optional(&f.online_url) {
        None => Ok(None),
        Some(u) => sportello_domain::WebAddress::parse(&u)
            .map(|u| Some(u.as_str().to_owned()))
            .map_err(|e| p.parse("online_url", &e)),
    };
    let max_days = match f.max_days.trim() {
        "" => Ok(None),
        d => sportello_domain::LegalDays::parse(d)
            .map(|d| Some(i32::from(d.days())))
            .map_err(|e| p.parse("max_days", &e)),
    };
    let (
        Ok(title),
        Ok(summary),
        Ok(audience),
        Ok(level),
        Ok(events),
        Ok(channels),
        Ok(cost),
        Ok(max_days),
        Ok(online_url),
    ) = (
        title, summary, audience, level, events, channels, cost, max_days, online_url,
    )
    else {
        return Err(Error::Invalid(p));
    };
    let cost = cost.cents();
    let documents: Vec<String> = f
        .documents
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let scope = office_scope(deps, actor, Object::Services, Action::Update).await?;
    let office = optional(&f.office);
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    let mut m = db.service_row(id).await?.ok_or(Error::NotFound)?;
    if let Some(o) = &office
        && db.office_row(o).await?.is_none()
    {
        return Err(Error::invalid_at("office", Why::UnknownOffice, o.as_str()));
    }
    // A scoped head edits services of their offices, and keeps them there.
    check_scope(&scope, m.office_id.as_deref())?;
    check_scope(&scope, office.as_deref())?;
    m.title = title;
    m.title_en = optional(&f.title_en);
    m.summary = summary;
    m.description = f.description.trim().to_owned();
    m.description_en = optional(&f.description_en);
    m.summary_en = optional(&f.summary_en);
    if speaks_german(deps, actor) {
        m.title_de = optional(&f.title_de);
        m.summary_de = optional(&f.summary_de);
        m.description_de = optional(&f.description_de);
    }
    m.audience = audience.key().to_owned();
    m.life_events = to_json(&events)?;
    m.office_id = office;
    m.documents = to_json(&documents)?;
    m.cost_cents = cost;
    m.max_days = max_days;
    m.channels = to_json(&channels)?;
    m.online_level = level.key().to_owned();
    m.online_url = online_url;
    let changed = db.put_service_row(m, &actor.audit_name()).await?;
    if changed {
        sportello_kernel::audit::record(
            &db,
            actor,
            "service_updated",
            &format!("service:{id}"),
            json!({"title": f.title.trim(), "office": f.office.trim()}),
        )
        .await?;
    }
    tx.commit().await?;
    deps.apply_registry_changes().await;
    Ok(changed)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Upstream(e.to_string()))
}

/// Adds a refused field's problems to the form's.
fn keep(all: &mut Problems, e: Error) {
    if let Error::Invalid(p) = e {
        all.0.extend(p.0);
    }
}
