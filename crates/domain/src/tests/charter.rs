use super::*;

#[test]
fn keys_round_trip_and_unknown_keys_name_the_choices() {
    for e in LifeEvent::ALL {
        assert_eq!(LifeEvent::parse(e.key()), Ok(*e));
    }
    let err = LifeEvent::parse("shopping").unwrap_err();
    assert!(err.detail.contains("living, family"), "{err}");
    assert!(AssuranceLevel::Low < AssuranceLevel::High);
    assert_eq!(Channel::Desk.label(Language::En), "At the desk");
    assert_eq!(Channel::Desk.label(Language::It), "Allo sportello");
}
