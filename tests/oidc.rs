//! OpenID Connect sign-in against a real provider (npm `oidc-provider`) started by the test:
//! the whole flow, SSO into a second commune, key rotation, and every hostile token refused with
//! no session created.

use serde_json::json;
use sportello_kernel::config::OidcProvider as ProviderConfig;
use sportello_tests::browser::{Browser, Page};
use sportello_tests::counterparts::OidcProvider;
use sportello_tests::{Options, StatusCode, TestApp, spawn_app_with};

const SPID_L1: &str = "https://www.spid.gov.it/SpidL1";
const SPID_L2: &str = "https://www.spid.gov.it/SpidL2";

async fn setup() -> (TestApp, OidcProvider) {
    setup_with(OidcProvider::start(), |_| {}).await
}

/// The app trusting `op` (as provider `test-op`), with more settings; `op` knows the app as a
/// client and signs Mario Rossi in at level 2.
pub(crate) async fn setup_with(
    op: OidcProvider,
    more: impl FnOnce(&mut sportello_web::Settings) + 'static,
) -> (TestApp, OidcProvider) {
    let issuer = op.issuer.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    op.admin(
        "clients",
        json!({"client_id": "sportello", "client_secret": "s3cret-s3cret-s3cret",
               "redirect_uris": [format!("http://login.localhost:{port}/oidc/callback")]}),
    )
    .await;
    op.admin("account", account("RSSMRA80A01G702C", SPID_L2))
        .await;
    let app = spawn_app_with(Options {
        listener: Some(listener),
        settings: Box::new(move |s| {
            s.oidc_providers = vec![ProviderConfig {
                id: "test-op".into(),
                name: "Test OP".into(),
                issuer,
                client_id: "sportello".into(),
                client_secret: sportello_web::Secret::new("s3cret-s3cret-s3cret"),
            }];
            more(s);
        }),
        ..Options::default()
    })
    .await;
    (app, op)
}

fn account(cf: &str, acr: &str) -> serde_json::Value {
    json!({"sub": "sub-mario-rossi", "given_name": "Mario", "family_name": "Rossi",
           "email": "mario@example.org", "phone_number": "+393331234567",
           "fiscal_number": format!("TINIT-{cf}"), "acr": acr})
}

/// Starts at a commune page, clicks the provider on the sign-in page, follows to the end.
pub(crate) async fn sign_in(b: &mut Browser, host: &str, next: &str) -> Page {
    let page = b.get(&b.url(host, &format!("/accedi?next={next}"))).await;
    assert!(
        page.body.contains("/oidc/login?provider=test-op"),
        "{}",
        page.body
    );
    b.get(&b.url("login.localhost", "/oidc/login?provider=test-op"))
        .await
}

async fn given_name(app: &TestApp) -> String {
    let id = app.store.identity();
    let p = id.person_by_fiscal_code("RSSMRA80A01G702C").await.unwrap();
    p.unwrap().given_name
}

pub(crate) async fn sessions(app: &TestApp) -> i64 {
    app.store.identity().session_count().await.unwrap()
}

#[tokio::test]
async fn sign_in_through_the_provider_then_a_second_commune_without_prompt_then_out() {
    let (app, _op) = setup().await;
    let mut b = Browser::new(app.addr);
    let p = sign_in(&mut b, "pisa.localhost", "/area-personale").await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", b.trail);
    assert!(p.url.contains("pisa.localhost"));
    assert!(
        p.body.contains("RSSMRA80A01G702C"),
        "fiscal code from the provider"
    );
    assert!(
        p.body.contains("id=\"place-of-birth\">Pisa (PI)"),
        "birthplace from the cadastral code G702"
    );
    assert!(
        p.body.contains("id=\"session-level\">2<"),
        "SpidL2 → level 2"
    );
    assert!(p.body.contains("oidc:test-op"));
    // PKCE was sent and the state/nonce were random per request.
    let auth = b
        .trail
        .iter()
        .find(|u| u.contains("/auth?"))
        .expect("authorization request")
        .clone();
    assert!(
        auth.contains("code_challenge=") && auth.contains("code_challenge_method=S256"),
        "{auth}"
    );
    assert!(auth.contains("nonce=") && auth.contains("state="));
    assert!(
        auth.contains("acr_values=https%3A%2F%2Fwww.spid.gov.it%2FSpidL1"),
        "{auth}"
    );

    let person = app
        .store
        .identity()
        .person_by_fiscal_code("RSSMRA80A01G702C")
        .await
        .unwrap()
        .expect("one identity");
    let calci = b.get(&b.url("calci.localhost", "/area-personale")).await;
    assert_eq!(calci.status, StatusCode::OK);
    assert!(calci.body.contains("RSSMRA80A01G702C"));
    assert!(
        !b.trail.iter().any(|u| u.contains("/auth?")),
        "no second trip to the provider: {:?}",
        b.trail
    );
    assert_eq!(
        app.store.identity().people_count().await.unwrap(),
        1,
        "one person for both communes"
    );
    // The audit log has the sign-in with its level and provider, and both hand-offs.
    let log = app
        .store
        .identity()
        .audit_log(Some(&person.id), 10)
        .await
        .unwrap();
    assert!(log.iter().any(|e| e.event == "sign_in"
        && e.level.as_deref() == Some("substantial")
        && e.idp.as_deref() == Some("oidc:test-op")));
    assert_eq!(log.iter().filter(|e| e.event == "handoff").count(), 2);
    // Each commune keeps its own record of the person.
    for c in [50026, 50003] {
        let tx = app
            .store
            .tenant(sportello_domain::TenantId(c))
            .await
            .unwrap();
        assert!(
            tx.db().citizen_since(&person.id).await.unwrap().is_some(),
            "commune {c}"
        );
    }

    let csrf = calci.input("csrf").unwrap();
    b.post(&b.url("calci.localhost", "/esci"), &[("csrf", &csrf)])
        .await;
    assert_eq!(sessions(&app).await, 0);
    assert!(
        sportello_tests::eventually(|| {
            let mut b = b.on_node(app.addr);
            async move {
                b.get_once(&b.url("pisa.localhost", "/area-personale"))
                    .await
                    .status
                    == StatusCode::SEE_OTHER
            }
        })
        .await
    );
}

#[tokio::test]
async fn the_same_person_through_an_omocodia_variant_is_one_identity_and_a_step_up_works() {
    let (app, op) = setup().await;
    op.admin("account", account("RSSMRA80A01G702C", SPID_L1))
        .await;
    let mut b = Browser::new(app.addr);
    let p = sign_in(&mut b, "pisa.localhost", "/area-personale").await;
    assert!(p.body.contains("id=\"session-level\">1<"));
    // Level 2 needed: the sign-in page asks to step up; the provider now vouches at L2.
    let page = b
        .get(&b.url("pisa.localhost", "/servizi/certificato-residenza/avvia"))
        .await;
    assert!(page.url.contains("login.localhost"));
    op.admin("account", account("RSSMRA80A01G70NR", SPID_L2))
        .await;
    // (G70N is the omocodia form of G702: the fiscal code is normalised to one identity.)
    let done = b
        .get(&b.url("login.localhost", "/oidc/login?provider=test-op"))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", b.trail);
    assert!(done.body.contains("id=\"access-level\""), "{:?}", b.trail);
    assert_eq!(app.store.identity().people_count().await.unwrap(), 1);
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_and_accepted() {
    let (app, op) = setup().await;
    let mut b = Browser::new(app.addr);
    assert_eq!(
        sign_in(&mut b, "pisa.localhost", "/area-personale")
            .await
            .status,
        StatusCode::OK
    );
    let rotated = op.admin("rotate", json!({})).await;
    assert!(rotated["kid"].is_string());
    let mut c = Browser::new(app.addr);
    let p = sign_in(&mut c, "calci.localhost", "/area-personale").await;
    assert_eq!(
        p.status,
        StatusCode::OK,
        "new key fetched on unknown kid: {}",
        p.body
    );
}

#[tokio::test]
async fn hostile_tokens_are_refused_and_create_no_session() {
    let (app, op) = setup().await;
    for mode in [
        "none",
        "wrong_iss",
        "wrong_aud",
        "expired",
        "iat_future",
        "nonce",
        "foreign_key",
        "unknown_kid_foreign",
        "hs256",
        "azp",
        "aud_twice",
        "userinfo_sub",
    ] {
        op.admin("tamper", json!({"mode": mode})).await;
        let before = sessions(&app).await;
        let mut b = Browser::new(app.addr);
        let p = sign_in(&mut b, "pisa.localhost", "/area-personale").await;
        assert!(
            p.status.is_client_error(),
            "{mode}: {} {}",
            p.status,
            p.body
        );
        assert!(p.body.contains("Accesso rifiutato"), "{mode}: {}", p.body);
        assert_eq!(sessions(&app).await, before, "{mode}: no session");
        assert!(
            b.cookie("login.localhost", "sportello_sso").is_none(),
            "{mode}"
        );
        op.admin("tamper", json!({"mode": "clear"})).await;
    }
    // A level lower than the one asked for is refused.
    op.admin("account", account("RSSMRA80A01G702C", SPID_L1))
        .await;
    let mut b = Browser::new(app.addr);
    let page = b
        .get(&b.url("pisa.localhost", "/servizi/certificato-residenza/avvia"))
        .await;
    assert!(page.url.contains("login.localhost"));
    let p = b
        .get(&b.url("login.localhost", "/oidc/login?provider=test-op"))
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    assert!(p.body.contains("level 2 is needed"));
    assert_eq!(sessions(&app).await, 0);
}

#[tokio::test]
async fn tokens_naming_unknown_keys_refetch_the_keys_at_most_once_a_minute() {
    let (app, op) = setup().await;
    let mut b = Browser::new(app.addr);
    let ok = sign_in(&mut b, "pisa.localhost", "/area-personale").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let fetched = || async { op.health().await["jwks_fetches"].as_i64().unwrap() };
    let after_discovery = fetched().await;
    for round in 1..=3 {
        op.admin("tamper", json!({"mode": "unknown_kid_foreign"}))
            .await;
        let mut b = Browser::new(app.addr);
        let p = sign_in(&mut b, "pisa.localhost", "/area-personale").await;
        assert!(p.status.is_client_error(), "{round}: {}", p.status);
        assert_eq!(
            fetched().await,
            after_discovery + 1,
            "round {round}: one re-fetch, then none within the minute"
        );
    }
    assert_eq!(sessions(&app).await, 2, "only the good sign-in's sessions");
}

#[tokio::test]
async fn state_is_bound_to_the_browser_and_used_once() {
    let (app, _op) = setup().await;
    let mut b = Browser::new(app.addr);
    b.get(&b.url("pisa.localhost", "/accedi")).await;
    let start = b
        .get_once(&b.url("login.localhost", "/oidc/login?provider=test-op"))
        .await;
    let auth = start.headers["location"].to_str().unwrap().to_owned();
    // Walk the provider by hand up to the callback, without calling it.
    let mut url = auth;
    let callback = loop {
        let r = b.get_once(&url).await;
        let loc = r.headers["location"].to_str().unwrap().to_owned();
        let next = if loc.starts_with("http") {
            loc
        } else {
            format!(
                "{}{loc}",
                url.split('/').take(3).collect::<Vec<_>>().join("/")
            )
        };
        if next.contains("/oidc/callback") {
            break next;
        }
        url = next;
    };
    // Another browser (no flow cookie) cannot use the callback, nor spoil it for the browser
    // that asked (the state travels in URLs: whoever learnt it must not cancel a sign-in).
    let mut other = Browser::new(app.addr);
    let stolen = other.get(&callback).await;
    assert_eq!(stolen.status, StatusCode::FORBIDDEN);
    assert_eq!(sessions(&app).await, 0);
    // Both refusals are recorded with their reasons: another browser, and a callback without
    // any `state`.
    let no_state = other
        .get(&other.url("login.localhost", "/oidc/callback?code=x"))
        .await;
    assert_eq!(no_state.status, StatusCode::BAD_REQUEST);
    let reasons = app.audit_details("sign_in_rejected").await;
    assert!(reasons[0].contains("state"), "{reasons:?}");
    assert!(reasons[1].contains("sign_in_other_browser"), "{reasons:?}");
    let done = b.get(&callback).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", b.trail);
    assert!(sessions(&app).await > 0);
    // And then the state is used up, for everyone.
    let n = sessions(&app).await;
    let late = b.get(&callback).await;
    assert_eq!(late.status, StatusCode::FORBIDDEN);
    assert_eq!(sessions(&app).await, n);
    // A callback with no state at all.
    assert_eq!(
        b.get(&b.url("login.localhost", "/oidc/callback?code=x"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_commune_can_add_its_own_provider_with_the_secret_encrypted_at_rest() {
    let (app, op) = setup().await;
    let pisa = sportello_domain::TenantId(50026);
    let key = sportello_web::Settings::default()
        .secret_key()
        .unwrap()
        .to_owned();
    let secrets = sportello_kernel::secretbox::SecretBox::from_base64(&key).unwrap();
    // A second client at the same provider, registered for Pisa only.
    let port = app.port();
    op.admin(
        "clients",
        json!({"client_id": "pisa-only", "client_secret": "pisa-secret-123",
        "redirect_uris": [format!("http://login.localhost:{port}/oidc/callback")]}),
    )
    .await;
    sportello_identity::idp::put_commune_oidc(
        &app.store,
        &secrets,
        pisa,
        sportello_identity::idp::NewCommuneOidc {
            id: "toscana",
            name: "Regione Toscana",
            issuer: &op.issuer,
            client_id: "pisa-only",
            client_secret: "pisa-secret-123",
        },
    )
    .await
    .unwrap();
    // Stored encrypted.
    let tx = app.store.tenant(pisa).await.unwrap();
    let stored = tx.db().commune_idps().await.unwrap();
    drop(tx);
    assert_eq!(stored.len(), 1);
    sportello_tests::assert_sealed(&stored[0].client_secret, b"pisa-secret-123");
    // Offered when signing in for Pisa, not for Calci.
    let mut b = Browser::new(app.addr);
    let pisa_page = b.get(&b.url("pisa.localhost", "/accedi")).await;
    assert!(pisa_page.body.contains("Regione Toscana"));
    let mut c = Browser::new(app.addr);
    let calci_page = c.get(&c.url("calci.localhost", "/accedi")).await;
    assert!(!calci_page.body.contains("Regione Toscana"));
    // And it signs in.
    let p = b
        .get(&b.url(
            "login.localhost",
            "/oidc/login?provider=commune-50026-toscana",
        ))
        .await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", b.trail);
    assert!(p.url.contains("pisa.localhost"));
    assert!(b.trail.iter().any(|u| u.contains("client_id=pisa-only")));
    // Another commune's id that does not exist: 404.
    let mut d = Browser::new(app.addr);
    d.get(&d.url("calci.localhost", "/accedi")).await;
    let none = d
        .get(&d.url(
            "login.localhost",
            "/oidc/login?provider=commune-50003-toscana",
        ))
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    // Pisa's provider cannot be used for a sign-in at Calci…
    let stolen = c
        .get(&c.url(
            "login.localhost",
            "/oidc/login?provider=commune-50026-toscana",
        ))
        .await;
    assert_eq!(stolen.status, StatusCode::FORBIDDEN, "{:?}", c.trail);
    assert_eq!(sessions(&app).await, 2, "only the Pisa sign-in's sessions");
    // …and a sign-in through it is not handed to Calci: Calci asks for a sign-in.
    let calci = b.get(&b.url("calci.localhost", "/area-personale")).await;
    assert!(calci.url.contains("login.localhost"), "{:?}", b.trail);
    assert!(calci.body.contains("/oidc/login?provider=test-op"));
    assert!(!calci.body.contains("Regione Toscana"));
    // Nor may it rewrite the person's federation-wide profile.
    let mut impostor = account("RSSMRA80A01G702C", SPID_L2);
    impostor["given_name"] = json!("Impostore");
    op.admin("account", impostor).await;
    let mut e = Browser::new(app.addr);
    e.get(&e.url("pisa.localhost", "/accedi")).await;
    let p = e
        .get(&e.url(
            "login.localhost",
            "/oidc/login?provider=commune-50026-toscana",
        ))
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(
        given_name(&app).await,
        "Mario",
        "a commune's provider does not rewrite people"
    );
    // The federation's provider does refresh the profile.
    let mut f = Browser::new(app.addr);
    assert_eq!(
        sign_in(&mut f, "calci.localhost", "/").await.status,
        StatusCode::OK
    );
    assert_eq!(given_name(&app).await, "Impostore");
}

#[tokio::test]
async fn staff_can_enter_the_console_through_an_identity_provider_at_level_2() {
    let (app, op) = setup().await;
    let pisa = sportello_domain::TenantId(50026);
    let (staff_id, _) = sportello_identity::staff::invite(
        &app.store,
        sportello_store::staff::Realm::Commune(pisa),
        "mario@comune.pisa.it",
        "Mario Rossi (anagrafe)",
        "clerk",
    )
    .await
    .unwrap();
    sportello_identity::staff::link_fiscal_code(
        &app.store,
        sportello_store::staff::Realm::Commune(pisa),
        &staff_id,
        "RSSMRA80A01G702C",
    )
    .await
    .unwrap();
    // From the console's sign-in page, through the provider at level 2, into the console.
    let mut b = Browser::new(app.addr);
    let form = b.get(&b.url("pisa.localhost", "/console/accedi")).await;
    assert!(form.body.contains("href=\"/accedi/operatore\""));
    let page = b.get(&b.url("pisa.localhost", "/accedi/operatore")).await;
    assert!(page.url.contains("login.localhost"), "{:?}", b.trail);
    assert!(
        !page.body.contains("name=\"password\""),
        "level 2: no password form"
    );
    let console = b
        .get(&b.url("login.localhost", "/oidc/login?provider=test-op"))
        .await;
    assert_eq!(console.status, StatusCode::OK, "{:?}", b.trail);
    assert!(console.url.ends_with("/console"), "{}", console.url);
    assert!(console.body.contains("Mario Rossi (anagrafe)"));
    // The same staff session opens nothing at Calci.
    let calci = b.get(&b.url("calci.localhost", "/console")).await;
    assert!(calci.url.ends_with("/console/accedi"));
    // A person with no staff account of the commune is refused.
    op.admin("account", account("VRDGPP80A01H501U", SPID_L2))
        .await;
    let mut c = Browser::new(app.addr);
    c.get(&c.url("pisa.localhost", "/accedi/operatore")).await;
    let refused = c
        .get(&c.url("login.localhost", "/oidc/login?provider=test-op"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", c.trail);
    // Level 1 never opens the console: it is sent to step up.
    op.admin("account", account("RSSMRA80A01G702C", SPID_L1))
        .await;
    let mut d = Browser::new(app.addr);
    d.get(&d.url("pisa.localhost", "/accedi")).await;
    let l1 = d
        .get(&d.url("login.localhost", "/oidc/login?provider=test-op"))
        .await;
    assert_eq!(l1.status, StatusCode::OK);
    let again = d.get(&d.url("pisa.localhost", "/accedi/operatore")).await;
    assert!(again.url.contains("login.localhost"), "{:?}", d.trail);
    assert!(!again.body.contains("Mario Rossi (anagrafe)"));
}
