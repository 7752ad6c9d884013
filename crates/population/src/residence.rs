//! The change of residence, on the cases: a citizen files the commune's form for
//! [`SERVICE`] (a case with its protocol number, routed to the registry office); the office
//! registers it within two working days with effect from the day it was made (the people move
//! in the registry, the family they form or join and the ones they leave update); the police
//! check ends in a confirmation or a rejection (the registry goes back to what it was), and
//! without either in 45 days the law accepts it (silenzio-assenso, [`tacit`]). The citizen
//! follows it all on the case: a message at registration, the outcome at the end.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;
use sportello_authz::{Action, Object};
use sportello_domain::Why;
use sportello_domain::registry::Status;
use sportello_domain::registry::residence::{self, Declaration, Origin, SERVICE};
use sportello_kernel::scope::{check_scope, office_scope_without};
use sportello_kernel::{Actor, Deps, Error, Problems, Result};
use sportello_store::TenantDb;
use sportello_store::cases::Case;
use sportello_store::population::{Move, Version};

/// One person of a declaration, with what the registry holds of them now.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub code: String,
    pub name: String,
    pub relation: &'static str,
    /// Their record in force here (none: new to this commune's registry).
    pub now: Option<Version>,
}

/// A declaration as the registry office sees it.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub case_id: String,
    pub protocol: String,
    pub status: String,
    pub filed_on: String,
    pub register_by: String,
    pub check_by: String,
    /// `same_commune`, `commune` or `abroad`, and the place declared.
    pub origin: (&'static str, String),
    pub street: String,
    pub number: String,
    pub interior: String,
    /// The street-list entry matching the street declared.
    pub street_code: Option<String>,
    pub streets: Vec<(String, String)>,
    /// The head of the family they join.
    pub joins: Option<Version>,
    pub people: Vec<Person>,
    /// What is wrong with the declaration: it cannot be registered.
    #[serde(skip)]
    pub problems: Vec<sportello_kernel::Problem>,
    /// Registered: its state and the people moved.
    pub registered: Option<Move>,
}

fn day(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| Error::Internal(e.to_string()))
}

/// The declaration's case, if the actor's offices may work on it and it is one.
async fn declaration_case(deps: &Deps, actor: &Actor, case_id: &str) -> Result<Case> {
    crate::require(deps, actor, Action::Update).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let case = tx.db().case(case_id).await?.ok_or(Error::NotFound)?;
    tx.commit().await?;
    // Only who works the case's office: its acts (taking it, the outcome) are theirs, so the
    // registry is never changed by someone the case would then refuse.
    let scope = office_scope_without(
        deps,
        actor,
        Object::Cases,
        Action::Update,
        &sportello_cases::ACTING_FOR,
    )
    .await?;
    check_scope(&scope, Some(&case.office_id)).map_err(|_| Error::NotFound)?;
    if case.service_id != SERVICE {
        return Err(Error::NotFound);
    }
    Ok(case)
}

fn parsed(case: &Case) -> std::result::Result<Declaration, Problems> {
    let answers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&case.answers).unwrap_or_default();
    Declaration::parse(&answers).map_err(|errs| {
        let mut p = Problems::default();
        for (field, e) in &errs {
            p.parse(field, e);
        }
        p
    })
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The office's view of a declaration.
pub async fn view(deps: &Deps, actor: &Actor, case_id: &str) -> Result<View> {
    let case = declaration_case(deps, actor, case_id).await?;
    let filed = day(&case.submitted_on)?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let db = tx.db();
    let streets = db.registry_streets().await?;
    let registered = db.residence_move(case_id).await?;
    let mut v = View {
        case_id: case.id.clone(),
        protocol: case.protocol_text.clone().unwrap_or_default(),
        status: case.status.clone(),
        filed_on: filed.to_string(),
        register_by: residence::register_by(filed).to_string(),
        check_by: residence::check_by(filed).to_string(),
        origin: ("", String::new()),
        street: String::new(),
        number: String::new(),
        interior: String::new(),
        street_code: None,
        streets: vec![],
        joins: None,
        people: vec![],
        problems: vec![],
        registered,
    };
    match parsed(&case) {
        Err(p) => {
            v.problems = p.0;
        }
        Ok(d) => {
            v.origin = match &d.origin {
                Origin::SameCommune => ("same_commune", String::new()),
                Origin::Commune(c) => ("commune", c.clone()),
                Origin::Abroad(s) => ("abroad", s.clone()),
            };
            v.street_code = streets
                .iter()
                .find(|(_, n)| norm(n) == norm(&d.street))
                .map(|(c, _)| c.clone());
            if let Some(head) = &d.joins {
                v.joins = current_of(&db, head.as_str()).await?;
            }
            for m in &d.movers {
                v.people.push(Person {
                    code: m.code.as_str().to_owned(),
                    name: format!("{} {}", m.last_name, m.first_name),
                    relation: m.relation.key(),
                    now: current_of(&db, m.code.as_str()).await?,
                });
            }
            (v.street, v.number, v.interior) = (d.street, d.number, d.interior);
        }
    }
    v.streets = streets;
    tx.commit().await?;
    Ok(v)
}

/// The person with this code and their record in force, if resident here.
async fn current_of(db: &TenantDb<'_>, code: &str) -> Result<Option<Version>> {
    let Some(id) = crate::signed_in_person(db, code).await? else {
        return Ok(None);
    };
    Ok(db
        .registry_at(id, None)
        .await?
        .filter(|v| v.facts.status == Status::Resident))
}

/// The declarations waiting for the office: filed and not yet registered (their cases), and
/// registered ones waiting for the end of the police check.
pub async fn waiting(
    deps: &Deps,
    actor: &Actor,
) -> Result<(Vec<sportello_cases::office::QueueLine>, Vec<Move>)> {
    crate::require(deps, actor, Action::Update).await?;
    let mut lines = vec![];
    for queue in [
        sportello_store::cases::Queue::New,
        sportello_store::cases::Queue::Mine,
    ] {
        let q = sportello_cases::office::QueueQuery {
            queue,
            service: Some(SERVICE.into()),
            ..Default::default()
        };
        for l in sportello_cases::office::queue(deps, actor, &q).await?.lines {
            if !lines
                .iter()
                .any(|x: &sportello_cases::office::QueueLine| x.id == l.id)
            {
                lines.push(l);
            }
        }
    }
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let moves = tx.db().residence_moves("registered", 200).await?;
    tx.commit().await?;
    lines.retain(|l| !moves.iter().any(|m| m.case_id == l.id));
    Ok((lines, moves))
}

fn line_problem(field: &str, why: Why, arg: String) -> Error {
    let mut p = Problems::default();
    p.add(field, why, arg);
    Error::Invalid(p)
}

mod decide;
mod elsewhere;
mod write;
pub use decide::{confirm, reject, tacit};
use write::write_moves;

/// Registers a declaration: from the day it was made, its people live at the address (on the
/// street-list entry `street_code` the clerk chose), in the family they form or join; the
/// families they leave get a new head if theirs left. One transaction; the case is then taken
/// in charge and the citizen told.
pub async fn register(
    deps: &Deps,
    actor: &Actor,
    case_id: &str,
    street_code: &str,
    base: &str,
) -> Result<()> {
    let case = declaration_case(deps, actor, case_id).await?;
    match case.status.as_str() {
        "submitted" | "in_charge" => {}
        "waiting" => return Err(Error::Refused("refused_residence_waiting")),
        _ => return Err(Error::Refused("refused_case_closed")),
    }
    let d = parsed(&case).map_err(Error::Invalid)?;
    let from = day(&case.submitted_on)?;
    // Taken in charge first: a declaration its citizen could still withdraw is never registered.
    if case.status == "submitted" {
        sportello_cases::office::act_in_procedure(
            deps,
            actor,
            case_id,
            &sportello_cases::office::Act::Take,
            base,
        )
        .await?;
    }
    let commune = actor.commune()?;
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    // The row claims the declaration: a second registration at once waits here, then finds it.
    let first = db
        .add_residence_move(&Move {
            case_id: case_id.to_owned(),
            state: "registered".into(),
            legal_day: from.to_string(),
            check_by: residence::check_by(from).to_string(),
            people: vec![],
            elsewhere: None,
            registered_at: sportello_store::now_micros(),
            registered_by: actor.audit_name(),
            decided_at: None,
            decided_by: None,
        })
        .await?;
    let mut address = None;
    if first {
        let (people, at) = write_moves(deps, actor, &db, &case, &d, from, street_code).await?;
        db.set_residence_people(case_id, &people).await?;
        sportello_kernel::audit::record(
            &db,
            actor,
            "residence_registered",
            "records",
            json!({"case": case_id, "from": from.to_string()}),
        )
        .await?;
        address = Some(at);
    }
    tx.commit().await?;
    // The member commune they come from records them emigrated from the same day (after this
    // commune's registration stands: never the one without the other's cause).
    if address.is_some()
        && let Some(there) = elsewhere::previous(deps, commune, &d)
    {
        let here = deps
            .tenancy
            .by_id(commune)
            .map_or_else(String::new, |c| c.record.name.clone());
        let note = format!(
            "dichiarazione di residenza prot. {}",
            case.protocol_text.as_deref().unwrap_or(case_id)
        );
        let declarant = case.fiscal_code.clone().unwrap_or_default();
        let done = elsewhere::leave_previous(
            deps, actor, commune, there, &here, &declarant, &d, from, &note,
        )
        .await;
        match done {
            Ok(people) if !people.is_empty() => {
                let tx = deps.store.tenant(commune).await?;
                let kept = tx
                    .db()
                    .set_residence_elsewhere(case_id, Some(&(there.0, people.clone())))
                    .await?;
                tx.commit().await?;
                // Rejected meanwhile: that commune's record goes back at once.
                if !kept {
                    let note = format!("Cambio di residenza annullato: {note}");
                    let back = deps
                        .store
                        .tenant_across(commune, there, "a declaration of residence rejected")
                        .await?;
                    let now = sportello_store::now_micros();
                    elsewhere::restore(&back.db(), &people, &actor.audit_name(), &note, now)
                        .await?;
                    back.commit().await?;
                }
            }
            Ok(_) => {}
            // Its registry office records the emigration by hand.
            Err(e) => tracing::warn!(error = %e, commune = there.0, case = case_id,
                "the previous commune's registry could not record the emigration"),
        }
    }
    if let Some(at) = address {
        let text = decide::told("registered", &case.lang, from, &at);
        sportello_cases::office::act_in_procedure(
            deps,
            actor,
            case_id,
            &sportello_cases::office::Act::Message { text },
            base,
        )
        .await?;
    }
    Ok(())
}
