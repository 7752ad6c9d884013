use sportello_domain::{Language, LifeEvent};

/// Every icon the pages name exists in the vendored Bootstrap Italia sprite.
#[test]
fn every_life_event_icon_is_in_the_sprite() {
    let sprite = include_str!("../../../../web/static/vendor/bootstrap-italia/svg/sprites.svg");
    for e in LifeEvent::ALL {
        assert!(
            sprite.contains(&format!("id=\"{}\"", e.icon())),
            "{:?}: no icon {}",
            e,
            e.icon()
        );
    }
}

/// JSON for a script element reads back as the same value and holds no character that HTML
/// gives a meaning inside a script element.
#[test]
fn script_json_round_trips_and_has_no_markup() {
    let v = serde_json::json!({
        "a": "</script><!--<script> & <p> \u{2028}\u{2029}",
        "b": ["<", ">", "&"],
    });
    let s = super::script_json(&v);
    for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
        assert!(!s.contains(bad), "{bad:?} in {s}");
    }
    let back: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(back, v);
}

#[test]
fn instants_are_in_words_and_on_romes_clock() {
    use super::when::when;
    // 2026-12-06T00:58:00Z is 01:58 in Rome (winter, UTC+1); 2026-07-01T10:00:00Z is 12:00
    // (summer, UTC+2).
    let winter = 1_796_518_680_000_000;
    let summer = 1_782_900_000_000_000;
    assert_eq!(when(Language::It, winter), "6 dicembre 2026, 01:58");
    assert_eq!(when(Language::En, winter), "6 December 2026, 01:58");
    assert_eq!(when(Language::It, summer), "1 luglio 2026, 12:00");
    assert_eq!(when(Language::It, i64::MAX), "");
}
