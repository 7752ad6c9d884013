use super::*;

#[test]
fn formats_in_italian() {
    assert_eq!(Money::from_cents(1600).to_string(), "€ 16,00");
    assert_eq!(Money::from_cents(123_456_789).to_string(), "€ 1.234.567,89");
    assert_eq!(Money::from_cents(5).to_string(), "€ 0,05");
    assert_eq!(Money::from_cents(-250).to_string(), "-€ 2,50");
    assert_eq!(Money::from_cents(1600).decimal(), "16.00");
}

#[test]
fn parses_what_people_type() {
    for (typed, cents) in [
        ("16", 1600),
        ("16,00", 1600),
        ("16.5", 1650),
        ("€ 1 234,50", 123_450),
        ("0,05", 5),
        ("", 0),
        ("  ", 0),
    ] {
        assert_eq!(Money::parse(typed).unwrap().cents(), cents, "{typed:?}");
    }
    for bad in [
        "16,005",
        "-3",
        "1e3",
        "abc",
        ",50",
        "99999999999999999999",
        "1.2.3",
    ] {
        assert!(Money::parse(bad).is_err(), "{bad:?}");
    }
}
