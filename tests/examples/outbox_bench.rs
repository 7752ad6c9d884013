//! The outbox's throughput and delay (run by `tests/bench/outbox.sh`, which writes the README
//! table): messages delivered per second to the local SMTP sink (aiosmtpd) and to the test SMS
//! gateway by two delivery workers, each with its own pool, and the delay from an event's commit
//! to the hand-over to the provider at a steady rate. The database is the tests' (a fresh one:
//! `SPORTELLO_TEST_DB=sqlite|postgres`). Prints one markdown row per channel.

use std::time::{Duration, Instant};

use sportello_domain::{Email, Language, MobileNumber, TenantId};
use sportello_kernel::{Deps, Secret, Settings};
use sportello_notify::{Notice, To};
use sportello_store::channels::SmsGatewayRow;
use sportello_tests::counterparts::MailSink;
use sportello_tests::sms_gateway::SmsGateway;
use sportello_tests::{TestDb, apex, tenants_dir};

const PISA: TenantId = TenantId(50026);

fn notice(email: bool, i: usize) -> Notice {
    let to = if email {
        To::Email(Email::parse(&format!("persona{i}@example.org")).expect("email"))
    } else {
        To::Mobile(MobileNumber::parse(&format!("+39 347 1{i:06}")).expect("mobile"))
    };
    Notice {
        template: "contact_code",
        lang: Language::It,
        to,
        person_id: None,
        vars: serde_json::json!({"code": "123456", "minutes": 15}),
    }
}

/// Writes `n` messages, `per_tx` to a transaction (an event each when 1).
async fn enqueue(deps: &Deps, email: bool, from: usize, n: usize, per_tx: usize) {
    let mut i = from;
    while i < from + n {
        let tx = deps.store.tenant(PISA).await.expect("tx");
        for _ in 0..per_tx.min(from + n - i) {
            sportello_notify::enqueue(deps, &tx.db(), &notice(email, i))
                .await
                .expect("enqueue");
            i += 1;
        }
        tx.commit().await.expect("commit");
        sportello_notify::wake(deps);
    }
}

/// The (sent_at - created_at) delays of the messages handed over so far, in ms (read as the
/// schema owner: across the row-level security the application runs under).
async fn handed_over(owner: &sportello_store::Store) -> Vec<f64> {
    use sea_orm::ConnectionTrait;
    let sql = "SELECT sent_at - created_at AS d FROM messages WHERE sent_at IS NOT NULL";
    let rows = owner
        .raw_connection()
        .query_all_raw(sea_orm::Statement::from_string(owner.backend(), sql))
        .await
        .unwrap_or_default();
    rows.iter()
        .filter_map(|r| r.try_get::<i64>("", "d").ok())
        .map(|d| d as f64 / 1000.0)
        .collect()
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn clear(owner: &sportello_store::Store) {
    use sea_orm::ConnectionTrait;
    let _ = owner
        .raw_connection()
        .execute_raw(sea_orm::Statement::from_string(
            owner.backend(),
            "DELETE FROM messages",
        ))
        .await;
}

async fn wait_for(owner: &sportello_store::Store, n: usize) -> Duration {
    let start = Instant::now();
    while handed_over(owner).await.len() < n {
        if start.elapsed() > Duration::from_secs(300) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let email = args.get(1).map(String::as_str) == Some("email");
    let burst: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let seconds: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(10);
    let (label, rate) = if email {
        ("e-mail (SMTP sink)", 200.0)
    } else {
        ("SMS (HTTP gateway)", 500.0)
    };
    let db = TestDb::new().await;
    let owner = sportello_store::Store::connect(&db.admin_url)
        .await
        .expect("owner");
    owner
        .federation()
        .sync_tenants_dir(&tenants_dir(), &apex())
        .await
        .expect("sync");
    let sink = MailSink::start();
    let gw = SmsGateway::start("bench-token").await;
    let mut settings = Settings {
        database_url: Secret::new(db.app_url.clone()),
        smtp_url: Secret::new(format!("smtp://127.0.0.1:{}", sink.port)),
        ..Settings::default()
    };
    settings.delivery.batch = 100;
    settings.delivery.private_gateways = true;
    let store = sportello_store::Store::connect(&db.app_url)
        .await
        .expect("store");
    let deps = Deps::load(&settings, store, "http://login.localhost".into())
        .await
        .expect("deps");
    {
        let tx = deps.store.tenant(PISA).await.expect("tx");
        tx.db()
            .set_sms_gateway(
                &SmsGatewayRow {
                    enabled: true,
                    endpoint: Some(gw.url()),
                    token_sealed: Some(deps.secrets.seal(b"bench-token").expect("seal")),
                    sender: Some("ComunePisa".into()),
                    report_secret_sealed: None,
                },
                sportello_store::now_micros(),
            )
            .await
            .expect("gateway");
        tx.commit().await.expect("commit");
    }
    // Throughput: a burst written first, then two workers (each its own pool) drain it.
    enqueue(&deps, email, 0, burst, 100).await;
    for _ in 0..2 {
        let store = sportello_store::Store::connect(&db.app_url)
            .await
            .expect("pool");
        sportello_notify::worker::Worker::new(&deps, store)
            .expect("worker")
            .spawn();
    }
    let took = wait_for(&owner, burst).await;
    let per_s = burst as f64 / took.as_secs_f64();
    // Delay: one event a transaction at a steady rate (four writers, as requests would be),
    // the workers running.
    clear(&owner).await;
    const WRITERS: usize = 4;
    let n = (rate * seconds as f64) as usize / WRITERS * WRITERS;
    let gap = Duration::from_secs_f64(WRITERS as f64 / rate);
    let start = Instant::now();
    let deps = std::sync::Arc::new(deps);
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let deps = deps.clone();
        writers.spawn(async move {
            for i in 0..n / WRITERS {
                enqueue(&deps, email, burst + w * n + i, 1, 1).await;
                let due = start + gap * (i as u32 + 1);
                if let Some(d) = due.checked_duration_since(Instant::now()) {
                    tokio::time::sleep(d).await;
                }
            }
        });
    }
    while writers.join_next().await.is_some() {}
    let achieved = n as f64 / start.elapsed().as_secs_f64();
    wait_for(&owner, n).await;
    let mut d = handed_over(&owner).await;
    println!(
        "| {label} | {burst} in {:.1} s: {per_s:.0}/s | {achieved:.0}/s for {seconds} s | {:.0} ms | {:.0} ms |",
        took.as_secs_f64(),
        pct(&mut d, 0.5),
        pct(&mut d, 0.99)
    );
    std::process::exit(0);
}
