//! The months of a year a property was held (L. 160/2019, art. 1, c. 761): a month counts when
//! the possession lasted more than half its days; the day of transfer is the buyer's, and when
//! buyer and seller held it the same number of days the month is the buyer's.

use chrono::{Datelike, NaiveDate};

fn days_in(year: i32, month: u32) -> u32 {
    let first = NaiveDate::from_ymd_opt(year, month, 1);
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    match (first, next) {
        (Some(a), Some(b)) => u32::try_from((b - a).num_days()).unwrap_or(30),
        _ => 30,
    }
}

/// The months of `year` held from `from` (the day of acquisition: held that day) to `to` (the
/// day of transfer: the buyer's, so not held that day); `None`: before the year, after it.
/// Gives the months of the year and, of them, those of January to June.
pub fn months(year: i32, from: Option<NaiveDate>, to: Option<NaiveDate>) -> (u8, u8) {
    let mut all = 0u8;
    let mut first_half = 0u8;
    for m in 1..=12u32 {
        let n = days_in(year, m);
        let (Some(start), Some(end)) = (
            NaiveDate::from_ymd_opt(year, m, 1),
            NaiveDate::from_ymd_opt(year, m, n),
        ) else {
            continue;
        };
        // Days held: from max(start, from) to min(end, to − 1).
        let a = from.map_or(start, |f| f.max(start));
        let b = to.and_then(|t| t.pred_opt()).map_or(end, |t| t.min(end));
        if b < a {
            continue;
        }
        let held = u32::try_from((b - a).num_days() + 1).unwrap_or(0);
        // Bought this month: the buyer keeps a month split in halves.
        let bought_here = from.is_some_and(|f| f.year() == year && f.month() == m);
        let counts = 2 * held > n || (2 * held == n && bought_here);
        if counts {
            all += 1;
            if m <= 6 {
                first_half += 1;
            }
        }
    }
    (all, first_half)
}
