//! The sweeper: payments left unsettled are asked about. A payment without its intent (the
//! node died before Stripe's answer) asks Stripe again with its stored idempotency key (Stripe
//! gives the same intent, no second charge); a succeeded intent settles the payment exactly as
//! its event would; a cancelled one frees its notices; one nobody completed within a day, or
//! whose amount is no longer what is due (a fine's reduction ran out), is given up if Stripe
//! lets it be cancelled (one being processed is waited for). One payment, or one commune,
//! failing to be looked at (Stripe down, an account revoked) holds up no other.

use std::time::Duration;

use sportello_domain::TenantId;
use sportello_kernel::{Deps, Result};
use sportello_store::payments::Payment;

use super::pay::{ask_stripe, cancel, give_up, stale};
use super::stripe::{CallError, read_intent};
use super::webhook::{Received, Said, apply};

/// Payments looked at per commune per sweep.
const BATCH: u64 = 50;

/// One sweep over every commune with a connected account; gives how many payments it settled.
pub async fn sweep(deps: &Deps) -> Result<usize> {
    let s = &deps.settings.stripe;
    let now = sportello_store::now_micros();
    let before = now - s.sweep_after_seconds.saturating_mul(1_000_000);
    let expired = now - s.expire_after_seconds.saturating_mul(1_000_000);
    let hold_ended = now - s.ticket_hold_seconds.saturating_mul(1_000_000);
    let mut settled = 0;
    for id in deps.store.federation().communes_with_stripe().await? {
        let commune = TenantId(id);
        if let Err(e) = crate::refunds::sweep_commune(deps, commune, before).await {
            tracing::warn!(commune = id, error = %e, "sweeping a commune's refunds");
        }
        let list = match unsettled(deps, commune, before).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(commune = id, error = %e, "sweeping a commune's payments");
                continue;
            }
        };
        for p in list {
            // Seats are held a short while; notices wait a day.
            let cutoff = if p.purpose == "tickets" {
                hold_ended
            } else {
                expired
            };
            match one(deps, commune, &p, cutoff, expired).await {
                Ok(true) => settled += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(commune = id, payment = %p.id, error = %e, "sweeping a payment");
                    // Its turn comes again after the others'.
                    if let Err(e) = touch(deps, commune, &p.id).await {
                        tracing::warn!(commune = id, payment = %p.id, error = %e, "noting a payment looked at");
                    }
                }
            }
        }
    }
    Ok(settled)
}

async fn unsettled(deps: &Deps, commune: TenantId, before: i64) -> Result<Vec<Payment>> {
    let tx = deps.store.tenant_read(commune).await?;
    let l = tx.db().unsettled_payments(before, BATCH).await?;
    tx.commit().await?;
    Ok(l)
}

async fn touch(deps: &Deps, commune: TenantId, id: &str) -> Result<()> {
    let tx = deps.store.tenant(commune).await?;
    tx.db()
        .touch_payment(id, sportello_store::now_micros())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Looks at one payment; true when it settled it.
/// `expired`: before it, a payment nobody completed is given up; `unreachable`: before it, one
/// Stripe no longer answers for is set aside (a day for every kind: a short outage of Stripe
/// sets nothing aside).
async fn one(
    deps: &Deps,
    commune: TenantId,
    p: &Payment,
    expired: i64,
    unreachable: i64,
) -> Result<bool> {
    let intent_id = match &p.intent_id {
        Some(i) => i.clone(),
        None => match ask_stripe(deps, commune, p).await {
            Ok(i) => i,
            Err(CallError::ForGood(why)) => {
                cancel(deps, commune, &p.id, &why).await?;
                return Ok(false);
            }
            Err(CallError::ForNow(e)) => return Err(e),
        },
    };
    let intent = match read_intent(deps, &p.stripe_account, &intent_id).await {
        Ok(i) => i,
        // Stripe no longer knows the intent or lets us reach the account (revoked): past its
        // day, the payment is set aside for staff (its notices stay held: it may have been
        // paid), so the commune is not stuck with it.
        Err(CallError::ForGood(why)) if p.created_at < unreachable => {
            tracing::warn!(payment = %p.id, why, "a payment Stripe no longer answers for");
            let tx = deps.store.tenant(commune).await?;
            tx.db()
                .flag_payment(&p.id, "unreachable", sportello_store::now_micros())
                .await?;
            tx.commit().await?;
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    };
    if intent.succeeded() {
        let r = apply(
            deps,
            commune,
            &p.stripe_account,
            None,
            &intent,
            Said::Succeeded,
        )
        .await?;
        return Ok(r == Received::Applied(commune, "paid"));
    }
    if intent.status == "canceled" {
        apply(
            deps,
            commune,
            &p.stripe_account,
            None,
            &intent,
            Said::Canceled,
        )
        .await?;
        return Ok(false);
    }
    let out_of_date = {
        let tx = deps.store.tenant_read(commune).await?;
        let s = stale(&tx.db(), p).await?;
        tx.commit().await?;
        s
    };
    let why = if out_of_date {
        "amount_changed"
    } else {
        "expired"
    };
    if (p.created_at < expired || out_of_date) && give_up(deps, commune, p, why).await? {
        return Ok(false);
    }
    touch(deps, commune, &p.id).await?;
    Ok(false)
}

/// Sweeps every `every` on this node (nodes may overlap: settling is idempotent).
pub fn spawn(deps: Deps, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sweep(&deps).await {
                tracing::warn!(error = %e, "payment sweep");
            }
        }
    });
}
