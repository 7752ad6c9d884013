//! Routes: one module per area. Every handler is a line or two: extract, call, map.

mod account;
mod api;
mod api_cases;
mod cases;
mod console;
mod console_commune;
mod console_federation;
mod console_page;
pub(crate) mod contract;
mod demo_idp;
mod federation;
mod ids;
mod imu;
mod legal;
mod local_accounts;
mod oidc;
mod ops;
mod payments;
mod portal;
mod posted;
mod redo;
mod registry;
pub(crate) mod saml;
mod signin;
mod sms_reports;
mod stripe_webhook;
mod subscriptions;
pub mod table;
mod tickets;

use actix_web::{HttpRequest, HttpResponse, web};
use sportello_domain::Language;

use crate::error::AppError;

/// Every route; `demo`: also the demonstration identity provider (`serve --demo` only).
pub fn configure(cfg: &mut web::ServiceConfig, demo: bool) {
    let mut t = table::Table::new(cfg, demo);
    if demo {
        demo_idp::configure(&mut t);
    }
    ops::configure(&mut t);
    crate::authz::routes::configure(t.cfg());
    signin::configure(&mut t);
    oidc::configure(&mut t);
    saml::configure(&mut t);
    account::configure(&mut t);
    portal::configure(&mut t);
    legal::configure(&mut t);
    local_accounts::configure(&mut t);
    sms_reports::configure(&mut t);
    subscriptions::configure(&mut t);
    cases::configure(&mut t);
    payments::configure(&mut t);
    stripe_webhook::configure(&mut t);
    tickets::configure(&mut t);
    imu::configure(&mut t);
    registry::configure(&mut t);
    t.cfg().default_service(web::to(not_found));
    t.finish();
}

/// The console and API routes, each declared with what it needs (see [`crate::authz::routes`]).
pub(crate) fn guarded(r: &mut crate::authz::Routes) {
    console::routes(r);
    api::routes(r);
    api_cases::routes(r);
}

/// A route for GET and for HEAD alike (RFC 9110: what answers GET answers HEAD; the server
/// sends HEAD the same status and headers without the body).
pub(crate) fn get() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}

/// Nothing routed: 405 with `Allow` when the path exists for other methods, else 404 (the
/// path as the router decoded it, so every spelling of a route gets the route's answer).
async fn not_found(ctx: Ctx, req: HttpRequest, methods: web::Data<table::Methods>) -> HttpResponse {
    let host = match ctx.site {
        crate::middleware::Site::Commune(_) => table::on::COMMUNE,
        crate::middleware::Site::Federation => table::on::FEDERATION,
        crate::middleware::Site::Login => table::on::LOGIN,
    };
    match methods.allow(req.match_info().as_str(), host) {
        Some(allow) => ctx.respond(Err(AppError::MethodNotAllowed(allow))),
        None => ctx.respond(Err::<HttpResponse, _>(AppError::NotFound)),
    }
}

/// The page language from `?lang=` or the `lang` cookie, else `default`.
pub(crate) fn lang_of(req: &HttpRequest, default: Language) -> Language {
    let q = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok();
    let ql = q.as_ref().and_then(|q| q.get("lang")).map(String::as_str);
    let cookie = req.cookie("lang");
    crate::i18n::choose(ql, cookie.as_ref().map(|c| c.value()), default)
}

mod ctx;
mod respond;

pub use ctx::Ctx;
pub use posted::{Button, Posted};
pub use respond::{ErrorPage, error_page};

/// The current time on the communes' wall clocks.
pub fn local_now() -> chrono::NaiveDateTime {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Rome)
        .naive_local()
}
