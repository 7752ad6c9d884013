//! A short-lived cache of rendered commune pages ("micro-caching").
//!
//! A page depends on the commune's charter (its version is in the key), the language, the path
//! and query, and the clock ("open now"); so entries live a few seconds (`page_cache_seconds`,
//! default 30; 0 turns the cache off). Only successful renders are kept; search pages are not.
//! Memory is bounded: past `capacity` entries the cache starts again empty.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sportello_domain::{Language, TenantId};

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct PageKey {
    pub tenant: TenantId,
    pub version: i64,
    pub lang: Language,
    pub path_and_query: String,
}

pub struct PageCache {
    entries: Mutex<HashMap<PageKey, (Instant, std::sync::Arc<str>)>>,
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

    pub fn get(&self, key: &PageKey) -> Option<std::sync::Arc<str>> {
        if !self.enabled() {
            return None;
        }
        let map = self.entries.lock().ok()?;
        map.get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, html)| html.clone())
    }

    pub fn put(&self, key: PageKey, html: std::sync::Arc<str>) {
        if !self.enabled() {
            return;
        }
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= self.capacity {
                map.clear();
            }
            map.insert(key, (Instant::now(), html));
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
