//! Enforcement, in one place: every console and API route is declared in [`ROUTES`] with what
//! it needs, and the [`authorize`] middleware checks each request against that declaration
//! before any handler runs. A route missing from the table answers 404 (and a test fails: see
//! `tests/authz.rs`). Handlers receive the [`Actor`] the middleware admitted.
//!
//! Also here: loading the node's [`Policies`] from the store and keeping them current — a change
//! made on this node is applied before its response; other nodes replay the numbered
//! `policy_changes` every poll tick.

use std::collections::BTreeSet;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use sportello_authz::{Action, CommunePolicy, Object, Policies, Role, Rule, Subject, template};
use sportello_domain::TenantId;
use sportello_store::Store;
use sportello_store::authz::StoredPolicy;
use sportello_store::staff::Realm;

use crate::AppState;
use crate::auth::session::Kind;
use crate::error::AppError;
use crate::middleware::{SignedIn, Site};

/// Which host a route lives on.
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

#[derive(Debug, Clone, Copy)]
pub struct Declared {
    pub on: On,
    pub method: &'static str,
    pub path: &'static str,
    pub need: Need,
}

const fn d(on: On, method: &'static str, path: &'static str, need: Need) -> Declared {
    Declared {
        on,
        method,
        path,
        need,
    }
}

use Action::{Create, Delete, Read, Update};
use Need::{Allow, Public, Staff};
use On::{Both, Commune, Federation};

/// Every console and API route and what it needs.
#[rustfmt::skip]
pub const ROUTES: &[Declared] = &[
    // The console's door (both hosts: commune staff and federation staff).
    d(Commune, "GET", "/console", Staff),
    d(Federation, "GET", "/console", Allow(Object::Communes, Read)),
    d(Both, "GET", "/console/accedi", Public),
    d(Both, "POST", "/console/accedi", Public),
    d(Both, "GET", "/console/codice", Public),
    d(Both, "POST", "/console/codice", Public),
    d(Both, "GET", "/console/invito", Public),
    d(Both, "POST", "/console/invito", Public),
    d(Both, "POST", "/console/invito/codice", Public),
    d(Both, "POST", "/console/esci", Public),
    // Commune console.
    d(Commune, "GET", "/console/uffici", Allow(Object::Offices, Read)),
    d(Commune, "POST", "/console/uffici", Allow(Object::Offices, Create)),
    d(Commune, "GET", "/console/uffici/{id}", Allow(Object::Offices, Read)),
    d(Commune, "POST", "/console/uffici/{id}", Allow(Object::Offices, Update)),
    d(Commune, "POST", "/console/uffici/{id}/elimina", Allow(Object::Offices, Delete)),
    d(Commune, "GET", "/console/servizi", Allow(Object::Services, Read)),
    d(Commune, "POST", "/console/servizi", Allow(Object::Services, Create)),
    d(Commune, "GET", "/console/servizi/{id}", Allow(Object::Services, Read)),
    d(Commune, "POST", "/console/servizi/{id}", Allow(Object::Services, Update)),
    d(Commune, "GET", "/console/personale", Allow(Object::Staff, Read)),
    d(Commune, "POST", "/console/personale", Allow(Object::Staff, Create)),
    d(Commune, "POST", "/console/personale/{id}/ruoli", Allow(Object::Staff, Update)),
    d(Commune, "POST", "/console/personale/{id}/elimina", Allow(Object::Staff, Delete)),
    d(Commune, "GET", "/console/permessi", Allow(Object::Policies, Read)),
    d(Commune, "POST", "/console/permessi", Allow(Object::Policies, Update)),
    d(Commune, "POST", "/console/permessi/modello", Allow(Object::Policies, Update)),
    d(Commune, "GET", "/console/impostazioni", Allow(Object::Settings, Read)),
    d(Commune, "POST", "/console/impostazioni", Allow(Object::Settings, Update)),
    d(Commune, "GET", "/console/identita", Allow(Object::Idps, Read)),
    d(Commune, "POST", "/console/identita", Allow(Object::Idps, Create)),
    d(Commune, "POST", "/console/identita/{id}/elimina", Allow(Object::Idps, Delete)),
    d(Commune, "GET", "/console/registro", Allow(Object::Audit, Read)),
    d(Commune, "GET", "/console/supporto", Allow(Object::Support, Read)),
    d(Commune, "POST", "/console/supporto", Allow(Object::Support, Create)),
    d(Commune, "POST", "/console/supporto/{id}/revoca", Allow(Object::Support, Delete)),
    d(Commune, "GET", "/console/supporto/ingresso", Public),
    // Federation console (apex host).
    d(Federation, "GET", "/console/comuni", Allow(Object::Communes, Read)),
    d(Federation, "GET", "/console/comuni/nuovo", Allow(Object::Communes, Create)),
    d(Federation, "POST", "/console/comuni", Allow(Object::Communes, Create)),
    d(Federation, "POST", "/console/comuni/{istat}/stato", Allow(Object::Communes, Update)),
    d(Federation, "GET", "/console/assistenza", Allow(Object::Support, Read)),
    d(Federation, "POST", "/console/assistenza/{istat}/entra", Allow(Object::Support, Read)),
    d(Federation, "POST", "/console/assistenza/{istat}/{id}/revoca", Allow(Object::Support, Delete)),
    // Public API.
    d(Both, "GET", "/api/v1/openapi.json", Public),
    d(Both, "GET", "/api/v1/services", Public),
    d(Both, "GET", "/api/v1/services/{id}", Public),
    d(Both, "GET", "/api/v1/services/{id}/jsonld", Public),
    d(Both, "GET", "/api/v1/offices", Public),
    d(Both, "GET", "/api/v1/offices/{id}", Public),
    d(Both, "GET", "/api/v1/staff", Public),
    d(Both, "GET", "/api/v1/search", Public),
    d(Both, "GET", "/api/v1/communes", Public),
];

/// The declaration of a request's route, if any.
pub fn declared(on_commune: bool, method: &str, pattern: &str) -> Option<&'static Declared> {
    ROUTES.iter().find(|r| {
        r.method == method
            && r.path == pattern
            && match r.on {
                On::Both => true,
                On::Commune => on_commune,
                On::Federation => !on_commune,
            }
    })
}

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

fn is_guarded(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/") || path.starts_with("/api/")
}

/// The guard every console and API request goes through.
pub async fn authorize(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // Decided on the route the router matched (it decodes the path), else on the raw path.
    let guarded = match req.match_pattern() {
        Some(p) => is_guarded(&p) || is_guarded(req.path()),
        None => is_guarded(req.path()),
    };
    if !guarded {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let site = req.extensions().get::<Site>().cloned();
    let on_commune = match &site {
        Some(Site::Commune(_)) => true,
        Some(Site::Federation) => false,
        // The sign-in host has no console: let routing answer.
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let pattern = req.match_pattern();
    let decl = pattern
        .as_deref()
        .and_then(|p| declared(on_commune, req.method().as_str(), p));
    let Some(decl) = decl else {
        if pattern.is_some() {
            tracing::warn!(
                path = req.path(),
                "route without a declared permission: refused"
            );
        }
        return Ok(req.into_response(refusal("undeclared", AppError::NotFound.error_response())));
    };
    if decl.need == Need::Public {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let user = req
        .extensions()
        .get::<SignedIn>()
        .map(|s| s.0.clone())
        .filter(|u| u.kind == Kind::Staff);
    let Some(user) = user.clone().filter(|u| u.mfa) else {
        // Not signed in: to the door; the second factor missing: to the code page.
        let to = match (req.method() == actix_web::http::Method::GET, user.is_some()) {
            (true, false) => "/console/accedi",
            (true, true) => "/console/codice",
            (false, _) => "",
        };
        let res = if to.is_empty() {
            AppError::Forbidden("sign in to the console first".into()).error_response()
        } else {
            HttpResponse::SeeOther()
                .insert_header((actix_web::http::header::LOCATION, to))
                .finish()
        };
        return Ok(req.into_response(refusal("not-signed-in", res)));
    };
    let Some(staff) = user.staff.clone() else {
        let res = AppError::Forbidden("no staff account".into()).error_response();
        return Ok(req.into_response(refusal("no-staff-account", res)));
    };
    let realm = match &site {
        Some(Site::Commune(c)) => Realm::Commune(c.id()),
        _ => Realm::Federation,
    };
    let federation = realm == Realm::Federation || staff.id.starts_with("f:");
    let actor = Actor {
        realm,
        staff_id: staff.id.trim_start_matches("f:").to_owned(),
        name: staff.display_name.clone(),
        email: staff.email.clone(),
        federation,
    };
    let ok = match decl.need {
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
        state.metrics.authz_denied.inc();
        let res = AppError::Forbidden("your role does not allow this here".into()).error_response();
        return Ok(req.into_response(refusal("not-permitted", res)));
    }
    req.extensions_mut().insert(actor);
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Marks a refusal as the guard's (`X-Sportello-Denied`), so that logs, proxies and tests can
/// tell it from a handler's own answer.
fn refusal(why: &'static str, mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static("x-sportello-denied"),
        actix_web::http::header::HeaderValue::from_static(why),
    );
    res
}

// --- loading and keeping current ---------------------------------------------------------------

/// A commune's policy for the enforcer, from its rows.
pub fn commune_policy(
    commune: TenantId,
    stored: Option<&StoredPolicy>,
    assignments: impl IntoIterator<Item = (String, String)>,
    support_until: Option<i64>,
) -> CommunePolicy {
    let (template_version, custom) = match stored {
        Some(s) => (
            s.template_version,
            s.custom_rules.as_deref().map(|j| {
                serde_json::from_str::<Vec<Rule>>(j).unwrap_or_else(|e| {
                    // Rules this build cannot read (a newer node wrote them): nothing is allowed
                    // rather than the template's, which may allow more than the commune chose.
                    tracing::error!(commune = commune.0, error = %e, "unreadable commune rules: denying all");
                    Vec::new()
                })
            }),
        ),
        None => (template::CURRENT, None),
    };
    let custom = match custom {
        None if template::rules(template_version).is_none() => {
            tracing::error!(
                commune = commune.0,
                template_version,
                "template version unknown to this build: denying all"
            );
            Some(Vec::new())
        }
        c => c,
    };
    CommunePolicy {
        commune,
        template: template_version,
        custom,
        assignments: assignments
            .into_iter()
            .filter_map(|(s, r)| Role::parse(&r).map(|r| (s, r)))
            .collect(),
        support_until,
    }
}

/// Builds the node's enforcer from the database; returns it with the revision it reflects.
pub async fn load(store: &Store) -> Result<(Policies, i64), String> {
    let now = sportello_store::now_micros();
    let snap = store
        .federation()
        .policy_snapshot(now)
        .await
        .map_err(|e| format!("reading policies: {e}"))?;
    let mut stored: std::collections::HashMap<i64, StoredPolicy> =
        snap.policies.into_iter().collect();
    let mut by_commune: std::collections::HashMap<i64, Vec<(String, String)>> =
        std::collections::HashMap::new();
    for (c, s, r) in snap.assignments {
        by_commune.entry(c).or_default().push((s, r));
    }
    let support: std::collections::HashMap<i64, i64> = snap.support.into_iter().collect();
    let communes = snap
        .communes
        .iter()
        .map(|c| {
            commune_policy(
                TenantId(*c),
                stored.remove(c).as_ref(),
                by_commune.remove(c).unwrap_or_default(),
                support.get(c).copied(),
            )
        })
        .collect();
    let p = Policies::load(communes, &snap.federation_staff)
        .await
        .map_err(|e| format!("loading policies: {e}"))?;
    Ok((p, snap.revision))
}

/// Reads one commune's policy rows and gives them to the enforcer.
pub async fn reload_commune(
    store: &Store,
    policies: &Policies,
    commune: TenantId,
) -> Result<(), AppError> {
    let now = sportello_store::now_micros();
    let tx = store.tenant(commune).await?;
    let db = tx.db();
    let stored = db.policy().await?;
    let assignments = db
        .role_assignments()
        .await?
        .into_iter()
        .map(|a| (a.staff_id, a.role));
    let until = db.support_until(now).await?;
    let p = commune_policy(commune, stored.as_ref(), assignments, until);
    tx.commit().await?;
    policies
        .replace_commune(p)
        .await
        .map_err(|e| AppError::Upstream(e.to_string()))
}

/// Reloads the federation staff's platform role.
pub async fn reload_federation(store: &Store, policies: &Policies) -> Result<(), AppError> {
    let ids = store.federation().federation_staff_ids().await?;
    policies
        .replace_federation_staff(&ids)
        .await
        .map_err(|e| AppError::Upstream(e.to_string()))
}

/// The revision this node's enforcer reflects, and the poller that moves it.
pub struct PolicySync {
    pub revision: AtomicI64,
    /// One catch-up at a time (the poller and a console write may both run one): a reload that
    /// read the database earlier must never be applied after one that read it later.
    pub running: tokio::sync::Mutex<()>,
}

impl PolicySync {
    pub fn new(revision: i64) -> PolicySync {
        PolicySync {
            revision: AtomicI64::new(revision),
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Applies every change numbered after the node's revision (this node's own ones too: a
    /// reload is idempotent). A commune that cannot be reloaded is logged and left for a restart
    /// to retry; the others still move on.
    pub async fn catch_up(&self, store: &Store, policies: &Policies) -> Result<usize, AppError> {
        let _one = self.running.lock().await;
        let from = self.revision.load(Ordering::Acquire);
        let changes = store.federation().policy_changes_since(from).await?;
        let Some(last) = changes.last().map(|c| c.0) else {
            return Ok(0);
        };
        let communes: BTreeSet<Option<i64>> = changes.iter().map(|c| c.1).collect();
        for c in &communes {
            let done = match c {
                Some(c) => reload_commune(store, policies, TenantId(*c)).await,
                None => reload_federation(store, policies).await,
            };
            if let Err(e) = done {
                match e {
                    // The database is unreachable: try the whole batch again next tick.
                    AppError::Store(_) => return Err(e),
                    e => tracing::error!(commune = ?c, error = %e, "policy reload failed"),
                }
            }
        }
        self.revision.fetch_max(last, Ordering::AcqRel);
        Ok(communes.len())
    }

    pub fn spawn(self: &Arc<Self>, store: Store, policies: Arc<Policies>, every: Duration) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = me.catch_up(&store, &policies).await {
                    tracing::warn!(error = %e, "applying policy changes failed");
                }
            }
        });
    }
}

#[cfg(test)]
#[path = "tests/authz.rs"]
mod tests;
