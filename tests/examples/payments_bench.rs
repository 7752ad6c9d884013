//! The payments benchmark (run by `tests/bench/payments.sh`, which writes the README table),
//! against a fresh database of the tests (`SPORTELLO_TEST_DB=sqlite|postgres`), through the
//! services (no HTTP):
//!
//! - `import N`: a CSV file of N notices imported into Pisa (every row checked, the references
//!   looked up, the numbers taken, the rows written, one transaction), then the same file again
//!   (nothing new: every reference found);
//! - `webhook N C`: N signed `payment_intent.succeeded` events, C at a time, each verified,
//!   mapped to its commune by account, deduplicated, settling its payment and notice, numbering
//!   the receipt and writing its message: first every payment in Pisa, then over 50 communes;
//! - `due`: 1,000,000 notices over 50 communes (20,000 each, five per payer), then "Da pagare"
//!   of a payer of Pisa: p50/p99 over 300 runs.
//!
//! Prints markdown rows.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use sportello_authz::Role;
use sportello_domain::{AssuranceLevel, TenantId};
use sportello_kernel::session::{Current, Kind};
use sportello_kernel::{Actor, Deps, Secret, Settings};
use sportello_payments::online::webhook::{self, Received};
use sportello_store::identity::VerifiedIdentity;
use sportello_store::payments::{NewNotice, Payment, PaymentItem, PaymentSettings};
use sportello_store::staff::Realm;
use sportello_tests::stripe::FakeStripe;
use sportello_tests::{TestDb, apex, tenants_dir};

const PISA: TenantId = TenantId(50026);
const SECRET: &str = "whsec_bench";

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn setup() -> (TestDb, Deps, tempfile::TempDir, Vec<TenantId>) {
    let db = TestDb::new().await;
    let store = db.app_store().await;
    let owner = sportello_store::Store::connect(&db.admin_url)
        .await
        .expect("owner");
    let rows =
        sportello_store::istat::parse_csv(sportello_store::istat::EMBEDDED_CSV).expect("istat");
    owner
        .federation()
        .import_istat(&rows, &apex(), |_| {})
        .await
        .expect("import");
    owner
        .federation()
        .sync_tenants_dir(&tenants_dir(), &apex())
        .await
        .expect("sync");
    let files = tempfile::tempdir().expect("tmp");
    let mut settings = Settings {
        database_url: Secret::new(db.app_url.clone()),
        mail_outbox: files.path().display().to_string(),
        files_dir: files.path().join("f").display().to_string(),
        ..Settings::default()
    };
    settings.stripe.secret_key = Secret::new("sk_bench");
    settings.stripe.publishable_key = "pk_bench".into();
    settings.stripe.webhook_secret = Secret::new(SECRET);
    let deps = Deps::load(&settings, store, "http://login.bench".into())
        .await
        .expect("deps");
    let mut communes = vec![PISA];
    communes.extend(
        rows.iter()
            .map(|r| r.tenant_id())
            .filter(|t| *t != PISA)
            .take(49),
    );
    for c in &communes {
        let tx = deps.store.tenant(*c).await.expect("tx");
        let db = tx.db();
        db.save_payment_settings(&PaymentSettings {
            tax_code: Some("00341620508".into()),
            kinds: "canteen,fine".into(),
            stripe_account: Some(account(*c)),
            ..PaymentSettings::default()
        })
        .await
        .expect("settings");
        db.set_own_stripe_account(Some(&account(*c)))
            .await
            .expect("account");
        tx.commit().await.expect("commit");
    }
    (db, deps, files, communes)
}

fn account(c: TenantId) -> String {
    format!("acct_bench{}", c.0)
}

async fn admin(deps: &Deps) -> Actor {
    let realm = Realm::Commune(PISA);
    let (id, _) = sportello_identity::staff::invite_for_office(
        &deps.store,
        realm,
        "bench@comune.pisa.it",
        "Bench",
        Role::Admin.key(),
        None,
    )
    .await
    .expect("invite");
    deps.apply_policy_changes().await.expect("policies");
    Actor {
        realm,
        staff_id: id,
        name: "Bench".into(),
        email: "bench@comune.pisa.it".into(),
        federation: false,
    }
}

async fn run_import(n: usize) {
    let (_db, deps, _f, _) = setup().await;
    let a = admin(&deps).await;
    let codes = [
        "VRDGPP80A01G702C",
        "BNCLRA90M41G702E",
        "NREFNC75C12B390U",
        "GLLMRA70E55L378I",
    ];
    let mut csv =
        String::from("riferimento;codice_fiscale;nominativo;tipo;causale;importo;scadenza\n");
    for i in 0..n {
        csv.push_str(&format!(
            "MENSA-{i:06};{};Genitore {i};mensa;Mensa scolastica, settembre;{},{:02};30/09/2030\n",
            codes[i % codes.len()],
            20 + i % 50,
            i % 100
        ));
    }
    let t = Instant::now();
    let out = sportello_payments::import::import(&deps, &a, csv.as_bytes())
        .await
        .expect("import");
    let first = t.elapsed().as_secs_f64();
    assert_eq!(
        out,
        sportello_payments::import::Outcome::Done {
            written: n as u64,
            already: 0
        }
    );
    let t = Instant::now();
    let again = sportello_payments::import::import(&deps, &a, csv.as_bytes())
        .await
        .expect("again");
    let second = t.elapsed().as_secs_f64();
    assert_eq!(
        again,
        sportello_payments::import::Outcome::Done {
            written: 0,
            already: n as u64
        }
    );
    println!(
        "| import of {n} notices into one commune | {first:.1} s | {:.0} rows/s |",
        n as f64 / first
    );
    println!(
        "| the same file again (nothing new) | {second:.1} s | {:.0} rows/s |",
        n as f64 / second
    );
}

/// A payment and its notice in `c`, its intent `pi`, and the event Stripe would send for it.
async fn prepared(deps: &Deps, c: TenantId, i: usize, person: &str) -> String {
    let number = sportello_domain::NoticeNumber::new(1, i as u64 + 1).expect("n");
    let pid = format!("pay-{}-{i}", c.0);
    let pi = format!("pi_bench_{}_{i}", c.0);
    let tx = deps.store.tenant(c).await.expect("tx");
    let db = tx.db();
    db.insert_notices(&[NewNotice {
        notice_number: number.as_str().to_owned(),
        reference: format!("R-{i}"),
        fiscal_code: "VRDGPP80A01G702C".into(),
        payer_name: "Bench".into(),
        kind: "canteen".into(),
        reason: "Mensa".into(),
        amount_cents: 4560,
        due_on: "2030-09-30".into(),
        reduced_cents: None,
        reduced_until: None,
        created_at: 0,
        created_by: "bench".into(),
        import_id: None,
    }])
    .await
    .expect("notice");
    let p = Payment {
        id: pid.clone(),
        person_id: person.to_owned(),
        fiscal_code: "VRDGPP80A01G702C".into(),
        amount_cents: 4560,
        fee_cents: 100,
        currency: "eur".into(),
        status: "created".into(),
        stripe_account: account(c),
        idempotency_key: format!("k-{pid}"),
        intent_id: None,
        client_secret: None,
        failure: None,
        created_at: 0,
        updated_at: 0,
        succeeded_at: None,
        receipt: None,
        checked_at: 0,
        purpose: "notices".into(),
    };
    db.claim_notices(&pid, &[number.as_str().to_owned()])
        .await
        .expect("claim");
    db.insert_payment(
        &p,
        &[PaymentItem {
            notice_number: number.as_str().to_owned(),
            amount_cents: 4560,
        }],
    )
    .await
    .expect("payment");
    db.set_payment_intent(&pid, &pi, "sealed", 0)
        .await
        .expect("intent");
    tx.commit().await.expect("commit");
    let event = json!({"id": format!("evt_{pi}"), "object": "event", "account": account(c),
        "api_version": "2025-08-27.basil", "created": 1_700_000_000, "livemode": false,
        "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": pi, "object": "payment_intent", "amount": 4660, "amount_capturable": 0,
            "amount_received": 4660, "application_fee_amount": 100, "capture_method": "automatic_async",
            "confirmation_method": "automatic", "created": 1_700_000_000, "currency": "eur",
            "livemode": false, "metadata": {"payment": pid}, "payment_method_types": ["card"],
            "status": "succeeded"}}});
    event.to_string()
}

async fn run_webhook(n: usize, at_once: usize) {
    let (_db, deps, _f, communes) = setup().await;
    let person = deps
        .store
        .identity()
        .person_from_idp(
            &VerifiedIdentity {
                fiscal_code: "VRDGPP80A01G702C".into(),
                given_name: "Bench".into(),
                family_name: "Persona".into(),
                email: Some("persona@bench.example".into()),
                mobile: None,
                date_of_birth: None,
                place_of_birth: None,
            },
            0,
        )
        .await
        .expect("person");
    let deps = Arc::new(deps);
    for (label, spread) in [("one commune", 1usize), ("50 communes", 50)] {
        let mut events = Vec::with_capacity(n);
        for i in 0..n {
            let c = communes[i % spread];
            events.push(prepared(&deps, c, i + if spread == 1 { 0 } else { n }, &person.id).await);
        }
        let t = Instant::now();
        let events = Arc::new(events);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = vec![];
        for _ in 0..at_once {
            let (deps, events, next) = (deps.clone(), events.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut took = vec![];
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(body) = events.get(i) else { break };
                    let sig =
                        FakeStripe::signature(body, &[SECRET], chrono::Utc::now().timestamp());
                    let s = Instant::now();
                    let r = webhook::receive(&deps, body, &sig).await.expect("receive");
                    took.push(s.elapsed().as_secs_f64() * 1000.0);
                    assert!(matches!(r, Ok(Received::Applied(_, "paid"))), "{r:?}");
                }
                took
            }));
        }
        let mut took = vec![];
        for t in tasks {
            took.extend(t.await.expect("task"));
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "| webhook events, {label}, {at_once} at a time | {n} | {:.0}/s | {:.1} ms | {:.1} ms |",
            n as f64 / secs,
            pct(&mut took, 0.5),
            pct(&mut took, 0.99)
        );
    }
}

async fn run_due() {
    let (_db, deps, _f, communes) = setup().await;
    let per_commune = 20_000usize;
    for (ci, c) in communes.iter().enumerate() {
        let tx = deps.store.tenant(*c).await.expect("tx");
        let db = tx.db();
        let rows: Vec<NewNotice> = (0..per_commune)
            .map(|i| {
                let number = sportello_domain::NoticeNumber::new(1, i as u64 + 1).expect("n");
                NewNotice {
                    notice_number: number.as_str().to_owned(),
                    reference: format!("D-{i}"),
                    // Five notices per payer.
                    fiscal_code: format!("BNCH{:06}{:06}", ci, i / 5),
                    payer_name: "Bench".into(),
                    kind: "canteen".into(),
                    reason: "Mensa".into(),
                    amount_cents: 1000 + (i % 5000) as i64,
                    due_on: format!("2030-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
                    reduced_cents: None,
                    reduced_until: None,
                    created_at: i as i64,
                    created_by: "bench".into(),
                    import_id: None,
                }
            })
            .collect();
        db.insert_notices(&rows).await.expect("insert");
        tx.commit().await.expect("commit");
    }
    let _ = deps.store.refresh_statistics().await;
    let mut took = vec![];
    for run in 0..300usize {
        let payer = format!("BNCH{:06}{:06}", 0, (run * 13) % (per_commune / 5));
        let mut who = citizen(PISA);
        if let Some(p) = who.person.as_mut() {
            p.fiscal_code = Some(payer);
        }
        let t = Instant::now();
        let m = sportello_payments::due::mine(&deps, PISA, &who)
            .await
            .expect("due")
            .expect("code");
        took.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(m.notices.len(), 5);
    }
    println!(
        "| \"Da pagare\" with {} notices in the database | {:.2} ms | {:.2} ms |",
        per_commune * communes.len(),
        pct(&mut took, 0.5),
        pct(&mut took, 0.99)
    );
}

fn citizen(c: TenantId) -> Current {
    Current {
        token_hash: String::new(),
        kind: Kind::Citizen,
        sso_hash: None,
        commune: Some(c),
        person: Some(sportello_store::identity::Person {
            id: "bench".into(),
            fiscal_code: None,
            given_name: "Bench".into(),
            family_name: "Persona".into(),
            date_of_birth: None,
            place_of_birth: None,
            idp_email: None,
            idp_mobile: None,
            contact_email: None,
            contact_mobile: None,
            email_consent: false,
            sms_consent: false,
        }),
        staff: None,
        level: AssuranceLevel::Substantial,
        idp: "spid".into(),
        mfa: false,
        created_at: 0,
        last_seen_at: 0,
        expires_at: i64::MAX,
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    match args.get(1).map(String::as_str) {
        Some("import") => run_import(num(2, 100_000)).await,
        Some("webhook") => run_webhook(num(2, 2000), num(3, 16)).await,
        Some("due") => run_due().await,
        _ => eprintln!("usage: payments_bench import [N] | webhook [N] [AT_ONCE] | due"),
    }
}
