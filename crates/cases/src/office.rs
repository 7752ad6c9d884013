//! The back office: an office's queues, one case with its whole history, and what a clerk
//! does with it. Who may act is the commune's rules (`cases:read`, `cases:update`) limited to
//! the offices of the actor's roles (`kernel::scope`); re-routing needs an office head.

use serde::Serialize;
use sportello_authz::{Action, Object, Role};
use sportello_domain::{CaseStatus, Deadline, FiscalCode, Language, ProtocolFormat, TenantId};
use sportello_kernel::scope::{check_scope, office_scope_without};
use sportello_kernel::{Actor, Deps, Error, Result, Why};
use sportello_store::cases::{Change, Event, Queue, QueueFilter};
use sportello_store::staff::Realm;

use crate::follow::{conflict, message_text};
use crate::tell::{self, About};
use crate::view::{self, CaseView, protocol_of};

pub const PAGE_SIZE: u64 = 25;

/// What a queue page asks for.
#[derive(Debug, Clone, Default)]
pub struct QueueQuery {
    pub queue: Queue,
    pub office: Option<String>,
    pub service: Option<String>,
    /// A protocol number, a fiscal code or part of a name.
    pub search: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueLine {
    pub id: String,
    pub protocol: String,
    pub service_id: String,
    pub office_id: String,
    pub applicant_name: String,
    pub status: String,
    pub submitted_at: i64,
    pub assigned_to: Option<String>,
    pub deadline: Option<Deadline>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueuePage {
    pub lines: Vec<QueueLine>,
    /// Every queue's count, in the order of [`QUEUES`].
    pub counts: Vec<(&'static str, i64)>,
    pub page: u64,
    pub more: bool,
}

/// The queues, by the code the console uses.
pub const QUEUES: &[(&str, Queue)] = &[
    ("nuove", Queue::New),
    ("mie", Queue::Mine),
    ("in-attesa", Queue::Waiting),
    ("in-scadenza", Queue::Deadline),
    ("chiuse", Queue::Closed),
    ("tutte", Queue::All),
];

/// Days before the due date a case counts as near its deadline.
pub const NEAR_DAYS: i64 = 7;

fn filter(
    actor: &Actor,
    scope: Option<Vec<String>>,
    q: &QueueQuery,
    format: &ProtocolFormat,
) -> QueueFilter {
    let mut f = QueueFilter {
        queue: q.queue,
        offices: scope,
        office: q.office.clone(),
        service: q.service.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        me: actor.staff_id.clone(),
        due_by: (crate::today() + chrono::Duration::days(NEAR_DAYS)).to_string(),
        offset: q.page * PAGE_SIZE,
        limit: PAGE_SIZE + 1,
        ..QueueFilter::default()
    };
    if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if let Ok(p) = format.read(s) {
            f.number = Some((p.year, p.number));
        } else if let Ok(cf) = FiscalCode::parse(s) {
            f.fiscal_code = Some(cf.to_string());
        } else {
            // Words folding leaves nothing of (another script, signs only) find nobody: names
            // are kept folded the same way.
            let folded = sportello_store::fold_for_search(s);
            f.nothing = folded.trim().is_empty();
            f.name = Some(folded);
        }
    }
    f
}

/// The offices whose cases the actor reads. The roles that act for citizens (front desk, call
/// centre, intermediaries) read only what they file or look up for someone, never an office's
/// queue: those roles open nothing here.
async fn read_scope(deps: &Deps, actor: &Actor) -> Result<Option<Vec<String>>> {
    office_scope_without(deps, actor, Object::Cases, Action::Read, &crate::ACTING_FOR).await
}

/// One page of a queue, with the count of every queue under the same search.
pub async fn queue(deps: &Deps, actor: &Actor, q: &QueueQuery) -> Result<QueuePage> {
    let scope = read_scope(deps, actor).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let db = tx.db();
    let format =
        ProtocolFormat::parse(&db.case_settings().await?.protocol_format).unwrap_or_default();
    let mut f = filter(actor, scope, q, &format);
    // A number written in an earlier format of the commune: found by how it was written.
    if f.number.is_none()
        && let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty())
        && let Some(c) = db.case_by_protocol_key(&ProtocolFormat::key(s)).await?
        && let (Some(y), Some(n)) = (c.year, c.number)
    {
        f.number = Some((y, n));
        f.fiscal_code = None;
        f.name = None;
    }
    db.order_search_words(&mut f).await?;
    let mut rows = db.queue(&f).await?;
    // The queues that are states come from one count by state; "mine" and "near the deadline"
    // are counted on their own indexes.
    let by_status = db.counts_by_status(&f).await?;
    let of = |states: &[&str]| -> i64 {
        by_status
            .iter()
            .filter(|(s, _)| states.contains(&s.as_str()))
            .map(|(_, n)| n)
            .sum()
    };
    let mut counts = vec![];
    for (code, queue) in QUEUES {
        let n = match queue {
            Queue::New => of(&["submitted"]),
            Queue::Waiting => of(&["waiting"]),
            Queue::Closed => of(&["accepted", "rejected", "withdrawn"]),
            Queue::All => by_status.iter().map(|(_, n)| n).sum(),
            Queue::Mine | Queue::Deadline => {
                db.queue_count(&QueueFilter {
                    queue: *queue,
                    ..f.clone()
                })
                .await?
            }
        };
        counts.push((*code, n));
    }
    tx.commit().await?;
    let more = rows.len() as u64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let today = crate::today();
    Ok(QueuePage {
        lines: rows
            .iter()
            .map(|c| QueueLine {
                id: c.id.clone(),
                protocol: crate::view::protocol_text(c),
                service_id: c.service_id.clone(),
                office_id: c.office_id.clone(),
                applicant_name: c.applicant_name.clone(),
                status: c.status.clone(),
                submitted_at: c.submitted_at,
                assigned_to: c.assigned_to.clone(),
                deadline: view::deadline(c, today),
            })
            .collect(),
        counts,
        page: q.page,
        more,
    })
}

/// A case as the office sees it (internal notes too), if it is in the actor's offices.
pub async fn case(deps: &Deps, actor: &Actor, id: &str, lang: Language) -> Result<CaseView> {
    let scope = read_scope(deps, actor).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let db = tx.db();
    let c = db.case(id).await?.ok_or(Error::NotFound)?;
    // Another office's case: as if it did not exist.
    check_scope(&scope, Some(&c.office_id)).map_err(|_| Error::NotFound)?;
    let v = view::build(deps, &db, &c, lang, false, false).await?;
    tx.commit().await?;
    Ok(v)
}

/// What a clerk does with a case.
#[derive(Debug, Clone)]
pub enum Act {
    /// Take it in charge (and be assigned it).
    Take,
    /// Give it to a colleague who works on the case's office.
    Assign { staff_id: String },
    /// Ask the citizen for documents or information: the deadline pauses until they answer.
    Ask { text: String },
    /// A message to the citizen.
    Message { text: String },
    /// A note only the office sees.
    Note { text: String },
    /// The outcome: accepted, or rejected with a reason.
    Decide { accept: bool, reason: String },
    /// Send it to another office (office heads), with a reason.
    Reroute { office: String, reason: String },
}

/// Does `act` on a case of the actor's offices. `base` is the commune's site as the clerk
/// reached it (the citizen's link in the message).
pub async fn act(deps: &Deps, actor: &Actor, id: &str, act: &Act, base: &str) -> Result<()> {
    let scope = working_scope(deps, actor).await?;
    run(deps, actor, Some(scope), id, act, base, false).await
}

/// The offices whose cases the actor works (`None`: every office).
async fn working_scope(deps: &Deps, actor: &Actor) -> Result<Option<Vec<String>>> {
    office_scope_without(
        deps,
        actor,
        Object::Cases,
        Action::Update,
        &crate::ACTING_FOR,
    )
    .await
}

/// The services whose outcome is a procedure's, not a clerk's click: the registry's declaration
/// of residence is decided where the registry changes with it (`population::residence`).
pub const PROCEDURES: &[&str] = &[sportello_domain::registry::residence::SERVICE];

/// [`act`] for the capability that owns a procedure's cases: it may decide them.
pub async fn act_in_procedure(
    deps: &Deps,
    actor: &Actor,
    id: &str,
    act: &Act,
    base: &str,
) -> Result<()> {
    let scope = working_scope(deps, actor).await?;
    run(deps, actor, Some(scope), id, act, base, true).await
}

/// The outcome the law gives a case when the office did not decide in time (silenzio-assenso:
/// a declaration of residence not refused within 45 days stands). Recorded as decided by
/// `law` (the audit log's `staff:law`), with `reason` shown to the citizen.
pub async fn decide_by_law(
    deps: &Deps,
    commune: TenantId,
    id: &str,
    accept: bool,
    reason: &str,
    base: &str,
) -> Result<()> {
    let law = Actor {
        realm: Realm::Commune(commune),
        staff_id: "law".into(),
        name: "Silenzio-assenso".into(),
        email: String::new(),
        federation: false,
    };
    let act = Act::Decide {
        accept,
        reason: reason.to_owned(),
    };
    run(deps, &law, None, id, &act, base, true).await
}

/// Does `act`; `scope`: the offices the actor works on (`None`: the law, no office check);
/// `procedure`: the procedure owning the case acts (it alone decides [`PROCEDURES`]' cases).
async fn run(
    deps: &Deps,
    actor: &Actor,
    scope: Option<Option<Vec<String>>>,
    id: &str,
    act: &Act,
    base: &str,
    procedure: bool,
) -> Result<()> {
    let commune = actor.commune()?;
    // Read what the checks need first (nothing held open meanwhile).
    let (before, roles) = {
        let tx = deps.store.tenant_read(commune).await?;
        let c = tx.db().case(id).await?.ok_or(Error::NotFound)?;
        let roles = tx.db().role_assignments().await?;
        tx.commit().await?;
        (c, roles)
    };
    if let Some(scope) = &scope {
        check_scope(scope, Some(&before.office_id)).map_err(|_| Error::NotFound)?;
    }
    let status = CaseStatus::parse(&before.status).ok_or(Error::NotFound)?;
    if status.is_closed() {
        return Err(Error::Refused("refused_case_closed"));
    }
    // A procedure's case is decided, paused and moved only by its procedure (the registry
    // follows its every state): the office page may take it, write, and note.
    if !procedure
        && matches!(
            act,
            Act::Decide { .. } | Act::Ask { .. } | Act::Reroute { .. }
        )
        && PROCEDURES.contains(&before.service_id.as_str())
    {
        return Err(Error::Refused("refused_case_procedure"));
    }
    if let Act::Assign { staff_id } = act {
        let colleague = Actor {
            realm: Realm::Commune(commune),
            staff_id: staff_id.clone(),
            name: String::new(),
            email: String::new(),
            federation: false,
        };
        let theirs = office_scope_without(
            deps,
            &colleague,
            Object::Cases,
            Action::Update,
            &crate::ACTING_FOR,
        )
        .await?;
        if check_scope(&theirs, Some(&before.office_id)).is_err()
            || !roles.iter().any(|r| r.staff_id == *staff_id)
        {
            return Err(Error::invalid("staff_id", Why::NotOneOf));
        }
    }
    if let Act::Reroute { .. } = act {
        let head = roles.iter().any(|r| {
            r.staff_id == actor.staff_id
                && (r.role == Role::OfficeHead.key() || r.role == Role::Admin.key())
                && r.office_id.as_deref().is_none_or(|o| o == before.office_id)
        });
        if !head && !actor.federation {
            return Err(Error::Refused("refused_office_head_only"));
        }
    }
    let to = tell::reach(deps, &before.person_id).await?;
    let given = deps
        .store
        .identity()
        .person(&before.person_id)
        .await?
        .map(|p| p.given_name)
        .unwrap_or_default();
    let now = sportello_store::now_micros();
    let today = crate::rome_day(now);
    let mut change = Change {
        expect_last: Some(before.last_event),
        ..Change::default()
    };
    let (kind, public, body, tell_event) = match act {
        Act::Take => {
            if status != CaseStatus::Submitted {
                return Err(Error::Refused("refused_already_taken"));
            }
            change.status = Some("in_charge".into());
            change.taken = Some((now, actor.staff_id.clone()));
            change.assigned_to = Some(Some(actor.staff_id.clone()));
            ("taken", true, serde_json::json!({}), Some("taken"))
        }
        Act::Assign { staff_id } => {
            change.assigned_to = Some(Some(staff_id.clone()));
            (
                "assigned",
                false,
                serde_json::json!({ "to": staff_id }),
                None,
            )
        }
        Act::Ask { text } => {
            if status != CaseStatus::InCharge {
                return Err(Error::Refused("refused_take_first"));
            }
            change.status = Some("waiting".into());
            change.paused_since = Some(Some(today.to_string()));
            let t = message_text("text", text)?;
            (
                "asked",
                true,
                serde_json::json!({ "text": t }),
                Some("asked"),
            )
        }
        Act::Message { text } => {
            let t = message_text("text", text)?;
            (
                "message",
                true,
                serde_json::json!({ "text": t }),
                Some("message"),
            )
        }
        Act::Note { text } => {
            let t = message_text("text", text)?;
            ("note", false, serde_json::json!({ "text": t }), None)
        }
        Act::Decide { accept, reason } => {
            if status != CaseStatus::InCharge {
                return Err(Error::Refused("refused_take_first"));
            }
            let reason = if *accept && reason.trim().is_empty() {
                String::new()
            } else {
                message_text("reason", reason)?
            };
            let outcome = if *accept { "accepted" } else { "rejected" };
            change.status = Some(outcome.into());
            change.closed_at = Some(now);
            (
                outcome,
                true,
                serde_json::json!({ "reason": reason }),
                Some(outcome),
            )
        }
        Act::Reroute { office, reason } => {
            let reason = message_text("reason", reason)?;
            if *office == before.office_id {
                return Err(Error::invalid("office", Why::NotOneOf));
            }
            change.office_id = Some(office.clone());
            change.assigned_to = Some(None);
            // The new office starts from its queue of new cases (a pause for the citizen ends:
            // the new office asks again if it needs to).
            change.status = Some("submitted".into());
            if status == CaseStatus::Waiting {
                let (paused, due) = crate::follow::resumed(&before, today);
                change.paused_days = Some(paused);
                change.paused_since = Some(None);
                change.due_on = Some(due);
            }
            (
                "rerouted",
                false,
                serde_json::json!({ "office": office, "from": before.office_id, "reason": reason }),
                None,
            )
        }
    };
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    if let Act::Reroute { office, .. } = act
        && db.office(office).await?.is_none()
    {
        return Err(Error::invalid("office", Why::UnknownOffice));
    }
    db.append_event(
        id,
        &Event {
            seq: 0,
            kind: kind.into(),
            actor: actor.audit_name(),
            actor_name: actor.name.clone(),
            public,
            body: body.to_string(),
            at: now,
        },
        &change,
    )
    .await
    .map_err(conflict)?;
    sportello_kernel::audit::record(
        &db,
        actor,
        &format!("case_{kind}"),
        &format!("case:{id}"),
        body.clone(),
    )
    .await?;
    if let (Some(event), Some(_)) = (tell_event, protocol_of(&before)) {
        let protocol = view::protocol_text(&before);
        let service = db.service(&before.service_id).await?;
        let lang = Language::parse(&before.lang).unwrap_or(Language::It);
        let note = body["text"]
            .as_str()
            .or(body["reason"].as_str())
            .unwrap_or("");
        let about = About {
            case: &before,
            service_title: service
                .as_ref()
                .map_or(before.service_id.as_str(), |s| view::title(s, lang)),
            protocol,
            base,
            given_name: &given,
        };
        tell::citizen(deps, &db, to, &about, event, note, None).await?;
    }
    tx.commit().await?;
    sportello_notify::wake(deps);
    Ok(())
}

/// The staff of the commune who may work on a case of `office` (for the assignment list).
pub async fn colleagues(deps: &Deps, actor: &Actor, office: &str) -> Result<Vec<(String, String)>> {
    let commune = actor.commune()?;
    let ids = sportello_kernel::scope::staff_for_office(
        deps,
        commune,
        Object::Cases,
        Action::Update,
        office,
        &crate::ACTING_FOR,
    )
    .await?;
    let tx = deps.store.staff(Realm::Commune(commune)).await?;
    let accounts = tx.db().list().await?;
    tx.commit().await?;
    Ok(accounts
        .into_iter()
        .filter(|a| ids.contains(&a.id))
        .map(|a| (a.id, a.display_name))
        .collect())
}

/// The ratings' averages of the commune, by service and by office (tenths of a star).
pub async fn ratings(
    deps: &Deps,
    actor: &Actor,
) -> Result<(
    Vec<sportello_store::cases::ratings::Average>,
    Vec<sportello_store::cases::ratings::Average>,
)> {
    // Limited like the queues: an office's staff see their offices' and services' averages.
    let scope = read_scope(deps, actor).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let db = tx.db();
    let mut by_service = db.rating_averages(false).await?;
    let mut by_office = db.rating_averages(true).await?;
    let services = db.services().await?;
    tx.commit().await?;
    if let Some(list) = scope {
        by_office.retain(|a| list.contains(&a.id));
        by_service.retain(|a| {
            services
                .iter()
                .any(|s| s.id == a.id && s.office_id.as_ref().is_some_and(|o| list.contains(o)))
        });
    }
    Ok((by_service, by_office))
}
