use super::*;

#[test]
fn class_refs_map_both_ways() {
    for l in [
        AssuranceLevel::Low,
        AssuranceLevel::Substantial,
        AssuranceLevel::High,
    ] {
        assert_eq!(AssuranceLevel::from_class_ref(l.class_ref()), Some(l));
    }
    assert_eq!(
        AssuranceLevel::from_class_ref("urn:oasis:names:tc:SAML:2.0:ac:classes:Password"),
        None
    );
    assert_eq!(
        AssuranceLevel::from_class_ref("https://www.spid.gov.it/SpidL4"),
        None
    );
    assert!(AssuranceLevel::Low < AssuranceLevel::Substantial);
    assert_eq!(AssuranceLevel::High.number(), 3);
}

#[test]
fn spid_fiscal_number_is_parsed_and_normalised() {
    let cf = fiscal_code_from_idp("TINIT-RSSMRA80A01G702C").unwrap();
    assert_eq!(cf.as_str(), "RSSMRA80A01G702C");
    // An omocodia variant of the same code is the same identity.
    let variant = fiscal_code_from_idp("TINIT-RSSMRA80A01G70NR").unwrap();
    assert_eq!(variant, cf);
    assert!(fiscal_code_from_idp("TINIT-RSSMRA80A01G702Q").is_err());
    assert!(fiscal_code_from_idp("").is_err());
}

#[test]
fn emails() {
    assert_eq!(
        Email::parse(" Mario.Rossi@Example.ORG ").unwrap().as_str(),
        "mario.rossi@example.org"
    );
    for bad in [
        "",
        "mario",
        "@example.org",
        "mario@",
        "mario@example",
        "ma rio@example.org",
        "a@b@c.it",
        "a@-x.it",
        "a@x..it",
    ] {
        assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn mobiles() {
    assert_eq!(
        MobileNumber::parse("333 123 4567").unwrap().as_str(),
        "+393331234567"
    );
    assert_eq!(
        MobileNumber::parse("0039 333-1234567").unwrap().as_str(),
        "+393331234567"
    );
    assert_eq!(
        MobileNumber::parse("+41 79 123 45 67").unwrap().as_str(),
        "+41791234567"
    );
    assert!(MobileNumber::parse("12").is_err());
    assert!(MobileNumber::parse("+39 333 abc").is_err());
}

#[test]
fn passwords() {
    assert!(check_new_password("corto", "a@b.it").is_err());
    assert!(check_new_password("mario.rossi@example.org", "mario.rossi@example.org").is_err());
    assert!(check_new_password("xxmario.rossixx", "mario.rossi@example.org").is_err());
    assert!(check_new_password("password1234", "a@b.it").is_err());
    assert!(check_new_password("zzzzzzzzzzzzzz", "a@b.it").is_err());
    assert!(check_new_password("la torre pende 1173", "mario@example.org").is_ok());
}
