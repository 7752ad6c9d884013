//! The pages' routes, registered through [`Table`] so that each is also written down: a path
//! that exists answers any other method with 405 and `Allow` (RFC 9110 §15.5.6), not 404. The
//! console and API routes are written down by their own declaration table
//! ([`crate::authz::declared`]); both end up in [`Methods`], which the default service reads.

use std::sync::{Arc, OnceLock};

use actix_web::dev::ResourceDef;
use actix_web::{FromRequest, Handler, Responder, web};

/// The kinds of host a route is served on, as bits: the `Allow` of a path on a host names only
/// what that kind of host serves (another host's routes are its 404).
pub mod on {
    pub const COMMUNE: u8 = 1;
    pub const FEDERATION: u8 = 2;
    pub const LOGIN: u8 = 4;
    pub const ANY: u8 = COMMUNE | FEDERATION | LOGIN;
}

/// Registers routes with actix and writes each path, method and kind of host down.
pub struct Table<'a> {
    cfg: &'a mut web::ServiceConfig,
    rows: Vec<(&'static str, &'static str, u8)>,
    demo: bool,
    /// The hosts of the routes registered next (see [`Table::on`]).
    hosts: u8,
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
            hosts: on::ANY,
        }
    }

    /// The routes registered next are served on these kinds of host (bits of [`on`]).
    pub fn on(&mut self, hosts: u8) -> &mut Self {
        self.hosts = hosts;
        self
    }

    /// GET (and HEAD: see [`super::get`]).
    pub fn get<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.rows.push((path, "GET", self.hosts));
        self.cfg.route(path, super::get().to(handler));
        self
    }

    pub fn post<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.rows.push((path, "POST", self.hosts));
        self.cfg.route(path, web::post().to(handler));
        self
    }

    /// Writes down a path another module registered with actix (one handler for several kinds
    /// of host, dispatching on the site), as served on these kinds of host too.
    pub fn also(&mut self, path: &'static str, method: &'static str) -> &mut Self {
        self.rows.push((path, method, self.hosts));
        self
    }

    /// Anything else actix registers (a scope, the default service).
    pub fn cfg(&mut self) -> &mut web::ServiceConfig {
        self.cfg
    }

    /// The paths written down, with the console's and API's, for the default service.
    pub fn finish(self) {
        let mut rows = self.rows;
        rows.extend(crate::authz::declared().iter().map(|d| {
            let hosts = match d.on {
                crate::authz::On::Commune => on::COMMUNE,
                crate::authz::On::Federation => on::FEDERATION,
                crate::authz::On::Both => on::COMMUNE | on::FEDERATION,
            };
            (d.path, d.method, hosts)
        }));
        let methods = BUILT[usize::from(self.demo)]
            .get_or_init(|| Arc::new(Methods::new(&rows)))
            .clone();
        self.cfg.app_data(web::Data::from(methods));
    }
}

/// Every routed path and the methods it answers, on which kinds of host.
pub struct Methods {
    paths: Vec<(ResourceDef, Vec<(&'static str, u8)>)>,
}

impl Methods {
    fn new(rows: &[(&'static str, &'static str, u8)]) -> Self {
        let mut paths: Vec<(&'static str, Vec<(&'static str, u8)>)> = vec![];
        for (path, method, hosts) in rows {
            let i = match paths.iter().position(|(p, _)| p == path) {
                Some(i) => i,
                None => {
                    paths.push((path, vec![]));
                    paths.len() - 1
                }
            };
            let ms = &mut paths[i].1;
            match ms.iter_mut().find(|(m, _)| m == method) {
                Some((_, h)) => *h |= hosts,
                None => ms.push((method, *hosts)),
            }
        }
        Methods {
            paths: paths
                .into_iter()
                .map(|(p, m)| (ResourceDef::new(p), m))
                .collect(),
        }
    }

    /// The `Allow` header's value for a path this kind of host serves, `None` for one it does
    /// not.
    pub fn allow(&self, path: &str, host: u8) -> Option<String> {
        let mut methods: Vec<&str> = vec![];
        for (def, ms) in &self.paths {
            if def.is_match(path) {
                for (m, hosts) in ms {
                    if hosts & host != 0 && !methods.contains(m) {
                        methods.push(m);
                    }
                }
            }
        }
        if methods.contains(&"GET") {
            methods.push("HEAD");
        }
        (!methods.is_empty()).then(|| methods.join(", "))
    }

    /// Every path written down, with its methods and their kinds of host (tests walk them).
    pub fn all(&self) -> impl Iterator<Item = (&str, &[(&'static str, u8)])> {
        self.paths
            .iter()
            .map(|(d, m)| (d.pattern().unwrap_or(""), m.as_slice()))
    }
}
