//! What every capability's services share, and nothing about HTTP.
//!
//! - [`Deps`]: the bundle a service receives (store, commune registry, policies, mailer,
//!   sealed-secret box, settings) — built once by the web layer or the CLI;
//! - [`Actor`]: the staff member a service acts for (the web guard admits them);
//! - [`Error`] / [`Result`]: what a service can fail with, in domain terms; the web layer maps
//!   it to a status and a page, the CLI to a message;
//! - [`audit`], [`input`]: the audit-log helper and text-input rules every service uses;
//! - [`tenancy`], [`policies`]: the commune registry and the casbin policies, kept current on
//!   this node; [`session`]: server-side sessions (identity opens them, the consoles end them,
//!   the web layer looks them up); [`mail`], [`secretbox`], [`tokens`], [`config`].

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod actor;
pub mod audit;
pub mod config;
pub mod csv_text;
mod deps;
mod error;
pub mod files;
pub mod gate;
pub mod input;
pub mod mail;
pub mod metrics;
pub mod pdf;
pub mod pdf_signature;
pub mod policies;
pub mod scope;
pub mod secretbox;
pub mod session;
pub mod stamped_pdf;
pub mod tenancy;
pub mod tokens;

pub use actor::Actor;
pub use config::{Secret, Settings};
pub use deps::Deps;
pub use error::{Error, Problem, Problems, Result, Why};
