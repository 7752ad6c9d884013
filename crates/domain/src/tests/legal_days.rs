use super::*;

#[test]
fn from_at_once_to_ten_years() {
    assert_eq!(LegalDays::parse(" 0 ").unwrap().days(), 0);
    assert_eq!(LegalDays::parse("30").unwrap().days(), 30);
    assert_eq!(LegalDays::parse("3650").unwrap().days(), 3650);
    for bad in ["3651", "-1", "", "1.5", "trenta", "99999999999"] {
        assert!(LegalDays::parse(bad).is_err(), "{bad:?}");
    }
    assert!(LegalDays::try_from(70_000).is_err());
}
