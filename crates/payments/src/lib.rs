//! Payments owed to a commune, as a capability (no HTTP): the commune's payment settings
//! (settings.rs), its notices written one by one or cancelled (notices.rs) or imported from a
//! CSV file (import.rs), the citizen's list of what they have to pay (due.rs), and the printable
//! notice with its pagoPA QR code (document.rs).
//!
//! Access: the web layer's guard admits a route by the casbin object `payments`; the services
//! here check again what they do (`require`), so no caller reaches a commune's payments without
//! the right, and every read or write runs inside that commune's transaction.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod document;
pub mod due;
pub mod duty;
pub mod fees;
pub mod import;
pub mod imu;
pub mod ledger;
pub mod nightly;
pub mod notices;
pub mod online;
pub mod receipt;
pub mod reconcile;
pub mod refunds;
pub mod settings;
pub mod tickets;

use chrono::NaiveDate;
use sportello_authz::{Action, Object, Role};
use sportello_kernel::{Actor, Deps, Error, Result};

/// An instant (microseconds) on Rome's clock.
pub fn rome(micros: i64) -> chrono::NaiveDateTime {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .with_timezone(&chrono_tz::Europe::Rome)
        .naive_local()
}

/// A commune's name and its site's address, for the words of a message ("" when unknown).
pub(crate) fn commune_words(deps: &Deps, commune: sportello_domain::TenantId) -> (String, String) {
    deps.tenancy.by_id(commune).map_or_else(
        || (String::new(), String::new()),
        |c| {
            (
                c.record.name.clone(),
                deps.commune_base(&c.record.primary_host),
            )
        },
    )
}

/// Today in Italy (due days and reductions are Italian days).
pub fn today() -> NaiveDate {
    rome(sportello_store::now_micros()).date()
}

/// A day kept as `YYYY-MM-DD`, as Italians write it (`31/10/2026`); anything else as it is.
pub fn italian_day(s: &str) -> String {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| s.to_owned())
}

/// A stored notice number in groups of four, as printed (as stored, should it not parse).
pub fn grouped(number: &str) -> String {
    sportello_domain::NoticeNumber::parse(number)
        .map(|n| n.grouped())
        .unwrap_or_else(|_| number.to_owned())
}

/// Refuses an actor who may not read the commune's notices: reading payments through the
/// intermediary role (a CAF, a bank) opens its clients' payments only, never the commune's list;
/// a role given for one office does not open them either (they are the commune's, not an
/// office's).
pub(crate) async fn require_commune_read(deps: &Deps, actor: &Actor) -> Result<()> {
    require_commune(deps, actor, Action::Read).await
}

/// Refuses an actor whose role may not `act` on payments for the whole commune (a role given
/// for one office, or the intermediary's, does not reach the commune's payments).
pub(crate) async fn require_commune(deps: &Deps, actor: &Actor, act: Action) -> Result<()> {
    require(deps, actor, act).await?;
    let scope = sportello_kernel::scope::office_scope_without(
        deps,
        actor,
        Object::Payments,
        act,
        &[Role::Intermediary],
    )
    .await?;
    match scope {
        None => Ok(()),
        Some(_) => Err(Error::Refused("refused_role")),
    }
}

/// Refuses an actor the commune's rules do not allow `act` on payments.
pub(crate) async fn require(deps: &Deps, actor: &Actor, act: Action) -> Result<()> {
    if actor.may(deps, Object::Payments, act).await {
        Ok(())
    } else {
        Err(Error::Refused("refused_role"))
    }
}
