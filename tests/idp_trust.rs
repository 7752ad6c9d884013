//! What the identity providers are trusted with: a SAML IdP's signing certificate only within
//! its validity (unless a setting accepts it), its days left in `/metrics`; an OpenID Connect
//! provider behind a private certificate authority reached through `tls_ca_bundle`.

use sportello_tests::StatusCode;
use sportello_tests::browser::Browser;
use sportello_tests::counterparts::{OidcProvider, SamlIdp};
use sportello_tests::tls::test_ca;

use crate::{oidc, saml};

/// A gauge's value for `idp`, from `/metrics`.
async fn gauge(app: &sportello_tests::TestApp, name: &str, idp: &str) -> i64 {
    let (_, metrics) = app.text("localhost", "/metrics").await;
    let line = metrics
        .lines()
        .find(|l| l.starts_with(&format!("{name}{{")) && l.contains(&format!("idp=\"{idp}\"")))
        .unwrap_or_else(|| panic!("no {name} for {idp}: {metrics}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

async fn days_left(app: &sportello_tests::TestApp, idp: &str) -> i64 {
    gauge(app, "sportello_idp_certificate_days_left", idp).await
}

async fn usable(app: &sportello_tests::TestApp, idp: &str) -> i64 {
    gauge(app, "sportello_idp_usable", idp).await
}

#[tokio::test]
async fn an_expired_idp_certificate_verifies_nothing_unless_a_setting_accepts_it() {
    // Refused by default: no session, the reason in the audit log.
    let (app, idp) = saml::setup_with(SamlIdp::start_with(&["--expired-cert"]), |_| {}).await;
    let (_, _, done) = saml::attempt(&app, &idp).await;
    assert!(
        done.status.is_client_error(),
        "{} {}",
        done.status,
        done.body
    );
    assert!(done.body.contains("Accesso rifiutato"), "{}", done.body);
    assert_eq!(saml::sessions(&app).await, 0);
    let reasons = app.audit_details("sign_in_rejected").await;
    assert!(
        reasons.iter().any(|r| r.contains("certificate expired on")),
        "{reasons:?}"
    );
    assert!(days_left(&app, &idp.entity_id).await < 0);
    assert_eq!(usable(&app, &idp.entity_id).await, 0);

    // Not valid yet: refused the same way.
    let (app, idp) = saml::setup_with(SamlIdp::start_with(&["--future-cert"]), |_| {}).await;
    let (_, _, done) = saml::attempt(&app, &idp).await;
    assert!(done.status.is_client_error(), "{}", done.status);
    assert_eq!(saml::sessions(&app).await, 0);
    let reasons = app.audit_details("sign_in_rejected").await;
    assert!(
        reasons.iter().any(|r| r.contains("not valid before")),
        "{reasons:?}"
    );
    assert_eq!(usable(&app, &idp.entity_id).await, 0);

    // The same IdP, accepted by name: signs in.
    let idp = SamlIdp::start_with(&["--expired-cert"]);
    let entity = idp.entity_id.clone();
    let (app, idp) = saml::setup_with(idp, move |s| s.saml_idps_accept_expired = entity).await;
    let (_, _, done) = saml::attempt(&app, &idp).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(saml::sessions(&app).await > 0);
    assert_eq!(usable(&app, &idp.entity_id).await, 1);

    // A valid certificate: a year minus a day left.
    let (app, idp) = saml::setup_with(SamlIdp::start(), |_| {}).await;
    assert_eq!(days_left(&app, &idp.entity_id).await, 364);
}

#[tokio::test]
async fn a_provider_behind_a_private_ca_is_reached_with_the_bundle_and_not_without() {
    let ca = test_ca();
    let start = || {
        OidcProvider::start_with(
            &[
                "--tls-cert",
                &ca.path("server.pem"),
                "--tls-key",
                &ca.path("server.key"),
            ],
            Some(&ca.ca_pem),
        )
    };
    let bundle = ca.path("ca.pem");
    let (app, op) = oidc::setup_with(start(), move |s| s.tls_ca_bundle = bundle).await;
    assert!(op.issuer.starts_with("https://"));
    let mut b = Browser::trusting(app.addr, &ca.ca_pem);
    let p = oidc::sign_in(&mut b, "pisa.localhost", "/area-personale").await;
    assert_eq!(p.status, StatusCode::OK, "{:?} {}", b.trail, p.body);
    assert!(p.body.contains("RSSMRA80A01G702C"));

    // Without the bundle the provider's certificate is not trusted: no sign-in.
    let (app, _op) = oidc::setup_with(start(), |_| {}).await;
    let mut b = Browser::trusting(app.addr, &ca.ca_pem);
    let p = oidc::sign_in(&mut b, "pisa.localhost", "/area-personale").await;
    assert!(!p.status.is_success(), "{}", p.status);
    assert_eq!(oidc::sessions(&app).await, 0);
}
