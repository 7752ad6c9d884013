use super::*;

#[test]
fn italian_fits_the_gsm_alphabet() {
    assert_eq!(to_gsm("Perché è già così"), "Perché è già così");
    assert_eq!(
        to_gsm("È l’ufficio “Anagrafe” – orari…"),
        "E' l'ufficio \"Anagrafe\" - orari..."
    );
    assert_eq!(length("€10"), 4, "the euro sign takes two septets");
    assert_eq!(to_gsm("日本"), "??");
}

#[test]
fn a_short_text_is_one_message_and_a_long_one_parts_cut_between_words() {
    assert_eq!(
        parts("Il suo codice è 123456."),
        vec!["Il suo codice è 123456."]
    );
    let exactly = "a".repeat(160);
    assert_eq!(parts(&exactly).len(), 1);
    let words = "parola ".repeat(60);
    let p = parts(&words);
    assert!(p.len() >= 3, "{p:?}");
    for part in &p {
        assert!(length(part) <= PART, "{part}");
        assert!(part.ends_with("parola"), "cut mid-word: {part:?}");
    }
    assert_eq!(p.join(" "), words.trim());
    // A word longer than a part is the only thing cut.
    let long = "x".repeat(400);
    let p = parts(&long);
    assert_eq!(p.concat(), long);
}
