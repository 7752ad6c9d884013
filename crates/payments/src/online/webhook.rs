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

use super::stripe::{CallError, Intent, read_intent};

/// What Stripe says of an intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    Succeeded,
    Failed,
    Canceled,
}

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
        // Signed and recent, but not an event the library reads: an intent's event is looked
        // up at Stripe (what Stripe says then is applied); anything else is acknowledged.
        Err(WebhookError::BadParse(e)) => {
            tracing::info!(error = %e, "stripe event not read by the library");
            return unread(deps, body).await.map(Ok);
        }
        Err(WebhookError::BadTimestamp(_)) => return Ok(Err(Refused::Stale)),
        Err(_) => return Ok(Err(Refused::Signature)),
    };
    let what = match &event.data.object {
        EventObject::PaymentIntentSucceeded(pi) => {
            About::Intent("payment_intent.succeeded", Intent::of(pi), Said::Succeeded)
        }
        EventObject::PaymentIntentPaymentFailed(pi) => About::Intent(
            "payment_intent.payment_failed",
            Intent::of(pi),
            Said::Failed,
        ),
        EventObject::PaymentIntentCanceled(pi) => {
            About::Intent("payment_intent.canceled", Intent::of(pi), Said::Canceled)
        }
        EventObject::RefundCreated(r) => About::Refund("refund.created", r),
        EventObject::RefundUpdated(r) => About::Refund("refund.updated", r),
        EventObject::RefundFailed(r) => About::Refund("refund.failed", r),
        EventObject::ChargeRefundUpdated(r) => About::Refund("charge.refund.updated", r),
        _ => return Ok(Ok(Received::Ignored("type"))),
    };
    // A connected account's event belongs to that account's commune.
    let Some(account) = event.account.as_deref() else {
        return Ok(Ok(Received::Ignored("platform")));
    };
    let Some(commune) = commune_of(deps, account).await? else {
        return Ok(Ok(Received::Ignored("account")));
    };
    let id = event.id.as_str();
    match what {
        About::Intent(kind, intent, said) => {
            apply(deps, commune, account, Some((id, kind)), &intent, said).await
        }
        About::Refund(kind, r) => {
            let ours = r.metadata.as_ref().and_then(|m| m.get("refund"));
            let s = crate::refunds::StripeRefund::of(r);
            refund_event(
                deps,
                commune,
                account,
                (id, kind),
                &s,
                ours.map(String::as_str),
            )
            .await
        }
    }
    .map(Ok)
}

/// What an event the product uses is about.
enum About<'a> {
    Intent(&'static str, Intent, Said),
    Refund(&'static str, &'a stripe_shared::Refund),
}

async fn commune_of(deps: &Deps, account: &str) -> Result<Option<TenantId>> {
    let c = deps
        .store
        .federation()
        .commune_of_stripe_account(account)
        .await?;
    if c.is_none() {
        tracing::warn!(account, "stripe event for an account no commune has");
    }
    Ok(c.map(TenantId))
}

/// A signed event the library could not read: its type, account and object's id are read
/// plainly; an intent's is asked of Stripe, and what Stripe says is applied.
async fn unread(deps: &Deps, body: &str) -> Result<Received> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return Ok(Received::Ignored("unparsed"));
    };
    let kind = v["type"].as_str().unwrap_or("");
    let (Some(id), Some(account), Some(intent)) = (
        v["id"].as_str(),
        v["account"].as_str(),
        v["data"]["object"]["id"].as_str(),
    ) else {
        return Ok(Received::Ignored("unparsed"));
    };
    if !kind.starts_with("payment_intent.") || !intent.starts_with("pi_") {
        return Ok(Received::Ignored("unparsed"));
    }
    let Some(commune) = commune_of(deps, account).await? else {
        return Ok(Received::Ignored("account"));
    };
    // Seen before: Stripe is not asked again.
    let seen = {
        let tx = deps.store.tenant_read(commune).await?;
        let s = tx.db().stripe_event_seen(id).await?;
        tx.commit().await?;
        s
    };
    if seen {
        return Ok(Received::Duplicate);
    }
    let now = match read_intent(deps, account, intent).await {
        Ok(i) => i,
        // Not an intent of that account: nothing of ours.
        Err(CallError::ForGood(_)) => return Ok(Received::Ignored("unknown_intent")),
        Err(CallError::ForNow(e)) => return Err(e),
    };
    let said = if now.succeeded() {
        Said::Succeeded
    } else if now.status == "canceled" {
        Said::Canceled
    } else {
        return Ok(Received::Ignored("not_final"));
    };
    apply(
        deps,
        commune,
        account,
        Some((id, "payment_intent.unread")),
        &now,
        said,
    )
    .await
}

/// Applies a refund's event once, in the commune's transaction.
async fn refund_event(
    deps: &Deps,
    commune: TenantId,
    account: &str,
    (id, kind): (&str, &str),
    refund: &crate::refunds::StripeRefund,
    ours: Option<&str>,
) -> Result<Received> {
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    if !db
        .record_stripe_event(id, kind, "", sportello_store::now_micros())
        .await?
    {
        tx.commit().await?;
        return Ok(Received::Duplicate);
    }
    let outcome = crate::refunds::apply(&db, account, refund, ours).await?;
    db.set_stripe_event_outcome(id, outcome).await?;
    tx.commit().await?;
    tracing::info!(commune = commune.0, refund = %refund.id, outcome, "stripe refund applied");
    Ok(Received::Applied(commune, outcome))
}

/// Applies what Stripe says of an intent to the commune's payment: once per event (when it
/// came as one), forward only, the amount and currency checked against the payment.
pub(crate) async fn apply(
    deps: &Deps,
    commune: TenantId,
    account: &str,
    event: Option<(&str, &str)>,
    intent: &Intent,
    said: Said,
) -> Result<Received> {
    // Whom a receipt would be told to, read before the transaction that writes the message.
    let to = {
        let tx = deps.store.tenant_read(commune).await?;
        let p = tx.db().payment_by_intent(&intent.id).await?;
        tx.commit().await?;
        match p {
            Some(p) if said == Said::Succeeded && p.succeeded_at.is_none() => {
                crate::receipt::reach(deps, &p.person_id).await?
            }
            _ => None,
        }
    };
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
        Some(p) => match said {
            Said::Failed => {
                if db.fail_payment(&p.id, "payment_failed", now).await? {
                    "failed"
                } else {
                    "already"
                }
            }
            Said::Canceled => {
                if db.cancel_payment(&p.id, "canceled", now).await? {
                    "cancelled"
                } else {
                    "already"
                }
            }
            Said::Succeeded if !intent.succeeded() => "not_succeeded",
            // Paid at Stripe after it was given up here (it cannot be: a payment is given up
            // only once Stripe says cancelled; should it happen, staff must look).
            Said::Succeeded if p.status == "cancelled" => {
                tracing::error!(payment = %p.id, intent = %intent.id, "stripe success for a payment given up");
                if db.flag_payment(&p.id, "paid_after_cancel", now).await? {
                    "mismatch"
                } else {
                    "already"
                }
            }
            Said::Succeeded
                if intent.amount_received != p.total_cents()
                    || intent.currency != p.currency
                    || intent.application_fee_amount.unwrap_or(0) != p.fee_cents
                    || intent.metadata.get("payment") != Some(&p.id) =>
            {
                tracing::error!(payment = %p.id, intent = %intent.id, received = intent.amount_received,
                    expected = p.total_cents(), currency = %intent.currency,
                    fee = ?intent.application_fee_amount, "stripe amount mismatch");
                if db.flag_payment(&p.id, "amount_mismatch", now).await? {
                    "mismatch"
                } else {
                    "already"
                }
            }
            Said::Succeeded => {
                if db.settle_payment(&p.id, now).await? {
                    if let Some(charge) = &intent.latest_charge {
                        db.set_payment_charge(&p.id, charge).await?;
                    }
                    crate::receipt::issue(deps, &db, &p, to, now).await?;
                    if p.purpose == "tickets" {
                        crate::tickets::buy::issue(deps, &db, &p).await?;
                    }
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
    if outcome == "paid" {
        sportello_notify::wake(deps);
    }
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
