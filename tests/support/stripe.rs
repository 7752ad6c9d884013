//! A Stripe-compatible test server: the part of Stripe's API the product calls, with the
//! behaviour Stripe documents for it (tests/support/stripe.md cites the pages), since neither
//! Stripe nor a faithful stand-in can run here (`localstripe` ignores `Stripe-Account` and
//! `Idempotency-Key` and refuses `application_fee_amount`; `stripe-mock` cannot be built).
//!
//! It keeps state per connected account (an intent made on Pisa's account does not exist for
//! Calci's), replays an idempotent request with the same parameters and refuses the key with
//! other parameters, and hands the test every event it makes, for the test to deliver signed
//! (once, twice, late, out of order, with a rotated secret, or not at all).

use std::collections::{BTreeMap, HashMap};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

mod browser;
mod money;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
pub use browser::PUBLISHABLE_KEY;
use money::{balance_transactions, charge_moved, create_refund, list_refunds};
use serde_json::{Value, json};

pub const SECRET_KEY: &str = "sk_test_sportello_platform";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub account: Option<String>,
    pub idempotency_key: Option<String>,
    pub form: Vec<(String, String)>,
    pub status: u16,
    pub replayed: bool,
}

#[derive(Default)]
struct State {
    accounts: BTreeMap<String, Value>,
    /// Intent id → (account, intent).
    intents: HashMap<String, (String, Value)>,
    /// (account or "platform", key) → (the request's fingerprint, status, body).
    idempotency: HashMap<(String, String), (String, u16, String)>,
    refunds: HashMap<String, (String, Value)>,
    /// Balance transactions: (account, transaction), oldest first.
    balance: Vec<(String, Value)>,
    /// Whether new refunds wait at the bank (`pending`) rather than succeed at once.
    refunds_pending: bool,
    /// How many of the next POSTs are done but their answer lost (a 502 instead).
    lose: u32,
    events: Vec<Value>,
    seen: Vec<Seen>,
    seq: u64,
    /// Webhook endpoints registered through the API, and the deliveries they wait for.
    endpoints: Vec<browser::Endpoint>,
    deliveries: Vec<browser::Delivery>,
}

impl State {
    fn next(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}_{:024}", self.seq)
    }
}

pub struct FakeStripe {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn error(
    status: u16,
    kind: &str,
    code: Option<&str>,
    param: Option<&str>,
    message: &str,
) -> (u16, Value) {
    let mut e = json!({"type": kind, "message": message});
    if let Some(c) = code {
        e["code"] = json!(c);
    }
    if let Some(p) = param {
        e["param"] = json!(p);
    }
    (status, json!({"error": e}))
}

fn reply(status: u16, body: &str, replayed: bool) -> HttpResponse {
    let mut r =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default());
    r.insert_header(("content-type", "application/json"));
    // Stripe's API answers any origin: Stripe.js calls it from the merchant's page.
    r.insert_header(("access-control-allow-origin", "*"));
    r.insert_header((
        "request-id",
        format!("req_{}", uuid::Uuid::new_v4().simple()),
    ));
    if replayed {
        r.insert_header(("idempotent-replayed", "true"));
    }
    r.body(body.to_owned())
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn field<'a>(form: &'a [(String, String)], k: &str) -> Option<&'a str> {
    form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn metadata(form: &[(String, String)]) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in form {
        if let Some(key) = k
            .strip_prefix("metadata[")
            .and_then(|r| r.strip_suffix(']'))
        {
            m.insert(key.to_owned(), json!(v));
        }
    }
    Value::Object(m)
}

/// Every call: the key checked, then (for a POST with `Idempotency-Key`) the replay, then the
/// handler.
async fn api(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let method = req.method().as_str().to_owned();
    let path = req.path().to_owned();
    if method == "GET" && path == "/v3/" {
        return HttpResponse::Ok()
            .content_type("application/javascript; charset=utf-8")
            .body(browser::STRIPE_JS);
    }
    let mut account = header(&req, "stripe-account");
    let key = header(&req, "idempotency-key");
    let text = String::from_utf8_lossy(&body).into_owned();
    let query = req.query_string().to_owned();
    let form: Vec<(String, String)> =
        serde_urlencoded::from_str(if method == "GET" { &query } else { &text })
            .unwrap_or_default();
    let publishable = browser::publishable(&path, &method, &form);
    if publishable.is_some() {
        account = publishable.clone();
    }
    let Ok(mut s) = state.lock() else {
        return reply(500, "{}", false);
    };
    let record = |s: &mut State, status: u16, replayed: bool| {
        s.seen.push(Seen {
            method: method.clone(),
            path: path.clone(),
            account: account.clone(),
            idempotency_key: key.clone(),
            form: form.clone(),
            status,
            replayed,
        })
    };
    if publishable.is_none()
        && header(&req, "authorization").as_deref() != Some(&format!("Bearer {SECRET_KEY}"))
    {
        let (st, b) = error(
            401,
            "invalid_request_error",
            None,
            None,
            "Invalid API Key provided.",
        );
        record(&mut s, st, false);
        return reply(st, &b.to_string(), false);
    }
    // Idempotency (POST only): the first answer is kept and given again for the same request;
    // the key with other parameters is an error.
    let mut sorted = form.clone();
    sorted.sort();
    let fingerprint = format!("{method} {path} {sorted:?}");
    let scope = (
        account.clone().unwrap_or_else(|| "platform".into()),
        key.clone().unwrap_or_default(),
    );
    if method == "POST"
        && key.is_some()
        && let Some((fp, st, b)) = s.idempotency.get(&scope).cloned()
    {
        if fp == fingerprint {
            record(&mut s, st, true);
            return reply(st, &b, true);
        }
        let k = scope.1.clone();
        let (st, b) = error(
            400,
            "idempotency_error",
            None,
            None,
            &format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{k}' if you meant to execute a different request."
            ),
        );
        record(&mut s, st, false);
        return reply(st, &b.to_string(), false);
    }
    if let Some(a) = &account
        && !s.accounts.contains_key(a)
    {
        let (st, b) = error(
            403,
            "invalid_request_error",
            Some("account_invalid"),
            None,
            &format!(
                "The provided key does not have access to account '{a}' (or that account does not exist)."
            ),
        );
        record(&mut s, st, false);
        return reply(st, &b.to_string(), false);
    }
    let (st, b) = route(&mut s, &method, &path, account.as_deref(), &form);
    browser::deliver(state.get_ref().clone(), std::mem::take(&mut s.deliveries));
    let b = b.to_string();
    if method == "POST" && key.is_some() {
        s.idempotency.insert(scope, (fingerprint, st, b.clone()));
    }
    if method == "POST" && s.lose > 0 {
        // Done, and the answer lost on the way back: what a timeout looks like to the caller.
        s.lose -= 1;
        record(&mut s, 502, false);
        return reply(502, "<html>Bad gateway</html>", false);
    }
    record(&mut s, st, false);
    reply(st, &b, false)
}

fn missing(kind: &str, id: &str) -> (u16, Value) {
    error(
        404,
        "invalid_request_error",
        Some("resource_missing"),
        Some("id"),
        &format!("No such {kind}: '{id}'"),
    )
}

fn route(
    s: &mut State,
    method: &str,
    path: &str,
    account: Option<&str>,
    form: &[(String, String)],
) -> (u16, Value) {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("POST", ["v1", "accounts"]) => {
            let id = s.next("acct");
            let a = json!({"id": id, "object": "account", "type": field(form, "type").unwrap_or("standard"),
                "country": field(form, "country").unwrap_or("IT"), "email": field(form, "email"),
                "charges_enabled": true, "payouts_enabled": true, "details_submitted": true,
                "default_currency": "eur", "created": now(), "metadata": metadata(form)});
            s.accounts.insert(id, a.clone());
            (200, a)
        }
        ("GET", ["v1", "accounts", id]) => match s.accounts.get(*id) {
            Some(a) if account.is_none() || account == Some(*id) => (200, a.clone()),
            _ => missing("account", id),
        },
        ("POST", ["v1", "payment_intents"]) => create_intent(s, account, form),
        ("GET", ["v1", "payment_intents", id]) => match s.intents.get(*id) {
            Some((a, pi)) if Some(a.as_str()) == account => (200, pi.clone()),
            _ => missing("payment_intent", id),
        },
        ("POST", ["v1", "payment_intents", id, "cancel"]) => cancel_intent(s, account, id),
        ("POST", ["v1", "payment_intents", id, "confirm"]) => {
            browser::confirm_intent(s, account, id, form)
        }
        ("GET", ["v1", "events"]) => browser::list_events(s, account, form),
        ("POST", ["v1", "webhook_endpoints"]) if account.is_none() => {
            browser::create_endpoint(s, form)
        }
        ("POST", ["v1", "webhook_endpoints", id]) if account.is_none() => {
            browser::update_endpoint(s, id, form)
        }
        ("POST", ["v1", "refunds"]) => create_refund(s, account, form),
        ("GET", ["v1", "balance_transactions"]) => balance_transactions(s, account, form),
        ("GET", ["v1", "refunds"]) => list_refunds(s, account, form),
        ("GET", ["v1", "refunds", id]) => match s.refunds.get(*id) {
            Some((a, r)) if Some(a.as_str()) == account => (200, r.clone()),
            _ => missing("refund", id),
        },
        _ => error(
            404,
            "invalid_request_error",
            None,
            None,
            &format!("Unrecognized request URL ({method}: {path})."),
        ),
    }
}

fn create_intent(s: &mut State, account: Option<&str>, form: &[(String, String)]) -> (u16, Value) {
    let Some(amount) = field(form, "amount").and_then(|a| a.parse::<i64>().ok()) else {
        return error(
            400,
            "invalid_request_error",
            Some("parameter_missing"),
            Some("amount"),
            "Missing required param: amount.",
        );
    };
    let Some(currency) = field(form, "currency") else {
        return error(
            400,
            "invalid_request_error",
            Some("parameter_missing"),
            Some("currency"),
            "Missing required param: currency.",
        );
    };
    // https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts: 0.50 EUR.
    if amount < 50 {
        return error(
            400,
            "invalid_request_error",
            Some("amount_too_small"),
            Some("amount"),
            "Amount must be at least €0.50 eur",
        );
    }
    let fee = field(form, "application_fee_amount").map(|f| f.parse::<i64>().unwrap_or(-1));
    if let Some(f) = fee {
        // A fee needs a connected account: a direct charge (Stripe-Account) here.
        if account.is_none() {
            return error(
                400,
                "invalid_request_error",
                None,
                Some("application_fee_amount"),
                "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).",
            );
        }
        if f < 0 || f > amount {
            return error(
                400,
                "invalid_request_error",
                None,
                Some("application_fee_amount"),
                "The application fee must be between 0 and the amount.",
            );
        }
    }
    let Some(acct) = account else {
        return error(
            400,
            "invalid_request_error",
            None,
            None,
            "This test server serves direct charges on connected accounts only.",
        );
    };
    let id = s.next("pi");
    let secret = format!("{id}_secret_{}", uuid::Uuid::new_v4().simple());
    let pi = json!({
        "id": id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": 0, "application": null,
        "application_fee_amount": fee, "automatic_payment_methods":
            field(form, "automatic_payment_methods[enabled]").map(|e| json!({"allow_redirects": "always", "enabled": e == "true"})),
        "canceled_at": null, "cancellation_reason": null, "capture_method": "automatic_async",
        "client_secret": secret, "confirmation_method": "automatic", "created": now(),
        "currency": currency, "customer": null, "description": field(form, "description"),
        "last_payment_error": null, "latest_charge": null, "livemode": false,
        "metadata": metadata(form), "next_action": null, "on_behalf_of": null,
        "payment_method": null, "payment_method_options": {}, "payment_method_types": ["card"],
        "processing": null, "receipt_email": null, "review": null, "setup_future_usage": null,
        "shipping": null, "source": null, "statement_descriptor": null,
        "statement_descriptor_suffix": null, "status": "requires_payment_method",
        "transfer_data": null, "transfer_group": null
    });
    s.intents.insert(id, (acct.to_owned(), pi.clone()));
    (200, pi)
}

/// https://docs.stripe.com/api/payment_intents/cancel: only an intent not yet succeeded (nor
/// processing) is cancelled; it makes a `payment_intent.canceled` event.
fn cancel_intent(s: &mut State, account: Option<&str>, id: &str) -> (u16, Value) {
    let Some((acct, pi)) = s
        .intents
        .get_mut(id)
        .filter(|(a, _)| Some(a.as_str()) == account)
    else {
        return missing("payment_intent", id);
    };
    let status = pi["status"].as_str().unwrap_or("").to_owned();
    if matches!(status.as_str(), "succeeded" | "canceled" | "processing") {
        return error(
            400,
            "invalid_request_error",
            Some("payment_intent_unexpected_state"),
            None,
            &format!("You cannot cancel this PaymentIntent because it has a status of {status}."),
        );
    }
    pi["status"] = json!("canceled");
    pi["canceled_at"] = json!(now());
    pi["cancellation_reason"] = json!("abandoned");
    let (acct, pi) = (acct.clone(), pi.clone());
    let e = event(s, &acct, "payment_intent.canceled", pi.clone());
    s.events.push(e);
    (200, pi)
}

fn event(s: &mut State, account: &str, kind: &str, object: Value) -> Value {
    let id = s.next("evt");
    let mut e = json!({"id": id, "object": "event", "account": account, "api_version": "2025-08-27.basil",
           "created": now(), "data": {"object": object}, "livemode": false, "pending_webhooks": 1,
           "request": {"id": null, "idempotency_key": null}, "type": kind});
    browser::queue(s, &mut e);
    e
}

/// The person paid: the intent succeeds (the whole amount received, a charge); its event.
fn succeed_intent(s: &mut State, intent: &str, payment_method: &str) -> Value {
    let charge = s.next("ch");
    let Some((acct, pi)) = s.intents.get_mut(intent) else {
        return Value::Null;
    };
    pi["status"] = json!("succeeded");
    pi["amount_received"] = pi["amount"].clone();
    pi["latest_charge"] = json!(charge);
    pi["payment_method"] = json!(payment_method);
    let (acct, pi) = (acct.clone(), pi.clone());
    charge_moved(s, &acct, &charge, &pi);
    let e = event(s, &acct, "payment_intent.succeeded", pi);
    s.events.push(e.clone());
    e
}

/// A card was declined: the intent wants another payment method, and says why; its event.
fn fail_intent(s: &mut State, intent: &str, failure: Value) -> Value {
    let Some((acct, pi)) = s.intents.get_mut(intent) else {
        return Value::Null;
    };
    pi["status"] = json!("requires_payment_method");
    pi["last_payment_error"] = failure;
    let (acct, pi) = (acct.clone(), pi.clone());
    let e = event(s, &acct, "payment_intent.payment_failed", pi);
    s.events.push(e.clone());
    e
}

impl FakeStripe {
    pub fn start() -> FakeStripe {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        let data = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(data.clone()))
                .default_service(web::to(api))
        })
        .workers(1)
        // Its owner decides when it stops (a test's end, or the example's signal handling).
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeStripe {
            addr,
            state,
            handle,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("state"))
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.with(|s| s.seen.clone())
    }

    /// Every event made so far (the test delivers them).
    pub fn events(&self) -> Vec<Value> {
        self.with(|s| s.events.clone())
    }

    /// The intents made, oldest first.
    pub fn intent_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.with(|s| s.intents.keys().cloned().collect());
        ids.sort();
        ids
    }

    pub fn intent(&self, id: &str) -> Option<(String, Value)> {
        self.with(|s| s.intents.get(id).cloned())
    }

    /// The person paid: the intent succeeds (the whole amount received, a charge) and its
    /// event is made (returned; not delivered).
    pub fn succeed(&self, intent: &str) -> Value {
        assert!(self.intent(intent).is_some(), "no intent {intent}");
        self.with(|s| succeed_intent(s, intent, "pm_card_visa"))
    }

    /// A payment is under way at the bank (a debit, say): Stripe no longer lets it be
    /// cancelled until it succeeds or fails.
    pub fn process(&self, intent: &str) {
        self.with(|s| {
            if let Some((_, pi)) = s.intents.get_mut(intent) {
                pi["status"] = json!("processing");
            }
        });
    }

    /// A card was declined: the intent wants another payment method, and says why.
    pub fn fail(&self, intent: &str) -> Value {
        assert!(self.intent(intent).is_some(), "no intent {intent}");
        self.with(|s| {
            let failure = json!({"type": "card_error", "code": "card_declined",
                "decline_code": "generic_decline", "message": "Your card was declined."});
            fail_intent(s, intent, failure)
        })
    }

    /// An event of any type for `account` (what a test needs that the API would not make).
    pub fn make_event(&self, account: &str, kind: &str, object: Value) -> Value {
        self.with(|s| {
            let e = event(s, account, kind, object);
            s.events.push(e.clone());
            e
        })
    }

    /// The `Stripe-Signature` header of `body` at time `t`, one `v1` per secret (Stripe signs
    /// with the old and the new secret while one is rolled).
    pub fn signature(body: &str, secrets: &[&str], t: i64) -> String {
        use hmac::{Hmac, Mac};
        let mut out = format!("t={t}");
        for secret in secrets {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
            mac.update(format!("{t}.{body}").as_bytes());
            out.push_str(&format!(
                ",v1={}",
                data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
            ));
        }
        out
    }

    /// Delivers an event to `url` as Stripe does (a POST of its JSON, signed); gives the
    /// answer's status.
    pub async fn deliver(url: &str, event: &Value, secrets: &[&str], t: i64) -> u16 {
        let body = event.to_string();
        Self::deliver_raw(url, &body, &Self::signature(&body, secrets, t)).await
    }

    pub async fn deliver_raw(url: &str, body: &str, signature: &str) -> u16 {
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json; charset=utf-8")
            .header("stripe-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        let h = self.handle.clone();
        drop(h.stop(false));
    }
}
