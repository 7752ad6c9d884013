//! Paying online against the Stripe-compatible test server (tests/support/stripe.rs): its
//! replies are async-stripe's own types; a payment charges the commune's connected account
//! once, with the fee as the application fee and the idempotency key stored first; only
//! Stripe's word marks a notice paid; hostile, repeated, late and foreign events are refused or
//! harmless; the sweeper settles what a crash left, once.

use serde_json::{Value, json};
use sportello_authz::Role;
use sportello_domain::{AssuranceLevel, RawNotice};
use sportello_kernel::{Deps, Error, Secret, Settings};
use sportello_payments::online::webhook::{self, Received, Refused};
use sportello_payments::online::{pay, sweep};
use sportello_payments::{notices, settings};
use sportello_store::payments::NoticeStatus;
use sportello_tests::stripe::{FakeStripe, SECRET_KEY};

use crate::cases::{CALCI, PISA, World, citizen, world_with};
use crate::cases_office::staff;
use crate::payments::set_up_form;

pub const WEBHOOK_SECRET: &str = "whsec_test_current";
pub const OLD_SECRET: &str = "whsec_test_previous";
pub const ANNA: &str = "VRDGPP80A01G702C";

/// The services with Stripe's test server as Stripe.
pub async fn stripe_world(fake: &FakeStripe) -> World {
    stripe_world_with(fake, |_| {}).await
}

/// The same, with settings of the test's own besides.
pub async fn stripe_world_with(fake: &FakeStripe, more: impl FnOnce(&mut Settings)) -> World {
    let url = fake.url();
    world_with(move |s| {
        stripe_settings(s, url);
        s.stripe.sweep_after_seconds = 0;
        s.stripe.refresh_every_ms = 0;
        more(s);
    })
    .await
}

/// Stripe's test server as the platform's Stripe (no sweeper of its own; Stripe.js unreachable:
/// the pages are read, not run).
pub fn stripe_settings(s: &mut Settings, url: String) {
    s.stripe.secret_key = Secret::new(SECRET_KEY);
    s.stripe.publishable_key = "pk_test_sportello".into();
    s.stripe.webhook_secret = Secret::new(WEBHOOK_SECRET);
    s.stripe.api_url = url;
    s.stripe.js_url = "http://127.0.0.1:9/v3/".into();
    s.stripe.sweep_every_ms = 0;
}

pub fn client(fake: &FakeStripe) -> stripe::Client {
    stripe::ClientBuilder::new(SECRET_KEY)
        .url(fake.url())
        .build()
        .unwrap()
}

/// A connected account made through the API, as a commune's onboarding with Stripe would.
pub async fn account(fake: &FakeStripe) -> String {
    stripe_connect::account::CreateAccount::new()
        .type_(stripe_connect::account::CreateAccountType::Standard)
        .country("IT")
        .send(&client(fake))
        .await
        .unwrap()
        .id
        .as_str()
        .to_owned()
}

pub fn canteen(reference: &str, amount: &str) -> RawNotice {
    RawNotice {
        reference: reference.into(),
        fiscal_code: ANNA.into(),
        payer_name: "Giuseppe Verdi".into(),
        kind: "mensa".into(),
        reason: format!("Mensa {reference}"),
        amount: amount.into(),
        due_on: "2030-10-31".into(),
        notified_on: String::new(),
    }
}

/// Pisa takes payments on its account; Anna has two notices (45,60 € and 12,00 €).
pub async fn pisa_with_notices(w: &World, fake: &FakeStripe) -> (String, Vec<String>) {
    let admin = staff(w, PISA, "ragioneria@comune.pisa.it", Role::Admin, None).await;
    let acct = account(fake).await;
    settings::save(
        &w.deps,
        &admin,
        &settings::SettingsForm {
            stripe_account: acct.clone(),
            ..set_up_form(&["canteen"])
        },
    )
    .await
    .unwrap();
    let a = notices::create(&w.deps, &admin, &canteen("M-1", "45,60"))
        .await
        .unwrap();
    let b = notices::create(&w.deps, &admin, &canteen("M-2", "12"))
        .await
        .unwrap();
    (acct, vec![a, b])
}

pub async fn notice_status(deps: &Deps, n: &str) -> (NoticeStatus, Option<i64>) {
    let tx = deps.store.tenant_read(PISA).await.unwrap();
    let x = tx.db().notice(n).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    (x.status, x.paid_cents)
}

pub async fn payment(deps: &Deps, id: &str) -> sportello_store::payments::Payment {
    let tx = deps.store.tenant_read(PISA).await.unwrap();
    let p = tx.db().payment(id).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    p
}

pub async fn receive(
    deps: &Deps,
    event: &Value,
    secrets: &[&str],
    t: i64,
) -> Result<Received, Refused> {
    let body = event.to_string();
    webhook::receive(deps, &body, &FakeStripe::signature(&body, secrets, t))
        .await
        .unwrap()
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_payment_charges_the_communes_account_once_and_only_stripes_word_marks_it_paid() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (acct, n) = pisa_with_notices(&w, &fake).await;
    let anna = citizen(&w, PISA, ANNA, AssuranceLevel::Substantial).await;
    let id = pay::start(&w.deps, PISA, &anna, &n).await.unwrap();
    let p = payment(&w.deps, &id).await;
    assert_eq!(
        (p.amount_cents, p.fee_cents, p.total_cents()),
        (5760, 100, 5860)
    );
    assert_eq!(p.status, "pending");
    // One call to Stripe: a direct charge on Pisa's account, the fee the platform's, the key
    // the one stored with the payment.
    let calls: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|s| s.path == "/v1/payment_intents")
        .collect();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.account.as_deref(), Some(acct.as_str()));
    assert_eq!(
        call.idempotency_key.as_deref(),
        Some(p.idempotency_key.as_str())
    );
    let form = |k: &str| {
        call.form
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(form("amount").as_deref(), Some("5860"));
    assert_eq!(form("application_fee_amount").as_deref(), Some("100"));
    assert_eq!(form("currency").as_deref(), Some("eur"));
    assert_eq!(form("metadata[payment]").as_deref(), Some(id.as_str()));
    let intent = p.intent_id.clone().unwrap();
    // The page shows the card form's secret while it can be paid; the browser coming back
    // proves nothing: Stripe is asked, and says not yet.
    let v = pay::view(&w.deps, PISA, &anna, &id).await.unwrap();
    assert!(v.client_secret.as_deref().unwrap().starts_with(&intent));
    pay::refresh(&w.deps, PISA, &anna, &id).await.unwrap();
    assert_eq!(notice_status(&w.deps, &n[0]).await.0, NoticeStatus::Open);
    // The same notices again: the same payment, no second intent; others overlapping: refused.
    assert_eq!(pay::start(&w.deps, PISA, &anna, &n).await.unwrap(), id);
    assert_eq!(
        fake.seen()
            .iter()
            .filter(|s| s.path == "/v1/payment_intents")
            .count(),
        1
    );
    assert!(matches!(
        pay::start(&w.deps, PISA, &anna, &n[..1]).await,
        Err(Error::Refused("refused_payment_under_way"))
    ));
    // Nobody cancels a notice being paid.
    let admin = staff(&w, PISA, "capo@comune.pisa.it", Role::Admin, None).await;
    assert!(matches!(
        notices::cancel(&w.deps, &admin, &n[0], "errore").await,
        Err(Error::Refused("refused_notice_not_open"))
    ));
    // Another person cannot pay or see Anna's notices.
    let bruno = citizen(&w, PISA, "BNCLRA90M41G702E", AssuranceLevel::Substantial).await;
    assert!(matches!(
        pay::start(&w.deps, PISA, &bruno, &n).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        pay::view(&w.deps, PISA, &bruno, &id).await,
        Err(Error::NotFound)
    ));
    // A declined card, then the card that works: failed, then paid.
    let declined = fake.fail(&intent);
    assert_eq!(
        receive(&w.deps, &declined, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "failed"))
    );
    let ok = fake.succeed(&intent);
    assert_eq!(
        receive(&w.deps, &ok, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "paid"))
    );
    assert_eq!(
        notice_status(&w.deps, &n[0]).await,
        (NoticeStatus::Paid, Some(4560))
    );
    assert_eq!(
        notice_status(&w.deps, &n[1]).await,
        (NoticeStatus::Paid, Some(1200))
    );
    let paid = payment(&w.deps, &id).await;
    assert_eq!(paid.status, "succeeded");
    // The receipt: numbered, and told to Anna through the outbox.
    let (year, number) = paid.receipt.unwrap();
    assert_eq!(number, 1);
    {
        use sea_orm::ConnectionTrait;
        let owner = sportello_store::Store::connect(&w.db.admin_url)
            .await
            .unwrap();
        let rows = owner
            .raw_connection()
            .query_all_raw(sea_orm::Statement::from_string(
                owner.raw_connection().get_database_backend(),
                "SELECT subject, recipient FROM messages WHERE template = 'payment_receipt'"
                    .to_owned(),
            ))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "one receipt message");
        let subject: String = rows[0].try_get("", "subject").unwrap();
        assert!(
            subject.contains(&format!("ricevuta n. 1/{year}")) && subject.contains("€ 58,60"),
            "{subject}"
        );
        let to: String = rows[0].try_get("", "recipient").unwrap();
        assert_eq!(to, format!("{}@example.org", ANNA.to_lowercase()));
    }
    let (name, pdf) = sportello_payments::receipt::for_citizen(
        &w.deps,
        PISA,
        &anna,
        &id,
        sportello_domain::Language::It,
    )
    .await
    .unwrap();
    assert_eq!(name, format!("ricevuta-1-{year}.pdf"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(&name);
    std::fs::write(&file, &pdf).unwrap();
    let text = String::from_utf8(
        std::process::Command::new("pdftotext")
            .args([file.to_str().unwrap(), "-"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for want in [
        "Ricevuta di pagamento",
        &format!("1/{year}"),
        "€ 45,60",
        "€ 12,00",
        "€ 1,00",
        "€ 58,60",
        &intent,
        ANNA,
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
    assert!(matches!(
        sportello_payments::receipt::for_citizen(
            &w.deps,
            PISA,
            &bruno,
            &id,
            sportello_domain::Language::It
        )
        .await,
        Err(Error::NotFound)
    ));
    // The same event again, and the declined one late: nothing moves.
    assert_eq!(
        receive(&w.deps, &ok, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Duplicate)
    );
    let mut late = declined.clone();
    late["id"] = json!("evt_late_copy_of_the_failure");
    assert_eq!(
        receive(&w.deps, &late, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "already"))
    );
    assert_eq!(payment(&w.deps, &id).await, paid);
    assert!(
        pay::view(&w.deps, PISA, &anna, &id)
            .await
            .unwrap()
            .client_secret
            .is_none()
    );
}

#[tokio::test]
async fn forged_stale_foreign_and_wrong_amount_events_are_refused_or_harmless() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (_acct, n) = pisa_with_notices(&w, &fake).await;
    let anna = citizen(&w, PISA, ANNA, AssuranceLevel::Substantial).await;
    let id = pay::start(&w.deps, PISA, &anna, &n).await.unwrap();
    let intent = payment(&w.deps, &id).await.intent_id.unwrap();
    let ok = fake.succeed(&intent);
    // A forger's secret, an old timestamp, a body changed after signing: refused.
    assert_eq!(
        receive(&w.deps, &ok, &["whsec_forged"], now()).await,
        Err(Refused::Signature)
    );
    assert_eq!(
        receive(&w.deps, &ok, &[WEBHOOK_SECRET], now() - 3600).await,
        Err(Refused::Stale)
    );
    let body = ok.to_string();
    let sig = FakeStripe::signature(&body, &[WEBHOOK_SECRET], now());
    let changed = body.replace("\"amount_received\":5860", "\"amount_received\":5861");
    assert_ne!(changed, body);
    assert_eq!(
        webhook::receive(&w.deps, &changed, &sig).await.unwrap(),
        Err(Refused::Signature)
    );
    assert_eq!(
        webhook::receive(&w.deps, &body, "t=1,v1=zz").await.unwrap(),
        Err(Refused::Signature)
    );
    assert_eq!(
        webhook::receive(&w.deps, &body, "").await.unwrap(),
        Err(Refused::Signature)
    );
    // Signed with only the secret rolled away: refused; with the old and the current one (as
    // Stripe signs while a secret is rolled): taken.
    assert_eq!(
        receive(&w.deps, &ok, &[OLD_SECRET], now()).await,
        Err(Refused::Signature)
    );
    // Calci's account naming Pisa's intent: nothing of Pisa's moves.
    let calci_acct = account(&fake).await;
    let calci = staff(&w, CALCI, "admin@comune.calci.pi.it", Role::Admin, None).await;
    settings::save(
        &w.deps,
        &calci,
        &settings::SettingsForm {
            tax_code: "80001610502".into(),
            stripe_account: calci_acct.clone(),
            ..set_up_form(&["canteen"])
        },
    )
    .await
    .unwrap();
    let foreign = fake.make_event(
        &calci_acct,
        "payment_intent.succeeded",
        ok["data"]["object"].clone(),
    );
    assert_eq!(
        receive(&w.deps, &foreign, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(CALCI, "unknown_intent"))
    );
    // An account no commune has; an event type the product does not use.
    let stranger = fake.make_event(
        "acct_nobody",
        "payment_intent.succeeded",
        ok["data"]["object"].clone(),
    );
    assert_eq!(
        receive(&w.deps, &stranger, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Ignored("account"))
    );
    let other = fake.make_event(
        &calci_acct,
        "customer.created",
        json!({"id": "cus_1", "object": "customer"}),
    );
    assert!(matches!(
        receive(&w.deps, &other, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Ignored(_))
    ));
    assert_eq!(notice_status(&w.deps, &n[0]).await.0, NoticeStatus::Open);
    // Stripe's word with another amount than the payment's: nothing paid, the payment set
    // aside for the commune to look at; its notices stay held (money may have moved), so the
    // person is not offered to pay them twice.
    let mut wrong = ok["data"]["object"].clone();
    wrong["amount_received"] = json!(100);
    let wrong = fake.make_event(
        &payment(&w.deps, &id).await.stripe_account,
        "payment_intent.succeeded",
        wrong,
    );
    assert_eq!(
        receive(&w.deps, &wrong, &[OLD_SECRET, WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "mismatch"))
    );
    assert_eq!(payment(&w.deps, &id).await.status, "mismatch");
    // The commune's staff find it among the payments set aside; Calci's and an intermediary
    // do not.
    let admin = staff(&w, PISA, "controllo@comune.pisa.it", Role::Admin, None).await;
    let aside = sportello_payments::ledger::list(&w.deps, &admin, Some("mismatch"))
        .await
        .unwrap();
    assert_eq!(
        aside.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        vec![id.as_str()]
    );
    assert!(
        sportello_payments::ledger::list(&w.deps, &admin, Some("succeeded"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        sportello_payments::ledger::list(&w.deps, &calci, None)
            .await
            .unwrap()
            .is_empty()
    );
    let caf = staff(&w, PISA, "caf@example.org", Role::Intermediary, None).await;
    assert!(matches!(
        sportello_payments::ledger::list(&w.deps, &caf, None).await,
        Err(Error::Refused("refused_role"))
    ));
    assert_eq!(notice_status(&w.deps, &n[0]).await.0, NoticeStatus::Open);
    assert!(matches!(
        pay::start(&w.deps, PISA, &anna, &n).await,
        Err(Error::Refused("refused_payment_under_way"))
    ));
    // The true event after it moves nothing back or forward: the commune decides.
    assert_eq!(
        receive(&w.deps, &ok, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "already"))
    );
    assert_eq!(notice_status(&w.deps, &n[0]).await.0, NoticeStatus::Open);
}

#[tokio::test]
async fn what_a_crash_left_unsettled_the_sweeper_settles_once() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (_acct, n) = pisa_with_notices(&w, &fake).await;
    let anna = citizen(&w, PISA, ANNA, AssuranceLevel::Substantial).await;
    let id = pay::start(&w.deps, PISA, &anna, &n[..1]).await.unwrap();
    let intent = payment(&w.deps, &id).await.intent_id.unwrap();
    // Stripe took the money; the node died before any event reached it.
    let ok = fake.succeed(&intent);
    assert_eq!(sweep::sweep(&w.deps).await.unwrap(), 1);
    assert_eq!(
        notice_status(&w.deps, &n[0]).await,
        (NoticeStatus::Paid, Some(4560))
    );
    // The event arrives after all: applied once, as "already".
    assert_eq!(
        receive(&w.deps, &ok, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "already"))
    );
    assert_eq!(sweep::sweep(&w.deps).await.unwrap(), 0);
    // A payment whose creation reached Stripe but whose answer was lost (a timeout, a crash):
    // recorded without its intent. The sweeper asks again with the stored key: Stripe gives
    // the same intent back, no second one is made.
    let second = pay::start(&w.deps, PISA, &anna, &n[1..]).await.unwrap();
    let p = payment(&w.deps, &second).await;
    {
        use sea_orm::ConnectionTrait;
        let owner = sportello_store::Store::connect(&w.db.admin_url)
            .await
            .unwrap();
        let conn = owner.raw_connection();
        conn.execute_unprepared(&format!(
            "UPDATE payments SET intent_id = NULL, status = 'created' WHERE id = '{second}'"
        ))
        .await
        .unwrap();
    }
    let before = fake
        .seen()
        .iter()
        .filter(|s| s.path == "/v1/payment_intents")
        .count();
    assert_eq!(sweep::sweep(&w.deps).await.unwrap(), 0);
    let after: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|s| s.path == "/v1/payment_intents")
        .collect();
    assert_eq!(after.len(), before + 1);
    assert!(
        after.last().unwrap().replayed,
        "the same key: Stripe's first answer again"
    );
    let again = payment(&w.deps, &second).await;
    assert_eq!(
        (again.status.as_str(), again.intent_id.clone()),
        ("pending", p.intent_id.clone())
    );
}
