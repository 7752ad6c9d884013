//! "La mia posizione anagrafica": what the registry says about me (signed in at SPID/CIE level
//! 2 or more) — my record, my family, my address's history, my document's expiry — the
//! certificates I asked for, and who else looked at my record and why.

use serde::Serialize;
use sportello_domain::{AssuranceLevel, TenantId};
use sportello_kernel::session::Current;
use sportello_kernel::{Deps, Error, Result};
use sportello_store::population::{Access, Version};

/// My document is said to be near its expiry this many days before.
pub const DOCUMENT_WARN_DAYS: i64 = 180;

#[derive(Debug, Clone, Serialize)]
pub struct Position {
    pub current: Version,
    pub street: String,
    /// The versions in force over time (corrections applied), oldest first, with their street.
    pub history: Vec<(Version, String)>,
    pub family: Vec<Version>,
    /// Days until my identity document expires (negative: expired).
    pub document_days: Option<i64>,
    pub accesses: Vec<Access>,
}

/// My position in this commune's registry; `None` when the registry does not hold me.
pub async fn mine(deps: &Deps, commune: TenantId, who: &Current) -> Result<Option<Position>> {
    if who.level < AssuranceLevel::Substantial || who.idp == "password" {
        return Err(Error::Refused("refused_certificate_level"));
    }
    let Some(code) = who.person.as_ref().and_then(|p| p.fiscal_code.as_deref()) else {
        return Err(Error::Refused("refused_certificate_level"));
    };
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let Some(id) = crate::signed_in_person(&db, code).await? else {
        tx.commit().await?;
        return Ok(None);
    };
    let all = db.registry_history(id).await?;
    let Some(current) = all
        .iter()
        .rev()
        .find(|v| v.superseded_at.is_none() && v.valid_to.is_none())
        .cloned()
    else {
        tx.commit().await?;
        return Ok(None);
    };
    let streets = db.registry_streets().await?;
    let street_of = |code: &str| {
        streets
            .iter()
            .find(|(c, _)| c == code)
            .map_or_else(|| code.to_owned(), |(_, n)| n.clone())
    };
    let history = all
        .iter()
        .filter(|v| v.superseded_at.is_none())
        .map(|v| (v.clone(), street_of(&v.facts.street)))
        .collect();
    // Someone no longer resident has no family here (the household sheet is the residents').
    let family = if current.facts.status == sportello_domain::registry::Status::Resident {
        db.registry_family(current.facts.family, None).await?
    } else {
        vec![]
    };
    let accesses = db.registry_accesses(id, 200).await?;
    tx.commit().await?;
    let document_days = current
        .facts
        .document
        .as_ref()
        .map(|d| (d.expires - crate::today()).num_days());
    Ok(Some(Position {
        street: street_of(&current.facts.street),
        current,
        history,
        family,
        document_days,
        accesses,
    }))
}
