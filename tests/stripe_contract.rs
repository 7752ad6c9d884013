//! The Stripe-compatible test server's contract with reality (tests/support/stripe.md): its
//! replies are async-stripe's own types, through async-stripe's own client and request types,
//! and it follows Stripe's documented rules for what the product calls: per-account scoping,
//! idempotent replay and key reuse, direct charges' fees, refunds, signed events.

use sportello_tests::stripe::FakeStripe;
use stripe::{RequestStrategy, StripeRequest};

use crate::payments_stripe::{WEBHOOK_SECRET, account, client, now};

#[tokio::test]
async fn the_test_servers_replies_are_async_stripes_own_types_and_follow_stripes_rules() {
    let fake = FakeStripe::start();
    let c = client(&fake);
    let pisa = account(&fake).await;
    let calci = account(&fake).await;
    let got = stripe_connect::account::RetrieveAccount::new(pisa.as_str())
        .send(&c)
        .await
        .unwrap();
    assert_eq!(got.id.as_str(), pisa);
    let create = |amount: i64| {
        stripe_core::payment_intent::CreatePaymentIntent::new(amount, stripe_types::Currency::EUR)
            .application_fee_amount(100)
            .automatic_payment_methods(
                stripe_core::payment_intent::CreatePaymentIntentAutomaticPaymentMethods::new(true),
            )
    };
    let key = || RequestStrategy::Idempotent(stripe::IdempotencyKey::new("k-1").unwrap());
    let on = |a: &str| stripe::AccountId::from(a);
    let pi = create(5760)
        .customize()
        .account_id(on(&pisa))
        .request_strategy(key())
        .send(&c)
        .await
        .unwrap();
    assert_eq!((pi.amount, pi.application_fee_amount), (5760, Some(100)));
    // The same key and parameters: the same intent, replayed.
    let again = create(5760)
        .customize()
        .account_id(on(&pisa))
        .request_strategy(key())
        .send(&c)
        .await
        .unwrap();
    assert_eq!(again.id, pi.id);
    assert!(
        fake.seen()
            .iter()
            .any(|s| s.replayed && s.idempotency_key.as_deref() == Some("k-1"))
    );
    // The same key with other parameters: Stripe's idempotency error.
    let other = create(5761)
        .customize()
        .account_id(on(&pisa))
        .request_strategy(key())
        .send(&c)
        .await
        .unwrap_err();
    match other {
        stripe::StripeError::Stripe(e, 400) => assert_eq!(e.type_.as_str(), "idempotency_error"),
        e => panic!("{e:?}"),
    }
    // The same key on another account is another request (keys are per account).
    let theirs = create(999)
        .customize()
        .account_id(on(&calci))
        .request_strategy(key())
        .send(&c)
        .await
        .unwrap();
    assert_ne!(theirs.id, pi.id);
    // Pisa's intent does not exist for Calci's account, nor for the platform's.
    let seen = stripe_core::payment_intent::RetrievePaymentIntent::new(pi.id.clone())
        .customize()
        .account_id(on(&pisa))
        .send(&c)
        .await
        .unwrap();
    assert_eq!(seen.id, pi.id);
    for a in [Some(calci.as_str()), None] {
        let mut r =
            stripe_core::payment_intent::RetrievePaymentIntent::new(pi.id.clone()).customize();
        if let Some(a) = a {
            r = r.account_id(on(a));
        }
        match r.send(&c).await.unwrap_err() {
            stripe::StripeError::Stripe(e, 404) => assert_eq!(
                e.code.map(|c| c.as_str().to_owned()).as_deref(),
                Some("resource_missing")
            ),
            e => panic!("{e:?}"),
        }
    }
    // A fee without a connected account is refused, as Stripe does.
    let platform = create(5760).send(&c).await.unwrap_err();
    assert!(
        matches!(platform, stripe::StripeError::Stripe(_, 400)),
        "{platform:?}"
    );
    // Events parse as async-stripe's, signed the way its verifier checks.
    let ok = fake.succeed(pi.id.as_str());
    let body = ok.to_string();
    let e = stripe_webhook::Webhook::construct_event(
        &body,
        &FakeStripe::signature(&body, &[WEBHOOK_SECRET], now()),
        WEBHOOK_SECRET,
    )
    .unwrap();
    assert_eq!(e.account.as_deref(), Some(pisa.as_str()));
    match e.data.object {
        stripe_webhook::EventObject::PaymentIntentSucceeded(p) => {
            assert_eq!(p.amount_received, 5760)
        }
        o => panic!("{o:?}"),
    }
    let failed = fake.fail(theirs.id.as_str()).to_string();
    let e = stripe_webhook::Webhook::construct_event(
        &failed,
        &FakeStripe::signature(&failed, &[WEBHOOK_SECRET], now()),
        WEBHOOK_SECRET,
    )
    .unwrap();
    assert!(matches!(
        e.data.object,
        stripe_webhook::EventObject::PaymentIntentPaymentFailed(_)
    ));
    // A refund, partial, with the platform's fee given back: a Refund, and its event.
    let refund = stripe_core::refund::CreateRefund::new()
        .payment_intent(pi.id.as_str())
        .amount(1000)
        .customize()
        .account_id(on(&pisa))
        .send(&c)
        .await
        .unwrap();
    assert_eq!(refund.amount, 1000);
    let too_much = stripe_core::refund::CreateRefund::new()
        .payment_intent(pi.id.as_str())
        .amount(5000)
        .customize()
        .account_id(on(&pisa))
        .send(&c)
        .await
        .unwrap_err();
    assert!(
        matches!(too_much, stripe::StripeError::Stripe(_, 400)),
        "{too_much:?}"
    );
    let ev = fake
        .events()
        .into_iter()
        .find(|e| e["type"] == "refund.created")
        .unwrap()
        .to_string();
    let e = stripe_webhook::Webhook::construct_event(
        &ev,
        &FakeStripe::signature(&ev, &[WEBHOOK_SECRET], now()),
        WEBHOOK_SECRET,
    )
    .unwrap();
    assert!(matches!(
        e.data.object,
        stripe_webhook::EventObject::RefundCreated(_)
    ));
    // A wrong API key: 401.
    let bad = stripe::ClientBuilder::new("sk_test_wrong")
        .url(fake.url())
        .build()
        .unwrap();
    assert!(matches!(
        stripe_connect::account::RetrieveAccount::new(pisa.as_str())
            .send(&bad)
            .await,
        Err(stripe::StripeError::Stripe(_, 401))
    ));
}
