//! The Stripe-compatible test server (`tests/support/stripe.rs`) on its own, for the browser
//! tests (`web/tests/payments.test.mjs`): it prints `fake stripe listening on http://…` and
//! serves until killed. Secret key `sk_test_sportello_platform`, publishable key
//! `pk_test_sportello_platform`; Stripe.js (its stand-in) at `/v3/`.

use sportello_tests::stripe::FakeStripe;

#[tokio::main]
async fn main() {
    let stripe = FakeStripe::start();
    println!("fake stripe listening on {}", stripe.url());
    // Serves until the test stops it: SIGTERM (or Ctrl-C) ends the process.
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
