#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn vars() -> serde_json::Value {
    serde_json::json!({
        "federation": "Sportello", "given": "Anna", "name": "Anna Neri",
        "url": "https://login.example/x?token=abc&y=1", "code": "123456", "minutes": 15,
        "commune": "Pisa", "by": "Mario Rossi (m@example.org)", "portal": "https://pisa.example/",
        "sender": "Comune di Pisa", "topic": "Lavori stradali", "text": "Via Roma chiusa lunedì.",
        "protocol": "2026/0000123", "service": "Accesso agli atti", "what": "è stata accolta",
        "note": "", "answered": true, "date": "06/12/2027",
        "number": "1/2026", "total": "€ 46,60", "amount": "€ 45,60", "fee": "€ 1,00",
        "day": "06/12/2026", "items": "– Mensa di ottobre: € 45,60",
        "title": "Museo della Grafica", "place": "Palazzo Lanfranchi", "when": "07/12/2026 10:30",
        "count": 2, "tickets": "– ABCD-EFGH-JKMN-PQRS: https://pisa.example/biglietti/biglietto/ABCDEFGHJKMNPQRS",
    })
}

#[test]
fn every_template_renders_in_both_languages() {
    for key in keys() {
        for lang in [Language::It, Language::En] {
            let r = render(key, lang, &vars()).unwrap_or_else(|e| panic!("{key} {lang:?}: {e}"));
            assert!(!r.subject.is_empty() && !r.text.is_empty(), "{key}");
            assert!(!r.text.contains("{{") && !r.subject.contains("{{"), "{key}");
            assert!(
                r.html.contains(&format!("lang=\"{}\"", lang.key())),
                "{key}"
            );
        }
    }
}

#[test]
fn a_missing_word_is_an_error_not_a_blank() {
    let err = render(
        "password_reset",
        Language::It,
        &serde_json::json!({"federation": "S"}),
    );
    assert!(err.is_err(), "{err:?}");
}

#[test]
fn the_html_part_links_addresses_and_escapes_the_rest() {
    let r = render("account_confirmation", Language::En, &vars()).unwrap();
    assert!(r.html.contains(
        "<a href=\"https://login.example/x?token=abc&amp;y=1\">https://login.example/x?token=abc&amp;y=1</a>"
    ));
    let r = render(
        "account_confirmation",
        Language::It,
        &serde_json::json!({"federation": "S", "given": "<b>Anna</b>", "url": "https://x.example/"}),
    )
    .unwrap();
    assert!(r.html.contains("&lt;b&gt;Anna&lt;/b&gt;"), "{}", r.html);
    // An address typed into a name stays text: only the product's own link is one.
    let evil = render(
        "account_confirmation",
        Language::It,
        &serde_json::json!({"federation": "S", "given": "https://evil.example/", "url": "https://x.example/"}),
    )
    .unwrap();
    assert!(
        !evil.html.contains("href=\"https://evil.example/"),
        "{}",
        evil.html
    );
    assert!(
        evil.html.contains("href=\"https://x.example/\""),
        "{}",
        evil.html
    );
    assert!(
        r.text.contains("<b>Anna</b>"),
        "the text part is plain text"
    );
}

#[test]
fn sms_texts_fit_one_message() {
    for lang in [Language::It, Language::En] {
        let r = render("contact_code", lang, &vars()).unwrap();
        let sms = r.sms.unwrap();
        assert_eq!(sportello_domain::sms::parts(&sms).len(), 1, "{sms}");
    }
}
