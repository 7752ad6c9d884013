//! What the logs are for: an alert on ERROR must mean something went wrong on our side. The HTTP
//! layer (actix-http) logs every request it cannot parse — a scanner's garbage, a broken client —
//! at ERROR (`stream error: request parse error: …`) and answers it 400 itself; those lines are
//! a client's mistake and are dropped here. Every other event passes.

use tracing::field::{Field, Visit};
use tracing::{Event, Metadata};
use tracing_subscriber::layer::{Context, Filter};

/// The HTTP layer's module and the start of its message for an unparsable request.
const HTTP_LAYER: &str = "actix_http::h1::dispatcher";
const UNPARSABLE: &str = "stream error: request parse error";

/// A per-layer filter: `fmt::layer().with_filter(env).with_filter(ClientMistakes)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientMistakes;

impl<S> Filter<S> for ClientMistakes {
    fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        if event.metadata().target() != HTTP_LAYER {
            return true;
        }
        let mut m = Message(false);
        event.record(&mut m);
        !m.0
    }
}

/// Whether the event's message is the HTTP layer's "cannot parse this request".
struct Message(bool);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}").starts_with(UNPARSABLE);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.starts_with(UNPARSABLE);
        }
    }
}

#[cfg(test)]
#[path = "tests/logs.rs"]
mod tests;
