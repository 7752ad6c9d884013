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
    /// How often each node applies policy changes made elsewhere (milliseconds): the longest a
    /// role taken back on one node still works on another.
    pub policy_refresh_ms: u64,
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
    /// The shared sign-in host (SAML service provider, OIDC relying party, password sign-in).
    /// Empty: `login.<apex_host>`.
    pub login_host: String,
    /// 32 bytes, base64: encrypts secrets at rest (TOTP seeds, commune IdP client secrets).
    /// Required when `public_scheme` is `https`; plain-http development uses a fixed dev key.
    pub secret_key: Secret,
    /// `smtp://host:port` (or `smtps://user:pass@host`); empty: write mails to `mail_outbox`.
    pub smtp_url: Secret,
    pub mail_from: String,
    pub mail_outbox: String,
    /// Where the files people attach to their cases are kept (the local directory store).
    pub files_dir: String,
    /// The outbox's delivery: how each node's workers send what the events wrote.
    pub delivery: Delivery,
    /// A citizen session ends after this many minutes without a request…
    pub session_idle_minutes: i64,
    /// …and in any case this many hours after sign-in.
    pub session_absolute_hours: i64,
    /// Staff sessions end sooner when idle.
    pub staff_idle_minutes: i64,
    /// How long a node keeps a session in memory before reading it again (a logout anywhere
    /// reaches every node within a registry refresh regardless).
    pub session_cache_seconds: u64,
    /// Password sign-in attempts allowed per client address per minute (then 429).
    pub login_attempts_per_minute: u32,
    /// SAML identity providers: metadata files or URLs, comma-separated
    /// (`SPORTELLO_SAML_IDPS`). Metadata without a signing certificate is refused at start-up.
    pub saml_idps: String,
    /// EntityIDs (comma-separated) of SAML IdPs whose signing certificates are used outside their
    /// validity (`SPORTELLO_SAML_IDPS_ACCEPT_EXPIRED`): for a test IdP known to publish a stale
    /// certificate. Any other IdP's expired (or not yet valid) certificate verifies nothing.
    /// Each accepted one is logged as a warning at start-up and daily.
    pub saml_idps_accept_expired: String,
    /// A PEM file of extra certificate authorities trusted for outbound https (identity
    /// providers' discovery, keys, tokens, userinfo and metadata), beside the built-in roots:
    /// for providers behind a private CA. Empty: the built-in roots only.
    pub tls_ca_bundle: String,
    /// PEM files of the service provider's signing key and certificate. Empty: a key pair is
    /// generated at start-up (development and tests only: IdPs must then re-read the metadata).
    pub saml_sp_key: String,
    pub saml_sp_cert: String,
    /// PEM files of the certificate authority that certifies each commune's signing key, for
    /// the PAdES signature of registry certificates (a qualified trust service provider's
    /// intermediate in production). Empty: certificates carry the digital stamp only.
    pub certificate_ca_key: String,
    pub certificate_ca_cert: String,
    /// The federation's IPA code (SPID metadata `ContactPerson/Extensions/IPACode`).
    pub ipa_code: String,
    /// The port the public reaches the portal on, for absolute URLs that must not depend on the
    /// request (the SAML entity ID and endpoints). 0: the listening port (80 and 443 are
    /// left out of URLs).
    pub public_port: u16,
    /// The contact address in the SAML metadata.
    pub contact_email: String,
    /// OpenID Connect providers offered on the sign-in page.
    pub oidc_providers: Vec<OidcProvider>,
    /// Online payments through Stripe: the platform's keys (each commune's connected account is
    /// in its payment settings).
    pub stripe: Stripe,
    /// Demo mode: the demonstration identity provider (fictitious people signed in without a
    /// credential) is offered on the sign-in host. Set only by `sportello serve --demo`: never
    /// read from a file or the environment, and a configuration that names it is refused.
    #[serde(skip)]
    pub demo: bool,
}

/// The platform's Stripe account, as the payments capability uses it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Stripe {
    /// The platform's secret key (`sk_live_…`, `sk_test_…`; `SPORTELLO_STRIPE__SECRET_KEY`).
    /// Empty: nobody pays online (notices are still issued and printed).
    pub secret_key: Secret,
    /// The publishable key, for Stripe.js on the payment page.
    pub publishable_key: String,
    /// Where the payment page loads Stripe.js from (a test points it at its own).
    pub js_url: String,
    /// The webhook endpoint's signing secret (`whsec_…`; `SPORTELLO_STRIPE__WEBHOOK_SECRET`).
    pub webhook_secret: Secret,
    /// Stripe's API (a test points it at its own server).
    pub api_url: String,
    /// A payment left pending this long (seconds) is asked about by the sweeper.
    pub sweep_after_seconds: i64,
    /// How often each node's sweeper looks (milliseconds; 0: never).
    pub sweep_every_ms: u64,
    /// A payment nobody completed is given up (its intent cancelled, its notices freed) after
    /// this many seconds.
    pub expire_after_seconds: i64,
    /// Seats an order takes are held this long (seconds) for its payment; then the payment is
    /// given up and the seats go back on sale.
    pub ticket_hold_seconds: i64,
    /// Coming back to a payment's page asks Stripe at most this often per payment (ms).
    pub refresh_every_ms: u64,
    /// The hour of Italy's clock (0–23) from which yesterday is reconciled against Stripe, for
    /// every commune with a connected account, by the sweeper (one node per commune).
    pub reconcile_at_hour: u32,
}

impl Default for Stripe {
    fn default() -> Self {
        Self {
            secret_key: Secret::new(""),
            publishable_key: String::new(),
            js_url: "https://js.stripe.com/v3/".into(),
            webhook_secret: Secret::new(""),
            api_url: "https://api.stripe.com".into(),
            sweep_after_seconds: 600,
            sweep_every_ms: 60_000,
            expire_after_seconds: 86_400,
            ticket_hold_seconds: 1_200,
            refresh_every_ms: 5_000,
            reconcile_at_hour: 6,
        }
    }
}

/// How the outbox is delivered (see the `notify` crate).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Delivery {
    /// Delivery workers on this node (0: this node sends nothing; others do).
    pub workers: usize,
    /// How often an idle worker looks for due messages (a message written on this node wakes
    /// its workers at once).
    pub poll_ms: u64,
    /// Messages claimed at a time, and sent at once by one worker.
    pub batch: u64,
    pub concurrency: usize,
    /// How long a claimed message is a worker's: after that, another worker takes it (the first
    /// one died).
    pub lease_ms: u64,
    /// The first retry waits about this long, each next one twice as long (±50 % jitter), up
    /// to `retry_max_ms`…
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// …and after this many tries the message fails for good.
    pub max_attempts: i32,
    /// A provider answering later than this is a temporary failure (shorter than the lease).
    pub timeout_ms: u64,
    /// SMS gateways may be on this machine or a private network (loopback, private and
    /// link-local addresses, plain http). Off: gateways are public https services, and an
    /// address that resolves to a private one is refused (no commune can make the node call
    /// its own network).
    pub private_gateways: bool,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            workers: 1,
            poll_ms: 250,
            batch: 50,
            concurrency: 16,
            lease_ms: 60_000,
            retry_base_ms: 30_000,
            retry_max_ms: 3_600_000,
            max_attempts: 8,
            timeout_ms: 10_000,
            private_gateways: false,
        }
    }
}

/// An OpenID Connect provider the federation trusts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OidcProvider {
    /// A short id used in URLs (`/oidc/login?provider=<id>`).
    pub id: String,
    /// The name on the sign-in button.
    pub name: String,
    /// The issuer URL (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
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
            policy_refresh_ms: 250,
            log_format: "pretty".into(),
            tenants_dir: "tenants".into(),
            workers: 0,
            charter_cache_communes: 2000,
            page_cache_seconds: 30,
            login_host: String::new(),
            secret_key: Secret::new(""),
            smtp_url: Secret::new(""),
            mail_from: "Sportello <noreply@sportello.localhost>".into(),
            mail_outbox: "mail-outbox".into(),
            files_dir: "files".into(),
            delivery: Delivery::default(),
            session_idle_minutes: 30,
            session_absolute_hours: 8,
            staff_idle_minutes: 15,
            session_cache_seconds: 30,
            login_attempts_per_minute: 10,
            saml_idps: String::new(),
            saml_idps_accept_expired: String::new(),
            tls_ca_bundle: String::new(),
            saml_sp_key: String::new(),
            saml_sp_cert: String::new(),
            certificate_ca_key: String::new(),
            certificate_ca_cert: String::new(),
            ipa_code: "sportello".into(),
            public_port: 0,
            contact_email: "info@example.org".into(),
            oidc_providers: vec![],
            stripe: Stripe::default(),
            demo: false,
        }
    }
}

/// The key plain-http development uses when `secret_key` is not set (never valid over https).
const DEV_SECRET_KEY: &str = "c3BvcnRlbGxvLWRldmVsb3BtZW50LWtleS0wMDAwMDA=";

impl Settings {
    /// What start-up refuses whatever the source: demo mode over https. Demo mode signs anyone
    /// in as its fictitious people (whose fiscal codes are valid, and could be a real person's
    /// in a real database); it is for trying Sportello on one machine, not for a public site.
    pub fn check(&self) -> Result<(), String> {
        if self.delivery.lease_ms <= self.delivery.timeout_ms {
            return Err(format!(
                "delivery.lease_ms ({}) must exceed delivery.timeout_ms ({}): a message is a \
                 worker's only while its lease lasts",
                self.delivery.lease_ms, self.delivery.timeout_ms
            ));
        }
        if self.demo && self.public_scheme != "http" {
            return Err(format!(
                "demo mode is refused with public_scheme = {:?}: its sign-in as fictitious \
                 people needs no credential, so it runs only over plain http on one machine",
                self.public_scheme
            ));
        }
        Ok(())
    }

    /// The sign-in host.
    pub fn login_host(&self) -> String {
        if self.login_host.is_empty() {
            format!("login.{}", self.apex_host)
        } else {
            self.login_host.clone()
        }
    }

    /// The secret key, or the development key over plain http; an error over https without one.
    pub fn secret_key(&self) -> Result<&str, String> {
        match (self.secret_key.expose(), self.public_scheme.as_str()) {
            ("", "http") => Ok(DEV_SECRET_KEY),
            ("", _) => Err("secret_key must be set when public_scheme is https".into()),
            (k, _) => Ok(k),
        }
    }

    pub fn load() -> Result<Self, String> {
        let file = std::env::var("SPORTELLO_CONFIG").unwrap_or_else(|_| "sportello.toml".into());
        Self::from_figment(
            Figment::from(Serialized::defaults(Settings::default()))
                .merge(Toml::file(file))
                .merge(Env::prefixed("SPORTELLO_").ignore(&["config"]).split("__")),
        )
    }

    /// The settings a figment holds; demo mode named there is refused (only `serve --demo`
    /// turns it on, so no configuration can open the demonstration sign-in in production).
    pub fn from_figment(figment: Figment) -> Result<Self, String> {
        use figment::Provider;
        let data = figment.data().map_err(|e| format!("configuration: {e}"))?;
        if data.values().any(names_demo) {
            return Err(DEMO_REFUSED.into());
        }
        let settings: Settings = figment
            .extract()
            .map_err(|e| format!("configuration: {e}"))?;
        if settings.stripe.reconcile_at_hour > 23 {
            return Err("configuration: stripe.reconcile_at_hour must be an hour, 0 to 23".into());
        }
        Ok(settings)
    }
}

/// Whether a configuration names demo mode anywhere, in any case (`demo`, `DEMO`, a nested
/// `[default] demo`): none of it may turn the demo on, and none of it passes silently.
fn names_demo(dict: &figment::value::Dict) -> bool {
    use figment::value::Value;
    dict.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("demo")
            || match v {
                Value::Dict(_, d) => names_demo(d),
                _ => false,
            }
    })
}

/// Why a configuration that names demo mode is refused.
pub const DEMO_REFUSED: &str = "configuration: `demo` cannot be set in a file or the environment \
     (SPORTELLO_DEMO): demo mode, with its demonstration sign-in as fictitious people, is turned \
     on only by `sportello serve --demo`";

#[cfg(test)]
#[path = "tests/config.rs"]
mod tests;
