//! A clerk's work on the registry: find people, read a record (the look is logged for the
//! person to see), register someone, record a change from its legal day on, correct a version.
//!
//! A *change* closes the version in force on its legal day and opens a new one: the registry
//! then answers "as it was" on either side of that day. A *correction* replaces a version's facts
//! over the same days; the replaced version is kept (marked) so the history shows what was
//! corrected and when.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;
use sportello_authz::Action;
use sportello_domain::registry::{Facts, RawFacts};
use sportello_domain::{FiscalCode, Why};
use sportello_kernel::{Actor, Deps, Error, Problems, Result};
use sportello_store::TenantDb;
use sportello_store::population::{Access, NewVersion, Version};

/// The most people a search lists.
pub const FOUND_MAX: u64 = 50;
/// How many looks at a record the record's page lists.
pub const ACCESSES_SHOWN: u64 = 100;

/// A person's record as a clerk reads it.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub current: Version,
    /// Every version, replaced ones too, oldest first.
    pub history: Vec<Version>,
    /// The family now, head first.
    pub family: Vec<Version>,
    /// The street's name.
    pub street: String,
}

/// Finds people by fiscal code or surname (beginning).
pub async fn find(deps: &Deps, actor: &Actor, text: &str) -> Result<Vec<Version>> {
    crate::require(deps, actor, Action::Read).await?;
    // At least two letters or digits: a search is for someone, not a list of everyone.
    if text.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
        return Ok(vec![]);
    }
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let found = tx.db().registry_search(text, FOUND_MAX).await?;
    tx.commit().await?;
    Ok(found)
}

pub(crate) async fn street_name(db: &TenantDb<'_>, code: &str) -> Result<String> {
    Ok(db
        .registry_streets()
        .await?
        .into_iter()
        .find(|(c, _)| c == code)
        .map(|(_, n)| n)
        .unwrap_or_else(|| code.to_owned()))
}

/// Reads a person's record; the look is logged with its purpose.
pub async fn read(deps: &Deps, actor: &Actor, person: i64, purpose: &str) -> Result<Record> {
    crate::require(deps, actor, Action::Read).await?;
    let purpose = purpose.trim();
    let mut p = Problems::default();
    if purpose.is_empty() {
        p.add("purpose", Why::Required, "");
    } else if purpose.chars().count() > 200 {
        p.add("purpose", Why::TooLong, "200");
    }
    p.result()?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    let history = db.registry_history(person).await?;
    let current = history
        .iter()
        .rev()
        .find(|v| v.superseded_at.is_none() && v.valid_to.is_none())
        .cloned()
        .ok_or(Error::NotFound)?;
    let family = db.registry_family(current.facts.family, None).await?;
    let street = street_name(&db, &current.facts.street).await?;
    db.registry_log_access(
        person,
        &Access {
            at: sportello_store::now_micros(),
            who: actor.audit_name(),
            who_name: actor.name.clone(),
            capacity: "clerk".into(),
            purpose: purpose.to_owned(),
            reference: String::new(),
            what: "record".into(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Record {
        current,
        history,
        family,
        street,
    })
}

/// The fields of the clerk's form, as [`Facts::parse`] names them.
fn problems(errs: &[(&'static str, sportello_domain::ParseError)]) -> Problems {
    let mut p = Problems::default();
    for (field, e) in errs {
        p.parse(field, e);
    }
    p
}

/// Parses facts and checks them against the commune: the street is on its list, the fiscal
/// code agrees with them.
async fn checked(db: &TenantDb<'_>, code: &FiscalCode, raw: &RawFacts) -> Result<Facts> {
    let facts = Facts::parse(raw).map_err(|e| Error::Invalid(problems(&e)))?;
    let mut p = Problems::default();
    if !db
        .registry_streets()
        .await?
        .iter()
        .any(|(c, _)| *c == facts.street)
    {
        p.add("street", Why::NotOneOf, facts.street.clone());
    }
    if !facts.matches(code) {
        p.add("fiscal_code", Why::FiscalCodeInvalid, code.as_str());
    }
    p.result()?;
    Ok(facts)
}

/// A legal day: a day that has come (a change is recorded when it happened, not before).
fn legal_day(s: &str) -> Result<NaiveDate> {
    let d = sportello_domain::payment::parse_day(s).map_err(|e| {
        let mut p = Problems::default();
        p.parse("valid_from", &e);
        Error::Invalid(p)
    })?;
    if d > crate::today() || d < NaiveDate::from_ymd_opt(1880, 1, 1).unwrap_or(d) {
        let mut p = Problems::default();
        p.add("valid_from", Why::DateInvalid, d.to_string());
        return Err(Error::Invalid(p));
    }
    Ok(d)
}

/// What a registration, change or correction says.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub facts: RawFacts,
    /// The legal day it holds from (registration, change).
    pub valid_from: String,
    pub note: String,
}

/// Registers a person (first time in this commune's registry); an empty family starts a new
/// one. Gives the person's id.
pub async fn register(deps: &Deps, actor: &Actor, fiscal_code: &str, e: &Entry) -> Result<i64> {
    crate::require(deps, actor, Action::Create).await?;
    let code = FiscalCode::parse(fiscal_code).map_err(|err| {
        let mut p = Problems::default();
        p.parse("fiscal_code", &err);
        Error::Invalid(p)
    })?;
    let from = legal_day(&e.valid_from)?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    if db.registry_id(code.as_str()).await?.is_some() {
        let mut p = Problems::default();
        p.add("fiscal_code", Why::FiscalCodeTaken, code.as_str());
        return Err(Error::Invalid(p));
    }
    let mut raw = e.facts.clone();
    if raw.family.trim().is_empty() {
        raw.family = db.registry_take("family", 1).await?.to_string();
    }
    let facts = checked(&db, &code, &raw).await?;
    let id = db.registry_take("person", 1).await?;
    let now = sportello_store::now_micros();
    db.registry_add_people(&[(id, code.as_str().to_owned())], now)
        .await?;
    let by = actor.audit_name();
    db.registry_add_versions(&[NewVersion {
        person_id: id,
        version: 1,
        valid_from: from.to_string(),
        valid_to: None,
        recorded_at: now,
        recorded_by: &by,
        cause: "registration",
        note: e.note.trim(),
        facts: &facts,
    }])
    .await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "person_registered",
        "records",
        json!({"person": id}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Records a change from its legal day on: the version in force closes that day.
pub async fn change(deps: &Deps, actor: &Actor, person: i64, e: &Entry) -> Result<()> {
    crate::require(deps, actor, Action::Update).await?;
    let from = legal_day(&e.valid_from)?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    if !db.registry_lock(person).await? {
        return Err(Error::NotFound);
    }
    let current = db.registry_at(person, None).await?.ok_or(Error::NotFound)?;
    let code =
        FiscalCode::parse(&current.fiscal_code).map_err(|err| Error::Internal(err.to_string()))?;
    let facts = checked(&db, &code, &e.facts).await?;
    if from.to_string() <= current.valid_from {
        let mut p = Problems::default();
        p.add("valid_from", Why::DateInvalid, current.valid_from.clone());
        return Err(Error::Invalid(p));
    }
    if facts == current.facts {
        return Err(Error::Refused("refused_registry_unchanged"));
    }
    if !db
        .registry_close(person, current.version, &from.to_string())
        .await?
    {
        return Err(Error::Refused("refused_registry_stale"));
    }
    let now = sportello_store::now_micros();
    let by = actor.audit_name();
    let version = db.registry_last_version(person).await? + 1;
    db.registry_add_versions(&[NewVersion {
        person_id: person,
        version,
        valid_from: from.to_string(),
        valid_to: None,
        recorded_at: now,
        recorded_by: &by,
        cause: "change",
        note: e.note.trim(),
        facts: &facts,
    }])
    .await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "person_changed",
        "records",
        json!({"person": person, "version": version, "from": from.to_string()}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Corrects a version's facts over the same days (the version replaced is kept, marked).
pub async fn correct(
    deps: &Deps,
    actor: &Actor,
    person: i64,
    version: i32,
    e: &Entry,
) -> Result<()> {
    crate::require(deps, actor, Action::Update).await?;
    let mut p = Problems::default();
    if e.note.trim().is_empty() {
        p.add("note", Why::Required, "");
    }
    p.result()?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    if !db.registry_lock(person).await? {
        return Err(Error::NotFound);
    }
    let old = db
        .registry_history(person)
        .await?
        .into_iter()
        .find(|v| v.version == version && v.superseded_at.is_none())
        .ok_or(Error::NotFound)?;
    let code =
        FiscalCode::parse(&old.fiscal_code).map_err(|err| Error::Internal(err.to_string()))?;
    let facts = checked(&db, &code, &e.facts).await?;
    if facts == old.facts {
        return Err(Error::Refused("refused_registry_unchanged"));
    }
    let now = sportello_store::now_micros();
    if !db.registry_supersede(person, version, now).await? {
        return Err(Error::Refused("refused_registry_stale"));
    }
    let by = actor.audit_name();
    let new = db.registry_last_version(person).await? + 1;
    db.registry_add_versions(&[NewVersion {
        person_id: person,
        version: new,
        valid_from: old.valid_from.clone(),
        valid_to: old.valid_to.clone(),
        recorded_at: now,
        recorded_by: &by,
        cause: "correction",
        note: e.note.trim(),
        facts: &facts,
    }])
    .await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "person_corrected",
        "records",
        json!({"person": person, "replaced": version, "version": new}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
