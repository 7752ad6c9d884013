//! The calls to Stripe, through `async-stripe`: every one on the commune's connected account
//! (`Stripe-Account`), every POST with the idempotency key the payment stored before the call.
//! One attempt per call: a retry is the next call with the same key (the sweeper's, or the
//! person's), which Stripe answers with what it did the first time.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use sportello_kernel::{Deps, Error, Result};
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_core::payment_intent::{
    CancelPaymentIntent, CancelPaymentIntentCancellationReason, CreatePaymentIntent,
    CreatePaymentIntentAutomaticPaymentMethods, RetrievePaymentIntent,
};
use stripe_shared::{AccountId, PaymentIntent, PaymentIntentStatus};

/// How long one call to Stripe may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// What the product needs of a PaymentIntent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub id: String,
    pub client_secret: Option<String>,
    /// `succeeded`, `requires_payment_method`, `canceled`, …
    pub status: String,
    pub amount: i64,
    pub amount_received: i64,
    pub currency: String,
    pub application_fee_amount: Option<i64>,
    pub metadata: HashMap<String, String>,
    /// The charge that paid it, once it succeeded (`ch_…`).
    pub latest_charge: Option<String>,
}

impl Intent {
    pub fn of(pi: &PaymentIntent) -> Intent {
        Intent {
            id: pi.id.as_str().to_owned(),
            client_secret: pi.client_secret.clone(),
            status: pi.status.as_str().to_owned(),
            amount: pi.amount,
            amount_received: pi.amount_received,
            currency: pi.currency.to_string(),
            application_fee_amount: pi.application_fee_amount,
            metadata: pi.metadata.clone(),
            latest_charge: pi
                .latest_charge
                .as_ref()
                .map(|c| c.id().as_str().to_owned()),
        }
    }
    pub fn succeeded(&self) -> bool {
        self.status == PaymentIntentStatus::Succeeded.as_str()
    }
}

/// Whether this installation takes payments online at all (the platform's keys).
pub fn configured(deps: &Deps) -> bool {
    let s = &deps.settings.stripe;
    !s.secret_key.expose().is_empty() && !s.publishable_key.is_empty()
}

/// The least and the most one payment may be, in cents (Stripe's limits for euros:
/// https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
pub const AMOUNT_MIN: i64 = 50;
pub const AMOUNT_MAX: i64 = 99_999_999;

/// The platform's client, or a refusal when online payment is not configured.
pub(crate) fn client(deps: &Deps) -> Result<Client> {
    let s = &deps.settings.stripe;
    if !configured(deps) {
        return Err(Error::Refused("refused_online_payment_off"));
    }
    ClientBuilder::new(s.secret_key.expose())
        .url(s.api_url.clone())
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| Error::Internal(format!("stripe client: {e}")))
}

pub(crate) fn account(id: &str) -> Result<AccountId> {
    AccountId::from_str(id).map_err(|_| Error::Internal(format!("stripe account {id:?}")))
}

pub(crate) fn upstream(e: stripe::StripeError) -> Error {
    tracing::warn!(error = %e, "stripe call failed");
    Error::Upstream("stripe".into())
}

/// Whether Stripe refused a request for good (a 4xx other than a conflict or a rate limit):
/// asking again with the same key gets the same refusal.
pub fn refused_for_good(e: &stripe::StripeError) -> bool {
    matches!(e, stripe::StripeError::Stripe(_, s) if (400..500).contains(s) && *s != 409 && *s != 429)
}

/// A call's failure: for good (the payment is given up) or for now (asked again later).
#[derive(Debug)]
pub enum CallError {
    ForGood(String),
    ForNow(Error),
}

impl From<CallError> for Error {
    fn from(e: CallError) -> Error {
        match e {
            CallError::ForGood(_) => Error::Refused("refused_payment_not_possible"),
            CallError::ForNow(e) => e,
        }
    }
}

pub(crate) fn call_error(e: stripe::StripeError) -> CallError {
    if refused_for_good(&e) {
        tracing::warn!(error = %e, "stripe refused the request");
        CallError::ForGood(e.to_string())
    } else {
        CallError::ForNow(upstream(e))
    }
}

/// What a new PaymentIntent asks.
pub struct NewIntent<'a> {
    pub account: &'a str,
    pub amount: i64,
    pub fee: i64,
    pub idempotency_key: &'a str,
    pub metadata: HashMap<String, String>,
    pub description: String,
}

/// Creates (or, with a key used before, finds again) the PaymentIntent of a payment: a direct
/// charge on the commune's account, the fee to the platform.
pub async fn create_intent(
    deps: &Deps,
    n: &NewIntent<'_>,
) -> std::result::Result<Intent, CallError> {
    let client = client(deps).map_err(CallError::ForNow)?;
    let key = IdempotencyKey::new(n.idempotency_key)
        .map_err(|e| CallError::ForNow(Error::Internal(format!("idempotency key: {e}"))))?;
    let mut req = CreatePaymentIntent::new(n.amount, stripe_types::Currency::EUR)
        .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods::new(true))
        .metadata(n.metadata.clone())
        .description(n.description.clone());
    if n.fee > 0 {
        req = req.application_fee_amount(n.fee);
    }
    let pi = req
        .customize()
        .account_id(account(n.account).map_err(CallError::ForNow)?)
        .request_strategy(RequestStrategy::Idempotent(key))
        .send(&client)
        .await
        .map_err(call_error)?;
    Ok(Intent::of(&pi))
}

/// Cancels an intent nobody paid (abandoned); gives what Stripe says of it afterwards (a
/// succeeded intent cannot be cancelled: it is read instead, and the caller settles it).
pub async fn cancel_intent(
    deps: &Deps,
    account_id: &str,
    intent: &str,
) -> std::result::Result<Intent, CallError> {
    let client = client(deps).map_err(CallError::ForNow)?;
    let r = CancelPaymentIntent::new(intent)
        .cancellation_reason(CancelPaymentIntentCancellationReason::Abandoned)
        .customize()
        .account_id(account(account_id).map_err(CallError::ForNow)?)
        .send(&client)
        .await;
    match r {
        Ok(pi) => Ok(Intent::of(&pi)),
        // Already succeeded (or cancelled): what it is now decides.
        Err(e) if refused_for_good(&e) => retrieve_intent(deps, account_id, intent)
            .await
            .map_err(CallError::ForNow),
        Err(e) => Err(CallError::ForNow(upstream(e))),
    }
}

/// Reads a PaymentIntent on the commune's account.
pub async fn retrieve_intent(deps: &Deps, account_id: &str, intent: &str) -> Result<Intent> {
    read_intent(deps, account_id, intent)
        .await
        .map_err(Error::from)
}

/// The same, telling a refusal for good (the intent or the account unknown to Stripe, access
/// revoked) from a failure for now.
pub async fn read_intent(
    deps: &Deps,
    account_id: &str,
    intent: &str,
) -> std::result::Result<Intent, CallError> {
    let client = client(deps).map_err(CallError::ForNow)?;
    let pi = RetrievePaymentIntent::new(intent)
        .customize()
        .account_id(account(account_id).map_err(CallError::ForNow)?)
        .send(&client)
        .await
        .map_err(call_error)?;
    Ok(Intent::of(&pi))
}
