//! Refunds against the Stripe-compatible test server: staff holding `refund` for the whole
//! commune give money back, whole or in part, never more than was paid; the refund is recorded
//! with its key before Stripe is asked, so a lost answer refunds once; Stripe's refund events
//! move it forward only; another commune, a clerk without `refund` and an office's head do not
//! reach it.

use serde_json::json;
use sportello_authz::Role;
use sportello_domain::AssuranceLevel;
use sportello_kernel::{Actor, Deps, Error, Why};
use sportello_payments::online::webhook::Received;
use sportello_payments::online::{pay, sweep};
use sportello_payments::refunds::{self, Ask};
use sportello_tests::stripe::FakeStripe;

use crate::cases::{CALCI, PISA, World, citizen};
use crate::cases_office::staff;
use crate::payments_stripe::{ANNA, WEBHOOK_SECRET, now, pisa_with_notices, receive, stripe_world};

/// Anna pays both her notices (57,60 € and the 1,00 € fee): the payment's id and Stripe's
/// intent.
pub async fn paid(w: &World, fake: &FakeStripe, n: &[String]) -> (String, String) {
    let anna = citizen(w, PISA, ANNA, AssuranceLevel::Substantial).await;
    let id = pay::start(&w.deps, PISA, &anna, n).await.unwrap();
    let intent = fake.intent_ids().pop().unwrap();
    let e = fake.succeed(&intent);
    assert_eq!(
        receive(&w.deps, &e, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "paid"))
    );
    (id, intent)
}

pub fn ask<'a>(amount: &'a str, reason: &'a str, refund_fee: bool) -> Ask<'a> {
    Ask {
        amount,
        reason,
        refund_fee,
    }
}

async fn refunds_of(deps: &Deps, payment: &str) -> Vec<sportello_store::payments::Refund> {
    let tx = deps.store.tenant_read(PISA).await.unwrap();
    let r = tx.db().refunds_of(payment).await.unwrap();
    tx.commit().await.unwrap();
    r
}

fn refund_calls(fake: &FakeStripe) -> Vec<sportello_tests::stripe::Seen> {
    fake.seen()
        .into_iter()
        .filter(|s| s.path == "/v1/refunds")
        .collect()
}

async fn admin(w: &World) -> Actor {
    staff(w, PISA, "economato@comune.pisa.it", Role::Admin, None).await
}

#[tokio::test]
async fn a_refund_gives_money_back_once_on_the_communes_account_never_more_than_was_paid() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (acct, n) = pisa_with_notices(&w, &fake).await;
    let admin = admin(&w).await;
    // Nothing to refund before the payment went through.
    let anna = citizen(&w, PISA, ANNA, AssuranceLevel::Substantial).await;
    let pending = pay::start(&w.deps, PISA, &anna, &n).await.unwrap();
    assert!(matches!(
        refunds::refund(&w.deps, &admin, &pending, &ask("1", "prova", false)).await,
        Err(Error::Refused("refused_payment_not_refundable"))
    ));
    let intent = fake.intent_ids().pop().unwrap();
    let e = fake.succeed(&intent);
    receive(&w.deps, &e, &[WEBHOOK_SECRET], now())
        .await
        .unwrap();
    let id = pending;
    // A part, the fee kept by the platform.
    let r1 = refunds::refund(
        &w.deps,
        &admin,
        &id,
        &ask("10,00", "Pasto non consumato", false),
    )
    .await
    .unwrap();
    let calls = refund_calls(&fake);
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert_eq!(c.account.as_deref(), Some(acct.as_str()));
    let form = |k: &str| c.form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(form("payment_intent"), Some(intent.as_str()));
    assert_eq!(form("amount"), Some("1000"));
    assert_eq!(form("refund_application_fee"), Some("false"));
    assert_eq!(form("metadata[refund]"), Some(r1.as_str()));
    let stored = refunds_of(&w.deps, &id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        c.idempotency_key.as_deref(),
        Some(stored[0].idempotency_key.as_str())
    );
    assert_eq!(stored[0].status, "succeeded");
    assert_eq!(stored[0].reason, "Pasto non consumato");
    assert!(
        stored[0]
            .stripe_refund_id
            .as_deref()
            .unwrap()
            .starts_with("re_")
    );
    // More than is left (58,60 − 10,00 = 48,60): refused, naming what is left; nothing written.
    let e = refunds::refund(&w.deps, &admin, &id, &ask("48,61", "tutto", true))
        .await
        .unwrap_err();
    assert!(e.refuses("amount", Why::OutOfRange), "{e:?}");
    assert_eq!(refunds_of(&w.deps, &id).await.len(), 1);
    assert_eq!(refund_calls(&fake).len(), 1);
    // Nothing, no reason, not an amount: refused together.
    let e = refunds::refund(&w.deps, &admin, &id, &ask("0", " ", true))
        .await
        .unwrap_err();
    assert!(e.refuses("amount", Why::Required) && e.refuses("reason", Why::Required));
    let e = refunds::refund(&w.deps, &admin, &id, &ask("-3", "x", true))
        .await
        .unwrap_err();
    assert!(e.refuses("amount", Why::AmountInvalid));
    // The rest, fee back to the commune: then nothing is left.
    refunds::refund(
        &w.deps,
        &admin,
        &id,
        &ask("48,60", "Servizio sospeso", true),
    )
    .await
    .unwrap();
    let p = refunds::payment(&w.deps, &admin, &id).await.unwrap();
    assert_eq!((p.refunded_cents(), p.left_cents()), (5860, 0));
    assert_eq!(
        fake.refunds()
            .iter()
            .map(|(_, r)| r["amount"].as_i64().unwrap())
            .sum::<i64>(),
        5860
    );
    assert_eq!(fake.refunds()[1].1["refund_application_fee"], json!(true));
    let e = refunds::refund(&w.deps, &admin, &id, &ask("0,01", "ancora", false))
        .await
        .unwrap_err();
    assert!(e.refuses("amount", Why::OutOfRange));
    // Stripe's events of the refunds, twice: applied once, nothing moves.
    for e in fake
        .events()
        .iter()
        .filter(|e| e["type"] == "refund.created")
    {
        assert_eq!(
            receive(&w.deps, e, &[WEBHOOK_SECRET], now()).await,
            Ok(Received::Applied(PISA, "already"))
        );
        assert_eq!(
            receive(&w.deps, e, &[WEBHOOK_SECRET], now()).await,
            Ok(Received::Duplicate)
        );
    }
    // Every refund is in the audit log with its reason.
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let log = tx.db().audit_log(50).await.unwrap();
    tx.commit().await.unwrap();
    let refunds_logged: Vec<_> = log
        .iter()
        .filter(|a| a.action == "payment_refunded")
        .collect();
    assert_eq!(refunds_logged.len(), 2);
    assert!(
        refunds_logged
            .iter()
            .any(|a| a.detail.contains("Servizio sospeso"))
    );
}

#[tokio::test]
async fn a_lost_answer_is_asked_again_with_the_same_key_and_money_goes_back_once() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (_, n) = pisa_with_notices(&w, &fake).await;
    let (id, _) = paid(&w, &fake, &n).await;
    let admin = admin(&w).await;
    // Stripe refunds, the answer is lost: the refund is recorded, waiting.
    fake.lose_next_answer();
    let r = refunds::refund(&w.deps, &admin, &id, &ask("20", "Doppio addebito", false))
        .await
        .unwrap();
    let stored = refunds_of(&w.deps, &id).await;
    assert_eq!(
        (
            stored[0].status.as_str(),
            stored[0].stripe_refund_id.as_deref()
        ),
        ("created", None)
    );
    // It still counts: no second refund of the same money meanwhile.
    let e = refunds::refund(&w.deps, &admin, &id, &ask("38,61", "resto", false))
        .await
        .unwrap_err();
    assert!(e.refuses("amount", Why::OutOfRange));
    // The sweeper asks again with the same key: Stripe replays, one refund at Stripe.
    sweep::sweep(&w.deps).await.unwrap();
    let calls = refund_calls(&fake);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].idempotency_key, calls[1].idempotency_key);
    assert!(calls[1].replayed);
    assert_eq!(fake.refunds().len(), 1);
    let stored = refunds_of(&w.deps, &id).await;
    assert_eq!(stored[0].id, r);
    assert_eq!(stored[0].status, "succeeded");
    assert_eq!(
        stored[0].stripe_refund_id.as_deref(),
        fake.refunds()[0].1["id"].as_str()
    );
    // Another lost answer, and this time Stripe's event comes first: it finds the refund by
    // our id in its metadata.
    fake.lose_next_answer();
    refunds::refund(&w.deps, &admin, &id, &ask("5", "Rata", false))
        .await
        .unwrap();
    let e = fake
        .events()
        .into_iter()
        .rfind(|e| e["type"] == "refund.created")
        .unwrap();
    assert_eq!(
        receive(&w.deps, &e, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "refund_recorded"))
    );
    sweep::sweep(&w.deps).await.unwrap();
    assert_eq!(fake.refunds().len(), 2);
    assert!(
        refunds_of(&w.deps, &id)
            .await
            .iter()
            .all(|r| r.status == "succeeded")
    );
}

#[tokio::test]
async fn refund_events_move_a_refund_forward_only_and_a_failed_one_frees_its_amount() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (_, n) = pisa_with_notices(&w, &fake).await;
    let (id, _) = paid(&w, &fake, &n).await;
    let admin = admin(&w).await;
    fake.hold_refunds();
    refunds::refund(&w.deps, &admin, &id, &ask("58,60", "Tutto", true))
        .await
        .unwrap();
    let stored = refunds_of(&w.deps, &id).await;
    assert_eq!(stored[0].status, "pending");
    let re = stored[0].stripe_refund_id.clone().unwrap();
    let created = fake
        .events()
        .into_iter()
        .rfind(|e| e["type"] == "refund.created")
        .unwrap();
    // The card expired: the refund fails, and the money can be given back another way.
    let failed = fake.settle_refund(&re, false);
    assert_eq!(
        receive(&w.deps, &failed, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "refund_moved"))
    );
    // The older event, late: nothing moves back.
    assert_eq!(
        receive(&w.deps, &created, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "already"))
    );
    let stored = refunds_of(&w.deps, &id).await;
    assert_eq!(stored[0].status, "failed");
    assert_eq!(
        stored[0].failure.as_deref(),
        Some("expired_or_canceled_card")
    );
    assert_eq!(
        refunds::payment(&w.deps, &admin, &id)
            .await
            .unwrap()
            .left_cents(),
        5860
    );
    // A second refund, pending, then through.
    refunds::refund(&w.deps, &admin, &id, &ask("58,60", "Tutto, di nuovo", true))
        .await
        .unwrap();
    let re2 = refunds_of(&w.deps, &id).await[1]
        .stripe_refund_id
        .clone()
        .unwrap();
    let done = fake.settle_refund(&re2, true);
    assert_eq!(
        receive(&w.deps, &done, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "refund_moved"))
    );
    assert_eq!(refunds_of(&w.deps, &id).await[1].status, "succeeded");
    // A refund made on Stripe's dashboard is nobody's here: left to the reconciliation.
    let other = fake.make_event(
        fake.intent(&fake.intent_ids()[0]).unwrap().0.as_str(),
        "refund.updated",
        json!({"id": "re_dashboard", "object": "refund", "amount": 100, "currency": "eur",
               "created": now(), "status": "succeeded", "metadata": {}}),
    );
    assert_eq!(
        receive(&w.deps, &other, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "unknown_refund"))
    );
}

#[tokio::test]
async fn another_commune_a_clerk_and_an_offices_head_cannot_refund_pisas_payments() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (_, n) = pisa_with_notices(&w, &fake).await;
    let (id, _) = paid(&w, &fake, &n).await;
    let calci = staff(
        &w,
        CALCI,
        "ragioneria@comune.calci.pi.it",
        Role::Admin,
        None,
    )
    .await;
    assert!(matches!(
        refunds::refund(&w.deps, &calci, &id, &ask("1", "x", false)).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        refunds::payment(&w.deps, &calci, &id).await,
        Err(Error::NotFound)
    ));
    let clerk = staff(&w, PISA, "impiegato@comune.pisa.it", Role::Clerk, None).await;
    assert!(matches!(
        refunds::refund(&w.deps, &clerk, &id, &ask("1", "x", false)).await,
        Err(Error::Refused("refused_role"))
    ));
    let head = staff(
        &w,
        PISA,
        "capo@comune.pisa.it",
        Role::OfficeHead,
        Some("urp"),
    )
    .await;
    assert!(matches!(
        refunds::refund(&w.deps, &head, &id, &ask("1", "x", false)).await,
        Err(Error::Refused("refused_role"))
    ));
    assert!(refund_calls(&fake).is_empty());
    assert!(refunds_of(&w.deps, &id).await.is_empty());
    // An event of Calci's account naming Pisa's refund: nothing of Pisa's moves.
    let admin = admin(&w).await;
    fake.hold_refunds();
    let r = refunds::refund(&w.deps, &admin, &id, &ask("3", "x", false))
        .await
        .unwrap();
    let re = refunds_of(&w.deps, &id).await[0]
        .stripe_refund_id
        .clone()
        .unwrap();
    let calci_acct = crate::payments_stripe::account(&fake).await;
    sportello_payments::settings::save(
        &w.deps,
        &calci,
        &sportello_payments::settings::SettingsForm {
            stripe_account: calci_acct.clone(),
            tax_code: "80001610502".into(),
            ..crate::payments::set_up_form(&["canteen"])
        },
    )
    .await
    .unwrap();
    let forged = fake.make_event(
        &calci_acct,
        "refund.updated",
        json!({"id": re, "object": "refund", "amount": 300, "currency": "eur", "created": now(),
               "status": "succeeded", "metadata": {"refund": r}}),
    );
    assert_eq!(
        receive(&w.deps, &forged, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(CALCI, "unknown_refund"))
    );
    assert_eq!(refunds_of(&w.deps, &id).await[0].status, "pending");
}

#[tokio::test]
async fn two_refunds_at_once_never_give_back_more_than_was_paid() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (_, n) = pisa_with_notices(&w, &fake).await;
    let (id, _) = paid(&w, &fake, &n).await;
    let a = admin(&w).await;
    let b = staff(&w, PISA, "economato2@comune.pisa.it", Role::Admin, None).await;
    // 40 € each of 58,60 €: one goes through, the other is told what is left.
    let each = ask("40", "Doppio", false);
    let (x, y) = tokio::join!(
        refunds::refund(&w.deps, &a, &id, &each),
        refunds::refund(&w.deps, &b, &id, &each),
    );
    let oks = [&x, &y].iter().filter(|r| r.is_ok()).count();
    assert_eq!(oks, 1, "{x:?} {y:?}");
    let refused = if x.is_err() { x } else { y };
    assert!(refused.unwrap_err().refuses("amount", Why::OutOfRange));
    assert_eq!(fake.refunds().len(), 1);
    assert_eq!(refunds_of(&w.deps, &id).await.len(), 1);
}

#[tokio::test]
async fn the_sweeper_reads_refunds_under_way_and_finds_one_whose_key_stripe_may_have_forgotten() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (_, n) = pisa_with_notices(&w, &fake).await;
    let (id, _) = paid(&w, &fake, &n).await;
    let admin = admin(&w).await;
    // Under way at the bank; it goes through, and its event is lost: the sweeper reads it.
    fake.hold_refunds();
    refunds::refund(&w.deps, &admin, &id, &ask("10", "Rata", false))
        .await
        .unwrap();
    let re = refunds_of(&w.deps, &id).await[0]
        .stripe_refund_id
        .clone()
        .unwrap();
    fake.settle_refund(&re, true);
    sweep::sweep(&w.deps).await.unwrap();
    assert_eq!(refunds_of(&w.deps, &id).await[0].status, "succeeded");
    // An answer lost a day ago: the key may be forgotten, so the sweeper looks the refund up
    // among the intent's (by our id) instead of asking again.
    fake.lose_next_answer();
    let r = refunds::refund(&w.deps, &admin, &id, &ask("5", "Rata", false))
        .await
        .unwrap();
    {
        use sea_orm::ConnectionTrait;
        let owner = sportello_store::Store::connect(&w.db.admin_url)
            .await
            .unwrap();
        let day_ago = sportello_store::now_micros() - 24 * 3600 * 1_000_000;
        owner
            .raw_connection()
            .execute_unprepared(&format!(
                "UPDATE refunds SET created_at = {day_ago} WHERE id = '{r}'"
            ))
            .await
            .unwrap();
    }
    let posts = refund_calls(&fake)
        .iter()
        .filter(|c| c.method == "POST")
        .count();
    sweep::sweep(&w.deps).await.unwrap();
    assert_eq!(
        refund_calls(&fake)
            .iter()
            .filter(|c| c.method == "POST")
            .count(),
        posts,
        "not asked again"
    );
    let stored = refunds_of(&w.deps, &id).await;
    let mine = stored.iter().find(|x| x.id == r).unwrap();
    assert!(mine.stripe_refund_id.is_some());
    assert_eq!(fake.refunds().len(), 2);
}

#[tokio::test]
async fn an_office_head_for_the_whole_commune_may_refund() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (_, n) = pisa_with_notices(&w, &fake).await;
    let (id, _) = paid(&w, &fake, &n).await;
    let head = staff(
        &w,
        PISA,
        "capo.ragioneria@comune.pisa.it",
        Role::OfficeHead,
        None,
    )
    .await;
    refunds::refund(&w.deps, &head, &id, &ask("1", "Arrotondamento", false))
        .await
        .unwrap();
    assert_eq!(refunds_of(&w.deps, &id).await.len(), 1);
}
