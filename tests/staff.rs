//! Staff sign-in: invitation, password, TOTP enrolment and second factor, per commune.

use sportello_identity::totp;
use sportello_tests::browser::Browser;
use sportello_tests::{StatusCode, TestApp, spawn_app};

const PASSWORD: &str = "ufficio anagrafe 2026";

fn code_for(secret_b32: &str, offset_steps: i64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_b32.as_bytes())
        .unwrap();
    let step = totp::step_of(chrono::Utc::now().timestamp()) + offset_steps;
    format!("{:06}", totp::code_at(&secret, step))
}

/// Invites a staff member of Pisa, opens the invitation and chooses the password: returns the
/// browser, the invitation token, the CSRF token and the TOTP secret shown for enrolment.
async fn choose_password(
    app: &TestApp,
    email: &str,
    name: &str,
) -> (Browser, String, String, String) {
    let pisa = sportello_domain::TenantId(50026);
    let (_, token) = sportello_identity::staff::invite(
        &app.store,
        sportello_store::staff::Realm::Commune(pisa),
        email,
        name,
        "clerk",
    )
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
    let secret = enrol
        .body
        .split("id=\"totp-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    (b, token, csrf, secret)
}

#[tokio::test]
async fn invited_staff_set_a_password_enrol_totp_and_sign_in_with_both_factors() {
    let app = spawn_app().await;
    let pisa = sportello_domain::TenantId(50026);
    let (mut b, token, csrf, secret) =
        choose_password(&app, "anna@comune.pisa.it", "Anna Neri").await;
    // The seed is stored encrypted.
    let tx = app.store.tenant(pisa).await.unwrap();
    let acc = tx
        .db()
        .staff_db()
        .staff_by_email("anna@comune.pisa.it")
        .await
        .unwrap()
        .unwrap();
    drop(tx);
    assert!(acc.totp_secret.as_deref().unwrap().starts_with("v1."));
    assert!(!acc.totp_secret.as_deref().unwrap().contains(&secret));
    // A wrong first code does not confirm.
    let bad = b
        .post(
            &b.url("pisa.localhost", "/console/invito/codice"),
            &[("token", &token), ("code", "000000"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN);
    let ok = b
        .post(
            &b.url("pisa.localhost", "/console/invito/codice"),
            &[
                ("token", &token),
                ("code", &code_for(&secret, 0)),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", b.trail);
    assert!(ok.body.contains("id=\"console-intro\">Anna Neri"));
    // The invitation is used up.
    assert_eq!(
        b.get(&b.url("pisa.localhost", &format!("/console/invito?token={token}")))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Sign out, then sign in: password, then the code; the password alone opens nothing.
    let csrf = ok.input("csrf").unwrap();
    b.post(
        &b.url("pisa.localhost", "/console/esci"),
        &[("csrf", &csrf)],
    )
    .await;
    let page = b.get(&b.url("pisa.localhost", "/console")).await;
    assert!(page.url.ends_with("/console/accedi"));
    let csrf = page.input("csrf").unwrap();
    let step2 = b
        .post(
            &b.url("pisa.localhost", "/console/accedi"),
            &[
                ("email", "anna@comune.pisa.it"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(step2.url.ends_with("/console/codice"), "{:?}", b.trail);
    let home = b.get(&b.url("pisa.localhost", "/console")).await;
    assert!(
        home.url.ends_with("/console/codice"),
        "password alone is not signed in"
    );
    // The code just used at enrolment cannot be replayed.
    let replay = b
        .post(
            &b.url("pisa.localhost", "/console/codice"),
            &[("code", &code_for(&secret, 0)), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN);
    let next = b
        .post(
            &b.url("pisa.localhost", "/console/codice"),
            &[("code", &code_for(&secret, 1)), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    assert!(next.body.contains("Anna Neri"));

    // The staff session is for Pisa only: the same cookie on Calci opens nothing.
    let sid = b.cookie("pisa.localhost", "sportello_staff").unwrap();
    b.set_cookie("calci.localhost", "sportello_staff", &sid);
    let calci = b.get(&b.url("calci.localhost", "/console")).await;
    assert!(calci.url.ends_with("/console/accedi"));
    // Nor is it a citizen session on Pisa.
    b.set_cookie("pisa.localhost", "sportello_sid", &sid);
    assert_eq!(
        b.get_once(&b.url("pisa.localhost", "/area-personale"))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn wrong_staff_passwords_lock_the_account() {
    let app = spawn_app().await;
    let (mut b, token, csrf, secret) = choose_password(&app, "b@comune.pisa.it", "Bruno").await;
    b.post(
        &b.url("pisa.localhost", "/console/invito/codice"),
        &[
            ("token", &token),
            ("code", &code_for(&secret, 0)),
            ("csrf", &csrf),
        ],
    )
    .await;
    let mut c = Browser::new(app.addr);
    let page = c.get(&c.url("pisa.localhost", "/console/accedi")).await;
    let csrf = page.input("csrf").unwrap();
    for _ in 0..5 {
        let r = c
            .post(
                &c.url("pisa.localhost", "/console/accedi"),
                &[
                    ("email", "b@comune.pisa.it"),
                    ("password", "not the password"),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let r = c
        .post(
            &c.url("pisa.localhost", "/console/accedi"),
            &[
                ("email", "b@comune.pisa.it"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("bloccato"));
}
