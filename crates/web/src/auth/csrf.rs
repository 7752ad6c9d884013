//! CSRF protection for every state-changing form: a random token in an HttpOnly, SameSite=Strict
//! cookie, echoed in a hidden field (double submit), plus an `Origin` check when the browser
//! sends one. A cross-site page can neither read the cookie nor forge the field.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;

use crate::error::AppError;
use sportello_kernel::tokens;

pub const FIELD: &str = "csrf";

fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-sportello_csrf"
    } else {
        "sportello_csrf"
    }
}

/// The token the browser already has, if any.
pub fn existing(req: &HttpRequest, secure: bool) -> Option<String> {
    req.cookie(cookie_name(secure))
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43)
}

/// The cookie carrying a new token.
pub fn cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build(cookie_name(secure), token)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish()
}

/// Checks a submitted form's token against the cookie and the `Origin` against the host.
pub fn check(req: &HttpRequest, secure: bool, submitted: &str) -> Result<(), AppError> {
    let refused = || AppError::Refused("form_expired");
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        // The host the browser used (behind a trusted proxy: its X-Forwarded-Host).
        let header_str = |name| {
            req.headers()
                .get(name)
                .and_then(|h: &header::HeaderValue| h.to_str().ok())
        };
        let host = match req.app_data::<actix_web::web::Data<crate::AppState>>() {
            Some(state) => state
                .tenancy
                .request_host(
                    req.peer_addr().map(|a| a.ip()),
                    header_str(header::HOST.as_str()),
                    header_str("x-forwarded-host"),
                )
                .unwrap_or(""),
            None => header_str(header::HOST.as_str()).unwrap_or(""),
        };
        let origin_host = origin.split_once("://").map_or("", |(_, h)| h);
        if origin == "null" || !origin_host.eq_ignore_ascii_case(host) {
            return Err(refused());
        }
    }
    let cookie = req
        .cookie(cookie_name(secure))
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if cookie.len() != 43 || !tokens::constant_time_eq(cookie.as_bytes(), submitted.as_bytes()) {
        return Err(refused());
    }
    Ok(())
}
