//! Forms as data: what a service's online form asks, page by page, and the rules an answer must
//! meet. A definition is written by a commune (its console, or `tenants/*.toml`), checked once
//! with [`FormDef::check`], stored as a numbered version, and read back to show, validate and
//! display answers: a case keeps the version it was filed with, so an old case still displays
//! with the labels it was answered under.
//!
//! Pages show only when their condition holds ([`Condition`]), so do fields; a field whose
//! condition does not hold is neither required nor kept. Routing rules ([`Route`]) send a case
//! to an office other than the service's own by its answers.

mod answers;
mod display;
mod edit;

pub use answers::{Answers, FieldProblem, Raw, page_shown, validate_all, validate_page};
pub use display::{Shown, ShownPage, summary};
pub use edit::{EditProblem, NewField};

use serde::{Deserialize, Serialize};

use crate::Language;

/// The most pages and fields a form may have (a person fills it in one sitting).
pub const MAX_PAGES: usize = 20;
pub const MAX_FIELDS: usize = 120;
/// Default and largest length of a long text.
pub const LONG_TEXT_MAX: u32 = 4000;
pub const TEXT_MAX: u32 = 300;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDef {
    pub pages: Vec<Page>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routing: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_en: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_de: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    LongText,
    Number,
    Money,
    Date,
    Choice,
    MultiChoice,
    Checkbox,
    Email,
    Phone,
    FiscalCode,
    Iban,
    Address,
    File,
}

impl Kind {
    pub fn has_options(self) -> bool {
        matches!(self, Kind::Choice | Kind::MultiChoice)
    }
}

/// What the person's identity or personal area can fill in before they start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    GivenName,
    FamilyName,
    FiscalCode,
    DateOfBirth,
    PlaceOfBirth,
    Email,
    Mobile,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub id: String,
    pub kind: Kind,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_de: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_en: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_de: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// Text: fewest and most characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_len: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<u32>,
    /// Number: smallest and largest value; money: in whole euros.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Text and phone: a regular expression the whole answer must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Date: the earliest and latest allowed (see [`DateBound`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Prefill>,
    /// File: how many files, how large each (KiB), which types (`pdf`, `jpeg`, `png`, `p7m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_files: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_kib: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// Long text read by a capability as structured lines: checked as it is typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
}

/// A structured check a long text field opts into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The people of a declaration of residence, one a line
    /// ([`crate::registry::residence::movers`]); whether they join a family is the answer of
    /// the field `famiglia`.
    ResidenceMovers,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_de: Option<String>,
}

/// Shows a page or field only when an earlier answer matches: `equals` a value, is `any_of`
/// several, or is `filled` (given at all; a checkbox: ticked). Exactly one of the three.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled: Option<bool>,
}

/// Sends a case to `office` when its answers meet `when` (the first rule that matches wins;
/// none: the service's competent office).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub when: Condition,
    pub office: String,
}

/// The file types a form may accept, by the name a commune writes.
pub const FILE_TYPES: &[&str] = &["pdf", "jpeg", "png", "p7m"];

/// A text in `lang`, falling back to Italian where the commune wrote none.
pub(crate) fn pick<'a>(
    lang: Language,
    it: &'a str,
    en: &'a Option<String>,
    de: &'a Option<String>,
) -> &'a str {
    match lang {
        Language::En => en.as_deref().unwrap_or(it),
        Language::De => de.as_deref().unwrap_or(it),
        _ => it,
    }
}

impl Page {
    pub fn title(&self, lang: Language) -> &str {
        pick(lang, &self.title, &self.title_en, &self.title_de)
    }
}

impl Field {
    pub fn label(&self, lang: Language) -> &str {
        pick(lang, &self.label, &self.label_en, &self.label_de)
    }
    pub fn help(&self, lang: Language) -> Option<&str> {
        let it = self.help.as_deref()?;
        Some(match lang {
            Language::En => self.help_en.as_deref().unwrap_or(it),
            Language::De => self.help_de.as_deref().unwrap_or(it),
            _ => it,
        })
    }
    /// The longest answer accepted (text kinds).
    pub fn max_chars(&self) -> u32 {
        let cap = if self.kind == Kind::LongText {
            LONG_TEXT_MAX
        } else {
            TEXT_MAX
        };
        self.max_len.map_or(cap, |m| m.min(cap))
    }
}

impl Choice {
    pub fn label(&self, lang: Language) -> &str {
        pick(lang, &self.label, &self.label_en, &self.label_de)
    }
}

impl Condition {
    /// Whether the answers given so far meet this condition.
    pub fn holds(&self, answers: &Answers) -> bool {
        let v = answers.get(&self.field);
        let values: Vec<&str> = match v {
            Some(serde_json::Value::String(s)) => vec![s.as_str()],
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|x| x.as_str()).collect(),
            Some(serde_json::Value::Bool(true)) => vec!["true"],
            Some(serde_json::Value::Number(_)) => vec![""],
            _ => vec![],
        };
        if let Some(e) = &self.equals {
            return values.iter().any(|x| x == e);
        }
        if let Some(any) = &self.any_of {
            return values.iter().any(|x| any.iter().any(|a| a == x));
        }
        if let Some(f) = self.filled {
            return values.is_empty() != f;
        }
        false
    }
}

impl FormDef {
    /// Parses a stored definition (JSON) or a commune's (TOML, through serde).
    pub fn from_json(s: &str) -> Result<Self, String> {
        let d: FormDef = serde_json::from_str(s).map_err(|e| e.to_string())?;
        Ok(d)
    }

    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.pages.iter().flat_map(|p| p.fields.iter())
    }

    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields().find(|f| f.id == id)
    }

    /// The office this case goes to: the first routing rule its answers meet, else `default`.
    pub fn route<'a>(&'a self, answers: &Answers, default: &'a str) -> &'a str {
        self.routing
            .iter()
            .find(|r| r.when.holds(answers))
            .map_or(default, |r| r.office.as_str())
    }

    /// Whether a definition makes sense: ids are short lower-case words, unique; choices have
    /// options; conditions name an earlier choice, checkbox or text field and a value it can
    /// take; patterns compile; limits are in order. The message names what is wrong, in English
    /// (for files and the console's log line); `offices` are the offices routing may name.
    pub fn check(&self, offices: &[&str]) -> Result<(), String> {
        if self.pages.is_empty() || self.pages.len() > MAX_PAGES {
            return Err(format!("a form has 1 to {MAX_PAGES} pages"));
        }
        let total: usize = self.pages.iter().map(|p| p.fields.len()).sum();
        if total > MAX_FIELDS {
            return Err(format!("a form has at most {MAX_FIELDS} fields"));
        }
        let mut seen_pages: Vec<&str> = vec![];
        let mut earlier: Vec<&Field> = vec![];
        for p in &self.pages {
            check_id(&p.id).map_err(|e| format!("page {:?}: {e}", p.id))?;
            if seen_pages.contains(&p.id.as_str()) {
                return Err(format!("page {:?} appears twice", p.id));
            }
            seen_pages.push(&p.id);
            if p.fields.is_empty() {
                return Err(format!("page {:?} has no field", p.id));
            }
            if let Some(c) = &p.show_if {
                check_condition(c, &earlier).map_err(|e| format!("page {:?}: {e}", p.id))?;
            }
            for f in &p.fields {
                check_field(f, &earlier).map_err(|e| format!("field {:?}: {e}", f.id))?;
                earlier.push(f);
            }
        }
        for r in &self.routing {
            check_condition(&r.when, &earlier).map_err(|e| format!("routing: {e}"))?;
            if !offices.contains(&r.office.as_str()) {
                return Err(format!("routing: no office {:?}", r.office));
            }
        }
        Ok(())
    }
}

fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 40
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        // The page's own fields: the form token.
        && id != "csrf";
    if ok {
        Ok(())
    } else {
        Err("an id is 1–40 lower-case letters, digits or _, starting with a letter".into())
    }
}

fn check_field(f: &Field, earlier: &[&Field]) -> Result<(), String> {
    check_id(&f.id)?;
    if f.check.is_some() && f.kind != Kind::LongText {
        return Err("only a long text field has a structured check".into());
    }
    if earlier.iter().any(|e| e.id == f.id) {
        return Err("appears twice".into());
    }
    if f.label.trim().is_empty() {
        return Err("has no label".into());
    }
    if f.kind.has_options() {
        if f.options.is_empty() {
            return Err("a choice needs options".into());
        }
        let mut values: Vec<&str> = vec![];
        for o in &f.options {
            if o.value.trim().is_empty() || values.contains(&o.value.as_str()) {
                return Err(format!("option {:?} is empty or repeated", o.value));
            }
            values.push(&o.value);
        }
    } else if !f.options.is_empty() {
        return Err("only choices have options".into());
    }
    if let (Some(a), Some(b)) = (f.min_len, f.max_len)
        && a > b
    {
        return Err("min_len is above max_len".into());
    }
    if let (Some(a), Some(b)) = (f.min, f.max)
        && a > b
    {
        return Err("min is above max".into());
    }
    if let Some(p) = &f.pattern {
        answers::compile(p).map_err(|e| format!("pattern: {e}"))?;
    }
    for b in [&f.after, &f.before].into_iter().flatten() {
        answers::DateBound::parse(b).map_err(|e| format!("date bound {b:?}: {e}"))?;
    }
    if (f.after.is_some() || f.before.is_some()) && f.kind != Kind::Date {
        return Err("after/before are for dates".into());
    }
    if f.kind == Kind::File {
        if let Some(t) = f.types.iter().find(|t| !FILE_TYPES.contains(&t.as_str())) {
            return Err(format!("file type {t:?} is not one of {FILE_TYPES:?}"));
        }
    } else if f.max_files.is_some() || f.max_kib.is_some() || !f.types.is_empty() {
        return Err("max_files, max_kib and types are for files".into());
    }
    if let Some(c) = &f.show_if {
        check_condition(c, earlier)?;
    }
    Ok(())
}

fn check_condition(c: &Condition, earlier: &[&Field]) -> Result<(), String> {
    let n = [c.equals.is_some(), c.any_of.is_some(), c.filled.is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if n != 1 {
        return Err(format!(
            "a condition on {:?} says exactly one of equals, any_of, filled",
            c.field
        ));
    }
    let Some(f) = earlier.iter().find(|f| f.id == c.field) else {
        return Err(format!(
            "a condition names {:?}, not an earlier field",
            c.field
        ));
    };
    if f.kind == Kind::File {
        return Err(format!(
            "a condition names the file field {:?}: files are not answers",
            c.field
        ));
    }
    let wanted: Vec<&String> = c.equals.iter().chain(c.any_of.iter().flatten()).collect();
    if f.kind.has_options() {
        if let Some(w) = wanted
            .iter()
            .find(|w| !f.options.iter().any(|o| &&o.value == *w))
        {
            return Err(format!("{:?} is not an option of {:?}", w, c.field));
        }
    } else if f.kind == Kind::Checkbox {
        if wanted.iter().any(|w| w.as_str() != "true") {
            return Err(format!("a checkbox {:?} equals only \"true\"", c.field));
        }
    } else if !wanted.is_empty() {
        return Err(format!(
            "{:?} is not a choice or checkbox: only `filled` applies",
            c.field
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "../tests/form.rs"]
mod tests;
