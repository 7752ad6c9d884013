#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn the_answers_follow_the_stars() {
    assert_eq!(Rating::parse("2", "technical", "").unwrap().stars, 2);
    assert_eq!(
        Rating::parse("5", "clear", " bene ").unwrap().details,
        "bene"
    );
    assert_eq!(Rating::parse("5", "technical", "").unwrap_err().0, "answer");
    assert_eq!(Rating::parse("3", "clear", "").unwrap_err().0, "answer");
    for bad in ["0", "6", "x", ""] {
        assert_eq!(Rating::parse(bad, "other", "").unwrap_err().0, "stars");
    }
    assert_eq!(
        Rating::parse("4", "other", &"x".repeat(201)).unwrap_err().0,
        "details"
    );
}
