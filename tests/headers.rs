//! Security headers on every kind of answer: pages, the API, the console's door, error pages,
//! static files; HSTS only when the portal is served over https.

use sportello_tests::{Options, spawn_app, spawn_app_with};

const PAGES: &[(&str, &str)] = &[
    ("pisa.localhost", "/"),
    ("pisa.localhost", "/servizi/certificato-residenza"),
    ("pisa.localhost", "/api/v1/services"),
    ("pisa.localhost", "/console/accedi"),
    ("pisa.localhost", "/non-esiste"),
    ("pisa.localhost", "/static/sportello.css"),
    ("localhost", "/"),
    ("nessuno.localhost", "/"),
];

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    for (host, path) in PAGES {
        let res = app.get(host, path).await;
        let h = res.headers();
        let get = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let csp = get("content-security-policy");
        for part in [
            "default-src 'self'",
            "script-src 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                csp.contains(part),
                "{host}{path}: {part} missing in {csp:?}"
            );
        }
        assert_eq!(get("x-content-type-options"), "nosniff", "{host}{path}");
        assert_eq!(
            get("referrer-policy"),
            "strict-origin-when-cross-origin",
            "{host}{path}"
        );
        assert_eq!(get("x-frame-options"), "DENY", "{host}{path}");
        assert_eq!(
            get("strict-transport-security"),
            "",
            "{host}{path}: HSTS over http"
        );
    }
}

#[tokio::test]
async fn over_https_browsers_are_told_to_stay_on_https() {
    let app = spawn_app_with(Options {
        settings: Box::new(|s| {
            s.public_scheme = "https".into();
            // Over https a real key is required (32 bytes, base64).
            s.secret_key =
                sportello_web::Secret::new("c3BvcnRlbGxvLWhlYWRlcnMtdGVzdC1rZXktMzJieXQ=");
        }),
        ..Options::default()
    })
    .await;
    let res = app.get("pisa.localhost", "/").await;
    assert_eq!(
        res.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000")
    );
}

/// RFC 9110: what answers GET answers HEAD, with the same status and headers and no body.
#[tokio::test]
async fn head_gets_what_get_gets_without_the_body() {
    let app = spawn_app().await;
    for (host, path) in [
        ("pisa.localhost", "/"),
        ("pisa.localhost", "/servizi/certificato-residenza"),
        ("pisa.localhost", "/uffici"),
        ("pisa.localhost", "/api/v1/services"),
        ("pisa.localhost", "/console/uffici"),
        ("localhost", "/"),
    ] {
        let get = app.get(host, path).await;
        let head = app
            .client
            .head(format!("http://{}{path}", app.addr))
            .header("host", format!("{host}:{}", app.port()))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), get.status(), "{host}{path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "{host}{path}"
        );
        assert_eq!(
            head.headers().get("location"),
            get.headers().get("location"),
            "{host}{path}"
        );
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "{host}{path}: a body"
        );
        assert!(!get.bytes().await.unwrap().is_empty() || path == "/console/uffici");
    }
}
