//! The commune's payments for its staff: every payment made online, newest first, by state,
//! so the ones set aside (`mismatch`: Stripe reported another amount, or a payment it no longer
//! answers for) are found and looked at.

use sportello_kernel::{Actor, Deps, Result};
use sportello_store::payments::Payment;

/// The states a payment can be in, in the order the console offers them.
pub const STATES: [&str; 6] = [
    "pending",
    "failed",
    "succeeded",
    "mismatch",
    "cancelled",
    "created",
];

/// How many payments a page shows.
pub const PAGE: u64 = 100;

/// The commune's payments in `status` (any state when `None`), newest first.
pub async fn list(deps: &Deps, actor: &Actor, status: Option<&str>) -> Result<Vec<Payment>> {
    crate::require_commune_read(deps, actor).await?;
    let status = status.filter(|s| STATES.contains(s));
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let l = tx.db().payments_list(status, PAGE).await?;
    tx.commit().await?;
    Ok(l)
}
