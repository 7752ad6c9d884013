//! Which commune a request is for: an in-memory registry keyed by host name, refreshed from the
//! database when its revision changes, and the resolution rules.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use sportello_domain::{CommuneStatus, Host};
use sportello_store::Store;
use sportello_store::registry::CommuneRecord;

/// A commune as the portal serves it.
#[derive(Debug)]
pub struct Commune {
    pub record: CommuneRecord,
    /// Name (and second-language name) folded for search on the federation portal.
    pub search_key: String,
}

impl Commune {
    pub fn id(&self) -> sportello_domain::TenantId {
        self.record.id
    }
}

enum Entry {
    Primary(Arc<Commune>),
    Alias(Arc<Commune>),
}

/// A snapshot of every commune by host.
pub struct Registry {
    by_host: HashMap<String, Entry>,
    /// Every commune, ordered by name (the federation portal lists and searches these).
    pub communes: Vec<Arc<Commune>>,
    pub revision: i64,
}

/// The outcome of resolving a request's host.
pub enum Resolution {
    Commune(Arc<Commune>),
    /// An alias: answer with a permanent redirect to this primary host.
    Redirect(String),
    Suspended(Arc<Commune>),
    /// Onboarded, not yet published: its console only.
    Draft(Arc<Commune>),
    Federation,
    Unknown,
}

impl Registry {
    pub fn build(records: Vec<CommuneRecord>, revision: i64) -> Self {
        let mut by_host = HashMap::with_capacity(records.len() * 2);
        let mut communes = Vec::with_capacity(records.len());
        for r in records {
            let search_key = sportello_store::fold_for_search(&format!(
                "{} {}",
                r.name,
                r.name_other.as_deref().unwrap_or("")
            ));
            let c = Arc::new(Commune {
                record: r,
                search_key,
            });
            by_host.insert(c.record.primary_host.clone(), Entry::Primary(c.clone()));
            for a in &c.record.aliases {
                by_host.insert(a.clone(), Entry::Alias(c.clone()));
            }
            communes.push(c);
        }
        Self {
            by_host,
            communes,
            revision,
        }
    }

    pub fn resolve(&self, host: &Host, apex: &Host) -> Resolution {
        match self.by_host.get(host.as_str()) {
            Some(Entry::Primary(c)) if c.record.status == CommuneStatus::Suspended => {
                Resolution::Suspended(c.clone())
            }
            Some(Entry::Primary(c)) if c.record.status == CommuneStatus::Draft => {
                Resolution::Draft(c.clone())
            }
            Some(Entry::Primary(c)) => Resolution::Commune(c.clone()),
            Some(Entry::Alias(c)) => Resolution::Redirect(c.record.primary_host.clone()),
            None if host == apex => Resolution::Federation,
            None => Resolution::Unknown,
        }
    }

    pub fn len(&self) -> usize {
        self.communes.len()
    }

    /// Every commune, in registry order.
    pub fn communes(&self) -> &[Arc<Commune>] {
        &self.communes
    }

    pub fn is_empty(&self) -> bool {
        self.communes.is_empty()
    }
}

/// The registry shared by every worker; swapped whole when the database says it changed.
pub struct Tenancy {
    current: ArcSwap<Registry>,
    pub apex: Host,
    trusted_proxies: Vec<IpAddr>,
}

impl Tenancy {
    pub async fn load(
        store: &Store,
        apex: Host,
        trusted_proxies: Vec<IpAddr>,
    ) -> sportello_store::Result<Arc<Self>> {
        let fed = store.federation();
        let revision = fed.registry_revision().await?;
        let reg = Registry::build(fed.load_registry().await?, revision);
        Ok(Arc::new(Self {
            current: ArcSwap::from_pointee(reg),
            apex,
            trusted_proxies,
        }))
    }

    pub fn snapshot(&self) -> arc_swap::Guard<Arc<Registry>> {
        self.current.load()
    }

    /// A commune by id, whatever its status.
    pub fn by_id(&self, id: sportello_domain::TenantId) -> Option<Arc<Commune>> {
        self.current
            .load()
            .communes
            .iter()
            .find(|c| c.id() == id)
            .cloned()
    }

    /// Reloads when the stored revision moved. Returns whether it did.
    pub async fn refresh(&self, store: &Store) -> sportello_store::Result<bool> {
        let fed = store.federation();
        let revision = fed.registry_revision().await?;
        if revision == self.current.load().revision {
            return Ok(false);
        }
        let reg = Registry::build(fed.load_registry().await?, revision);
        tracing::info!(communes = reg.len(), revision, "commune registry reloaded");
        self.current.store(Arc::new(reg));
        Ok(true)
    }

    /// Polls the registry revision for the life of the process.
    pub fn spawn_refresher(self: &Arc<Self>, store: Store, every: Duration) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = me.refresh(&store).await {
                    tracing::warn!(error = %e, "commune registry refresh failed");
                }
            }
        });
    }

    /// The host a request is for: `X-Forwarded-Host` from a trusted proxy, else `Host`.
    /// The client's address: the peer, or — when the peer is a trusted proxy — the right-most
    /// address of `X-Forwarded-For` that is not itself a trusted proxy.
    pub fn client_ip(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let chain = forwarded_for.unwrap_or("");
        for hop in chain.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if self.trusted_proxies.contains(&ip) => continue,
                Ok(ip) => return Some(ip),
                Err(_) => break,
            }
        }
        Some(peer)
    }

    pub fn request_host<'a>(
        &self,
        peer: Option<IpAddr>,
        host: Option<&'a str>,
        forwarded: Option<&'a str>,
    ) -> Option<&'a str> {
        let trusted = peer.is_some_and(|p| self.trusted_proxies.contains(&p));
        match forwarded {
            Some(f) if trusted => f.split(',').next().map(str::trim),
            _ => host,
        }
    }
}
