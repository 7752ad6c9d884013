//! Console and API routes, declared once: [`Routes::get`] / [`Routes::post`] take the path, what
//! the route needs on each kind of host, and the handler. The same call registers the handler
//! with actix, wrapped in [`guard`], and records the declaration, so a route cannot exist
//! without its permission, and the guard decides on exactly the route the router dispatched to
//! (however its path was spelled: percent-encoded, doubled slashes…).

use std::sync::OnceLock;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{Error, FromRequest, Handler, HttpMessage, HttpResponse, Responder, web};
use sportello_authz::{Action, Object};
use sportello_store::staff::Realm;

use super::{Actor, refusal};
use crate::AppState;
use crate::error::AppError;
use crate::middleware::{SignedIn, Site};
use sportello_kernel::session::Kind;

/// Which host a route lives on (a row of the declaration table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// A commune's host.
    Commune,
    /// The federation's (apex) host.
    Federation,
    /// Both (the console's sign-in door, the public API).
    Both,
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone (sign-in pages, the public API).
    Public,
    /// Any staff member of this commune (or federation staff on the apex) signed in with the
    /// second factor.
    Staff,
    /// A permission, checked by the enforcer in the site's domain.
    Allow(Object, Action),
}

/// What a route needs on each kind of host; a host not named does not have the route (404).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Commune(Need),
    Federation(Need),
    Both(Need),
    /// One path, a different need on each host (the console's home).
    Each {
        commune: Need,
        federation: Need,
    },
}

impl Needs {
    fn on_commune(self) -> Option<Need> {
        match self {
            Needs::Commune(n) | Needs::Both(n) | Needs::Each { commune: n, .. } => Some(n),
            Needs::Federation(_) => None,
        }
    }

    fn on_federation(self) -> Option<Need> {
        match self {
            Needs::Federation(n) | Needs::Both(n) | Needs::Each { federation: n, .. } => Some(n),
            Needs::Commune(_) => None,
        }
    }
}

/// A row of the declaration table: one method and path on one kind of host.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    pub on: On,
    pub method: &'static str,
    pub path: &'static str,
    pub need: Need,
}

/// Collects the declarations of the console and API routes and, when serving, their handlers.
pub struct Routes {
    declared: Vec<Declared>,
    /// `None` when only listing the declarations.
    routes: Option<Vec<(&'static str, actix_web::Route)>>,
}

impl Routes {
    fn serving() -> Self {
        Routes {
            declared: Vec::new(),
            routes: Some(Vec::new()),
        }
    }

    fn listing() -> Self {
        Routes {
            declared: Vec::new(),
            routes: None,
        }
    }

    pub fn get<F, Args>(&mut self, path: &'static str, needs: Needs, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add("GET", path, needs, || crate::routes::get().to(handler))
    }

    pub fn post<F, Args>(&mut self, path: &'static str, needs: Needs, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add("POST", path, needs, || web::post().to(handler))
    }

    fn add(
        &mut self,
        method: &'static str,
        path: &'static str,
        needs: Needs,
        route: impl FnOnce() -> actix_web::Route,
    ) -> &mut Self {
        let row = |on, need| Declared {
            on,
            method,
            path,
            need,
        };
        match needs {
            Needs::Commune(n) => self.declared.push(row(On::Commune, n)),
            Needs::Federation(n) => self.declared.push(row(On::Federation, n)),
            Needs::Both(n) => self.declared.push(row(On::Both, n)),
            Needs::Each {
                commune,
                federation,
            } => {
                self.declared.push(row(On::Commune, commune));
                self.declared.push(row(On::Federation, federation));
            }
        }
        if let Some(routes) = &mut self.routes {
            let guarded = route().wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| {
                guard(needs, req, next)
            }));
            routes.push((path, guarded));
        }
        self
    }

    /// Registers every route with actix (under one scope per prefix, so that other pages are
    /// not matched against each console route).
    fn register(self, cfg: &mut web::ServiceConfig) {
        let mut console = web::scope("/console");
        // The API keeps its document's word on query parameters (before the guard and the
        // handler).
        let mut api = web::scope("/api/v1").wrap(from_fn(crate::routes::contract::enforce));
        for (path, route) in self.routes.unwrap_or_default() {
            if let Some(rest) = path.strip_prefix("/api/v1") {
                api = api.route(rest, route);
            } else if let Some(rest) = path.strip_prefix("/console") {
                console = console.route(rest, route);
            } else {
                cfg.route(path, route);
            }
        }
        cfg.service(console).service(api);
    }
}

/// The console and API routes, declared by their modules.
fn declare(r: &mut Routes) {
    crate::routes::guarded(r);
}

/// Registers the console and API routes with actix, each behind the guard.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut r = Routes::serving();
    declare(&mut r);
    r.register(cfg);
}

/// Every declared console and API route, one row per method, path and kind of host.
pub fn declared() -> &'static [Declared] {
    static TABLE: OnceLock<Vec<Declared>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut r = Routes::listing();
        declare(&mut r);
        r.declared
    })
}

/// Answers with `res` as it is (`ServiceRequest::into_response` would convert it and drop the
/// error it carries).
fn answer(req: ServiceRequest, res: HttpResponse) -> ServiceResponse<BoxBody> {
    let (req, _) = req.into_parts();
    ServiceResponse::new(req, res)
}

/// A refusal that carries its error, so that `render_errors` answers with the product's page
/// (or JSON error) in the visitor's language.
fn error(e: AppError) -> HttpResponse {
    HttpResponse::from_error(e)
}

/// The guard of one declared route: runs after routing (so on the route matched, whatever the
/// spelling of the path) and before the handler.
async fn guard(
    needs: Needs,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let site = req.extensions().get::<Site>().cloned();
    let need = match &site {
        Some(Site::Commune(_)) => needs.on_commune(),
        Some(Site::Federation) => needs.on_federation(),
        // The sign-in host has no console: only what is public everywhere passes (and its
        // handlers answer there as they do: they need a commune or the apex).
        _ => match needs {
            Needs::Both(Need::Public) => Some(Need::Public),
            _ => None,
        },
    };
    let Some(need) = need else {
        return Ok(answer(
            req,
            refusal("undeclared", error(AppError::NotFound)),
        ));
    };
    if need == Need::Public {
        return next.call(req).await;
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(answer(
            req,
            refusal("not-permitted", HttpResponse::Forbidden().finish()),
        ));
    };
    // The path as the router decoded it (as `load_session` reads it).
    let api = req.match_info().as_str().starts_with("/api/");
    let bearer = api
        .then(|| {
            req.headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|t| t.trim().to_owned())
        })
        .flatten();
    let actor = if let Some(token) = bearer {
        // A program with a staff member's API token: only on that member's commune.
        let account = match &site {
            Some(Site::Commune(c)) => {
                match sportello_identity::api_tokens::account(&state.store, c.id(), &token).await {
                    Ok(a) => a.map(|a| (c.id(), a)),
                    // The database failed: not the token's fault (a client keeps it).
                    Err(e) => {
                        tracing::error!(error = %e, "an API token could not be checked");
                        return Ok(answer(
                            req,
                            error(AppError::Internal("token check failed".into())),
                        ));
                    }
                }
            }
            _ => None,
        };
        let Some((commune, a)) = account else {
            return Ok(answer(req, refusal("not-signed-in", unauthorized())));
        };
        Actor {
            realm: Realm::Commune(commune),
            staff_id: a.id,
            name: a.display_name,
            email: a.email,
            federation: false,
        }
    } else {
        let user = req
            .extensions()
            .get::<SignedIn>()
            .map(|s| s.0.clone())
            .filter(|u| u.kind == Kind::Staff);
        let Some(user) = user.clone().filter(|u| u.mfa) else {
            if api {
                return Ok(answer(req, refusal("not-signed-in", unauthorized())));
            }
            // Not signed in: to the door; the second factor missing: to the code page.
            let reading = matches!(
                *req.method(),
                actix_web::http::Method::GET | actix_web::http::Method::HEAD
            );
            let to = match (reading, user.is_some()) {
                (true, false) => "/console/accedi",
                (true, true) => "/console/codice",
                (false, _) => "",
            };
            let res = if to.is_empty() {
                error(AppError::Refused("console_sign_in_first"))
            } else {
                HttpResponse::SeeOther()
                    .insert_header((actix_web::http::header::LOCATION, to))
                    .finish()
            };
            return Ok(answer(req, refusal("not-signed-in", res)));
        };
        let Some(staff) = user.staff.clone() else {
            let res = error(AppError::Refused("console_no_staff_account"));
            return Ok(answer(req, refusal("no-staff-account", res)));
        };
        let realm = match &site {
            Some(Site::Commune(c)) => Realm::Commune(c.id()),
            _ => Realm::Federation,
        };
        let federation = realm == Realm::Federation || staff.id.starts_with("f:");
        Actor {
            realm,
            staff_id: staff.id.trim_start_matches("f:").to_owned(),
            name: staff.display_name.clone(),
            email: staff.email.clone(),
            federation,
        }
    };
    let (realm, federation) = (actor.realm, actor.federation);
    let ok = match need {
        Need::Public | Need::Staff => {
            // Federation staff inside a commune only while its support grant lasts.
            !(federation && realm != Realm::Federation)
                || state
                    .policies
                    .allows(
                        actor.subject(),
                        realm.commune(),
                        Object::Support,
                        Action::Read,
                        sportello_store::now_micros(),
                    )
                    .await
        }
        Need::Allow(obj, act) => actor.may(&state, obj, act).await,
    };
    if !ok {
        state.http_metrics.authz_denied.inc();
        // Who tried what, for the audit log: the route as declared (not the path typed).
        let what = format!(
            "{} {}",
            req.method(),
            req.match_pattern().unwrap_or_else(|| req.path().to_owned())
        );
        let needed = match need {
            Need::Allow(obj, act) => format!("{}:{}", obj.key(), act.key()),
            Need::Public | Need::Staff => "support".to_owned(),
        };
        sportello_kernel::audit::refusal(&state, &actor, &what, &needed).await;
        let res = error(AppError::Refused("refused_role"));
        return Ok(answer(req, refusal("not-permitted", res)));
    }
    req.extensions_mut().insert(actor);
    next.call(req).await
}

/// An API call without a staff session or a valid token: 401, the scheme named, JSON.
fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((actix_web::http::header::WWW_AUTHENTICATE, "Bearer"))
        .json(
            serde_json::json!({"error": {"status": 401, "code": "unauthorized",
            "message": "Sign in, or send a staff API token as Authorization: Bearer."}}),
        )
}
