use super::*;

#[test]
fn a_words_bound_follows_every_word_it_begins() {
    assert_eq!(word_bound("ros").as_deref(), Some("rot"));
    assert_eq!(word_bound("az").as_deref(), Some("b"));
    assert_eq!(word_bound("19").as_deref(), Some("1a"));
    assert_eq!(word_bound("zz"), None);
    for (w, after) in [
        ("ros", "rossi"),
        ("az", "azzurro"),
        ("19", "1999"),
        ("mar", "marzz"),
    ] {
        let Some(b) = word_bound(w) else {
            panic!("{w} has no bound");
        };
        assert!(
            after.starts_with(w) && after < b.as_str(),
            "{w} {after} {b}"
        );
    }
    assert_eq!(
        name_words(" maria  rossi ").collect::<Vec<_>>(),
        ["maria", "rossi"]
    );
}
