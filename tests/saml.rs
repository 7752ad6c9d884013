//! SAML sign-in against a real IdP (pysaml2, started by the test): the whole flow with SSO into a
//! second commune and logout; every hostile response refused with a 4xx and no session; and the
//! official SPID conformance tool (`spid-sp-test`) run against the service provider.

use base64::Engine as _;
use serde_json::json;
use sportello_tests::browser::{Browser, Page};
use sportello_tests::counterparts::{SamlIdp, dir};
use sportello_tests::{Options, StatusCode, TestApp, spawn_app_with};

const CF: &str = "RSSMRA80A01G702C";

fn user(cf: &str) -> serde_json::Value {
    json!({"fiscalNumber": format!("TINIT-{cf}"), "name": "Mario", "familyName": "Rossi",
           "email": "mario@example.org", "mobilePhone": "+393331234567",
           "dateOfBirth": "1980-01-01", "placeOfBirth": "G702"})
}

async fn setup() -> (TestApp, SamlIdp) {
    setup_with(SamlIdp::start(), |_| {}).await
}

/// The app trusting `idp` (its metadata), with more settings; the IdP knows the app.
pub(crate) async fn setup_with(
    idp: SamlIdp,
    more: impl FnOnce(&mut sportello_web::Settings) + 'static,
) -> (TestApp, SamlIdp) {
    let md = idp.metadata_url.clone();
    let app = spawn_app_with(Options {
        settings: Box::new(move |s| {
            s.saml_idps = md;
            more(s);
        }),
        ..Options::default()
    })
    .await;
    // The IdP learns our metadata (as a federation registry would publish it).
    let r = reqwest::Client::new()
        .get(format!("http://{}/saml/metadata", app.addr))
        .header("host", format!("login.localhost:{}", app.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    idp.register_sp(r.text().await.unwrap()).await;
    idp.next(user(CF), None, None).await;
    (app, idp)
}

/// From the IdP's auto-submitting form to the ACS, as the browser would post it.
async fn post_idp_form(b: &mut Browser, idp_page: &Page, idp: &SamlIdp) -> Page {
    assert_eq!(
        idp_page.status,
        StatusCode::OK,
        "IdP page: {}",
        idp_page.body
    );
    let action = idp_page.form_action().expect("form action");
    let resp = idp_page.input("SAMLResponse").expect("SAMLResponse");
    let relay = idp_page.input("RelayState").unwrap_or_default();
    let origin = idp.metadata_url.trim_end_matches("/metadata").to_owned();
    b.post_cross_site(
        &action,
        &[("SAMLResponse", &resp), ("RelayState", &relay)],
        &origin,
    )
    .await
}

/// Starts a sign-in at `start` on a commune and goes through the IdP up to its form.
async fn to_idp(b: &mut Browser, host: &str, start: &str, idp: &SamlIdp) -> Page {
    let page = b.get(&b.url(host, start)).await;
    assert!(page.url.contains("login.localhost"), "{:?}", b.trail);
    let enc: String = url::form_urlencoded::byte_serialize(idp.entity_id.as_bytes()).collect();
    assert!(
        page.body.contains(&format!("/saml/login?idp={enc}")),
        "{}",
        page.body
    );
    b.get(&b.url("login.localhost", &format!("/saml/login?idp={enc}")))
        .await
}

/// A new browser signs in at Pisa through the IdP: the IdP's form page and the final page.
pub(crate) async fn attempt(app: &TestApp, idp: &SamlIdp) -> (Browser, Page, Page) {
    attempt_in(Browser::new(app.addr), idp).await
}

/// The same in a given browser (with the cookies it already holds).
async fn attempt_in(mut b: Browser, idp: &SamlIdp) -> (Browser, Page, Page) {
    let form = to_idp(
        &mut b,
        "pisa.localhost",
        "/accedi?next=/area-personale",
        idp,
    )
    .await;
    let done = post_idp_form(&mut b, &form, idp).await;
    (b, form, done)
}

pub(crate) async fn sessions(app: &TestApp) -> i64 {
    app.store.identity().session_count().await.unwrap()
}

#[tokio::test]
async fn sign_in_with_saml_then_a_second_commune_without_prompt_then_out_everywhere() {
    let (app, idp) = setup().await;
    let mut b = Browser::new(app.addr);
    let form = to_idp(
        &mut b,
        "pisa.localhost",
        "/accedi?next=/area-personale",
        &idp,
    )
    .await;
    assert!(
        b.trail
            .iter()
            .any(|u| u.contains("SigAlg=") && u.contains("Signature=")),
        "signed redirect: {:?}",
        b.trail
    );
    let done = post_idp_form(&mut b, &form, &idp).await;
    assert_eq!(done.status, StatusCode::OK, "{:?} {}", b.trail, done.body);
    assert!(done.url.contains("pisa.localhost"));
    assert!(done.body.contains(&format!("id=\"fiscal-code\">{CF}<")));
    assert!(
        done.body.contains("id=\"family-name\">Rossi<"),
        "{}",
        done.body
    );
    assert!(done.body.contains("id=\"session-level\">1<"));
    assert!(done.body.contains("saml:"));

    let calci = b.get(&b.url("calci.localhost", "/area-personale")).await;
    assert_eq!(calci.status, StatusCode::OK);
    assert!(calci.body.contains(CF));
    assert!(
        !b.trail.iter().any(|u| u.contains("/sso/")),
        "no trip to the IdP: {:?}",
        b.trail
    );
    assert_eq!(
        sessions(&app).await,
        3,
        "one SSO session and two commune sessions"
    );

    let csrf = calci.input("csrf").unwrap();
    b.post(&b.url("calci.localhost", "/esci"), &[("csrf", &csrf)])
        .await;
    assert_eq!(sessions(&app).await, 0);
}

#[tokio::test]
async fn the_post_binding_and_a_step_up_to_level_2_work() {
    let (app, idp) = setup().await;
    // Signed in at level 1 first: the step-up must give new sessions (rotation). Cookies
    // planted before the sign-in (session fixation) are replaced, never adopted.
    let mut planted = Browser::new(app.addr);
    planted.set_cookie("login.localhost", "sportello_sso", "planted-by-someone");
    planted.set_cookie("pisa.localhost", "sportello_sid", "planted-by-someone");
    let (mut b, _, first) = attempt_in(planted, &idp).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", b.trail);
    for (host, name) in [
        ("login.localhost", "sportello_sso"),
        ("pisa.localhost", "sportello_sid"),
    ] {
        let now = b.cookie(host, name).unwrap();
        assert_ne!(now, "planted-by-someone", "{name} rotated at sign-in");
    }
    assert!(first.body.contains("id=\"session-level\">1<"));
    let old_sso = b.cookie("login.localhost", "sportello_sso").unwrap();
    let old_sid = b.cookie("pisa.localhost", "sportello_sid").unwrap();
    let page = b
        .get(&b.url("pisa.localhost", "/servizi/certificato-residenza/avvia"))
        .await;
    assert!(page.body.contains("SPID livello 2"));
    let enc: String = url::form_urlencoded::byte_serialize(idp.entity_id.as_bytes()).collect();
    let post_page = b
        .get(&b.url(
            "login.localhost",
            &format!("/saml/login?idp={enc}&binding=post"),
        ))
        .await;
    assert_eq!(post_page.status, StatusCode::OK);
    let action = post_page.form_action().unwrap();
    let req = post_page.input("SAMLRequest").unwrap();
    let relay = post_page.input("RelayState").unwrap();
    let form = b
        .post_cross_site(
            &action,
            &[("SAMLRequest", &req), ("RelayState", &relay)],
            "http://login.localhost",
        )
        .await;
    let done = post_idp_form(&mut b, &form, &idp).await;
    assert_eq!(done.status, StatusCode::OK, "{:?} {}", b.trail, done.body);
    assert!(done.body.contains("id=\"access-level\""), "{}", done.body);
    // New session tokens after the level changed; the old ones open nothing any more.
    let new_sso = b.cookie("login.localhost", "sportello_sso").unwrap();
    let new_sid = b.cookie("pisa.localhost", "sportello_sid").unwrap();
    assert_ne!(new_sso, old_sso, "SSO session rotated");
    assert_ne!(new_sid, old_sid, "commune session rotated");
    let mut stale = Browser::new(app.addr);
    stale.set_cookie("pisa.localhost", "sportello_sid", &old_sid);
    stale.set_cookie("login.localhost", "sportello_sso", &old_sso);
    let area = stale
        .get_once(&stale.url("pisa.localhost", "/area-personale"))
        .await;
    assert_eq!(
        area.status,
        StatusCode::SEE_OTHER,
        "old commune session dead"
    );
    let sso_rows = app
        .rows(&format!(
            "SELECT level FROM sessions WHERE token_hash = '{}'",
            sportello_kernel::tokens::hash(&old_sso)
        ))
        .await;
    assert!(sso_rows.is_empty(), "old SSO session gone: {sso_rows:?}");
}

/// Mutations of the IdP's answer that must be refused.
const HOSTILE: &[&str] = &[
    "unsigned",
    "unsigned_assertion",
    "other_key",
    "sha1",
    "doctype",
    "two_assertions",
    "wrapping",
    "destination_wrong",
    "destination_missing",
    "issuer_wrong",
    "issuer_missing",
    "assertion_issuer_wrong",
    "audience_wrong",
    "recipient_wrong",
    "in_response_to_wrong",
    "in_response_to_missing",
    "version_wrong",
    "issue_instant_before_request",
    "issue_instant_future",
    "expired",
    "not_yet_valid",
    "nameid_format_wrong",
    "comment_in_nameid",
    "comment_in_fiscal_number",
    "status_authn_failed",
    "scd_in_response_to_wrong",
];

#[tokio::test]
async fn every_hostile_response_is_refused_with_a_4xx_and_no_session() {
    let (app, idp) = setup().await;
    for m in HOSTILE {
        idp.next(user(CF), None, Some(m)).await;
        let recorded = app.audit_details("sign_in_rejected").await.len();
        let (b, _form, p) = attempt(&app, &idp).await;
        // Recorded, with its real reason.
        let reasons = app.audit_details("sign_in_rejected").await;
        assert_eq!(reasons.len(), recorded + 1, "{m}: one entry");
        // Where an earlier check could stop the answer first, the reason shows which one did.
        let why = match *m {
            "doctype" => "DOCTYPE",
            "scd_in_response_to_wrong" => "SubjectConfirmationData InResponseTo",
            "in_response_to_wrong" => "expired or was already completed",
            "wrapping" | "two_assertions" => "exactly one Assertion",
            _ => "",
        };
        if !why.is_empty() {
            assert!(reasons[0].contains(why), "{m}: {}", reasons[0]);
        }
        assert!(
            p.status.is_client_error(),
            "{m}: {} {:?}",
            p.status,
            b.trail
        );
        assert_eq!(sessions(&app).await, 0, "{m}: no session");
        assert!(
            b.cookie("login.localhost", "sportello_sso").is_none(),
            "{m}"
        );
        if *m == "status_authn_failed" {
            assert!(
                p.body.contains("annullato") || p.body.contains("cancelled"),
                "IdP error in plain words: {}",
                p.body
            );
        }
    }
    // A level below the one requested.
    idp.next(user(CF), None, Some("level_lower")).await;
    let mut b = Browser::new(app.addr);
    let form = to_idp(
        &mut b,
        "pisa.localhost",
        "/servizi/certificato-residenza/avvia",
        &idp,
    )
    .await;
    let p = post_idp_form(&mut b, &form, &idp).await;
    assert!(p.status.is_client_error(), "level_lower: {}", p.status);
    assert_eq!(sessions(&app).await, 0);
    // Positive controls: only the assertion signed (SPID allows it); another person.
    for (m, cf) in [
        ("unsigned_response", CF),
        ("attribute_fiscal_number_other", "VRDGPP80A01H501U"),
    ] {
        idp.next(user(CF), None, Some(m)).await;
        let (_b, _form, p) = attempt(&app, &idp).await;
        assert_eq!(p.status, StatusCode::OK, "{m}: {}", p.body);
        assert!(p.body.contains(cf), "{m}");
    }
}

/// The replay cache on its own: a new sign-in, a fresh answer to it, validly signed, whose
/// Assertion carries the ID of one already used (the pending request is there, the signature is
/// good: only the cache can refuse it).
#[tokio::test]
async fn an_assertion_id_already_used_is_refused_by_the_replay_cache() {
    let (app, idp) = setup().await;
    let (_, _, ok) = attempt(&app, &idp).await;
    assert_eq!(ok.status, StatusCode::OK);
    let n = sessions(&app).await;
    idp.next(user(CF), None, Some("assertion_id_reuse")).await;
    let (_, _, again) = attempt(&app, &idp).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", again.body);
    assert_eq!(sessions(&app).await, n);
    let reasons = app.audit_details("sign_in_rejected").await;
    assert!(reasons[0].contains("replay"), "{reasons:?}");
}

#[tokio::test]
async fn a_replayed_or_foreign_response_is_refused() {
    let (app, idp) = setup().await;
    let (mut b, form, ok) = attempt(&app, &idp).await;
    assert_eq!(ok.status, StatusCode::OK);
    let n = sessions(&app).await;
    // The same answer again, from another browser or the same one.
    let mut thief = Browser::new(app.addr);
    let replay = post_idp_form(&mut thief, &form, &idp).await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN);
    let replay = post_idp_form(&mut b, &form, &idp).await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN);
    assert_eq!(sessions(&app).await, n);
    // A valid answer for a sign-in started in another browser cannot be completed here.
    let mut victim = Browser::new(app.addr);
    let form = to_idp(&mut victim, "pisa.localhost", "/accedi", &idp).await;
    let mut attacker = Browser::new(app.addr);
    let p = post_idp_form(&mut attacker, &form, &idp).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{:?}", attacker.trail);
    assert_eq!(sessions(&app).await, n);
    // That refusal (at `/saml/completa`, after a verified answer) is recorded with its reason.
    assert!(
        app.audit_details("sign_in_rejected").await[0].contains("sign_in_other_browser"),
        "{:?}",
        app.audit_details("sign_in_rejected").await
    );
    // Garbage.
    let p = b
        .post_cross_site(
            &b.url("login.localhost", "/saml/acs"),
            &[("SAMLResponse", "bm90IHhtbA=="), ("RelayState", "x")],
            "http://evil",
        )
        .await;
    assert!(p.status.is_client_error());
    // Garbage that a parser would quote back: the audit keeps a short reason, not the input.
    use base64::Engine as _;
    let quoted =
        base64::engine::general_purpose::STANDARD.encode(format!("<a></{}>", "X".repeat(44_000)));
    let p = b
        .post_cross_site(
            &b.url("login.localhost", "/saml/acs"),
            &[("SAMLResponse", &quoted), ("RelayState", "x")],
            "http://evil",
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let reasons = app.audit_details("sign_in_rejected").await;
    assert!(reasons[0].contains("not well-formed"), "{}", reasons[0]);
    assert!(
        reasons.iter().all(|r| r.chars().count() <= 301),
        "bounded details"
    );
    assert!(
        !p.body.contains("XXXXXXXXXX"),
        "the page does not echo it either"
    );
    // A probe where no sign-in step lives (another host): nothing was refused, nothing logged.
    let n = reasons.len();
    let probe = b
        .get_once(&b.url("pisa.localhost", "/oidc/callback?state=x"))
        .await;
    assert_eq!(probe.status, StatusCode::NOT_FOUND);
    assert_eq!(app.audit_details("sign_in_rejected").await.len(), n);
}

#[tokio::test]
async fn identity_provider_metadata_without_a_signing_certificate_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idp.xml");
    std::fs::write(&path, r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#).unwrap();
    let db = sportello_tests::TestDb::new().await;
    let store = db.app_store().await;
    let settings = sportello_web::Settings {
        database_url: sportello_web::Secret::new(db.app_url.clone()),
        saml_idps: path.display().to_string(),
        ..sportello_web::Settings::default()
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = sportello_web::start(&settings, store, listener)
        .await
        .err()
        .expect("refused");
    assert!(
        err.contains("signing certificate") || err.contains("certificate"),
        "{err}"
    );
}

/// The official SPID conformance tool: metadata, AuthnRequest and all response test cases.
#[tokio::test]
async fn spid_sp_test_conformance_suite_passes() {
    let tool = dir().join(".venv/bin/spid_sp_test");
    let out = std::process::Command::new(&tool)
        .arg("--idp-metadata")
        .output()
        .expect("spid_sp_test");
    assert!(out.status.success());
    let md_dir = tempfile::tempdir().unwrap();
    let md = md_dir.path().join("spid-sp-test-idp.xml");
    std::fs::write(&md, &out.stdout).unwrap();
    let md_path = md.display().to_string();
    // Python does not resolve *.localhost: the sign-in host is plain `localhost` here. The
    // tool's IdP signs with a certificate that expired on 2025-03-08: accepted by name, as the
    // setting documents for a test IdP known to be stale.
    let app = spawn_app_with(Options {
        settings: Box::new(move |s| {
            s.saml_idps = md_path;
            s.saml_idps_accept_expired = "https://localhost:8443".into();
            s.login_host = "localhost".into();
            s.apex_host = "sportello.localhost".into();
        }),
        tenants: None,
        ..Options::default()
    })
    .await;
    let port = app.port();
    let report = md_dir.path().join("report.json");
    let enc: String = url::form_urlencoded::byte_serialize(b"https://localhost:8443").collect();
    let run = tokio::process::Command::new(&tool)
        .args([
            "--metadata-url",
            &format!("http://localhost:{port}/saml/metadata"),
            "--authn-url",
            &format!("http://localhost:{port}/saml/login?idp={enc}"),
            "--extra",
            "--profile",
            "spid-sp-public",
            "-tr",
            "-d",
            "ERROR",
            "-rf",
            "json",
            "-o",
            report.to_str().unwrap(),
        ])
        .env("PYTHONWARNINGS", "ignore")
        .output()
        .await
        .expect("run spid_sp_test");
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|_| {
        panic!(
            "no report: {}\n{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        )
    });
    let mut total = 0;
    let mut failed = vec![];
    let mut responses = 0;
    for (_, group) in json["test"]["sp"].as_object().unwrap() {
        for (name, list) in group.as_object().unwrap() {
            for t in list.as_array().unwrap() {
                total += 1;
                if name == "SpidSpResponseCheck" {
                    responses += 1;
                }
                if t["result"] != "success" && t["result"] != "warning" {
                    failed.push(format!("{} {}: {}", t["test_id"], t["test"], t["value"]));
                }
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {total} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert_eq!(
        responses, 111,
        "all response test cases ran (the tool skips them silently if the login URL is wrong)"
    );
    assert!(total >= 250, "{total} checks");
    assert!(run.status.success(), "exit status {:?}", run.status);
}

#[tokio::test]
async fn signing_out_also_signs_out_at_the_identity_provider() {
    let (app, idp) = setup().await;
    let (mut b, _, p) = attempt(&app, &idp).await;
    assert_eq!(p.status, StatusCode::OK);
    let csrf = p.input("csrf").unwrap();
    let out = b
        .post(&b.url("pisa.localhost", "/esci"), &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, StatusCode::OK, "{:?} {}", b.trail, out.body);
    // Pisa → the IdP's SingleLogoutService with our signed LogoutRequest → back to ours.
    assert!(
        b.trail
            .iter()
            .any(|u| u.contains("/slo/redirect?SAMLRequest=") && u.contains("Signature=")),
        "{:?}",
        b.trail
    );
    assert!(out.url.contains("/saml/slo?SAMLResponse="), "{}", out.url);
    assert!(out.body.contains("Sei uscito"));
    assert_eq!(sessions(&app).await, 0);
    let state = idp.state().await;
    assert_eq!(
        state["logouts"].as_array().map(Vec::len),
        Some(1),
        "{state}"
    );
    // The IdP's answer works once.
    let again = b.get(&out.url).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_identity_provider_can_end_the_sessions_it_opened() {
    let (app, idp) = setup().await;
    // Someone else, signed in through the same IdP first: the logout is not theirs.
    idp.next(user("VRDGPP80A01H501U"), None, None).await;
    let (mut bystander, _, p) = attempt(&app, &idp).await;
    assert_eq!(p.status, StatusCode::OK);
    idp.next(user(CF), None, None).await;
    let (mut b, _, p) = attempt(&app, &idp).await;
    assert_eq!(p.status, StatusCode::OK);
    let calci = b.get(&b.url("calci.localhost", "/area-personale")).await;
    assert_eq!(calci.status, StatusCode::OK);
    assert_eq!(sessions(&app).await, 2 + 3);
    let sp = format!("http://login.localhost:{}/saml/metadata", app.port());
    // Forged requests are refused and end nothing.
    for m in ["unsigned", "other_key"] {
        let url = idp.logout(&sp, Some(m)).await;
        let r = b.get(&url).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{m}");
        assert_eq!(sessions(&app).await, 5, "{m}");
    }
    // The real one ends every session of that sign-in, then answers the IdP (signed).
    let url = idp.logout(&sp, None).await;
    let r = b.get(&url).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", b.trail);
    assert_eq!(
        sessions(&app).await,
        2,
        "only the bystander's sessions are left"
    );
    let still = bystander
        .get_once(&bystander.url("pisa.localhost", "/area-personale"))
        .await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "the bystander is still signed in"
    );
    let state = idp.state().await;
    let answers = state["logout_responses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(answers.len(), 1, "{state}");
    assert_eq!(answers[0]["signature_ok"], true, "{state}");
    assert!(
        answers[0]["status"]
            .as_str()
            .unwrap_or("")
            .ends_with(":Success"),
        "{state}"
    );
}

#[tokio::test]
async fn a_configured_sp_key_serves_signed_metadata_before_any_identity_provider_is_added() {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = sportello_identity::idp::saml::Saml::generate_sp_keypair(
        "http://login.localhost/saml/metadata",
        "Sportello",
        "c_g702",
    )
    .unwrap();
    let (key_path, cert_path) = (dir.path().join("sp.key"), dir.path().join("sp.crt"));
    std::fs::write(&key_path, &key).unwrap();
    std::fs::write(&cert_path, &cert).unwrap();
    let (k, c) = (
        key_path.display().to_string(),
        cert_path.display().to_string(),
    );
    let app = spawn_app_with(Options {
        settings: Box::new(move |s| {
            s.saml_sp_key = k;
            s.saml_sp_cert = c;
        }),
        ..Options::default()
    })
    .await;
    let mut b = Browser::new(app.addr);
    let md = b.get(&b.url("login.localhost", "/saml/metadata")).await;
    assert_eq!(md.status, StatusCode::OK);
    assert!(md.body.contains("SPSSODescriptor") && md.body.contains("SignatureValue"));
    // The configured certificate is the one published.
    let der_b64: String = cert.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(
        md.body.contains(&der_b64[..60]),
        "published certificate is the configured one"
    );
    // No IdP yet: the sign-in page offers none.
    let page = b.get(&b.url("pisa.localhost", "/accedi")).await;
    assert!(!page.body.contains("/saml/login"));
}

#[tokio::test]
async fn a_forged_answer_naming_a_pending_sign_in_does_not_cancel_it() {
    let (app, idp) = setup().await;
    let mut victim = Browser::new(app.addr);
    let form = to_idp(
        &mut victim,
        "pisa.localhost",
        "/accedi?next=/area-personale",
        &idp,
    )
    .await;
    // Anyone who learns the request's id (it travels in URLs and logs) posts an answer naming
    // it: unsigned, or with another RelayState.
    let real = base64::engine::general_purpose::STANDARD
        .decode(form.input("SAMLResponse").unwrap())
        .unwrap();
    let real = String::from_utf8(real).unwrap();
    let id = real
        .split("InResponseTo=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let forged = format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_f\" \
         Version=\"2.0\" InResponseTo=\"{id}\"/>"
    );
    let forged = base64::engine::general_purpose::STANDARD.encode(forged);
    let relay = form.input("RelayState").unwrap_or_default();
    let mut attacker = Browser::new(app.addr);
    for relay in [relay.as_str(), "another"] {
        let p = attacker
            .post_cross_site(
                &attacker.url("login.localhost", "/saml/acs"),
                &[("SAMLResponse", &forged), ("RelayState", relay)],
                "http://evil",
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    }
    // A request id XML forbids (a NUL reference) never reaches the database: a clear refusal.
    let nul = base64::engine::general_purpose::STANDARD.encode(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_n\" \
         Version=\"2.0\" InResponseTo=\"&#0;\"/>",
    );
    let p = attacker
        .post_cross_site(
            &attacker.url("login.localhost", "/saml/acs"),
            &[("SAMLResponse", &nul), ("RelayState", "x")],
            "http://evil",
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    // The real answer still completes the victim's sign-in.
    let done = post_idp_form(&mut victim, &form, &idp).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", victim.trail);
    assert!(done.url.contains("/area-personale"), "{}", done.url);
}
