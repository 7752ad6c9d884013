//! Templates (embedded from `web/templates`) and static assets (embedded from `web/static`).

use std::sync::Arc;

use minijinja::{Environment, State, Value};
use rust_embed::RustEmbed;
use sportello_domain::Language;

use crate::i18n::Strings;

#[derive(RustEmbed)]
#[folder = "../../web/templates/"]
#[include = "*.html"]
struct Templates;

#[derive(RustEmbed)]
#[folder = "../../web/static/"]
pub struct Static;

pub struct Renderer {
    env: Environment<'static>,
    pub strings: Arc<Strings>,
}

impl Renderer {
    pub fn new() -> Result<Self, String> {
        let strings = Arc::new(Strings::load()?);
        let mut env = Environment::new();
        for name in Templates::iter() {
            let file = Templates::get(&name).ok_or_else(|| format!("template {name} vanished"))?;
            let text = String::from_utf8(file.data.into_owned())
                .map_err(|e| format!("template {name}: {e}"))?;
            env.add_template_owned(name.to_string(), text)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        // HTML-escape the five characters that matter (minijinja's default also escapes `/`,
        // which garbles URLs in the source and in tests for no safety gain).
        env.set_formatter(|out, state, value| {
            // An absent value prints nothing (never "none" in a page or an input's value).
            if value.is_none() || value.is_undefined() {
                return Ok(());
            }
            if state.auto_escape() == minijinja::AutoEscape::Html
                && !value.is_safe()
                && !value.is_none()
                && !value.is_undefined()
            {
                out.write_str(&escape(&value.to_string())).map_err(|_| {
                    minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write failed")
                })
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        let s = strings.clone();
        env.add_function("t", move |state: &State, key: &str| -> String {
            let lang = state
                .lookup("lang")
                .and_then(|v| {
                    v.as_str().map(|l| {
                        if l == "en" {
                            Language::En
                        } else {
                            Language::It
                        }
                    })
                })
                .unwrap_or(Language::It);
            s.get(lang, key).to_owned()
        });
        Ok(Self { env, strings })
    }

    pub fn render(&self, name: &str, ctx: Value) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(ctx)
    }
}

/// HTML-escapes text for the few places that write HTML outside a template.
pub fn escape(text: &str) -> String {
    let mut esc = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => esc.push_str("&amp;"),
            '<' => esc.push_str("&lt;"),
            '>' => esc.push_str("&gt;"),
            '"' => esc.push_str("&quot;"),
            '\'' => esc.push_str("&#x27;"),
            c => esc.push(c),
        }
    }
    esc
}
