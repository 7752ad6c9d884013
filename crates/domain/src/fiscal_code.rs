//! The Italian fiscal code (codice fiscale) of a person: 16 characters with a check character,
//! in its normal or "omocodia" form (digits replaced by letters to tell homonyms apart).

use std::fmt;

use serde::Serialize;

use crate::{ParseError, Why};

/// Positions (0-based) that hold digits in the normal form and may hold letters under omocodia.
const DIGIT_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];
/// The letters that stand for 0–9 under omocodia.
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
/// Month letters, January to December.
const MONTHS: &[u8; 12] = b"ABCDEHLMPRST";
/// Values of characters in odd positions (1st, 3rd, …) for the check character, for 0–9 then A–Z.
const ODD: [u32; 36] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
    23, // A-Z
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sex {
    Male,
    Female,
}

/// A fiscal code that passed every structural check and its check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FiscalCode(String);

fn index(c: u8) -> Option<usize> {
    match c {
        b'0'..=b'9' => Some((c - b'0') as usize),
        b'A'..=b'Z' => Some((c - b'A') as usize + 10),
        _ => None,
    }
}

/// The check character of the first 15 characters (upper case, alphanumeric).
fn check_char(first15: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (i, &c) in first15.iter().enumerate() {
        let idx = index(c)?;
        sum += if i % 2 == 0 {
            ODD[idx]
        } else if idx < 10 {
            idx as u32
        } else {
            (idx - 10) as u32
        };
    }
    Some(b'A' + (sum % 26) as u8)
}

impl FiscalCode {
    /// Parses a fiscal code: spaces are ignored and case folded; the structure, the month, the
    /// day (1–31, +40 for women) and the check character must be right.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let err = |m: &str| ParseError::new(Why::FiscalCodeInvalid, "fiscal code", m.to_owned());
        let s: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 16 || !b.iter().all(u8::is_ascii_alphanumeric) {
            return Err(err("must be 16 letters and digits"));
        }
        for (i, &c) in b.iter().enumerate() {
            let ok = if i < 6 || i == 8 || i == 11 || i == 15 {
                c.is_ascii_uppercase()
            } else {
                c.is_ascii_digit() || OMOCODIA.contains(&c)
            };
            if !ok {
                return Err(err(&format!(
                    "character {} ({}) is not allowed there",
                    i + 1,
                    c as char
                )));
            }
        }
        if !MONTHS.contains(&b[8]) {
            return Err(err(&format!("{} is not a month letter", b[8] as char)));
        }
        let code = Self(s);
        let day = code.day_code();
        if !(1..=31).contains(&day) && !(41..=71).contains(&day) {
            return Err(err(&format!("day {day} is not a day of birth")));
        }
        if check_char(&code.0.as_bytes()[..15]) != Some(code.0.as_bytes()[15]) {
            return Err(err("the check character does not match"));
        }
        Ok(code)
    }

    /// The fiscal code the rules give a person (no omocodia): three letters of the surname,
    /// three of the name, year, month letter, day (+40 for women), the place's cadastral code
    /// (`Z…` abroad), the check character. `None` when the place is not a cadastral code.
    pub fn compute(
        last_name: &str,
        first_name: &str,
        sex: Sex,
        birth: chrono::NaiveDate,
        place: &str,
    ) -> Option<FiscalCode> {
        use chrono::Datelike;
        let letters = |s: &str| -> (Vec<u8>, Vec<u8>) {
            let up: Vec<u8> = crate::slugify(s)
                .to_ascii_uppercase()
                .bytes()
                .filter(u8::is_ascii_uppercase)
                .collect();
            let vowels = up
                .iter()
                .copied()
                .filter(|c| b"AEIOU".contains(c))
                .collect();
            let cons = up
                .iter()
                .copied()
                .filter(|c| !b"AEIOU".contains(c))
                .collect();
            (cons, vowels)
        };
        let three = |cons: Vec<u8>, vowels: Vec<u8>| -> Vec<u8> {
            let mut out: Vec<u8> = cons.into_iter().chain(vowels).take(3).collect();
            out.resize(3, b'X');
            out
        };
        let (lc, lv) = letters(last_name);
        let (fc, fv) = letters(first_name);
        let first = if fc.len() >= 4 {
            vec![fc[0], fc[2], fc[3]]
        } else {
            three(fc, fv)
        };
        let place = place.trim().to_ascii_uppercase();
        let pb = place.as_bytes();
        if pb.len() != 4 || !pb[0].is_ascii_uppercase() || !pb[1..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let month = *MONTHS.get(birth.month0() as usize)?;
        let day = birth.day() + if sex == Sex::Female { 40 } else { 0 };
        let mut b = three(lc, lv);
        b.extend(first);
        b.extend(format!("{:02}", birth.year().rem_euclid(100)).bytes());
        b.push(month);
        b.extend(format!("{day:02}").bytes());
        b.extend(pb);
        b.push(check_char(&b)?);
        Some(FiscalCode(String::from_utf8_lossy(&b).into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code with omocodia letters turned back into digits (check character recomputed):
    /// the same person has one normalised code, whatever variant they were given.
    pub fn normalised(&self) -> FiscalCode {
        let mut b = self.0.as_bytes().to_vec();
        for &i in &DIGIT_POSITIONS {
            if let Some(d) = OMOCODIA.iter().position(|&l| l == b[i]) {
                b[i] = b'0' + d as u8;
            }
        }
        if let Some(c) = check_char(&b[..15]) {
            b[15] = c;
        }
        FiscalCode(String::from_utf8_lossy(&b).into_owned())
    }

    fn digits(&self, from: usize, to: usize) -> u32 {
        self.normalised().0.as_bytes()[from..to]
            .iter()
            .fold(0, |acc, c| acc * 10 + u32::from(c - b'0'))
    }

    fn day_code(&self) -> u32 {
        self.digits(9, 11)
    }

    /// Day of birth (1–31).
    pub fn birth_day(&self) -> u32 {
        self.day_code() % 40
    }

    /// Month of birth (1–12).
    pub fn birth_month(&self) -> u32 {
        MONTHS
            .iter()
            .position(|&m| m == self.0.as_bytes()[8])
            .map_or(0, |p| p as u32 + 1)
    }

    /// The last two digits of the year of birth (the century is not in the code).
    pub fn birth_year_2(&self) -> u32 {
        self.digits(6, 8)
    }

    pub fn sex(&self) -> Sex {
        if self.day_code() > 40 {
            Sex::Female
        } else {
            Sex::Male
        }
    }

    /// The cadastral code of the place of birth (`Z…` for a foreign country), digits restored.
    pub fn birthplace(&self) -> String {
        self.normalised().0[11..15].to_owned()
    }
}

impl fmt::Display for FiscalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[path = "tests/fiscal_code.rs"]
mod tests;
