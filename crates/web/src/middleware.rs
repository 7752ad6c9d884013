//! Cross-cutting request handling: request ids, logs and metrics (`observe`), and which commune a
//! request is for (`resolve_tenant`).

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};
use sportello_domain::Host;
use tracing::Instrument;

use crate::AppState;
use crate::routes::{ErrorPage, error_page};
use crate::tenancy::{Commune, Resolution};

/// The site a request is for, put in the request's extensions by [`resolve_tenant`].
#[derive(Clone)]
pub enum Site {
    Commune(Arc<Commune>),
    Federation,
    /// The shared sign-in host.
    Login,
}

/// The signed-in session of the request, put in the extensions by [`load_session`].
#[derive(Clone)]
pub struct SignedIn(pub Arc<sportello_kernel::session::Current>);

/// The scheme, host and port the client used, for links and redirects.
#[derive(Clone)]
pub struct Origin {
    pub scheme: String,
    pub port: Option<u16>,
}

impl Origin {
    pub fn url_for(&self, host: &str) -> String {
        match self.port {
            Some(p) => format!("{}://{host}:{p}", self.scheme),
            None => format!("{}://{host}", self.scheme),
        }
    }
}

pub struct HttpMetrics {
    requests: IntCounterVec,
    latency: HistogramVec,
    pub communes: IntGauge,
    /// Requests the authorization guard refused.
    pub authz_denied: prometheus::IntCounter,
}

impl HttpMetrics {
    /// The request metrics, registered on the node's registry (`Deps::metrics`).
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let requests = IntCounterVec::new(
            Opts::new(
                "sportello_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "sportello_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ]),
            &["route"],
        )?;
        let communes = IntGauge::new("sportello_communes", "Communes in the in-memory registry")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(communes.clone()))?;
        let authz_denied = prometheus::IntCounter::new(
            "sportello_authz_denied_total",
            "Console and API requests refused by the authorization guard",
        )?;
        registry.register(Box::new(authz_denied.clone()))?;
        Ok(Self {
            authz_denied,
            requests,
            latency,
            communes,
        })
    }
}

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_owned)
        // A v4 id from the thread's generator (no system call per request).
        .unwrap_or_else(|| {
            uuid::Builder::from_random_bytes(rand::random())
                .into_uuid()
                .simple()
                .to_string()
        })
}

/// This request's id (error pages show it, so that a person can quote it).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id `observe` gave this request.
    pub fn of(req: &impl HttpMessage) -> Option<String> {
        req.extensions().get::<RequestId>().map(|r| r.0.clone())
    }
}

/// Gives every request an id (echoed in `X-Request-Id`), a tracing span carrying the id and the
/// commune, one log line, and its place in the metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", id = %id, method = %req.method(), path = %req.path(), tenant = tracing::field::Empty);
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let elapsed = started.elapsed();
    let status = res.status();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    if let Some(state) = state {
        state
            .http_metrics
            .requests
            .with_label_values(&[route.as_str(), status.as_str()])
            .inc();
        state
            .http_metrics
            .latency
            .with_label_values(&[route.as_str()])
            .observe(elapsed.as_secs_f64());
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), v);
    }
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::error!(
                status = status.as_u16(),
                micros = elapsed.as_micros() as u64,
                "request failed"
            );
        } else {
            tracing::debug!(
                status = status.as_u16(),
                micros = elapsed.as_micros() as u64,
                "request"
            );
        }
    });
    Ok(res)
}

/// Paths that answer on any host: probes and assets.
fn host_independent(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/static/")
}

/// Resolves the commune from the host (see `Tenancy`): commune → its site; alias → 301 to the
/// same path on the primary host; apex → the federation site; unknown → 404; suspended → 503.
pub async fn resolve_tenant(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    if host_independent(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let peer = req.peer_addr().map(|a| a.ip());
    let host_header = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or(req.uri().host());
    let forwarded = req
        .headers()
        .get("x-forwarded-host")
        .and_then(|v| v.to_str().ok());
    let raw = state
        .tenancy
        .request_host(peer, host_header, forwarded)
        .unwrap_or("");
    let port = raw
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok());
    let origin = Origin {
        scheme: state.scheme.clone(),
        port,
    };
    let reg = state.tenancy.snapshot();
    let parsed = Host::parse(raw);
    let resolution = match &parsed {
        Ok(h) if *h == state.login_host => Resolution::Federation,
        Ok(h) => reg.resolve(h, &state.tenancy.apex),
        Err(_) => Resolution::Unknown,
    };
    let is_login = matches!(&parsed, Ok(h) if *h == state.login_host);
    let federation_url = origin.url_for(state.tenancy.apex.as_str());
    let site = match resolution {
        Resolution::Commune(c) => Site::Commune(c),
        // A commune being prepared: its console (and the console's assets) only.
        Resolution::Draft(c)
            if req.path().starts_with("/console") || req.path().starts_with("/static/") =>
        {
            Site::Commune(c)
        }
        Resolution::Draft(c) => {
            tracing::Span::current().record("tenant", c.record.slug.as_str());
            let page = ErrorPage {
                status: 503,
                title_key: "draft_title",
                message_key: "draft_message",
            };
            let lang = crate::routes::lang_of(req.request(), c.record.default_language);
            let res = error_page(&state, &req, lang, Some(&c), &federation_url, page);
            return Ok(req.into_response(res).map_into_right_body());
        }
        Resolution::Federation if is_login => Site::Login,
        Resolution::Federation => Site::Federation,
        Resolution::Redirect(primary) => {
            let pq = req
                .uri()
                .path_and_query()
                .map_or("/", |pq| pq.as_str())
                .to_owned();
            let to = format!("{}{pq}", origin.url_for(&primary));
            let res = HttpResponse::MovedPermanently()
                .insert_header((header::LOCATION, to))
                .finish();
            return Ok(req.into_response(res).map_into_right_body());
        }
        Resolution::Unknown => {
            let page = ErrorPage {
                status: 404,
                title_key: "unknown_host_title",
                message_key: "unknown_host_message",
            };
            let lang = crate::routes::lang_of(req.request(), sportello_domain::Language::It);
            let res = error_page(&state, &req, lang, None, &federation_url, page);
            return Ok(req.into_response(res).map_into_right_body());
        }
        Resolution::Suspended(c) => {
            tracing::Span::current().record("tenant", c.record.slug.as_str());
            let page = ErrorPage {
                status: 503,
                title_key: "suspended_title",
                message_key: "suspended_message",
            };
            let lang = crate::routes::lang_of(req.request(), c.record.default_language);
            let res = error_page(&state, &req, lang, Some(&c), &federation_url, page);
            return Ok(req.into_response(res).map_into_right_body());
        }
    };
    // One rule at the boundary: no control character in a path or a query, whoever the
    // handler (a NUL would reach a query on PostgreSQL and fail there).
    if control_in_target(req.path()) || control_in_target(req.query_string()) {
        let (lang, commune) = match &site {
            Site::Commune(c) => (
                crate::routes::lang_of(req.request(), c.record.default_language),
                Some(c.clone()),
            ),
            _ => (
                crate::routes::lang_of(req.request(), sportello_domain::Language::It),
                None,
            ),
        };
        let page = ErrorPage {
            status: 400,
            title_key: "bad_input_title",
            message_key: "bad_input_target",
        };
        let res = error_page(
            &state,
            &req,
            lang,
            commune.as_deref(),
            &federation_url,
            page,
        );
        return Ok(req.into_response(res).map_into_right_body());
    }
    drop(reg);
    if let Site::Commune(c) = &site {
        tracing::Span::current().record("tenant", c.record.slug.as_str());
    }
    req.extensions_mut().insert(site);
    req.extensions_mut().insert(origin);
    Ok(next.call(req).await?.map_into_left_body())
}

/// Finds the signed-in session for the request's site: the SSO session on the sign-in host, a
/// citizen session on a commune's pages, a staff session under `/console` and the back office's
/// API. No cookie, no query.
pub async fn load_session(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    use sportello_kernel::session::Kind;
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    let site = req.extensions().get::<Site>().cloned();
    // The path as the router decodes it (`/%63onsole` is the console), so that the session
    // found is the one the route matched will look for.
    // The back office's API takes the console's session too (a program uses a token).
    let console = req.match_info().as_str().starts_with("/console")
        || req.match_info().as_str().starts_with("/api/v1/office/")
        || req.match_info().as_str().starts_with("/api/v1/registry/");
    let (kind, commune) = match site {
        Some(Site::Commune(c)) if console => (Kind::Staff, Some(c.id())),
        Some(Site::Commune(c)) => (Kind::Citizen, Some(c.id())),
        Some(Site::Login) => (Kind::Sso, None),
        // Federation staff, on the apex host's console.
        Some(Site::Federation) if console => (Kind::Staff, None),
        _ => return next.call(req).await,
    };
    let token = req
        .cookie(state.sessions.cookie_name(kind))
        .map(|c| c.value().to_owned());
    if let Some(token) = token {
        match state
            .sessions
            .lookup(&state.store, &token, kind, commune)
            .await
        {
            Ok(Some(current)) => {
                req.extensions_mut().insert(SignedIn(current));
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "session lookup failed"),
        }
    }
    next.call(req).await
}

/// An error raised where no handler maps it (an extractor: a form's CSRF check or its fields)
/// becomes the product's own error page, or JSON error under `/api/`, in the page's language —
/// as a handler's error would — instead of the framework's plain text.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, Error> {
    use actix_web::FromRequest;
    let res = next.call(req).await?;
    let again = res
        .response()
        .error()
        .and_then(|e| e.as_error::<crate::error::AppError>())
        .and_then(crate::error::AppError::again);
    let Some(e) = again else {
        return Ok(res.map_into_boxed_body());
    };
    let (req, original) = res.into_parts();
    let ctx = match crate::routes::Ctx::from_request(&req, &mut actix_web::dev::Payload::None)
        .into_inner()
    {
        Ok(ctx) => ctx,
        Err(_) => return Ok(ServiceResponse::new(req, original.map_into_boxed_body())),
    };
    let mut page = ctx.respond(Err(e));
    // The guard's mark on its refusals stays on the page that replaces them.
    if let Some(v) = original.headers().get("x-sportello-denied") {
        page.headers_mut().insert(
            header::HeaderName::from_static("x-sportello-denied"),
            v.clone(),
        );
    }
    Ok(ServiceResponse::new(req, page))
}

/// The policy every page gets: only this origin's styles, fonts and images (inline style
/// attributes allowed: the commune's colour; data: images and fonts: Bootstrap Italia's icons),
/// no script at all (the portal needs none; the SAML POST binding's page sends its own
/// policy), no plugins, never framed.
pub const CSP: &str = "default-src 'self'; script-src 'none'; style-src 'self'; \
    style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/// Security headers on every answer (a handler's own, like the SAML POST page's policy, win):
/// the policy above, no MIME sniffing, referrers without paths to other sites, no framing for
/// old browsers, and HSTS when the portal is served over https.
pub fn security_headers(https: bool) -> actix_web::middleware::DefaultHeaders {
    let h = actix_web::middleware::DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CSP))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "strict-origin-when-cross-origin"))
        .add((header::X_FRAME_OPTIONS, "DENY"));
    if https {
        h.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"))
    } else {
        h
    }
}

/// Whether a request path or query, once percent-decoded, holds a control character (below
/// space, or DEL).
pub fn control_in_target(raw: &str) -> bool {
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let byte = if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    i += 2;
                    (h * 16 + l) as u8
                }
                _ => b[i],
            }
        } else {
            b[i]
        };
        if byte < 0x20 || byte == 0x7f {
            return true;
        }
        i += 1;
    }
    false
}
