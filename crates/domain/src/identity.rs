//! Identity vocabulary: how identity providers express assurance levels, what a valid e-mail
//! address and an acceptable password are, and how a fiscal code arrives from SPID.

use crate::{AssuranceLevel, FiscalCode, ParseError, Why};

/// The SPID `AuthnContextClassRef` / OIDC `acr` URIs.
pub const SPID_L1: &str = "https://www.spid.gov.it/SpidL1";
pub const SPID_L2: &str = "https://www.spid.gov.it/SpidL2";
pub const SPID_L3: &str = "https://www.spid.gov.it/SpidL3";

impl AssuranceLevel {
    /// The level an identity provider's class reference (SAML) or `acr` (OIDC) stands for.
    /// Unknown references give `None`: the caller refuses the sign-in.
    pub fn from_class_ref(class_ref: &str) -> Option<AssuranceLevel> {
        match class_ref.trim() {
            SPID_L1 => Some(AssuranceLevel::Low),
            SPID_L2 => Some(AssuranceLevel::Substantial),
            SPID_L3 => Some(AssuranceLevel::High),
            _ => None,
        }
    }

    /// The class reference to request for this level (at least Low: SPID has no level 0).
    pub fn class_ref(self) -> &'static str {
        match self {
            AssuranceLevel::None | AssuranceLevel::Low => SPID_L1,
            AssuranceLevel::Substantial => SPID_L2,
            AssuranceLevel::High => SPID_L3,
        }
    }

    /// The number shown to people ("livello 2").
    pub fn number(self) -> u8 {
        match self {
            AssuranceLevel::None => 0,
            AssuranceLevel::Low => 1,
            AssuranceLevel::Substantial => 2,
            AssuranceLevel::High => 3,
        }
    }
}

/// The fiscal code inside SPID's `fiscalNumber` (`TINIT-<code>`) or a bare code, normalised.
pub fn fiscal_code_from_idp(value: &str) -> Result<FiscalCode, ParseError> {
    let v = value.trim();
    let bare = v
        .strip_prefix("TINIT-")
        .or_else(|| v.strip_prefix("tinit-"))
        .unwrap_or(v);
    Ok(FiscalCode::parse(bare)?.normalised())
}

/// An e-mail address: trimmed, lower case, one `@`, a dotted domain, no spaces or controls.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim().to_lowercase();
        let err = |d: &str| ParseError::new(Why::EmailInvalid, "e-mail address", d.to_owned());
        if s.is_empty() {
            return Err(ParseError::new(
                Why::Required,
                "e-mail address",
                "it is empty",
            ));
        }
        if s.len() > 254 {
            return Err(err("it is longer than 254 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("it contains spaces"));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(err("it has no @"));
        };
        if local.is_empty() || domain.contains('@') {
            return Err(err("it must have one @ with something before it"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return Err(err("the part after @ is not a domain name"));
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An Italian or international mobile number in E.164 form (`+393331234567`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobileNumber(String);

impl MobileNumber {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let compact: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let with_prefix = if compact.starts_with('+') {
            compact
        } else if let Some(rest) = compact.strip_prefix("00") {
            format!("+{rest}")
        } else if compact.starts_with('3') {
            format!("+39{compact}")
        } else {
            compact
        };
        let digits = with_prefix.strip_prefix('+').unwrap_or("");
        if digits.len() < 8 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(ParseError::new(
                Why::MobileInvalid,
                "mobile number",
                "use the international form, e.g. +39 333 123 4567",
            ));
        }
        Ok(MobileNumber(with_prefix))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a new password is refused (NIST SP 800-63B: length, not the e-mail, not a known-weak one).
pub fn check_new_password(password: &str, email: &str) -> Result<(), ParseError> {
    let err = |why: Why, d: &str| ParseError::new(why, "password", d.to_owned());
    let n = password.chars().count();
    if n < 12 {
        return Err(err(Why::PasswordShort, "use at least 12 characters"));
    }
    if n > 256 {
        return Err(err(Why::PasswordLong, "use at most 256 characters"));
    }
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if !email.is_empty()
        && (lower == email.to_lowercase() || (local.len() >= 4 && lower.contains(&local)))
    {
        return Err(err(
            Why::PasswordHasEmail,
            "do not use your e-mail address in it",
        ));
    }
    const WEAK: &[&str] = &[
        "123456789012",
        "password1234",
        "passwordpassword",
        "qwertyuiopas",
        "aaaaaaaaaaaa",
        "000000000000",
        "111111111111",
        "iloveyou1234",
        "passw0rd1234",
    ];
    let first = lower.chars().next();
    if WEAK.contains(&lower.as_str()) || lower.chars().all(|c| Some(c) == first) {
        return Err(err(Why::PasswordWeak, "this password is too easy to guess"));
    }
    Ok(())
}

#[cfg(test)]
#[path = "tests/identity.rs"]
mod tests;
