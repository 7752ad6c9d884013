//! How a commune writes its protocol numbers. The number itself is the register's (year and
//! number, gap-free); the commune chooses only the text around it: `{anno}/{numero:7}` (the
//! default, `2026/0000123`), `{numero:8}/{anno}`, `Prot. {anno}-{numero:7}`.

use crate::{ParseError, ProtocolNumber, Why};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Year,
    /// The number with at least this many digits (zeros in front).
    Number(usize),
}

/// A piece of a [`ProtocolFormat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Fixed text: letters, digits, spaces and `. / - _` only.
    Text(&'a str),
    Year,
    /// The number with at least this many digits (zeros in front).
    Number(usize),
}

/// A commune's way of writing protocol numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolFormat {
    parts: Vec<Part>,
}

/// The format every commune has until it chooses another.
pub const DEFAULT_PROTOCOL_FORMAT: &str = "{anno}/{numero:7}";

impl Default for ProtocolFormat {
    fn default() -> Self {
        Self {
            parts: vec![Part::Year, Part::Text("/".into()), Part::Number(7)],
        }
    }
}

impl ProtocolFormat {
    /// A format as an administrator writes it: `{anno}` once, `{numero}` or `{numero:N}` once
    /// (N from 7 to 12: the register needs at least seven digits), fixed text between them of
    /// letters, digits, spaces and `. / - _` (at most 40 characters in all). The year and the
    /// number must be apart, or a reader could not tell where one ends. Empty: the default.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let t = s.trim();
        if t.is_empty() {
            return Ok(Self::default());
        }
        let bad = |why: &str| {
            ParseError::new(Why::ProtocolFormat, "protocol format", why.to_owned()).arg(t)
        };
        if t.chars().count() > 40 {
            return Err(bad("longer than 40 characters"));
        }
        let mut parts = vec![];
        let mut rest = t;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let (name, tail) = after.split_once('}').ok_or_else(|| bad("an open brace"))?;
                let part = match name.split_once(':') {
                    None if name == "anno" => Part::Year,
                    None if name == "numero" => Part::Number(7),
                    Some(("numero", n)) => {
                        let n: usize = n.parse().map_err(|_| bad("digits not a number"))?;
                        if !(7..=12).contains(&n) {
                            return Err(bad("digits outside 7..=12"));
                        }
                        Part::Number(n)
                    }
                    _ => return Err(bad("an unknown placeholder")),
                };
                parts.push(part);
                rest = tail;
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let text = &rest[..end];
                if !text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " ./-_".contains(c))
                {
                    return Err(bad("a character outside letters, digits, space . / - _"));
                }
                parts.push(Part::Text(text.to_owned()));
                rest = &rest[end..];
            }
        }
        let years = parts.iter().filter(|p| **p == Part::Year).count();
        let numbers = parts
            .iter()
            .filter(|p| matches!(p, Part::Number(_)))
            .count();
        if years != 1 || numbers != 1 {
            return Err(bad("not one {anno} and one {numero}"));
        }
        // Between the year and the number (either order) some text that is not only digits.
        let i = parts.iter().position(|p| *p == Part::Year).unwrap_or(0);
        let j = parts
            .iter()
            .position(|p| matches!(p, Part::Number(_)))
            .unwrap_or(0);
        let (a, b) = (i.min(j), i.max(j));
        let apart = parts[a + 1..b].iter().any(|p| match p {
            Part::Text(x) => x.chars().any(|c| !c.is_ascii_digit()),
            _ => false,
        });
        if !apart {
            return Err(bad("the year and the number touch"));
        }
        // Text right after the number must not begin with a digit: a reader could not tell
        // where the number ends.
        if let Some(Part::Text(t)) = parts.get(j + 1)
            && t.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(bad("a digit right after the number"));
        }
        Ok(Self { parts })
    }

    /// The number written in this format.
    pub fn write(&self, p: ProtocolNumber) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Year => out.push_str(&p.year.to_string()),
                Part::Number(n) => out.push_str(&format!("{:0width$}", p.number, width = *n)),
            }
        }
        out
    }

    /// The pieces of the format in order, for a writer outside Rust (the store writes the number
    /// in the statement that takes it).
    pub fn pieces(&self) -> impl Iterator<Item = Piece<'_>> {
        self.parts.iter().map(|p| match p {
            Part::Text(t) => Piece::Text(t),
            Part::Year => Piece::Year,
            Part::Number(n) => Piece::Number(*n),
        })
    }

    /// The key a written number is found by, whatever format wrote it: no spaces, upper case.
    pub fn key(text: &str) -> String {
        text.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase()
    }

    /// A number as a person types it: in this format (spaces and letter case aside), or as
    /// `year/number`.
    pub fn read(&self, s: &str) -> Result<ProtocolNumber, ParseError> {
        self.read_own(s)
            .map_or_else(|| ProtocolNumber::parse(s), Ok)
    }

    fn read_own(&self, s: &str) -> Option<ProtocolNumber> {
        let typed: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let mut rest = typed.as_str();
        let (mut year, mut number) = (None, None);
        for part in &self.parts {
            match part {
                Part::Text(t) => {
                    let t: String = t
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect::<String>()
                        .to_ascii_lowercase();
                    rest = rest.strip_prefix(t.as_str())?;
                }
                Part::Year => {
                    let d = rest
                        .get(..4)
                        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
                    year = d.parse::<i32>().ok();
                    rest = &rest[4..];
                }
                Part::Number(_) => {
                    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
                    if n == 0 || n > 12 {
                        return None;
                    }
                    number = rest[..n].parse::<i64>().ok();
                    rest = &rest[n..];
                }
            }
        }
        let p = ProtocolNumber {
            year: year?,
            number: number?,
        };
        (rest.is_empty() && (2000..=9999).contains(&p.year) && p.number >= 1).then_some(p)
    }
}

#[cfg(test)]
#[path = "tests/protocol_format.rs"]
mod tests;
