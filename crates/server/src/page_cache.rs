//! A short-lived cache of rendered commune pages ("micro-caching").
//!
//! A page depends on the commune's charter (its version is in the key), the language, the path
//! and query, and the clock ("open now"); so entries live a few seconds (`page_cache_seconds`,
//! default 30; 0 turns the cache off). Only successful renders are kept; search pages are not.
//! Memory is bounded: past `capacity` entries the cache starts again empty. The JSON API's
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
    entries: Mutex<HashMap<PageKey, (Instant, Bytes)>>,
    ttl: Duration,
    capacity: usize,
}

impl PageCache {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity: capacity.max(1),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    pub fn get(&self, key: &PageKey) -> Option<Bytes> {
        if !self.enabled() {
            return None;
        }
        let map = self.entries.lock().ok()?;
        map.get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, body)| body.clone())
    }

    pub fn put(&self, key: PageKey, body: Bytes) {
        if !self.enabled() {
            return;
        }
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= self.capacity {
                map.clear();
            }
            map.insert(key, (Instant::now(), body));
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[path = "tests/page_cache.rs"]
mod tests;
