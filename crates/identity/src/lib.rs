//! Who someone is, and how they prove it: the service layer behind the sign-in pages. No HTTP
//! here — the web crate extracts, calls these, and sets cookies.
//!
//! - [`citizen`]: sign-in flows, the single sign-on session and hand-offs to communes, local
//!   accounts (register, confirm, reset);
//! - [`staff`]: staff invitations, password + TOTP sign-in, linking a fiscal code;
//! - [`idp`]: the identity providers (SAML, OpenID Connect, a commune's own, the demo one);
//! - [`password`], [`totp`], [`ratelimit`]: the primitives.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api_tokens;
pub mod citizen;
pub mod idp;
pub mod password;
pub mod ratelimit;
pub mod recovery;
pub mod staff;
pub mod totp;
