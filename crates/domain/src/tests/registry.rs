use chrono::NaiveDate;

use super::*;
use crate::registry::certificate::{Kind, exemption, expires};

fn giulia() -> RawFacts {
    RawFacts {
        last_name: "Bianchi".into(),
        first_name: "Giulia".into(),
        sex: "F".into(),
        birth_date: "12/08/1985".into(),
        birth_place: "g702".into(),
        birth_place_name: "Pisa (PI)".into(),
        citizenship: "ita".into(),
        marital: "married".into(),
        family: "7".into(),
        relation: "head".into(),
        street: "00120".into(),
        number: "12".into(),
        ..RawFacts::default()
    }
}

#[test]
fn fiscal_codes_are_computed_as_the_rules_give_them() {
    let d = NaiveDate::from_ymd_opt(1985, 8, 12).unwrap();
    let c = FiscalCode::compute("Bianchi", "Giulia", Sex::Female, d, "G702").unwrap();
    assert_eq!(c.as_str(), "BNCGLI85M52G702M");
    let d = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
    let c = FiscalCode::compute("Rossi", "Mario", Sex::Male, d, "G702").unwrap();
    assert_eq!(c.as_str(), "RSSMRA80A01G702C");
    // Short names are padded with X; a name of four consonants or more skips the second.
    let c = FiscalCode::compute("Fo", "Gianfranco", Sex::Male, d, "F205").unwrap();
    assert!(c.as_str().starts_with("FOXGFR"), "{c}");
    assert!(FiscalCode::parse(c.as_str()).is_ok());
    assert!(FiscalCode::compute("Rossi", "Mario", Sex::Male, d, "Milano").is_none());
}

#[test]
fn facts_parse_and_name_every_mistake() {
    let f = Facts::parse(&giulia()).unwrap();
    assert_eq!(f.last_name, "BIANCHI");
    assert_eq!(f.birth_place, "G702");
    assert_eq!(f.citizenship, "ITA");
    assert_eq!(f.status, Status::Resident);
    assert!(f.document.is_none());
    assert!(f.matches(&FiscalCode::parse("BNCGLI85M52G702M").unwrap()));
    assert!(!f.matches(&FiscalCode::parse("RSSMRA80A01G702C").unwrap()));
    assert_eq!(Facts::parse(&f.raw()).unwrap(), f);

    let mut bad = giulia();
    bad.sex = "X".into();
    bad.birth_date = "31/02/1985".into();
    bad.birth_place = "Pisa".into();
    bad.doc_kind = "identity_card".into();
    bad.family = "0".into();
    let errs = Facts::parse(&bad).unwrap_err();
    let fields: Vec<&str> = errs.iter().map(|(f, _)| *f).collect();
    assert_eq!(
        fields,
        [
            "sex",
            "birth_date",
            "birth_place",
            "doc_number",
            "doc_expires",
            "family"
        ]
    );
}

#[test]
fn certificates_last_six_months_and_exemptions_name_their_rule() {
    let d = NaiveDate::from_ymd_opt(2026, 8, 31).unwrap();
    assert_eq!(expires(d), NaiveDate::from_ymd_opt(2027, 2, 28).unwrap());
    assert!(Kind::ResidenceAt.at_date() && !Kind::Residence.at_date());
    assert_eq!(Kind::parse("family_at"), Some(Kind::FamilyAt));
    assert!(exemption("separation").unwrap().rule.contains("74/1987"));
    assert!(exemption("holiday").is_none());
}
