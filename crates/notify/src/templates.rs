//! The messages' words: one TOML file per event in `templates/`, with its subject, text and
//! (where it may go by SMS) SMS text in Italian and English, rendered with minijinja. The HTML
//! part of a mail is the text laid out: paragraphs, and links where the text has addresses.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use sportello_domain::Language;

/// Every template, by event key.
const FILES: &[(&str, &str)] = &[
    (
        "account_confirmation",
        include_str!("../templates/account_confirmation.toml"),
    ),
    (
        "account_exists",
        include_str!("../templates/account_exists.toml"),
    ),
    (
        "password_reset",
        include_str!("../templates/password_reset.toml"),
    ),
    (
        "contact_code",
        include_str!("../templates/contact_code.toml"),
    ),
    (
        "staff_invitation",
        include_str!("../templates/staff_invitation.toml"),
    ),
    (
        "commune_onboarded",
        include_str!("../templates/commune_onboarded.toml"),
    ),
    (
        "topic_message",
        include_str!("../templates/topic_message.toml"),
    ),
    ("case_update", include_str!("../templates/case_update.toml")),
    ("case_clerk", include_str!("../templates/case_clerk.toml")),
    (
        "payment_receipt",
        include_str!("../templates/payment_receipt.toml"),
    ),
    (
        "tickets_bought",
        include_str!("../templates/tickets_bought.toml"),
    ),
    (
        "draft_expiry",
        include_str!("../templates/draft_expiry.toml"),
    ),
    (
        "document_expiry",
        include_str!("../templates/document_expiry.toml"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Words {
    subject: String,
    text: String,
    sms: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Template {
    /// The message holds a link or a code: its text is never shown again.
    pub secret: bool,
    it: Words,
    en: Words,
}

/// A message in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The SMS text, when the event has one.
    pub sms: Option<String>,
}

fn all() -> &'static Result<HashMap<&'static str, Template>, String> {
    static ALL: OnceLock<Result<HashMap<&'static str, Template>, String>> = OnceLock::new();
    ALL.get_or_init(|| {
        FILES
            .iter()
            .map(|(k, src)| {
                toml::from_str::<Template>(src)
                    .map(|t| (*k, t))
                    .map_err(|e| format!("template {k}: {e}"))
            })
            .collect()
    })
}

pub(crate) fn template(key: &str) -> Result<&'static Template, String> {
    all()
        .as_ref()
        .map_err(Clone::clone)?
        .get(key)
        .ok_or_else(|| format!("no template {key:?}"))
}

/// The keys of every template (for the tests: each renders in both languages).
pub fn keys() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(k, _)| *k)
}

/// Renders an event's message in a language (English for English, Italian otherwise).
pub fn render(key: &str, lang: Language, vars: &serde_json::Value) -> Result<Rendered, String> {
    let t = template(key)?;
    let w = if lang == Language::En { &t.en } else { &t.it };
    let mut env = minijinja::Environment::new();
    // A word the caller forgot is an error, never a blank in a citizen's mail.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let r = |s: &str| {
        env.render_str(s, vars)
            .map_err(|e| format!("template {key}: {e}"))
    };
    let subject = r(&w.subject)?.trim().to_owned();
    let text = r(&w.text)?.trim().to_owned();
    let sms = w.sms.as_deref().map(r).transpose()?;
    // Only the addresses the product put there become links (`url`, `portal`), never one a
    // person typed into their name.
    let links: Vec<&str> = ["url", "portal"]
        .iter()
        .filter_map(|k| vars[*k].as_str())
        .collect();
    Ok(Rendered {
        html: html(&subject, &text, lang, &links),
        subject,
        text,
        sms,
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The text as a simple HTML page: paragraphs at blank lines, line breaks kept, and the given
/// addresses as links.
fn html(subject: &str, text: &str, lang: Language, links: &[&str]) -> String {
    let mut body = String::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let lines: Vec<String> = para
            .lines()
            .map(|line| {
                line.split(' ')
                    .map(|w| {
                        if links.contains(&w) {
                            let w = escape(w);
                            format!("<a href=\"{w}\">{w}</a>")
                        } else {
                            escape(w)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        body.push_str(&format!("<p>{}</p>\n", lines.join("<br>\n")));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"font-family: sans-serif; font-size: 16px; line-height: 1.5; color: #1a1a1a\">\n{body}</body>\n</html>\n",
        lang.ui().key(),
        escape(subject)
    )
}

#[cfg(test)]
#[path = "tests/templates.rs"]
mod tests;
