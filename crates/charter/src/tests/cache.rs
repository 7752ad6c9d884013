use super::*;

fn empty() -> Arc<Charter> {
    Arc::new(Charter {
        services: vec![],
        offices: vec![],
        buildings: vec![],
        staff: vec![],
        patron_day: None,
    })
}

#[test]
fn a_new_version_misses_and_the_cache_stays_within_its_capacity() {
    let cache = CharterCache::new(2);
    cache.keep(TenantId(1), 10, empty());
    assert!(cache.cached(TenantId(1), 10).is_some());
    assert!(
        cache.cached(TenantId(1), 11).is_none(),
        "a changed commune must be reloaded"
    );
    cache.keep(TenantId(2), 20, empty());
    cache.keep(TenantId(3), 30, empty());
    assert_eq!(cache.len(), 2);
    assert!(
        cache.cached(TenantId(1), 10).is_none(),
        "the oldest entry is evicted"
    );
    assert!(cache.cached(TenantId(3), 30).is_some());
    // Replacing a commune's entry does not evict another.
    cache.keep(TenantId(3), 31, empty());
    assert_eq!(cache.len(), 2);
    assert!(cache.cached(TenantId(2), 20).is_some());
}
