//! The citizen's side of their cases: the list, one case, answering the office, withdrawing,
//! and the status by protocol number and code (no sign-in, nothing personal).

use chrono::NaiveDate;
use serde::Serialize;
use sportello_domain::{CaseStatus, Deadline, Language, ProtocolFormat, TenantId};
use sportello_kernel::session::Current;
use sportello_kernel::{Deps, Error, Result, Why};
use sportello_store::cases::{Case, Change, Event};
use sportello_store::charter::Service;
use sportello_store::staff::Realm;

use crate::view::{self, CaseView, protocol_of};
use crate::{code_hash, tell};

/// The longest message a citizen or a clerk writes on a case.
pub const TEXT_MAX: usize = 4000;
/// How many cases "my cases" lists.
pub const MINE_MAX: u64 = 200;

#[derive(Debug, Clone, Serialize)]
pub struct CaseLine {
    pub id: String,
    pub protocol: String,
    pub service_title: String,
    pub status: String,
    pub submitted_at: i64,
    pub deadline: Option<Deadline>,
}

impl CaseLine {
    /// A case as a list shows it (`services`: the commune's, for the title).
    pub(crate) fn of(c: &Case, services: &[Service], lang: Language, today: NaiveDate) -> Self {
        Self {
            id: c.id.clone(),
            protocol: view::protocol_text(c),
            service_title: view::service_title(services, &c.service_id, lang),
            status: c.status.clone(),
            submitted_at: c.submitted_at,
            deadline: view::deadline(c, today),
        }
    }
}

fn person_id(who: &Current) -> Result<&str> {
    who.person
        .as_ref()
        .map(|p| p.id.as_str())
        .ok_or(Error::Refused("session_ended"))
}

/// The person's cases in this commune, newest first.
pub async fn mine(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    lang: Language,
) -> Result<Vec<CaseLine>> {
    let pid = person_id(who)?;
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let cases = db.cases_of(pid, MINE_MAX).await?;
    let services = db.services().await?;
    tx.commit().await?;
    let today = crate::today();
    Ok(cases
        .iter()
        .map(|c| CaseLine::of(c, &services, lang, today))
        .collect())
}

/// A person's cases in one commune, for the list across communes.
#[derive(Debug, Clone, Serialize)]
pub struct CommuneCases {
    pub commune: String,
    pub host: String,
    pub cases: Vec<CaseLine>,
}

/// How many communes, and cases in each, the list across communes shows.
pub const EVERYWHERE_COMMUNES: u64 = 50;
pub const EVERYWHERE_CASES: u64 = 20;

/// The person's cases in every commune they filed with (the sign-in host's list), each
/// commune's newest first.
pub async fn everywhere(deps: &Deps, person_id: &str, lang: Language) -> Result<Vec<CommuneCases>> {
    let communes = deps
        .store
        .identity()
        .person_communes(person_id, EVERYWHERE_COMMUNES)
        .await?;
    let today = crate::today();
    let mut out = vec![];
    for id in communes {
        let Some(c) = deps.tenancy.by_id(TenantId(id)) else {
            continue;
        };
        let tx = deps.store.tenant_read(TenantId(id)).await?;
        let db = tx.db();
        let cases = db.cases_of(person_id, EVERYWHERE_CASES).await?;
        let services = db.services().await?;
        tx.commit().await?;
        if cases.is_empty() {
            continue;
        }
        out.push(CommuneCases {
            commune: c.record.name.clone(),
            host: c.record.primary_host.clone(),
            cases: cases
                .iter()
                .map(|x| CaseLine::of(x, &services, lang, today))
                .collect(),
        });
    }
    Ok(out)
}

async fn own_case(db: &sportello_store::TenantDb<'_>, who: &Current, id: &str) -> Result<Case> {
    let pid = person_id(who)?;
    // Another person's case, or none: the same answer.
    db.case(id)
        .await?
        .filter(|c| c.person_id == pid)
        .ok_or(Error::NotFound)
}

/// One of the person's cases, with its public history and the receipt's code.
pub async fn one(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    id: &str,
    lang: Language,
) -> Result<CaseView> {
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let c = own_case(&db, who, id).await?;
    let v = view::build(deps, &db, &c, lang, true, true).await?;
    tx.commit().await?;
    Ok(v)
}

pub(crate) fn message_text(field: &str, text: &str) -> Result<String> {
    let t = text.trim().replace("\r\n", "\n");
    let mut p = sportello_kernel::Problems::default();
    if t.is_empty() {
        p.add(field, Why::Required, "");
    } else if t.chars().count() > TEXT_MAX {
        p.add(field, Why::TooLong, TEXT_MAX.to_string());
    }
    p.result()?;
    Ok(t)
}

/// The citizen writes on their case. If the office was waiting for them, the answer ends the
/// pause: the deadline moves on by the days waited, the case goes back to the office. The
/// assigned clerk is told.
pub async fn reply(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    id: &str,
    text: &str,
    base: &str,
) -> Result<()> {
    let text = message_text("text", text)?;
    let p = who.person.clone().ok_or(Error::Refused("session_ended"))?;
    // Who to tell, read first (nothing held open meanwhile).
    let assigned = {
        let tx = deps.store.tenant_read(commune).await?;
        let c = own_case(&tx.db(), who, id).await?;
        tx.commit().await?;
        c.assigned_to
    };
    let clerk = match assigned {
        Some(s) => {
            let tx = deps.store.staff(Realm::Commune(commune)).await?;
            let a = tx.db().staff_by_id(&s).await?;
            tx.commit().await?;
            a
        }
        None => None,
    };
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let c = own_case(&db, who, id).await?;
    let status = CaseStatus::parse(&c.status).ok_or(Error::NotFound)?;
    if status.is_closed() {
        return Err(Error::Refused("refused_case_closed"));
    }
    let mut change = Change {
        expect_last: Some(c.last_event),
        ..Change::default()
    };
    let mut kind = "citizen_message";
    if status == CaseStatus::Waiting {
        let today = crate::rome_day(now);
        let since = c
            .paused_since
            .as_deref()
            .and_then(view::day)
            .unwrap_or(today);
        let paused = c.paused_days
            + i32::try_from(sportello_domain::case::pause_days(since, today)).unwrap_or(0);
        let due = view::day(&c.submitted_on)
            .map(|d| d + chrono::Duration::days(i64::from(c.max_days) + i64::from(paused)))
            .unwrap_or(today);
        change.status = Some("in_charge".into());
        change.paused_days = Some(paused);
        change.paused_since = Some(None);
        change.due_on = Some(due.to_string());
        kind = "answered";
    }
    db.append_event(
        id,
        &Event {
            seq: 0,
            kind: kind.into(),
            actor: format!("citizen:{}", p.id),
            actor_name: format!("{} {}", p.given_name, p.family_name),
            public: true,
            body: serde_json::json!({ "text": text }).to_string(),
            at: now,
        },
        &change,
    )
    .await
    .map_err(conflict)?;
    if let (Some(clerk), Some(_)) = (clerk, protocol_of(&c)) {
        let protocol = view::protocol_text(&c);
        tell::clerk(deps, &db, &clerk.email, &protocol, &c.id, kind, base).await?;
    }
    tx.commit().await?;
    sportello_notify::wake(deps);
    Ok(())
}

/// A waiting case's pause ended `today`: the days paused in all, and the due date they give.
pub(crate) fn resumed(c: &Case, today: chrono::NaiveDate) -> (i32, String) {
    let since = c
        .paused_since
        .as_deref()
        .and_then(view::day)
        .unwrap_or(today);
    let paused = c.paused_days
        + i32::try_from(sportello_domain::case::pause_days(since, today)).unwrap_or(0);
    let due = view::day(&c.submitted_on)
        .map(|d| d + chrono::Duration::days(i64::from(c.max_days) + i64::from(paused)))
        .unwrap_or(today);
    (paused, due.to_string())
}

/// Withdraws a case nobody took in charge yet, with the citizen's reason.
pub async fn withdraw(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    id: &str,
    reason: &str,
) -> Result<()> {
    let reason = message_text("reason", reason)?;
    let p = who.person.clone().ok_or(Error::Refused("session_ended"))?;
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let c = own_case(&db, who, id).await?;
    if c.status != CaseStatus::Submitted.code() {
        return Err(Error::Refused("refused_withdraw_taken"));
    }
    db.append_event(
        id,
        &Event {
            seq: 0,
            kind: "withdrawn".into(),
            actor: format!("citizen:{}", p.id),
            actor_name: format!("{} {}", p.given_name, p.family_name),
            public: true,
            body: serde_json::json!({ "reason": reason }).to_string(),
            at: now,
        },
        &Change {
            status: Some("withdrawn".into()),
            closed_at: Some(now),
            expect_last: Some(c.last_event),
            ..Change::default()
        },
    )
    .await
    .map_err(conflict)?;
    tx.commit().await?;
    Ok(())
}

/// What the status page shows: nothing personal.
#[derive(Debug, Clone, Serialize)]
pub struct PublicStatus {
    pub protocol: String,
    pub service_title: String,
    pub status: String,
    pub submitted_at: i64,
    pub updated_at: i64,
}

/// The state of a case by its protocol number and the receipt's code. A wrong code, an unknown
/// number and a malformed one give the same answer: none.
pub async fn status_by_code(
    deps: &Deps,
    commune: TenantId,
    protocol: &str,
    code: &str,
    lang: Language,
) -> Result<Option<PublicStatus>> {
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    // As written on the receipt (whatever format the commune had then), else read in today's
    // format or as year/number.
    let found = match db
        .case_by_protocol_key(&ProtocolFormat::key(protocol))
        .await?
    {
        Some(c) => Some(c),
        None => {
            let format = ProtocolFormat::parse(&db.case_settings().await?.protocol_format)
                .unwrap_or_default();
            match format.read(protocol) {
                Ok(p) => db.case_by_number(p.year, p.number).await?,
                Err(_) => None,
            }
        }
    };
    let typed = code_hash(code);
    let Some(c) = found.filter(|c| constant_eq(c.code_hash.as_bytes(), typed.as_bytes())) else {
        tx.commit().await?;
        return Ok(None);
    };
    let service = db.service(&c.service_id).await?;
    tx.commit().await?;
    Ok(Some(PublicStatus {
        protocol: view::protocol_text(&c),
        service_title: service.map_or(c.service_id.clone(), |s| view::title(&s, lang).to_owned()),
        status: c.status,
        submitted_at: c.submitted_at,
        updated_at: c.updated_at,
    }))
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn conflict(e: sportello_store::StoreError) -> Error {
    match e {
        sportello_store::StoreError::Conflict => Error::Refused("refused_case_changed"),
        other => other.into(),
    }
}

/// The citizen rates a closed case, once (Modello Comuni C.SE.1.7).
pub async fn rate(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    id: &str,
    stars: &str,
    answer: &str,
    details: &str,
) -> Result<()> {
    let r = sportello_domain::rating::Rating::parse(stars, answer, details)
        .map_err(|(field, e)| Error::parse(field)(e))?;
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let c = own_case(&db, who, id).await?;
    if !CaseStatus::parse(&c.status).is_some_and(CaseStatus::is_closed) {
        return Err(Error::Refused("refused_rate_open"));
    }
    let fresh = db
        .rate_case(&sportello_store::cases::ratings::CaseRating {
            case_id: c.id.clone(),
            service_id: c.service_id.clone(),
            office_id: c.office_id.clone(),
            stars: i32::from(r.stars),
            answer: r.answer,
            details: r.details,
            rated_at: sportello_store::now_micros(),
        })
        .await?;
    if !fresh {
        return Err(Error::Refused("refused_rated_already"));
    }
    tx.commit().await?;
    Ok(())
}
