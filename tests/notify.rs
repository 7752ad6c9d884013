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
use sportello_tests::{Options, StatusCode, TestApp, spawn_app_with};

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
async fn enqueue_sms(deps: &Deps, commune: TenantId, number: &str) -> String {
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

/// Fast retries for the test: 300 ms, doubled, at most 4 tries.
fn quick_retries() -> Options {
    Options {
        settings: Box::new(|s| {
            s.delivery.retry_base_ms = 300;
            s.delivery.retry_max_ms = 5_000;
            s.delivery.max_attempts = 4;
            s.delivery.poll_ms = 50;
        }),
        ..Options::default()
    }
}

#[tokio::test]
async fn failures_are_retried_with_backoff_and_permanent_ones_stop() {
    let app = spawn_app_with(quick_retries()).await;
    let gw = SmsGateway::start("pisa-token").await;
    let mut admin = admin_of(&app, PISA, "pisa.localhost").await;
    configure_gateway(&mut admin, &gw, "report-secret-42").await;
    let deps = deps_for(&app).await;
    gw.fail_temporarily("+393471111111", 2);
    gw.fail_temporarily("+393472222222", 100);
    let late = enqueue_sms(&deps, PISA, "+39 347 1111111").await;
    let never = enqueue_sms(&deps, PISA, "+39 347 2222222").await;
    let unknown = enqueue_sms(&deps, PISA, "+39 347 0000000").await;
    sportello_notify::wake(&deps);
    let rows = settle(&app, PISA, 20, |r| {
        r.len() == 3
            && r.iter()
                .all(|m| m.status == Status::PermanentFailure || m.provider_id.is_some())
    })
    .await;
    let of = |id: &str| rows.iter().find(|r| r.id == id).unwrap().clone();
    // Two busy answers, then taken: three tries, each wait longer than the one before.
    let late = of(&late);
    assert_eq!(
        (late.status, late.attempts),
        (Status::Sending, 3),
        "{late:?}"
    );
    let t = gw.attempts("+393471111111");
    assert_eq!(t.len(), 3);
    let (first, second) = (t[1] - t[0], t[2] - t[1]);
    assert!(first >= Duration::from_millis(150), "{first:?}");
    assert!(second >= Duration::from_millis(300), "{second:?}");
    // Always busy: given up after the set number of tries.
    let never = of(&never);
    assert_eq!(
        (never.status, never.attempts),
        (Status::PermanentFailure, 4)
    );
    assert!(
        never
            .reason
            .as_deref()
            .unwrap()
            .contains("gave up after 4 tries"),
        "{never:?}"
    );
    assert_eq!(gw.attempts("+393472222222").len(), 4);
    // A number that does not exist: once, never again.
    let unknown = of(&unknown);
    assert_eq!(
        (unknown.status, unknown.attempts),
        (Status::PermanentFailure, 1)
    );
    assert!(
        unknown
            .reason
            .as_deref()
            .unwrap()
            .contains("unknown number"),
        "{unknown:?}"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(gw.attempts("+393470000000").len(), 1);
}

#[tokio::test]
async fn two_processes_deliver_a_thousand_messages_once_each_and_a_dead_workers_claim_comes_back() {
    // This server sends nothing: two worker processes on the same database do.
    let app = spawn_app_with(Options {
        settings: Box::new(|s| s.delivery.workers = 0),
        ..Options::default()
    })
    .await;
    let gw = SmsGateway::start("pisa-token").await;
    let mut admin = admin_of(&app, PISA, "pisa.localhost").await;
    configure_gateway(&mut admin, &gw, "report-secret-42").await;
    let deps = deps_for(&app).await;
    // A worker that claims a batch and dies before sending any (its lease: one second).
    let tx = deps.store.tenant(PISA).await.unwrap();
    for i in 0..50 {
        sportello_notify::enqueue(
            &deps,
            &tx.db(),
            &Notice {
                template: "contact_code",
                lang: Language::En,
                to: To::Mobile(MobileNumber::parse(&format!("+39 348 1{:06}", i)).unwrap()),
                person_id: None,
                vars: serde_json::json!({"code": "123456", "minutes": 15}),
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let claimed = deps
        .store
        .delivery()
        .claim(50, sportello_store::now_micros(), 1_000_000)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 50);
    // Two delivery processes of their own on the same database.
    let _workers = (worker_process(&app), worker_process(&app));
    // The rest, a hundred to a transaction.
    for batch in 0..10 {
        let tx = deps.store.tenant(PISA).await.unwrap();
        for i in 0..95 {
            let n = format!("+39 349 2{:06}", batch * 100 + i);
            sportello_notify::enqueue(
                &deps,
                &tx.db(),
                &Notice {
                    template: "contact_code",
                    lang: Language::It,
                    to: To::Mobile(MobileNumber::parse(&n).unwrap()),
                    person_id: None,
                    vars: serde_json::json!({"code": "654321", "minutes": 15}),
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let total = 50 + 950;
    let got = gw.wait_for(total, 60).await;
    assert_eq!(got.len(), total, "every message, once");
    let keys: std::collections::HashSet<_> = got.iter().map(|r| r.key.clone()).collect();
    assert_eq!(keys.len(), total, "no message twice");
    assert_eq!(gw.repeats(), 0, "no node sent a message another had sent");
    // The dead worker's messages came back after its lease.
    for c in &claimed {
        assert!(keys.contains(&c.id), "{} lost", c.id);
    }
    let rows = settle(&app, PISA, 10, |r| {
        r.iter().all(|m| m.provider_id.is_some())
    })
    .await;
    assert_eq!(rows.len(), total);
    assert!(
        rows.iter()
            .all(|m| m.status == Status::Sending && m.provider_id.is_some())
    );
}

/// A delivery worker in a process of its own (the test binary running itself with this test's
/// name; without its database variable it does nothing), killed when dropped.
struct WorkerProcess(std::process::Child);

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker_process(app: &TestApp) -> WorkerProcess {
    WorkerProcess(
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "notify::delivery_worker_process", "--ignored"])
            .env("SPORTELLO_TEST_WORKER_DB", &app.db.app_url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// The body of [`worker_process`].
#[tokio::test]
#[ignore = "a helper process: run by a_worker_killed_mid_batch_loses_nothing"]
async fn delivery_worker_process() {
    let Ok(url) = std::env::var("SPORTELLO_TEST_WORKER_DB") else {
        return;
    };
    let mut settings = Settings {
        database_url: Secret::new(url.clone()),
        ..Settings::default()
    };
    settings.delivery.batch = 40;
    settings.delivery.concurrency = 4;
    settings.delivery.lease_ms = 1_500;
    settings.delivery.timeout_ms = 1_000;
    settings.delivery.poll_ms = 50;
    settings.delivery.private_gateways = true;
    let store = sportello_store::Store::connect(&url).await.unwrap();
    let deps = Deps::load(&settings, store.clone(), "http://login.localhost".into())
        .await
        .unwrap();
    sportello_notify::worker::Worker::new(&deps, store)
        .unwrap()
        .spawn();
    tokio::time::sleep(Duration::from_secs(120)).await;
}

#[tokio::test]
async fn a_worker_killed_mid_batch_loses_nothing_and_no_message_arrives_twice() {
    let app = spawn_app_with(Options {
        settings: Box::new(|s| s.delivery.workers = 0),
        ..Options::default()
    })
    .await;
    let gw = SmsGateway::start("pisa-token").await;
    let mut admin = admin_of(&app, PISA, "pisa.localhost").await;
    configure_gateway(&mut admin, &gw, "report-secret-42").await;
    let deps = deps_for(&app).await;
    let total = 200;
    for i in 0..total {
        enqueue_sms(&deps, PISA, &format!("+39 340 5{i:06}")).await;
    }
    // A slow gateway, so that the kill lands in the middle of a batch.
    gw.slow_down(Duration::from_millis(200));
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "notify::delivery_worker_process", "--ignored"])
        .env("SPORTELLO_TEST_WORKER_DB", &app.db.app_url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let before = gw.wait_for(10, 60).await.len();
    assert!(before >= 10, "the worker process sent nothing");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let rows = messages(&app, PISA).await;
    let held = rows
        .iter()
        .filter(|m| m.status == Status::Sending && m.provider_id.is_none())
        .count();
    assert!(held > 0, "killed between batches, not in one");
    let taken = gw.received().len();
    assert!(taken < total, "all sent before the kill");
    // Another worker takes over; what the dead one held comes back when its lease runs out.
    gw.slow_down(Duration::ZERO);
    sportello_notify::worker::Worker::new(&deps, deps.store.clone())
        .unwrap()
        .spawn();
    let got = gw.wait_for(total, 60).await;
    assert_eq!(got.len(), total, "nothing lost");
    let keys: std::collections::HashSet<_> = got.iter().map(|r| r.key.clone()).collect();
    assert_eq!(keys.len(), total, "no message taken twice by the gateway");
    // Only a message in flight at the kill can have been handed over again (same key: the
    // gateway answered with the same id).
    assert!(
        gw.repeats() <= held as u64,
        "{} repeats, {held} held",
        gw.repeats()
    );
    let rows = settle(&app, PISA, 10, |r| {
        r.iter().all(|m| m.provider_id.is_some())
    })
    .await;
    assert!(
        rows.iter().all(|m| m.provider_id.is_some()),
        "every message recorded as sent"
    );
}

#[tokio::test]
async fn a_late_worker_cannot_settle_a_message_another_worker_took() {
    use sportello_store::outbox::Outcome;
    let app = spawn_app_with(Options {
        settings: Box::new(|s| s.delivery.workers = 0),
        ..Options::default()
    })
    .await;
    let deps = deps_for(&app).await;
    let id = enqueue_sms(&deps, PISA, "+39 347 3333333").await;
    let d = app.store.delivery();
    // The first worker's lease runs out at once; a second worker takes the message.
    let now = sportello_store::now_micros();
    let first = d.claim(10, now, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    let second = d.claim(10, now + 10, 60_000_000).await.unwrap();
    assert_eq!((second.len(), second[0].attempts), (1, 2));
    assert!(
        d.claim(10, now + 20, 60_000_000).await.unwrap().is_empty(),
        "held"
    );
    // The first worker comes back late: its outcome is not recorded.
    assert!(
        !d.settle(&first[0], &Outcome::Delivered, now + 30)
            .await
            .unwrap()
    );
    let accepted = Outcome::Accepted {
        provider_id: "gw-late".into(),
    };
    assert!(d.settle(&second[0], &accepted, now + 40).await.unwrap());
    let row = messages(&app, PISA)
        .await
        .into_iter()
        .find(|m| m.id == id)
        .unwrap();
    assert_eq!(row.status, Status::Sending);
    assert_eq!(row.provider_id.as_deref(), Some("gw-late"));
    // Handed over: never claimed again.
    assert!(d.claim(10, now + 120_000_000, 1).await.unwrap().is_empty());
}
