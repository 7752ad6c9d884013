//! The delivery workers: each claims a batch of due messages (with a lease), sends them a few
//! at a time, and records how each attempt ended. A message a worker claimed and never settled
//! (the process died) is claimed again once its lease runs out, and sent with the same
//! idempotency key. Every node runs them; on SQLite one per process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use sportello_domain::TenantId;
use sportello_kernel::config::Delivery;
use sportello_kernel::mail::{Mail, Mailer, SendError};
use sportello_kernel::secretbox::SecretBox;
use sportello_store::Store;
use sportello_store::outbox::{Claimed, Outcome};
use tokio::sync::{Notify, Semaphore};

use crate::compose::Payload;
use crate::sms::{self, Gateway};

/// What the workers of one node share.
pub struct Worker {
    store: Store,
    mailer: Arc<Mailer>,
    secrets: SecretBox,
    cfg: Delivery,
    wake: Arc<Notify>,
    http: reqwest::Client,
    /// Each commune's SMS gateway, read at most every few seconds.
    gateways: Mutex<HashMap<TenantId, CachedGateway>>,
}

/// A commune's gateway (or its absence) and when it was read.
type CachedGateway = (Instant, Option<Arc<Gateway>>);

const GATEWAY_TTL: Duration = Duration::from_secs(5);

impl Worker {
    /// The workers of this node, on a pool of their own: a burst of messages never takes the
    /// connections pages need.
    pub async fn start(deps: &sportello_kernel::Deps) -> Result<Arc<Worker>, String> {
        let store = Store::connect(deps.settings.database_url.expose())
            .await
            .map_err(|e| format!("delivery: {e}"))?;
        let w = Self::new(deps, store)?;
        w.spawn();
        Ok(w)
    }

    /// Workers over `store` (not started: see [`Worker::round`] and [`Worker::spawn`]).
    pub fn new(deps: &sportello_kernel::Deps, store: Store) -> Result<Arc<Worker>, String> {
        let http = sms::client(&deps.settings.delivery)?;
        Ok(Arc::new(Worker {
            store,
            mailer: deps.mailer.clone(),
            secrets: deps.secrets.clone(),
            cfg: deps.settings.delivery.clone(),
            wake: deps.outbox_wake.clone(),
            http,
            gateways: Mutex::new(HashMap::new()),
        }))
    }

    /// Starts this node's workers (one on SQLite, whatever the settings say).
    pub fn spawn(self: &Arc<Self>) {
        let n = if self.store.backend() == sportello_store::DbBackend::Sqlite {
            self.cfg.workers.min(1)
        } else {
            self.cfg.workers
        };
        for i in 0..n {
            let w = self.clone();
            tokio::spawn(async move { w.run(i).await });
        }
    }

    async fn run(self: Arc<Self>, i: usize) {
        tracing::info!(worker = i, "delivery worker started");
        let poll = Duration::from_millis(self.cfg.poll_ms.max(10));
        loop {
            // Woken early when this node commits a message.
            let woken = self.wake.notified();
            match self.round().await {
                Ok(0) => {
                    tokio::select! {
                        _ = woken => {}
                        _ = tokio::time::sleep(poll) => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(worker = i, error = %e, "delivery round failed");
                    tokio::time::sleep(poll).await;
                }
            }
        }
    }

    /// Claims one batch and delivers it; gives how many messages it handled.
    pub async fn round(self: &Arc<Self>) -> Result<usize, String> {
        let now = sportello_store::now_micros();
        let lease = (self.cfg.lease_ms * 1000) as i64;
        // No more than it sends at once: every claimed message is being sent while its lease
        // runs (a send ends within the timeout, shorter than the lease).
        let claimed = self
            .store
            .delivery()
            .claim(
                self.cfg.batch.min(self.cfg.concurrency.max(1) as u64),
                now,
                lease,
            )
            .await
            .map_err(|e| e.to_string())?;
        let n = claimed.len();
        let permits = Arc::new(Semaphore::new(self.cfg.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for m in claimed {
            let w = self.clone();
            let permits = permits.clone();
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let outcome = w.attempt(&m).await;
                (m, outcome)
            });
        }
        let mut done = Vec::with_capacity(n);
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok(d) => done.push(d),
                // A send that panicked: its lease runs out and it is tried again.
                Err(e) => tracing::error!(error = %e, "a delivery task failed"),
            }
        }
        // The round's outcomes in one transaction (one write lock on SQLite, not one each).
        let d = self.store.delivery();
        let now = sportello_store::now_micros();
        if let Err(e) = d.settle_all(&done, now).await {
            // One bad row must not undo the others: each on its own, then.
            tracing::warn!(error = %e, messages = done.len(), "recording a round failed");
            for (m, outcome) in &done {
                if let Err(e) = d.settle(m, outcome, now).await {
                    // Its lease runs out and another attempt follows (same idempotency key).
                    tracing::warn!(message = %m.id, error = %e, "recording a delivery failed");
                }
            }
        }
        Ok(n)
    }

    /// One attempt at one message.
    async fn attempt(&self, m: &Claimed) -> Outcome {
        let payload = self
            .secrets
            .open(&m.payload)
            .map_err(|e| format!("payload: {e}"))
            .and_then(|p| {
                serde_json::from_slice::<Payload>(&p).map_err(|e| format!("payload: {e}"))
            });
        let result = match payload {
            Err(e) => Err(SendError::Permanent(e)),
            Ok(Payload::Email {
                subject,
                text,
                html,
                from_name,
                reply_to,
            }) => self
                .mailer
                .deliver(Mail {
                    to: m.recipient.clone(),
                    subject,
                    body: text,
                    from_name,
                    reply_to,
                    html: Some(html),
                    message_id: Some(format!("{}@sportello", m.id)),
                })
                .await
                .map(|()| None),
            Ok(Payload::Sms { text, sender }) => match self.gateway(m.tenant).await {
                Ok(Some(g)) => sms::send(
                    &self.http,
                    &g,
                    &m.id,
                    &m.recipient,
                    &text,
                    &sender,
                    self.cfg.private_gateways,
                )
                .await
                .map(Some),
                Ok(None) => Err(SendError::Permanent(
                    "the commune has no SMS gateway".into(),
                )),
                Err(e) => Err(SendError::Temporary(e)),
            },
        };
        match result {
            Ok(None) => Outcome::Delivered,
            Ok(Some(provider_id)) => Outcome::Accepted { provider_id },
            Err(SendError::Permanent(reason)) => Outcome::Failed { reason },
            Err(SendError::Temporary(reason)) if m.attempts >= self.cfg.max_attempts => {
                Outcome::Failed {
                    reason: format!("gave up after {} tries: {reason}", m.attempts),
                }
            }
            Err(SendError::Temporary(reason)) => Outcome::Retry {
                at: sportello_store::now_micros()
                    + retry_delay(&self.cfg, m.attempts, rand::rng().random_range(0.5..1.5)),
                reason,
            },
        }
    }

    async fn gateway(&self, t: TenantId) -> Result<Option<Arc<Gateway>>, String> {
        if let Ok(cache) = self.gateways.lock()
            && let Some((at, g)) = cache.get(&t)
            && at.elapsed() < GATEWAY_TTL
        {
            return Ok(g.clone());
        }
        let g = sms::load(&self.store, &self.secrets, t)
            .await?
            .map(Arc::new);
        if let Ok(mut cache) = self.gateways.lock() {
            cache.insert(t, (Instant::now(), g.clone()));
        }
        Ok(g)
    }
}

/// How long to wait before try `attempts + 1`, in microseconds: the base doubled for each try
/// made, at most the maximum, times the jitter (0.5–1.5) so that failures do not come back in
/// step.
pub fn retry_delay(cfg: &Delivery, attempts: i32, jitter: f64) -> i64 {
    let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
    let ms = cfg
        .retry_base_ms
        .saturating_mul(1u64 << doublings)
        .min(cfg.retry_max_ms);
    (ms as f64 * jitter * 1000.0) as i64
}

#[cfg(test)]
#[path = "tests/worker.rs"]
mod tests;
