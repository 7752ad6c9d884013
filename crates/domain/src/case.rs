//! A case (pratica): its protocol number, its states and its legal deadline.

use std::fmt;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{ParseError, Why};

/// A protocol number: per commune and per calendar year, from 1, gap-free (DPR 445/2000
/// art. 57: at least seven digits, restarting each year). Written `2026/0000123`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProtocolNumber {
    pub year: i32,
    pub number: i64,
}

impl ProtocolNumber {
    /// As a person types it: `2026/0000123`, `2026/123`, `2026-123`, spaces ignored.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let bad = || {
            ParseError::new(
                Why::ProtocolInvalid,
                "protocol number",
                format!("{t:?} is not year/number"),
            )
            .arg(t.as_str())
        };
        let (y, n) = t.split_once(['/', '-']).ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let number: i64 = n.parse().map_err(|_| bad())?;
        if !(2000..=9999).contains(&year) || y.len() != 4 || number < 1 || n.len() > 12 {
            return Err(bad());
        }
        Ok(Self { year, number })
    }
}

impl fmt::Display for ProtocolNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:07}", self.year, self.number)
    }
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Registered with its number, in the competent office's queue.
    Submitted,
    /// A clerk took it in charge.
    InCharge,
    /// The office asked the citizen for documents or information: the deadline pauses.
    Waiting,
    Accepted,
    Rejected,
    /// The citizen withdrew it before it was taken in charge.
    Withdrawn,
}

impl CaseStatus {
    pub const ALL: &'static [CaseStatus] = &[
        Self::Submitted,
        Self::InCharge,
        Self::Waiting,
        Self::Accepted,
        Self::Rejected,
        Self::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::InCharge => "in_charge",
            Self::Waiting => "waiting",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|x| x.code() == s)
    }

    /// An outcome was given, or the citizen withdrew: nothing more happens.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Accepted | Self::Rejected | Self::Withdrawn)
    }
}

/// The legal deadline of a case: `max_days` calendar days from the protocol date, moved on by
/// the days the office waited for the citizen (L. 241/1990 art. 2 c. 7: the term is suspended
/// while the office waits for documents it asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub due: NaiveDate,
    /// Days from today to the due date (negative: overdue).
    pub days_left: i64,
    pub paused: bool,
    pub overdue: bool,
}

impl Deadline {
    /// `paused_days`: the days of pauses already over; `paused_since`: the day the current pause
    /// began, if the case is waiting for the citizen (each day of it moves the due date too).
    pub fn compute(
        submitted: NaiveDate,
        max_days: u32,
        paused_days: i64,
        paused_since: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Self {
        let running = paused_since.map_or(0, |since| (today - since).num_days().max(0));
        let due = submitted + Duration::days(i64::from(max_days) + paused_days + running);
        let days_left = (due - today).num_days();
        Self {
            due,
            days_left,
            paused: paused_since.is_some(),
            overdue: days_left < 0 && paused_since.is_none(),
        }
    }
}

/// The calendar days a pause lasted: from the day it began to the day it ended (a pause begun
/// and ended on the same day moves nothing).
pub fn pause_days(since: NaiveDate, until: NaiveDate) -> i64 {
    (until - since).num_days().max(0)
}

#[cfg(test)]
#[path = "tests/case.rs"]
mod tests;
