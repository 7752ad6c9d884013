//! Changing a form in the console, one step at a time: a field added (on a page, or on a new
//! page), moved up or down its page, removed. Each step is checked here with reasons an
//! administrator can act on; the whole definition is then checked again ([`FormDef::check`])
//! before it is stored as a new version.

use super::{Choice, Condition, Field, FormDef, Kind, Page};
use crate::Why;

/// A refusal: the editor's field and why.
pub type EditProblem = (&'static str, Why, String);

fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && id != "csrf"
}

/// A new field as the console's form gives it.
#[derive(Debug, Clone, Default)]
pub struct NewField {
    pub id: String,
    pub kind: String,
    pub label: String,
    pub label_en: String,
    pub help: String,
    pub required: bool,
    /// Choices, one a line: `value|label` (or just `label`, its value made from it).
    pub options: String,
    /// Shown only when this earlier field…
    pub when_field: String,
    /// …has this value (empty: is given at all).
    pub when_value: String,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn value_of(label: &str) -> String {
    crate::slugify(label).replace('-', "_")
}

impl FormDef {
    /// A form with nothing in it yet (a first field makes its first page).
    pub fn empty() -> Self {
        Self {
            pages: vec![],
            routing: vec![],
        }
    }

    /// Adds a field at the end of page `page`, or of a new page titled `new_page` (`page`
    /// `None`).
    pub fn add_field(
        &mut self,
        page: Option<usize>,
        new_page: &str,
        f: &NewField,
    ) -> Result<(), Vec<EditProblem>> {
        let mut p: Vec<EditProblem> = vec![];
        let id = f.id.trim();
        if !id_ok(id) {
            p.push(("id", Why::SlugInvalid, id.to_owned()));
        } else if self.field(id).is_some() {
            p.push(("id", Why::IdTaken, id.to_owned()));
        }
        let kind: Option<Kind> = serde_json::from_value(serde_json::json!(f.kind.trim())).ok();
        if kind.is_none() {
            p.push(("kind", Why::NotOneOf, f.kind.clone()));
        }
        let label = f.label.trim();
        if label.is_empty() {
            p.push(("label", Why::Required, String::new()));
        } else if label.chars().count() > 200 {
            p.push(("label", Why::TooLong, "200".into()));
        }
        let texts = [
            ("label", &f.label, 200),
            ("label_en", &f.label_en, 200),
            ("help", &f.help, 1000),
            ("new_page", &new_page.to_owned(), 200),
            ("when_value", &f.when_value, 200),
            ("options", &f.options, 10_000),
        ];
        for (name, t, max) in texts {
            if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
                p.push((name, Why::Malformed, String::new()));
            } else if name != "label" && t.chars().count() > max {
                p.push((name, Why::TooLong, max.to_string()));
            }
        }
        let mut options = vec![];
        for line in f.options.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (v, l) = match line.split_once('|') {
                Some((v, l)) => (v.trim().to_owned(), l.trim().to_owned()),
                None => (value_of(line), line.to_owned()),
            };
            if !id_ok(&v)
                || l.is_empty()
                || l.chars().count() > 200
                || options.len() >= 50
                || options.iter().any(|o: &Choice| o.value == v)
            {
                p.push(("options", Why::Malformed, line.chars().take(60).collect()));
                break;
            }
            options.push(Choice {
                value: v,
                label: l,
                label_en: None,
                label_de: None,
            });
        }
        if kind.is_some_and(Kind::has_options) && options.len() < 2 && p.is_empty() {
            p.push(("options", Why::Required, String::new()));
        }
        if kind.is_some_and(|k| !k.has_options()) && !options.is_empty() {
            p.push(("options", Why::NotOneOf, String::new()));
        }
        // The condition names a field before this one (on an earlier page, or earlier on this).
        let before: Vec<&Field> = match page {
            Some(i) => self
                .pages
                .iter()
                .take(i.saturating_add(1))
                .flat_map(|x| x.fields.iter())
                .collect(),
            None => self.fields().collect(),
        };
        let show_if = match opt(&f.when_field) {
            None => None,
            // Files are attached, never answers: nothing can be shown on them.
            Some(on) => match before.iter().find(|x| x.id == on && x.kind != Kind::File) {
                None => {
                    p.push(("when_field", Why::NotOneOf, on));
                    None
                }
                Some(target) => {
                    let value = f.when_value.trim();
                    if !value.is_empty()
                        && target.kind.has_options()
                        && !target.options.iter().any(|o| o.value == value)
                    {
                        p.push(("when_value", Why::NotOneOf, value.to_owned()));
                    }
                    Some(Condition {
                        field: on,
                        equals: match (value, target.kind) {
                            ("", _) => None,
                            (_, Kind::Checkbox) => Some("true".into()),
                            (v, _) => Some(v.to_owned()),
                        },
                        any_of: None,
                        filled: value.is_empty().then_some(true),
                    })
                }
            },
        };
        match page {
            Some(i) if i >= self.pages.len() => p.push(("page", Why::NotOneOf, i.to_string())),
            None if new_page.trim().is_empty() => {
                p.push(("new_page", Why::Required, String::new()))
            }
            _ => {}
        }
        let (Some(kind), true) = (kind, p.is_empty()) else {
            return Err(p);
        };
        let field = Field {
            id: id.to_owned(),
            kind,
            label: label.to_owned(),
            label_en: opt(&f.label_en),
            label_de: None,
            help: opt(&f.help),
            help_en: None,
            help_de: None,
            required: f.required,
            min_len: None,
            max_len: None,
            min: None,
            max: None,
            pattern: None,
            after: None,
            before: None,
            options,
            show_if,
            prefill: None,
            max_files: None,
            max_kib: None,
            types: vec![],
            check: None,
        };
        match page {
            Some(i) => self.pages[i].fields.push(field),
            None => {
                let mut n = self.pages.len() + 1;
                while self.pages.iter().any(|x| x.id == format!("p{n}")) {
                    n += 1;
                }
                self.pages.push(Page {
                    id: format!("p{n}"),
                    title: new_page.trim().to_owned(),
                    title_en: None,
                    title_de: None,
                    show_if: None,
                    fields: vec![field],
                });
            }
        }
        Ok(())
    }

    /// Moves a field one place up or down its page; false if it cannot move.
    pub fn move_field(&mut self, id: &str, up: bool) -> bool {
        for p in &mut self.pages {
            if let Some(i) = p.fields.iter().position(|f| f.id == id) {
                let j = if up { i.checked_sub(1) } else { Some(i + 1) };
                return match j.filter(|j| *j < p.fields.len()) {
                    Some(j) => {
                        p.fields.swap(i, j);
                        true
                    }
                    None => false,
                };
            }
        }
        false
    }

    /// Removes a field no condition or routing rule names (a page left empty goes with it).
    pub fn remove_field(&mut self, id: &str) -> Result<(), Why> {
        let named = self
            .pages
            .iter()
            .filter_map(|p| p.show_if.as_ref())
            .chain(self.fields().filter_map(|f| f.show_if.as_ref()))
            .chain(self.routing.iter().map(|r| &r.when))
            .any(|c| c.field == id);
        if named {
            return Err(Why::FieldInUse);
        }
        let before = self.fields().count();
        for p in &mut self.pages {
            p.fields.retain(|f| f.id != id);
        }
        self.pages.retain(|p| !p.fields.is_empty());
        if self.fields().count() == before {
            return Err(Why::NotOneOf);
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "../tests/form_edit.rs"]
mod tests;
