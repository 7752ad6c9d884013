use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt;
use tracing_subscriber::layer::SubscriberExt;

use super::ClientMistakes;

/// Everything the log layer writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn unparsable_requests_are_not_logged_as_errors_and_everything_else_is() {
    let out = Captured::default();
    let w = out.clone();
    let layer = fmt::layer().with_writer(move || w.clone()).with_ansi(false);
    let subscriber = tracing_subscriber::registry()
        .with(ClientMistakes)
        .with(layer);
    tracing::subscriber::with_default(subscriber, || {
        // As actix-http 3 writes them.
        tracing::error!(target: "actix_http::h1::dispatcher", "stream error: request parse error: invalid Header provided");
        tracing::error!(target: "actix_http::h1::dispatcher", "stream error: {}", "request parse error: invalid HTTP version specified");
        tracing::error!(target: "actix_http::h1::dispatcher", "Response payload stream error: boom");
        tracing::error!(target: "sportello_web", "request failed");
    });
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert!(!text.contains("request parse error"), "{text}");
    assert!(text.contains("Response payload stream error"), "{text}");
    assert!(text.contains("request failed"), "{text}");
}
