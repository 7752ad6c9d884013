//! The registry writes of a registration: each mover's new version from the declaration's day
//! (a change for someone on the registry, a registration for a newcomer from their fiscal code
//! and their line), and the families they leave.

use chrono::NaiveDate;
use sportello_authz::Action;
use sportello_domain::Why;
use sportello_domain::registry::residence::{self, Declaration, Mover};
use sportello_domain::registry::{Facts, RawFacts, Relation, Status};
use sportello_kernel::{Actor, Deps, Error, Result};
use sportello_store::TenantDb;
use sportello_store::cases::Case;
use sportello_store::population::{NewVersion, Version};

use super::{current_of, elsewhere, line_problem, norm};

/// The facts of someone new to the registry, from the declaration and their fiscal code.
fn newcomer(m: &Mover, line: usize, at: &Address<'_>, today: NaiveDate) -> Result<RawFacts> {
    let (Some(citizenship), Some(marital)) = (&m.citizenship, m.marital) else {
        return Err(line_problem("componenti", Why::MoverLine, line.to_string()));
    };
    let place = m.code.birthplace();
    let place_name = if place.starts_with('Z') {
        format!("ESTERO ({place})")
    } else {
        sportello_store::istat::by_cadastral_code(&place).map_or_else(
            || place.clone(),
            |r| format!("{} ({})", r.name_it.to_uppercase(), r.province_code),
        )
    };
    let born = residence::birth_date_of(&m.code, today)
        .ok_or_else(|| line_problem("componenti", Why::MoverLine, line.to_string()))?;
    Ok(RawFacts {
        status: Status::Resident.key().into(),
        last_name: m.last_name.clone(),
        first_name: m.first_name.clone(),
        sex: if m.code.sex() == sportello_domain::Sex::Female {
            "F"
        } else {
            "M"
        }
        .into(),
        birth_date: born.to_string(),
        birth_place: place,
        birth_place_name: place_name,
        citizenship: citizenship.clone(),
        marital: marital.key().into(),
        voter: "N".into(),
        family: at.family.to_string(),
        relation: m.relation.key().into(),
        street: at.street.to_owned(),
        number: at.number.to_owned(),
        interior: at.interior.to_owned(),
        ..RawFacts::default()
    })
}

/// Where the people go.
struct Address<'a> {
    family: i64,
    street: &'a str,
    number: &'a str,
    interior: &'a str,
}

/// Writes a person's new version from `from` (closing the one in force); gives its number.
pub(super) async fn move_version(
    db: &TenantDb<'_>,
    cur: &Version,
    facts: &Facts,
    from: NaiveDate,
    by: &str,
    note: &str,
) -> Result<i32> {
    if from.to_string() <= cur.valid_from {
        return Err(Error::Refused("refused_residence_changed_since"));
    }
    if !db
        .registry_close(cur.person_id, cur.version, &from.to_string())
        .await?
    {
        return Err(Error::Refused("refused_registry_stale"));
    }
    let version = db.registry_last_version(cur.person_id).await? + 1;
    db.registry_add_versions(&[NewVersion {
        person_id: cur.person_id,
        version,
        valid_from: from.to_string(),
        valid_to: None,
        recorded_at: sportello_store::now_micros(),
        recorded_by: by,
        cause: "change",
        note,
        facts,
    }])
    .await?;
    Ok(version)
}

fn parse_facts(raw: &RawFacts, line: usize) -> Result<Facts> {
    Facts::parse(raw).map_err(|_| line_problem("componenti", Why::MoverLine, line.to_string()))
}

/// The registry writes of a registration; gives the people changed with their versions, and
/// the address they now live at, as printed.
pub(super) async fn write_moves(
    deps: &Deps,
    actor: &Actor,
    db: &TenantDb<'_>,
    case: &Case,
    d: &Declaration,
    from: NaiveDate,
    street_code: &str,
) -> Result<(Vec<(i64, Option<i32>, i32)>, String)> {
    let by = actor.audit_name();
    let note = format!(
        "Dichiarazione di residenza prot. {}",
        case.protocol_text.as_deref().unwrap_or(&case.id)
    );
    let today = crate::today();
    // The declarant moves too (a declaration is made for oneself and one's family, never for
    // strangers), and someone joining a family is not its head.
    let key = |c: &str| {
        sportello_domain::FiscalCode::parse(c)
            .map(|c| c.normalised().as_str().to_owned())
            .unwrap_or_else(|_| c.to_owned())
    };
    let applicant = case.fiscal_code.as_deref().map(key);
    if !d
        .movers
        .iter()
        .any(|m| Some(key(m.code.as_str())) == applicant)
    {
        return Err(line_problem(
            "componenti",
            Why::NotOneOf,
            case.applicant_name.clone(),
        ));
    }
    if let Some(head) = &d.joins
        && d.movers
            .iter()
            .any(|m| key(m.code.as_str()) == key(head.as_str()))
    {
        return Err(line_problem("componenti", Why::FamilyHead, "1".into()));
    }
    // Where they go: the family they join (at its head's address) or a new one here.
    let (family, street, number, interior) = match &d.joins {
        Some(head) => {
            let h = current_of(db, head.as_str())
                .await?
                .filter(|h| h.facts.relation == Relation::Head)
                .ok_or_else(|| line_problem("intestatario", Why::NotOneOf, head.as_str().into()))?;
            (
                h.facts.family,
                h.facts.street,
                h.facts.number,
                h.facts.interior,
            )
        }
        None => {
            if !db
                .registry_streets()
                .await?
                .iter()
                .any(|(c, _)| c == street_code)
            {
                return Err(line_problem(
                    "street",
                    Why::NotOneOf,
                    street_code.to_owned(),
                ));
            }
            (
                db.registry_take("family", 1).await?,
                street_code.to_owned(),
                d.number.clone(),
                d.interior.clone(),
            )
        }
    };
    let at = Address {
        family,
        street: &street,
        number: &number,
        interior: &interior,
    };
    let mut people = vec![];
    let mut left: Vec<i64> = vec![];
    for (i, m) in d.movers.iter().enumerate() {
        let line = i + 1;
        // The declaration carries codes as issued: the exact code, never a homonym's.
        let id = db.registry_id(m.code.as_str()).await?;
        let cur = match id {
            Some(id) => {
                if !db.registry_lock(id).await? {
                    return Err(Error::NotFound);
                }
                db.registry_at(id, None).await?
            }
            None => None,
        };
        match cur {
            Some(cur) => {
                // The names typed must be the record's: a code alone moves nobody.
                let same = |a: &str, b: &str| norm(a) == norm(b);
                if cur.facts.status == Status::Deceased
                    || !same(&cur.facts.last_name, &m.last_name)
                    || !same(&cur.facts.first_name, &m.first_name)
                {
                    return Err(line_problem("componenti", Why::MoverLine, line.to_string()));
                }
                if cur.facts.status != Status::Resident {
                    crate::require(deps, actor, Action::Create).await?;
                }
                if cur.facts.status == Status::Resident && cur.facts.family != family {
                    left.push(cur.facts.family);
                }
                let mut raw = cur.facts.raw();
                raw.status = Status::Resident.key().into();
                raw.family = family.to_string();
                raw.relation = m.relation.key().into();
                raw.street = at.street.to_owned();
                raw.number = at.number.to_owned();
                raw.interior = at.interior.to_owned();
                let facts = parse_facts(&raw, line)?;
                let v = move_version(db, &cur, &facts, from, &by, &note).await?;
                people.push((cur.person_id, Some(cur.version), v));
            }
            None => {
                crate::require(deps, actor, Action::Create).await?;
                let facts = parse_facts(&newcomer(m, line, &at, today)?, line)?;
                if !facts.matches(&m.code) {
                    return Err(line_problem("componenti", Why::MoverLine, line.to_string()));
                }
                // Someone whose registration was annulled keeps their number.
                let id = match id {
                    Some(id) => id,
                    None => {
                        let id = db.registry_take("person", 1).await?;
                        db.registry_add_people(
                            &[(id, m.code.as_str().to_owned())],
                            sportello_store::now_micros(),
                        )
                        .await?;
                        id
                    }
                };
                let version = db.registry_last_version(id).await? + 1;
                db.registry_add_versions(&[NewVersion {
                    person_id: id,
                    version,
                    valid_from: from.to_string(),
                    valid_to: None,
                    recorded_at: sportello_store::now_micros(),
                    recorded_by: &by,
                    cause: "registration",
                    note: &note,
                    facts: &facts,
                }])
                .await?;
                people.push((id, None, version));
            }
        }
    }
    // The families left behind: a new head when theirs moved.
    elsewhere::new_heads(db, left, &mut people, from, &by, &note).await?;
    let name = crate::records::street_name(db, &street).await?;
    let at = [name, number, interior]
        .into_iter()
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok((people, at))
}
