//! Cadastral categories of buildings (A/1 … F/7) and the multipliers of the IMU base
//! (L. 160/2019, art. 1, c. 745).

use std::fmt;

use serde::Serialize;

use crate::{ParseError, Why};

/// A cadastral category: its group letter and number (`A/2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Category {
    group: char,
    number: u8,
}

/// The numbers each group has (the cadastre's table; E and F have no income for IMU).
fn known(group: char, number: u8) -> bool {
    match group {
        'A' => (1..=11).contains(&number),
        'B' => (1..=8).contains(&number),
        'C' => (1..=7).contains(&number),
        'D' => (1..=10).contains(&number),
        _ => false,
    }
}

impl Category {
    /// `A/2`, `a2`, `A02`, ` C/6 `.
    pub fn parse(s: &str) -> Result<Category, ParseError> {
        let t: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, '/' | ' '))
            .collect();
        let bad =
            || ParseError::new(Why::NotOneOf, "cadastral category", format!("{s:?}")).arg(s.trim());
        let mut chars = t.chars();
        let group = chars.next().ok_or_else(bad)?.to_ascii_uppercase();
        let number: u8 = chars.as_str().parse().map_err(|_| bad())?;
        if !known(group, number) {
            return Err(bad());
        }
        Ok(Category { group, number })
    }

    /// The multiplier of the revalued cadastral income (c. 745).
    pub fn multiplier(self) -> u32 {
        match (self.group, self.number) {
            ('A', 10) | ('D', 5) => 80,
            ('A', _) | ('C', 2) | ('C', 6) | ('C', 7) => 160,
            ('B', _) | ('C', 3) | ('C', 4) | ('C', 5) => 140,
            ('C', 1) => 55,
            ('D', _) => 65,
            _ => 0,
        }
    }

    /// A dwelling (group A but offices, A/10).
    pub fn is_dwelling(self) -> bool {
        self.group == 'A' && self.number != 10
    }
    /// A dwelling of luxury, taxed also as a main dwelling (A/1, A/8, A/9).
    pub fn is_luxury(self) -> bool {
        self.group == 'A' && matches!(self.number, 1 | 8 | 9)
    }
    /// What may be a dwelling's appurtenance (C/2, C/6, C/7).
    pub fn is_appurtenance(self) -> bool {
        self.group == 'C' && matches!(self.number, 2 | 6 | 7)
    }
    /// Group D (productive buildings), part of whose tax is the State's.
    pub fn is_group_d(self) -> bool {
        self.group == 'D'
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.group, self.number)
    }
}
