//! The nightly reconciliation: once Italy's clock passes the hour, yesterday is compared for
//! every commune with a connected account, by one node, once; its verdicts are kept for the
//! commune's console; a day Stripe could not answer for is tried again an hour later.

use chrono::{Duration, NaiveTime, TimeZone};
use sea_orm::ConnectionTrait;
use sportello_authz::Role;
use sportello_payments::{nightly, settings};
use sportello_tests::stripe::FakeStripe;

use crate::cases::{CALCI, PISA, World};
use crate::cases_office::staff;
use crate::payments::set_up_form;
use crate::payments_refunds::paid;
use crate::payments_stripe::{account, pisa_with_notices, stripe_world};

/// Six in the morning in Italy, `days` after today (microseconds).
fn six_am(days: i64) -> i64 {
    let day = sportello_payments::today() + Duration::days(days);
    chrono_tz::Europe::Rome
        .from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(6, 0, 0).unwrap()))
        .single()
        .unwrap()
        .timestamp_micros()
}

fn balance_reads(fake: &FakeStripe) -> usize {
    fake.seen()
        .iter()
        .filter(|s| s.path == "/v1/balance_transactions")
        .count()
}

/// The commune's account as its settings say (written as the schema's owner: what a test
/// pretends Stripe did to the account).
async fn set_account(w: &World, account: &str) {
    let owner = sportello_store::Store::connect(&w.db.admin_url)
        .await
        .unwrap();
    owner
        .raw_connection()
        .execute_unprepared(&format!(
            "UPDATE payment_settings SET stripe_account = '{account}' WHERE tenant_id = {}",
            PISA.0
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn yesterday_is_compared_once_per_commune_by_one_node_and_kept_for_its_console() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (acct, n) = pisa_with_notices(&w, &fake).await;
    let admin = staff(&w, PISA, "ragioneria3@comune.pisa.it", Role::Admin, None).await;
    let (_, intent) = paid(&w, &fake, &n[..1]).await;
    // Calci has its own account too, and nothing paid.
    let calci = staff(
        &w,
        CALCI,
        "ragioneria@comune.calci.pi.it",
        Role::Admin,
        None,
    )
    .await;
    settings::save(
        &w.deps,
        &calci,
        &settings::SettingsForm {
            tax_code: "80001610502".into(),
            stripe_account: account(&fake).await,
            ..set_up_form(&["canteen"])
        },
    )
    .await
    .unwrap();
    // Someone refunds 3 € on Stripe's dashboard: a movement not recorded here.
    fake.dashboard_refund(&acct, &intent, 300);
    assert!(nightly::runs(&w.deps, &admin, 14).await.unwrap().is_empty());

    // Tomorrow at 05:59 today is not yet due; at 06:00 it is, and compared.
    let six = six_am(1);
    let before = balance_reads(&fake);
    nightly::run_due(&w.deps, six - 60_000_000).await.unwrap();
    let days: Vec<String> = nightly::runs(&w.deps, &admin, 14)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.day)
        .collect();
    let today = sportello_payments::today().format("%Y-%m-%d").to_string();
    assert!(!days.contains(&today), "not before the hour: {days:?}");
    assert_eq!(
        nightly::run_due(&w.deps, six).await.unwrap(),
        2,
        "Pisa's day and Calci's"
    );
    assert!(balance_reads(&fake) > before, "Stripe was read");
    let runs = nightly::runs(&w.deps, &admin, 14).await.unwrap();
    let r = runs.iter().find(|r| r.day == today).unwrap();
    assert_eq!(r.state, "done");
    assert_eq!(
        (r.lines, r.flagged),
        (2, 1),
        "the payment agrees, the dashboard refund is flagged"
    );
    assert_eq!(r.ours_cents, 4660);
    assert_eq!(r.stripe_gross_cents, 4660 - 300);

    // Later the same day, or a second node at once: nothing again, Stripe not asked.
    let reads = balance_reads(&fake);
    assert_eq!(
        nightly::run_due(&w.deps, six + 3_600_000_000)
            .await
            .unwrap(),
        0
    );
    assert_eq!(balance_reads(&fake), reads);

    // The next morning, two nodes at once: one of them compares the day.
    let next = six_am(2);
    let (a, b) = tokio::join!(
        nightly::run_due(&w.deps, next),
        nightly::run_due(&w.deps, next)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 2, "each commune's day once");

    // Calci's staff read their own comparisons, none of Pisa's: yesterday (the 05:59 run),
    // today and tomorrow, with nothing paid.
    let theirs = nightly::runs(&w.deps, &calci, 14).await.unwrap();
    assert_eq!(theirs.len(), 3);
    assert!(theirs.iter().all(|r| (r.lines, r.ours_cents) == (0, 0)));
    // An office head for one office may not read them.
    let office_head = staff(
        &w,
        PISA,
        "capo3@comune.pisa.it",
        Role::OfficeHead,
        Some("urp"),
    )
    .await;
    assert!(nightly::runs(&w.deps, &office_head, 14).await.is_err());
}

#[tokio::test]
async fn a_day_stripe_cannot_answer_for_is_recorded_as_failed_and_tried_again_an_hour_later() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (acct, _) = pisa_with_notices(&w, &fake).await;
    let admin = staff(&w, PISA, "ragioneria4@comune.pisa.it", Role::Admin, None).await;
    // Stripe refuses the account (revoked, say).
    set_account(&w, "acct_revoked").await;
    let six = six_am(1);
    assert_eq!(nightly::run_due(&w.deps, six).await.unwrap(), 0);
    let runs = nightly::runs(&w.deps, &admin, 14).await.unwrap();
    assert_eq!(runs[0].state, "failed");
    assert!(runs[0].error.is_some());
    // Not again within the hour.
    let reads = fake.seen().len();
    assert_eq!(
        nightly::run_due(&w.deps, six + 1_800_000_000)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        fake.seen().len(),
        reads,
        "Stripe not asked again within the hour"
    );
    // An hour later, the account back: done.
    set_account(&w, &acct).await;
    assert_eq!(
        nightly::run_due(&w.deps, six + 3_700_000_000)
            .await
            .unwrap(),
        1
    );
    let runs = nightly::runs(&w.deps, &admin, 14).await.unwrap();
    assert_eq!(
        (runs[0].state.as_str(), runs[0].error.as_deref()),
        ("done", None)
    );

    // The next day Stripe refuses the account at every attempt: five attempts an hour apart,
    // then it is given up (for staff to compare by hand), and not tried again.
    set_account(&w, "acct_revoked").await;
    let next = six_am(2);
    for attempt in 0..5 {
        nightly::run_due(&w.deps, next + attempt * 3_700_000_000)
            .await
            .unwrap();
        let state = nightly::runs(&w.deps, &admin, 1).await.unwrap()[0]
            .state
            .clone();
        let want = if attempt < 4 { "failed" } else { "gave_up" };
        assert_eq!(state, want, "attempt {}", attempt + 1);
    }
    let reads = fake.seen().len();
    nightly::run_due(&w.deps, next + 6 * 3_700_000_000)
        .await
        .unwrap();
    assert_eq!(fake.seen().len(), reads, "given up: Stripe not asked again");
}

#[tokio::test]
async fn a_communes_day_is_one_nodes_claim_and_a_dead_nodes_claim_is_taken_over_an_hour_later() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    pisa_with_notices(&w, &fake).await;
    let fed = w.deps.store.federation();
    let hour = 3_600_000_000;
    let t = six_am(1);
    let claim = |at: i64| fed.claim_job(nightly::JOB, PISA.0, "2030-01-01", at, at - hour, 5);
    // Two nodes at once: one gets it.
    let (a, b) = tokio::join!(claim(t), claim(t));
    let mut got = [a.unwrap(), b.unwrap()];
    got.sort();
    assert_eq!(got, [None, Some(1)]);
    // Its node dies; within the hour nobody takes it, after the hour another node does.
    assert_eq!(claim(t + hour / 2).await.unwrap(), None);
    assert_eq!(claim(t + hour + 1).await.unwrap(), Some(2));
    // The first node, come back late, cannot end the claim it lost; the new one can.
    assert!(
        !fed.end_job(nightly::JOB, PISA.0, "2030-01-01", t, "done")
            .await
            .unwrap()
    );
    assert!(
        fed.end_job(nightly::JOB, PISA.0, "2030-01-01", t + hour + 1, "done")
            .await
            .unwrap()
    );
    // Done: nobody claims it again.
    assert_eq!(claim(t + 10 * hour).await.unwrap(), None);
}
