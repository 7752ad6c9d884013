//! The per-address limit on password attempts: counted per client address (an IPv6 /64 as one),
//! the address read from `X-Forwarded-For` only behind a trusted proxy (its rightmost hop that is
//! not a proxy), and the answer 429 in the visitor's words.

use sportello_tests::browser::Browser;
use sportello_tests::{Options, StatusCode, TestApp, spawn_app_with};

async fn app(trusted: bool) -> TestApp {
    spawn_app_with(Options {
        trusted_proxies: if trusted {
            vec!["127.0.0.1".parse().unwrap()]
        } else {
            vec![]
        },
        settings: Box::new(|s| s.login_attempts_per_minute = 3),
        ..Options::default()
    })
    .await
}

/// A wrong password posted with this `X-Forwarded-For`: the status.
async fn attempt(app: &TestApp, forwarded_for: &str) -> StatusCode {
    let mut b = Browser::new(app.addr);
    let page = b.get(&b.url("login.localhost", "/registrati")).await;
    let field = page.input("csrf").unwrap();
    let cookie = b.cookie("login.localhost", "sportello_csrf").unwrap();
    reqwest::Client::new()
        .post(format!("http://{}/password", app.addr))
        .header("host", format!("login.localhost:{}", app.port()))
        .header("cookie", format!("sportello_csrf={cookie}"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[
            ("email", "nessuno@example.org"),
            ("password", "non è questa"),
            ("csrf", &field),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_and_each_ipv6_64_has_its_own_limit() {
    let app = app(true).await;
    for _ in 0..3 {
        assert_ne!(
            attempt(&app, "2001:db8:1:2::10").await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    // The fourth from the same /64 (another address in it): over the limit.
    assert_eq!(
        attempt(&app, "2001:db8:1:2::99").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another /64, another IPv4 client: their own limits.
    assert_ne!(
        attempt(&app, "2001:db8:1:3::10").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_ne!(
        attempt(&app, "198.51.100.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A client cannot pick its address: the proxy appends the real one, which counts.
    for spoofed in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        let status = attempt(&app, &format!("{spoofed}, 198.51.100.7")).await;
        if spoofed == "203.0.113.3" {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "198.51.100.7's 4th");
        } else {
            assert_ne!(status, StatusCode::TOO_MANY_REQUESTS);
        }
    }
}

#[tokio::test]
async fn without_a_trusted_proxy_the_header_is_ignored_and_the_peer_counts() {
    let app = app(false).await;
    let mut statuses = vec![];
    for i in 0..4 {
        statuses.push(attempt(&app, &format!("198.51.100.{i}")).await);
    }
    assert!(
        statuses[..3]
            .iter()
            .all(|s| *s != StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    // In words.
    let mut b = Browser::new(app.addr);
    let page = b.get(&b.url("login.localhost", "/registrati")).await;
    let field = page.input("csrf").unwrap();
    let r = b
        .post(
            &b.url("login.localhost", "/password"),
            &[
                ("email", "x@example.org"),
                ("password", "y"),
                ("csrf", &field),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("id=\"request-id\""), "{}", r.body);
}
