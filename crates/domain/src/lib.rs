//! Sportello's domain: pure types and rules. Nothing here knows about HTTP, SQL or files.
//!
//! Values are parsed once at the edge (`Slug::parse`, `Host::parse`, `IstatCode::parse`, …) and
//! carried as types afterwards, so code further in never re-validates strings.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod case;
pub mod charter;
pub mod commune;
pub mod file_type;
pub mod fiscal_code;
pub mod form;
pub mod hours;
pub mod identity;
pub mod ids;
pub mod imu;
pub mod legal_days;
pub mod money;
pub mod notice;
pub mod payment;
pub mod protocol_format;
pub mod rating;
pub mod registry;
pub mod search;
pub mod sms;
pub mod web;
pub mod why;

pub use case::{CaseStatus, Deadline, ProtocolNumber};
pub use charter::{AssuranceLevel, Audience, Channel, LifeEvent};
pub use commune::{CommuneStatus, Language, slugify};
pub use file_type::FileType;
pub use fiscal_code::{FiscalCode, Sex};
pub use hours::{OpeningHours, OpeningStatus, TimeRange};
pub use identity::{Email, MobileNumber};
pub use ids::{CadastralCode, Host, IstatCode, Slug, TenantId};
pub use legal_days::LegalDays;
pub use money::Money;
pub use notice::NoticeNumber;
pub use payment::{NoticeInput, PaymentKind, RawNotice, Reduction};
pub use protocol_format::{DEFAULT_PROTOCOL_FORMAT, ProtocolFormat};
pub use web::WebAddress;
pub use why::Why;

/// A value that failed to parse: what was expected and what was given (in English, for logs,
/// files and the command line), and [`Why`] with the offending text, for the person's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct ParseError {
    pub what: &'static str,
    pub detail: String,
    pub why: Why,
    /// The part of the input at fault, quoted in the person's words ("8.30-12.30").
    pub arg: String,
}

impl ParseError {
    pub fn new(why: Why, what: &'static str, detail: impl Into<String>) -> Self {
        Self {
            what,
            detail: detail.into(),
            why,
            arg: String::new(),
        }
    }

    /// The same error, naming the part of the input at fault.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.arg = arg.into();
        self
    }
}
