//! The sweeper: payments left unsettled (the node died between Stripe's success and our
//! record, or before Stripe answered the creation) are asked about. A payment without its
//! intent asks Stripe again with its stored idempotency key (Stripe gives the same intent, no
//! second charge); a succeeded intent settles the payment exactly as its webhook would.

use std::time::Duration;

use sportello_domain::TenantId;
use sportello_kernel::{Deps, Result};

use super::pay::ask_stripe;
use super::stripe::retrieve_intent;
use super::webhook::{Received, apply};

/// Payments looked at per commune per sweep.
const BATCH: u64 = 50;

/// One sweep over every commune with a connected account; gives how many payments it settled.
pub async fn sweep(deps: &Deps) -> Result<usize> {
    let after_micros = deps
        .settings
        .stripe
        .sweep_after_seconds
        .saturating_mul(1_000_000);
    let before = sportello_store::now_micros() - after_micros;
    let mut settled = 0;
    for id in deps.store.federation().communes_with_stripe().await? {
        let commune = TenantId(id);
        let tx = deps.store.tenant_read(commune).await?;
        let list = tx.db().unsettled_payments(before, BATCH).await?;
        tx.commit().await?;
        for p in list {
            let intent_id = match &p.intent_id {
                Some(i) => i.clone(),
                None => {
                    ask_stripe(deps, commune, &p).await?;
                    let tx = deps.store.tenant_read(commune).await?;
                    let again = tx.db().payment(&p.id).await?;
                    tx.commit().await?;
                    match again.and_then(|p| p.intent_id) {
                        Some(i) => i,
                        None => continue,
                    }
                }
            };
            let intent = retrieve_intent(deps, &p.stripe_account, &intent_id).await?;
            if intent.succeeded() {
                let r = apply(deps, commune, &p.stripe_account, None, &intent, None).await?;
                if r == Received::Applied(commune, "paid") {
                    settled += 1;
                }
            } else {
                let tx = deps.store.tenant(commune).await?;
                tx.db()
                    .touch_payment(&p.id, sportello_store::now_micros())
                    .await?;
                tx.commit().await?;
            }
        }
    }
    Ok(settled)
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
