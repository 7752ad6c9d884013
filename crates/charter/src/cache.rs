//! Each commune's charter, read once and kept in memory until the commune's version changes.
//!
//! The version is the commune's `updated_at`, which every charter change moves and which reaches
//! every node with the registry refresh; so a page view costs no query, and a change is visible
//! everywhere within one refresh interval. At most `capacity` communes are kept (memory stays
//! bounded with 7,896 communes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sportello_domain::TenantId;
use sportello_store::Store;
use sportello_store::charter::{Building, Office, Service, Staff};

use sportello_kernel::tenancy::Commune;

/// One commune's charter, read in one transaction.
pub struct Charter {
    pub services: Vec<Service>,
    pub offices: Vec<Office>,
    pub buildings: Vec<Building>,
    pub staff: Vec<Staff>,
    pub patron_day: Option<(u32, u32)>,
}

pub struct CharterCache {
    entries: Mutex<HashMap<TenantId, (i64, Arc<Charter>)>>,
    capacity: usize,
}

impl CharterCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn cached(&self, id: TenantId, version: i64) -> Option<Arc<Charter>> {
        let map = self.entries.lock().ok()?;
        map.get(&id)
            .filter(|(v, _)| *v == version)
            .map(|(_, c)| c.clone())
    }

    fn keep(&self, id: TenantId, version: i64, charter: Arc<Charter>) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= self.capacity && !map.contains_key(&id) {
                // Evict the entry with the oldest version: a cheap stand-in for least recently used.
                if let Some(old) = map.iter().min_by_key(|(_, (v, _))| *v).map(|(k, _)| *k) {
                    map.remove(&old);
                }
            }
            map.insert(id, (version, charter));
        }
    }

    /// How many communes' charters are in memory.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The commune's charter, from memory when its version is current.
    pub async fn get(
        &self,
        store: &Store,
        commune: &Commune,
    ) -> sportello_store::Result<Arc<Charter>> {
        let id = commune.id();
        let version = commune.record.version;
        if let Some(c) = self.cached(id, version) {
            return Ok(c);
        }
        let tx = store.tenant_read(id).await?;
        let db = tx.db();
        // The public's charter: offices still in draft are not in it, nor are they named as
        // the competent office of a service.
        let offices: Vec<_> = db
            .offices()
            .await?
            .into_iter()
            .filter(|o| !o.draft)
            .collect();
        let mut services = db.services().await?;
        for s in &mut services {
            if s.office_id
                .as_ref()
                .is_some_and(|o| !offices.iter().any(|x| &x.id == o))
            {
                s.office_id = None;
            }
        }
        let charter = Arc::new(Charter {
            services,
            offices,
            buildings: db.buildings().await?,
            staff: db.staff().await?,
            patron_day: commune.record.patron_day,
        });
        drop(tx);
        self.keep(id, version, charter.clone());
        Ok(charter)
    }
}

#[cfg(test)]
#[path = "tests/cache.rs"]
mod tests;
