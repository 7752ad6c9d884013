//! A refused form is answered with the same form: the values as sent, each problem next to its
//! field in the person's language, and a summary at the top linking to each field (the GOV.UK
//! error-summary pattern; `_form.html` draws both). Handlers call [`Ctx::redo`] with the
//! problems, then render the form's page as usual: console pages pick the form up in
//! `console_page::render`, hand-written pages through [`Ctx::form_state`].

use std::collections::HashMap;

use serde_json::{Value, json};
use sportello_kernel::Problems;

use super::{Ctx, Posted};
use crate::error::AppError;

/// A refused form to show again.
pub struct Redo {
    /// The path the form posts to (the form on the page to fill again).
    pub action: String,
    pub values: Vec<(String, String)>,
    pub problems: Problems,
}

impl Ctx {
    /// Keeps the refused form to show again, when `e` is a refusal of its fields; gives the
    /// error back otherwise (the caller answers it as usual).
    pub fn redo<T>(&self, posted: &Posted<T>, e: AppError) -> Result<(), AppError> {
        match e {
            AppError::Invalid(problems) => {
                *self.redo.borrow_mut() = Some(Redo {
                    action: self.path.clone(),
                    values: posted.values(),
                    problems,
                });
                Ok(())
            }
            other => Err(other),
        }
    }

    /// The path the refused form posted to, when this answer shows one again.
    pub fn redo_action(&self) -> Option<String> {
        self.redo.borrow().as_ref().map(|r| r.action.clone())
    }

    /// Whether this answer shows a refused form again (its status is then 400).
    pub fn redoing(&self) -> bool {
        self.redo.borrow().is_some()
    }

    /// For a hand-written form, its fields as (name, id of the input): `values` (as sent),
    /// `errors` (field → words) and `summary` (`[{href, text}]`); all empty when nothing was
    /// refused. Problems of no field of the form link to `#<form_id>`.
    pub fn form_state(&self, fields: &[(&str, &str)], form_id: &str) -> Value {
        let redo = self.redo.borrow();
        let Some(r) = redo.as_ref() else {
            return json!({"values": {}, "errors": {}, "summary": []});
        };
        let values: HashMap<&str, &str> = r
            .values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut errors = serde_json::Map::new();
        let mut summary = Vec::new();
        for p in &r.problems.0 {
            let text = self.problem_text(p);
            let href = if let Some((_, id)) = fields.iter().find(|(n, _)| *n == p.field) {
                errors
                    .entry(p.field.clone())
                    .or_insert_with(|| json!(text.clone()));
                format!("#{id}")
            } else {
                format!("#{form_id}")
            };
            summary.push(json!({"href": href, "text": text}));
        }
        json!({"values": values, "errors": errors, "summary": summary})
    }

    /// Applies the refused form to a console page's sections: the form posting to the same
    /// path gets the values sent and each field its words; returns the summary.
    pub(super) fn redo_sections(&self, sections: &mut [Value]) -> Vec<Value> {
        let redo = self.redo.borrow();
        let Some(r) = redo.as_ref() else {
            return Vec::new();
        };
        let mut summary = Vec::new();
        let mut placed = vec![false; r.problems.0.len()];
        for (i, s) in sections.iter_mut().enumerate() {
            let sid = format!("s{}", i + 1);
            let Some(form) = s.get_mut("form") else {
                continue;
            };
            if form.get("action").and_then(Value::as_str) != Some(r.action.as_str()) {
                continue;
            }
            // Another form posting to the same place (a button beside it) is not this one: its
            // hidden fields say so (`op=add` is not the `op=remove` that was sent).
            let hidden_differs = form
                .get("fields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|f| f.get("kind").and_then(Value::as_str) == Some("hidden"))
                .any(|f| {
                    let name = f.get("name").and_then(Value::as_str).unwrap_or("");
                    let value = f.get("value").and_then(Value::as_str).unwrap_or("");
                    // (Browsers send line ends as CRLF, whatever the page had.)
                    let same =
                        |a: &str, b: &str| a.replace('\r', "").trim() == b.replace('\r', "").trim();
                    r.values.iter().any(|(k, v)| k == name && !same(v, value))
                });
            if hidden_differs {
                continue;
            }
            // A table of checkboxes in the form (the permissions): ticked as sent.
            if let Some(tables) = s.get_mut("tables").and_then(Value::as_array_mut) {
                for tb in tables {
                    let rows = tb.get_mut("rows").and_then(Value::as_array_mut);
                    for cell in rows
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_array_mut)
                        .flatten()
                    {
                        if let Some(name) = cell
                            .get("checkbox")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                        {
                            cell["checked"] = json!(r.values.iter().any(|(k, _)| *k == name));
                        }
                    }
                }
            }
            let Some(form) = s.get_mut("form") else {
                continue;
            };
            let Some(fields) = form.get_mut("fields").and_then(Value::as_array_mut) else {
                continue;
            };
            for f in fields.iter_mut() {
                let name = f
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let kind = f.get("kind").and_then(Value::as_str).unwrap_or("");
                if kind == "week" || kind == "closures" {
                    let prefix = format!("{name}:");
                    let sent: serde_json::Map<String, Value> = r
                        .values
                        .iter()
                        .filter(|(k, _)| k.starts_with(&prefix))
                        .map(|(k, v)| (k.clone(), json!(v)))
                        .collect();
                    f["sent"] = Value::Object(sent);
                } else if kind == "checkbox" {
                    f["value"] = json!(r.values.iter().any(|(k, _)| *k == name));
                } else if kind == "select" {
                    let sent = r.values.iter().find(|(k, _)| *k == name).map(|(_, v)| v);
                    if let (Some(sent), Some(opts)) =
                        (sent, f.get_mut("options").and_then(Value::as_array_mut))
                    {
                        for o in opts {
                            let mine = o.get("value").and_then(Value::as_str) == Some(sent);
                            o["selected"] = json!(mine);
                        }
                    }
                } else if kind != "hidden"
                    && let Some((_, v)) = r.values.iter().find(|(k, _)| *k == name)
                {
                    f["value"] = json!(v);
                }
                for (n, p) in r.problems.0.iter().enumerate() {
                    if p.field == name && !placed[n] {
                        placed[n] = true;
                        let text = self.problem_text(p);
                        if f.get("error").is_none() {
                            f["error"] = json!(text);
                        }
                        summary.push(json!({"href": format!("#{sid}-{name}"), "text": text}));
                    }
                }
            }
            for (n, p) in r.problems.0.iter().enumerate() {
                if !placed[n] {
                    placed[n] = true;
                    summary.push(
                        json!({"href": format!("#{sid}-form"), "text": self.problem_text(p)}),
                    );
                }
            }
        }
        // A form not on the page (a button's post): the words alone.
        for (n, p) in r.problems.0.iter().enumerate() {
            if !placed[n] {
                summary.push(json!({"href": "#main-content", "text": self.problem_text(p)}));
            }
        }
        summary
    }
}
