//! The services' own error: what went wrong, in domain terms. No HTTP here — the web layer
//! maps each variant to a status and a page (`sportello_web::error`), the CLI to a message.

/// Everything a service can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// What was asked for does not exist (or is not the caller's to see).
    #[error("not found")]
    NotFound,
    /// The input is wrong: which fields, and why (the interface says it in the person's words).
    #[error("{0}")]
    Invalid(Problems),
    /// The action exists only inside a commune.
    #[error("this exists only in a commune")]
    NeedsCommune,
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
    /// Our own fault (a template that does not render, a key that does not seal): logged,
    /// never shown.
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, Error>;

pub use sportello_domain::Why;

/// One refused field: its name in the form, why, and the part of the input at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The form field's name (`password`, `hours`); empty when the whole form is at fault.
    pub field: String,
    pub why: Why,
    pub arg: String,
}

/// Every refused field of one form, in the form's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn add(&mut self, field: &str, why: Why, arg: impl Into<String>) {
        self.0.push(Problem {
            field: field.to_owned(),
            why,
            arg: arg.into(),
        });
    }
    /// A field that failed to parse.
    pub fn parse(&mut self, field: &str, e: &sportello_domain::ParseError) {
        self.add(field, e.why, e.arg.clone());
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// `Ok` when nothing was refused, else the error.
    pub fn result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self))
        }
    }
    /// Whether a field was refused for this reason (tests).
    pub fn has(&self, field: &str, why: Why) -> bool {
        self.0.iter().any(|p| p.field == field && p.why == why)
    }
}

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", p.field, p.why.key())?;
            if !p.arg.is_empty() {
                write!(f, " ({:?})", p.arg)?;
            }
        }
        Ok(())
    }
}

impl Error {
    /// One field refused.
    pub fn invalid(field: &str, why: Why) -> Error {
        Error::invalid_at(field, why, "")
    }
    /// One field refused, naming the part of the input at fault.
    pub fn invalid_at(field: &str, why: Why, arg: impl Into<String>) -> Error {
        let mut p = Problems::default();
        p.add(field, why, arg);
        Error::Invalid(p)
    }
    /// A field that failed to parse.
    pub fn parse(field: &str) -> impl Fn(sportello_domain::ParseError) -> Error + '_ {
        move |e| Error::invalid_at(field, e.why, e.arg)
    }
    /// Whether this refuses `field` for `why` (tests).
    pub fn refuses(&self, field: &str, why: Why) -> bool {
        matches!(self, Error::Invalid(p) if p.has(field, why))
    }
}
