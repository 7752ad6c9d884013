//! How long a procedure may take by law, in days.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{ParseError, Why};

/// The legal maximum duration of a procedure: 0 means at once (a certificate at the desk), at
/// most ten years. The console, `tenants/*.toml` and the ISTAT starter charter all go through
/// this one type, so what one accepts the others accept too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct LegalDays(u16);

impl LegalDays {
    pub const MAX: u16 = 3650;

    pub fn new(days: u32) -> Result<Self, ParseError> {
        u16::try_from(days)
            .ok()
            .filter(|d| *d <= Self::MAX)
            .map(LegalDays)
            .ok_or_else(|| {
                ParseError::new(
                    Why::DaysRange,
                    "maximum duration",
                    format!("{days} is not a number of days from 0 (at once) to 3650"),
                )
            })
    }

    /// Days as a person types them (`30`, ` 0 `).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let t = s.trim();
        let days: u32 = t.parse().map_err(|_| {
            ParseError::new(
                Why::DaysRange,
                "maximum duration",
                format!("{t:?} is not a number of days from 0 (at once) to 3650"),
            )
        })?;
        Self::new(days)
    }

    pub fn days(self) -> u16 {
        self.0
    }
}

impl TryFrom<u32> for LegalDays {
    type Error = ParseError;
    fn try_from(d: u32) -> Result<Self, ParseError> {
        Self::new(d)
    }
}

impl From<LegalDays> for u32 {
    fn from(d: LegalDays) -> u32 {
        u32::from(d.0)
    }
}

impl fmt::Display for LegalDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
#[path = "tests/legal_days.rs"]
mod tests;
