//! How a case is shown: its answers with the labels of the form version it was filed with, its
//! legal deadline, its history (the citizen sees the public entries only).

use chrono::NaiveDate;
use serde::Serialize;
use sportello_domain::form::{Answers, ShownPage, summary};
use sportello_domain::{CaseStatus, Deadline, Language, ProtocolNumber};
use sportello_kernel::{Deps, Result};
use sportello_store::TenantDb;
use sportello_store::cases::{Case, Event};
use sportello_store::charter::Service;

use crate::forms;

#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub id: String,
    pub protocol: String,
    pub service_id: String,
    pub service_title: String,
    pub office_id: String,
    pub office_name: String,
    pub status: String,
    pub closed: bool,
    pub submitted_at: i64,
    pub deadline: Option<Deadline>,
    pub answers: Vec<ShownPage>,
    pub events: Vec<EventView>,
    pub applicant_name: String,
    pub fiscal_code: Option<String>,
    pub level: i32,
    pub idp: String,
    /// Filed signed in with SPID or CIE at level 2 or more: the signed request the law
    /// recognises (CAD art. 65 c. 1 b).
    pub signed: bool,
    pub taken_at: Option<i64>,
    pub assigned_to: Option<String>,
    pub can_withdraw: bool,
    /// The stars the citizen gave, once closed and rated.
    pub rated: Option<i32>,
    /// The files attached, each with its SHA-256.
    pub files: Vec<crate::files::FileLine>,
    /// The receipt's code (the owner's pages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Filed for the person by staff: who, as what, from which commune's desk, why.
    pub filed: Option<FiledView>,
    /// The service's fee: its notice and whether it is paid.
    pub fee: Option<FeeView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeeView {
    pub notice: String,
    pub cents: i64,
    /// `open`, `paid`, `cancelled`.
    pub status: String,
    /// What it is for, as the notice says (the stamp duty, or the exemption declared).
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FiledView {
    pub by_name: String,
    /// `front_desk`, `call_centre`, `intermediary`.
    pub as_: String,
    /// The commune of the desk.
    pub from: String,
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub seq: i32,
    pub kind: String,
    pub actor_name: String,
    /// From the citizen's side (their own entries).
    pub by_citizen: bool,
    pub public: bool,
    pub at: i64,
    pub text: String,
    pub office: Option<String>,
}

pub fn title(s: &Service, lang: Language) -> &str {
    match lang {
        Language::En => s.title_en.as_deref().unwrap_or(&s.title),
        _ => &s.title,
    }
}

/// A service's title by its id among the commune's services (the id if it is gone).
pub(crate) fn service_title(services: &[Service], id: &str, lang: Language) -> String {
    services
        .iter()
        .find(|s| s.id == id)
        .map_or_else(|| id.to_owned(), |s| title(s, lang).to_owned())
}

/// The protocol number as the commune wrote it when it was given.
pub(crate) fn protocol_text(c: &Case) -> String {
    c.protocol_text
        .clone()
        .or_else(|| protocol_of(c).map(|p| p.to_string()))
        .unwrap_or_default()
}

pub(crate) fn protocol_of(c: &Case) -> Option<ProtocolNumber> {
    Some(ProtocolNumber {
        year: c.year?,
        number: c.number?,
    })
}

pub(crate) fn day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The legal deadline of an open case with a duration (none for a closed one, or a service
/// that answers at once).
pub fn deadline(c: &Case, today: NaiveDate) -> Option<Deadline> {
    let status = CaseStatus::parse(&c.status)?;
    if status.is_closed() || c.max_days <= 0 {
        return None;
    }
    Some(Deadline::compute(
        day(&c.submitted_on)?,
        u32::try_from(c.max_days).ok()?,
        i64::from(c.paused_days),
        c.paused_since.as_deref().and_then(day),
        today,
    ))
}

fn event(e: &Event, offices: &[(String, String)]) -> EventView {
    let body: serde_json::Value = serde_json::from_str(&e.body).unwrap_or_default();
    let text = ["text", "reason"]
        .iter()
        .find_map(|k| body[*k].as_str())
        .unwrap_or("")
        .to_owned();
    let office = body["office"].as_str().map(|o| {
        offices
            .iter()
            .find(|(id, _)| id == o)
            .map_or_else(|| o.to_owned(), |(_, n)| n.clone())
    });
    EventView {
        seq: e.seq,
        kind: e.kind.clone(),
        actor_name: e.actor_name.clone(),
        by_citizen: e.actor.starts_with("citizen:"),
        public: e.public,
        at: e.at,
        text,
        office,
    }
}

/// The case as its reader sees it: `public_only` for the citizen (no internal notes);
/// `code` given to the owner only.
pub async fn build(
    deps: &Deps,
    db: &TenantDb<'_>,
    c: &Case,
    lang: Language,
    public_only: bool,
    owner: bool,
) -> Result<CaseView> {
    let service = db.service(&c.service_id).await?;
    let def = forms::version(db, &c.service_id, c.form_version).await?;
    let answers: Answers = serde_json::from_str(&c.answers).unwrap_or_default();
    let offices: Vec<(String, String)> = db
        .offices()
        .await?
        .into_iter()
        .map(|o| {
            let name = match lang {
                Language::En => o.name_en.clone().unwrap_or(o.name.clone()),
                _ => o.name.clone(),
            };
            (o.id, name)
        })
        .collect();
    let events = db.events(&c.id, public_only).await?;
    let fee = fee_of(db, &events).await?;
    let office_name = offices
        .iter()
        .find(|(id, _)| *id == c.office_id)
        .map_or_else(|| c.office_id.clone(), |(_, n)| n.clone());
    let status = CaseStatus::parse(&c.status);
    Ok(CaseView {
        id: c.id.clone(),
        protocol: protocol_text(c),
        service_id: c.service_id.clone(),
        service_title: service
            .as_ref()
            .map_or_else(|| c.service_id.clone(), |s| title(s, lang).to_owned()),
        office_id: c.office_id.clone(),
        office_name,
        status: c.status.clone(),
        closed: status.is_some_and(CaseStatus::is_closed),
        submitted_at: c.submitted_at,
        deadline: deadline(c, crate::today()),
        answers: summary(&def, &answers, lang),
        events: events.iter().map(|e| event(e, &offices)).collect(),
        applicant_name: c.applicant_name.clone(),
        fiscal_code: c.fiscal_code.clone(),
        level: c.level,
        idp: c.idp.clone(),
        signed: c.level >= 2 && c.idp != "password" && c.filed.is_none(),
        taken_at: c.taken_at,
        assigned_to: c.assigned_to.clone(),
        can_withdraw: status == Some(CaseStatus::Submitted),
        rated: db.case_rating(&c.id).await?.map(|r| r.stars),
        files: db
            .case_files(&c.id)
            .await?
            .iter()
            .map(crate::files::FileLine::from)
            .collect(),
        code: owner.then(|| crate::case_code(deps, db.tenant(), &c.id)),
        filed: c.filed.as_ref().map(|f| FiledView {
            by_name: f.by_name.clone(),
            as_: f.as_.clone(),
            from: deps
                .tenancy
                .by_id(sportello_domain::TenantId(f.from))
                .map_or_else(|| f.from.to_string(), |x| x.record.name.clone()),
            purpose: f.purpose.clone(),
        }),
        fee,
    })
}

/// The case's fee, from the entry that asked it and its notice as it is now.
async fn fee_of(db: &sportello_store::TenantDb<'_>, events: &[Event]) -> Result<Option<FeeView>> {
    let Some(e) = events
        .iter()
        .find(|e| e.kind == "fee_due" || e.kind == "fee_paid")
    else {
        return Ok(None);
    };
    let body: serde_json::Value = serde_json::from_str(&e.body).unwrap_or_default();
    let Some(number) = body["notice"].as_str() else {
        return Ok(None);
    };
    let status = db
        .notice(number)
        .await?
        .map_or_else(|| "cancelled".to_owned(), |n| n.status.key().to_owned());
    Ok(Some(FeeView {
        notice: number.to_owned(),
        cents: body["cents"].as_i64().unwrap_or(0),
        status,
        reason: body["reason"].as_str().unwrap_or("").to_owned(),
    }))
}
