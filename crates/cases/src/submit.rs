//! Submitting a case: one transaction writes the case with its checked answers, its first
//! history entry, the message that tells the citizen, removes the draft and takes the protocol
//! number last (the counter row stays locked until commit, so numbers follow commit order and
//! a rolled-back submission gives its number back). The draft's id is the submission's key: a
//! second submission of the same draft (double click, retry after a timeout) finds the case the
//! first one made.

use serde::Serialize;
use sportello_domain::form::validate_all;
use sportello_domain::{Language, ProtocolFormat, ProtocolNumber, TenantId};
use sportello_kernel::{Deps, Error, Result};
use sportello_store::StoreError;
use sportello_store::cases::{Case, Change, Event, Registration};

use crate::draft::{internal, problems_of};
use crate::filer::Filer;
use crate::{case_code, code_hash, forms, tell};

#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    pub case_id: String,
    pub protocol: ProtocolNumber,
    /// This submission had been made before: the case is the one it made.
    pub repeated: bool,
}

/// Files the person's draft for `service_id` as a case. `draft_id` is the key of this
/// submission (the summary page carries it).
pub async fn submit(
    deps: &Deps,
    commune: TenantId,
    who: &Filer,
    service_id: &str,
    draft_id: &str,
    lang: Language,
    base: &str,
) -> Result<Submitted> {
    submit_with(deps, commune, who, service_id, draft_id, lang, base, None).await
}

/// The same, with the exemption from the stamp duty the person declares (for a service whose
/// fee includes it).
#[allow(clippy::too_many_arguments)]
pub async fn submit_with(
    deps: &Deps,
    commune: TenantId,
    who: &Filer,
    service_id: &str,
    draft_id: &str,
    lang: Language,
    base: &str,
    exemption: Option<&str>,
) -> Result<Submitted> {
    // A few of the commune's submissions at a time from this node: they queue here, not on the
    // protocol counter's row.
    let _turn = deps.submissions.enter(commune).await;
    // A submission begun in one year and numbered in the next is made again, in the new year.
    let o = Once {
        service_id,
        draft_id,
        lang,
        base,
        exemption,
    };
    match once(deps, commune, who, &o).await {
        Err(Error::Internal(e)) if e == NEW_YEAR => once(deps, commune, who, &o).await,
        other => other,
    }
}

const NEW_YEAR: &str = "the year changed while the submission waited for its number";

/// What one submission asks.
struct Once<'a> {
    service_id: &'a str,
    draft_id: &'a str,
    lang: Language,
    base: &'a str,
    exemption: Option<&'a str>,
}

async fn once(deps: &Deps, commune: TenantId, who: &Filer, o: &Once<'_>) -> Result<Submitted> {
    let Once {
        service_id,
        draft_id,
        lang,
        base,
        exemption,
    } = *o;
    let now = sportello_store::now_micros();
    // Read before the transaction: nothing waits on it while the counter is locked.
    let to = tell::reach(deps, &who.person.id).await?;
    let id = uuid::Uuid::new_v4().to_string();
    // The sign-in host lists a person's cases in every commune: noted before the case is
    // written (a commune noted for a case that never came lists nothing).
    deps.store
        .identity()
        .note_person_commune(&who.person.id, commune.0, now)
        .await?;
    if let Some(d) = who.desk.as_ref().filter(|d| d.from != commune) {
        // The desk's commune notes where the case will be, before it is written.
        crate::desk::note_at_desk(deps, d, commune, &id).await?;
    }
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let form = forms::of_service(&db, service_id)
        .await?
        .ok_or(Error::NotFound)?;
    who.may_fill(&form)?;
    let p = &who.person;
    // The draft goes with the case it becomes: without it, this submission was made before
    // (its key finds the case) or never could be.
    let Some(draft) = db
        .draft_of(&p.id, service_id, &who.key())
        .await?
        .filter(|d| d.id == draft_id)
    else {
        return match db.case_by_key(draft_id).await? {
            Some(done) => repeated(&done, &p.id),
            None => Err(Error::NotFound),
        };
    };
    let raw = serde_json::from_str(&draft.raw).unwrap_or_default();
    let today = crate::rome_day(now);
    let answers =
        validate_all(&form.def, &raw, today).map_err(|e| Error::Invalid(problems_of(&e)))?;
    let default_office = form.service.office_id.clone().unwrap_or_default();
    let office = form.def.route(&answers, &default_office).to_owned();
    if office.is_empty() || db.office(&office).await?.is_none() {
        return Err(Error::Refused("refused_no_office"));
    }
    // The service's fee: paid first (`before`), or asked now and paid later (`after`).
    // Nothing to pay (a stamp duty on a free service, declared exempt): no fee at all.
    let fee = match sportello_payments::fees::quote(&db, &form.service).await? {
        Some(q) if q.mode == "before" => Some(q),
        Some(q) if !q.total(exemption)?.0.is_zero() => Some(q),
        _ => None,
    };
    if fee.as_ref().is_some_and(|q| q.mode == "before") {
        // Paid first, online, by the person (a desk cannot pay for them).
        if who.desk.is_some() {
            return Err(Error::Refused("refused_fee_before_desk"));
        }
        let paid = sportello_payments::fees::notice_of(&db, draft_id)
            .await?
            .is_some_and(|n| {
                sportello_payments::fees::paid_by(&n, who.person.fiscal_code.as_deref())
            });
        if !paid {
            return Err(Error::Refused("refused_pay_first"));
        }
    }
    let max_days = form.service.max_days.unwrap_or(0).max(0);
    let name = format!("{} {}", p.given_name, p.family_name);
    let case = Case {
        id: id.clone(),
        year: None,
        number: None,
        person_id: p.id.clone(),
        fiscal_code: p.fiscal_code.clone(),
        applicant_name: name.clone(),
        service_id: service_id.to_owned(),
        form_version: form.version,
        office_id: office.clone(),
        status: "submitted".into(),
        answers: serde_json::to_string(&answers).map_err(internal)?,
        level: i32::from(who.level.number()),
        idp: who.idp.clone(),
        lang: lang.key().to_owned(),
        code_hash: code_hash(&case_code(deps, commune, &id)),
        max_days,
        submitted_at: now,
        submitted_on: today.to_string(),
        due_on: (today + chrono::Duration::days(i64::from(max_days))).to_string(),
        paused_days: 0,
        paused_since: None,
        taken_at: None,
        taken_by: None,
        assigned_to: None,
        closed_at: None,
        last_event: 0,
        updated_at: now,
        filed: who.filed(),
        protocol_text: None,
    };
    let search = sportello_store::fold_for_search(&name);
    if let Err(e) = db.insert_case(&case, draft_id, &search).await {
        // Another submission of this draft got there first (PostgreSQL waits for it, then
        // refuses the key): the case is that one.
        drop(tx);
        return after_race(deps, commune, draft_id, &p.id, e).await;
    }
    let signed = who.signed();
    let (actor, actor_name) = who.actor();
    let mut body = serde_json::json!({"office": office, "level": who.level.number(), "idp": who.idp, "signed": signed});
    if let Some(d) = &who.desk {
        body["on_behalf_of"] = serde_json::json!(p.fiscal_code);
        body["purpose"] = serde_json::json!(d.purpose);
        body["filed_as"] = serde_json::json!(d.as_.key());
        body["from"] = serde_json::json!(d.from.0);
    }
    db.append_event(
        &id,
        &Event {
            seq: 0,
            kind: "submitted".into(),
            actor,
            actor_name,
            public: true,
            body: body.to_string(),
            at: now,
        },
        &Change::default(),
    )
    .await?;
    if let Some(d) = &who.desk {
        crate::desk::audit_filing(&db, d, &id, p, commune).await?;
    }
    if let Some(q) = &fee {
        let (actor, actor_name) = who.actor();
        let notice = sportello_payments::fees::issue(
            &db,
            &form.service,
            q,
            p.fiscal_code.as_deref(),
            &name,
            draft_id,
            exemption,
            &actor,
        )
        .await?;
        // What the notice says (paid first, with the exemption declared then).
        let n = sportello_payments::fees::notice_of(&db, draft_id)
            .await?
            .ok_or_else(|| Error::Internal("the fee notice just issued is not there".into()))?;
        let paid = n.status == sportello_store::payments::NoticeStatus::Paid;
        db.append_event(
            &id,
            &Event {
                seq: 0,
                kind: if paid { "fee_paid" } else { "fee_due" }.into(),
                actor: actor.clone(),
                actor_name,
                public: true,
                body: serde_json::json!({"notice": notice, "cents": n.amount_cents, "reason": n.reason})
                    .to_string(),
                at: now,
            },
            &Change::default(),
        )
        .await?;
    }
    db.files_to_case(&draft.id, &id).await?;
    db.delete_draft(&draft.id, &p.id).await?;
    let year = today
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .map_err(internal)?;
    let sender = sportello_notify::sender(&db).await?;
    let format =
        ProtocolFormat::parse(&db.case_settings().await?.protocol_format).unwrap_or_default();
    // Last: from here the counter of (commune, year) is locked until commit: the registration
    // (one statement on PostgreSQL), the citizen's message with the number, the commit. The
    // registration's time is read under the lock, so times follow numbers; a year that turned
    // meanwhile gives the number back and starts again.
    let registered = db
        .register_case(&Registration {
            case_id: &id,
            year,
            format: &format,
            clock: || {
                let at = sportello_store::now_micros();
                (at, crate::rome_day(at))
            },
        })
        .await?;
    if !registered.on.starts_with(&registered.year.to_string()) {
        return Err(Error::Internal(NEW_YEAR.into()));
    }
    let protocol = ProtocolNumber {
        year: registered.year,
        number: registered.number,
    };
    let about = tell::About {
        case: &case,
        service_title: crate::view::title(&form.service, lang),
        protocol: registered.text,
        base,
        given_name: &p.given_name,
    };
    tell::citizen(deps, &db, to, &about, "submitted", "", Some(&sender)).await?;
    tx.commit().await?;
    sportello_notify::wake(deps);
    tracing::info!(case = %id, %protocol, service = service_id, office = %office, "case submitted");
    if let Some(d) = who.desk.as_ref().filter(|d| d.from != commune) {
        // The desk's own commune records it too (after the case is safe: a failure here is
        // logged, the case stands).
        if let Err(e) = crate::desk::audit_at_desk(deps, d, commune, &id, protocol, p).await {
            tracing::error!(error = %e, case = %id, "the desk's commune could not record a filing for a partner commune");
        }
    }
    Ok(Submitted {
        case_id: id,
        protocol,
        repeated: false,
    })
}

fn repeated(c: &Case, person_id: &str) -> Result<Submitted> {
    if c.person_id != person_id {
        return Err(Error::NotFound);
    }
    let (Some(year), Some(number)) = (c.year, c.number) else {
        return Err(Error::Internal(
            "a committed case without its number".into(),
        ));
    };
    Ok(Submitted {
        case_id: c.id.clone(),
        protocol: ProtocolNumber { year, number },
        repeated: true,
    })
}

async fn after_race(
    deps: &Deps,
    commune: TenantId,
    key: &str,
    person_id: &str,
    e: StoreError,
) -> Result<Submitted> {
    let tx = deps.store.tenant_read(commune).await?;
    let found = tx.db().case_by_key(key).await?;
    tx.commit().await?;
    match found {
        Some(c) => repeated(&c, person_id),
        None => Err(e.into()),
    }
}
