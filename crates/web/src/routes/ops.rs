//! Probes, metrics and static assets: they answer on any host.

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, web};
use prometheus::Encoder;

use crate::AppState;
use crate::render::Static;

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::ANY)
        .get("/healthz", healthz)
        .get("/readyz", readyz)
        .get("/metrics", metrics);
    // A prefix, not a `{path:.*}` pattern: every other request is matched against the routes
    // registered before its own, and a pattern costs a regex run each time.
    t.cfg()
        .service(web::scope("/static").default_service(web::to(asset)));
}

/// The process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body("ok")
}

/// The database answers.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok()
            .content_type(ContentType::plaintext())
            .body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            HttpResponse::ServiceUnavailable()
                .content_type(ContentType::plaintext())
                .body("database unreachable")
        }
    }
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    state
        .http_metrics
        .communes
        .set(state.tenancy.snapshot().len() as i64);
    let mut buf = Vec::new();
    match prometheus::TextEncoder::new().encode(&state.metrics.registry.gather(), &mut buf) {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4")
            .body(buf),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

async fn asset(req: actix_web::HttpRequest) -> HttpResponse {
    if req.method() != actix_web::http::Method::GET && req.method() != actix_web::http::Method::HEAD
    {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .finish();
    }
    // What follows `/static/`, as the router decoded it.
    let path = req.match_info().unprocessed().trim_start_matches('/');
    match Static::get(path) {
        Some(file) => HttpResponse::Ok()
            .content_type(file.metadata.mimetype())
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(match file.data {
                std::borrow::Cow::Borrowed(b) => web::Bytes::from_static(b),
                std::borrow::Cow::Owned(v) => web::Bytes::from(v),
            }),
        None => HttpResponse::NotFound()
            .content_type(ContentType::plaintext())
            .body("not found"),
    }
}
