//! CSRF protection for every state-changing form: a random token in an HttpOnly, SameSite=Strict
//! cookie, and in each form a hidden field that is an HMAC (server key) of that token **and of
//! the browser's session cookies on this host** — plus an `Origin` check when the browser sends
//! one. A cross-site page can neither read the cookie nor forge the field; and a pair of cookie
//! and field learnt elsewhere (someone's own visit, a cookie planted by a sibling host) is worth
//! nothing in a browser that holds a session on that host, whose sessions differ. A browser with
//! no session at all has nothing to bind to but its token: there a planted pair would pass this
//! check, and the `Origin` check (and, over https, the `__Host-` prefix, which no sibling host can
//! set) are what stand. A form outlives neither a sign-in nor a sign-out on its host: the session
//! it was drawn for is gone.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;

use crate::error::AppError;
use sportello_kernel::secretbox::SecretBox;
use sportello_kernel::session::{Kind, Sessions};
use sportello_kernel::tokens;

/// The session cookies a form is bound to, in this order.
const KINDS: [Kind; 3] = [Kind::Sso, Kind::Citizen, Kind::Staff];

/// The session cookie names a form is bound to.
pub fn bound_cookies(sessions: &Sessions) -> [&'static str; 3] {
    KINDS.map(|k| sessions.cookie_name(k))
}

/// The form field for a cookie token and the values of the session cookies of
/// [`bound_cookies`] (absent: empty).
pub fn field(secrets: &SecretBox, token: &str, sessions: &[Option<String>; 3]) -> String {
    let [a, b, c] = sessions
        .each_ref()
        .map(|v| v.as_deref().unwrap_or("").as_bytes());
    secrets.mac("csrf", &[token.as_bytes(), a, b, c])
}

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

/// Checks a submitted form's field against the cookie and the sessions it came with, and the
/// `Origin` against the host.
pub fn check(
    req: &HttpRequest,
    secrets: &SecretBox,
    sessions: &Sessions,
    submitted: &str,
) -> Result<(), AppError> {
    let secure = sessions.secure_cookies;
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
    if cookie.len() != 43 || submitted.len() != 43 {
        return Err(refused());
    }
    let values = bound_cookies(sessions).map(|n| req.cookie(n).map(|c| c.value().to_owned()));
    let expected = field(secrets, &cookie, &values);
    if !tokens::constant_time_eq(expected.as_bytes(), submitted.as_bytes()) {
        return Err(refused());
    }
    Ok(())
}
