use super::*;

fn key(path: &str, version: i64) -> PageKey {
    PageKey {
        tenant: TenantId(1),
        origin: (false, None),
        version,
        lang: Language::It,
        path_and_query: path.into(),
    }
}

#[test]
fn entries_expire_and_a_new_charter_version_misses() {
    let cache = PageCache::new(Duration::from_millis(50), 10, 1 << 20);
    cache.put(key("/servizi", 1), "a".into());
    assert_eq!(cache.get(&key("/servizi", 1)).as_deref(), Some(&b"a"[..]));
    assert!(cache.get(&key("/servizi", 2)).is_none());
    std::thread::sleep(Duration::from_millis(60));
    assert!(
        cache.get(&key("/servizi", 1)).is_none(),
        "an expired page must be rendered again"
    );
}

#[test]
fn memory_stays_bounded_and_zero_seconds_turns_it_off() {
    let cache = PageCache::new(Duration::from_secs(30), 3, 1 << 20);
    for i in 0..10 {
        cache.put(key(&format!("/p{i}"), 1), "x".into());
        assert!(cache.len() <= 3);
    }
    let off = PageCache::new(Duration::ZERO, 3, 1 << 20);
    off.put(key("/", 1), "x".into());
    assert!(off.get(&key("/", 1)).is_none());
}

#[test]
fn bytes_are_bounded_and_long_keys_never_kept() {
    let cache = PageCache::new(Duration::from_secs(30), 1000, 10_000);
    let body = Bytes::from(vec![b'x'; 1_000]);
    for i in 0..100 {
        cache.put(key(&format!("/p{i}"), 1), body.clone());
        assert!(cache.bytes() <= 10_000, "{} bytes held", cache.bytes());
    }
    assert!(!cache.is_empty());
    // Replacing an entry does not count it twice.
    let fresh = PageCache::new(Duration::from_secs(30), 1000, 10_000);
    for _ in 0..50 {
        fresh.put(key("/same", 1), body.clone());
    }
    assert_eq!(fresh.len(), 1);
    assert!(fresh.bytes() < 2_000);
    // A long query string is answered but not kept.
    let long = format!("/servizi?x={}", "a".repeat(MAX_KEY_LEN));
    fresh.put(key(&long, 1), body.clone());
    assert!(fresh.get(&key(&long, 1)).is_none());
}
