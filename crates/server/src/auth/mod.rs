//! Identity and sessions: the service layer behind the sign-in pages. Handlers call these; the
//! checks live here, not in handlers.

pub mod citizen;
pub mod csrf;
pub mod mail;
pub mod password;
pub mod ratelimit;
pub mod secretbox;
pub mod session;
pub mod staff;
pub mod tokens;
pub mod totp;
