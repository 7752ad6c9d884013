//! The bundle every service receives: built once at start-up (by the web layer or the CLI),
//! shared by reference. Services take `&Deps`, never the web layer's state.

use std::sync::Arc;
use std::time::Duration;

use sportello_authz::Policies;
use sportello_domain::Host;
use sportello_store::Store;

use crate::mail::Mailer;
use crate::policies::PolicySync;
use crate::secretbox::SecretBox;
use crate::session::{Lifetimes, Sessions};
use crate::tenancy::Tenancy;
use crate::{Result, Settings};

#[derive(Clone)]
pub struct Deps {
    pub store: Store,
    /// Every commune by host and id, refreshed from the store.
    pub tenancy: Arc<Tenancy>,
    /// Who may do what: the node's enforcer, and the revision it reflects.
    pub policies: Arc<Policies>,
    pub policy_sync: Arc<PolicySync>,
    pub mailer: Arc<Mailer>,
    /// Server-side sessions: opened by identity, ended by the consoles, looked up by the web.
    pub sessions: Arc<Sessions>,
    /// The node's Prometheus registry and the counters services move.
    pub metrics: crate::metrics::Metrics,
    /// Seals secrets kept at rest (TOTP seeds, OIDC client secrets).
    pub secrets: SecretBox,
    pub settings: Settings,
    pub federation_name: String,
    /// `http` or `https`: for links in mails.
    pub scheme: String,
    /// The shared sign-in host.
    pub login_host: Host,
    /// `scheme://login-host[:public port]`: for links in mails (never from a request).
    pub login_base: String,
    /// Wakes this node's delivery workers: a message was just committed.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Submissions of one commune let through to the database at once (see [`crate::gate`]).
    pub submissions: Arc<crate::gate::Gate>,
    /// Where attached files are kept, and what looks at each before it is accepted.
    pub files: Arc<dyn crate::files::FileStore>,
    pub scanner: Arc<dyn crate::files::Scanner>,
}

impl Deps {
    /// A commune's public origin (`scheme://host[:port]`), for links in what is sent without a
    /// request (a receipt after Stripe's event): the sign-in host's origin with the commune's
    /// host instead.
    pub fn commune_base(&self, host: &str) -> String {
        self.login_base.replacen(self.login_host.as_str(), host, 1)
    }

    /// Builds the bundle from the settings: the commune registry and the policies read from
    /// the store, the mailer, the secret box. `login_base` is the sign-in host's public origin
    /// (the web layer knows the port it listens on). Starts nothing: see [`Deps::spawn_pollers`].
    pub async fn load(
        settings: &Settings,
        store: Store,
        login_base: String,
    ) -> std::result::Result<Deps, String> {
        settings.check()?;
        let apex = Host::parse(&settings.apex_host).map_err(|e| format!("apex_host: {e}"))?;
        let login_host =
            Host::parse(&settings.login_host()).map_err(|e| format!("login_host: {e}"))?;
        let tenancy = Tenancy::load(&store, apex, settings.trusted_proxies.clone())
            .await
            .map_err(|e| format!("loading the commune registry: {e}"))?;
        let mailer = Arc::new(Mailer::new(
            Some(settings.smtp_url.expose()),
            &settings.mail_outbox,
            &settings.mail_from,
            Duration::from_millis(settings.delivery.timeout_ms.max(100)),
        )?);
        let secrets = SecretBox::from_base64(settings.secret_key()?)?;
        let sessions = Arc::new(Sessions::with_cache(
            Lifetimes {
                idle: settings.session_idle_minutes * 60,
                absolute: settings.session_absolute_hours * 3600,
                staff_idle: settings.staff_idle_minutes * 60,
            },
            settings.public_scheme == "https",
            Duration::from_secs(settings.session_cache_seconds),
        ));
        let started = std::time::Instant::now();
        let (policies, revision) = crate::policies::load(&store).await?;
        let (rule_sets, rules, links) = policies.size().await;
        tracing::info!(
            rule_sets,
            rules,
            links,
            ms = started.elapsed().as_millis() as u64,
            "policies loaded"
        );
        Ok(Deps {
            store,
            tenancy,
            policies: Arc::new(policies),
            policy_sync: Arc::new(PolicySync::new(revision)),
            mailer,
            sessions,
            metrics: crate::metrics::Metrics::new().map_err(|e| format!("metrics: {e}"))?,
            secrets,
            settings: settings.clone(),
            federation_name: settings.federation_name.clone(),
            scheme: settings.public_scheme.clone(),
            login_host,
            login_base,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            submissions: Arc::new(crate::gate::Gate::default()),
            files: Arc::new(crate::files::LocalDir::new(&settings.files_dir)),
            scanner: Arc::new(crate::files::NoScan),
        })
    }

    /// Keeps this node current: the commune registry, the policies and the ended sessions, each
    /// polled from the store (changes made on other nodes arrive within one tick).
    pub fn spawn_pollers(&self) {
        self.sessions.spawn_revocation_poller(
            self.store.clone(),
            Duration::from_millis(self.settings.registry_refresh_ms.max(50)),
        );
        self.tenancy.spawn_refresher(
            self.store.clone(),
            Duration::from_millis(self.settings.registry_refresh_ms.max(50)),
        );
        self.policy_sync.spawn(
            self.store.clone(),
            self.policies.clone(),
            Duration::from_millis(self.settings.policy_refresh_ms.max(20)),
        );
        // The planner's statistics (SQLite keeps none by itself): at start, then hourly.
        let store = self.store.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(3600));
            loop {
                every.tick().await;
                if let Err(e) = store.refresh_statistics().await {
                    tracing::warn!(error = %e, "refreshing the planner's statistics failed");
                }
            }
        });
    }

    /// After a committed policy, role or grant change: this node applies it now (others within
    /// a poll tick).
    pub async fn apply_policy_changes(&self) -> Result<()> {
        self.policy_sync
            .catch_up(&self.store, &self.policies)
            .await?;
        Ok(())
    }

    /// After a committed registry or charter change: this node sees it now (others within a
    /// refresh tick).
    pub async fn apply_registry_changes(&self) {
        if let Err(e) = self.tenancy.refresh(&self.store).await {
            tracing::warn!(error = %e, "registry refresh after a change failed");
        }
    }
}
