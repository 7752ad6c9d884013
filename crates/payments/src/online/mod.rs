//! Paying online through Stripe, on each commune's connected account (direct charges: the
//! commune's money never passes through the platform, which takes the fee as
//! `application_fee_amount`): starting a payment (pay.rs), the calls to Stripe (stripe.rs),
//! Stripe's events (webhook.rs) and the sweeper of payments left unsettled (sweep.rs).

pub mod pay;
pub mod stripe;
pub mod sweep;
pub mod webhook;
