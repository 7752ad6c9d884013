use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{ParseError, Why};

/// The database id of a commune (tenant). Only the store hands these out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TenantId(pub i64);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A stable public identifier: 1–80 characters of `a-z`, `0-9` and single inner dashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Slug(String);

impl Slug {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if s.is_empty() || s.len() > 80 {
            return Err(ParseError::new(
                Why::SlugInvalid,
                "identifier",
                "must be 1 to 80 characters long",
            ));
        }
        if !ok_chars || s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return Err(ParseError::new(
                Why::SlugInvalid,
                "identifier",
                format!("{s:?} may only hold a-z, 0-9 and single inner dashes"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Slug::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ISTAT's six-digit code of a commune (province code + progressive number), e.g. `050026` for Pisa.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct IstatCode(String);

impl IstatCode {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new(
                Why::IstatInvalid,
                "ISTAT code",
                format!("{s:?} is not six digits"),
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for IstatCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IstatCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for IstatCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The cadastral (Belfiore) code of a commune: a letter and three digits, e.g. `G702` for Pisa.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CadastralCode(String);

impl CadastralCode {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() == 4 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit) {
            Ok(Self(s))
        } else {
            Err(ParseError::new(
                Why::CadastralInvalid,
                "cadastral code",
                format!("{s:?} is not a letter and three digits"),
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A host name as the tenant registry knows it: lower case, no port, no trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Host(String);

impl Host {
    /// Parses the value of a `Host` header (or a configured host name): case and a port are
    /// folded away, as is the trailing dot of a fully qualified name.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let raw = raw.trim();
        let without_port = match raw.rsplit_once(':') {
            Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
            Some(_) => {
                return Err(ParseError::new(
                    Why::HostInvalid,
                    "host",
                    format!("{raw:?} is not a host name"),
                )
                .arg(raw));
            }
            None => raw,
        };
        let h = without_port.strip_suffix('.').unwrap_or(without_port);
        let h = h.to_ascii_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if h.is_empty() || h.len() > 253 || !h.split('.').all(label_ok) {
            return Err(ParseError::new(
                Why::HostInvalid,
                "host",
                format!("{raw:?} is not a host name"),
            )
            .arg(raw));
        }
        Ok(Self(h))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Host {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Host::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[path = "tests/ids.rs"]
mod tests;
