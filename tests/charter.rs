//! The digital service charter as citizens see it: pages, API, JSON-LD, OpenAPI.

use sportello_tests::browser::Browser;
use sportello_tests::{StatusCode, spawn_app};

#[tokio::test]
async fn the_service_card_answers_who_where_what_when_how_long_how_much() {
    let app = spawn_app().await;
    let (status, body) = app
        .text("pisa.localhost", "/servizi/certificato-residenza")
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, s) = app
        .json("pisa.localhost", "/api/v1/services/certificato-residenza")
        .await;
    // Every fact of the card is on the page.
    let office = s["office"]["name"].as_str().unwrap();
    let responsible = s["responsible"]["name"].as_str().unwrap();
    for fact in [
        s["title"].as_str().unwrap(),
        office,
        responsible,
        s["documents"][0].as_str().unwrap(),
        s["online_level_label"].as_str().unwrap(),
    ] {
        assert!(
            body.contains(&fact.replace('\'', "&#x27;")),
            "the card lacks {fact:?}"
        );
    }
    assert!(
        body.contains("application/ld+json"),
        "no JSON-LD on the card"
    );
    assert_eq!(s["channels"][0]["key"], "online");
    assert!(s["max_days"].is_number());
}

#[tokio::test]
async fn services_are_grouped_by_life_event_and_unknown_events_are_a_clear_400() {
    let app = spawn_app().await;
    let (_, all) = app.json("pisa.localhost", "/api/v1/services").await;
    let all = all["services"].as_array().unwrap();
    assert!(
        all.len() >= 15,
        "Pisa has at least 15 services, found {}",
        all.len()
    );
    let family: Vec<&str> = all
        .iter()
        .filter(|s| {
            s["life_events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["key"] == "family")
        })
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    let (status, page) = app.text("pisa.localhost", "/servizi?evento=family").await;
    assert_eq!(status, StatusCode::OK);
    for t in &family {
        assert!(
            page.contains(&t.replace('\'', "&#x27;")),
            "family page lacks {t}"
        );
    }
    let not_family = all
        .iter()
        .find(|s| {
            !s["life_events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["key"] == "family")
        })
        .unwrap();
    assert!(
        !page.contains(&format!(
            "/servizi/{}\"",
            not_family["id"].as_str().unwrap()
        )),
        "family page lists a service of another event"
    );
    let (status, page) = app.text("pisa.localhost", "/servizi?evento=shopping").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("shopping"),
        "the error should name the bad value"
    );
}

#[tokio::test]
async fn the_office_page_shows_hours_open_now_staff_and_the_way_in() {
    let app = spawn_app().await;
    let (status, o) = app.json("pisa.localhost", "/api/v1/offices/anagrafe").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(o["office"]["week"].as_array().unwrap().len(), 7);
    assert_eq!(
        o["office"]["week"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["today"] == true)
            .count(),
        1
    );
    assert!(o["office"]["open_now"].is_boolean());
    assert!(!o["staff"].as_array().unwrap().is_empty());
    let (_, page) = app.text("pisa.localhost", "/uffici/anagrafe").await;
    let directions = o["office"]["directions"].as_str().unwrap();
    assert!(
        page.contains(&directions[..20].replace('\'', "&#x27;")),
        "no wayfinding on the page"
    );
    assert!(
        page.contains(
            o["office"]["status_label"]
                .as_str()
                .unwrap()
                .split(" · ")
                .next()
                .unwrap()
        )
    );
    assert_eq!(
        app.get("pisa.localhost", "/uffici/no-such-office")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn search_folds_case_and_accents_and_finds_services_offices_and_people() {
    let app = spawn_app().await;
    let (_, r) = app
        .json("pisa.localhost", "/api/v1/search?q=IDENTITA")
        .await;
    let titles: Vec<&str> = r["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.iter().any(|t| t.to_lowercase().contains("identità")),
        "{titles:?}"
    );
    let (_, r) = app
        .json("pisa.localhost", "/api/v1/search?q=anagrafe")
        .await;
    assert!(!r["offices"].as_array().unwrap().is_empty());
    let (_, r) = app.json("pisa.localhost", "/api/v1/search?q=%25").await;
    assert_eq!(r["total"], 0, "a bare % must not match everything");
    let (status, _) = app
        .json(
            "pisa.localhost",
            &format!("/api/v1/search?q={}", "a".repeat(300)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn each_service_is_published_as_cpsv_ap_json_ld() {
    let app = spawn_app().await;
    let r = app
        .get(
            "pisa.localhost",
            "/api/v1/services/certificato-residenza/jsonld",
        )
        .await;
    assert_eq!(r.headers()["content-type"], "application/ld+json");
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["@type"], "cpsv:PublicService");
    assert_eq!(
        j["cv:hasCompetentAuthority"]["dct:identifier"],
        "istat:050026"
    );
    // Both languages of the description, each tagged.
    let langs: Vec<&str> = j["dct:description"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["@language"].as_str())
        .collect();
    assert_eq!(langs, ["it", "en"], "{}", j["dct:description"]);
    assert_eq!(
        j["@id"],
        format!(
            "http://pisa.localhost:{}/servizi/certificato-residenza",
            app.port()
        )
    );
}

#[tokio::test]
async fn every_path_of_the_openapi_document_answers() {
    let app = spawn_app().await;
    let (status, doc) = app.json("pisa.localhost", "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 8, "{paths:?}");
    for (p, item) in paths {
        // Only reading operations; one that needs a session or a token answers 401 without.
        let Some(get) = item.get("get") else {
            continue;
        };
        let expected = if get.get("security").is_some() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        let url = p
            .replace("{id}", "certificato-residenza")
            .replace("/offices/certificato-residenza", "/offices/anagrafe");
        let host = if p.contains("communes") {
            "localhost"
        } else {
            "pisa.localhost"
        };
        let status = app.get(host, &url).await.status();
        assert_eq!(status, expected, "{p} → {url}");
    }
}

/// Cached answers (pages and the JSON API) follow a charter change at once (the commune's
/// version is in the key), and a request naming another port in `Host` fills only its own entry:
/// the absolute links other visitors get are never its.
#[tokio::test]
async fn cached_pages_and_api_answers_follow_changes_and_never_another_request_s_origin() {
    use crate::fixtures::commune_file;
    use sportello_tests::{Options, apex, eventually, spawn_app_with, tenants_folder};
    let dir = tenants_folder(&[(
        "alfa.toml",
        &commune_file("050003", "alfa.localhost", "primo"),
    )]);
    let app = spawn_app_with(Options {
        tenants: Some(dir.path().to_owned()),
        ..Options::default()
    })
    .await;
    let (status, first) = app.text("alfa.localhost", "/api/v1/services").await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.contains("servizio-primo"), "{first}");
    assert_eq!(
        app.text("alfa.localhost", "/api/v1/services").await.1,
        first
    );

    // A request with another port: its page links to that port, and nobody else's does.
    let card = "/servizi/servizio-primo";
    let odd = app
        .client
        .get(format!("http://{}{card}", app.addr))
        .header("host", "alfa.localhost:6666")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(odd.contains("alfa.localhost:6666"), "the page's own links");
    for path in [card, "/api/v1/services/servizio-primo"] {
        let (_, body) = app.text("alfa.localhost", path).await;
        assert!(!body.contains(":6666"), "{path}: {body}");
    }

    // The charter changes: the next answers show it.
    std::fs::write(
        dir.path().join("alfa.toml"),
        commune_file("050003", "alfa.localhost", "secondo"),
    )
    .unwrap();
    app.store
        .federation()
        .sync_tenants_dir(dir.path(), &apex())
        .await
        .unwrap();
    for path in ["/api/v1/services", "/servizi"] {
        assert!(
            eventually(|| async {
                app.text("alfa.localhost", path)
                    .await
                    .1
                    .contains("servizio-secondo")
            })
            .await,
            "{path} still shows the old charter"
        );
    }
}

/// "No query per charter page view": with the page cache off and the pollers idle, 90 views of
/// the charter's pages and API answers run no statement once the commune's charter is in the
/// node's cache (search and history views do read the database). Positive control: a history
/// view (`?al=`) is counted, through the same counter.
#[tokio::test]
async fn charter_page_views_run_no_query_once_the_charter_is_cached() {
    let app = sportello_tests::spawn_app_with(sportello_tests::Options {
        settings: Box::new(|s| {
            s.page_cache_seconds = 0;
            s.registry_refresh_ms = 3_600_000;
            s.policy_refresh_ms = 3_600_000;
        }),
        ..sportello_tests::Options::default()
    })
    .await;
    let pages = [
        "/",
        "/servizi",
        "/servizi?evento=family",
        "/servizi/certificato-residenza",
        "/uffici",
        "/personale",
        "/api/v1/services",
        "/api/v1/services/certificato-residenza",
        "/api/v1/offices",
        "/api/v1/staff",
    ];
    for p in pages {
        let (status, _) = app.text("pisa.localhost", p).await;
        assert_eq!(status, StatusCode::OK, "{p}");
    }
    // The node's start-up work (first polls, certificate checks) done: nothing else counts.
    let mut before = app.store.queries();
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let now = app.store.queries();
        if now == before {
            break;
        }
        before = now;
    }
    for _ in 0..9 {
        for p in pages {
            let (status, _) = app.text("pisa.localhost", p).await;
            assert_eq!(status, StatusCode::OK, "{p}");
        }
    }
    assert_eq!(
        app.store.queries(),
        before,
        "statements run by 90 page views"
    );
    let (status, _) = app
        .text(
            "pisa.localhost",
            "/servizi/certificato-residenza?al=2099-01-01",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        app.store.queries() > before,
        "the counter sees the server's statements"
    );
}

/// A service shows its online channel only where it leads somewhere: another site's service
/// (named), never a dead end; otherwise the card says so and points to the desk.
#[tokio::test]
async fn the_online_channel_is_shown_only_where_it_works() {
    use sportello_store::staff::Realm;
    let app = spawn_app().await;
    let mut b = Browser::new(app.addr);
    let works = b
        .get(&b.url("pisa.localhost", "/servizi/certificato-residenza"))
        .await;
    assert!(
        works.body.contains(
            "id=\"start-online\" href=\"https://www.anagrafenazionale.interno.it/servizi-al-cittadino/\""
        ),
        "{}",
        works.body
    );
    assert!(
        works
            .body
            .contains("www.anagrafenazionale.interno.it</span>")
    );
    // The ZTL permit has its form here: filed online on this site.
    let ztl = b
        .get(&b.url("pisa.localhost", "/servizi/permesso-ztl"))
        .await;
    assert!(
        ztl.body
            .contains("id=\"start-here\" href=\"/servizi/permesso-ztl/avvia\""),
        "{}",
        ztl.body
    );
    // The school bus is marked online in Pisa's file, with nowhere to go: not shown as online.
    let ztl = b
        .get(&b.url("pisa.localhost", "/servizi/trasporto-scolastico"))
        .await;
    assert!(!ztl.body.contains("id=\"start-online\"") && !ztl.body.contains("id=\"start-here\""));
    assert!(ztl.body.contains("id=\"not-online\""), "{}", ztl.body);
    assert!(!ztl.body.contains("/servizi/trasporto-scolastico/avvia"));
    let api = b
        .get(&b.url("pisa.localhost", "/api/v1/services/trasporto-scolastico"))
        .await;
    let v: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert!(v["online_url"].is_null());
    assert!(
        v["channels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["key"] != "online"),
        "{v}"
    );
    let list = b
        .get(&b.url("pisa.localhost", "/servizi?evento=study"))
        .await;
    let ztl_card = list
        .body
        .split("/servizi/trasporto-scolastico")
        .nth(1)
        .unwrap_or("");
    let ztl_card = ztl_card.split("</li>").next().unwrap_or("");
    assert!(!ztl_card.contains("badge"), "{ztl_card}");
    // The administrator gives it its address (a bad one is refused by the field): online.
    let mut admin = crate::actors::signed_in(
        &app,
        Realm::Commune(sportello_domain::TenantId(50026)),
        "pisa.localhost",
        "admin@pisa.example",
        "admin",
    )
    .await;
    let url = admin.url("pisa.localhost", "/console/servizi/trasporto-scolastico");
    let page = admin.get(&url).await;
    let csrf = page.input("csrf").unwrap();
    let form = |online_url: &'static str| {
        vec![
            ("title", "Trasporto scolastico"),
            ("summary", "Iscrizione allo scuolabus comunale."),
            ("audience", "citizens"),
            ("online_level", "substantial"),
            ("channel:online", "on"),
            ("channel:desk", "on"),
            ("online_url", online_url),
        ]
    };
    let mut bad = form("http://ztl.example");
    bad.push(("csrf", &csrf));
    let bad = admin.post(&url, &bad).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("-online_url-error\""), "{}", bad.body);
    assert!(bad.body.contains("value=\"http://ztl.example\""), "kept");
    let mut ok = form("https://ztl.comune.pisa.it/permessi");
    ok.push(("csrf", &csrf));
    let ok = admin.post(&url, &ok).await;
    assert!(ok.url.contains("esito=salvato"), "{}", ok.body);
    let ztl = b
        .get(&b.url("pisa.localhost", "/servizi/trasporto-scolastico"))
        .await;
    assert!(
        ztl.body
            .contains("id=\"start-online\" href=\"https://ztl.comune.pisa.it/permessi\""),
        "{}",
        ztl.body
    );
}

/// The ids of the services a search finds on Pisa's portal, best first (the API gives the
/// same list as the page).
async fn services_found(app: &sportello_tests::TestApp, q: &str) -> Vec<String> {
    let (status, v) = app
        .json("pisa.localhost", &format!("/api/v1/search?q={q}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{q}: {v}");
    v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Searches rank by relevance on real queries: the service named by the words first (a title
/// before a description, a whole word before a fragment), plurals and singulars alike.
#[tokio::test]
async fn searches_rank_what_people_mean_first() {
    let app = spawn_app().await;
    let cie = services_found(&app, "CIE").await;
    assert_eq!(
        cie.first().map(String::as_str),
        Some("carta-identita-elettronica"),
        "{cie:?}"
    );
    let carta = services_found(&app, "carta%20identit%C3%A0").await;
    assert_eq!(
        carta.first().map(String::as_str),
        Some("carta-identita-elettronica"),
        "{carta:?}"
    );
    let residenza = services_found(&app, "residenza").await;
    let titled: Vec<&str> = residenza.iter().take(2).map(String::as_str).collect();
    assert!(
        titled.contains(&"certificato-residenza") && titled.contains(&"cambio-residenza"),
        "the services named by the word come first: {residenza:?}"
    );
    assert!(
        residenza.len() > 2,
        "and the ones that only mention it after: {residenza:?}"
    );
    // A plural finds the singular, and function words do not narrow anything.
    let certificati = services_found(&app, "certificati").await;
    assert!(
        certificati.contains(&"certificato-residenza".to_owned()),
        "{certificati:?}"
    );
    assert_eq!(
        services_found(&app, "il%20certificato%20di%20residenza")
            .await
            .first()
            .map(String::as_str),
        Some("certificato-residenza")
    );
    // The page shows the same order.
    let (_, page) = app.text("pisa.localhost", "/cerca?q=residenza").await;
    let first = page
        .find("/servizi/certificato-residenza\"")
        .unwrap_or(usize::MAX);
    let later = page
        .find("/servizi/certificati-anagrafici-storici\"")
        .unwrap_or(0);
    assert!(first < later, "page order");
}

/// The federation's portal finds a commune by its name, its province or its region, the
/// commune of that name first.
#[tokio::test]
async fn the_federation_portal_finds_communes_by_name_province_and_region() {
    let app = spawn_app().await;
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["communes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, pisa) = app.json("localhost", "/api/v1/communes?q=pisa").await;
    let pisa = names(&pisa);
    assert_eq!(pisa.first().map(String::as_str), Some("Pisa"), "{pisa:?}");
    assert!(
        pisa.iter().any(|n| n == "Calci"),
        "the province's communes follow: {pisa:?}"
    );
    let (_, toscana) = app.json("localhost", "/api/v1/communes?q=Toscana").await;
    let toscana = names(&toscana);
    assert!(toscana.contains(&"Pisa".to_owned()) && toscana.contains(&"Volterra".to_owned()));
    assert!(!toscana.contains(&"Parma".to_owned()), "{toscana:?}");
    let (_, forli) = app.json("localhost", "/api/v1/communes?q=Forl%C3%AC").await;
    assert!(names(&forli).contains(&"Cesena".to_owned()), "{forli}");
    // The page searches the same way, within the same 200 characters.
    let (_, page) = app.text("localhost", "/?q=Toscana").await;
    assert!(page.contains("Volterra"));
    let (status, _) = app
        .text("localhost", &format!("/?q={}", "toscana+".repeat(40)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
