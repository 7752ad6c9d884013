#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn retries_double_up_to_the_maximum_with_jitter() {
    let cfg = Delivery {
        retry_base_ms: 1_000,
        retry_max_ms: 60_000,
        ..Delivery::default()
    };
    assert_eq!(retry_delay(&cfg, 1, 1.0), 1_000_000);
    assert_eq!(retry_delay(&cfg, 2, 1.0), 2_000_000);
    assert_eq!(retry_delay(&cfg, 4, 1.0), 8_000_000);
    assert_eq!(retry_delay(&cfg, 20, 1.0), 60_000_000, "capped");
    assert_eq!(retry_delay(&cfg, 3, 0.5), 2_000_000);
    assert_eq!(retry_delay(&cfg, 3, 1.5), 6_000_000);
    assert_eq!(retry_delay(&cfg, 100, 1.0), 60_000_000, "no overflow");
}
