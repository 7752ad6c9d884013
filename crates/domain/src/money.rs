use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount in euro cents. Never a float.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_cents(cents: i64) -> Self {
        Self(cents)
    }
    pub fn cents(self) -> i64 {
        self.0
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
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
