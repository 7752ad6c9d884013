use chrono::NaiveDate;

use super::due_day;

fn micros(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_micros()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn yesterday_in_italy_once_its_clock_passes_the_hour() {
    // 05:59 in Rome (CET, UTC+1): not yet; the day before yesterday (done the morning before).
    assert_eq!(
        due_day(micros("2026-12-07T04:59:00Z"), 6),
        day("2026-12-05")
    );
    // 06:00 in Rome: yesterday.
    assert_eq!(
        due_day(micros("2026-12-07T05:00:00Z"), 6),
        day("2026-12-06")
    );
    // Late evening UTC is already the next day in Rome.
    assert_eq!(
        due_day(micros("2026-12-07T23:30:00Z"), 0),
        day("2026-12-07")
    );
    // Summer time (CEST, UTC+2): 06:00 in Rome is 04:00 UTC.
    assert_eq!(
        due_day(micros("2026-07-15T04:00:00Z"), 6),
        day("2026-07-14")
    );
    assert_eq!(
        due_day(micros("2026-07-15T03:59:00Z"), 6),
        day("2026-07-13")
    );
    // An hour past 23 counts as 23.
    assert_eq!(
        due_day(micros("2026-12-07T22:59:00Z"), 99),
        day("2026-12-06")
    );
    assert_eq!(
        due_day(micros("2026-12-07T21:59:00Z"), 99),
        day("2026-12-05")
    );
}
