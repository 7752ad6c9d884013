//! The pages' routes, registered through [`Table`] so that each is also written down: a path
//! that exists answers any other method with 405 and `Allow` (RFC 9110 §15.5.6), not 404. The
//! console and API routes are written down by their own declaration table
//! ([`crate::authz::declared`]); both end up in [`Methods`], which the default service reads.

use std::sync::{Arc, OnceLock};

use actix_web::dev::ResourceDef;
use actix_web::{FromRequest, Handler, Responder, web};

/// Registers routes with actix and writes each path and method down.
pub struct Table<'a> {
    cfg: &'a mut web::ServiceConfig,
    rows: Vec<(&'static str, &'static str)>,
    demo: bool,
}

/// The tables built so far (without and with the demo's routes), for [`registered`].
static BUILT: [OnceLock<Arc<Methods>>; 2] = [OnceLock::new(), OnceLock::new()];

/// The routes of a server started without (`demo` false) or with `--demo`, once one has been
/// (tests walk every route with them).
pub fn registered(demo: bool) -> Option<Arc<Methods>> {
    BUILT[usize::from(demo)].get().cloned()
}

impl<'a> Table<'a> {
    pub fn new(cfg: &'a mut web::ServiceConfig, demo: bool) -> Self {
        Table {
            cfg,
            rows: vec![],
            demo,
        }
    }

    /// GET (and HEAD: see [`super::get`]).
    pub fn get<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.rows.push((path, "GET"));
        self.cfg.route(path, super::get().to(handler));
        self
    }

    pub fn post<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.rows.push((path, "POST"));
        self.cfg.route(path, web::post().to(handler));
        self
    }

    /// Anything else actix registers (a scope, the default service).
    pub fn cfg(&mut self) -> &mut web::ServiceConfig {
        self.cfg
    }

    /// The paths written down, with the console's and API's, for the default service.
    pub fn finish(self) {
        let mut rows = self.rows;
        rows.extend(crate::authz::declared().iter().map(|d| (d.path, d.method)));
        let methods = BUILT[usize::from(self.demo)]
            .get_or_init(|| Arc::new(Methods::new(&rows)))
            .clone();
        self.cfg.app_data(web::Data::from(methods));
    }
}

/// Every routed path and the methods it answers.
pub struct Methods {
    paths: Vec<(ResourceDef, Vec<&'static str>)>,
}

impl Methods {
    fn new(rows: &[(&'static str, &'static str)]) -> Self {
        let mut paths: Vec<(&'static str, Vec<&'static str>)> = vec![];
        for (path, method) in rows {
            match paths.iter_mut().find(|(p, _)| p == path) {
                Some((_, m)) if !m.contains(method) => m.push(method),
                Some(_) => {}
                None => paths.push((path, vec![method])),
            }
        }
        Methods {
            paths: paths
                .into_iter()
                .map(|(p, m)| (ResourceDef::new(p), m))
                .collect(),
        }
    }

    /// The `Allow` header's value for a path that exists, `None` for one that does not.
    pub fn allow(&self, path: &str) -> Option<String> {
        let mut methods: Vec<&str> = vec![];
        for (def, m) in &self.paths {
            if def.is_match(path) {
                for x in m {
                    if !methods.contains(x) {
                        methods.push(x);
                    }
                }
            }
        }
        if methods.contains(&"GET") {
            methods.push("HEAD");
        }
        (!methods.is_empty()).then(|| methods.join(", "))
    }

    /// Every path written down, with its methods (tests walk them).
    pub fn all(&self) -> impl Iterator<Item = (&str, &[&'static str])> {
        self.paths
            .iter()
            .map(|(d, m)| (d.pattern().unwrap_or(""), m.as_slice()))
    }
}
