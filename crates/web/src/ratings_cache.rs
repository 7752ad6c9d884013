//! The ratings' averages shown on service cards, kept per commune for a few minutes on each
//! node: a service card's view runs no statement (charter pages never do), and an average is at
//! most [`RatingsCache::TTL`] late.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sportello_domain::TenantId;
use sportello_store::Store;
use sportello_store::cases::ratings::Average;

type Entry = (Instant, HashMap<String, Average>);

#[derive(Default)]
pub struct RatingsCache {
    entries: Mutex<HashMap<TenantId, Entry>>,
}

impl RatingsCache {
    pub const TTL: Duration = Duration::from_secs(300);
    /// Communes kept at most (cleared when full).
    const MAX: usize = 5_000;

    /// A service's average, if it has ratings.
    pub async fn of(
        &self,
        store: &Store,
        commune: TenantId,
        service: &str,
    ) -> sportello_store::Result<Option<Average>> {
        if let Ok(map) = self.entries.lock()
            && let Some((at, all)) = map.get(&commune)
            && at.elapsed() < Self::TTL
        {
            return Ok(all.get(service).cloned());
        }
        let tx = store.tenant_read(commune).await?;
        let all: HashMap<String, Average> = tx
            .db()
            .rating_averages(false)
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        tx.commit().await?;
        let found = all.get(service).cloned();
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= Self::MAX {
                map.clear();
            }
            map.insert(commune, (Instant::now(), all));
        }
        Ok(found)
    }
}
