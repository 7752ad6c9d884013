//! What every handler starts from ([`Ctx`]): the state, the site, the language, the origin,
//! the session; built by its extractor, with the small things handlers ask of it.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::cookie::Cookie;
use actix_web::dev::Payload;
use actix_web::http::header::{self};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use sportello_domain::Language;

use crate::AppState;
use crate::auth::cookies::SessionCookies;
use crate::error::{AppError, AppResult};
use crate::middleware::{Origin, Site};
use crate::page_cache::PageKey;
use crate::tenancy::Commune;

use super::lang_of;

/// What every handler starts from: the state, the site (commune or federation), the language.
pub struct Ctx {
    pub state: web::Data<AppState>,
    pub site: Site,
    pub origin: Origin,
    pub lang: Language,
    pub(super) path: String,
    /// `?lang=` was given: remember it in a cookie.
    pub(super) remember_lang: bool,
    pub(super) api: bool,
    /// Where this page's rendering is cached (commune pages other than search).
    pub(super) page_key: Option<PageKey>,
    /// The signed-in session, if any.
    pub user: Option<Arc<sportello_kernel::session::Current>>,
    /// The client's address (rate limits, audit).
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
    /// The CSRF token from the cookie, or one made for this response (then the cookie is set).
    pub(super) csrf: std::cell::RefCell<(Option<String>, bool)>,
    /// A form was rendered: the response must not be stored by caches (it carries a token).
    pub(super) csrf_used: std::cell::Cell<bool>,
    /// The request (a shared handle): what only some answers need is read from it when they
    /// do (its id for an error page, its session cookies for a form), not on every page view.
    req: actix_web::HttpRequest,
    /// Cookies this response sets (sessions, flows).
    pub(super) cookies: std::cell::RefCell<Vec<Cookie<'static>>>,
    /// A refused form to show again, with its values and problems (see [`super::redo`]).
    pub(super) redo: std::cell::RefCell<Option<super::redo::Redo>>,
    /// The session this request came with has just been ended: the answer shows nobody
    /// signed in.
    signed_out: std::cell::Cell<bool>,
}

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
            req: req.clone(),
            cookies: std::cell::RefCell::new(Vec::new()),
            redo: std::cell::RefCell::new(None),
            signed_out: std::cell::Cell::new(false),
            lang,
            remember_lang: req.query_string().contains("lang="),
            // As the router decoded it (`/%61pi/` is the API too).
            api: req.match_info().as_str().starts_with("/api/"),
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

    /// An interface string in the page's language (`web/i18n/ui.toml`).
    pub fn t(&self, key: &'static str) -> &str {
        self.state.render.strings.get(self.lang, key)
    }

    /// An interface string with its `{}` slots filled in order.
    pub fn tf(&self, key: &'static str, args: &[&dyn std::fmt::Display]) -> String {
        debug_assert_eq!(
            self.t(key).matches("{}").count(),
            args.len(),
            "{key}: slots and arguments differ"
        );
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

    /// The CSRF field for this page's forms (sets the cookie if the browser had none): bound to
    /// the session cookies the browser will hold after this response.
    pub fn csrf_token(&self) -> String {
        self.csrf_used.set(true);
        let token = {
            let mut c = self.csrf.borrow_mut();
            match &c.0 {
                Some(t) => t.clone(),
                None => {
                    let t = sportello_kernel::tokens::new_token();
                    *c = (Some(t.clone()), true);
                    t
                }
            }
        };
        let names = crate::auth::csrf::bound_cookies(&self.state.sessions);
        let mut values = names.map(|n| self.req.cookie(n).map(|c| c.value().to_owned()));
        for c in self.cookies.borrow().iter() {
            if let Some(i) = names.iter().position(|n| *n == c.name()) {
                let removed = c.max_age().is_some_and(|a| a.is_zero() || a.is_negative());
                values[i] = (!removed).then(|| c.value().to_owned());
            }
        }
        crate::auth::csrf::field(&self.state.secrets, &token, &values)
    }

    /// The label of a code under `prefix` in ui.toml (`event_sign_in`, `audit_office_updated`),
    /// or the code itself while it has none.
    pub fn label_or_code(&self, prefix: &str, code: &str) -> String {
        let key = format!("{prefix}{code}");
        let label = self.state.render.strings.get(self.lang, &key);
        if label == key {
            code.to_owned()
        } else {
            label.to_owned()
        }
    }

    /// This request's id (error pages show it).
    pub(super) fn request_id(&self) -> Option<String> {
        crate::middleware::RequestId::of(&self.req)
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
            AppError::Refused(key) | AppError::BadInput(key) | AppError::Unauthorized(key) => {
                Some(s.get(self.lang, key).to_owned())
            }
            AppError::BadParam(name) => {
                Some(format!("{}: {name}", s.get(self.lang, "bad_input_param")))
            }
            AppError::SignInRefused(why) => {
                Some(format!("{}: {why}", s.get(self.lang, "sign_in_refused")))
            }
            AppError::IdpSaidNo(words) => {
                Some(format!("{}: {words}", s.get(self.lang, "idp_said_no")))
            }
            AppError::Invalid(p) => Some(
                p.0.iter()
                    .map(|p| self.problem_text(p))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            AppError::BadRequest(_) | AppError::Upstream(_) => Some(e.to_string()),
            _ => None,
        }
    }

    /// A refused field's reason in the page's language.
    pub fn problem_text(&self, p: &sportello_kernel::Problem) -> String {
        let key = format!("invalid_{}", p.why.key());
        self.state
            .render
            .strings
            .get(self.lang, &key)
            .replace("{}", &p.arg)
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
            .filter(|_| !self.signed_out.get())
    }

    /// The request's session was just ended: nothing in this answer may show the person.
    pub fn forget_user(&self) {
        self.signed_out.set(true);
    }

    pub fn federation_url(&self) -> String {
        self.origin.url_for(self.state.tenancy.apex.as_str())
    }

    pub fn base_url(&self) -> AppResult<String> {
        Ok(self.origin.url_for(&self.commune()?.record.primary_host))
    }

    /// Another commune's site (a desk filing for a partner commune prints its address).
    pub fn base_url_of(&self, commune: sportello_domain::TenantId) -> AppResult<String> {
        let c = self
            .state
            .tenancy
            .by_id(commune)
            .ok_or(AppError::NotFound)?;
        Ok(self.origin.url_for(&c.record.primary_host))
    }
}
