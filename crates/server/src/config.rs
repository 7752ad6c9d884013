//! Typed settings: defaults, then an optional TOML file (`SPORTELLO_CONFIG`, default
//! `sportello.toml` if present), then `SPORTELLO_*` environment variables.

use std::fmt;
use std::net::IpAddr;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// A value never printed: `Debug` shows `[redacted]`.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// `sqlite://sportello.db?mode=rwc` or `postgres://user:pass@host/db` (it may hold a password).
    pub database_url: Secret,
    /// Where the server listens.
    pub bind: String,
    /// The federation's own host: its portal (find your commune) answers there.
    pub apex_host: String,
    /// The federation's display name.
    pub federation_name: String,
    /// `http` in development, `https` behind TLS: used to build redirects and links.
    pub public_scheme: String,
    /// Peers whose `X-Forwarded-Host` is believed (reverse proxies). Anyone else's is ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// How often the in-memory commune registry checks for changes, in milliseconds.
    pub registry_refresh_ms: u64,
    /// `pretty` or `json` logs.
    pub log_format: String,
    /// Where `tenants sync` and `serve --demo` read commune files.
    pub tenants_dir: String,
    /// Worker threads of the HTTP server (0: one per core).
    pub workers: usize,
    /// How many communes' charters each node keeps in memory.
    pub charter_cache_communes: usize,
    /// How long a rendered commune page may be served again, in seconds (0: never).
    pub page_cache_seconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: Secret::new("sqlite://sportello.db?mode=rwc"),
            bind: "127.0.0.1:8080".into(),
            apex_host: "localhost".into(),
            federation_name: "Sportello".into(),
            public_scheme: "http".into(),
            trusted_proxies: vec![],
            registry_refresh_ms: 1000,
            log_format: "pretty".into(),
            tenants_dir: "tenants".into(),
            workers: 0,
            charter_cache_communes: 2000,
            page_cache_seconds: 30,
        }
    }
}

impl Settings {
    pub fn load() -> Result<Self, String> {
        let file = std::env::var("SPORTELLO_CONFIG").unwrap_or_else(|_| "sportello.toml".into());
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("SPORTELLO_").ignore(&["config"]))
            .extract()
            .map_err(|e| format!("configuration: {e}"))
    }
}

#[cfg(test)]
#[path = "tests/config.rs"]
mod tests;
