#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn retries_double_up_to_the_maximum_with_jitter() {
    let cfg = Delivery {
        retry_base_ms: 1_000,
        retry_max_ms: 60_000,
        ..Delivery::default()
    };
    assert_eq!(retry_delay(&cfg, 1, 1.0), 1_000_000);
    assert_eq!(retry_delay(&cfg, 2, 1.0), 2_000_000);
    assert_eq!(retry_delay(&cfg, 4, 1.0), 8_000_000);
    assert_eq!(retry_delay(&cfg, 20, 1.0), 60_000_000, "capped");
    assert_eq!(retry_delay(&cfg, 3, 0.5), 2_000_000);
    assert_eq!(retry_delay(&cfg, 3, 1.5), 6_000_000);
    assert_eq!(retry_delay(&cfg, 100, 1.0), 60_000_000, "no overflow");
}

#[test]
fn gateways_are_public_https_services_unless_the_deployment_allows_private_ones() {
    use crate::sms::{allowed, is_public};
    let url = |s: &str| reqwest::Url::parse(s).unwrap();
    assert!(allowed(&url("https://sms.example.com/send"), false));
    for bad in [
        "http://sms.example.com/send",
        "https://127.0.0.1/send",
        "https://localhost/send",
        "https://10.1.2.3/send",
        "https://169.254.169.254/latest",
        "https://[::1]/send",
        "https://[fd00::1]/send",
        "https://user:pw@sms.example.com/send",
        "ftp://sms.example.com/send",
        "https://[64:ff9b::a00:1]/send",
        "https://[2002:a00:1::]/send",
        "https://[::a00:1]/send",
        "https://198.18.0.1/send",
        "https://240.0.0.1/send",
    ] {
        assert!(!allowed(&url(bad), false), "{bad}");
    }
    assert!(allowed(&url("http://127.0.0.1:9000/send"), true));
    assert!(!allowed(&url("https://user:pw@127.0.0.1/send"), true));
    assert!(is_public("93.184.216.34".parse().unwrap()));
    assert!(
        !is_public("100.64.0.1".parse().unwrap()),
        "shared address space"
    );
    assert!(
        !is_public("::ffff:192.168.1.1".parse().unwrap()),
        "mapped private"
    );
}

/// A name is resolved to its public addresses only: `localhost` (loopback) resolves to none.
#[tokio::test]
async fn gateway_names_resolve_to_public_addresses_only() {
    use reqwest::dns::Resolve;
    use std::str::FromStr;
    let name = reqwest::dns::Name::from_str("localhost").unwrap();
    let r = crate::sms::PublicOnly.resolve(name).await;
    assert!(r.is_err(), "localhost resolved to a public address");
}
