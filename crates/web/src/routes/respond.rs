//! How a handler's result becomes a response: pages (rendered, cached, personalised), JSON,
//! and the error page or JSON error in the page's language.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, web};
use minijinja::Value;
use serde_json::{Map, json};
use sportello_domain::{Language, LifeEvent};

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::middleware::Site;
use crate::tenancy::Commune;
use crate::views::CommuneView;

use super::Ctx;

impl Ctx {
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
        // This host's canonical origin, for the absolute addresses of the language versions.
        let origin = match &self.site {
            Site::Commune(c) => self.origin.url_for(&c.record.primary_host),
            Site::Federation => self.federation_url(),
            Site::Login => self.state.login_base.clone(),
        };
        m.insert("page_origin".into(), json!(origin));
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

    /// The error page (or JSON error under /api/) in the page's language, with the request id a
    /// person can quote.
    fn error_response(&self, e: &AppError) -> HttpResponse {
        let status = e.status().as_u16();
        if self.api {
            let message = self.message_of(e).unwrap_or_else(|| e.public_message());
            return HttpResponse::build(e.status()).json(json!({
                "error": {"status": status, "code": e.code(), "message": message,
                          "request_id": self.request_id()}
            }));
        }
        let (title_key, message_key) = match status {
            404 => ("not_found_title", "not_found_message"),
            405 => ("method_not_allowed_title", "method_not_allowed_message"),
            400 | 422 => ("bad_request_title", "bad_request_message"),
            403 => ("forbidden_title", "forbidden_message"),
            429 => ("too_many_title", "too_many_message"),
            502 => ("upstream_title", "upstream_message"),
            _ => ("server_error_title", "server_error_message"),
        };
        let strings = &self.state.render.strings;
        let mut m = self.base_context();
        m.insert("status".into(), json!(status));
        m.insert("title".into(), json!(strings.get(self.lang, title_key)));
        m.insert(
            "message".into(),
            json!(
                self.message_of(e)
                    .unwrap_or_else(|| strings.get(self.lang, message_key).to_owned())
            ),
        );
        m.insert("request_id".into(), json!(self.request_id()));
        render_error(&self.state, status, m)
    }

    /// Maps an error to its page (or JSON under /api/), logging server errors.
    pub fn respond(&self, result: AppResult<HttpResponse>) -> HttpResponse {
        let mut res = match result {
            Ok(r) => r,
            Err(e) => {
                if e.status().is_server_error() {
                    tracing::error!(error = %e, "request failed");
                }
                let mut res = self.error_response(&e);
                if let AppError::MethodNotAllowed(allow) = &e
                    && let Ok(v) = header::HeaderValue::from_str(allow)
                {
                    res.headers_mut().insert(header::ALLOW, v);
                }
                res
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
    // The consoles' pages, refusals included, have the consoles' own frame.
    if path.starts_with("/console") {
        m.insert("layout".into(), json!("console_layout.html"));
    }
    // A form's state (`Ctx::form_state`): nothing refused, unless a page says otherwise.
    m.insert(
        "fs".into(),
        json!({"values": {}, "errors": {}, "summary": []}),
    );
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
    let request_id = crate::middleware::RequestId::of(req);
    if req.match_info().as_str().starts_with("/api/") {
        let code = actix_web::http::StatusCode::from_u16(page.status)
            .unwrap_or(actix_web::http::StatusCode::NOT_FOUND);
        let kind = match page.status {
            400 => "bad_request",
            404 => "not_found",
            503 => "unavailable",
            _ => "error",
        };
        return HttpResponse::build(code).json(json!({"error": {"status": page.status, "code": kind, "message": s.get(lang, page.message_key), "request_id": request_id}}));
    }
    let mut m = base_context(state, lang, req.path(), commune, federation_url);
    m.insert("request_id".into(), json!(request_id));
    m.insert("status".into(), json!(page.status));
    m.insert("title".into(), json!(s.get(lang, page.title_key)));
    m.insert("message".into(), json!(s.get(lang, page.message_key)));
    render_error(state, page.status, m)
}
