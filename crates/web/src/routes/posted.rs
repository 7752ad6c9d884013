//! [`Posted`]: a form posted from one of our pages. The extractor checks the CSRF token (the
//! `csrf` field against the browser's cookie, and the `Origin`) before the handler runs, then
//! gives the handler the form's fields as `T` — so no state-changing handler can forget the
//! check, and the types handlers pass on carry no token.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::csrf;
use crate::error::AppError;

/// The largest form accepted (the console's longest texts fit many times over).
pub const LIMIT: usize = 64 * 1024;

/// A CSRF-checked form; dereferences to its fields.
pub struct Posted<T> {
    fields: T,
    /// The fields as sent (but the token), to give them back with a refused form.
    pairs: Vec<(String, String)>,
}

impl<T> Deref for Posted<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.fields
    }
}

impl<T> Posted<T> {
    /// The fields as sent, but the token and passwords (never sent back to the browser).
    pub fn values(&self) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .filter(|(k, _)| k != "csrf" && !k.starts_with("password"))
            .cloned()
            .collect()
    }
}

/// A form with no field but its token (sign-out, remove, revoke buttons).
#[derive(Debug, Deserialize)]
pub struct Button {}

#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + 'static> FromRequest for Posted<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let urlencoded = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            if !urlencoded {
                return Err(AppError::BadInput("bad_input_fields").into());
            }
            let body = body
                .await
                .map_err(|_| AppError::BadInput("bad_input_too_large"))?;
            if body.len() > LIMIT {
                return Err(AppError::BadInput("bad_input_too_large").into());
            }
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or(AppError::Refused("form_expired"))?;
            let token: Token = serde_urlencoded::from_bytes(&body).unwrap_or(Token {
                csrf: String::new(),
            });
            csrf::check(&req, &state.secrets, &state.sessions, &token.csrf)?;
            let refused = |e: serde_urlencoded::de::Error| {
                tracing::debug!(error = %e, "form refused");
                AppError::BadInput("bad_input_fields")
            };
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).map_err(refused)?;
            if pairs.iter().any(|(k, v)| has_control(k) || has_control(v)) {
                return Err(AppError::BadInput("bad_input_form").into());
            }
            let fields = serde_urlencoded::from_bytes(&body).map_err(refused)?;
            Ok(Posted { fields, pairs })
        })
    }
}

/// Control characters no person types into a form: everything below space and DEL, except tab
/// and line ends (a long text has lines).
pub fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}')
}
