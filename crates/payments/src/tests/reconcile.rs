//! The reconciliation's day: an Italian day, from midnight to midnight in Rome.

use super::*;

#[test]
fn an_italian_day_is_its_local_midnights() {
    // Summer time: 2026-07-01 starts at 22:00 UTC the day before.
    let (a, b) = bounds(NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
    assert_eq!(a, 1_782_856_800);
    assert_eq!(b - a, 86_400);
    // The day summer time ends has 25 hours.
    let (a, b) = bounds(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap());
    assert_eq!(b - a, 25 * 3600);
}
