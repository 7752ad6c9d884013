//! Stripe's events, on one endpoint for every commune. The signature is checked on the raw
//! body (HMAC-SHA256 of `timestamp.body` with the endpoint's secret; any of several `v1`
//! signatures, as during a secret's rotation; five minutes of tolerance), by `async-stripe`.
//! An event of a connected account belongs to the commune of that account; it is applied in
//! that commune's transaction together with its id (`stripe_events`), so it is applied once
//! however often it comes; states only move forward, so events out of order do no harm; a
//! type the product does not use is acknowledged and left alone.

use sportello_domain::TenantId;
use sportello_kernel::{Deps, Error, Result};
use stripe_webhook::{EventObject, Webhook, WebhookError};

use super::stripe::Intent;

/// What became of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Applied to a commune's payment, with what it did (`paid`, `failed`, `mismatch`,
    /// `already`, `unknown_intent`).
    Applied(TenantId, &'static str),
    /// Seen before: nothing done again.
    Duplicate,
    /// Acknowledged, nothing to do (a type not used, an account no commune has).
    Ignored(&'static str),
}

/// Why an event was refused (Stripe sends it again; a forger gets nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    Signature,
    Stale,
    NotConfigured,
}

/// Takes an event as it came: the raw body and its `Stripe-Signature` header.
pub async fn receive(
    deps: &Deps,
    body: &str,
    signature: &str,
) -> Result<std::result::Result<Received, Refused>> {
    let secret = deps.settings.stripe.webhook_secret.expose();
    if secret.is_empty() {
        return Ok(Err(Refused::NotConfigured));
    }
    let event = match Webhook::construct_event(body, signature, secret) {
        Ok(e) => e,
        // Signed and recent, but not an event the library knows: nothing of ours.
        Err(WebhookError::BadParse(e)) => {
            tracing::info!(error = %e, "stripe event not understood: acknowledged");
            return Ok(Ok(Received::Ignored("unparsed")));
        }
        Err(WebhookError::BadTimestamp(_)) => return Ok(Err(Refused::Stale)),
        Err(_) => return Ok(Err(Refused::Signature)),
    };
    let (kind, intent) = match &event.data.object {
        EventObject::PaymentIntentSucceeded(pi) => ("payment_intent.succeeded", Intent::of(pi)),
        EventObject::PaymentIntentPaymentFailed(pi) => {
            ("payment_intent.payment_failed", Intent::of(pi))
        }
        _ => return Ok(Ok(Received::Ignored("type"))),
    };
    let Some(account) = event.account.as_deref() else {
        return Ok(Ok(Received::Ignored("platform")));
    };
    let Some(commune) = deps
        .store
        .federation()
        .commune_of_stripe_account(account)
        .await?
    else {
        tracing::warn!(account, "stripe event for an account no commune has");
        return Ok(Ok(Received::Ignored("account")));
    };
    let failure = if kind == "payment_intent.payment_failed" {
        Some("payment_failed")
    } else {
        None
    };
    apply(
        deps,
        TenantId(commune),
        account,
        Some((event.id.as_str(), kind)),
        &intent,
        failure,
    )
    .await
    .map(Ok)
}

/// Applies what Stripe says of an intent to the commune's payment: once per event (when it
/// came as one), forward only, the amount and currency checked against the payment.
pub(crate) async fn apply(
    deps: &Deps,
    commune: TenantId,
    account: &str,
    event: Option<(&str, &str)>,
    intent: &Intent,
    failure: Option<&str>,
) -> Result<Received> {
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    if let Some((id, kind)) = event
        && !db.record_stripe_event(id, kind, "", now).await?
    {
        tx.commit().await?;
        return Ok(Received::Duplicate);
    }
    let outcome = match db.payment_by_intent(&intent.id).await? {
        None => "unknown_intent",
        Some(p) if p.stripe_account != account => "unknown_intent",
        Some(p) => match failure {
            Some(why) => {
                if db.fail_payment(&p.id, why, now).await? {
                    "failed"
                } else {
                    "already"
                }
            }
            None if !intent.succeeded() => "not_succeeded",
            None if intent.amount_received != p.total_cents()
                || intent.currency != p.currency
                || intent.metadata.get("payment") != Some(&p.id) =>
            {
                tracing::error!(payment = %p.id, intent = %intent.id, received = intent.amount_received,
                    expected = p.total_cents(), currency = %intent.currency, "stripe amount mismatch");
                if db.flag_payment(&p.id, "amount_mismatch", now).await? {
                    "mismatch"
                } else {
                    "already"
                }
            }
            None => {
                if db.settle_payment(&p.id, now).await? {
                    "paid"
                } else {
                    "already"
                }
            }
        },
    };
    if let Some((id, _)) = event {
        db.set_stripe_event_outcome(id, outcome).await?;
    }
    tx.commit().await?;
    tracing::info!(commune = commune.0, intent = %intent.id, outcome, "stripe intent applied");
    Ok(Received::Applied(commune, outcome))
}

impl From<Refused> for Error {
    fn from(r: Refused) -> Error {
        match r {
            Refused::NotConfigured => Error::Refused("refused_online_payment_off"),
            Refused::Signature | Refused::Stale => Error::Refused("refused_webhook_signature"),
        }
    }
}
