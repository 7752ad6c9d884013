//! Telling people what happened. Every message is a row of the outbox, written in the same
//! transaction as the event that causes it ([`compose::enqueue`]); the delivery workers of every
//! node send it ([`worker`]) by e-mail (lettre, the commune's sender name and reply-to) or SMS
//! (the commune's HTTP gateway, [`sms`]), retry with backoff, and record its status in the words
//! of GOV.UK Notify; gateways report delivery back ([`reports`]). The words of each event are
//! templates in Italian and English ([`templates`]).

pub mod channels;
pub mod compose;
pub mod lists;
pub mod reports;
pub mod sms;
pub mod templates;
pub mod topics;
pub mod worker;

pub use compose::{Notice, Sender, To, enqueue, enqueue_as, sender, wake};
