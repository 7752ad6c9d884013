#[test]
fn next_paths_stay_on_the_host() {
    use super::safe_next;
    assert_eq!(safe_next(Some("/servizi/x?y=1")), "/servizi/x?y=1");
    for bad in [
        "//evil.example/",
        "/\\\\evil.example",
        "https://evil.example/",
        "evil",
        "",
        "/a\nb",
    ] {
        assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
    }
    assert_eq!(safe_next(None), "/");
}
