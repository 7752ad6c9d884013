//! Who may do what, on the web side: every console and API route is declared once, with what
//! it needs, through [`routes::Routes`] — the same declaration registers the handler with actix
//! and wraps it in the guard that checks the request (on the route the router matched, so no
//! spelling of its path can skip the check). Handlers receive the [`Actor`] the guard admitted.
//! The declarations can be listed ([`routes::declared`]) for the permission-matrix test.
//!
//! Also here ([`policies`]): loading the node's [`Policies`] from the store and keeping them
//! current — a change made on this node is applied before its response; other nodes replay the
//! numbered `policy_changes` every poll tick.

pub mod policies;
pub mod routes;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use sportello_authz::{Action, Object, Subject};
use sportello_store::staff::Realm;

use crate::AppState;
use crate::error::AppError;

pub use policies::{PolicySync, commune_policy, load, reload_commune, reload_federation};
pub use routes::{Declared, Need, Needs, On, Routes, declared};

/// Who the middleware admitted to a staff route.
#[derive(Debug, Clone)]
pub struct Actor {
    pub realm: Realm,
    /// The staff account id (a federation account's for federation staff, also as support).
    pub staff_id: String,
    pub name: String,
    pub email: String,
    /// Federation staff (on the apex, or inside a commune through a support grant).
    pub federation: bool,
}

impl Actor {
    /// How the audit log names the actor.
    pub fn audit_name(&self) -> String {
        if self.federation {
            format!("federation:{}", self.staff_id)
        } else {
            format!("staff:{}", self.staff_id)
        }
    }

    pub fn subject(&self) -> Subject<'_> {
        if self.federation {
            Subject::FederationStaff(&self.staff_id)
        } else {
            Subject::Staff(&self.staff_id)
        }
    }

    /// Whether the enforcer allows this actor `act` on `obj` here (for what a page offers).
    pub async fn may(&self, state: &AppState, obj: Object, act: Action) -> bool {
        state
            .policies
            .allows(
                self.subject(),
                self.realm.commune(),
                obj,
                act,
                sportello_store::now_micros(),
            )
            .await
    }
}

impl FromRequest for Actor {
    type Error = Error;
    type Future = Ready<Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Actor>()
                .cloned()
                .ok_or_else(|| AppError::Forbidden("no permission for this page".into()).into()),
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
