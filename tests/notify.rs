//! Telling people: the outbox delivers by e-mail (a real SMTP server) and SMS (a real HTTP
//! gateway the tests start), retries with backoff, stops on permanent errors, survives a dead
//! worker, never sends twice across nodes, records delivery reports; each commune sees only its
//! own messages and gateway.

use std::time::{Duration, Instant};

use sportello_domain::{Language, MobileNumber, TenantId};
use sportello_kernel::{Deps, Secret, Settings};
use sportello_notify::{Notice, To};
use sportello_store::outbox::{MessageFilter, MessageRow, Status};
use sportello_store::staff::Realm;
use sportello_tests::browser::Browser;
use sportello_tests::sms_gateway::SmsGateway;
use sportello_tests::{StatusCode, TestApp};

const PISA: TenantId = TenantId(50026);
const CALCI: TenantId = TenantId(50003);

/// The services' bundle on the app's database (what another capability writing an event has).
pub(crate) async fn deps_for(app: &TestApp) -> Deps {
    let mut settings = Settings {
        database_url: Secret::new(app.db.app_url.clone()),
        ..Settings::default()
    };
    settings.delivery.private_gateways = true;
    Deps::load(
        &settings,
        app.db.app_store().await,
        "http://login.localhost".into(),
    )
    .await
    .unwrap()
}

/// An event of Pisa's that tells someone something by SMS, committed.
pub(crate) async fn enqueue_sms(deps: &Deps, commune: TenantId, number: &str) -> String {
    let tx = deps.store.tenant(commune).await.unwrap();
    let id = sportello_notify::enqueue(
        deps,
        &tx.db(),
        &Notice {
            template: "contact_code",
            lang: Language::It,
            to: To::Mobile(MobileNumber::parse(number).unwrap()),
            person_id: None,
            vars: serde_json::json!({"code": "123456", "minutes": 15}),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

pub(crate) async fn messages(app: &TestApp, commune: TenantId) -> Vec<MessageRow> {
    let tx = app.store.tenant(commune).await.unwrap();
    let rows = tx
        .db()
        .messages(&MessageFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows
}

/// Waits until `done` holds for the commune's messages (at most `secs` seconds).
pub(crate) async fn settle(
    app: &TestApp,
    commune: TenantId,
    secs: u64,
    done: impl Fn(&[MessageRow]) -> bool,
) -> Vec<MessageRow> {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        let rows = messages(app, commune).await;
        if done(&rows) || Instant::now() > end {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn admin_of(app: &TestApp, commune: TenantId, host: &str) -> Browser {
    crate::actors::signed_in(
        app,
        Realm::Commune(commune),
        host,
        &format!("admin@{host}"),
        "admin",
    )
    .await
}

/// Pisa's administrator points Pisa's SMS channel at `gw` through the console.
pub(crate) async fn configure_gateway(admin: &mut Browser, gw: &SmsGateway, secret: &str) {
    let url = admin.url("pisa.localhost", "/console/messaggi");
    let page = admin.get(&url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.input("csrf").unwrap();
    let save = admin.url("pisa.localhost", "/console/messaggi/sms");
    let endpoint = gw.url();
    // A sender networks would refuse, a secret one could guess: the form again, nothing stored.
    let bad = admin
        .post(
            &save,
            &[
                ("enabled", "on"),
                ("endpoint", &endpoint),
                ("sender", "Comune di Pisa"),
                ("report_secret", "short"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("-sender-error\""), "{}", bad.body);
    assert!(bad.body.contains("-report_secret-error\""), "{}", bad.body);
    let ok = admin
        .post(
            &save,
            &[
                ("enabled", "on"),
                ("endpoint", &endpoint),
                ("token", "pisa-token"),
                ("sender", "ComunePisa"),
                ("report_secret", secret),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(ok.url.contains("esito=salvato"), "{}", ok.body);
    // The secrets are never shown again.
    assert!(!ok.body.contains("pisa-token") && !ok.body.contains(secret));
    // The stored token goes only where it went: another address needs it typed again.
    let moved = admin
        .post(
            &save,
            &[
                ("enabled", "on"),
                ("endpoint", "http://127.0.0.2:9/send"),
                ("sender", "ComunePisa"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::BAD_REQUEST, "{}", moved.body);
    assert!(moved.body.contains("-token-error\""), "{}", moved.body);
}

pub(crate) fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {text}"))
        .to_owned()
}

#[tokio::test]
async fn an_invitation_leaves_through_the_outbox_in_both_parts_with_its_status() {
    let (app, mail) = crate::identity::app_with_mail().await;
    // Pisa's own sender name and reply-to.
    let tx = app.store.tenant(PISA).await.unwrap();
    tx.db()
        .set_settings(
            &sportello_store::authz::CommuneSettings {
                mail_from_name: Some("Comune di Pisa URP".into()),
                mail_reply_to: Some("urp@comune.pisa.it".into()),
                ..Default::default()
            },
            sportello_store::now_micros(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut admin = admin_of(&app, PISA, "pisa.localhost").await;
    let page = admin
        .get(&admin.url("pisa.localhost", "/console/personale"))
        .await;
    let csrf = page.input("csrf").unwrap();
    let invited = admin
        .post(
            &admin.url("pisa.localhost", "/console/personale"),
            &[
                ("email", "nuovo@pisa.example"),
                ("name", "Nuovo Impiegato"),
                ("role", "clerk"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(invited.url.contains("esito=invitato"), "{}", invited.body);
    let m = mail.wait_for(1).await;
    let rows = settle(&app, PISA, 10, |r| {
        r.iter().any(|m| m.status == Status::Delivered)
    })
    .await;
    let row = rows
        .iter()
        .find(|r| r.recipient == "nuovo@pisa.example")
        .unwrap();
    assert_eq!(row.status, Status::Delivered);
    assert_eq!(
        (row.channel.as_str(), row.template.as_str()),
        ("email", "staff_invitation")
    );
    assert!(row.secret, "an invitation carries a link");
    // One message, text and HTML, with the row's id as its Message-ID (the same on a retry).
    assert!(m.contains("multipart/alternative"), "{m}");
    assert!(m.contains("text/plain") && m.contains("text/html"), "{m}");
    assert!(m.contains(&format!("<{}@sportello>", row.id)), "{m}");
    assert!(m.contains("<a href=\"http://pisa.localhost"), "{m}");
    assert!(m.contains("From: \"Comune di Pisa URP\" <"), "{m}");
    assert!(m.contains("Reply-To: urp@comune.pisa.it"), "{m}");
    // The console shows it, in words; never the link.
    let list = admin
        .get(&admin.url("pisa.localhost", "/console/messaggi"))
        .await;
    assert!(list.body.contains("nuovo@pisa.example"), "{}", list.body);
    assert!(list.body.contains("Consegnato"), "{}", list.body);
    assert!(!list.body.contains("token="), "{}", list.body);
    // Calci's console: nothing of Pisa's.
    let mut calci = admin_of(&app, CALCI, "calci.localhost").await;
    let theirs = calci
        .get(&calci.url("calci.localhost", "/console/messaggi"))
        .await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.body.contains("nuovo@pisa.example"));
    // A filter the list does not know is a clear 400.
    let bad = admin
        .get(&admin.url("pisa.localhost", "/console/messaggi?stato=lost"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_mobile_number_is_proven_by_an_sms_through_the_commune_gateway() {
    let (app, mail) = crate::identity::app_with_mail().await;
    let gw = SmsGateway::start("pisa-token").await;
    let (mut anna, p) = crate::identity::anna_at_pisa(&app, &mail).await;
    let csrf = p.input("csrf").unwrap();
    let contacts = anna.url("pisa.localhost", "/area-personale/contatti");
    let save = |mobile: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("email", "anna@example.org".to_owned()),
            ("mobile", mobile.to_owned()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| {
        v.iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<(&str, String)>>()
    };
    // No gateway yet: saved, unproven, no SMS.
    let form = as_refs(&save("+39 347 123 4567"));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = anna.post(&contacts, &form).await;
    assert!(saved.url.ends_with("?salvato=1"), "{}", saved.body);
    assert!(
        saved.body.contains("id=\"mobile-unverified\""),
        "{}",
        saved.body
    );
    let mut admin = admin_of(&app, PISA, "pisa.localhost").await;
    configure_gateway(&mut admin, &gw, "report-secret-of-pisa").await;
    // A new number: a code by SMS, from Pisa's sender, with the message's idempotency key.
    let form = as_refs(&save("+39 347 765 4321"));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = anna.post(&contacts, &form).await;
    assert!(saved.url.ends_with("?verifica=1"), "{}", saved.body);
    let sms = gw.wait_for(1, 10).await;
    assert_eq!(sms.len(), 1);
    let sms = &sms[0];
    assert_eq!(sms.to, "+393477654321");
    assert_eq!(sms.sender, "ComunePisa");
    assert_eq!(sms.key, sms.reference);
    assert_eq!(sms.parts.len(), 1, "one SMS: {}", sms.text);
    let code = code_in(&sms.text);
    let verify = anna.url("pisa.localhost", "/area-personale/contatti/verifica");
    let proven = anna
        .post(&verify, &[("csrf", &csrf), ("code", &code)])
        .await;
    assert!(proven.url.ends_with("?salvato=1"), "{}", proven.body);
    assert!(
        !proven.body.contains("id=\"mobile-unverified\""),
        "{}",
        proven.body
    );
    // A number abroad gets no code (SMS codes go to Italian mobiles only): saved, unproven.
    let form = as_refs(&save("+44 7700 900123"));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let abroad = anna.post(&contacts, &form).await;
    assert!(abroad.url.ends_with("?salvato=1"), "{}", abroad.body);
    assert!(abroad.body.contains("id=\"mobile-unverified\""));
    assert_eq!(gw.received().len(), 1, "no SMS abroad");
    // Handed over, its report to come.
    let rows = settle(&app, PISA, 10, |r| {
        r.iter().any(|m| m.provider_id.is_some())
    })
    .await;
    let row = rows.iter().find(|r| r.channel == "sms").unwrap();
    assert_eq!(row.status, Status::Sending);
    assert_eq!(row.provider_id.as_deref(), Some(sms.id.as_str()));
    // Reports: a wrong secret, or Pisa's report on Calci's host, change nothing.
    let (s, _) = gw
        .report(app.addr, "pisa.localhost", "guess", &sms.id, "delivered")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = gw
        .report(
            app.addr,
            "calci.localhost",
            "report-secret-of-pisa",
            &sms.id,
            "delivered",
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A status that is not final yet is acknowledged and changes nothing.
    let (s, body) = gw
        .report(
            app.addr,
            "pisa.localhost",
            "report-secret-of-pisa",
            &sms.id,
            "buffered",
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["recorded"], false);
    assert_eq!(
        messages(&app, PISA)
            .await
            .iter()
            .find(|r| r.id == row.id)
            .unwrap()
            .status,
        Status::Sending
    );
    let (s, body) = gw
        .report(
            app.addr,
            "pisa.localhost",
            "report-secret-of-pisa",
            &sms.id,
            "delivered",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["recorded"], true);
    let row = messages(&app, PISA)
        .await
        .into_iter()
        .find(|r| r.id == row.id)
        .unwrap();
    assert_eq!(row.status, Status::Delivered);
    assert!(row.done_at.is_some());
    // The person sees what was sent, never the code.
    let area = anna
        .get(&anna.url("pisa.localhost", "/area-personale"))
        .await;
    let sent = area.body.split("id=\"messages\"").nth(1).unwrap_or("");
    assert!(
        sent.contains("SMS") && sent.contains("Consegnato"),
        "{}",
        area.body
    );
    assert!(!sent.contains(&code), "{}", area.body);
    // Calci's console shows neither Pisa's messages nor its gateway.
    let mut calci = admin_of(&app, CALCI, "calci.localhost").await;
    let theirs = calci
        .get(&calci.url("calci.localhost", "/console/messaggi"))
        .await;
    assert!(!theirs.body.contains("+393477654321"));
    assert!(!theirs.body.contains(&gw.url()));
    assert!(messages(&app, CALCI).await.is_empty());
}
