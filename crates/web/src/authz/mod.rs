//! Who may do what, on the web side: every console and API route is declared once, with what
//! it needs, through [`routes::Routes`] — the same declaration registers the handler with actix
//! and wraps it in the guard that checks the request (on the route the router matched, so no
//! spelling of its path can skip the check). Handlers receive the [`Actor`] the guard admitted.
//! The declarations can be listed ([`routes::declared`]) for the permission-matrix test.
//!
//! The node's policies (loading, keeping current) are `sportello_kernel::policies`: services
//! apply their own changes before returning.

pub mod routes;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, HttpResponse};
pub use sportello_kernel::Actor;

use crate::error::AppError;

pub use routes::{Declared, Need, Needs, On, Routes, declared};

/// The staff member the guard admitted to this route (a handler's extractor; the services take
/// the [`Actor`] inside).
#[derive(Debug, Clone)]
pub struct Admitted(pub Actor);

impl std::ops::Deref for Admitted {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.0
    }
}

impl FromRequest for Admitted {
    type Error = Error;
    type Future = Ready<Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Actor>()
                .cloned()
                .map(Admitted)
                .ok_or_else(|| AppError::Refused("console_not_admitted").into()),
        )
    }
}

/// Marks a refusal as the guard's (`X-Sportello-Denied`), so that logs, proxies and tests can
/// tell it from a handler's own answer.
pub(crate) fn refusal(why: &'static str, mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static("x-sportello-denied"),
        actix_web::http::header::HeaderValue::from_static(why),
    );
    res
}

#[cfg(test)]
#[path = "../tests/authz.rs"]
mod tests;
