use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}
fn at(date: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    date.and_hms_opt(h, m, 0).unwrap()
}
fn hours() -> OpeningHours {
    let r = |s| TimeRange::parse(s).unwrap();
    OpeningHours {
        weekly: WeeklyHours {
            mon: vec![r("08:30-12:30")],
            tue: vec![r("08:30-12:30"), r("15:00-17:00")],
            fri: vec![r("08:30-12:30")],
            ..Default::default()
        },
        closures: vec![
            Closure {
                date: d(2026, 12, 1),
                hours: None,
                note: Some("Inventario".into()),
            },
            Closure {
                date: d(2026, 12, 7),
                hours: Some(vec![r("09:00-11:00")]),
                note: None,
            },
        ],
        patron_day: Some((6, 17)),
    }
}

#[test]
fn easter_dates() {
    assert_eq!(easter_sunday(2024), Some(d(2024, 3, 31)));
    assert_eq!(easter_sunday(2026), Some(d(2026, 4, 5)));
    assert_eq!(easter_sunday(2027), Some(d(2027, 3, 28)));
    assert!(is_national_holiday(d(2026, 4, 6)));
    assert!(!is_national_holiday(d(2026, 4, 7)));
    assert!(is_national_holiday(d(2026, 10, 4)));
    assert!(!is_national_holiday(d(2025, 10, 4)));
}

#[test]
fn open_and_closed_at_moments() {
    let h = hours();
    // Tuesday 2026-11-24, afternoon opening.
    let tue = d(2026, 11, 24);
    assert_eq!(
        h.status_at(at(tue, 10, 0)),
        OpeningStatus::Open {
            closes_at: NaiveTime::from_hms_opt(12, 30, 0).unwrap()
        }
    );
    assert_eq!(
        h.status_at(at(tue, 13, 0)),
        OpeningStatus::Closed {
            reopens_at: Some(at(tue, 15, 0))
        }
    );
    assert_eq!(
        h.status_at(at(tue, 12, 30)),
        OpeningStatus::Closed {
            reopens_at: Some(at(tue, 15, 0))
        }
    );
    // Tuesday evening → Friday morning (Wed and Thu closed).
    assert_eq!(
        h.status_at(at(tue, 18, 0)),
        OpeningStatus::Closed {
            reopens_at: Some(at(d(2026, 11, 27), 8, 30))
        }
    );
    // Closure on Tuesday 1 December: skip to Friday 4 December.
    assert_eq!(
        h.status_at(at(d(2026, 12, 1), 9, 0)),
        OpeningStatus::Closed {
            reopens_at: Some(at(d(2026, 12, 4), 8, 30))
        }
    );
    // Reduced hours on Monday 7 December.
    assert_eq!(
        h.status_at(at(d(2026, 12, 7), 11, 30)),
        OpeningStatus::Closed {
            reopens_at: Some(at(d(2026, 12, 11), 8, 30))
        }
    );
    // Easter Monday 2026 and the patron day (Wednesday 17 June 2026 is closed anyway; 2027 is a Thursday).
    assert_eq!(h.day(d(2026, 4, 6)).1, Some(Exception::NationalHoliday));
    assert_eq!(h.day(d(2025, 6, 17)).1, Some(Exception::PatronDay));
    assert!(h.day(d(2025, 6, 17)).0.is_empty());
}

#[test]
fn bad_ranges_are_refused() {
    assert!(TimeRange::parse("12:30-08:30").is_err());
    assert!(TimeRange::parse("8-12").is_err());
    let r = |s| TimeRange::parse(s).unwrap();
    let w = WeeklyHours {
        mon: vec![r("08:00-12:00"), r("11:00-13:00")],
        ..Default::default()
    };
    assert!(w.check().is_err());
}

#[test]
fn hours_as_a_clerk_writes_them() {
    let h = WeeklyHours::parse_lines(
        "lun 08:30-12:30 15:00-17:00\nMercoledì 09:00-12:00\nfri 09:00-13:00\n\n",
    )
    .unwrap();
    assert_eq!(h.mon.len(), 2);
    assert_eq!(h.wed.len(), 1);
    assert_eq!(h.fri.len(), 1);
    assert!(h.tue.is_empty());
    assert_eq!(WeeklyHours::parse_lines(&h.to_lines()).unwrap(), h);
    assert!(WeeklyHours::parse_lines("lunedi 8-12").is_err());
    assert!(WeeklyHours::parse_lines("xyz 08:00-12:00").is_err());
    assert!(WeeklyHours::parse_lines("lun 08:00-12:00 11:00-13:00").is_err());
    let c = Closure::parse_lines("2026-12-31 09:00-12:00 Ultimo dell'anno\n2026-12-24 Vigilia")
        .unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].hours, None);
    assert_eq!(c[0].note.as_deref(), Some("Vigilia"));
    assert_eq!(c[1].hours.as_ref().map(Vec::len), Some(1));
    assert_eq!(Closure::parse_lines(&Closure::to_lines(&c)).unwrap(), c);
    assert!(Closure::parse_lines("24/12/2026 chiuso").is_err());
}
