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
