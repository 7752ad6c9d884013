//! The population registry's facts about a person, as parsed from a clerk's form or an import
//! row: every field checked, every mistake named by its field. No storage here: a version of a
//! person's record is these facts over a span of legal days.

pub mod certificate;
pub mod residence;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::payment::parse_day;
use crate::{FiscalCode, ParseError, Sex, Why};

macro_rules! keyed {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $key:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The key it is stored and translated by.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim().to_ascii_lowercase();
                $name::ALL.iter().copied().find(|v| v.key() == s)
            }
        }
    };
}

keyed!(
    /// Whether the person is on the registry now.
    Status { Resident => "resident", Emigrated => "emigrated", Deceased => "deceased" }
);
keyed!(
    /// Marital status (stato civile).
    Marital {
        Single => "single",
        Married => "married",
        Divorced => "divorced",
        Widowed => "widowed",
        CivilUnion => "civil_union",
        UnionDissolved => "union_dissolved",
    }
);
keyed!(
    /// A member's relation to the head of the family (rapporto con l'intestatario).
    Relation {
        Head => "head",
        Spouse => "spouse",
        CivilPartner => "civil_partner",
        Child => "child",
        Parent => "parent",
        Sibling => "sibling",
        Grandchild => "grandchild",
        Relative => "relative",
        Cohabitant => "cohabitant",
    }
);
keyed!(
    /// The kind of identity document.
    DocKind {
        IdentityCard => "identity_card",
        PaperIdentityCard => "paper_identity_card",
        Passport => "passport",
        DrivingLicence => "driving_licence",
    }
);

/// An identity document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    pub kind: DocKind,
    pub number: String,
    pub expires: NaiveDate,
}

/// Everything the registry says about a person at one time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub status: Status,
    pub last_name: String,
    pub first_name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    /// Cadastral code of the commune of birth, or `Z…` for a foreign state.
    pub birth_place: String,
    /// As printed: "PISA (PI)", "ROMANIA".
    pub birth_place_name: String,
    /// ISO 3166 alpha-3 (`ITA`).
    pub citizenship: String,
    pub marital: Marital,
    pub document: Option<Document>,
    /// On the commune's electoral list.
    pub voter: bool,
    /// The family (household sheet) the person belongs to, and their relation to its head.
    pub family: i64,
    pub relation: Relation,
    /// The commune's street code, the house number and interior ("" when none).
    pub street: String,
    pub number: String,
    pub interior: String,
}

/// The facts as typed or imported, unparsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawFacts {
    pub status: String,
    pub last_name: String,
    pub first_name: String,
    pub sex: String,
    pub birth_date: String,
    pub birth_place: String,
    pub birth_place_name: String,
    pub citizenship: String,
    pub marital: String,
    pub doc_kind: String,
    pub doc_number: String,
    pub doc_expires: String,
    pub voter: String,
    pub family: String,
    pub relation: String,
    pub street: String,
    pub number: String,
    pub interior: String,
}

/// Names, places: up to this many characters.
pub const NAME_MAX: usize = 80;

fn text(s: &str, what: &'static str, max: usize, required: bool) -> Result<String, ParseError> {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() && required {
        return Err(ParseError::new(Why::Required, what, "empty"));
    }
    if t.chars().count() > max {
        return Err(ParseError::new(Why::TooLong, what, "too long").arg(max.to_string()));
    }
    if t.chars().any(|c| c.is_control() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')) {
        return Err(ParseError::new(Why::Malformed, what, "control character"));
    }
    Ok(t)
}

fn one_of<T>(
    s: &str,
    what: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, ParseError> {
    if s.trim().is_empty() {
        return Err(ParseError::new(Why::Required, what, "empty"));
    }
    parse(s).ok_or_else(|| ParseError::new(Why::NotOneOf, what, "unknown").arg(s.trim()))
}

/// A code of letters and digits (street codes, house numbers, documents).
fn code(s: &str, what: &'static str, max: usize, required: bool) -> Result<String, ParseError> {
    let t = text(s, what, max, required)?;
    if !t
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " -/".contains(c))
    {
        return Err(ParseError::new(Why::PatternMismatch, what, "letters, digits, - /").arg(t));
    }
    Ok(t.to_ascii_uppercase())
}

fn sex(s: &str) -> Option<Sex> {
    match s.trim().to_ascii_uppercase().as_str() {
        "M" | "MALE" => Some(Sex::Male),
        "F" | "FEMALE" => Some(Sex::Female),
        _ => None,
    }
}

fn yes_no(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "s" | "si" | "sì" | "y" | "yes" | "1" | "true" => Some(true),
        "n" | "no" | "0" | "false" => Some(false),
        _ => None,
    }
}

impl Facts {
    /// Parses every field; gives each refused field by name (`last_name`, `birth_date`, …).
    pub fn parse(raw: &RawFacts) -> Result<Facts, Vec<(&'static str, ParseError)>> {
        let mut errs: Vec<(&'static str, ParseError)> = vec![];
        macro_rules! take {
            ($field:literal, $e:expr) => {
                match $e {
                    Ok(v) => Some(v),
                    Err(e) => {
                        errs.push(($field, e));
                        None
                    }
                }
            };
        }
        let status = if raw.status.trim().is_empty() {
            Some(Status::Resident)
        } else {
            take!("status", one_of(&raw.status, "status", Status::parse))
        };
        let last_name = take!(
            "last_name",
            text(&raw.last_name, "last name", NAME_MAX, true)
        );
        let first_name = take!(
            "first_name",
            text(&raw.first_name, "first name", NAME_MAX, true)
        );
        let sex = take!("sex", one_of(&raw.sex, "sex", sex));
        let birth_date = take!(
            "birth_date",
            parse_day(&raw.birth_date).and_then(|d| if d.year() < 1880 {
                Err(
                    ParseError::new(Why::DateInvalid, "birth date", "before 1880")
                        .arg(raw.birth_date.trim()),
                )
            } else {
                Ok(d)
            })
        );
        let birth_place = take!(
            "birth_place",
            code(&raw.birth_place, "birth place", 4, true).and_then(|c| {
                let b = c.as_bytes();
                if b.len() == 4
                    && b[0].is_ascii_uppercase()
                    && b[1..].iter().all(u8::is_ascii_digit)
                {
                    Ok(c)
                } else {
                    Err(
                        ParseError::new(Why::CadastralInvalid, "birth place", "a cadastral code")
                            .arg(c),
                    )
                }
            })
        );
        let birth_place_name = take!(
            "birth_place_name",
            text(&raw.birth_place_name, "birth place name", NAME_MAX, true)
        );
        let citizenship = take!(
            "citizenship",
            code(&raw.citizenship, "citizenship", 3, true).and_then(|c| {
                if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
                    Ok(c)
                } else {
                    Err(
                        ParseError::new(Why::PatternMismatch, "citizenship", "ISO 3166 alpha-3")
                            .arg(c),
                    )
                }
            })
        );
        let marital = take!(
            "marital",
            one_of(&raw.marital, "marital status", Marital::parse)
        );
        let document = if [&raw.doc_kind, &raw.doc_number, &raw.doc_expires]
            .iter()
            .all(|s| s.trim().is_empty())
        {
            Some(None)
        } else {
            let kind = take!(
                "doc_kind",
                one_of(&raw.doc_kind, "document kind", DocKind::parse)
            );
            let number = take!(
                "doc_number",
                code(&raw.doc_number, "document number", 20, true)
            );
            let expires = take!("doc_expires", parse_day(&raw.doc_expires));
            match (kind, number, expires) {
                (Some(kind), Some(number), Some(expires)) => Some(Some(Document {
                    kind,
                    number,
                    expires,
                })),
                _ => None,
            }
        };
        let voter = if raw.voter.trim().is_empty() {
            Some(false)
        } else {
            take!("voter", one_of(&raw.voter, "voter", yes_no))
        };
        let family = take!(
            "family",
            one_of(&raw.family, "family", |s| s
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0 && *n < 1_000_000_000_000))
        );
        let relation = take!(
            "relation",
            one_of(&raw.relation, "relation", Relation::parse)
        );
        let street = take!("street", code(&raw.street, "street", 20, true));
        let number = take!("number", code(&raw.number, "house number", 10, true));
        let interior = take!("interior", code(&raw.interior, "interior", 10, false));
        let birth_date = match birth_date {
            Some(bd) if bd > chrono::Utc::now().date_naive() => {
                errs.push((
                    "birth_date",
                    ParseError::new(Why::DateInvalid, "birth date", "in the future")
                        .arg(bd.to_string()),
                ));
                None
            }
            other => other,
        };
        match (
            status,
            last_name,
            first_name,
            sex,
            birth_date,
            birth_place,
            birth_place_name,
            citizenship,
            marital,
            document,
            voter,
            family,
            relation,
            street,
            number,
            interior,
        ) {
            (
                Some(status),
                Some(last_name),
                Some(first_name),
                Some(sex),
                Some(birth_date),
                Some(birth_place),
                Some(birth_place_name),
                Some(citizenship),
                Some(marital),
                Some(document),
                Some(voter),
                Some(family),
                Some(relation),
                Some(street),
                Some(number),
                Some(interior),
            ) if errs.is_empty() => Ok(Facts {
                status,
                last_name: last_name.to_uppercase(),
                first_name: first_name.to_uppercase(),
                sex,
                birth_date,
                birth_place,
                birth_place_name: birth_place_name.to_uppercase(),
                citizenship,
                marital,
                document,
                voter,
                family,
                relation,
                street,
                number,
                interior,
            }),
            _ => Err(errs),
        }
    }

    /// Whether a fiscal code agrees with these facts (sex, day, month and year of birth, place).
    pub fn matches(&self, code: &FiscalCode) -> bool {
        code.sex() == self.sex
            && code.birth_day() == self.birth_date.day()
            && code.birth_month() == self.birth_date.month()
            && code.birth_year_2() == self.birth_date.year().rem_euclid(100) as u32
            && code.birthplace() == self.birth_place
    }

    /// The person's name as printed: "ROSSI MARIO".
    pub fn name(&self) -> String {
        format!("{} {}", self.last_name, self.first_name)
    }

    /// Back to raw text (the form shown to correct them, the import's comparison).
    pub fn raw(&self) -> RawFacts {
        RawFacts {
            status: self.status.key().into(),
            last_name: self.last_name.clone(),
            first_name: self.first_name.clone(),
            sex: if self.sex == Sex::Female { "F" } else { "M" }.into(),
            birth_date: self.birth_date.to_string(),
            birth_place: self.birth_place.clone(),
            birth_place_name: self.birth_place_name.clone(),
            citizenship: self.citizenship.clone(),
            marital: self.marital.key().into(),
            doc_kind: self
                .document
                .as_ref()
                .map(|d| d.kind.key().to_owned())
                .unwrap_or_default(),
            doc_number: self
                .document
                .as_ref()
                .map(|d| d.number.clone())
                .unwrap_or_default(),
            doc_expires: self
                .document
                .as_ref()
                .map(|d| d.expires.to_string())
                .unwrap_or_default(),
            voter: if self.voter { "S" } else { "N" }.into(),
            family: self.family.to_string(),
            relation: self.relation.key().into(),
            street: self.street.clone(),
            number: self.number.clone(),
            interior: self.interior.clone(),
        }
    }
}

/// The Italian adjective of a citizenship ("italiana"), for the commonest; else the code.
pub fn citizenship_name(code: &str) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("ITA", "italiana"),
        ("ROU", "rumena"),
        ("ALB", "albanese"),
        ("MAR", "marocchina"),
        ("CHN", "cinese"),
        ("UKR", "ucraina"),
        ("IND", "indiana"),
        ("PHL", "filippina"),
        ("BGD", "bengalese"),
        ("EGY", "egiziana"),
        ("PAK", "pakistana"),
        ("MDA", "moldava"),
        ("SEN", "senegalese"),
        ("DEU", "tedesca"),
        ("FRA", "francese"),
        ("ESP", "spagnola"),
        ("AUT", "austriaca"),
        ("POL", "polacca"),
        ("PER", "peruviana"),
        ("BRA", "brasiliana"),
    ];
    NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.to_owned(), |(_, n)| (*n).to_owned())
}

#[cfg(test)]
#[path = "../tests/registry.rs"]
mod tests;
