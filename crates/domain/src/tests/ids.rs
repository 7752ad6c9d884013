use super::*;

#[test]
fn host_folds_case_port_and_trailing_dot() {
    for raw in [
        "Pisa.Localhost",
        "pisa.localhost:8080",
        "pisa.localhost.",
        "PISA.LOCALHOST.:80",
    ] {
        assert_eq!(
            Host::parse(raw).map(|h| h.0),
            Ok("pisa.localhost".to_owned()),
            "{raw}"
        );
    }
}

#[test]
fn host_rejects_garbage() {
    for raw in [
        "",
        ".",
        "pisa..localhost",
        "pi sa.localhost",
        "-pisa.localhost",
        "[::1]:80",
        "a:b:c",
        "pisa.localhost:80x",
        "évian.localhost",
    ] {
        assert!(Host::parse(raw).is_err(), "{raw} should be rejected");
    }
}

#[test]
fn slug_rules() {
    assert!(Slug::parse("certificato-residenza").is_ok());
    for bad in ["", "A", "a_b", "-a", "a-", "a--b", "è"] {
        assert!(Slug::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn istat_and_cadastral_codes() {
    assert!(IstatCode::parse("050026").is_ok());
    assert!(IstatCode::parse("50026").is_err());
    assert!(IstatCode::parse("05002a").is_err());
    assert_eq!(CadastralCode::parse("g702").map(|c| c.0), Ok("G702".into()));
    assert!(CadastralCode::parse("7702").is_err());
}
