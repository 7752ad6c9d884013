//! What a browser and Stripe's own delivery do, for a browser test that pays end to end:
//!
//! - the confirmation Stripe.js makes from the page with the publishable key and the intent's
//!   client secret (https://docs.stripe.com/api/payment_intents/confirm), answered for Stripe's
//!   test cards (https://docs.stripe.com/testing#cards, #declined-payments);
//! - a stand-in for Stripe.js (`stripe-v3.js`): the Payment Element and `confirmPayment` as
//!   https://docs.stripe.com/js/payment_intents/confirm_payment documents them, nothing else;
//! - webhook endpoints (https://docs.stripe.com/api/webhook_endpoints): once one is registered,
//!   every event of a connected account is delivered to it by itself, signed with its secret.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{FakeStripe, State, error, field, missing, now, succeed_intent};

/// The publishable key that goes with [`super::SECRET_KEY`].
pub const PUBLISHABLE_KEY: &str = "pk_test_sportello_platform";

/// The Stripe.js stand-in, served at `/v3/`.
pub(super) const STRIPE_JS: &str = include_str!("stripe-v3.js");

/// A registered endpoint: where events go, and the secret they are signed with.
#[derive(Clone)]
pub(super) struct Endpoint {
    id: String,
    url: String,
    secret: String,
    events: Vec<String>,
    connect: bool,
}

impl Endpoint {
    fn json(&self, with_secret: bool) -> Value {
        let mut v = json!({"id": self.id, "object": "webhook_endpoint", "url": self.url,
            "enabled_events": self.events, "status": "enabled", "livemode": false,
            "api_version": null, "application": null, "created": now(), "description": null,
            "metadata": {}});
        if with_secret {
            v["secret"] = json!(self.secret);
        }
        v
    }
}

/// `POST /v1/webhook_endpoints`: `url`, `enabled_events[]` (`*` for all) and `connect` (events
/// of connected accounts). The secret is given once, at creation.
pub(super) fn create_endpoint(s: &mut State, form: &[(String, String)]) -> (u16, Value) {
    let Some(url) = field(form, "url") else {
        return error(
            400,
            "invalid_request_error",
            Some("parameter_missing"),
            Some("url"),
            "Missing required param: url.",
        );
    };
    let events: Vec<String> = form
        .iter()
        .filter(|(k, _)| k.starts_with("enabled_events["))
        .map(|(_, v)| v.clone())
        .collect();
    if events.is_empty() {
        return error(
            400,
            "invalid_request_error",
            Some("parameter_missing"),
            Some("enabled_events"),
            "Missing required param: enabled_events.",
        );
    }
    let e = Endpoint {
        id: s.next("we"),
        url: url.to_owned(),
        secret: format!("whsec_{}", uuid::Uuid::new_v4().simple()),
        events,
        connect: field(form, "connect") == Some("true"),
    };
    s.endpoints.push(e.clone());
    (200, e.json(true))
}

/// `POST /v1/webhook_endpoints/{id}`: a new `url`.
pub(super) fn update_endpoint(s: &mut State, id: &str, form: &[(String, String)]) -> (u16, Value) {
    let Some(e) = s.endpoints.iter_mut().find(|e| e.id == id) else {
        return missing("webhook_endpoint", id);
    };
    if let Some(url) = field(form, "url") {
        e.url = url.to_owned();
    }
    (200, e.json(false))
}

/// Queues an event for every endpoint that wants it (the server delivers after answering);
/// `pending_webhooks` counts them, as Stripe's does, once any endpoint is registered.
pub(super) fn queue(s: &mut State, event: &mut Value) {
    if s.endpoints.is_empty() {
        return;
    }
    let kind = event["type"].as_str().unwrap_or("").to_owned();
    let connected = event["account"].is_string();
    let to: Vec<(String, String)> = s
        .endpoints
        .iter()
        .filter(|e| e.connect == connected)
        .filter(|e| e.events.iter().any(|k| *k == "*" || *k == kind))
        .map(|e| (e.url.clone(), e.secret.clone()))
        .collect();
    event["pending_webhooks"] = json!(to.len());
    let body = event.to_string();
    let id = event["id"].as_str().unwrap_or("").to_owned();
    for (url, secret) in to {
        s.deliveries.push(Delivery {
            event: id.clone(),
            url,
            secret,
            body: body.clone(),
        });
    }
}

/// An event on its way to one endpoint.
pub(super) struct Delivery {
    event: String,
    url: String,
    secret: String,
    body: String,
}

/// Delivers what [`queue`] kept, each signed now; an endpoint's 2xx takes one off the event's
/// `pending_webhooks` (Stripe retries a failed delivery for days; here one try is enough for
/// a test to see).
pub(super) fn deliver(state: Arc<Mutex<State>>, pending: Vec<Delivery>) {
    for d in pending {
        let state = state.clone();
        tokio::spawn(async move {
            let sig = FakeStripe::signature(&d.body, &[&d.secret], now());
            let status = FakeStripe::deliver_raw(&d.url, &d.body, &sig).await;
            if (200..300).contains(&status)
                && let Ok(mut s) = state.lock()
                && let Some(e) = s.events.iter_mut().find(|e| e["id"] == d.event.as_str())
            {
                let left = e["pending_webhooks"].as_i64().unwrap_or(1) - 1;
                e["pending_webhooks"] = json!(left.max(0));
            }
        });
    }
}

/// `GET /v1/events`: the account's events, newest first, by `type` if asked, `limit` of them
/// (10 by default, at most 100).
pub(super) fn list_events(
    s: &State,
    account: Option<&str>,
    form: &[(String, String)],
) -> (u16, Value) {
    let kind = field(form, "type");
    let limit = field(form, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let all: Vec<Value> = s
        .events
        .iter()
        .rev()
        .filter(|e| e["account"].as_str() == account)
        .filter(|e| kind.is_none_or(|k| e["type"].as_str() == Some(k)))
        .cloned()
        .collect();
    let more = all.len() > limit;
    let data: Vec<Value> = all.into_iter().take(limit).collect();
    (
        200,
        json!({"object": "list", "data": data, "has_more": more, "url": "/v1/events"}),
    )
}

/// Whether a request is Stripe.js confirming an intent with the publishable key: then it
/// speaks for the account it names (`_stripe_account`) and must hold the intent's secret.
pub(super) fn publishable(path: &str, method: &str, form: &[(String, String)]) -> Option<String> {
    let confirm =
        method == "POST" && path.starts_with("/v1/payment_intents/") && path.ends_with("/confirm");
    // With the publishable key only the intent's client secret gives access to it.
    (confirm
        && field(form, "key") == Some(PUBLISHABLE_KEY)
        && field(form, "client_secret").is_some())
    .then(|| {
        field(form, "_stripe_account")
            .unwrap_or_default()
            .to_owned()
    })
}

/// `POST /v1/payment_intents/{id}/confirm` with a card: Stripe's test numbers decide.
pub(super) fn confirm_intent(
    s: &mut State,
    account: Option<&str>,
    id: &str,
    form: &[(String, String)],
) -> (u16, Value) {
    let Some((_, pi)) = s
        .intents
        .get(id)
        .filter(|(a, _)| Some(a.as_str()) == account)
    else {
        return missing("payment_intent", id);
    };
    if let Some(secret) = field(form, "client_secret")
        && pi["client_secret"].as_str() != Some(secret)
    {
        return error(
            400,
            "invalid_request_error",
            Some("payment_intent_invalid_parameter"),
            Some("client_secret"),
            "The client_secret provided does not match the client_secret associated with the PaymentIntent.",
        );
    }
    let status = pi["status"].as_str().unwrap_or("").to_owned();
    if !matches!(
        status.as_str(),
        "requires_payment_method" | "requires_confirmation"
    ) {
        return error(
            400,
            "invalid_request_error",
            Some("payment_intent_unexpected_state"),
            None,
            &format!("You cannot confirm this PaymentIntent because it has a status of {status}."),
        );
    }
    let number: String = field(form, "payment_method_data[card][number]")
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let outcome = match number.as_str() {
        "4242424242424242" => Ok("pm_card_visa"),
        "5555555555554444" => Ok("pm_card_mastercard"),
        // 0341 attaches to a customer, then its charges fail.
        "4000000000000002" | "4000000000000341" => Err((
            "card_declined",
            Some("generic_decline"),
            "Your card was declined.",
        )),
        "4000000000009995" => Err((
            "card_declined",
            Some("insufficient_funds"),
            "Your card has insufficient funds.",
        )),
        _ => Err(("incorrect_number", None, "Your card number is incorrect.")),
    };
    match outcome {
        Ok(pm) => {
            let e = succeed_intent(s, id, pm);
            (200, e["data"]["object"].clone())
        }
        Err((code, decline_code, message)) => {
            let mut failure = json!({"type": "card_error", "code": code, "message": message});
            if let Some(d) = decline_code {
                failure["decline_code"] = json!(d);
            }
            let e = super::fail_intent(s, id, failure.clone());
            let mut body = json!({"error": failure});
            body["error"]["payment_intent"] = e["data"]["object"].clone();
            (402, body)
        }
    }
}
