//! The services' own error: what went wrong, in domain terms. No HTTP here — the web layer
//! maps each variant to a status and a page (`sportello_web::error`), the CLI to a message.

/// Everything a service can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// What was asked for does not exist (or is not the caller's to see).
    #[error("not found")]
    NotFound,
    /// The input is wrong; the message says which field and how.
    #[error("{0}")]
    Invalid(String),
    /// The action exists only inside a commune.
    #[error("this exists only in a commune")]
    NeedsCommune,
    /// Refused, with words the user can act on.
    #[error("{0}")]
    Forbidden(String),
    /// Refused, with the key of its text in `web/i18n/ui.toml` (translated by the UI).
    #[error("refused: {0}")]
    Refused(&'static str),
    /// A sign-in answer that was not accepted; the detail is technical.
    #[error("sign-in refused: {0}")]
    SignInRefused(String),
    /// The identity provider said it did not authenticate the person; its words follow.
    #[error("the identity provider did not sign you in: {0}")]
    IdpSaidNo(String),
    /// Too many attempts from one address.
    #[error("too many attempts: please wait a minute and try again")]
    TooManyAttempts,
    /// Something outside us failed (an identity provider, the mail server).
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Store(#[from] sportello_store::StoreError),
}

pub type Result<T> = std::result::Result<T, Error>;
