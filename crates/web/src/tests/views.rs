use sportello_domain::LifeEvent;

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
