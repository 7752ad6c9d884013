//! Answers shown back to people (the summary before submitting, the case page, the receipt) with
//! the labels of the definition they were given under.

use serde::Serialize;
use serde_json::Value;

use super::{Answers, FormDef, Kind};
use crate::{Language, Money};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownPage {
    pub title: String,
    pub rows: Vec<Shown>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    pub field: String,
    pub label: String,
    pub value: String,
    /// File fields: the ids of the files given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// The answers page by page, each value as a person reads it (the choice's label, money in
/// euros, dates as dd/mm/yyyy); pages without an answer are left out.
pub fn summary(def: &FormDef, answers: &Answers, lang: Language) -> Vec<ShownPage> {
    let mut out = vec![];
    for p in &def.pages {
        let rows: Vec<Shown> = p
            .fields
            .iter()
            .filter_map(|f| {
                let v = answers.get(&f.id)?;
                let label_of = |x: &str| {
                    f.options
                        .iter()
                        .find(|o| o.value == x)
                        .map_or_else(|| x.to_owned(), |o| o.label(lang).to_owned())
                };
                let (value, files) = match (f.kind, v) {
                    (Kind::Choice, Value::String(s)) => (label_of(s), vec![]),
                    (Kind::MultiChoice, Value::Array(a)) => (
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(label_of)
                            .collect::<Vec<_>>()
                            .join("; "),
                        vec![],
                    ),
                    (Kind::Checkbox, _) => (
                        match lang {
                            Language::En => "Yes",
                            Language::De => "Ja",
                            _ => "Sì",
                        }
                        .to_owned(),
                        vec![],
                    ),
                    (Kind::Money, Value::Number(n)) => (
                        Money::from_cents(n.as_i64().unwrap_or(0)).to_string(),
                        vec![],
                    ),
                    (Kind::Date, Value::String(s)) => (
                        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                            .map_or_else(|_| s.clone(), |d| d.format("%d/%m/%Y").to_string()),
                        vec![],
                    ),
                    (Kind::File, Value::Array(a)) => (
                        String::new(),
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect(),
                    ),
                    (_, Value::String(s)) => (s.clone(), vec![]),
                    (_, other) => (other.to_string(), vec![]),
                };
                Some(Shown {
                    field: f.id.clone(),
                    label: f.label(lang).to_owned(),
                    value,
                    files,
                })
            })
            .collect();
        if !rows.is_empty() {
            out.push(ShownPage {
                title: p.title(lang).to_owned(),
                rows,
            });
        }
    }
    out
}
