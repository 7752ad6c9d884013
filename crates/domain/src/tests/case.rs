use chrono::NaiveDate;

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn protocol_numbers_have_seven_digits_and_parse_as_typed() {
    let p = ProtocolNumber {
        year: 2026,
        number: 123,
    };
    assert_eq!(p.to_string(), "2026/0000123");
    assert_eq!(
        ProtocolNumber {
            year: 2026,
            number: 12_345_678
        }
        .to_string(),
        "2026/12345678"
    );
    for typed in ["2026/0000123", "2026/123", " 2026 - 123 "] {
        assert_eq!(ProtocolNumber::parse(typed).unwrap(), p);
    }
    for bad in ["", "2026", "26/1", "2026/0", "2026/x", "1999/1", "2026/1/2"] {
        assert!(ProtocolNumber::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_deadline_counts_calendar_days_from_the_protocol() {
    let dl = Deadline::compute(d(2026, 12, 1), 30, 0, None, d(2026, 12, 6));
    assert_eq!(dl.due, d(2026, 12, 31));
    assert_eq!(dl.days_left, 25);
    assert!(!dl.overdue && !dl.paused);
    let late = Deadline::compute(d(2026, 11, 1), 30, 0, None, d(2026, 12, 6));
    assert_eq!(late.days_left, -5);
    assert!(late.overdue);
}

#[test]
fn waiting_for_the_citizen_pauses_the_deadline() {
    // Asked on the 10th, answered on the 17th: seven days more.
    let paused = pause_days(d(2026, 12, 10), d(2026, 12, 17));
    assert_eq!(paused, 7);
    let dl = Deadline::compute(d(2026, 12, 1), 30, paused, None, d(2026, 12, 20));
    assert_eq!(dl.due, d(2027, 1, 7));
    // While waiting, each day moves the due date on and the case is never overdue.
    let waiting = Deadline::compute(d(2026, 11, 1), 30, 0, Some(d(2026, 11, 20)), d(2026, 12, 6));
    assert_eq!(waiting.due, d(2026, 12, 17));
    assert_eq!(waiting.days_left, 11);
    assert!(waiting.paused && !waiting.overdue);
    assert_eq!(pause_days(d(2026, 12, 10), d(2026, 12, 10)), 0);
    assert_eq!(pause_days(d(2026, 12, 10), d(2026, 12, 9)), 0);
}

#[test]
fn closed_states() {
    for s in CaseStatus::ALL {
        assert_eq!(CaseStatus::parse(s.code()), Some(*s));
    }
    assert!(CaseStatus::Withdrawn.is_closed() && !CaseStatus::Waiting.is_closed());
}
