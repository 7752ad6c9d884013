//! The rating of a closed case (Designers Italia, Modello Comuni C.SE.1.7): "how easy was it to
//! use this service?" on 1–5 stars; below 4, where the difficulties were, from 4 up, what was
//! liked, each from five fixed answers ending in "other", with a few words more if wanted.

use crate::{ParseError, Why};

/// The fixed answers below 4 stars (keys; the words are in the interface's strings).
pub const DIFFICULTIES: &[&str] = &["unclear", "incomplete", "unsure", "technical", "other"];
/// The fixed answers from 4 stars.
pub const LIKED: &[&str] = &["clear", "complete", "sure", "smooth", "other"];
/// The longest free text.
pub const DETAILS_MAX: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub stars: u8,
    pub answer: String,
    pub details: String,
}

impl Rating {
    /// The answers that fit `stars`.
    pub fn answers_for(stars: u8) -> &'static [&'static str] {
        if stars < 4 { DIFFICULTIES } else { LIKED }
    }

    /// Stars 1–5 and an answer of the list that fits them; details at most 200 characters. The
    /// error names the field at fault (`stars`, `answer`, `details`).
    pub fn parse(
        stars: &str,
        answer: &str,
        details: &str,
    ) -> Result<Self, (&'static str, ParseError)> {
        let s: u8 = stars
            .trim()
            .parse()
            .ok()
            .filter(|s| (1..=5).contains(s))
            .ok_or_else(|| ("stars", ParseError::new(Why::NotOneOf, "stars", "1 to 5")))?;
        let answer = answer.trim();
        if !Self::answers_for(s).contains(&answer) {
            return Err((
                "answer",
                ParseError::new(Why::Required, "answer", "one of the answers").arg(answer),
            ));
        }
        let details = details.trim();
        if details
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err((
                "details",
                ParseError::new(Why::Malformed, "details", "control characters"),
            ));
        }
        if details.chars().count() > DETAILS_MAX {
            return Err((
                "details",
                ParseError::new(Why::TooLong, "details", "too long").arg(DETAILS_MAX.to_string()),
            ));
        }
        Ok(Self {
            stars: s,
            answer: answer.to_owned(),
            details: details.to_owned(),
        })
    }
}

#[cfg(test)]
#[path = "tests/rating.rs"]
mod tests;
