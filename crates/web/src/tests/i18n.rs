use super::*;

#[test]
fn both_languages_have_every_key() {
    let s = Strings::load().unwrap();
    assert_eq!(s.unbalanced_keys(), Vec::<&str>::new());
}

/// Every `t("key")` of the templates and every key the Rust code asks for exists.
#[test]
fn every_key_in_use_exists() {
    let s = Strings::load().unwrap();
    let mut used: Vec<String> = Vec::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/templates");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        for (at, _) in text.match_indices("t(\"") {
            // `t(` itself, not the end of another name such as `default(`.
            if text[..at]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
            {
                continue;
            }
            if let Some(key) = text[at + 3..].split('"').next() {
                used.push(key.to_owned());
            }
        }
    }
    // Keys the Rust code names: refusals (`Refused("key")`) and direct lookups
    // (`get(<lang>, "key")`, the message pages' `"…_title"`/`"…_text"` pairs).
    fn scan(dir: &std::path::Path, used: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                scan(&path, used);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("tests/i18n.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for pat in ["Refused(\"", "lang, \"", "message(&ctx, \""] {
                for (at, _) in text.match_indices(pat) {
                    if let Some(key) = text[at + pat.len()..].split('"').next() {
                        used.push(key.to_owned());
                    }
                }
            }
        }
    }
    // Every crate: services refuse with keys too (`Error::Refused("key")`).
    scan(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")),
        &mut used,
    );
    // Keys the Rust code asks for (routes/mod.rs, middleware.rs, views/).
    used.extend(
        [
            "unknown_host_title",
            "unknown_host_message",
            "suspended_title",
            "suspended_message",
            "draft_title",
            "draft_message",
            "not_found_title",
            "not_found_message",
            "bad_request_title",
            "bad_request_message",
            "server_error_title",
            "server_error_message",
            "free",
            "open_now",
            "closes_at",
            "today",
            "closed_now",
            "reopens",
            "at_time",
            "national_holiday",
            "patron_day",
            "closure",
        ]
        .map(str::to_owned),
    );
    assert!(
        used.len() > 100,
        "the scan found too few keys: {}",
        used.len()
    );
    let missing: Vec<&String> = used
        .iter()
        .filter(|k| s.get(Language::It, k) == k.as_str())
        .collect();
    assert!(missing.is_empty(), "keys without a string: {missing:?}");
}

#[test]
fn language_choice_order() {
    assert_eq!(choose(Some("en"), Some("it"), Language::It), Language::En);
    assert_eq!(choose(Some("xx"), Some("en"), Language::It), Language::En);
    assert_eq!(choose(None, None, Language::De), Language::It);
}

/// Every reason a field can be refused for has its words in both languages.
#[test]
fn every_refused_field_has_words() {
    let s = Strings::load().unwrap();
    let missing: Vec<String> = sportello_domain::Why::ALL
        .iter()
        .map(|w| format!("invalid_{}", w.key()))
        .filter(|k| {
            [Language::It, Language::En]
                .iter()
                .any(|l| s.get(*l, k) == k.as_str())
                || !s.en.contains_key(k)
        })
        .collect();
    assert!(missing.is_empty(), "reasons without words: {missing:?}");
}
