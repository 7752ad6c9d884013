//! The HTTP side of identity: session cookies and the CSRF check. Sign-in, sessions, staff
//! accounts and identity providers are the `sportello_identity` crate's.

pub mod cookies;
pub mod csrf;
