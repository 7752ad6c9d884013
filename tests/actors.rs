//! Signed-in actors, shared by the test modules: staff invited and taken through the invitation
//! (password, TOTP enrolment, first code) in a cookie-keeping browser, as a person would.

use sportello_identity::totp;
use sportello_store::staff::Realm;
use sportello_tests::browser::{Browser, Page};
use sportello_tests::{StatusCode, TestApp};

pub const PASSWORD: &str = "ufficio anagrafe 2026";

/// The authenticator's code for `secret_b32`, `offset_steps` 30-second steps from now.
pub fn code_for(secret_b32: &str, offset_steps: i64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_b32.as_bytes())
        .unwrap();
    let step = totp::step_of(chrono::Utc::now().timestamp()) + offset_steps;
    format!("{:06}", totp::code_at(&secret, step))
}

/// The authenticator's code for the 30-second step `step`.
pub fn code_at(secret_b32: &str, step: i64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_b32.as_bytes())
        .unwrap();
    format!("{:06}", totp::code_at(&secret, step))
}

/// Invites a staff member of Pisa as a clerk, opens the invitation and chooses the password:
/// returns the browser, the invitation token, the CSRF token and the TOTP secret shown for
/// enrolment.
pub async fn choose_password(
    app: &TestApp,
    email: &str,
    name: &str,
) -> (Browser, String, String, String) {
    let pisa = sportello_domain::TenantId(50026);
    let (_, token) =
        sportello_identity::staff::invite(&app.store, Realm::Commune(pisa), email, name, "clerk")
            .await
            .unwrap();
    let mut b = Browser::new(app.addr);
    let form = b
        .get(&b.url("pisa.localhost", &format!("/console/invito?token={token}")))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(name));
    let csrf = form.input("csrf").unwrap();
    let enrol = b
        .post(
            &b.url("pisa.localhost", "/console/invito"),
            &[
                ("token", &token),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(enrol.status, StatusCode::OK, "{}", enrol.body);
    assert!(enrol.body.contains("otpauth://totp/"));
    (b, token, csrf, totp_secret(&enrol))
}

/// The TOTP secret an enrolment page shows.
pub fn totp_secret(enrol: &Page) -> String {
    enrol
        .body
        .split("id=\"totp-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned()
}

/// Whether the authorization guard let the request through: its refusals (404 for a route not
/// declared on this host, 303 to the sign-in door, 403) carry `X-Sportello-Denied`; what a
/// handler answers afterwards (a form error, a redirect) is not the guard's.
pub fn allowed(p: &Page) -> bool {
    assert!(!p.status.is_server_error(), "{} {}", p.url, p.body);
    !p.headers.contains_key("x-sportello-denied")
}

/// Invites an account (commune staff with `role`, or federation staff) and goes through the
/// invitation in a browser: password, TOTP enrolment, first code. Returns the signed-in browser.
pub async fn signed_in(
    app: &TestApp,
    realm: Realm,
    host: &str,
    email: &str,
    role: &str,
) -> Browser {
    let (_, token) = sportello_identity::staff::invite(&app.store, realm, email, email, role)
        .await
        .unwrap();
    let mut b = Browser::new(app.addr);
    let form = b
        .get(&b.url(host, &format!("/console/invito?token={token}")))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.input("csrf").unwrap();
    let enrol = b
        .post(
            &b.url(host, "/console/invito"),
            &[
                ("token", &token),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    let secret = totp_secret(&enrol);
    let ok = b
        .post(
            &b.url(host, "/console/invito/codice"),
            &[
                ("token", &token),
                ("code", &code_for(&secret, 0)),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", b.trail);
    // The role was given outside this server (as the CLI does): it arrives with the next poll.
    let probe = match role {
        "admin" => "/console/permessi",
        "office_head" => "/console/personale",
        "clerk" | "front_desk" | "call_centre" => "/console/uffici",
        "intermediary" => "/console/servizi",
        "federation" => "/console/comuni",
        _ => {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            return b;
        }
    };
    for _ in 0..50 {
        if allowed(&b.get(&b.url(host, probe)).await) {
            return b;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{email}: the console never opened");
}
