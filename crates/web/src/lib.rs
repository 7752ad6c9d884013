//! The Sportello web application (actix-web): tenant resolution by host, the commune portal, the
//! federation portal, the JSON API, health and metrics.
//!
//! This crate only speaks HTTP. Handlers are thin: they extract, call a capability's service
//! (`sportello_identity`, `sportello_charter`, `sportello_admin`) or read through a
//! [`sportello_store::TenantDb`], and map the result to a page or JSON. [`AppState`] is the
//! services' [`Deps`] plus what only the web needs (templates, page caches, sessions' cookies,
//! metrics); it dereferences to `Deps`, so `&state` is what a service takes.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod authz;
pub mod error;
pub mod i18n;
pub mod logs;
mod middleware;
pub mod page_cache;
mod ratings_cache;
pub mod render;
mod routes;
pub mod views;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, dev::Server, web};
use sportello_domain::Host;
use sportello_store::Store;

pub use routes::table::{Methods, registered as registered_routes};
pub use sportello_kernel::{Deps, Secret, Settings, config, tenancy};

use sportello_identity::{idp, ratelimit};

/// Everything handlers share: the services' [`Deps`], and what only the web needs.
pub struct AppState {
    pub deps: Deps,
    pub render: render::Renderer,
    pub charters: sportello_charter::CharterCache,
    pub pages: page_cache::PageCache,
    pub ratings: ratings_cache::RatingsCache,
    pub http_metrics: middleware::HttpMetrics,
    pub password_limiter: ratelimit::RateLimiter,
    /// Ticket orders per address per minute (each holds seats for a while).
    pub tickets_limiter: ratelimit::RateLimiter,
    pub oidc: idp::oidc::Oidc,
    /// The SAML service provider, when identity providers are configured.
    pub saml: Option<Arc<idp::saml::Saml>>,
}

impl std::ops::Deref for AppState {
    type Target = Deps;
    fn deref(&self) -> &Deps {
        &self.deps
    }
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
    settings.check()?;
    if settings.demo {
        tracing::warn!(
            "demo mode: the sign-in host offers the demonstration identity provider \
             (fictitious people, no credential)"
        );
    }
    let addr_port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let login_host = Host::parse(&settings.login_host()).map_err(|e| format!("login_host: {e}"))?;
    let login_base = public_base(settings, login_host.as_str(), addr_port);
    let deps = Deps::load(settings, store.clone(), login_base).await?;
    deps.spawn_pollers();
    spawn_purger(store);
    // This node's share of the outbox (settings.delivery.workers; on SQLite one).
    if settings.delivery.workers > 0 {
        sportello_notify::worker::Worker::start(&deps).await?;
    }
    // Payments Stripe left unsettled (a node died between Stripe's success and our record).
    if !settings.stripe.secret_key.expose().is_empty() && settings.stripe.sweep_every_ms > 0 {
        sportello_payments::online::sweep::spawn(
            deps.clone(),
            Duration::from_millis(settings.stripe.sweep_every_ms),
        );
        // Yesterday compared with Stripe each morning, on the same beat, in its own task.
        sportello_payments::nightly::spawn(
            deps.clone(),
            Duration::from_millis(settings.stripe.sweep_every_ms),
        );
    }
    let roots = idp::extra_roots(&settings.tls_ca_bundle)?;
    // The CA that certifies communes' signing keys, if any, is usable (else no start).
    sportello_population::pades::check_ca(settings)?;
    let saml = load_saml(settings, &login_host, addr_port, &roots).await?;
    if let Some(saml) = &saml {
        idp::certificates::watch(saml.idps.clone(), &deps.metrics.registry)?;
    }
    let http_metrics = middleware::HttpMetrics::new(&deps.metrics.registry)
        .map_err(|e| format!("metrics: {e}"))?;
    let state = web::Data::new(AppState {
        deps,
        render: render::Renderer::new()?,
        charters: sportello_charter::CharterCache::new(settings.charter_cache_communes),
        pages: page_cache::PageCache::new(
            Duration::from_secs(settings.page_cache_seconds),
            20_000,
            64 << 20,
        ),
        ratings: ratings_cache::RatingsCache::default(),
        http_metrics,
        password_limiter: ratelimit::RateLimiter::new(settings.login_attempts_per_minute),
        tickets_limiter: ratelimit::RateLimiter::new(settings.login_attempts_per_minute),
        oidc: idp::oidc::Oidc::new(&settings.oidc_providers, &roots)?,
        saml,
    });
    spawn_hourly_jobs(state.clone(), settings.clone(), addr_port);
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let demo = settings.demo;
    let https = settings.public_scheme == "https";
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            // Framework words stay in the log; the person reads the product's own.
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                tracing::debug!(error = %e, "query string refused");
                error::AppError::BadInput("bad_input_query").into()
            }))
            .app_data(
                web::FormConfig::default()
                    .limit(64 * 1024)
                    .error_handler(|e, _| {
                        tracing::debug!(error = %e, "form refused");
                        error::AppError::BadInput("bad_input_fields").into()
                    }),
            )
            .configure(|cfg| routes::configure(cfg, demo))
            .wrap(actix_web::middleware::from_fn(middleware::render_errors))
            .wrap(actix_web::middleware::from_fn(middleware::load_session))
            .wrap(actix_web::middleware::from_fn(middleware::resolve_tenant))
            .wrap(actix_web::middleware::from_fn(middleware::observe))
            .wrap(middleware::security_headers(https))
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

/// Deletes expired sessions, codes and pending sign-ins every few minutes (the first time one
/// period after start: a node starting is busy enough, and what expired waits harmlessly).
fn spawn_purger(store: Store) {
    tokio::spawn(async move {
        let every = Duration::from_secs(300);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tick.tick().await;
            if let Err(e) = store
                .identity()
                .purge_expired(sportello_store::now_micros())
                .await
            {
                tracing::warn!(error = %e, "purging expired sessions failed");
            }
        }
    });
}

/// Runs `pass` for every commune every hour (the first time one period after start: a node
/// starting is busy enough), each commune's error logged as `what`.
fn every_hour_per_commune<F, Fut>(
    state: web::Data<AppState>,
    settings: Settings,
    port: u16,
    what: &'static str,
    pass: F,
) where
    F: Fn(web::Data<AppState>, sportello_domain::TenantId, String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = sportello_kernel::Result<()>> + Send,
{
    tokio::spawn(async move {
        let every = Duration::from_secs(3600);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tick.tick().await;
            let communes: Vec<_> = state.tenancy.snapshot().communes.clone();
            for c in communes {
                let base = public_base(&settings, &c.record.primary_host, port);
                if let Err(e) = pass(state.clone(), c.id(), base).await {
                    tracing::warn!(error = %e, commune = c.id().0, "{what} failed");
                }
            }
        }
    });
}

/// Old drafts (told a month before, deleted a year after their last change:
/// `sportello_cases::expiry`) and declarations of residence whose police check ended without a
/// decision, accepted by law (`sportello_population::residence::tacit`); and, in a task of its
/// own (a long pass never delays those legal acceptances), identity cards six months from
/// expiry told to their holders (`sportello_population::reminders`).
fn spawn_hourly_jobs(state: web::Data<AppState>, settings: Settings, port: u16) {
    let (s, t) = (state.clone(), settings.clone());
    every_hour_per_commune(
        s,
        t,
        port,
        "expiring old drafts",
        |state, c, base| async move {
            // Each its own: one failing neither keeps the other from running nor hides it.
            let today = sportello_population::today();
            if let Err(e) = sportello_population::residence::tacit(&state, c, today, &base).await {
                tracing::warn!(error = %e, commune = c.0,
                    "tacit acceptance of declarations of residence failed");
            }
            let now = sportello_store::now_micros();
            sportello_cases::expiry::expire(&state, c, now, &base)
                .await
                .map(|_| ())
        },
    );
    every_hour_per_commune(
        state,
        settings,
        port,
        "identity card reminders",
        |state, c, base| async move {
            let today = sportello_population::today();
            sportello_population::reminders::remind(&state, c, today, &base)
                .await
                .map(|_| ())
        },
    );
}

/// The SAML service provider: its key pair (configured PEM files, or generated for development),
/// its URLs on the sign-in host, and the identity providers' metadata (refused without a signing
/// certificate). `None` when neither an identity provider nor the SP's own key is configured (a
/// deployment with its key serves its metadata before any IdP is added: SPID registers the SP
/// first).
async fn load_saml(
    settings: &Settings,
    login_host: &Host,
    listening_port: u16,
    roots: &[reqwest::Certificate],
) -> Result<Option<Arc<idp::saml::Saml>>, String> {
    if settings.saml_idps.trim().is_empty() && settings.saml_sp_key.is_empty() {
        return Ok(None);
    }
    let port = match settings.public_port {
        0 => listening_port,
        p => p,
    };
    let base = public_base(settings, login_host.as_str(), listening_port);
    let entity_id = format!("{base}/saml/metadata");
    let (key_pem, cert_pem) = if settings.saml_sp_key.is_empty() {
        tracing::warn!("no saml_sp_key configured: using a key pair generated for this run");
        idp::saml::Saml::generate_sp_keypair(
            &entity_id,
            &settings.federation_name,
            &settings.ipa_code,
        )?
    } else {
        (
            std::fs::read_to_string(&settings.saml_sp_key)
                .map_err(|e| format!("saml_sp_key {}: {e}", settings.saml_sp_key))?,
            std::fs::read_to_string(&settings.saml_sp_cert)
                .map_err(|e| format!("saml_sp_cert {}: {e}", settings.saml_sp_cert))?,
        )
    };
    let apex_port = match port {
        80 | 443 => String::new(),
        p => format!(":{p}"),
    };
    let sp = idp::saml::SpConfig {
        entity_id,
        acs_url: format!("{base}/saml/acs"),
        slo_url: format!("{base}/saml/slo"),
        org_name: settings.federation_name.clone(),
        org_url: format!(
            "{}://{}{apex_port}",
            settings.public_scheme, settings.apex_host
        ),
        ipa_code: settings.ipa_code.clone(),
        contact_email: settings.contact_email.clone(),
        key_pem,
        cert_pem,
    };
    Ok(Some(Arc::new(
        idp::saml::Saml::load(
            &settings.saml_idps,
            sp,
            &settings.saml_idps_accept_expired,
            roots,
        )
        .await?,
    )))
}

/// `scheme://host[:port]` as the public reaches it: the configured public port, else the
/// listening one; 80 and 443 are left out.
fn public_base(settings: &Settings, host: &str, listening_port: u16) -> String {
    let port = match settings.public_port {
        0 => listening_port,
        p => p,
    };
    match port {
        80 | 443 => format!("{}://{host}", settings.public_scheme),
        p => format!("{}://{host}:{p}", settings.public_scheme),
    }
}
