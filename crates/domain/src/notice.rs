//! A pagoPA notice number (codice avviso): how a payment notice is known to the citizen, their
//! bank and every payment channel. For a creditor with several collection systems (aux digit
//! 3): eighteen digits, the aux digit, the commune's segregation code (2 digits), the notice's
//! own number (13 digits) and two check digits, the remainder of the first sixteen digits
//! divided by 93. The QR code printed on a notice carries `PAGOPA|002|<notice number>|<the
//! creditor's tax code>|<amount in cents>`.

use std::fmt;

use crate::{Money, ParseError, Why};

/// A notice number with its check digits right.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoticeNumber(String);

const AUX: u64 = 3;
const LOCAL_MAX: u64 = 9_999_999_999_999;

fn check(first16: u64) -> u64 {
    first16 % 93
}

impl NoticeNumber {
    /// The number of the commune's notice `local` (at most thirteen digits) under its
    /// segregation code (0 to 99).
    pub fn new(segregation: u8, local: u64) -> Result<Self, ParseError> {
        if segregation > 99 || local > LOCAL_MAX {
            return Err(ParseError::new(
                Why::NoticeNumberInvalid,
                "notice number",
                format!("segregation {segregation} or number {local} out of range"),
            )
            .arg(local.to_string()));
        }
        let first = AUX * 10u64.pow(15) + u64::from(segregation) * 10u64.pow(13) + local;
        Ok(Self(format!("{first:016}{:02}", check(first))))
    }

    /// A notice number as printed or typed: eighteen digits (spaces between groups allowed),
    /// beginning with 3, the check digits right.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let bad = |why: &str| {
            ParseError::new(Why::NoticeNumberInvalid, "notice number", why.to_owned()).arg(s.trim())
        };
        if digits.len() != 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("not eighteen digits"));
        }
        if !digits.starts_with('3') {
            return Err(bad("not a notice with a segregation code (aux digit 3)"));
        }
        let first: u64 = digits[..16].parse().map_err(|_| bad("not a number"))?;
        let given: u64 = digits[16..].parse().map_err(|_| bad("not a number"))?;
        if check(first) != given {
            return Err(bad("check digits wrong"));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The commune's segregation code.
    pub fn segregation(&self) -> u8 {
        self.0[1..3].parse().unwrap_or_default()
    }

    /// The IUV: the seventeen digits after the aux digit (what the payment's receipt names).
    pub fn iuv(&self) -> &str {
        &self.0[1..]
    }

    /// As printed on a notice: groups of four.
    pub fn grouped(&self) -> String {
        let b = self.0.as_bytes();
        b.chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The text of the notice's QR code, for the creditor with this tax code (eleven digits)
    /// and this amount (more than zero).
    pub fn qr_text(&self, creditor_tax_code: &str, amount: Money) -> Result<String, ParseError> {
        if creditor_tax_code.len() != 11 || !creditor_tax_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(
                Why::NumberInvalid,
                "creditor tax code",
                "not eleven digits".to_owned(),
            )
            .arg(creditor_tax_code));
        }
        if amount.cents() <= 0 {
            return Err(ParseError::new(
                Why::AmountInvalid,
                "amount",
                "not more than zero".to_owned(),
            )
            .arg(amount.cents().to_string()));
        }
        Ok(format!(
            "PAGOPA|002|{}|{creditor_tax_code}|{}",
            self.0,
            amount.cents()
        ))
    }
}

impl fmt::Display for NoticeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[path = "tests/notice.rs"]
mod tests;
