use super::*;

#[test]
fn stems_meet_across_gender_and_number() {
    for (a, b) in [
        ("certificato", "certificati"),
        ("residenza", "residenze"),
        ("iscrizione", "iscrizioni"),
        ("certificate", "certificates"),
    ] {
        assert_eq!(stem(a), stem(b), "{a} {b}");
    }
    assert_eq!(stem("cie"), "cie", "short words stay whole");
}

#[test]
fn titles_beat_descriptions_and_words_beat_fragments() {
    let q = Query::parse("la residenza");
    let title = q.score(&[("Cambio di residenza", 5), ("", 1)]).unwrap();
    let body = q
        .score(&[
            ("Certificato di stato civile", 5),
            ("Serve la residenza", 1),
        ])
        .unwrap();
    assert!(title > body);
    let whole = Query::parse("cie")
        .score(&[("Carta d'identità (CIE)", 5)])
        .unwrap();
    let inside = Query::parse("cie")
        .score(&[("Società sportive", 5)])
        .unwrap();
    assert!(whole > inside);
    assert_eq!(
        Query::parse("cie anagrafe").score(&[("CIE", 5)]),
        None,
        "every word"
    );
    assert!(
        Query::parse("di")
            .score(&[("Ufficio di piano", 1)])
            .is_some()
    );
    let long = Query::parse(&"toscana ".repeat(8000));
    assert_eq!(long.terms.len(), 1, "repeated words count once");
    let many = Query::parse("a1 b2 c3 d4 e5 f6 g7 h8 i9 j10");
    assert_eq!(many.terms.len(), MOST_TERMS);
}
