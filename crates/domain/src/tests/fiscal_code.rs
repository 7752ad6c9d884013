use super::*;

#[test]
fn a_valid_code_parses_and_tells_birth_data() {
    let cf = FiscalCode::parse("rssmra85t10a562s").unwrap();
    assert_eq!(cf.as_str(), "RSSMRA85T10A562S");
    assert_eq!(
        (cf.birth_year_2(), cf.birth_month(), cf.birth_day()),
        (85, 12, 10)
    );
    assert_eq!(cf.sex(), Sex::Male);
    assert_eq!(cf.birthplace(), "A562");
    let mut w = b"BNCLRA90A41G702".to_vec();
    w.push(check_char(&w).unwrap());
    let woman = FiscalCode::parse(std::str::from_utf8(&w).unwrap()).unwrap();
    assert_eq!(
        (woman.sex(), woman.birth_day(), woman.birthplace().as_str()),
        (Sex::Female, 1, "G702")
    );
}

#[test]
fn omocodia_variants_are_the_same_person() {
    // Replace the last digit of the birthplace (2 → N) and recompute the check character.
    let mut b = b"RSSMRA85T10A56N".to_vec();
    b.push(check_char(&b).unwrap());
    let variant = FiscalCode::parse(std::str::from_utf8(&b).unwrap()).unwrap();
    assert_ne!(variant.as_str(), "RSSMRA85T10A562S");
    assert_eq!(variant.normalised().as_str(), "RSSMRA85T10A562S");
    assert_eq!(variant.birthplace(), "A562");
    assert_eq!(variant.birth_day(), 10);
}

#[test]
fn wrong_codes_are_refused_with_a_reason() {
    for (raw, why) in [
        ("RSSMRA85T10A562T", "check character"),
        ("RSSMRA85T10A562", "16"),
        ("RSSMRA85X10A562S", "month"),
        ("RSSMRA85T32A562S", "day"),
        ("RSSMR485T10A562S", "not allowed"),
        ("RSSMRA85T10A56-S", "16 letters and digits"),
    ] {
        let e = FiscalCode::parse(raw).unwrap_err().to_string();
        assert!(e.contains(why), "{raw}: {e}");
    }
}
