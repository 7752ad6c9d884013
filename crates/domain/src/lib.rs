//! Sportello's domain: pure types and rules. Nothing here knows about HTTP, SQL or files.
//!
//! Values are parsed once at the edge (`Slug::parse`, `Host::parse`, `IstatCode::parse`, …) and
//! carried as types afterwards, so code further in never re-validates strings.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod charter;
pub mod commune;
pub mod fiscal_code;
pub mod hours;
pub mod identity;
pub mod ids;
pub mod legal_days;
pub mod money;

pub use charter::{AssuranceLevel, Audience, Channel, LifeEvent};
pub use commune::{CommuneStatus, Language, slugify};
pub use fiscal_code::{FiscalCode, Sex};
pub use hours::{OpeningHours, OpeningStatus, TimeRange};
pub use identity::{Email, MobileNumber};
pub use ids::{CadastralCode, Host, IstatCode, Slug, TenantId};
pub use legal_days::LegalDays;
pub use money::Money;

/// A value that failed to parse: what was expected and what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct ParseError {
    pub what: &'static str,
    pub detail: String,
}

impl ParseError {
    pub fn new(what: &'static str, detail: impl Into<String>) -> Self {
        Self {
            what,
            detail: detail.into(),
        }
    }
}
