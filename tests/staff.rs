//! Staff sign-in: invitation, password, TOTP enrolment and second factor, per commune.

use crate::actors::{PASSWORD, choose_password, code_for};
use sportello_tests::browser::Browser;
use sportello_tests::{StatusCode, spawn_app};

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
    let seed = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap();
    sportello_tests::assert_sealed(acc.totp_secret.as_deref().unwrap(), &seed);
    // A wrong first code does not confirm.
    let bad = b
        .post(
            &b.url("pisa.localhost", "/console/invito/codice"),
            &[("token", &token), ("code", "000000"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN);
    // …and the same page comes back, with the same secret and the message by the form: the
    // code the app shows next still works.
    assert_eq!(
        crate::actors::totp_secret(&bad),
        secret,
        "the secret already in the app"
    );
    assert!(bad.body.contains("id=\"code-error\""), "{}", bad.body);
    assert!(bad.body.contains("Il codice non è corretto"));
    // The code and its 30-second step, kept: the replay below must be this very code, and the
    // next one the next step's, wherever a step boundary falls during the test.
    let enrol_step = sportello_identity::totp::step_of(chrono::Utc::now().timestamp());
    let enrol_code = crate::actors::code_at(&secret, enrol_step);
    let ok = b
        .post(
            &b.url("pisa.localhost", "/console/invito/codice"),
            &[("token", &token), ("code", &enrol_code), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", b.trail);
    // Signed in, the recovery codes shown this once, then the console.
    let codes = recovery_codes(&ok.body);
    assert_eq!(
        codes.len(),
        sportello_identity::recovery::COUNT,
        "{}",
        ok.body
    );
    let ok = b.get(&b.url("pisa.localhost", "/console")).await;
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
    // The code page's form: drawn for the session the password step opened.
    let csrf = step2.input("csrf").unwrap();
    let home = b.get(&b.url("pisa.localhost", "/console")).await;
    assert!(
        home.url.ends_with("/console/codice"),
        "password alone is not signed in"
    );
    // The code just used at enrolment cannot be replayed.
    let replay = b
        .post(
            &b.url("pisa.localhost", "/console/codice"),
            &[("code", &enrol_code), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN);
    assert!(
        !replay.body.contains("Il modulo è scaduto"),
        "refused as a replay, not as a stale form: {}",
        replay.body
    );
    let next = b
        .post(
            &b.url("pisa.localhost", "/console/codice"),
            &[
                ("code", &crate::actors::code_at(&secret, enrol_step + 1)),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    assert!(next.body.contains("Anna Neri"));

    // A recovery code instead of the app's: once (typed loosely), never twice.
    for (attempt, expected) in [
        (&codes[3].to_uppercase(), StatusCode::OK),
        (&codes[3], StatusCode::FORBIDDEN),
    ] {
        let csrf = next.input("csrf").unwrap();
        b.post(
            &b.url("pisa.localhost", "/console/esci"),
            &[("csrf", &csrf)],
        )
        .await;
        let page = b.get(&b.url("pisa.localhost", "/console/accedi")).await;
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
        let csrf = step2.input("csrf").unwrap();
        let r = b
            .post(
                &b.url("pisa.localhost", "/console/codice"),
                &[("code", attempt.as_str()), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status, expected, "{}", r.body);
    }
    assert_eq!(
        app.audit_details("staff_recovery_code_used").await.len(),
        1,
        "the code that worked is in the log"
    );

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

#[tokio::test]
async fn the_console_speaks_the_page_language() {
    let app = spawn_app().await;
    let pisa = sportello_store::staff::Realm::Commune(sportello_domain::TenantId(50026));
    let mut b =
        crate::actors::signed_in(&app, pisa, "pisa.localhost", "admin@pisa.it", "admin").await;
    let it = b.get(&b.url("pisa.localhost", "/console/personale")).await;
    assert_eq!(it.status, StatusCode::OK);
    for label in [
        "Personale e ruoli",
        "Invita una persona",
        "Amministratore del comune",
    ] {
        assert!(it.body.contains(label), "{label}");
    }
    let en = b
        .get(&b.url("pisa.localhost", "/console/personale?lang=en"))
        .await;
    assert_eq!(en.status, StatusCode::OK);
    for label in [
        "Staff and roles",
        "Invite a person",
        "Commune administrator",
    ] {
        assert!(en.body.contains(label), "{label}: {}", en.body);
    }
    for label in [
        "Personale e ruoli",
        "Invita una persona",
        "Amministratore del comune",
    ] {
        assert!(!en.body.contains(label), "{label} left in Italian");
    }
}

#[tokio::test]
async fn staff_without_a_role_see_nothing_of_the_commune() {
    let app = spawn_app().await;
    let pisa = sportello_domain::TenantId(50026);
    let realm = sportello_store::staff::Realm::Commune(pisa);
    let mut b =
        crate::actors::signed_in(&app, realm, "pisa.localhost", "ex@pisa.it", "clerk").await;
    let before = b.get(&b.url("pisa.localhost", "/console")).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(before.body.contains("Il comune in breve"));
    assert!(
        before.body.contains("Impiegato d&#x27;ufficio")
            || before.body.contains("Impiegato d'ufficio")
    );
    // The last role is taken away (as an administrator would).
    let tx = app.store.tenant(pisa).await.unwrap();
    let id = tx
        .db()
        .staff_db()
        .staff_by_email("ex@pisa.it")
        .await
        .unwrap()
        .unwrap()
        .id;
    tx.db().unassign_all(&id).await.unwrap();
    tx.commit().await.unwrap();
    let after = b.get(&b.url("pisa.localhost", "/console")).await;
    assert_eq!(after.status, StatusCode::OK);
    assert!(
        after.body.contains("Non ha ancora un ruolo"),
        "{}",
        after.body
    );
    assert!(!after.body.contains("Il comune in breve"));
}

/// The recovery codes a page shows.
fn recovery_codes(body: &str) -> Vec<String> {
    let Some(list) = body.split("id=\"recovery-codes\"").nth(1) else {
        return vec![];
    };
    let list = list.split("</ol>").next().unwrap_or("");
    list.split("<code>")
        .skip(1)
        .filter_map(|c| c.split("</code>").next())
        .map(str::to_owned)
        .collect()
}

/// The console's audit log names refused actions and the staff's sign-ins and failed codes.
#[tokio::test]
async fn refusals_and_staff_sign_ins_are_in_the_communes_audit_log() {
    use sportello_store::staff::Realm;
    let app = spawn_app().await;
    let pisa = Realm::Commune(sportello_domain::TenantId(50026));
    let mut admin =
        crate::actors::signed_in(&app, pisa, "pisa.localhost", "admin@pisa.example", "admin").await;
    let mut clerk =
        crate::actors::signed_in(&app, pisa, "pisa.localhost", "clerk@pisa.example", "clerk").await;
    let refused = clerk
        .get(&clerk.url("pisa.localhost", "/console/permessi"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Tried again at once: recorded once (repeats cannot push the rest of the log away).
    for _ in 0..5 {
        clerk
            .get(&clerk.url("pisa.localhost", "/console/permessi"))
            .await;
    }
    // The refusal is a page of the console, in words: the console's own frame (no citizen
    // search, menu, sign-in link or life-event footer; the legal links stay).
    for page in [
        &refused,
        &clerk.get(&clerk.url("pisa.localhost", "/console")).await,
    ] {
        assert!(
            page.body.contains("class=\"sp-console-badge\""),
            "{}",
            page.body
        );
        assert!(!page.body.contains("id=\"site-search\""));
        assert!(!page.body.contains("/accedi?next="));
        assert!(!page.body.contains("/servizi?evento="));
        assert!(page.body.contains("id=\"legal-links\""));
    }
    assert!(
        refused.body.contains("Il tuo ruolo non permette"),
        "{}",
        refused.body
    );
    // A wrong code at sign-in, by the same clerk.
    let csrf = clerk
        .get(&clerk.url("pisa.localhost", "/console"))
        .await
        .input("csrf")
        .unwrap();
    clerk
        .post(
            &clerk.url("pisa.localhost", "/console/esci"),
            &[("csrf", &csrf)],
        )
        .await;
    let page = clerk
        .get(&clerk.url("pisa.localhost", "/console/accedi"))
        .await;
    let csrf = page.input("csrf").unwrap();
    let step2 = clerk
        .post(
            &clerk.url("pisa.localhost", "/console/accedi"),
            &[
                ("email", "clerk@pisa.example"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    let csrf = step2.input("csrf").unwrap();
    let wrong = clerk
        .post(
            &clerk.url("pisa.localhost", "/console/codice"),
            &[("code", "000000"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let log = admin
        .get(&admin.url("pisa.localhost", "/console/registro"))
        .await;
    assert_eq!(log.status, StatusCode::OK);
    assert_eq!(
        log.body.matches("Operazione non permessa al ruolo").count(),
        1,
        "{}",
        log.body
    );
    let row = log
        .body
        .split("<tr>")
        .find(|r| r.contains("Operazione non permessa al ruolo"))
        .unwrap_or_else(|| panic!("no refusal in the log: {}", log.body));
    assert!(
        row.contains("clerk@pisa.example") && row.contains("GET /console/permessi"),
        "{row}"
    );
    assert!(row.contains("policies:read"), "{row}");
    let codes = log
        .body
        .split("<tr>")
        .find(|r| r.contains("Codice di verifica errato"))
        .unwrap_or_else(|| panic!("no failed code in the log: {}", log.body));
    assert!(codes.contains("clerk@pisa.example"), "{codes}");
    assert!(
        log.body.contains("Attivazione dell&#x27;account"),
        "{}",
        log.body
    );
}
