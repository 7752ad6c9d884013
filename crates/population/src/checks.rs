//! Checks by agencies (police, INPS, health authorities): a verifier account acting for an
//! agency asks about a person by fiscal code, declaring one of its agreement's purposes and the
//! case it works on; the answer holds only the fields the agreement allows. Every check is
//! logged in the person's "who looked at my data" and the commune's audit log, and an agency
//! gets at most its agreement's checks a minute (per node).
//!
//! The same check answers the console's page and the JSON API (a verifier's API token: hashed
//! at rest, acting with exactly the verifier's role, revoked with the account or the agency).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Value, json};
use sportello_authz::Action;
use sportello_domain::registry::Status;
use sportello_domain::{FiscalCode, Why};
use sportello_kernel::{Actor, Deps, Error, Problems, Result};
use sportello_store::population::{Access, Agency};

/// The fields an agreement may allow.
pub const FIELDS: &[&str] = &[
    "name",
    "birth",
    "sex",
    "citizenship",
    "marital",
    "address",
    "family",
    "document",
    "voter",
];

/// What a check answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub fiscal_code: String,
    /// Whether the person is resident in the commune today.
    pub resident: bool,
    /// The fields the agreement allows (none when not resident).
    pub fields: BTreeMap<String, Value>,
}

/// What a verifier asks.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Question {
    pub fiscal_code: String,
    pub purpose: String,
    pub reference: String,
}

/// (commune, agency) → (minute, checks in it).
type Counts = HashMap<(i64, String), (i64, i32)>;

/// Checks counted per (commune, agency) in the current minute, on this node.
static COUNTS: Mutex<Option<Counts>> = Mutex::new(None);

fn within_rate(commune: i64, agency: &Agency) -> bool {
    let minute = sportello_store::now_micros() / 60_000_000;
    let Ok(mut guard) = COUNTS.lock() else {
        return false;
    };
    let map = guard.get_or_insert_with(HashMap::new);
    if map.len() > 10_000 {
        map.retain(|_, (m, _)| *m == minute);
    }
    let entry = map
        .entry((commune, agency.id.clone()))
        .or_insert((minute, 0));
    if entry.0 != minute {
        *entry = (minute, 0);
    }
    entry.1 += 1;
    entry.1 <= agency.per_minute
}

/// The agency the actor checks for (its agreement in force).
pub async fn agency_of(deps: &Deps, actor: &Actor) -> Result<Agency> {
    crate::require(deps, actor, Action::Verify).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let a = tx.db().agency_of(&actor.staff_id).await?;
    tx.commit().await?;
    a.filter(|a| a.revoked_at.is_none())
        .ok_or(Error::Refused("refused_no_agency"))
}

/// A check.
pub async fn check(deps: &Deps, actor: &Actor, q: &Question) -> Result<Answer> {
    let agency = agency_of(deps, actor).await?;
    let mut p = Problems::default();
    let code = match FiscalCode::parse(&q.fiscal_code) {
        Ok(c) => Some(c),
        Err(e) => {
            p.parse("fiscal_code", &e);
            None
        }
    };
    let purpose = q.purpose.trim();
    if !agency.purposes.iter().any(|x| x == purpose) {
        p.add("purpose", Why::NotOneOf, purpose);
    }
    let reference = q.reference.trim();
    if reference.is_empty() {
        p.add("reference", Why::Required, "");
    } else if reference.chars().count() > 100 || reference.chars().any(char::is_control) {
        p.add("reference", Why::TooLong, "100");
    }
    p.result()?;
    let code = code.ok_or(Error::NotFound)?;
    let commune = actor.commune()?;
    if !within_rate(commune.0, &agency) {
        return Err(Error::Refused("refused_too_many_checks"));
    }
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let id = db.registry_id(code.as_str()).await?;
    let current = match id {
        Some(id) => db.registry_at(id, None).await?,
        None => None,
    };
    let mut fields = BTreeMap::new();
    let resident = current
        .as_ref()
        .is_some_and(|v| v.facts.status == Status::Resident);
    if let (Some(id), Some(v)) = (id, current.as_ref().filter(|_| resident)) {
        let f = &v.facts;
        for field in &agency.fields {
            let value = match field.as_str() {
                "name" => json!({"last_name": f.last_name, "first_name": f.first_name}),
                "birth" => json!({"date": f.birth_date.to_string(), "place": f.birth_place, "place_name": f.birth_place_name}),
                "sex" => json!(if f.sex == sportello_domain::Sex::Female { "F" } else { "M" }),
                "citizenship" => json!(f.citizenship),
                "marital" => json!(f.marital.key()),
                "address" => json!({"street": crate::records::street_name(&db, &f.street).await?, "number": f.number, "interior": f.interior, "since": v.valid_from}),
                "family" => {
                    let members = db.registry_family(f.family, None).await?;
                    json!(members.iter().map(|m| json!({"fiscal_code": m.fiscal_code, "relation": m.facts.relation.key()})).collect::<Vec<_>>())
                }
                "document" => json!(f.document.as_ref().map(|d| json!({"kind": d.kind.key(), "number": d.number, "expires": d.expires.to_string()}))),
                "voter" => json!(f.voter),
                _ => continue,
            };
            fields.insert(field.clone(), value);
        }
        db.registry_log_access(
            id,
            &Access {
                at: sportello_store::now_micros(),
                who: actor.audit_name(),
                who_name: format!("{} ({})", agency.name, actor.name),
                capacity: "verifier".into(),
                purpose: purpose.to_owned(),
                reference: reference.to_owned(),
                what: fields.keys().cloned().collect::<Vec<_>>().join(","),
            },
        )
        .await?;
    }
    sportello_kernel::audit::record_for(
        &db,
        actor,
        "registry_checked",
        "records",
        json!({"agency": agency.id, "reference": reference, "resident": resident}),
        code.as_str(),
        purpose,
    )
    .await?;
    tx.commit().await?;
    Ok(Answer {
        fiscal_code: code.as_str().to_owned(),
        resident,
        fields,
    })
}

/// An agreement as the commune's form gives it.
#[derive(Debug, Clone, Default)]
pub struct AgencyForm {
    pub id: String,
    pub name: String,
    pub fields: Vec<String>,
    /// One a line.
    pub purposes: String,
    pub per_minute: String,
}

/// The commune writes (or changes) an agency's agreement.
pub async fn save_agency(deps: &Deps, actor: &Actor, f: &AgencyForm) -> Result<String> {
    crate::require(deps, actor, Action::Update).await?;
    let mut p = Problems::default();
    let id = f.id.trim().to_lowercase();
    if id.is_empty() || id.len() > 40 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        p.add("id", Why::SlugInvalid, id.clone());
    }
    let name = f.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 120 {
        p.add(
            "name",
            if name.is_empty() {
                Why::Required
            } else {
                Why::TooLong
            },
            "120",
        );
    }
    let fields: Vec<String> = f
        .fields
        .iter()
        .filter(|x| FIELDS.contains(&x.as_str()))
        .cloned()
        .collect();
    if fields.is_empty() || fields.len() != f.fields.len() {
        p.add("fields", Why::Required, "");
    }
    let purposes: Vec<String> = f
        .purposes
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    if purposes.is_empty()
        || purposes.len() > 20
        || purposes.iter().any(|x| x.chars().count() > 120)
    {
        p.add("purposes", Why::Required, "");
    }
    let per_minute = f
        .per_minute
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|n| (1..=10_000).contains(n));
    if per_minute.is_none() {
        p.add("per_minute", Why::NotOneOf, f.per_minute.trim());
    }
    p.result()?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    let saved = db
        .save_agency(&Agency {
            id: id.clone(),
            name,
            fields: fields.clone(),
            purposes,
            per_minute: per_minute.unwrap_or(60),
            created_at: sportello_store::now_micros(),
            revoked_at: None,
        })
        .await?;
    if !saved {
        return Err(Error::Refused("refused_agency_revoked"));
    }
    sportello_kernel::audit::record(
        &db,
        actor,
        "agency_saved",
        "records",
        json!({"agency": id, "fields": fields}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The commune ends an agreement.
pub async fn revoke_agency(deps: &Deps, actor: &Actor, id: &str) -> Result<()> {
    crate::require(deps, actor, Action::Update).await?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    if !db.revoke_agency(id, sportello_store::now_micros()).await? {
        return Err(Error::NotFound);
    }
    sportello_kernel::audit::record(
        &db,
        actor,
        "agency_revoked",
        "records",
        json!({"agency": id}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The commune makes one of its verifier accounts act for an agency.
pub async fn link_member(
    deps: &Deps,
    actor: &Actor,
    agency: &str,
    staff_email: &str,
) -> Result<()> {
    crate::require(deps, actor, Action::Update).await?;
    let commune = actor.commune()?;
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    if !db
        .agencies()
        .await?
        .iter()
        .any(|a| a.id == agency && a.revoked_at.is_none())
    {
        let mut p = Problems::default();
        p.add("agency", Why::NotOneOf, agency);
        return Err(Error::Invalid(p));
    }
    let staff = db.staff_db().list().await?;
    let Some(member) = staff
        .iter()
        .find(|s| s.email.eq_ignore_ascii_case(staff_email.trim()))
    else {
        let mut p = Problems::default();
        p.add("email", Why::NotOneOf, staff_email.trim());
        return Err(Error::Invalid(p));
    };
    // Only an account whose roles let it verify (the verifier's) acts for an agency.
    let verifies = deps
        .policies
        .allows(
            sportello_authz::Subject::Staff(&member.id),
            Some(commune),
            sportello_authz::Object::Records,
            Action::Verify,
            sportello_store::now_micros(),
        )
        .await;
    if !verifies {
        let mut p = Problems::default();
        p.add("email", Why::UnknownRole, staff_email.trim());
        return Err(Error::Invalid(p));
    }
    db.link_agency_member(&member.id, agency).await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "agency_member_linked",
        "records",
        json!({"agency": agency, "staff": member.id}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The commune's agencies.
pub async fn agencies(deps: &Deps, actor: &Actor) -> Result<Vec<Agency>> {
    crate::require(deps, actor, Action::Read).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let list = tx.db().agencies().await?;
    tx.commit().await?;
    Ok(list)
}
