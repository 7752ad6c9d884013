//! The node's Prometheus registry, and the counters services move. The web layer registers its
//! request metrics on the same registry and serves it at `/metrics`.

use prometheus::{IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    /// Sign-in events by kind and identity provider (from the audit log's writes).
    pub auth_events: IntCounterVec,
}

impl Metrics {
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let auth_events = IntCounterVec::new(
            Opts::new(
                "sportello_auth_events_total",
                "Sign-in events (sign_in, handoff, sign_out, failures, rejections) by provider",
            ),
            &["event", "idp"],
        )?;
        registry.register(Box::new(auth_events.clone()))?;
        Ok(Self {
            registry,
            auth_events,
        })
    }
}
