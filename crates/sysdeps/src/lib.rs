//! Nothing to call: this crate exists for its build script (`build.rs`), which checks that the
//! system libraries the SAML build needs are installed and, when they are not, stops the build
//! with the one command that installs them, instead of a bindgen backtrace from samael's build.
//!
//! `sportello-web` depends on it, so the check runs in every build that compiles samael; it
//! has no dependencies of its own, so cargo runs it within the first seconds, long before
//! samael's build script (which waits for bindgen to compile).
