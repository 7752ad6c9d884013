//! Instants as people read them: in words and on the communes' wall clock (Europe/Rome), e.g.
//! "6 dicembre 2026, 01:58" / "6 December 2026, 01:58".

use chrono::{Datelike, Timelike};
use sportello_domain::Language;

const MESI: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A month's name (0: January).
pub fn month(lang: Language, month0: u32) -> &'static str {
    let names = if lang == Language::En { &MONTHS } else { &MESI };
    names.get(month0 as usize).copied().unwrap_or_default()
}

/// Microseconds since the epoch, in words, in Rome's time (empty for an impossible instant).
pub fn when(lang: Language, micros: i64) -> String {
    let Some(t) = chrono::DateTime::from_timestamp_micros(micros) else {
        return String::new();
    };
    let t = t.with_timezone(&chrono_tz::Europe::Rome);
    let month = month(lang, t.month0());
    format!(
        "{} {month} {}, {:02}:{:02}",
        t.day(),
        t.year(),
        t.hour(),
        t.minute()
    )
}
