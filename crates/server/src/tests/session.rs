use super::*;

fn sessions(secure: bool) -> Sessions {
    Sessions::new(
        Lifetimes {
            idle: 1800,
            absolute: 8 * 3600,
            staff_idle: 900,
        },
        secure,
    )
}

#[test]
fn over_https_cookies_are_host_prefixed_and_secure() {
    let s = sessions(true);
    for kind in [Kind::Sso, Kind::Citizen, Kind::Staff] {
        let name = s.cookie_name(kind);
        assert!(name.starts_with("__Host-"), "{name}");
        let c = s.cookie(name, "x".into()).to_string();
        assert!(c.contains("Secure"), "{c}");
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Path=/"),
            "{c}"
        );
        assert!(!c.contains("Domain"), "host-only: {c}");
    }
}

#[test]
fn plain_http_development_drops_the_prefix_and_secure() {
    let s = sessions(false);
    let name = s.cookie_name(Kind::Citizen);
    assert_eq!(name, "sportello_sid");
    let c = s.cookie(name, "x".into()).to_string();
    assert!(!c.contains("Secure") && c.contains("HttpOnly"), "{c}");
    let gone = s.removal(name).to_string();
    assert!(gone.contains("Max-Age=0"), "{gone}");
}

#[test]
fn next_paths_stay_on_the_host() {
    use crate::auth::citizen::safe_next;
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
