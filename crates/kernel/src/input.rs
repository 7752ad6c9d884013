//! Text as people type it into a command: trimmed, bounded, blank meaning absent.

use crate::{Error, Result};

/// A required text field, trimmed.
pub fn required(name: &str, v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(Error::Invalid(format!("{name}: required")));
    }
    if v.chars().count() > 2000 {
        return Err(Error::Invalid(format!("{name}: too long")));
    }
    Ok(v.to_owned())
}

/// An optional text field: `None` when blank.
pub fn optional(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}
