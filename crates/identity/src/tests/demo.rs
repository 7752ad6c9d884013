use super::*;

#[test]
fn every_demo_person_is_valid_and_the_set_covers_what_a_newcomer_needs() {
    for p in PEOPLE {
        let cf = FiscalCode::parse(p.fiscal_code).expect("a valid fiscal code");
        assert_eq!(cf.normalised().as_str(), p.fiscal_code, "{}", p.id);
        assert!(
            sportello_store::istat::by_cadastral_code(&cf.birthplace()).is_some(),
            "{}: birthplace in the ISTAT list",
            p.id
        );
        sportello_domain::Email::parse(p.email).expect("e-mail");
        sportello_domain::MobileNumber::parse(p.mobile).expect("mobile");
    }
    for level in [
        AssuranceLevel::Low,
        AssuranceLevel::Substantial,
        AssuranceLevel::High,
    ] {
        assert!(PEOPLE.iter().any(|p| p.level == level), "{level:?}");
    }
    let communes: std::collections::BTreeSet<_> = PEOPLE.iter().map(|p| p.commune_istat).collect();
    assert!(communes.len() >= 2);
}
