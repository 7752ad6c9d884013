//! Answers: what a person typed ([`Raw`], kept as typed in the draft so nothing is lost), checked
//! against a definition into [`Answers`] (normalised values: numbers, cents, ISO dates, the
//! fiscal code in capitals), with a [`FieldProblem`] for every field refused.

use chrono::{Duration, NaiveDate};
use serde_json::Value;

use super::{Field, FormDef, Kind};
use crate::{Email, FiscalCode, Money, Why};

/// What a person typed, field by field (several values for a multiple choice; file fields hold
/// the ids of the files uploaded for them).
pub type Raw = std::collections::BTreeMap<String, Vec<String>>;
/// Checked answers, field by field (only fields shown and given).
pub type Answers = serde_json::Map<String, Value>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The page (index) the field is on.
    pub page: usize,
    pub field: String,
    pub why: Why,
    pub arg: String,
}

/// Checks one page against the answers of the pages before it (for its conditions). Gives the
/// page's answers, or every problem on it.
pub fn validate_page(
    def: &FormDef,
    page: usize,
    raw: &Raw,
    prior: &Answers,
    today: NaiveDate,
) -> Result<Answers, Vec<FieldProblem>> {
    let Some(p) = def.pages.get(page) else {
        return Ok(Answers::new());
    };
    let mut seen = prior.clone();
    let mut out = Answers::new();
    let mut problems = vec![];
    for f in &p.fields {
        if f.show_if.as_ref().is_some_and(|c| !c.holds(&seen)) {
            continue;
        }
        let values = raw.get(&f.id).map(Vec::as_slice).unwrap_or_default();
        match check(f, values, today).and_then(|v| structured(f, v, &seen)) {
            Ok(Some(v)) => {
                seen.insert(f.id.clone(), v.clone());
                out.insert(f.id.clone(), v);
            }
            Ok(None) => {}
            Err((why, arg)) => problems.push(FieldProblem {
                page,
                field: f.id.clone(),
                why,
                arg,
            }),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A field's structured check, when its form asks for one.
fn structured(f: &Field, v: Option<Value>, seen: &Answers) -> Result<Option<Value>, (Why, String)> {
    match (f.check, &v) {
        (Some(super::Check::ResidenceMovers), Some(Value::String(text))) => {
            let joining = seen.get("famiglia").and_then(Value::as_str) == Some("esistente");
            crate::registry::residence::movers(text, joining)?;
            Ok(v)
        }
        _ => Ok(v),
    }
}

/// Whether a page shows, given the answers of the pages before it.
pub fn page_shown(def: &FormDef, page: usize, prior: &Answers) -> bool {
    def.pages
        .get(page)
        .is_some_and(|p| p.show_if.as_ref().is_none_or(|c| c.holds(prior)))
}

/// Checks the whole form, page by page in order, skipping pages whose condition does not hold.
pub fn validate_all(
    def: &FormDef,
    raw: &Raw,
    today: NaiveDate,
) -> Result<Answers, Vec<FieldProblem>> {
    let mut answers = Answers::new();
    let mut problems = vec![];
    for i in 0..def.pages.len() {
        if !page_shown(def, i, &answers) {
            continue;
        }
        match validate_page(def, i, raw, &answers, today) {
            Ok(a) => answers.extend(a),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        Ok(answers)
    } else {
        Err(problems)
    }
}

type Refusal = (Why, String);

fn check(f: &Field, values: &[String], today: NaiveDate) -> Result<Option<Value>, Refusal> {
    let first = values.first().map_or("", |s| s.trim());
    let blank = match f.kind {
        Kind::MultiChoice | Kind::File => values.iter().all(|v| v.trim().is_empty()),
        Kind::Checkbox => !matches!(first, "on" | "true" | "1" | "yes"),
        _ => first.is_empty(),
    };
    if blank {
        return if f.required {
            Err((Why::Required, String::new()))
        } else {
            Ok(None)
        };
    }
    let v = match f.kind {
        Kind::Text | Kind::LongText => Value::String(text(f, first)?),
        Kind::Number => {
            let n = whole_number(first).ok_or((Why::NumberInvalid, first.to_owned()))?;
            range(f, n)?;
            Value::from(n)
        }
        Kind::Money => {
            let m = Money::parse(first).map_err(|e| (e.why, e.arg))?;
            range(f, m.cents())?;
            Value::from(m.cents())
        }
        Kind::Date => {
            let d = parse_date(first).ok_or((Why::DateInvalid, first.to_owned()))?;
            if let Some(b) = f.after.as_deref().and_then(|b| DateBound::parse(b).ok()) {
                let min = b.on(today);
                if d < min {
                    return Err((Why::DateTooEarly, min.format("%d/%m/%Y").to_string()));
                }
            }
            if let Some(b) = f.before.as_deref().and_then(|b| DateBound::parse(b).ok()) {
                let max = b.on(today);
                if d > max {
                    return Err((Why::DateTooLate, max.format("%d/%m/%Y").to_string()));
                }
            }
            Value::String(d.format("%Y-%m-%d").to_string())
        }
        Kind::Choice => {
            if !f.options.iter().any(|o| o.value == first) {
                return Err((Why::NotOneOf, first.to_owned()));
            }
            Value::String(first.to_owned())
        }
        Kind::MultiChoice => {
            let mut picked: Vec<Value> = vec![];
            for o in &f.options {
                if values.iter().any(|v| v.trim() == o.value) {
                    picked.push(Value::String(o.value.clone()));
                }
            }
            if let Some(bad) = values
                .iter()
                .map(|v| v.trim())
                .find(|v| !v.is_empty() && !f.options.iter().any(|o| o.value == *v))
            {
                return Err((Why::NotOneOf, bad.to_owned()));
            }
            Value::Array(picked)
        }
        Kind::Checkbox => Value::Bool(true),
        Kind::Email => Value::String(
            Email::parse(first)
                .map_err(|e| (e.why, first.to_owned()))?
                .as_str()
                .to_owned(),
        ),
        Kind::Phone => {
            let p: String = first
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '.' | '/'))
                .collect();
            let digits = p.strip_prefix('+').unwrap_or(&p);
            if !(6..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err((Why::PhoneInvalid, first.to_owned()));
            }
            pattern(f, &p)?;
            Value::String(p)
        }
        Kind::FiscalCode => Value::String(
            FiscalCode::parse(first)
                .map_err(|e| (e.why, first.to_owned()))?
                .to_string(),
        ),
        Kind::Iban => Value::String(iban(first)?),
        Kind::Address => {
            let a = text(f, first)?;
            let has_number = a.chars().any(|c| c.is_ascii_digit())
                || a.to_lowercase().split_whitespace().any(|w| w == "snc");
            if a.chars().filter(|c| c.is_alphabetic()).count() < 3 || !has_number {
                return Err((Why::AddressInvalid, a));
            }
            Value::String(a)
        }
        Kind::File => {
            let ids: Vec<Value> = values
                .iter()
                .filter(|v| !v.trim().is_empty())
                .map(|v| Value::String(v.trim().to_owned()))
                .collect();
            let max = f.max_files.unwrap_or(1);
            if ids.len() > max as usize {
                return Err((Why::TooManyFiles, max.to_string()));
            }
            Value::Array(ids)
        }
    };
    Ok(Some(v))
}

/// A whole number as typed: `1234`, `1.234`, `1 234`, `-5` (dots only between groups of three:
/// `1.5` is no whole number, not fifteen).
fn whole_number(s: &str) -> Option<i64> {
    let s: String = s.chars().filter(|c| *c != ' ').collect();
    let (sign, digits) = s.strip_prefix('-').map_or((1, s.as_str()), |d| (-1, d));
    let groups: Vec<&str> = digits.split('.').collect();
    let grouped = groups.len() == 1
        || (matches!(groups[0].len(), 1..=3) && groups[1..].iter().all(|g| g.len() == 3));
    if !grouped || digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    groups.concat().parse::<i64>().ok().map(|n| n * sign)
}

fn text(f: &Field, s: &str) -> Result<String, Refusal> {
    // One line for a text; a long text keeps its lines (CR LF folded).
    let s = if f.kind == Kind::LongText {
        s.replace("\r\n", "\n")
    } else {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let n = s.chars().count() as u32;
    if n > f.max_chars() {
        return Err((Why::TooLong, f.max_chars().to_string()));
    }
    if let Some(min) = f.min_len
        && n < min
    {
        return Err((Why::TooShort, min.to_string()));
    }
    pattern(f, &s)?;
    Ok(s)
}

fn pattern(f: &Field, s: &str) -> Result<(), Refusal> {
    if let Some(p) = &f.pattern {
        // Checked when the definition was stored; a pattern that no longer compiles refuses.
        let ok = compile(p).is_ok_and(|re| re.is_match(s));
        if !ok {
            return Err((Why::PatternMismatch, s.to_owned()));
        }
    }
    Ok(())
}

/// Compiles a form's pattern, anchored to the whole answer and bounded in size.
pub(crate) fn compile(p: &str) -> Result<regex::Regex, String> {
    if p.len() > 200 {
        return Err("a pattern has at most 200 characters".into());
    }
    regex::RegexBuilder::new(&format!("^(?:{p})$"))
        .size_limit(1 << 16)
        .build()
        .map_err(|e| e.to_string())
}

/// A number within `min`–`max` (money: cents against whole euros, so 10,50 is above 10).
fn range(f: &Field, value: i64) -> Result<(), Refusal> {
    let (lo, hi) = if f.kind == Kind::Money {
        (
            f.min.map(|m| m.saturating_mul(100)),
            f.max.map(|m| m.saturating_mul(100)),
        )
    } else {
        (f.min, f.max)
    };
    if lo.is_some_and(|m| value < m) || hi.is_some_and(|m| value > m) {
        let show = |v: Option<i64>| match (v, f.kind) {
            (Some(v), Kind::Money) => Money::from_cents(v).to_string(),
            (Some(v), _) => v.to_string(),
            (None, _) => "…".to_owned(),
        };
        return Err((Why::OutOfRange, format!("{} – {}", show(lo), show(hi))));
    }
    Ok(())
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()
}

/// An IBAN: spaces dropped, capitals, the country's length for Italy and San Marino, the
/// ISO 13616 check digits (mod 97).
fn iban(s: &str) -> Result<String, Refusal> {
    let bad = || (Why::IbanInvalid, s.to_owned());
    let i: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if !(15..=34).contains(&i.len()) || !i.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(bad());
    }
    let country = &i[..2];
    if !country.chars().all(|c| c.is_ascii_uppercase())
        || !i[2..4].chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    if matches!(country, "IT" | "SM") && i.len() != 27 {
        return Err(bad());
    }
    let rearranged = format!("{}{}", &i[4..], &i[..4]);
    let mut rem: u32 = 0;
    for c in rearranged.chars() {
        let d = c.to_digit(36).ok_or_else(bad)?;
        rem = if d >= 10 {
            (rem * 100 + d) % 97
        } else {
            (rem * 10 + d) % 97
        };
    }
    if rem != 1 {
        return Err(bad());
    }
    Ok(i)
}

/// A date limit of a form: `today`, `today+30`, `today-6570` (days), or a date `2027-07-31`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateBound {
    Today(i64),
    On(NaiveDate),
}

impl DateBound {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("today") {
            if rest.is_empty() {
                return Ok(Self::Today(0));
            }
            let days: i64 = rest
                .strip_prefix('+')
                .unwrap_or(rest)
                .parse()
                .map_err(|_| "expected today, today+N, today-N or YYYY-MM-DD".to_owned())?;
            if days.unsigned_abs() > 36_500 {
                return Err("at most 36500 days away".into());
            }
            return Ok(Self::Today(days));
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Self::On)
            .map_err(|_| "expected today, today+N, today-N or YYYY-MM-DD".to_owned())
    }

    pub(crate) fn on(self, today: NaiveDate) -> NaiveDate {
        match self {
            Self::Today(d) => today + Duration::days(d),
            Self::On(d) => d,
        }
    }
}
