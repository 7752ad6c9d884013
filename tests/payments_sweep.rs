//! What is left unsettled or out of date: the sweeper looks at each payment on its own (one
//! Stripe cannot answer for holds up no other), settles a payment whose card worked after a
//! failure, gives up one nobody completed (its intent cancelled at Stripe, its notices free
//! again), and a payment whose fine reduction ran out is replaced, never paid at the reduced
//! amount; an event the library cannot read is looked up at Stripe; a commune cannot move to
//! another account while payments are under way on its own.

use sea_orm::ConnectionTrait;
use serde_json::json;
use sportello_authz::Role;
use sportello_domain::{AssuranceLevel, RawNotice};
use sportello_kernel::Error;
use sportello_payments::online::webhook::Received;
use sportello_payments::online::{pay, sweep};
use sportello_payments::{notices, settings};
use sportello_store::payments::NoticeStatus;
use sportello_tests::stripe::FakeStripe;

use crate::cases::{PISA, World, citizen};
use crate::cases_office::staff;
use crate::payments::set_up_form;
use crate::payments_stripe::{
    ANNA, WEBHOOK_SECRET, canteen, notice_status, now, payment, pisa_with_notices, receive,
    stripe_world,
};

/// Runs SQL as the schema's owner (what the test pretends time or a crash did).
async fn owner_sql(w: &World, sql: &str) {
    let owner = sportello_store::Store::connect(&w.db.admin_url)
        .await
        .unwrap();
    owner
        .raw_connection()
        .execute_unprepared(sql)
        .await
        .unwrap();
}

#[tokio::test]
async fn one_payment_stripe_cannot_answer_for_holds_up_no_other_and_an_abandoned_one_is_given_up() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (_acct, n) = pisa_with_notices(&w, &fake).await;
    let anna = citizen(&w, PISA, ANNA, AssuranceLevel::Substantial).await;
    let broken = pay::start(&w.deps, PISA, &anna, &n[..1]).await.unwrap();
    let good = pay::start(&w.deps, PISA, &anna, &n[1..]).await.unwrap();
    // The first payment's intent is one Stripe does not know (its account revoked, say); it is
    // also the oldest, so the sweeper meets it first.
    owner_sql(
        &w,
        &format!(
            "UPDATE payments SET intent_id = 'pi_unknown', updated_at = 1 WHERE id = '{broken}'"
        ),
    )
    .await;
    let intent = payment(&w.deps, &good).await.intent_id.unwrap();
    fake.succeed(&intent);
    assert_eq!(
        sweep::sweep(&w.deps).await.unwrap(),
        1,
        "the second is settled all the same"
    );
    assert_eq!(notice_status(&w.deps, &n[1]).await.0, NoticeStatus::Paid);
    assert_eq!(payment(&w.deps, &broken).await.status, "pending");
    assert!(
        payment(&w.deps, &broken).await.updated_at > 1,
        "looked at: its turn comes later"
    );
    // Past its day, a payment Stripe no longer answers for is set aside for staff: not
    // cancelled (it may have been paid), its notice still held, the commune no longer stuck.
    owner_sql(
        &w,
        &format!("UPDATE payments SET created_at = 1, updated_at = 1 WHERE id = '{broken}'"),
    )
    .await;
    sweep::sweep(&w.deps).await.unwrap();
    let b = payment(&w.deps, &broken).await;
    assert_eq!(
        (b.status.as_str(), b.failure.as_deref()),
        ("mismatch", Some("unreachable"))
    );
    assert!(matches!(
        pay::start(&w.deps, PISA, &anna, &n[..1]).await,
        Err(Error::Refused("refused_notice_not_open"))
            | Err(Error::Refused("refused_payment_under_way"))
    ));

    // A payment nobody completed within the day is given up: its intent cancelled at Stripe,
    // its notice free to be paid again.
    let third = {
        let admin = staff(&w, PISA, "terzo@comune.pisa.it", Role::Admin, None).await;
        notices::create(&w.deps, &admin, &canteen("M-3", "20"))
            .await
            .unwrap()
    };
    let abandoned = pay::start(&w.deps, PISA, &anna, std::slice::from_ref(&third))
        .await
        .unwrap();
    let pi = payment(&w.deps, &abandoned).await.intent_id.unwrap();
    assert!(matches!(
        pay::start(&w.deps, PISA, &anna, &[third.clone(), n[0].clone()]).await,
        Err(Error::Refused("refused_payment_under_way"))
    ));
    owner_sql(
        &w,
        &format!("UPDATE payments SET created_at = 1 WHERE id = '{abandoned}'"),
    )
    .await;
    sweep::sweep(&w.deps).await.unwrap();
    assert_eq!(payment(&w.deps, &abandoned).await.status, "cancelled");
    assert_eq!(fake.intent(&pi).unwrap().1["status"], "canceled");
    let again = pay::start(&w.deps, PISA, &anna, std::slice::from_ref(&third))
        .await
        .unwrap();
    assert_ne!(again, abandoned, "a new payment for the freed notice");
    // Stripe's own word that an intent was cancelled frees its notices too.
    let pi = payment(&w.deps, &again).await.intent_id.unwrap();
    let mut cancelled = fake.intent(&pi).unwrap().1;
    cancelled["status"] = json!("canceled");
    let acct = payment(&w.deps, &again).await.stripe_account;
    let ev = fake.make_event(&acct, "payment_intent.canceled", cancelled);
    assert_eq!(
        receive(&w.deps, &ev, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "cancelled"))
    );
    let admin = staff(&w, PISA, "quarto@comune.pisa.it", Role::Admin, None).await;
    notices::cancel(&w.deps, &admin, &third, "iscrizione ritirata")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_card_that_works_after_a_failure_is_settled_even_if_its_event_is_lost_or_unreadable() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (_acct, n) = pisa_with_notices(&w, &fake).await;
    let anna = citizen(&w, PISA, ANNA, AssuranceLevel::Substantial).await;
    let id = pay::start(&w.deps, PISA, &anna, &n[..1]).await.unwrap();
    let intent = payment(&w.deps, &id).await.intent_id.unwrap();
    let declined = fake.fail(&intent);
    assert_eq!(
        receive(&w.deps, &declined, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "failed"))
    );
    fake.succeed(&intent);
    // Its event lost: the sweeper looks at failed payments too.
    assert_eq!(sweep::sweep(&w.deps).await.unwrap(), 1);
    assert_eq!(notice_status(&w.deps, &n[0]).await.0, NoticeStatus::Paid);
    assert!(
        payment(&w.deps, &id).await.receipt.is_some(),
        "a receipt number"
    );

    // The second notice: its success event signed but not readable by the library (an API
    // version it does not know): Stripe is asked, and its word applied.
    let second = pay::start(&w.deps, PISA, &anna, &n[1..]).await.unwrap();
    let intent = payment(&w.deps, &second).await.intent_id.unwrap();
    let mut ok = fake.succeed(&intent);
    ok["data"]["object"]
        .as_object_mut()
        .unwrap()
        .remove("amount_received");
    ok["data"]["object"]["status"] = json!("some_new_status");
    ok["data"]["object"]["currency"] = json!(42);
    assert_eq!(
        receive(&w.deps, &ok, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "paid"))
    );
    assert_eq!(notice_status(&w.deps, &n[1]).await.0, NoticeStatus::Paid);
    // The receipts are numbered one after the other in the commune's year.
    let (y1, r1) = payment(&w.deps, &id).await.receipt.unwrap();
    let (y2, r2) = payment(&w.deps, &second).await.receipt.unwrap();
    assert_eq!((y1, r1 + 1), (y2, r2));
}

#[tokio::test]
async fn a_fine_whose_reduction_ran_out_is_never_paid_at_the_reduced_amount() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (_acct, _) = pisa_with_notices(&w, &fake).await;
    let admin = staff(&w, PISA, "vigili@comune.pisa.it", Role::Admin, None).await;
    settings::save(
        &w.deps,
        &admin,
        &settings::SettingsForm {
            stripe_account: payment_account(&w).await,
            ..set_up_form(&["canteen", "fine"])
        },
    )
    .await
    .unwrap();
    let today = sportello_payments::today();
    let fine = notices::create(
        &w.deps,
        &admin,
        &RawNotice {
            kind: "multa".into(),
            amount: "42".into(),
            notified_on: today.to_string(),
            due_on: (today + chrono::Duration::days(60)).to_string(),
            ..canteen("CDS-1", "1")
        },
    )
    .await
    .unwrap();
    let anna = citizen(&w, PISA, ANNA, AssuranceLevel::Substantial).await;
    let first = pay::start(&w.deps, PISA, &anna, std::slice::from_ref(&fine))
        .await
        .unwrap();
    assert_eq!(payment(&w.deps, &first).await.amount_cents, 2940);
    // Days pass: the reduction is over.
    let yesterday = (today - chrono::Duration::days(1)).to_string();
    owner_sql(&w, &format!("UPDATE payment_notices SET reduced_until = '{yesterday}' WHERE notice_number = '{fine}'")).await;
    // While Stripe is processing the first (a bank debit started in time), it is neither
    // cancelled nor replaced: it may still bring the money.
    let first_intent = payment(&w.deps, &first).await.intent_id.unwrap();
    fake.process(&first_intent);
    assert!(matches!(
        pay::start(&w.deps, PISA, &anna, std::slice::from_ref(&fine)).await,
        Err(Error::Refused("refused_payment_under_way"))
    ));
    owner_sql(
        &w,
        &format!("UPDATE payments SET created_at = 1, updated_at = 1 WHERE id = '{first}'"),
    )
    .await;
    sweep::sweep(&w.deps).await.unwrap();
    assert_eq!(
        payment(&w.deps, &first).await.status,
        "pending",
        "not given up while processing"
    );
    // The bank said no after all: the intent wants another method again, and can be cancelled.
    fake.fail(&first_intent);
    owner_sql(
        &w,
        &format!(
            "UPDATE payments SET created_at = {} WHERE id = '{first}'",
            sportello_store::now_micros()
        ),
    )
    .await;
    let v = pay::view(&w.deps, PISA, &anna, &first).await.unwrap();
    assert!(
        v.stale && v.client_secret.is_none(),
        "the old card form is withdrawn"
    );
    let second = pay::start(&w.deps, PISA, &anna, std::slice::from_ref(&fine))
        .await
        .unwrap();
    assert_ne!(second, first);
    assert_eq!(payment(&w.deps, &second).await.amount_cents, 4200);
    assert_eq!(payment(&w.deps, &first).await.status, "cancelled");
    let old_intent = payment(&w.deps, &first).await.intent_id.unwrap();
    assert_eq!(fake.intent(&old_intent).unwrap().1["status"], "canceled");
}

async fn payment_account(w: &World) -> String {
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let s = tx.db().payment_settings().await.unwrap();
    tx.commit().await.unwrap();
    s.stripe_account.unwrap()
}

#[tokio::test]
async fn the_account_stays_while_payments_are_under_way_and_office_staff_read_no_notices() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (acct, n) = pisa_with_notices(&w, &fake).await;
    let anna = citizen(&w, PISA, ANNA, AssuranceLevel::Substantial).await;
    let id = pay::start(&w.deps, PISA, &anna, &n).await.unwrap();
    let admin = staff(&w, PISA, "ragioneria2@comune.pisa.it", Role::Admin, None).await;
    let other = crate::payments_stripe::account(&fake).await;
    let moved = settings::save(
        &w.deps,
        &admin,
        &settings::SettingsForm {
            stripe_account: other.clone(),
            ..set_up_form(&["canteen"])
        },
    )
    .await;
    assert!(
        matches!(
            moved,
            Err(Error::Refused("refused_account_payments_under_way"))
        ),
        "{moved:?}"
    );
    // Saving the same account is fine.
    settings::save(
        &w.deps,
        &admin,
        &settings::SettingsForm {
            stripe_account: acct,
            ..set_up_form(&["canteen"])
        },
    )
    .await
    .unwrap();
    let intent = payment(&w.deps, &id).await.intent_id.unwrap();
    fake.succeed(&intent);
    sweep::sweep(&w.deps).await.unwrap();
    settings::save(
        &w.deps,
        &admin,
        &settings::SettingsForm {
            stripe_account: other,
            ..set_up_form(&["canteen"])
        },
    )
    .await
    .unwrap();
    // A clerk of one office: payments are the commune's, not an office's.
    let clerk = staff(
        &w,
        PISA,
        "anagrafe@comune.pisa.it",
        Role::Clerk,
        Some("anagrafe"),
    )
    .await;
    assert!(matches!(
        notices::one(&w.deps, &clerk, &n[0]).await,
        Err(Error::Refused("refused_role"))
    ));
}
