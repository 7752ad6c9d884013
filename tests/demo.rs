//! The demonstration identity provider of `serve --demo`: fictitious people signed in through the
//! same path as a real provider (session, hand-off, level, audit), and nowhere outside demo mode.

use sportello_tests::browser::Browser;
use sportello_tests::{Options, StatusCode, TestApp, spawn_app, spawn_app_with};

async fn demo_app() -> TestApp {
    spawn_app_with(Options {
        settings: Box::new(|s| s.demo = true),
        ..Options::default()
    })
    .await
}

/// The rows a query returns, every column as text.
#[tokio::test]
async fn a_demo_person_signs_in_at_level_2_through_the_real_path_and_reaches_a_level_2_service() {
    let app = demo_app().await;
    let mut b = Browser::new(app.addr);
    let service = "/servizi/certificato-residenza/avvia";
    // A level-2 service sends the newcomer to the sign-in host, which offers the demo identities.
    let signin = b.get(&b.url("pisa.localhost", service)).await;
    assert!(signin.url.contains("login.localhost"), "{:?}", b.trail);
    assert!(
        signin.body.contains("href=\"/demo/identita\""),
        "{}",
        signin.body
    );
    let page = b.get(&b.url("login.localhost", "/demo/identita")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Solo dimostrazione"),
        "says it is a demo"
    );
    assert!(page.body.contains("RSSMRA80A01G702C") && page.body.contains("Giulia Bianchi"));
    let csrf = page.input("csrf").expect("csrf");

    // Mario's credential is level 1: below what the service asks, refused like a real answer.
    let low = b
        .post(
            &b.url("login.localhost", "/demo/identita"),
            &[("person", "mario-rossi"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(low.status, StatusCode::FORBIDDEN);
    assert!(b.cookie("login.localhost", "sportello_sso").is_none());
    // Nobody outside the list, and no form without its token.
    for (person, token) in [("nessuno", csrf.as_str()), ("giulia-bianchi", "forged")] {
        let refused = b
            .post(
                &b.url("login.localhost", "/demo/identita"),
                &[("person", person), ("csrf", token)],
            )
            .await;
        assert!(
            refused.status.is_client_error(),
            "{person}: {}",
            refused.status
        );
    }

    // Giulia, level 2: signed in and handed back to Pisa's service, which now opens.
    let done = b
        .post(
            &b.url("login.localhost", "/demo/identita"),
            &[("person", "giulia-bianchi"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", b.trail);
    assert!(
        done.url.starts_with(&b.url("pisa.localhost", service)),
        "{}",
        done.url
    );
    assert!(done.body.contains("Giulia Bianchi"));
    // The same records as a real provider's sign-in: the person by fiscal code, sessions at
    // level 2 from the demo provider (the SSO one and Pisa's), the audit log.
    let person = app
        .rows("SELECT id FROM people WHERE fiscal_code = 'BNCGLI85M52G702M'")
        .await;
    assert_eq!(person.len(), 1);
    let sessions = app
        .rows(&format!(
            "SELECT kind, level, idp FROM sessions WHERE person_id = '{}' ORDER BY kind",
            person[0][0]
        ))
        .await;
    assert_eq!(
        sessions,
        [
            ["citizen", "substantial", "demo:giulia-bianchi"],
            ["sso", "substantial", "demo:giulia-bianchi"]
        ]
    );
    // Her personal area says it in words: events, levels, provider and dates, not codes.
    let area = b.get(&b.url("pisa.localhost", "/area-personale")).await;
    let lists: String = ["id=\"sessions\"", "class=\"sp-events\""]
        .iter()
        .map(|start| {
            let from = area.body.find(start).expect("list");
            let to = from + area.body[from..].find("</ul>").unwrap();
            area.body[from..to].to_owned()
        })
        .collect();
    for words in ["Accesso", "SPID livello 2 o CIE", "Sportello Demo ID"] {
        assert!(lists.contains(words), "{words:?} in {lists}");
    }
    let months = [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ];
    assert!(
        months.iter().any(|m| lists.contains(&format!(" {m} "))),
        "dates in words: {lists}"
    );
    for code in ["sign_in", "handoff", "substantial", "demo:", "Livello 2"] {
        assert!(!lists.contains(code), "{code:?} in {lists}");
    }
    let audit = app
        .rows(
            "SELECT event, COALESCE(level, ''), COALESCE(person_id, '') FROM auth_audit \
         WHERE idp = 'demo' OR idp LIKE 'demo:%' ORDER BY at",
        )
        .await;
    let events: Vec<&str> = audit.iter().map(|r| r[0].as_str()).collect();
    assert!(events.contains(&"sign_in_rejected"), "{audit:?}");
    assert!(
        audit
            .iter()
            .any(|r| r[0] == "sign_in" && r[1] == "substantial" && r[2] == person[0][0]),
        "{audit:?}"
    );

    // Single sign-on: Calci opens the same service with no prompt.
    let calci = b.get(&b.url("calci.localhost", service)).await;
    assert_eq!(calci.status, StatusCode::OK, "{:?}", b.trail);
    assert!(calci.body.contains("Giulia Bianchi"));
}

#[tokio::test]
async fn outside_demo_mode_there_is_no_demo_provider() {
    let app = spawn_app().await;
    let mut b = Browser::new(app.addr);
    let signin = b.get(&b.url("login.localhost", "/")).await;
    assert_eq!(signin.status, StatusCode::OK);
    assert!(!signin.body.contains("/demo/identita"));
    let page = b.get(&b.url("login.localhost", "/demo/identita")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let csrf = b
        .cookie("login.localhost", "sportello_csrf")
        .expect("csrf cookie");
    let post = b
        .post(
            &b.url("login.localhost", "/demo/identita"),
            &[("person", "giulia-bianchi"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    assert!(b.cookie("login.localhost", "sportello_sso").is_none());
}

#[tokio::test]
async fn the_demo_page_exists_only_on_the_sign_in_host() {
    let app = demo_app().await;
    for host in ["pisa.localhost", "localhost"] {
        let (status, _) = app.text(host, "/demo/identita").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{host}");
    }
}
