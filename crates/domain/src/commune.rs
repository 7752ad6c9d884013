use serde::{Deserialize, Serialize};

use crate::{ParseError, Why};

/// Whether a commune's portal is served: to everyone (`Active`), to nobody (`Suspended`), or
/// only in its console while it is prepared (`Draft`, a commune just onboarded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CommuneStatus {
    #[default]
    Active,
    Suspended,
    Draft,
}

impl CommuneStatus {
    pub fn key(self) -> &'static str {
        match self {
            CommuneStatus::Active => "active",
            CommuneStatus::Suspended => "suspended",
            CommuneStatus::Draft => "draft",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            "draft" => Ok(Self::Draft),
            o => Err(ParseError::new(
                Why::NotOneOf,
                "status",
                format!("{o:?} is not active, suspended or draft"),
            )),
        }
    }
}

/// A language a commune may use. The portal's own texts exist in Italian and English; the
/// others are there for communes' names and contents (bilingual regions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    It,
    En,
    De,
    Fr,
    Sl,
}

impl Language {
    pub fn key(self) -> &'static str {
        match self {
            Language::It => "it",
            Language::En => "en",
            Language::De => "de",
            Language::Fr => "fr",
            Language::Sl => "sl",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "it" => Ok(Self::It),
            "en" => Ok(Self::En),
            "de" => Ok(Self::De),
            "fr" => Ok(Self::Fr),
            "sl" => Ok(Self::Sl),
            o => Err(ParseError::new(
                Why::NotOneOf,
                "language",
                format!("{o:?} is not it, en, de, fr or sl"),
            )),
        }
    }
    /// The language the portal's interface is shown in for this content language.
    pub fn ui(self) -> Language {
        match self {
            Language::En => Language::En,
            _ => Language::It,
        }
    }
}

/// The language official beside Italian in a province, in which the portal carries the charter's
/// contents too: German in the province of Bolzano/Bozen, where public administrations speak to
/// the public in both languages (Statute of Autonomy art. 99–100, DPR 574/1988). Elsewhere none
/// (the French of Aosta and the Slovenian of the eastern border have no content fields yet).
pub fn co_official_language(province_code: &str) -> Option<Language> {
    (province_code.trim().eq_ignore_ascii_case("BZ")).then_some(Language::De)
}

/// A host-name-safe slug from a commune's name: `Sant'Angelo a Cupolo` → `sant-angelo-a-cupolo`,
/// `Bolzano/Bozen` → `bolzano-bozen`. Accented letters lose their accents.
pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for ch in name.chars() {
        let folded = fold_accent(ch);
        for c in folded.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

fn fold_accent(c: char) -> String {
    let s = match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => "a",
        'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' => "a",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'Ò' | 'Ó' | 'Ô' | 'Ö' | 'Õ' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ç' | 'Ç' | 'č' | 'Č' => "c",
        'š' | 'Š' => "s",
        'ž' | 'Ž' => "z",
        'ñ' | 'Ñ' => "n",
        'ß' => "ss",
        other => return other.to_string(),
    };
    s.to_owned()
}

#[cfg(test)]
#[path = "tests/commune.rs"]
mod tests;
