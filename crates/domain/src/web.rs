//! [`WebAddress`]: an address on the web a person is sent to (an online service on another
//! site, an accessibility statement): `https://`, a host, no spaces or control characters.

use serde::{Deserialize, Serialize};

use crate::{ParseError, Why};

/// A secure web address, as given (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebAddress(String);

/// The longest address accepted.
const LONGEST: usize = 2000;

impl WebAddress {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        let bad = || {
            ParseError::new(
                Why::AddressNeeded,
                "web address",
                format!("{s:?} is not https://…"),
            )
            .arg(s)
        };
        let rest = s.strip_prefix("https://").ok_or_else(bad)?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty()
            || !host.contains('.')
            // No `user@` before the host (the link would name one site and go to another).
            || host.contains('@')
            || s.contains('\\')
            || s.len() > LONGEST
            || s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<')
        {
            return Err(bad());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host, to name the site a link leads to ("www.prenotazionicie.interno.it").
    pub fn host(&self) -> &str {
        self.0["https://".len()..]
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("")
    }
}

impl TryFrom<String> for WebAddress {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}

impl From<WebAddress> for String {
    fn from(w: WebAddress) -> String {
        w.0
    }
}

#[cfg(test)]
#[path = "tests/web.rs"]
mod tests;
