//! Bad input at the boundary, on both databases: control characters in paths, queries and
//! forms get a 400 page (or JSON error) in the visitor's language and write nothing; ids in
//! paths that are not slugs are not found before they reach the store.

use sportello_store::staff::Realm;
use sportello_tests::{StatusCode, spawn_app};

#[tokio::test]
async fn control_characters_in_paths_and_queries_are_a_clear_400() {
    let app = spawn_app().await;
    for path in [
        "/servizi/%00?al=2024-01-01",
        "/servizi/certificato-residenza?al=2024-01-01%00",
        "/uffici/%01",
        "/cerca?q=a%00b",
        "/console/uffici/%00",
    ] {
        let (status, body) = app.text("pisa.localhost", path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body.contains("Richiesta non valida"), "{path}: {body}");
    }
    let (status, body) = app.text("pisa.localhost", "/cerca?q=a%00b&lang=en").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("Invalid request"), "{body}");
    // Under the API, a JSON error.
    let (status, json) = app
        .json("pisa.localhost", "/api/v1/services/a%00b?al=2024-01-01")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error"]["status"], 400, "{json}");
    // Not a slug: not found, without a query.
    for path in [
        "/servizi/Certificato_Residenza?al=2024-01-01",
        "/uffici/a%20b",
    ] {
        let (status, _) = app.text("pisa.localhost", path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = app
        .json("pisa.localhost", "/api/v1/services/a.b?al=2024-01-01")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_form_with_a_control_character_is_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let pisa = sportello_domain::TenantId(50026);
    let mut b = crate::actors::signed_in(
        &app,
        Realm::Commune(pisa),
        "pisa.localhost",
        "admin@pisa.it",
        "admin",
    )
    .await;
    let offices = || async {
        let tx = app.store.tenant(pisa).await.unwrap();
        let n = tx.db().offices().await.unwrap().len();
        tx.commit().await.unwrap();
        n
    };
    let before = offices().await;
    let page = b.get(&b.url("pisa.localhost", "/console/uffici")).await;
    let csrf = page.input("csrf").unwrap();
    for name in ["Ufficio\u{0}nullo", "Ufficio\u{1b}[31m"] {
        let res = b
            .post(
                &b.url("pisa.localhost", "/console/uffici"),
                &[("id", "ufficio-nuovo"), ("name", name), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
        assert!(res.body.contains("caratteri di controllo"), "{}", res.body);
    }
    assert_eq!(offices().await, before, "nothing written");
    // Tabs and line ends are text: a description may have lines.
    let ok = b
        .post(
            &b.url("pisa.localhost", "/console/uffici"),
            &[
                ("id", "ufficio-nuovo"),
                ("name", "Ufficio\tnuovo"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(
        ok.status.is_success() || ok.status.is_redirection(),
        "{}",
        ok.body
    );
    assert_eq!(offices().await, before + 1);
}

/// Every error is the product's own page (or JSON error) in the visitor's language, with the
/// request id to quote; no framework's words ("deserialize", "Content type", "payload").
#[tokio::test]
async fn malformed_queries_and_forms_get_the_products_own_translated_error() {
    let app = spawn_app().await;
    let framework = [
        "deserialize",
        "Content type",
        "payload",
        "missing field",
        "duplicate",
    ];
    let own = |body: &str, what: &str| {
        for w in framework {
            assert!(!body.contains(w), "{what}: framework words: {body}");
        }
        assert!(
            body.contains("id=\"request-id\""),
            "{what}: request id: {body}"
        );
    };
    // A date that is not YYYY-MM-DD, a parameter twice.
    for (path, words) in [
        (
            "/servizi/certificato-residenza?al=2024-1-1",
            "non è valido: al",
        ),
        (
            "/servizi/certificato-residenza?al=+2024-01-01",
            "non è valido: al",
        ),
        (
            "/servizi/certificato-residenza?al=0000-01-01",
            "non è valido: al",
        ),
        ("/cerca?q=a&q=b", "lo stesso parametro due volte"),
    ] {
        let (status, body) = app.text("pisa.localhost", path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(body.contains(words), "{path}: {body}");
        own(&body, path);
    }
    let post = |path: &str, ctype: &str, body: String| {
        reqwest::Client::new()
            .post(format!("http://{}{path}", app.addr))
            .header("host", format!("login.localhost:{}", app.port()))
            .header("content-type", ctype.to_owned())
            .body(body)
            .send()
    };
    // Not a form, a form without its fields, a form far too large.
    for (path, ctype, body, words) in [
        ("/saml/acs", "text/plain", "x".to_owned(), "incompleto"),
        ("/registrati", "text/plain", "x".to_owned(), "incompleto"),
        (
            "/saml/acs",
            "application/x-www-form-urlencoded",
            "RelayState=x".to_owned(),
            "incompleto",
        ),
        (
            "/registrati",
            "application/x-www-form-urlencoded",
            format!("given_name={}", "a".repeat(300 * 1024)),
            "troppo grande",
        ),
    ] {
        let r = post(path, ctype, body).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path} {ctype}");
        let body = r.text().await.unwrap();
        assert!(body.contains(words), "{path} {ctype}: {body}");
        own(&body, path);
    }
    // The API: JSON, the parameter named, the request id.
    for path in [
        "/api/v1/services?lang=xx",
        "/api/v1/services/certificato-residenza?al=2024-1-1",
        "/api/v1/search?q=a&q=b",
    ] {
        let (status, json) = app.json("pisa.localhost", path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {json}");
        assert!(json["error"]["request_id"].is_string(), "{json}");
    }
    let long = format!("/api/v1/communes?q={}", "a".repeat(201));
    let (status, json) = app.json("localhost", &long).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    assert!(json["error"]["message"].as_str().unwrap().ends_with(": q"));
    let (status, _) = app
        .json(
            "localhost",
            &format!("/api/v1/communes?q={}", "a".repeat(200)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // The console's door, in words: a form posted without signing in.
    let r = reqwest::Client::new()
        .post(format!("http://{}/console/uffici", app.addr))
        .header("host", format!("pisa.localhost:{}", app.port()))
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("occorre prima accedere alla console"),
        "{body}"
    );
    // The console on the sign-in host does not exist.
    let (status, _) = app.text("login.localhost", "/console").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
