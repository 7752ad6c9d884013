//! The identity providers' signing certificates over time: days left of each one in
//! `/metrics` (`sportello_idp_certificate_days_left{idp, sha256}`), and the logs told when one
//! expires within [`WARN_DAYS`], has expired (its signatures are then refused), or has expired
//! but is accepted by setting.

use std::time::Duration;

use chrono::Utc;
use prometheus::{IntGaugeVec, Opts, Registry};

use super::saml::IdpInfo;

/// How many days ahead an expiry is announced in the logs.
pub const WARN_DAYS: i64 = 30;
/// How often the gauges are updated; the logs are told every [`LOG_EVERY`] of these.
const TICK: Duration = Duration::from_secs(3600);
const LOG_EVERY: u32 = 24;

/// Registers the gauge, sets it and logs now, then keeps both current in the background.
pub fn watch(idps: Vec<IdpInfo>, registry: &Registry) -> Result<(), String> {
    let gauge = IntGaugeVec::new(
        Opts::new(
            "sportello_idp_certificate_days_left",
            "Whole days until each SAML identity provider's signing certificate expires \
             (negative: expired)",
        ),
        &["idp", "sha256"],
    )
    .map_err(|e| format!("metrics: {e}"))?;
    registry
        .register(Box::new(gauge.clone()))
        .map_err(|e| format!("metrics: {e}"))?;
    update(&idps, &gauge, true);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.tick().await;
        let mut n: u32 = 0;
        loop {
            tick.tick().await;
            n = n.wrapping_add(1);
            update(&idps, &gauge, n.is_multiple_of(LOG_EVERY));
        }
    });
    Ok(())
}

fn update(idps: &[IdpInfo], gauge: &IntGaugeVec, log: bool) {
    let now = Utc::now();
    for idp in idps {
        for c in &idp.signing_certs {
            let days = c.days_left(now);
            gauge
                .with_label_values(&[idp.entity_id.as_str(), c.sha256.as_str()])
                .set(days);
            if !log {
                continue;
            }
            let expires = c.not_after.format("%Y-%m-%d").to_string();
            if c.not_after < now && idp.accept_expired {
                tracing::warn!(idp = %idp.entity_id, sha256 = %c.sha256, expires,
                    "IdP signing certificate expired, accepted by saml_idps_accept_expired");
            } else if c.not_after < now {
                tracing::error!(idp = %idp.entity_id, sha256 = %c.sha256, expires,
                    "IdP signing certificate expired: its signatures are refused");
            } else if c.not_before > now {
                tracing::error!(idp = %idp.entity_id, sha256 = %c.sha256,
                    valid_from = %c.not_before.format("%Y-%m-%d"),
                    "IdP signing certificate not valid yet: its signatures are refused");
            } else if days <= WARN_DAYS {
                tracing::warn!(idp = %idp.entity_id, sha256 = %c.sha256, expires, days,
                    "IdP signing certificate expires soon: ask the IdP for its new metadata");
            }
        }
    }
}
