//! The population registry (anagrafe) of a commune, as a capability (no HTTP):
//!
//! - records.rs: a clerk reads, registers, changes (from a legal day on) and corrects a
//!   person's record; every look by someone else is logged;
//! - import.rs: a CSV export from the commune's previous system, all or nothing, idempotent;
//! - demo.rs: synthetic residents for the demo federation (deterministic);
//! - certificates/: the kinds and their wording (Italian, and German in Bolzano/Bozen), issuing
//!   one as a PDF with a digital stamp on every page, the record of what was issued;
//! - keys.rs and stamp.rs: the commune's signing keys (P-256, rotated) and the stamp's text
//!   (the certificate's essential content, signed);
//! - pades.rs: the PAdES signature of a certificate's PDF with the key's X.509 certificate
//!   (issued by the deployment's CA, when one is configured);
//! - verify.rs: whether a stamp or a certificate's PDF is authentic and still valid, with the
//!   public keys only (the verification page and the command line);
//! - position.rs: "la mia posizione anagrafica", and who looked at my data;
//! - reminders.rs: the identity card's expiry told to its holder six months ahead (outbox);
//! - residence.rs and residence/: the change of residence on the cases (register from the
//!   declaration's day, confirm, reject back to the state before, accepted by law after 45
//!   days).
//!
//! Access: staff by the casbin object `records`; a citizen only to their own record and their
//! family's.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod certificates;
pub mod checks;
pub mod demo;
pub mod import;
pub mod keys;
pub mod pades;
pub mod position;
pub mod records;
pub mod reminders;
pub mod residence;
pub mod stamp;
pub mod verify;

use chrono::NaiveDate;
use sportello_authz::{Action, Object};
use sportello_kernel::{Actor, Deps, Error, Result};

/// Today in Italy (legal days are Italian days).
pub fn today() -> NaiveDate {
    chrono::DateTime::from_timestamp_micros(sportello_store::now_micros())
        .unwrap_or_default()
        .with_timezone(&chrono_tz::Europe::Rome)
        .date_naive()
}

/// Refuses an actor the commune's rules do not allow `act` on the registry.
pub(crate) async fn require(deps: &Deps, actor: &Actor, act: Action) -> Result<()> {
    if actor.may(deps, Object::Records, act).await {
        Ok(())
    } else {
        Err(Error::Refused("refused_role"))
    }
}

/// The registry's person for a signed-in person's fiscal code (identity providers' codes arrive
/// without omocodia): none, or the one person whose code that is; homonyms told apart by
/// omocodia share it, and then nobody is guessed (the registry office sorts it out).
pub(crate) async fn signed_in_person(
    db: &sportello_store::TenantDb<'_>,
    code: &str,
) -> Result<Option<i64>> {
    let key = sportello_domain::FiscalCode::parse(code)
        .map(|c| c.normalised().as_str().to_owned())
        .unwrap_or_else(|_| code.to_owned());
    match db.registry_ids_by_key(&key).await?[..] {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(Error::Refused("refused_registry_ambiguous")),
    }
}
