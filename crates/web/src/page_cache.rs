//! A short-lived cache of rendered commune pages ("micro-caching").
//!
//! A page depends on the commune's charter (its version is in the key), the language, the path
//! and query, and the clock ("open now"); so entries live a few seconds (`page_cache_seconds`,
//! default 30; 0 turns the cache off). Only successful renders are kept; search pages are not.
//! Memory is bounded by entries and by bytes: when either is reached, expired entries are
//! dropped, and if that is not enough the cache starts again empty; a path and query longer
//! than `MAX_KEY_LEN` is never kept. The JSON API's
//! commune lists are kept the same way (their paths are their own keys). Bodies are shared
//! bytes: a hit is answered without copying the page.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use sportello_domain::{Language, TenantId};

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct PageKey {
    pub tenant: TenantId,
    /// The scheme and port the request came with: absolute links in a page follow them, so a
    /// request with another `Host` port never fills the entry other visitors are served from.
    pub origin: (bool, Option<u16>),
    pub version: i64,
    pub lang: Language,
    pub path_and_query: String,
}

pub struct PageCache {
    entries: Mutex<Entries>,
    ttl: Duration,
    capacity: usize,
    max_bytes: usize,
}

#[derive(Default)]
struct Entries {
    map: HashMap<PageKey, (Instant, Bytes)>,
    /// Bodies and keys held, in bytes.
    bytes: usize,
}

/// A path and query longer than this is answered but never kept: charter URLs are short, and a
/// long one would only let a visitor spend the cache's memory.
pub const MAX_KEY_LEN: usize = 256;

fn size(key: &PageKey, body: &Bytes) -> usize {
    key.path_and_query.len() + body.len() + 64
}

impl PageCache {
    /// At most `capacity` entries and `max_bytes` of keys and bodies.
    pub fn new(ttl: Duration, capacity: usize, max_bytes: usize) -> Self {
        Self {
            entries: Mutex::new(Entries::default()),
            ttl,
            capacity: capacity.max(1),
            max_bytes: max_bytes.max(1),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    pub fn get(&self, key: &PageKey) -> Option<Bytes> {
        if !self.enabled() {
            return None;
        }
        let e = self.entries.lock().ok()?;
        e.map
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, body)| body.clone())
    }

    pub fn put(&self, key: PageKey, body: Bytes) {
        if !self.enabled() || key.path_and_query.len() > MAX_KEY_LEN {
            return;
        }
        let Ok(mut e) = self.entries.lock() else {
            return;
        };
        let added = size(&key, &body);
        if e.map.len() >= self.capacity || e.bytes + added > self.max_bytes {
            // Expired entries go first; if that is not enough, everything.
            let ttl = self.ttl;
            e.map.retain(|_, (at, _)| at.elapsed() < ttl);
            e.bytes = e.map.iter().map(|(k, (_, b))| size(k, b)).sum();
            if e.map.len() >= self.capacity || e.bytes + added > self.max_bytes {
                e.map.clear();
                e.bytes = 0;
            }
        }
        if added > self.max_bytes {
            return;
        }
        if let Some((_, old)) = e.map.insert(key.clone(), (Instant::now(), body)) {
            e.bytes = e.bytes.saturating_sub(size(&key, &old));
        }
        e.bytes += added;
    }

    /// Bytes of keys and bodies held.
    pub fn bytes(&self) -> usize {
        self.entries.lock().map(|e| e.bytes).unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.map.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[path = "tests/page_cache.rs"]
mod tests;
