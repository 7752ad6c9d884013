//! The one error type of the request path and its explicit HTTP mapping. Pages get the error
//! page; `/api/` paths get a JSON body.

use actix_web::http::StatusCode;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// The path exists, not for this method: the `Allow` header's value.
    #[error("method not allowed (allowed: {0})")]
    MethodNotAllowed(String),
    /// The request was understood but its input is wrong; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// A form's fields were refused: which, and why (answered with the form again where the
    /// handler can, else with the reasons in the person's words).
    #[error("{0}")]
    Invalid(sportello_kernel::Problems),
    #[error("this page exists only on a commune's site")]
    NeedsCommune,
    /// A refusal the user can act on: the key of its text in `web/i18n/ui.toml`.
    #[error("refused: {0}")]
    Refused(&'static str),
    /// A sign-in answer that was not accepted; the detail is technical (shown after a
    /// translated lead, and logged).
    #[error("sign-in refused: {0}")]
    SignInRefused(String),
    /// The identity provider said it did not authenticate the person; its words follow.
    #[error("the identity provider did not sign you in: {0}")]
    IdpSaidNo(String),
    /// Input that cannot be right (control characters in a path, query or form): the key of
    /// its text in `web/i18n/ui.toml`.
    #[error("bad input: {0}")]
    BadInput(&'static str),
    /// A query parameter with a value its page or the API document does not allow: its name.
    #[error("bad parameter: {0}")]
    BadParam(String),
    /// Too many attempts from this address: wait a minute.
    #[error("too many attempts: please wait a minute and try again")]
    TooManyRequests,
    /// An API call that needs a signed-in person: the key of its text.
    #[error("sign in first: {0}")]
    Unauthorized(&'static str),
    /// Something outside us failed (an identity provider, the mail server).
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Store(#[from] sportello_store::StoreError),
    #[error("template: {0}")]
    Template(#[from] minijinja::Error),
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound | AppError::NeedsCommune => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::BadRequest(_)
            | AppError::Invalid(_)
            | AppError::BadInput(_)
            | AppError::BadParam(_) => StatusCode::BAD_REQUEST,
            AppError::Refused(_) | AppError::SignInRefused(_) | AppError::IdpSaidNo(_) => {
                StatusCode::FORBIDDEN
            }
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
            AppError::Store(sportello_store::StoreError::Invalid(_)) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Store(_) | AppError::Template(_) | AppError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound | AppError::NeedsCommune => "not_found",
            AppError::MethodNotAllowed(_) => "method_not_allowed",
            AppError::BadRequest(_) | AppError::BadInput(_) | AppError::BadParam(_) => {
                "bad_request"
            }
            AppError::Invalid(_) => "invalid",
            AppError::Refused(_) | AppError::SignInRefused(_) | AppError::IdpSaidNo(_) => {
                "forbidden"
            }
            AppError::TooManyRequests => "too_many_requests",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Upstream(_) => "upstream",
            AppError::Store(sportello_store::StoreError::Invalid(_)) => "invalid",
            AppError::Store(_) | AppError::Template(_) | AppError::Internal(_) => "internal",
        }
    }

    /// What the user may read: internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Store(_) | AppError::Template(_) | AppError::Internal(_)
                if self.status().is_server_error() =>
            {
                "Something went wrong on our side. Please try again later.".into()
            }
            other => other.to_string(),
        }
    }
}

impl AppError {
    /// The same error again, for an answer rendered away from where it was raised (an
    /// extractor's error, made into a page by the `render_errors` middleware); `None` for
    /// errors that carry a source (store, template), which stay as they are.
    pub fn again(&self) -> Option<AppError> {
        Some(match self {
            AppError::NotFound => AppError::NotFound,
            AppError::MethodNotAllowed(a) => AppError::MethodNotAllowed(a.clone()),
            AppError::BadRequest(s) => AppError::BadRequest(s.clone()),
            AppError::BadInput(k) => AppError::BadInput(k),
            AppError::BadParam(n) => AppError::BadParam(n.clone()),
            AppError::NeedsCommune => AppError::NeedsCommune,
            AppError::Invalid(p) => AppError::Invalid(p.clone()),
            AppError::Refused(k) => AppError::Refused(k),
            AppError::SignInRefused(s) => AppError::SignInRefused(s.clone()),
            AppError::IdpSaidNo(s) => AppError::IdpSaidNo(s.clone()),
            AppError::TooManyRequests => AppError::TooManyRequests,
            AppError::Unauthorized(k) => AppError::Unauthorized(k),
            AppError::Upstream(s) => AppError::Upstream(s.clone()),
            AppError::Internal(s) => AppError::Internal(s.clone()),
            AppError::Store(_) | AppError::Template(_) => return None,
        })
    }
}

/// Errors become responses in the `errors` middleware (it knows the page's language and host);
/// this fallback only runs outside it.
impl actix_web::ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// A service's error, as the request path answers it.
impl From<sportello_kernel::Error> for AppError {
    fn from(e: sportello_kernel::Error) -> Self {
        use sportello_kernel::Error as E;
        match e {
            E::NotFound => AppError::NotFound,
            E::Invalid(p) => AppError::Invalid(p),
            E::NeedsCommune => AppError::NeedsCommune,
            E::Refused(k) => AppError::Refused(k),
            E::SignInRefused(s) => AppError::SignInRefused(s),
            E::IdpSaidNo(s) => AppError::IdpSaidNo(s),
            E::TooManyAttempts => AppError::TooManyRequests,
            E::Upstream(s) => AppError::Upstream(s),
            E::Store(s) => AppError::Store(s),
            E::Internal(s) => AppError::Internal(s),
        }
    }
}
