//! A citizen's cases looked up at a desk or by the call centre: the person identified by fiscal
//! code and family name, the purpose given. The look is an act: the audit log records it with
//! `on_behalf_of` and `purpose`, and each case shown gets a public history entry, so the citizen
//! sees who looked and why. Intermediaries see the cases they filed only ([`crate::desk`]).

use serde::Serialize;
use sportello_domain::{FiscalCode, Language, Why};
use sportello_kernel::{Actor, Deps, Error, Problems, Result};
use sportello_store::cases::{Change, Event};

use crate::desk::{PURPOSE_MAX, filed_as};
use crate::filer::FiledAs;
use crate::view::{self, CaseView};

/// How many of the person's cases a look shows (the newest).
pub const LOOKUP_MAX: u64 = 20;

#[derive(Debug, Clone, Serialize)]
pub struct Looked {
    pub applicant_name: String,
    pub cases: Vec<CaseView>,
}

/// The person's cases in the actor's commune, newest first, for a front desk or the call centre.
pub async fn citizen_cases(
    deps: &Deps,
    actor: &Actor,
    fiscal_code: &str,
    family_name: &str,
    purpose: &str,
    lang: Language,
) -> Result<Looked> {
    let here = actor.commune()?;
    if filed_as(deps, actor).await? == FiledAs::Intermediary {
        return Err(Error::Refused("refused_not_acting_for"));
    }
    let mut p = Problems::default();
    let cf = FiscalCode::parse(fiscal_code);
    if let Err(e) = &cf {
        p.add("fiscal_code", e.why, e.arg.clone());
    }
    if family_name.trim().is_empty() {
        p.add("family_name", Why::Required, "");
    }
    let purpose = purpose.trim();
    if purpose.is_empty() {
        p.add("purpose", Why::Required, "");
    } else if purpose.chars().count() > PURPOSE_MAX {
        p.add("purpose", Why::TooLong, PURPOSE_MAX.to_string());
    }
    p.result()?;
    let cf = cf
        .map_err(|_| Error::invalid("fiscal_code", Why::Required))?
        .normalised();
    // Unknown, or a family name that does not match: the same answer (nothing told about
    // whether the fiscal code is known).
    let person = deps
        .store
        .identity()
        .person_by_fiscal_code(cf.as_str())
        .await?
        .filter(|x| {
            sportello_store::fold_for_search(x.family_name.trim())
                == sportello_store::fold_for_search(family_name.trim())
        });
    let tx = deps.store.tenant(here).await?;
    let db = tx.db();
    let cases = match &person {
        Some(x) => db.cases_of(&x.id, LOOKUP_MAX).await?,
        None => vec![],
    };
    sportello_kernel::audit::record_for(
        &db,
        actor,
        "cases_read_for",
        &format!("person:{}", cf.as_str()),
        serde_json::json!({"cases": cases.len()}),
        cf.as_str(),
        purpose,
    )
    .await?;
    let now = sportello_store::now_micros();
    let mut shown = vec![];
    let today = crate::rome_day(now);
    for c in &cases {
        // Once a day per case and desk: the history shows who looked and why without filling
        // up (every look is in the audit log all the same).
        let seen_today = db.events(&c.id, true).await?.iter().any(|e| {
            e.kind == "consulted" && e.actor == actor.audit_name() && crate::rome_day(e.at) == today
        });
        if seen_today {
            if let Some(c) = db.case(&c.id).await? {
                shown.push(view::build(deps, &db, &c, lang, true, false).await?);
            }
            continue;
        }
        db.append_event(
            &c.id,
            &Event {
                seq: 0,
                kind: "consulted".into(),
                actor: actor.audit_name(),
                actor_name: actor.name.clone(),
                public: true,
                body: serde_json::json!({"text": purpose}).to_string(),
                at: now,
            },
            &Change::default(),
        )
        .await?;
        if let Some(c) = db.case(&c.id).await? {
            shown.push(view::build(deps, &db, &c, lang, true, false).await?);
        }
    }
    tx.commit().await?;
    Ok(Looked {
        applicant_name: person
            .map(|x| format!("{} {}", x.given_name, x.family_name))
            .unwrap_or_default(),
        cases: shown,
    })
}
