use super::*;

#[test]
fn codes_are_grouped_distinct_and_typed_loosely() {
    let a = new_code();
    assert_eq!(a.len(), 14);
    assert_eq!(a.matches('-').count(), 2);
    assert!(looks_like_one(&a) && looks_like_one(&a.to_uppercase().replace('-', " ")));
    assert_eq!(normalised(&a.to_uppercase()), normalised(&a));
    assert!(!looks_like_one("123456"));
    let set: std::collections::HashSet<String> = (0..200).map(|_| new_code()).collect();
    assert_eq!(set.len(), 200);
}
