//! Opening hours of an office: a weekly pattern, the commune's exceptions (closures, reduced
//! hours), Italy's national holidays and the patron saint's day.

use std::fmt;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use crate::{ParseError, Why};

/// An opening interval within one day, `08:30-12:30`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

impl TimeRange {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let bad = || {
            ParseError::new(
                Why::HoursFormat,
                "opening hours",
                format!("{s:?} is not HH:MM-HH:MM"),
            )
            .arg(s)
        };
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let t = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").map_err(|_| bad());
        let (opens, closes) = (t(a)?, t(b)?);
        if opens >= closes {
            return Err(ParseError::new(
                Why::HoursOrder,
                "opening hours",
                format!("{s:?} closes before it opens"),
            )
            .arg(s));
        }
        Ok(Self { opens, closes })
    }
    pub fn contains(&self, t: NaiveTime) -> bool {
        self.opens <= t && t < self.closes
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}–{}",
            self.opens.format("%H:%M"),
            self.closes.format("%H:%M")
        )
    }
}

impl Serialize for TimeRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!(
            "{}-{}",
            self.opens.format("%H:%M"),
            self.closes.format("%H:%M")
        ))
    }
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TimeRange::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The weekly pattern; a day that is absent or empty is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mon: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tue: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wed: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thu: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fri: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sat: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sun: Vec<TimeRange>,
}

impl WeeklyHours {
    pub fn on(&self, day: Weekday) -> &[TimeRange] {
        match day {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }

    /// Checks that each day's ranges are in order and do not overlap.
    pub fn check(&self) -> Result<(), ParseError> {
        for day in [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ] {
            check_ranges(self.on(day))?;
        }
        Ok(())
    }
}

fn check_ranges(r: &[TimeRange]) -> Result<(), ParseError> {
    for w in r.windows(2) {
        if w[1].opens < w[0].closes {
            return Err(ParseError::new(
                Why::HoursOverlap,
                "opening hours",
                format!("{} and {} overlap or are out of order", w[0], w[1]),
            )
            .arg(format!("{}, {}", w[0], w[1])));
        }
    }
    Ok(())
}

/// An exception on one date: closed all day (`hours` absent) or open only in `hours`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Vec<TimeRange>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why a day differs from the weekly pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exception {
    NationalHoliday,
    PatronDay,
    Closure(Option<String>),
}

/// All that decides when an office is open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningHours {
    pub weekly: WeeklyHours,
    #[serde(default)]
    pub closures: Vec<Closure>,
    /// (month, day) of the patron saint's day, when offices close.
    #[serde(default)]
    pub patron_day: Option<(u32, u32)>,
}

/// Whether an office is open at a moment, and when that changes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpeningStatus {
    Open { closes_at: NaiveTime },
    Closed { reopens_at: Option<NaiveDateTime> },
}

impl OpeningHours {
    /// The ranges the office is open on `date`, and the exception that applies, if any.
    pub fn day(&self, date: NaiveDate) -> (Vec<TimeRange>, Option<Exception>) {
        if let Some(c) = self.closures.iter().find(|c| c.date == date) {
            return (
                c.hours.clone().unwrap_or_default(),
                Some(Exception::Closure(c.note.clone())),
            );
        }
        if is_national_holiday(date) {
            return (Vec::new(), Some(Exception::NationalHoliday));
        }
        if self.patron_day == Some((date.month(), date.day())) {
            return (Vec::new(), Some(Exception::PatronDay));
        }
        (self.weekly.on(date.weekday()).to_vec(), None)
    }

    pub fn status_at(&self, now: NaiveDateTime) -> OpeningStatus {
        let (today, _) = self.day(now.date());
        if let Some(r) = today.iter().find(|r| r.contains(now.time())) {
            return OpeningStatus::Open {
                closes_at: r.closes,
            };
        }
        if let Some(r) = today.iter().find(|r| r.opens > now.time()) {
            return OpeningStatus::Closed {
                reopens_at: Some(now.date().and_time(r.opens)),
            };
        }
        let mut date = now.date();
        for _ in 0..60 {
            let Some(next) = date.checked_add_days(Days::new(1)) else {
                break;
            };
            date = next;
            if let Some(r) = self.day(date).0.first() {
                return OpeningStatus::Closed {
                    reopens_at: Some(date.and_time(r.opens)),
                };
            }
        }
        OpeningStatus::Closed { reopens_at: None }
    }

    pub fn check(&self) -> Result<(), ParseError> {
        self.weekly.check()?;
        for c in &self.closures {
            if let Some(h) = &c.hours {
                check_ranges(h)?;
            }
        }
        Ok(())
    }
}

/// Italy's national public holidays (Law 260/1949 and later), Easter Monday included; the feast of
/// St Francis of Assisi (4 October) is a holiday again from 2026 (Law 151/2025).
pub fn is_national_holiday(date: NaiveDate) -> bool {
    let fixed = matches!(
        (date.month(), date.day()),
        (1, 1)
            | (1, 6)
            | (4, 25)
            | (5, 1)
            | (6, 2)
            | (8, 15)
            | (11, 1)
            | (12, 8)
            | (12, 25)
            | (12, 26)
    );
    let st_francis = date.year() >= 2026 && date.month() == 10 && date.day() == 4;
    let easter_monday = easter_sunday(date.year())
        .and_then(|e| e.checked_add_days(Days::new(1)))
        .is_some_and(|m| m == date);
    fixed || st_francis || easter_monday
}

/// Easter Sunday in the Gregorian calendar (anonymous Gregorian algorithm).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

#[cfg(test)]
#[path = "tests/hours.rs"]
mod tests;

const DAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "lun", "mon"),
    (Weekday::Tue, "mar", "tue"),
    (Weekday::Wed, "mer", "wed"),
    (Weekday::Thu, "gio", "thu"),
    (Weekday::Fri, "ven", "fri"),
    (Weekday::Sat, "sab", "sat"),
    (Weekday::Sun, "dom", "sun"),
];

fn ranges(words: &[&str]) -> Result<Vec<TimeRange>, ParseError> {
    words
        .iter()
        .flat_map(|w| w.split(','))
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(TimeRange::parse)
        .collect()
}

impl WeeklyHours {
    fn day_mut(&mut self, day: Weekday) -> &mut Vec<TimeRange> {
        match day {
            Weekday::Mon => &mut self.mon,
            Weekday::Tue => &mut self.tue,
            Weekday::Wed => &mut self.wed,
            Weekday::Thu => &mut self.thu,
            Weekday::Fri => &mut self.fri,
            Weekday::Sat => &mut self.sat,
            Weekday::Sun => &mut self.sun,
        }
    }

    /// Reads one line per open day, as a clerk writes it: `lun 08:30-12:30 15:00-17:00` (Italian
    /// or English day names, first three letters or more). A day not written is closed.
    pub fn parse_lines(text: &str) -> Result<WeeklyHours, ParseError> {
        let mut h = WeeklyHours::default();
        for (n, line) in text.lines().enumerate() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let Some((first, rest)) = words.split_first() else {
                continue;
            };
            let key = first.to_lowercase();
            let key: String = key.chars().take(3).collect();
            let day = DAYS
                .iter()
                .find(|(_, it, en)| *it == key || *en == key)
                .map(|d| d.0)
                .ok_or_else(|| {
                    ParseError::new(
                        Why::WeekdayUnknown,
                        "opening hours",
                        format!("line {}: {first:?} is not a day of the week", n + 1),
                    )
                    .arg(*first)
                })?;
            let r = ranges(rest)?;
            h.day_mut(day).extend(r);
        }
        h.check()?;
        Ok(h)
    }

    /// The lines [`WeeklyHours::parse_lines`] reads back (Italian day names).
    pub fn to_lines(&self) -> String {
        let mut out = String::new();
        for (day, it, _) in DAYS {
            let r = self.on(day);
            if !r.is_empty() {
                let list: Vec<String> = r
                    .iter()
                    .map(|t| format!("{}-{}", t.opens.format("%H:%M"), t.closes.format("%H:%M")))
                    .collect();
                out.push_str(&format!("{it} {}\n", list.join(" ")));
            }
        }
        out
    }
}

impl Closure {
    /// Reads one exception per line: `2026-12-24 Vigilia di Natale` (closed all day) or
    /// `2026-12-31 09:00-12:00 Ultimo dell'anno` (open only then).
    pub fn parse_lines(text: &str) -> Result<Vec<Closure>, ParseError> {
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let Some((first, rest)) = words.split_first() else {
                continue;
            };
            let date = NaiveDate::parse_from_str(first, "%Y-%m-%d").map_err(|_| {
                ParseError::new(
                    Why::DateInvalid,
                    "closures",
                    format!("line {}: {first:?} is not a date (YYYY-MM-DD)", n + 1),
                )
                .arg(*first)
            })?;
            let times: Vec<&str> = rest
                .iter()
                .copied()
                .take_while(|w| w.contains(':') && w.contains('-'))
                .collect();
            let note: Vec<&str> = rest[times.len()..].to_vec();
            out.push(Closure {
                date,
                hours: if times.is_empty() {
                    None
                } else {
                    Some(ranges(&times)?)
                },
                note: (!note.is_empty()).then(|| note.join(" ")),
            });
        }
        out.sort_by_key(|c| c.date);
        Ok(out)
    }

    pub fn to_lines(list: &[Closure]) -> String {
        let mut out = String::new();
        for c in list {
            out.push_str(&c.date.to_string());
            for r in c.hours.iter().flatten() {
                out.push_str(&format!(
                    " {}-{}",
                    r.opens.format("%H:%M"),
                    r.closes.format("%H:%M")
                ));
            }
            if let Some(n) = &c.note {
                out.push(' ');
                out.push_str(n);
            }
            out.push('\n');
        }
        out
    }
}
