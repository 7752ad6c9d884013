//! Which commune answers: the Host header's edge cases.

use sportello_tests::{Options, StatusCode, spawn_app, spawn_app_with};

#[tokio::test]
async fn case_port_and_trailing_dot_reach_the_same_commune() {
    let app = spawn_app().await;
    for host in ["pisa.localhost", "PISA.LocalHost", "pisa.localhost."] {
        let (status, body) = app.text(host, "/").await;
        assert_eq!(status, StatusCode::OK, "{host}");
        assert!(
            body.contains("Comune di Pisa") || body.contains(">Pisa<"),
            "{host} should show Pisa"
        );
        assert!(!body.contains("Cascina"), "{host} shows another commune");
    }
    // The port is stripped: the same host with another port in the header still resolves.
    let r = app
        .client
        .get(format!("http://{}/", app.addr))
        .header("host", "pisa.localhost:9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_alias_redirects_permanently_to_the_same_path_on_the_primary_host() {
    let app = spawn_app().await;
    let r = app
        .get("comune-pisa.localhost", "/servizi?evento=family")
        .await;
    assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
    let loc = r.headers()["location"].to_str().unwrap();
    assert_eq!(
        loc,
        format!("http://pisa.localhost:{}/servizi?evento=family", app.port())
    );
}

#[tokio::test]
async fn an_unknown_host_is_a_404_that_links_to_the_federation_never_a_default_commune() {
    let app = spawn_app().await;
    for host in [
        "nowhere.localhost",
        "pisa.example.org",
        "localhost.pisa",
        "not a host!",
    ] {
        let (status, body) = app.text(host, "/").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{host}");
        assert!(
            body.contains(&format!("http://localhost:{}", app.port())),
            "{host}: no link to the federation portal"
        );
        for name in ["Comune di Pisa", "Calci", "Cesena"] {
            assert!(
                !body.contains(name),
                "{host} fell back to a commune ({name})"
            );
        }
    }
    let (status, body) = app.json("nowhere.localhost", "/api/v1/services").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
async fn a_suspended_commune_answers_503_and_comes_back_when_resumed() {
    let app = spawn_app().await;
    let calci = sportello_domain::TenantId(50003);
    app.store
        .federation()
        .set_status(calci, sportello_domain::CommuneStatus::Suspended)
        .await
        .unwrap();
    // The registry refreshes in the background: wait for it (bounded), then assert.
    let mut status = StatusCode::OK;
    for _ in 0..100 {
        status = app.get("calci.localhost", "/").await.status();
        if status != StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (_, body) = app.text("calci.localhost", "/servizi").await;
    assert!(
        !body.contains("Certificat"),
        "a suspended commune must not show its charter"
    );
    // Other communes are unaffected.
    assert_eq!(
        app.get("pisa.localhost", "/").await.status(),
        StatusCode::OK
    );
    app.store
        .federation()
        .set_status(calci, sportello_domain::CommuneStatus::Active)
        .await
        .unwrap();
    for _ in 0..100 {
        status = app.get("calci.localhost", "/").await.status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn x_forwarded_host_is_ignored_from_an_untrusted_peer_and_believed_from_a_trusted_one() {
    // Untrusted: the header cannot switch a request to another commune.
    let app = spawn_app().await;
    let r = app
        .get_with(
            "pisa.localhost",
            "/",
            &[("x-forwarded-host", "cesena.localhost")],
        )
        .await;
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Pisa") && !body.contains("Comune di Cesena"),
        "spoofed X-Forwarded-Host was believed"
    );
    let r = app
        .get_with(
            "nowhere.localhost",
            "/",
            &[("x-forwarded-host", "pisa.localhost")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Trusted proxy (the test client's own address): the header decides.
    let app = spawn_app_with(Options {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..Options::default()
    })
    .await;
    let r = app
        .get_with(
            "proxy.internal",
            "/",
            &[("x-forwarded-host", "cesena.localhost")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Cesena"));
}

#[tokio::test]
async fn the_apex_host_serves_the_federation_portal() {
    let app = spawn_app().await;
    let (status, body) = app.text("localhost", "/?q=pisa").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(&format!("http://pisa.localhost:{}/", app.port())),
        "no link to Pisa's portal"
    );
    assert!(
        !body.contains("cesena.localhost"),
        "search for pisa listed Cesena"
    );
    let (_, j) = app.json("localhost", "/api/v1/communes?q=PI").await;
    let names: Vec<&str> = j["communes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for n in [
        "Pisa",
        "Calci",
        "Cascina",
        "Vecchiano",
        "Vicopisano",
        "Volterra",
        "San Giuliano Terme",
    ] {
        assert!(names.contains(&n), "province PI should list {n}: {names:?}");
    }
    assert!(!names.contains(&"Parma"));
    let (_, j) = app.json("localhost", "/api/v1/communes?q=050026").await;
    assert_eq!(j["communes"][0]["name"], "Pisa");
    let (_, j) = app.json("localhost", "/api/v1/communes?q=bozen").await;
    assert_eq!(j["communes"][0]["name_other"], "Bozen");
    // Charter pages exist only on a commune's host.
    assert_eq!(
        app.get("localhost", "/servizi").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn probes_and_metrics_answer_on_any_host() {
    let app = spawn_app().await;
    assert_eq!(
        app.text("10.0.0.1", "/healthz").await,
        (StatusCode::OK, "ok".to_owned())
    );
    assert_eq!(
        app.text("anything", "/readyz").await,
        (StatusCode::OK, "ready".to_owned())
    );
    app.get("pisa.localhost", "/servizi").await;
    let (status, body) = app.text("anything", "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("sportello_http_requests_total{route=\"/servizi\",status=\"200\"}"),
        "{body}"
    );
    assert!(body.contains("sportello_communes 11"), "{body}");
    let r = app
        .get_with("pisa.localhost", "/", &[("x-request-id", "abc-123")])
        .await;
    assert_eq!(r.headers()["x-request-id"], "abc-123");
}

/// Static assets answer GET and HEAD (their names decoded as the router decodes paths), and
/// refuse other methods with 405.
#[tokio::test]
async fn static_assets_answer_get_and_head_only() {
    let app = spawn_app().await;
    let (status, css) = app.text("pisa.localhost", "/static/sportello.css").await;
    assert_eq!(status, StatusCode::OK);
    let (status, encoded) = app.text("pisa.localhost", "/static/%73portello.css").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(encoded, css);
    let url = format!("http://{}/static/sportello.css", app.addr);
    for method in [reqwest::Method::HEAD, reqwest::Method::GET] {
        let res = app
            .client
            .request(method.clone(), &url)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{method}");
    }
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let res = app
            .client
            .request(method.clone(), &url)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(res.headers()["allow"], "GET, HEAD");
    }
}
