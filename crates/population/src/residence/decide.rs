//! The end of a registered declaration: the police check confirms it, or the office rejects it
//! and the registry goes back to what it was (each version the registration wrote is corrected
//! to the facts before; someone it registered is no longer on the registry), or 45 days pass
//! and the law accepts it.

use chrono::NaiveDate;
use serde_json::json;
use sportello_authz::Action;
use sportello_domain::TenantId;
use sportello_domain::registry::residence;
use sportello_kernel::{Actor, Deps, Error, Result};

use super::declaration_case;

/// The longest reason for a rejection, in characters.
pub const REASON_MAX: usize = 2000;

/// What the citizen is told, in the language of the case.
pub(super) fn told(what: &str, lang: &str, from: NaiveDate, at: &str) -> String {
    let check = residence::check_by(from).format("%d/%m/%Y");
    let from = from.format("%d/%m/%Y");
    match (lang, what) {
        ("en", "registered") => format!(
            "Your declaration is registered: from {from} your residence is {at}. By {check} the \
             municipal police checks you live there; without a notice to the contrary by then, \
             the change stands."
        ),
        (_, "registered") => format!(
            "La dichiarazione è registrata: dal {from} la residenza è in {at}. Entro il {check} \
             la Polizia municipale verifica la dimora abituale; senza comunicazioni contrarie \
             entro quella data il cambio si intende confermato."
        ),
        ("en", _) => format!(
            "No notice to the contrary came by {check}: the change of residence from {from} \
             stands (silenzio-assenso, art. 18 DL 5/2012)."
        ),
        _ => format!(
            "Nessuna comunicazione contraria entro il {check}: il cambio di residenza dal {from} \
             è confermato (silenzio-assenso, art. 18 DL 5/2012)."
        ),
    }
}

/// The check found them living there: the declaration stands and its case is accepted.
pub async fn confirm(deps: &Deps, actor: &Actor, case_id: &str, base: &str) -> Result<()> {
    let case = declaration_case(deps, actor, case_id).await?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    let m = db.residence_move(case_id).await?.ok_or(Error::NotFound)?;
    if m.state != "registered" {
        return Err(Error::Refused("refused_residence_decided"));
    }
    tx.commit().await?;
    let act = sportello_cases::office::Act::Decide {
        accept: true,
        reason: String::new(),
    };
    match sportello_cases::office::act_in_procedure(deps, actor, case_id, &act, base).await {
        Ok(()) => {}
        // Accepted before (a retry after the registry's half failed): the move follows.
        Err(Error::Refused("refused_case_closed")) if case.status == "accepted" => {}
        Err(e) => return Err(e),
    }
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    db.decide_residence_move(
        case_id,
        "confirmed",
        sportello_store::now_micros(),
        &actor.audit_name(),
    )
    .await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "residence_confirmed",
        "records",
        json!({"case": case_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The check found they do not live there (or the declaration was false): the registry goes
/// back to what it was, the case is rejected with `reason`. A declaration not yet registered
/// is rejected on its case alone.
pub async fn reject(
    deps: &Deps,
    actor: &Actor,
    case_id: &str,
    reason: &str,
    base: &str,
) -> Result<()> {
    let case = declaration_case(deps, actor, case_id).await?;
    if reason.trim().is_empty() {
        return Err(Error::invalid("reason", sportello_domain::Why::Required));
    }
    if reason.trim().chars().count() > REASON_MAX {
        return Err(Error::invalid_at(
            "reason",
            sportello_domain::Why::TooLong,
            REASON_MAX.to_string(),
        ));
    }
    // Only a case the office still holds: nothing is undone for a case that cannot then be
    // rejected (closed, or waiting for the citizen's answer).
    if !matches!(case.status.as_str(), "submitted" | "in_charge") {
        return Err(Error::Refused("refused_case_closed"));
    }
    let here = actor.commune()?;
    let m = {
        let tx = deps.store.tenant_read(here).await?;
        let m = tx.db().residence_move(case_id).await?;
        tx.commit().await?;
        m
    };
    // Rejected in the registry before, its case not decided then (a retry): the case only.
    if let Some(m) = m.filter(|m| m.state != "rejected") {
        // After the check's last day the law has accepted it.
        if m.state != "registered" || m.check_by < crate::today().to_string() {
            return Err(Error::Refused("refused_residence_decided"));
        }
        let now = sportello_store::now_micros();
        let by = actor.audit_name();
        let note = format!("Cambio di residenza annullato: {}", reason.trim());
        let tx = deps.store.tenant(here).await?;
        let db = tx.db();
        super::elsewhere::restore(&db, &m.people, &by, &note, now).await?;
        if !db
            .decide_residence_move(case_id, "rejected", now, &by)
            .await?
        {
            return Err(Error::Refused("refused_residence_decided"));
        }
        sportello_kernel::audit::record(
            &db,
            actor,
            "residence_rejected",
            "records",
            json!({"case": case_id}),
        )
        .await?;
        tx.commit().await?;
    }
    // The member commune they came from, after this commune's rejection stands (which never
    // waits on it): they are its residents again. The mark is cleared once done, so a retry
    // does it only if it was not; what it cannot put back (a record changed there since) is
    // left to its office, and logged.
    let m = {
        let tx = deps.store.tenant_read(here).await?;
        let m = tx.db().residence_move(case_id).await?;
        tx.commit().await?;
        m
    };
    if let Some((there, people)) = m.and_then(|m| m.elsewhere) {
        let by = actor.audit_name();
        let note = format!("Cambio di residenza annullato: {}", reason.trim());
        let now = sportello_store::now_micros();
        let there_tx = deps
            .store
            .tenant_across(here, TenantId(there), "a declaration of residence rejected")
            .await?;
        match super::elsewhere::restore(&there_tx.db(), &people, &by, &note, now).await {
            Ok(()) => {
                there_tx.commit().await?;
                let mark = deps.store.tenant(here).await?;
                mark.db().set_residence_elsewhere(case_id, None).await?;
                mark.commit().await?;
            }
            Err(e) => {
                drop(there_tx);
                tracing::warn!(error = %e, commune = there, case = case_id,
                    "the previous commune's registry could not be put back");
            }
        }
    }
    crate::require(deps, actor, Action::Update).await?;
    let act = sportello_cases::office::Act::Decide {
        accept: false,
        reason: reason.trim().to_owned(),
    };
    match sportello_cases::office::act_in_procedure(deps, actor, case_id, &act, base).await {
        // Taken in charge first when it was never registered.
        Err(Error::Refused("refused_take_first")) => {
            sportello_cases::office::act_in_procedure(
                deps,
                actor,
                case_id,
                &sportello_cases::office::Act::Take,
                base,
            )
            .await?;
            sportello_cases::office::act_in_procedure(deps, actor, case_id, &act, base).await
        }
        other => other,
    }
}

/// Silenzio-assenso: every declaration registered whose police check ended before `today`
/// without a decision stands, and its case is accepted by law. Gives how many.
pub async fn tacit(deps: &Deps, commune: TenantId, today: NaiveDate, base: &str) -> Result<usize> {
    let tx = deps.store.tenant_read(commune).await?;
    let due: Vec<_> = tx
        .db()
        .residence_moves("registered", 500)
        .await?
        .into_iter()
        .filter(|m| m.check_by < today.to_string())
        .collect();
    tx.commit().await?;
    let mut n = 0;
    for m in due {
        let tx = deps.store.tenant_read(commune).await?;
        let case = tx.db().case(&m.case_id).await?;
        tx.commit().await?;
        let Some(case) = case else { continue };
        let from = NaiveDate::parse_from_str(&m.legal_day, "%Y-%m-%d")
            .map_err(|e| Error::Internal(e.to_string()))?;
        let reason = told("tacit", &case.lang, from, "");
        match sportello_cases::office::decide_by_law(deps, commune, &m.case_id, true, &reason, base)
            .await
        {
            Ok(()) => {}
            // Closed meanwhile: the law's acceptance stands only if the case was accepted.
            Err(Error::Refused("refused_case_closed")) if case.status == "accepted" => {}
            Err(e) => {
                tracing::warn!(error = %e, case = %m.case_id, "tacit acceptance: the case stays open");
                continue;
            }
        }
        let tx = deps.store.tenant(commune).await?;
        if tx
            .db()
            .decide_residence_move(
                &m.case_id,
                "confirmed",
                sportello_store::now_micros(),
                "law",
            )
            .await?
        {
            n += 1;
        }
        tx.commit().await?;
    }
    Ok(n)
}
