//! Routes: one module per area. Every handler is a line or two: extract, call, map.

mod account;
mod api;
mod console;
mod console_commune;
mod console_federation;
mod console_page;
mod demo_idp;
mod federation;
mod oidc;
mod ops;
mod portal;
mod posted;
pub(crate) mod saml;
mod signin;

use crate::auth::cookies::SessionCookies;
use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::http::header::{self, ContentType};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use minijinja::Value;
use serde_json::{Map, json};
use sportello_domain::{Language, LifeEvent};

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::middleware::{Origin, Site};
use crate::page_cache::PageKey;
use crate::tenancy::Commune;
use crate::views::CommuneView;

/// Every route; `demo`: also the demonstration identity provider (`serve --demo` only).
pub fn configure(cfg: &mut web::ServiceConfig, demo: bool) {
    if demo {
        demo_idp::configure(cfg);
    }
    ops::configure(cfg);
    crate::authz::routes::configure(cfg);
    signin::configure(cfg);
    oidc::configure(cfg);
    saml::configure(cfg);
    account::configure(cfg);
    portal::configure(cfg);
    cfg.default_service(web::to(not_found));
}

/// The console and API routes, each declared with what it needs (see [`crate::authz::routes`]).
pub(crate) fn guarded(r: &mut crate::authz::Routes) {
    console::routes(r);
    api::routes(r);
}

async fn not_found(ctx: Ctx) -> HttpResponse {
    ctx.respond(Err::<HttpResponse, _>(AppError::NotFound))
}

/// The page language from `?lang=` or the `lang` cookie, else `default`.
pub(crate) fn lang_of(req: &HttpRequest, default: Language) -> Language {
    let q = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok();
    let ql = q.as_ref().and_then(|q| q.get("lang")).map(String::as_str);
    let cookie = req.cookie("lang");
    crate::i18n::choose(ql, cookie.as_ref().map(|c| c.value()), default)
}

/// What every handler starts from: the state, the site (commune or federation), the language.
pub struct Ctx {
    pub state: web::Data<AppState>,
    pub site: Site,
    pub origin: Origin,
    pub lang: Language,
    path: String,
    /// `?lang=` was given: remember it in a cookie.
    remember_lang: bool,
    api: bool,
    /// Where this page's rendering is cached (commune pages other than search).
    page_key: Option<PageKey>,
    /// The signed-in session, if any.
    pub user: Option<Arc<sportello_kernel::session::Current>>,
    /// The client's address (rate limits, audit).
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
    /// The CSRF token from the cookie, or one made for this response (then the cookie is set).
    csrf: std::cell::RefCell<(Option<String>, bool)>,
    /// A form was rendered: the response must not be stored by caches (it carries a token).
    csrf_used: std::cell::Cell<bool>,
    /// Cookies this response sets (sessions, flows).
    cookies: std::cell::RefCell<Vec<Cookie<'static>>>,
}

pub use posted::{Button, Posted};

/// Commune pages whose rendering may be cached: the public charter pages, and the JSON API's
/// lists and records of the charter (not its search).
fn cacheable(path: &str) -> bool {
    (path == "/"
        || path.starts_with("/servizi")
        || path.starts_with("/uffici")
        || path.starts_with("/personale")
        || path.starts_with("/api/v1/services")
        || path.starts_with("/api/v1/offices")
        || path.starts_with("/api/v1/staff"))
        && !path.ends_with("/avvia")
}

impl FromRequest for Ctx {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return ready(Err(actix_web::error::ErrorInternalServerError(
                "application state missing",
            )));
        };
        // Release the borrow of the extensions before reading cookies (they cache themselves there).
        let (site, origin, user) = {
            let ext = req.extensions();
            let site = ext.get::<Site>().cloned().unwrap_or(Site::Federation);
            let origin = ext.get::<Origin>().cloned().unwrap_or(Origin {
                scheme: state.scheme.clone(),
                port: None,
            });
            let user = ext
                .get::<crate::middleware::SignedIn>()
                .map(|s| s.0.clone());
            (site, origin, user)
        };
        let default = match &site {
            Site::Commune(c) => c.record.default_language,
            Site::Federation | Site::Login => Language::It,
        };
        let mut lang = lang_of(req, default);
        // A commune offers only the languages it chose.
        if let Site::Commune(c) = &site
            && !c.record.languages.contains(&lang)
        {
            lang = default;
        }
        let csrf = crate::auth::csrf::existing(req, state.sessions.secure_cookies);
        let page_key = match &site {
            // Judged on the path as the router decodes it (`/avvi%61` is `/avvia`).
            Site::Commune(c) if cacheable(req.match_info().as_str()) => Some(PageKey {
                tenant: c.id(),
                origin: (origin.scheme == "https", origin.port),
                version: c.record.version,
                lang,
                path_and_query: req
                    .uri()
                    .path_and_query()
                    .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned()),
            }),
            _ => None,
        };
        ready(Ok(Ctx {
            page_key,
            user,
            ip: state.tenancy.client_ip(
                req.peer_addr().map(|a| a.ip()),
                req.headers()
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok()),
            ),
            user_agent: req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            csrf: std::cell::RefCell::new((csrf, false)),
            csrf_used: std::cell::Cell::new(false),
            cookies: std::cell::RefCell::new(Vec::new()),
            lang,
            remember_lang: req.query_string().contains("lang="),
            api: req.path().starts_with("/api/"),
            path: req.path().to_owned(),
            state,
            site,
            origin,
        }))
    }
}

impl Ctx {
    pub fn commune(&self) -> AppResult<&Arc<Commune>> {
        match &self.site {
            Site::Commune(c) => Ok(c),
            Site::Federation | Site::Login => Err(AppError::NeedsCommune),
        }
    }

    /// Whose staff this host's console is for: the commune's, or the federation's on the apex.
    pub fn realm(&self) -> AppResult<sportello_store::staff::Realm> {
        match &self.site {
            Site::Commune(c) => Ok(sportello_store::staff::Realm::Commune(c.id())),
            Site::Federation => Ok(sportello_store::staff::Realm::Federation),
            Site::Login => Err(AppError::NotFound),
        }
    }

    /// Succeeds only on the sign-in host.
    pub fn on_login_host(&self) -> AppResult<()> {
        match self.site {
            Site::Login => Ok(()),
            _ => Err(AppError::NotFound),
        }
    }

    /// `scheme://<sign-in host>[:port]` + `path`.
    pub fn login_url(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.origin.url_for(self.state.login_host.as_str())
        )
    }

    /// The CSRF token for this page's forms (sets the cookie if the browser had none).
    /// An interface string in the page's language (`web/i18n/ui.toml`).
    pub fn t(&self, key: &'static str) -> &str {
        self.state.render.strings.get(self.lang, key)
    }

    /// An interface string with its `{}` slots filled in order.
    pub fn tf(&self, key: &'static str, args: &[&dyn std::fmt::Display]) -> String {
        let mut out = String::new();
        let mut args = args.iter();
        let mut parts = self.t(key).split("{}").peekable();
        while let Some(part) = parts.next() {
            out.push_str(part);
            if parts.peek().is_some()
                && let Some(a) = args.next()
            {
                out.push_str(&a.to_string());
            }
        }
        out
    }

    pub fn csrf_token(&self) -> String {
        self.csrf_used.set(true);
        let mut c = self.csrf.borrow_mut();
        if let Some(t) = &c.0 {
            return t.clone();
        }
        let t = sportello_kernel::tokens::new_token();
        *c = (Some(t.clone()), true);
        t
    }

    /// Sets a cookie on this response.
    pub fn set_cookie(&self, c: Cookie<'static>) {
        self.cookies.borrow_mut().push(c);
    }

    /// A 303 to `location` (after a form, or a step of a sign-in).
    pub fn see_other(&self, location: &str) -> HttpResponse {
        self.respond(Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()))
    }

    /// What the user reads about an error, in the page's language (`None`: the generic text of
    /// its status).
    pub fn message_of(&self, e: &AppError) -> Option<String> {
        let s = &self.state.render.strings;
        match e {
            AppError::Refused(key) => Some(s.get(self.lang, key).to_owned()),
            AppError::SignInRefused(why) => {
                Some(format!("{}: {why}", s.get(self.lang, "sign_in_refused")))
            }
            AppError::IdpSaidNo(words) => {
                Some(format!("{}: {words}", s.get(self.lang, "idp_said_no")))
            }
            AppError::BadRequest(_) | AppError::Forbidden(_) | AppError::Upstream(_) => {
                Some(e.to_string())
            }
            _ => None,
        }
    }

    /// Sets the cookie of a new session of `kind` and sends the browser on to `to`.
    pub fn start_session(
        &self,
        kind: sportello_kernel::session::Kind,
        token: String,
        to: &str,
    ) -> HttpResponse {
        let sessions = &self.state.sessions;
        self.set_cookie(sessions.cookie(sessions.cookie_name(kind), token));
        self.see_other(to)
    }

    /// A citizen signed in on this commune, or `None`.
    pub fn citizen(&self) -> Option<&Arc<sportello_kernel::session::Current>> {
        self.user
            .as_ref()
            .filter(|u| u.kind == sportello_kernel::session::Kind::Citizen)
    }

    pub fn federation_url(&self) -> String {
        self.origin.url_for(self.state.tenancy.apex.as_str())
    }

    pub fn base_url(&self) -> AppResult<String> {
        Ok(self.origin.url_for(&self.commune()?.record.primary_host))
    }

    /// The context every page gets (see web/templates/CONTEXT.md).
    fn base_context(&self) -> Map<String, serde_json::Value> {
        let commune = match &self.site {
            Site::Commune(c) => Some(c.as_ref()),
            Site::Federation | Site::Login => None,
        };
        base_context(
            &self.state,
            self.lang,
            &self.path,
            commune,
            &self.federation_url(),
        )
    }

    /// The context every page gets, plus `extra`.
    fn page_context(&self, extra: serde_json::Value) -> Value {
        let mut m = self.base_context();
        if let serde_json::Value::Object(extra) = extra {
            m.extend(extra);
        }
        Value::from_serialize(&m)
    }

    /// This page as rendered a moment ago, if the page cache has it (shared, not copied, for an
    /// anonymous visitor).
    pub fn cached(&self) -> Option<HttpResponse> {
        let html = self.state.pages.get(self.page_key.as_ref()?)?;
        let body = match self.citizen() {
            None => html,
            Some(_) => web::Bytes::from(self.personalise(std::str::from_utf8(&html).ok()?)),
        };
        Some(
            self.respond(Ok(HttpResponse::Ok()
                .content_type(ContentType::html())
                .body(body))),
        )
    }

    /// Renders `template` with `extra` (and keeps it in the page cache), or the error page.
    pub fn page(&self, result: AppResult<(&'static str, serde_json::Value)>) -> HttpResponse {
        let html = result.and_then(|(template, extra)| {
            Ok(self
                .state
                .render
                .render(template, self.page_context(extra))?)
        });
        let html = html.map(web::Bytes::from);
        if let (Ok(h), Some(key)) = (&html, &self.page_key) {
            self.state.pages.put(key.clone(), h.clone());
        }
        self.respond(html.map(|h| {
            let body = match self.citizen() {
                None => h,
                Some(_) => web::Bytes::from(self.personalise(&String::from_utf8_lossy(&h))),
            };
            HttpResponse::Ok()
                .content_type(ContentType::html())
                .body(body)
        }))
    }

    /// This JSON answer as given a moment ago, if the cache has it.
    pub fn cached_json(&self) -> Option<HttpResponse> {
        let body = self.state.pages.get(self.page_key.as_ref()?)?;
        Some(
            HttpResponse::Ok()
                .content_type(ContentType::json())
                .body(body),
        )
    }

    /// JSON (kept in the cache when this path is cacheable), or a JSON error.
    pub fn json_cached(&self, result: AppResult<serde_json::Value>) -> HttpResponse {
        let body = result.and_then(|v| {
            serde_json::to_vec(&v)
                .map(web::Bytes::from)
                .map_err(|e| AppError::BadRequest(format!("json: {e}")))
        });
        if let (Ok(b), Some(key)) = (&body, &self.page_key) {
            self.state.pages.put(key.clone(), b.clone());
        }
        self.respond(body.map(|b| HttpResponse::Ok().content_type(ContentType::json()).body(b)))
    }

    /// Pages are rendered (and cached) for anonymous visitors; for a signed-in citizen the
    /// header's sign-in link is swapped for their name and personal area.
    fn personalise(&self, html: &str) -> String {
        const OPEN: &str = "<!--sp:user-->";
        const CLOSE: &str = "<!--/sp:user-->";
        let Some(user) = self.citizen() else {
            return html.to_owned();
        };
        let Some(a) = html.find(OPEN) else {
            return html.to_owned();
        };
        let Some(b) = html[a..].find(CLOSE).map(|b| a + b) else {
            return html.to_owned();
        };
        let label = self.state.render.strings.get(self.lang, "personal_area");
        let mut out = String::with_capacity(html.len() + 200);
        out.push_str(&html[..a + OPEN.len()]);
        out.push_str(
            "<a class=\"sp-user-link\" href=\"/area-personale\"><span class=\"visually-hidden\">",
        );
        out.push_str(&crate::render::escape(label));
        out.push_str(": </span>");
        out.push_str(&crate::render::escape(&user.display_name()));
        out.push_str("</a>");
        out.push_str(&html[b..]);
        out
    }

    /// JSON, or a JSON error.
    pub fn json(&self, result: AppResult<serde_json::Value>) -> HttpResponse {
        self.respond(result.map(|v| HttpResponse::Ok().json(v)))
    }

    /// Maps an error to its page (or JSON under /api/), logging server errors.
    pub fn respond(&self, result: AppResult<HttpResponse>) -> HttpResponse {
        let mut res = match result {
            Ok(r) => r,
            Err(e) => {
                if e.status().is_server_error() {
                    tracing::error!(error = %e, "request failed");
                }
                if self.api {
                    let message = self.message_of(&e).unwrap_or_else(|| e.public_message());
                    HttpResponse::build(e.status()).json(json!({
                        "error": {"status": e.status().as_u16(), "code": e.code(), "message": message}
                    }))
                } else {
                    let (title_key, message_key) = match e.status().as_u16() {
                        404 => ("not_found_title", "not_found_message"),
                        400 | 422 => ("bad_request_title", "bad_request_message"),
                        403 => ("forbidden_title", "forbidden_message"),
                        429 => ("too_many_title", "too_many_message"),
                        502 => ("upstream_title", "upstream_message"),
                        _ => ("server_error_title", "server_error_message"),
                    };
                    let mut m = self.base_context();
                    let detail = self.message_of(&e);
                    m.insert("status".into(), json!(e.status().as_u16()));
                    m.insert(
                        "title".into(),
                        json!(self.state.render.strings.get(self.lang, title_key)),
                    );
                    m.insert(
                        "message".into(),
                        json!(detail.unwrap_or_else(|| {
                            self.state
                                .render
                                .strings
                                .get(self.lang, message_key)
                                .to_owned()
                        })),
                    );
                    render_error(&self.state, e.status().as_u16(), m)
                }
            }
        };
        for c in self.cookies.borrow().iter() {
            if let Ok(v) = c.to_string().parse::<header::HeaderValue>() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        if let (Some(t), true) = &*self.csrf.borrow()
            && let Ok(v) = crate::auth::csrf::cookie(t.clone(), self.state.sessions.secure_cookies)
                .to_string()
                .parse::<header::HeaderValue>()
        {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
        if self.user.is_some() || !self.cookies.borrow().is_empty() || self.csrf_used.get() {
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
        }
        if self.remember_lang
            && let Ok(c) = Cookie::build("lang", self.lang.key())
                .path("/")
                .same_site(SameSite::Lax)
                .http_only(true)
                .finish()
                .to_string()
                .parse::<header::HeaderValue>()
        {
            res.headers_mut().append(header::SET_COOKIE, c);
        }
        res
    }
}

fn base_context(
    state: &AppState,
    lang: Language,
    path: &str,
    commune: Option<&Commune>,
    federation_url: &str,
) -> Map<String, serde_json::Value> {
    let other = if lang == Language::En {
        Language::It
    } else {
        Language::En
    };
    let mut m = Map::new();
    m.insert("lang".into(), json!(lang.key()));
    m.insert("other_lang".into(), json!(other.key()));
    // No switch where the commune offers one language only.
    if commune.is_none_or(|c| c.record.languages.contains(&other)) {
        m.insert(
            "lang_switch_url".into(),
            json!(format!("{path}?lang={}", other.key())),
        );
    }
    m.insert("path".into(), json!(path));
    m.insert(
        "federation".into(),
        json!({"name": state.federation_name, "url": federation_url}),
    );
    if let Some(c) = commune {
        m.insert("commune".into(), json!(CommuneView::of(c)));
    }
    m.insert(
        "life_events_all".into(),
        json!(
            LifeEvent::ALL
                .iter()
                .map(|e| json!({"key": e.key(), "label": e.label(lang), "icon": e.icon()}))
                .collect::<Vec<_>>()
        ),
    );
    m
}

fn render_error(state: &AppState, status: u16, m: Map<String, serde_json::Value>) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    match state.render.render("error.html", Value::from_serialize(&m)) {
        Ok(html) => HttpResponse::build(code)
            .content_type(ContentType::html())
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            HttpResponse::build(code)
                .content_type(ContentType::plaintext())
                .body(format!("{status}"))
        }
    }
}

/// An error page shown before any handler runs (unknown host, suspended commune).
pub struct ErrorPage {
    pub status: u16,
    pub title_key: &'static str,
    pub message_key: &'static str,
}

pub fn error_page(
    state: &AppState,
    req: &ServiceRequest,
    lang: Language,
    commune: Option<&Commune>,
    federation_url: &str,
    page: ErrorPage,
) -> HttpResponse {
    let s = &state.render.strings;
    if req.path().starts_with("/api/") {
        let code = actix_web::http::StatusCode::from_u16(page.status)
            .unwrap_or(actix_web::http::StatusCode::NOT_FOUND);
        return HttpResponse::build(code).json(json!({"error": {"status": page.status, "code": page.title_key, "message": s.get(lang, page.message_key)}}));
    }
    let mut m = base_context(state, lang, req.path(), commune, federation_url);
    m.insert("status".into(), json!(page.status));
    m.insert("title".into(), json!(s.get(lang, page.title_key)));
    m.insert("message".into(), json!(s.get(lang, page.message_key)));
    render_error(state, page.status, m)
}

/// The current time on the communes' wall clocks.
pub fn local_now() -> chrono::NaiveDateTime {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Rome)
        .naive_local()
}
