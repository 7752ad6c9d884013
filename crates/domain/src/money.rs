use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{ParseError, Why};

/// An amount in euro cents. Never a float.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Self {
        Self(cents)
    }
    pub fn cents(self) -> i64 {
        self.0
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
    /// An amount as a person types it in euros: `16`, `16,00`, `16.5`, `€ 1 234,50`; blank is
    /// zero. At most two decimals, never negative, never a float on the way.
    pub fn parse(s: &str) -> Result<Money, ParseError> {
        let s = s.trim().replace(['€', ' '], "").replace(',', ".");
        if s.is_empty() {
            return Ok(Money::ZERO);
        }
        let bad = || {
            ParseError::new(
                Why::AmountInvalid,
                "amount",
                format!("{s:?} is not an amount in euros"),
            )
            .arg(s.as_str())
        };
        let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
        if frac.len() > 2
            || int.is_empty()
            || !int.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let euros: i64 = int.parse().map_err(|_| bad())?;
        let cents: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        euros
            .checked_mul(100)
            .and_then(|e| e.checked_add(cents))
            .map(Money)
            .ok_or_else(bad)
    }

    /// The amount as a decimal string with a dot, e.g. `16.00` (for machine formats).
    pub fn decimal(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let c = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", c / 100, c % 100)
    }
}

/// Italian formatting: `€ 1.234,50`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let c = self.0.unsigned_abs();
        let units = (c / 100).to_string();
        let mut grouped = String::new();
        for (i, ch) in units.chars().enumerate() {
            if i > 0 && (units.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(ch);
        }
        write!(f, "{sign}€ {grouped},{:02}", c % 100)
    }
}

#[cfg(test)]
#[path = "tests/money.rs"]
mod tests;
