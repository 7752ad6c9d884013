//! The identity providers' signing certificates over time: days left of each one in
//! `/metrics` (`sportello_idp_certificate_days_left{idp, sha256}`), whether each IdP has one
//! usable now (`sportello_idp_usable{idp}`), and the logs told when one expires within
//! [`WARN_DAYS`], is outside its validity (a warning; an ERROR when the IdP has no usable one
//! left, as its sign-ins are then refused), or has expired but is accepted by setting.

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
    let usable = IntGaugeVec::new(
        Opts::new(
            "sportello_idp_usable",
            "1 when a SAML identity provider has a signing certificate usable now, else 0 \
             (its sign-ins are refused)",
        ),
        &["idp"],
    )
    .map_err(|e| format!("metrics: {e}"))?;
    registry
        .register(Box::new(usable.clone()))
        .map_err(|e| format!("metrics: {e}"))?;
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
    update(&idps, &gauge, &usable, true);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.tick().await;
        let mut n: u32 = 0;
        loop {
            tick.tick().await;
            n = n.wrapping_add(1);
            update(&idps, &gauge, &usable, n.is_multiple_of(LOG_EVERY));
        }
    });
    Ok(())
}

fn update(idps: &[IdpInfo], gauge: &IntGaugeVec, usable: &IntGaugeVec, log: bool) {
    let now = Utc::now();
    for idp in idps {
        let ok = idp.usable_certs(now).is_ok();
        usable
            .with_label_values(&[idp.entity_id.as_str()])
            .set(i64::from(ok));
        if log && !ok {
            tracing::error!(idp = %idp.entity_id,
                "no signing certificate of this IdP is valid now: its sign-ins are refused");
        }
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
            } else if c.not_after < now || c.not_before > now {
                // Still listed beside a valid one (a rollover), or the only one (the error above).
                tracing::warn!(idp = %idp.entity_id, sha256 = %c.sha256, expires,
                    valid_from = %c.not_before.format("%Y-%m-%d"),
                    "IdP signing certificate outside its validity: it verifies nothing");
            } else if days <= WARN_DAYS {
                tracing::warn!(idp = %idp.entity_id, sha256 = %c.sha256, expires, days,
                    "IdP signing certificate expires soon: ask the IdP for its new metadata");
            }
        }
    }
}
