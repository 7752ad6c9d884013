//! Cases in the JSON API, on the real server: a citizen's own cases by session; the back office
//! by a staff API token (made in the console, shown once) or a console session; 401 without
//! either, nothing across communes or offices; and schemathesis over the office operations with
//! a token.

use serde_json::{Value, json};
use sportello_store::staff::Realm;
use sportello_tests::{StatusCode, TestApp};

use crate::actors::signed_in;
use crate::cases::{CALCI, PISA};

const HOST: &str = "pisa.localhost";

/// Anna files a report through the pages; gives the case's id.
async fn file_report(anna: &mut sportello_tests::browser::Browser) -> String {
    let form = anna.url(HOST, "/pratiche/compila/segnalazioni");
    let first = anna.get(&form).await;
    let csrf = first.input("csrf").unwrap();
    anna.post(
        &form,
        &[
            ("csrf", &csrf),
            ("_pagina", "0"),
            ("_azione", "avanti"),
            ("categoria", "altro"),
            ("oggetto", "Orari della biblioteca"),
            (
                "descrizione",
                "Vorrei sapere gli orari estivi della biblioteca.",
            ),
            ("luogo", "Via Roma 3"),
        ],
    )
    .await;
    let summary = anna
        .post(
            &form,
            &[
                ("csrf", &csrf),
                ("_pagina", "1"),
                ("_azione", "avanti"),
                ("email", "anna@example.org"),
            ],
        )
        .await;
    let draft = summary.input("_bozza").unwrap();
    let done = anna
        .post(
            &anna.url(HOST, "/pratiche/compila/segnalazioni/invia"),
            &[("csrf", &csrf), ("_bozza", &draft)],
        )
        .await;
    let id = done.url.split("/area-personale/pratiche/").nth(1).unwrap();
    id.split('?').next().unwrap().to_owned()
}

/// A staff member's API token, made in the console as they would.
pub(crate) async fn token_of(b: &mut sportello_tests::browser::Browser, host: &str) -> String {
    let page = b.get(&b.url(host, "/console/accesso-api")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.input("csrf").unwrap();
    let made = b
        .post(&b.url(host, "/console/accesso-api"), &[("csrf", &csrf)])
        .await;
    assert_eq!(made.headers["cache-control"], "no-store");
    let i = made.body.find("spt_").expect("the token is shown once");
    made.body[i..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

async fn api(
    app: &TestApp,
    host: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("http://{}{path}", app.addr);
    let mut req = match method {
        "POST" => app.client.post(&url),
        _ => app.client.get(&url),
    }
    .header("host", format!("{host}:{}", app.port()));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    (status, v)
}

#[tokio::test]
async fn the_cases_api_serves_citizens_their_own_and_staff_their_offices() {
    let (app, mail) = crate::identity::app_with_mail().await;
    let (mut anna, _) = crate::identity::anna_at_pisa(&app, &mail).await;
    let mut bruno = crate::identity::bruno_at_pisa(&app, &mail, 2).await;
    let id = file_report(&mut anna).await;

    // The citizen's own, by session; nobody else's.
    let (s, v) = api(&app, HOST, "GET", "/api/v1/cases", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"]["code"], "unauthorized");
    let mine = anna.get(&anna.url(HOST, "/api/v1/cases")).await;
    let v: Value = serde_json::from_str(&mine.body).unwrap();
    assert_eq!(v["cases"][0]["id"], id.as_str());
    let theirs = bruno
        .get(&bruno.url(HOST, &format!("/api/v1/cases/{id}")))
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let hers = anna
        .get(&anna.url(HOST, &format!("/api/v1/cases/{id}")))
        .await;
    let v: Value = serde_json::from_str(&hers.body).unwrap();
    assert_eq!(v["status"], "submitted");
    assert!(v["code"].as_str().is_some_and(|c| c.len() == 10));

    // A clerk's token: the queue, the case, an act; the answer is the case after it.
    let mut clerk = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "clerk@comune.pisa.it",
        "clerk",
    )
    .await;
    let token = token_of(&mut clerk, HOST).await;
    let (s, v) = api(
        &app,
        HOST,
        "GET",
        "/api/v1/office/cases?queue=new",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["cases"][0]["id"], id.as_str());
    assert_eq!(v["counts"]["new"], 1);
    let (s, v) = api(
        &app,
        HOST,
        "POST",
        &format!("/api/v1/office/cases/{id}/actions"),
        Some(&token),
        Some(json!({"action": "take"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "in_charge");
    let (s, v) = api(
        &app,
        HOST,
        "POST",
        &format!("/api/v1/office/cases/{id}/actions"),
        Some(&token),
        Some(json!({"action": "fly"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // The console session works too.
    let q = clerk
        .get(&clerk.url(HOST, "/api/v1/office/cases?queue=mine"))
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);

    // Nothing without a valid token, nor with Pisa's token on Calci's host.
    for bad in ["spt_nothing", "", "Basic abc"] {
        let (s, _) = api(&app, HOST, "GET", "/api/v1/office/cases", Some(bad), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{bad}");
    }
    let (s, _) = api(
        &app,
        "calci.localhost",
        "GET",
        "/api/v1/office/cases",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A token with no right to act: a front desk reads no queue and acts on nothing.
    let mut desk = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "desk@comune.pisa.it",
        "front_desk",
    )
    .await;
    let desk_token = token_of(&mut desk, HOST).await;
    let (s, v) = api(
        &app,
        HOST,
        "GET",
        "/api/v1/office/cases?queue=all",
        Some(&desk_token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["cases"].as_array().unwrap().len(), 0);
    let (s, _) = api(
        &app,
        HOST,
        "POST",
        &format!("/api/v1/office/cases/{id}/actions"),
        Some(&desk_token),
        Some(json!({"action": "accept", "reason": "ok"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Calci's clerk, with Calci's own token, does not see Pisa's case.
    let mut calci = signed_in(
        &app,
        Realm::Commune(CALCI),
        "calci.localhost",
        "clerk@comune.calci.pi.it",
        "clerk",
    )
    .await;
    let calci_token = token_of(&mut calci, "calci.localhost").await;
    let (s, _) = api(
        &app,
        "calci.localhost",
        "GET",
        &format!("/api/v1/office/cases/{id}"),
        Some(&calci_token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The response document's upload carries its form token in the multipart body: a forged
    // one is refused before the file is read into anything.
    let forged = clerk
        .post_file(
            &clerk.url(HOST, &format!("/console/pratiche/{id}/documento")),
            &[("csrf", "forged")],
            "risposta.pdf",
            b"%PDF-1.4\n%%EOF\n",
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert!(
        crate::actors::allowed(&forged),
        "the guard let the clerk through"
    );
    // Control characters in an act's text: refused before anything is written.
    let (s, v) = api(
        &app,
        HOST,
        "POST",
        &format!("/api/v1/office/cases/{id}/actions"),
        Some(&token),
        Some(json!({"action": "note", "text": "a\u{0}b"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // Revoked: the token opens nothing.
    let page = clerk.get(&clerk.url(HOST, "/console/accesso-api")).await;
    let csrf = page.input("csrf").unwrap();
    clerk
        .post(
            &clerk.url(HOST, "/console/accesso-api/revoca"),
            &[("csrf", &csrf)],
        )
        .await;
    let (s, _) = api(
        &app,
        HOST,
        "GET",
        "/api/v1/office/cases",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Both were recorded.
    let tx = app.store.tenant(PISA).await.unwrap();
    let log = tx.db().audit_log(200).await.unwrap();
    tx.commit().await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "api_token_created" && e.actor_name == "clerk@comune.pisa.it")
    );
    assert!(log.iter().any(|e| e.action == "api_token_revoked"));
}

#[tokio::test]
async fn the_office_api_agrees_with_its_document_with_a_token() {
    let (app, mail) = crate::identity::app_with_mail().await;
    let (mut anna, _) = crate::identity::anna_at_pisa(&app, &mail).await;
    file_report(&mut anna).await;
    let mut clerk = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "clerk@comune.pisa.it",
        "clerk",
    )
    .await;
    let token = token_of(&mut clerk, HOST).await;
    crate::api_contract::schemathesis_with(
        &app,
        HOST,
        Some("/api/v1/office/cases"),
        &[&format!("Authorization: Bearer {token}")],
    )
    .await;
}

#[tokio::test]
async fn the_sign_in_host_lists_a_persons_cases_in_every_commune() {
    let (app, mail) = crate::identity::app_with_mail().await;
    let (mut anna, _) = crate::identity::anna_at_pisa(&app, &mail).await;
    let mut bruno = crate::identity::bruno_at_pisa(&app, &mail, 2).await;
    let id = file_report(&mut anna).await;
    let home = anna.get(&anna.url("login.localhost", "/")).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("id=\"everywhere\""), "{}", home.body);
    assert!(
        home.body.contains(&format!(
            "pisa.localhost:{}/area-personale/pratiche/{id}",
            app.port()
        )),
        "{}",
        home.body
    );
    // Someone else's sign-in lists none of it.
    let theirs = bruno.get(&bruno.url("login.localhost", "/")).await;
    assert!(!theirs.body.contains(&id));
}
