//! A node's admission to work that one commune does one at a time in the database (a case's
//! registration waits for the commune's protocol counter): at most a few such tasks of one
//! commune go to the database at once from this node, the others wait here, where waiting costs
//! nothing. Many requests queued on one row lock make every holder slower (each waiter is a
//! backend and a connection; the holder's next step waits behind their work): measured with 32
//! submissions at a time into one commune, 236 a second ungated, 392 with four at a time.
//! Other communes never wait for this one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sportello_domain::TenantId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many of one commune's gated tasks a node runs at once.
pub const PER_COMMUNE: usize = 4;

#[derive(Default)]
pub struct Gate {
    communes: Mutex<HashMap<TenantId, Arc<Semaphore>>>,
}

impl Gate {
    /// Waits for a place among the commune's [`PER_COMMUNE`]; held until the permit drops (none
    /// only were the semaphore closed, which nothing does: the task then goes ungated).
    pub async fn enter(&self, commune: TenantId) -> Option<OwnedSemaphorePermit> {
        let sem = {
            let mut map = self
                .communes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.entry(commune)
                .or_insert_with(|| Arc::new(Semaphore::new(PER_COMMUNE)))
                .clone()
        };
        sem.acquire_owned().await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_commune_gets_four_places_and_others_never_wait_for_it() {
        let gate = Gate::default();
        let (pisa, calci) = (TenantId(50026), TenantId(50003));
        let mut held = vec![];
        for _ in 0..PER_COMMUNE {
            held.push(gate.enter(pisa).await);
        }
        let soon = Duration::from_millis(50);
        // The fifth of Pisa waits; Calci goes in at once.
        assert!(tokio::time::timeout(soon, gate.enter(pisa)).await.is_err());
        assert!(tokio::time::timeout(soon, gate.enter(calci)).await.is_ok());
        // A place given back lets the next one in.
        held.pop();
        assert!(tokio::time::timeout(soon, gate.enter(pisa)).await.is_ok());
    }
}
