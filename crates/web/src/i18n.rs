//! The portal's interface strings (Italian and English) and how a page's language is chosen.

use std::collections::HashMap;

use serde::Deserialize;
use sportello_domain::Language;

const UI_TOML: &str = include_str!("../../../web/i18n/ui.toml");

#[derive(Deserialize)]
struct UiFile {
    it: HashMap<String, String>,
    en: HashMap<String, String>,
}

/// Interface strings by language.
pub struct Strings {
    it: HashMap<String, String>,
    en: HashMap<String, String>,
}

impl Strings {
    pub fn load() -> Result<Self, String> {
        let f: UiFile = toml::from_str(UI_TOML).map_err(|e| format!("web/i18n/ui.toml: {e}"))?;
        Ok(Self { it: f.it, en: f.en })
    }

    pub fn get<'a>(&'a self, lang: Language, key: &'a str) -> &'a str {
        let table = if lang == Language::En {
            &self.en
        } else {
            &self.it
        };
        table
            .get(key)
            .or_else(|| self.it.get(key))
            .map_or(key, String::as_str)
    }

    /// Keys present in one language but not the other.
    pub fn unbalanced_keys(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .it
            .keys()
            .filter(|k| !self.en.contains_key(*k))
            .map(String::as_str)
            .collect();
        out.extend(
            self.en
                .keys()
                .filter(|k| !self.it.contains_key(*k))
                .map(String::as_str),
        );
        out
    }
}

/// The interface language: `?lang=` first, then the `lang` cookie, then the commune's default.
pub fn choose(query_lang: Option<&str>, cookie_lang: Option<&str>, default: Language) -> Language {
    for l in [query_lang, cookie_lang].into_iter().flatten() {
        match l {
            "it" => return Language::It,
            "en" => return Language::En,
            _ => {}
        }
    }
    default.ui()
}

#[cfg(test)]
#[path = "tests/i18n.rs"]
mod tests;
