//! Text as people type it into a command: trimmed, bounded, blank meaning absent.

use crate::{Error, Result, Why};

/// The longest text a one-line or long-text field accepts.
pub const LONGEST: usize = 2000;

/// A required text field, trimmed; `field` is the form field's name.
pub fn required(field: &str, v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(Error::invalid(field, Why::Required));
    }
    if v.chars().count() > LONGEST {
        return Err(Error::invalid_at(field, Why::TooLong, LONGEST.to_string()));
    }
    Ok(v.to_owned())
}

/// An optional text field: `None` when blank.
pub fn optional(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// What a destructive action (deleting an office, removing a person, suspending a commune)
/// asks first: a ticked confirmation and the reason, which goes to the audit log.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Removal {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub confirm: Option<String>,
}

impl Removal {
    /// The reason, once both are given (both are checked, so the form shows both at once).
    pub fn reason(&self) -> Result<String> {
        let mut p = crate::Problems::default();
        let reason = required("reason", &self.reason).map_err(|e| {
            if let Error::Invalid(q) = e {
                p.0.extend(q.0);
            }
        });
        if self.confirm.is_none() {
            p.add("confirm", Why::ConfirmNeeded, "");
        }
        match reason {
            Ok(r) if p.is_empty() => Ok(r),
            _ => Err(Error::Invalid(p)),
        }
    }
}
