//! The Sportello web application (actix-web): tenant resolution by host, the commune portal, the
//! federation portal, the JSON API, health and metrics.
//!
//! Handlers are thin: they extract, call the store through a [`sportello_store::TenantDb`] or
//! [`sportello_store::FederationDb`], and map the result to a page or JSON.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod charter_cache;
pub mod config;
pub mod error;
pub mod i18n;
mod middleware;
pub mod page_cache;
pub mod render;
mod routes;
pub mod tenancy;
pub mod views;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, dev::Server, web};
use sportello_domain::Host;
use sportello_store::Store;

pub use config::{Secret, Settings};

/// Everything handlers share.
pub struct AppState {
    pub store: Store,
    pub tenancy: Arc<tenancy::Tenancy>,
    pub render: render::Renderer,
    pub charters: charter_cache::CharterCache,
    pub pages: page_cache::PageCache,
    pub metrics: middleware::Metrics,
    pub federation_name: String,
    pub scheme: String,
}

/// A server bound and ready to run.
pub struct Running {
    pub server: Server,
    pub addr: std::net::SocketAddr,
}

/// Builds the application on an already-bound listener (tests bind port 0).
pub async fn start(
    settings: &Settings,
    store: Store,
    listener: TcpListener,
) -> Result<Running, String> {
    let apex = Host::parse(&settings.apex_host).map_err(|e| format!("apex_host: {e}"))?;
    let tenancy = tenancy::Tenancy::load(&store, apex, settings.trusted_proxies.clone())
        .await
        .map_err(|e| format!("loading the commune registry: {e}"))?;
    tenancy.spawn_refresher(
        store.clone(),
        Duration::from_millis(settings.registry_refresh_ms.max(50)),
    );
    let state = web::Data::new(AppState {
        store,
        tenancy,
        render: render::Renderer::new()?,
        charters: charter_cache::CharterCache::new(settings.charter_cache_communes),
        pages: page_cache::PageCache::new(Duration::from_secs(settings.page_cache_seconds), 20_000),
        metrics: middleware::Metrics::new().map_err(|e| format!("metrics: {e}"))?,
        federation_name: settings.federation_name.clone(),
        scheme: settings.public_scheme.clone(),
    });
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                error::AppError::BadRequest(format!("query string: {e}")).into()
            }))
            .configure(routes::configure)
            .wrap(actix_web::middleware::from_fn(middleware::resolve_tenant))
            .wrap(actix_web::middleware::from_fn(middleware::observe))
            .wrap(actix_web::middleware::Compress::default())
    })
    .listen(listener)
    .map_err(|e| format!("listen: {e}"))?
    .shutdown_timeout(5);
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    Ok(Running {
        server: server.run(),
        addr,
    })
}
