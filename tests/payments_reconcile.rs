//! The day's reconciliation against the Stripe-compatible test server's balance transactions:
//! what agrees is `ok`, a pair split by midnight agrees on both days, and every kind of
//! disagreement (a refund made on Stripe's dashboard, a charge Stripe does not have, another
//! amount, an adjustment) is flagged; the CSV carries every line.

use sportello_authz::Role;
use sportello_kernel::Error;
use sportello_payments::reconcile::{self, Verdict};
use sportello_payments::refunds;
use sportello_tests::stripe::FakeStripe;

use crate::cases::{CALCI, PISA};
use crate::cases_office::staff;
use crate::payments_refunds::{ask, paid};
use crate::payments_stripe::{pisa_with_notices, stripe_world};

fn verdicts(r: &reconcile::Report) -> Vec<(&str, Verdict)> {
    let mut v: Vec<_> = r
        .lines
        .iter()
        .map(|l| (l.kind.as_str(), l.verdict))
        .collect();
    v.sort_by_key(|(k, v)| (k.to_string(), v.key()));
    v
}

async fn charge_of(w: &crate::cases::World, payment: &str) -> String {
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let p = tx.db().payment(payment).await.unwrap().unwrap();
    let (_, c) = tx
        .db()
        .payments_succeeded(0, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .find(|(x, _)| x.id == p.id)
        .unwrap();
    tx.commit().await.unwrap();
    c.unwrap()
}

#[tokio::test]
async fn the_days_reconciliation_pairs_payments_and_refunds_with_stripe_and_flags_the_rest() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (acct, n) = pisa_with_notices(&w, &fake).await;
    let admin = staff(&w, PISA, "ragioneria2@comune.pisa.it", Role::Admin, None).await;
    let today = sportello_payments::today();
    // Nothing yet: nothing to say.
    let r = reconcile::day(&w.deps, &admin, today).await.unwrap();
    assert!(r.lines.is_empty());
    // A payment and a refund of part of it, through the product: they agree.
    let (p1, intent1) = paid(&w, &fake, &n[..1]).await;
    refunds::refund(&w.deps, &admin, &p1, &ask("5", "Rimborso parziale", false))
        .await
        .unwrap();
    let r = reconcile::day(&w.deps, &admin, today).await.unwrap();
    assert_eq!(
        verdicts(&r),
        vec![("payment", Verdict::Ok), ("refund", Verdict::Ok)]
    );
    assert_eq!(r.flagged(), 0);
    // What is recorded here is what went through Stripe: 46,60 € in, 5,00 € out.
    assert_eq!(r.ours_cents(), 4660 - 500);
    let (gross, fee, net) = r.stripe_cents();
    assert_eq!(gross, 4660 - 500);
    // Stripe's 1.5 % + 0.25 € and the platform's 1,00 €.
    assert_eq!(fee, (4660 * 15 + 500) / 1000 + 25 + 100);
    assert_eq!(net, gross - fee);
    // Someone refunds on Stripe's dashboard, Stripe corrects the balance on its own.
    fake.dashboard_refund(&acct, &intent1, 300);
    fake.adjust(&acct, -1500);
    // A second payment whose charge Stripe made just before midnight yesterday.
    let (p2, _) = paid(&w, &fake, &n[1..]).await;
    let c2 = charge_of(&w, &p2).await;
    let (from, _) = reconcile::bounds(today);
    fake.edit_movement(&c2, |t| t["created"] = serde_json::json!(from - 1));
    let r = reconcile::day(&w.deps, &admin, today).await.unwrap();
    assert_eq!(
        verdicts(&r),
        vec![
            ("adjustment", Verdict::Adjustment),
            ("payment", Verdict::Ok),
            ("payment", Verdict::OkOtherDay),
            ("refund", Verdict::NotRecordedHere),
            ("refund", Verdict::Ok),
        ]
    );
    assert_eq!(r.flagged(), 2);
    // Yesterday: Stripe's movement, recorded here today.
    let y = reconcile::day(&w.deps, &admin, today.pred_opt().unwrap())
        .await
        .unwrap();
    assert_eq!(verdicts(&y), vec![("payment", Verdict::OkOtherDay)]);
    // Stripe says another amount for the first charge, and has nothing of the second.
    let c1 = charge_of(&w, &p1).await;
    fake.edit_movement(&c1, |t| t["amount"] = serde_json::json!(4600));
    fake.forget_movement(&c2);
    let r = reconcile::day(&w.deps, &admin, today).await.unwrap();
    let v = verdicts(&r);
    assert!(v.contains(&("payment", Verdict::AmountDiffers)), "{v:?}");
    assert!(v.contains(&("payment", Verdict::MissingAtStripe)), "{v:?}");
    assert_eq!(r.flagged(), 4);
    // The export: a header and a line each, the verdicts named.
    let csv = r.csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + r.lines.len());
    assert!(lines[0].starts_with("day;verdict;kind;"));
    assert!(csv.contains(";missing_at_stripe;payment;"));
    assert!(csv.contains(&format!(";amount_differs;payment;{p1};46.60;")));
    assert!(csv.contains(";not_recorded_here;refund;;;"));
    // Calci has its own day: Pisa's account is not read for it, and Calci has none.
    let calci = staff(
        &w,
        CALCI,
        "ragioneria@comune.calci.pi.it",
        Role::Admin,
        None,
    )
    .await;
    assert!(matches!(
        reconcile::day(&w.deps, &calci, today).await,
        Err(Error::Refused("refused_online_payment_off"))
    ));
    // A clerk of one office does not read the commune's accounts.
    let head = staff(&w, PISA, "capo@urp.pisa.it", Role::OfficeHead, Some("urp")).await;
    assert!(matches!(
        reconcile::day(&w.deps, &head, today).await,
        Err(Error::Refused("refused_role"))
    ));
}
