use super::*;

#[test]
fn secrets_stay_out_of_debug_output() {
    let s = Settings {
        database_url: Secret::new("postgres://app:hunter2@db/sportello"),
        ..Settings::default()
    };
    assert!(!format!("{s:?}").contains("hunter2"));
}

#[test]
fn demo_mode_cannot_come_from_configuration() {
    let base = || Figment::from(Serialized::defaults(Settings::default()));
    // Nothing named: not in demo mode.
    assert!(!Settings::from_figment(base()).expect("defaults").demo);
    // In a file, or as SPORTELLO_DEMO (the environment provider gives the same key): refused.
    for figment in [
        base().merge(Toml::string("demo = true")),
        base().merge(("demo", true)),
        base().merge(("demo", false)),
        base().merge(("DEMO", true)),
        base().merge(Toml::string("Demo = true")),
        base().merge(Toml::string("[default]\ndemo = true")),
    ] {
        assert_eq!(
            Settings::from_figment(figment).err().as_deref(),
            Some(DEMO_REFUSED)
        );
    }
}

#[test]
fn demo_mode_is_refused_over_https() {
    let demo = |scheme: &str| Settings {
        demo: true,
        public_scheme: scheme.into(),
        ..Settings::default()
    };
    assert!(demo("http").check().is_ok());
    assert!(
        demo("https")
            .check()
            .unwrap_err()
            .contains("demo mode is refused")
    );
    let production = Settings {
        public_scheme: "https".into(),
        ..Settings::default()
    };
    assert!(production.check().is_ok());
}

#[test]
fn the_reconciliation_hour_is_an_hour_of_the_day() {
    let base = || Figment::from(Serialized::defaults(Settings::default()));
    let at = |h: u32| Settings::from_figment(base().merge(("stripe.reconcile_at_hour", h)));
    assert_eq!(at(23).map(|s| s.stripe.reconcile_at_hour), Ok(23));
    assert!(
        at(24)
            .err()
            .is_some_and(|e| e.contains("reconcile_at_hour"))
    );
}
