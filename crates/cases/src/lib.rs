//! Cases (pratiche): a citizen's request to the commune, from the form to the answer.
//!
//! - [`form_edit`]: the console's form editor (a step at a time, each a new version).
//! - [`forms`]: a service's online form (the definition in force, versions kept).
//! - [`draft`]: filling it in, page by page, kept as typed (resumed after signing out).
//! - [`expiry`]: drafts kept a year after their last change, their person told a month before.
//! - [`filer`]: who fills in and files: the person, or staff for them (front desk, call
//!   centre, intermediary).
//! - [`desk`]: staff filing for someone: starting and resuming their drafts, the cases they
//!   filed, a citizen's cases looked up at a desk, "any desk" of a partner commune, delegations.
//! - [`files`]: files attached to file fields (limits, type by content, SHA-256, the store).
//! - [`submit`]: one transaction makes the case, its first history entry, its message and its
//!   protocol number (gap-free per commune and year, in commit order); a repeated submission
//!   finds the case the first one made.
//! - [`follow`]: the citizen's side: my cases, one case with its history, the answer to a
//!   request of the office, withdrawal, the status by protocol number and code.
//! - [`office`]: the back office: queues per office, taking in charge, assigning, asking the
//!   citizen, messages, internal notes, re-routing, the outcome.
//! - [`response`]: the office's response document, attached with the outcome or after.
//! - [`receipt`]: the PDF receipt (`pdf`: plain text pages, the standard fonts).
//! - [`view`]: how a case is shown (answers with the labels of its form version, the legal
//!   deadline, the history).

pub mod delegations;
pub mod desk;
pub mod draft;
pub mod expiry;
pub mod filer;
pub mod files;
pub mod follow;
pub mod form_edit;
pub mod forms;
pub mod lookup;
pub mod office;
pub mod receipt;
pub mod response;
pub mod settings;
pub mod submit;
mod tell;
pub mod view;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use sportello_authz::Role;
use sportello_domain::TenantId;
use sportello_kernel::Deps;

/// The roles that act for citizens: they file and follow cases for someone (every act
/// recorded with whom for and why), and never read an office's queue.
pub const ACTING_FOR: [Role; 3] = [Role::FrontDesk, Role::CallCentre, Role::Intermediary];

/// The day in Rome at a time given in microseconds (protocol years and deadlines are Italian
/// calendar days).
pub fn rome_day(micros: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .with_timezone(&chrono_tz::Europe::Rome)
        .date_naive()
}

pub fn today() -> NaiveDate {
    rome_day(sportello_store::now_micros())
}

/// The case code printed on the receipt: with the protocol number it shows the case's state
/// to anyone who has the receipt. Derived from the node's key, so the owner's pages can show it
/// again; the case keeps only its hash, which is what a lookup compares.
pub(crate) fn case_code(deps: &Deps, commune: TenantId, case_id: &str) -> String {
    let mac = deps.secrets.mac(
        "case-code",
        &[commune.0.to_string().as_bytes(), case_id.as_bytes()],
    );
    let digest = Sha256::digest(mac.as_bytes());
    // Ten characters without look-alikes (no 0/O, 1/I/L): about 50 bits.
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    digest
        .iter()
        .take(10)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

pub(crate) fn code_hash(code: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(code.trim().to_ascii_uppercase().as_bytes()))
}
