use super::*;

#[test]
fn formats_in_italian() {
    assert_eq!(Money::from_cents(1600).to_string(), "€ 16,00");
    assert_eq!(Money::from_cents(123_456_789).to_string(), "€ 1.234.567,89");
    assert_eq!(Money::from_cents(5).to_string(), "€ 0,05");
    assert_eq!(Money::from_cents(-250).to_string(), "-€ 2,50");
    assert_eq!(Money::from_cents(1600).decimal(), "16.00");
}
