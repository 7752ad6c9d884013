//! A declaration of residence (dichiarazione di residenza, DPR 223/1989 art. 13; DL 5/2012
//! art. 5): where the people come from, the new address, the family they form or join, and who
//! moves. It arrives as the answers of the commune's online form for the service
//! [`SERVICE`]; this parses them, naming every mistake by its field (and line, for the people).
//!
//! The legal days: the registry office registers the declaration within two working days, with
//! effect from the day it was made; the municipal police checks the new dwelling within 45 days,
//! and without a refusal by then the change is accepted (silenzio-assenso).

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::{Marital, Relation};
use crate::hours::is_national_holiday;
use crate::{FiscalCode, ParseError, Why};

/// The charter service whose cases are declarations of residence (its form's field ids are the
/// ones read here: `provenienza`, `comune_provenienza`, `stato_provenienza`, `via`, `civico`,
/// `interno`, `famiglia`, `intestatario`, `componenti`).
pub const SERVICE: &str = "cambio-residenza";
/// Working days the office has to register a declaration.
pub const REGISTER_WORKING_DAYS: u32 = 2;
/// Days the police check may take; then the change stands (silenzio-assenso).
pub const CHECK_DAYS: i64 = 45;
/// The most people one declaration moves.
pub const MOVERS_MAX: usize = 20;

/// Where the people come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Another address in this commune.
    SameCommune,
    /// Another Italian commune (its name as declared).
    Commune(String),
    /// Abroad (the state as declared).
    Abroad(String),
}

/// One person who moves, as the declaration lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mover {
    pub code: FiscalCode,
    pub last_name: String,
    pub first_name: String,
    pub relation: Relation,
    /// Needed for someone the registry does not hold yet (ISO 3166 alpha-3).
    pub citizenship: Option<String>,
    pub marital: Option<Marital>,
}

/// A parsed declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    pub origin: Origin,
    /// The street as the citizen wrote it (the office matches it to the street list).
    pub street: String,
    pub number: String,
    pub interior: String,
    /// The head of the family already resident at the address they join; `None`: a new family.
    pub joins: Option<FiscalCode>,
    pub movers: Vec<Mover>,
}

fn text(a: &serde_json::Map<String, serde_json::Value>, key: &str) -> String {
    a.get(key)
        .and_then(|v| v.as_str())
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The relation as a citizen writes it (Italian words, or the registry's keys).
pub fn relation_word(s: &str) -> Option<Relation> {
    let s = s.trim().to_lowercase();
    let r = match s.as_str() {
        "intestatario" | "intestataria" => Relation::Head,
        "coniuge" | "moglie" | "marito" => Relation::Spouse,
        "unito civilmente" | "unita civilmente" => Relation::CivilPartner,
        "figlio" | "figlia" => Relation::Child,
        "genitore" | "padre" | "madre" => Relation::Parent,
        "fratello" | "sorella" => Relation::Sibling,
        "nipote" => Relation::Grandchild,
        "parente" => Relation::Relative,
        "convivente" => Relation::Cohabitant,
        other => return Relation::parse(other),
    };
    Some(r)
}

/// Marital status as a citizen writes it (Italian words, or the registry's keys).
pub fn marital_word(s: &str) -> Option<Marital> {
    let s = s.trim().to_lowercase();
    let m = match s.as_str() {
        "celibe" | "nubile" | "celibe/nubile" => Marital::Single,
        "coniugato" | "coniugata" => Marital::Married,
        "divorziato" | "divorziata" => Marital::Divorced,
        "vedovo" | "vedova" => Marital::Widowed,
        "unito civilmente" | "unita civilmente" => Marital::CivilUnion,
        "unione sciolta" | "unione civile sciolta" => Marital::UnionDissolved,
        other => return Marital::parse(other),
    };
    Some(m)
}

/// One line of `componenti`: `code; last name; first name; relation[; citizenship; marital]`.
fn mover(line: &str) -> Option<Mover> {
    let cols: Vec<&str> = line.split([';', ',', '\t']).map(str::trim).collect();
    if !(cols.len() == 4 || cols.len() == 6) {
        return None;
    }
    let code = FiscalCode::parse(cols[0]).ok()?;
    let name =
        |s: &str| (!s.is_empty() && s.chars().count() <= super::NAME_MAX).then(|| s.to_uppercase());
    let (citizenship, marital) = if cols.len() == 6 {
        let c = cols[4].to_uppercase();
        if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
            return None;
        }
        (Some(c), Some(marital_word(cols[5])?))
    } else {
        (None, None)
    };
    Some(Mover {
        code,
        last_name: name(cols[1])?,
        first_name: name(cols[2])?,
        relation: relation_word(cols[3])?,
        citizenship,
        marital,
    })
}

/// The people of `componenti`, one a line, checked: each line well made (else `MoverLine`
/// with its number), nobody twice, at most [`MOVERS_MAX`], and exactly one head for a new
/// family or none for people joining one (`FamilyHead`).
pub fn movers(text: &str, joining: bool) -> Result<Vec<Mover>, (Why, String)> {
    let mut out: Vec<Mover> = vec![];
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let m = mover(line).ok_or((Why::MoverLine, (i + 1).to_string()))?;
        if out
            .iter()
            .any(|o| o.code.normalised() == m.code.normalised())
        {
            return Err((Why::MoverTwice, (i + 1).to_string()));
        }
        out.push(m);
    }
    if out.is_empty() {
        return Err((Why::Required, String::new()));
    }
    if out.len() > MOVERS_MAX {
        return Err((Why::OutOfRange, MOVERS_MAX.to_string()));
    }
    let heads = out.iter().filter(|m| m.relation == Relation::Head).count();
    if heads != usize::from(!joining) {
        return Err((Why::FamilyHead, heads.to_string()));
    }
    Ok(out)
}

impl Declaration {
    /// Parses a case's answers. Errors: `(field, error)`; a person's line is named
    /// `componenti:<line>`.
    pub fn parse(
        a: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Declaration, Vec<(String, ParseError)>> {
        let mut errs: Vec<(String, ParseError)> = vec![];
        let required = |k: &str, errs: &mut Vec<(String, ParseError)>| {
            let t = text(a, k);
            if t.is_empty() {
                errs.push((k.into(), ParseError::new(Why::Required, "field", "empty")));
            }
            t
        };
        let origin = match text(a, "provenienza").as_str() {
            "stesso_comune" => Origin::SameCommune,
            "altro_comune" => Origin::Commune(required("comune_provenienza", &mut errs)),
            "estero" => Origin::Abroad(required("stato_provenienza", &mut errs)),
            other => {
                errs.push((
                    "provenienza".into(),
                    ParseError::new(Why::NotOneOf, "origin", "a choice").arg(other.to_owned()),
                ));
                Origin::SameCommune
            }
        };
        let street = required("via", &mut errs);
        let number = required("civico", &mut errs);
        let interior = text(a, "interno");
        let joins = match text(a, "famiglia").as_str() {
            "nuova" => None,
            "esistente" => match FiscalCode::parse(&text(a, "intestatario")) {
                Ok(c) => Some(c),
                Err(e) => {
                    errs.push(("intestatario".into(), e));
                    None
                }
            },
            other => {
                errs.push((
                    "famiglia".into(),
                    ParseError::new(Why::NotOneOf, "family", "a choice").arg(other.to_owned()),
                ));
                None
            }
        };
        let lines = a
            .get("componenti")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let movers = match movers(lines, text(a, "famiglia") == "esistente") {
            Ok(m) => m,
            Err((why, arg)) => {
                errs.push((
                    "componenti".into(),
                    ParseError::new(why, "movers", "").arg(arg),
                ));
                vec![]
            }
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Declaration {
            origin,
            street,
            number,
            interior,
            joins,
            movers,
        })
    }
}

/// A working day: not Saturday, Sunday or a national holiday.
pub fn is_working_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !is_national_holiday(d)
}

/// The last day to register a declaration made on `filed`.
pub fn register_by(filed: NaiveDate) -> NaiveDate {
    let mut d = filed;
    let mut left = REGISTER_WORKING_DAYS;
    while left > 0 {
        d += Duration::days(1);
        if is_working_day(d) {
            left -= 1;
        }
    }
    d
}

/// The last day of the police check; the day after, silence is acceptance.
pub fn check_by(filed: NaiveDate) -> NaiveDate {
    filed + Duration::days(CHECK_DAYS)
}

/// The birth date a fiscal code says (the century: the latest that is not after `today`).
pub fn birth_date_of(code: &FiscalCode, today: NaiveDate) -> Option<NaiveDate> {
    let yy = i32::try_from(code.birth_year_2()).ok()?;
    let century = today.year() - today.year().rem_euclid(100);
    let (m, d) = (code.birth_month(), code.birth_day());
    let this = NaiveDate::from_ymd_opt(century + yy, m, d);
    match this {
        Some(t) if t <= today => Some(t),
        _ => NaiveDate::from_ymd_opt(century - 100 + yy, m, d),
    }
}
