//! The nightly reconciliation: once Italy's clock passes `stripe.reconcile_at_hour`, every
//! commune with a connected account has yesterday compared with Stripe (see `reconcile`), and
//! the day's verdicts counted and kept in its console. Any node may run it: each commune's day
//! is claimed by a conditional write, so one node runs it; one Stripe cannot answer for is
//! recorded as failed and tried again an hour later, five attempts in all, then given up (as
//! is at once an error asking again cannot mend); a claim whose node died is taken over after
//! that hour too.

use chrono::{DateTime, Days, Duration, NaiveDate};
use sportello_domain::TenantId;
use sportello_kernel::{Actor, Deps, Error, Result};
use sportello_store::payments::Reconciliation;

use crate::reconcile;

/// The job's name among the federation's per-commune nightly jobs.
pub const JOB: &str = "reconcile";
const RETRY_AFTER_SECONDS: i64 = 3_600;
const MAX_ATTEMPTS: i32 = 5;

/// The day the nightly run compares at `now` (microseconds): yesterday in Italy once its clock
/// has passed `hour`; before, the day before (already compared the morning before).
pub fn due_day(now: i64, hour: u32) -> NaiveDate {
    let local = DateTime::from_timestamp_micros(now)
        .unwrap_or_default()
        .with_timezone(&chrono_tz::Europe::Rome)
        .naive_local();
    let shifted = local - Duration::hours(i64::from(hour.min(23)));
    shifted
        .date()
        .checked_sub_days(Days::new(1))
        .unwrap_or(shifted.date())
}

/// Runs what is due at `now` (microseconds; the clock moves on from there while it runs):
/// gives how many communes' days were compared. One commune's trouble stops no other's.
pub async fn run_due(deps: &Deps, now: i64) -> Result<usize> {
    let offset = now - sportello_store::now_micros();
    let clock = || sportello_store::now_micros() + offset;
    let day = due_day(now, deps.settings.stripe.reconcile_at_hour);
    let key = day.format("%Y-%m-%d").to_string();
    let fed = deps.store.federation();
    let due = fed
        .jobs_due(
            JOB,
            &key,
            now - RETRY_AFTER_SECONDS * 1_000_000,
            MAX_ATTEMPTS,
        )
        .await?;
    let mut compared = 0;
    for id in due {
        let at = clock();
        let retry_before = at - RETRY_AFTER_SECONDS * 1_000_000;
        let attempt = match fed
            .claim_job(JOB, id, &key, at, retry_before, MAX_ATTEMPTS)
            .await
        {
            Ok(Some(n)) => n,
            Ok(None) => continue, // another node has it
            Err(e) => {
                tracing::warn!(commune = id, day = %key, error = %e, "reconciliation: claiming");
                continue;
            }
        };
        let end = match one(deps, TenantId(id), day, &key, attempt, clock).await {
            Ok(end) => end,
            Err(e) => {
                tracing::warn!(commune = id, day = %key, error = %e, "reconciliation: recording");
                JobEnd::Failed
            }
        };
        if let Err(e) = fed.end_job(JOB, id, &key, at, end.key()).await {
            tracing::warn!(commune = id, day = %key, error = %e, "reconciliation: ending the claim");
        }
        if end == JobEnd::Done {
            compared += 1;
        }
    }
    Ok(compared)
}

/// How a claim ends: compared; failed, to be tried again; or given up (an error Stripe's
/// answer will not mend, or the last attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobEnd {
    Done,
    Failed,
    GaveUp,
}

impl JobEnd {
    fn key(self) -> &'static str {
        match self {
            JobEnd::Done => "done",
            JobEnd::Failed => "failed",
            JobEnd::GaveUp => "gave_up",
        }
    }
}

/// One commune's day: compared, and what came of it kept in the commune's own record.
async fn one(
    deps: &Deps,
    commune: TenantId,
    day: NaiveDate,
    key: &str,
    attempt: i32,
    clock: impl Fn() -> i64,
) -> Result<JobEnd> {
    let report = reconcile::compute(deps, commune, day).await;
    let (end, record) = match &report {
        Ok(r) => {
            let (gross, fee, net) = r.stripe_cents();
            if r.flagged() > 0 {
                tracing::warn!(commune = commune.0, day = %key, flagged = r.flagged(), "reconciliation: discrepancies");
            }
            let record = Reconciliation {
                lines: i32::try_from(r.lines.len()).unwrap_or(i32::MAX),
                flagged: i32::try_from(r.flagged()).unwrap_or(i32::MAX),
                ours_cents: r.ours_cents(),
                stripe_gross_cents: gross,
                stripe_fee_cents: fee,
                stripe_net_cents: net,
                ..empty(key, JobEnd::Done, clock(), None)
            };
            (JobEnd::Done, record)
        }
        Err(e) => {
            tracing::warn!(commune = commune.0, day = %key, attempt, error = %e, "reconciliation: failed");
            // Only Stripe's silence is worth asking again.
            let end = if matches!(e, Error::Upstream(_)) && attempt < MAX_ATTEMPTS {
                JobEnd::Failed
            } else {
                JobEnd::GaveUp
            };
            (end, empty(key, end, clock(), Some(e.to_string())))
        }
    };
    let tx = deps.store.tenant(commune).await?;
    tx.db().record_reconciliation(&record).await?;
    tx.commit().await?;
    Ok(end)
}

fn empty(day: &str, end: JobEnd, ran_at: i64, error: Option<String>) -> Reconciliation {
    Reconciliation {
        day: day.to_owned(),
        state: end.key().to_owned(),
        ran_at,
        lines: 0,
        flagged: 0,
        ours_cents: 0,
        stripe_gross_cents: 0,
        stripe_fee_cents: 0,
        stripe_net_cents: 0,
        error,
    }
}

/// Runs the nightly comparison every `every` on this node, on its own (the payment sweeper
/// never waits for it).
pub fn spawn(deps: Deps, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = run_due(&deps, sportello_store::now_micros()).await {
                tracing::warn!(error = %e, "nightly reconciliation");
            }
        }
    });
}

/// The commune's latest nightly comparisons, newest first (for commune-wide roles).
pub async fn runs(deps: &Deps, actor: &Actor, limit: u64) -> Result<Vec<Reconciliation>> {
    crate::require_commune_read(deps, actor).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let list = tx.db().reconciliations(limit).await?;
    tx.commit().await?;
    Ok(list)
}

#[cfg(test)]
#[path = "tests/nightly.rs"]
mod tests;
