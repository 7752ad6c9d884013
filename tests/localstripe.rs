//! `localstripe` (PyPI) as a second opinion where it can serve (see tests/support/stripe.md for
//! where it cannot): the plain card flow, a good card and a declined one, ends in the same
//! states on it as on the repository's Stripe test server, and the product's webhook check
//! accepts the signature localstripe computes on its own delivery (and refuses it on a body
//! changed in transit).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;
use sportello_payments::online::webhook::{Received, Refused, receive};
use sportello_tests::counterparts;
use sportello_tests::stripe::{FakeStripe, PUBLISHABLE_KEY, SECRET_KEY};
use tokio::sync::mpsc;

use crate::payments_stripe::{WEBHOOK_SECRET, account, stripe_world};

/// localstripe on a port of its own, killed when dropped.
struct LocalStripe {
    child: Child,
    url: String,
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn localstripe() -> LocalStripe {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(counterparts::dir().join(".venv/bin/localstripe"))
        .args(["--port", &port.to_string(), "--from-scratch"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("localstripe (tests/counterparts/setup.sh installs it)");
    let ls = LocalStripe {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if reqwest::get(format!("{}/v1/customers", ls.url))
            .await
            .is_ok()
        {
            return ls;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("localstripe did not start");
}

async fn post(url: &str, bearer: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(url)
        .bearer_auth(bearer)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A webhook endpoint that hands each delivery (body, `Stripe-Signature`) to the test.
fn endpoint() -> (String, mpsc::UnboundedReceiver<(String, String)>) {
    let (tx, rx) = mpsc::unbounded_channel::<(String, String)>();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        let tx = tx.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let sig = req
                .headers()
                .get("stripe-signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let _ = tx.send((String::from_utf8_lossy(&body).into_owned(), sig));
            async { HttpResponse::Ok().finish() }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://{addr}/"), rx)
}

#[tokio::test]
async fn localstripe_agrees_on_the_plain_card_flow_and_signs_as_the_product_expects() {
    let ls = localstripe().await;
    let (url, mut deliveries) = endpoint();
    let (st, _) = post(
        &format!("{}/_config/webhooks/sportello", ls.url),
        "",
        &[("url", &url), ("secret", WEBHOOK_SECRET)],
    )
    .await;
    assert_eq!(st, 200);
    let fake = FakeStripe::start();
    let acct = account(&fake).await;

    // A good card and a declined one on localstripe (its way: the card on the intent, confirmed
    // at once; it takes no connected account and no application fee).
    let intents = format!("{}/v1/payment_intents", ls.url);
    let card = |pm: &'static str| {
        [
            ("amount", "4660"),
            ("currency", "eur"),
            ("payment_method", pm),
            ("confirm", "true"),
        ]
    };
    let (_, good) = post(&intents, "sk_test_localstripe", &card("pm_card_visa")).await;
    let (bad_status, bad) = post(
        &intents,
        "sk_test_localstripe",
        // localstripe declines 4000 0000 0000 0002 only when attaching it to a customer; its
        // card declined when charged is Stripe's 4000 0000 0000 0341.
        &card("pm_card_chargeCustomerFail"),
    )
    .await;
    // The same on the repository's server (its way: made by the platform on the commune's
    // account, confirmed from the page with the publishable key and the client secret).
    let ours = |number: &'static str| {
        let fake_url = fake.url();
        let acct = acct.clone();
        async move {
            let c = reqwest::Client::new();
            let pi: Value = c
                .post(format!("{fake_url}/v1/payment_intents"))
                .bearer_auth(SECRET_KEY)
                .header("stripe-account", &acct)
                .form(&[("amount", "4660"), ("currency", "eur")])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = pi["id"].as_str().unwrap().to_owned();
            let secret = pi["client_secret"].as_str().unwrap().to_owned();
            let r = c
                .post(format!("{fake_url}/v1/payment_intents/{id}/confirm"))
                .form(&[
                    ("key", PUBLISHABLE_KEY),
                    ("_stripe_account", &acct),
                    ("client_secret", &secret),
                    ("payment_method_data[type]", "card"),
                    ("payment_method_data[card][number]", number),
                ])
                .send()
                .await
                .unwrap();
            let answer = (r.status().as_u16(), r.json::<Value>().await.unwrap());
            let pi = c
                .get(format!("{fake_url}/v1/payment_intents/{id}"))
                .bearer_auth(SECRET_KEY)
                .header("stripe-account", &acct)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap();
            (answer, pi)
        }
    };
    let (_, our_good) = ours("4242424242424242").await;
    let ((our_bad_status, our_bad), our_bad_intent) = ours("4000000000000341").await;
    let said = |pi: &Value| {
        (
            pi["status"].as_str().unwrap_or("").to_owned(),
            pi["amount"].as_i64(),
            pi["currency"].as_str().unwrap_or("").to_owned(),
            pi["last_payment_error"]["code"].as_str().map(str::to_owned),
        )
    };
    assert_eq!(said(&good).0, "succeeded", "{good}");
    assert_eq!(said(&good), said(&our_good));
    // A declined card: the same answer (402, `card_declined`, Stripe's message); the intent
    // wants another card. (localstripe types the error `invalid_request_error` where Stripe
    // says `card_error`, and leaves the intent out of it.)
    let declined = |status: u16, b: &Value| {
        (
            status,
            b["error"]["code"].as_str().map(str::to_owned),
            b["error"]["message"].as_str().map(str::to_owned),
        )
    };
    assert_eq!(
        declined(bad_status, &bad),
        (
            402,
            Some("card_declined".into()),
            Some("Your card was declined.".into())
        ),
        "{bad}"
    );
    assert_eq!(
        declined(bad_status, &bad),
        declined(our_bad_status, &our_bad)
    );
    assert_eq!(our_bad_intent["status"], "requires_payment_method");

    // localstripe's own deliveries: the product's check accepts its signature. Its events carry
    // no connected account and lack fields async-stripe requires, so they are acknowledged and
    // ignored; a body changed in transit is refused.
    let w = stripe_world(&fake).await;
    let mut kinds = vec![];
    while let Ok(Some((body, sig))) =
        tokio::time::timeout(Duration::from_secs(3), deliveries.recv()).await
    {
        assert!(sig.starts_with("t=") && sig.contains(",v1="), "{sig}");
        let r = receive(&w.deps, &body, &sig).await.unwrap();
        assert!(matches!(r, Ok(Received::Ignored(_))), "{r:?}");
        let tampered = body.replacen("\"livemode\": false", "\"livemode\": true", 1);
        assert_ne!(tampered, body, "{body}");
        assert!(matches!(
            receive(&w.deps, &tampered, &sig).await.unwrap(),
            Err(Refused::Signature)
        ));
        let v: Value = serde_json::from_str(&body).unwrap();
        kinds.push(v["type"].as_str().unwrap_or("").to_owned());
    }
    for kind in ["payment_intent.succeeded", "payment_intent.payment_failed"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} not delivered: {kinds:?}"
        );
    }
}
