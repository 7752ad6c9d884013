//! What a registration changes beyond the people who move: the families they leave (a new head
//! when theirs moved), here and in the member commune they come from — whose registry records
//! them emigrated from the same day, as the national registry would tell it — and, on a
//! rejection, all of it put back.

use chrono::NaiveDate;
use serde_json::json;
use sportello_domain::TenantId;
use sportello_domain::registry::residence::{Declaration, Origin};
use sportello_domain::registry::{Relation, Status};
use sportello_kernel::{Actor, Deps, Error, Result};
use sportello_store::TenantDb;
use sportello_store::population::{Moved, NewVersion, Version};

use super::norm;
use super::write::move_version;

/// A new head for each family in `families` whose head is among `people` (the eldest who stays;
/// their children stay children when the eldest was the head's spouse, the others relatives).
pub(super) async fn new_heads(
    db: &TenantDb<'_>,
    mut families: Vec<i64>,
    people: &mut Vec<Moved>,
    from: NaiveDate,
    by: &str,
    note: &str,
) -> Result<()> {
    families.sort_unstable();
    families.dedup();
    for f in families {
        let stay: Vec<Version> = db
            .registry_family(f, None)
            .await?
            .into_iter()
            .filter(|v| !people.iter().any(|(p, _, _)| *p == v.person_id))
            .collect();
        if stay.is_empty() || stay.iter().any(|v| v.facts.relation == Relation::Head) {
            continue;
        }
        let Some(eldest) = stay.iter().min_by_key(|v| v.facts.birth_date) else {
            continue;
        };
        let partner = matches!(
            eldest.facts.relation,
            Relation::Spouse | Relation::CivilPartner
        );
        for v in &stay {
            let relation = if v.person_id == eldest.person_id {
                Relation::Head
            } else if partner && v.facts.relation == Relation::Child {
                Relation::Child
            } else {
                Relation::Relative
            };
            if relation == v.facts.relation {
                continue;
            }
            let mut facts = v.facts.clone();
            facts.relation = relation;
            let n = move_version(db, v, &facts, from, by, note).await?;
            people.push((v.person_id, Some(v.version), n));
        }
    }
    Ok(())
}

/// Puts back what a registration wrote: each version it wrote is replaced (kept, marked) by the
/// version before, over the same days; someone it registered is no longer on the registry.
/// Refused if a record changed since.
pub(super) async fn restore(
    db: &TenantDb<'_>,
    people: &[Moved],
    by: &str,
    note: &str,
    now: i64,
) -> Result<()> {
    for (person, before, made) in people {
        if !db.registry_lock(*person).await? {
            return Err(Error::NotFound);
        }
        let history = db.registry_history(*person).await?;
        let cur = history
            .iter()
            .find(|v| v.version == *made && v.superseded_at.is_none() && v.valid_to.is_none())
            .ok_or(Error::Refused("refused_residence_changed_since"))?;
        if !db.registry_supersede(*person, *made, now).await? {
            return Err(Error::Refused("refused_registry_stale"));
        }
        let Some(before) = before else { continue };
        let old = history
            .iter()
            .find(|v| v.version == *before)
            .ok_or(Error::NotFound)?;
        let version = db.registry_last_version(*person).await? + 1;
        db.registry_add_versions(&[NewVersion {
            person_id: *person,
            version,
            valid_from: cur.valid_from.clone(),
            valid_to: None,
            recorded_at: now,
            recorded_by: by,
            cause: "correction",
            note,
            facts: &old.facts,
        }])
        .await?;
    }
    Ok(())
}

/// The member commune the declaration says they come from, if exactly one active member
/// commune has that name (in either language); several (Italy has communes of the same name in
/// different provinces) or none: `None`, and that registry is told nothing.
pub(super) fn previous(deps: &Deps, here: TenantId, d: &Declaration) -> Option<TenantId> {
    let Origin::Commune(name) = &d.origin else {
        return None;
    };
    let name = norm(name);
    let snapshot = deps.tenancy.snapshot();
    let found: Vec<TenantId> = snapshot
        .communes
        .iter()
        .filter(|c| c.id() != here && c.record.status == sportello_domain::CommuneStatus::Active)
        .filter(|c| {
            norm(&c.record.name) == name
                || c.record
                    .name_other
                    .as_deref()
                    .is_some_and(|o| norm(o) == name)
        })
        .map(|c| c.id())
        .collect();
    match found[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// In the member commune they come from: the movers resident there who are the declarant or
/// members of the declarant's family there, each named as that registry names them, recorded
/// emigrated from `from` (their families there with a new head when theirs left). Anyone else
/// listed is left to that commune's office: a declaration never moves a stranger's record.
/// One transaction of that commune's; gives what it wrote, to put back on a rejection.
#[allow(clippy::too_many_arguments)]
pub(super) async fn leave_previous(
    deps: &Deps,
    actor: &Actor,
    here: TenantId,
    there: TenantId,
    here_name: &str,
    declarant: &str,
    d: &Declaration,
    from: NaiveDate,
    note: &str,
) -> Result<Vec<Moved>> {
    let by = actor.audit_name();
    let note = format!("Emigrato a {here_name}: {note}");
    let tx = deps
        .store
        .tenant_across(
            here,
            there,
            "a declaration of residence: its movers emigrated",
        )
        .await?;
    let db = tx.db();
    // The declarant's family there (the declarant must be resident there themselves).
    let Some(family) = (match crate::signed_in_person(&db, declarant).await.ok().flatten() {
        Some(id) => db
            .registry_at(id, None)
            .await?
            .filter(|v| v.facts.status == Status::Resident)
            .map(|v| v.facts.family),
        None => None,
    }) else {
        tx.commit().await?;
        return Ok(vec![]);
    };
    let mut people: Vec<Moved> = vec![];
    let mut families = vec![];
    for m in &d.movers {
        let Some(id) = db.registry_id(m.code.as_str()).await? else {
            continue;
        };
        if !db.registry_lock(id).await? {
            continue;
        }
        let Some(cur) = db.registry_at(id, None).await?.filter(|v| {
            v.facts.status == Status::Resident
                && v.facts.family == family
                && norm(&v.facts.last_name) == norm(&m.last_name)
                && norm(&v.facts.first_name) == norm(&m.first_name)
        }) else {
            tracing::info!(
                commune = there.0,
                person = id,
                "a mover resident there but not of the declarant's family, or named otherwise: left to its office"
            );
            continue;
        };
        let mut facts = cur.facts.clone();
        facts.status = Status::Emigrated;
        let v = move_version(&db, &cur, &facts, from, &by, &note).await?;
        families.push(cur.facts.family);
        people.push((id, Some(cur.version), v));
    }
    new_heads(&db, families, &mut people, from, &by, &note).await?;
    if !people.is_empty() {
        sportello_kernel::audit::record(
            &db,
            actor,
            "residence_emigrated",
            "records",
            json!({"to": here_name, "to_commune": here.0, "people": people.len(),
                   "from": from.to_string(), "declaration": note}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(people)
}
