//! IMU for a commune and its taxpayers: the rates it publishes per year (rates.rs, console),
//! the calculator anyone uses (calculator.rs: properties as typed, the year's tax by F24 code,
//! June and December), and a signed-in person's kept properties and position per year
//! (position.rs). The arithmetic is the domain's (`sportello_domain::imu`).

pub mod calculator;
pub mod position;
pub mod rates;

use sportello_domain::imu::Rates;
use sportello_store::payments::ImuRates;

/// The domain's rates from the stored ones.
pub fn of(r: &ImuRates) -> Rates {
    let rate = |v: i32| u32::try_from(v).unwrap_or(0);
    Rates {
        main_dwelling: rate(r.main_dwelling),
        detraction_cents: r.detraction_cents,
        other_buildings: rate(r.other_buildings),
        group_d: rate(r.group_d),
        rural: rate(r.rural),
        buildable_land: rate(r.buildable_land),
        agricultural_land: rate(r.agricultural_land),
        minimum_cents: r.minimum_cents,
    }
}

/// A rate in thousandths of a per cent as a commune writes it, per mille (`10,6`).
pub fn per_mille(rate: i32) -> String {
    let whole = rate / 100;
    let frac = rate % 100;
    if frac == 0 {
        whole.to_string()
    } else if frac % 10 == 0 {
        format!("{whole},{}", frac / 10)
    } else {
        format!("{whole},{frac:02}")
    }
}

/// A per-mille rate as typed (`10,6`, `7.6`, `5`; two decimals at most) in thousandths of a
/// per cent; `None` when it is not one.
pub fn parse_per_mille(s: &str) -> Option<i32> {
    let t = s.trim().replace(['‰', ' '], "").replace(',', ".");
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    if int.is_empty()
        || int.len() > 3
        || frac.len() > 2
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let int: i32 = int.parse().ok()?;
    let frac: i32 = format!("{frac:0<2}").parse().ok()?;
    Some(int * 100 + frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_mille_rates_read_and_print_as_communes_write_them() {
        assert_eq!(parse_per_mille("10,6"), Some(1060));
        assert_eq!(parse_per_mille(" 7.6 ‰"), Some(760));
        assert_eq!(parse_per_mille("5"), Some(500));
        assert_eq!(parse_per_mille("1,06"), Some(106));
        for bad in ["", "-1", "10,601", "1e3", "abc", "1000"] {
            assert_eq!(parse_per_mille(bad), None, "{bad}");
        }
        assert_eq!(per_mille(1060), "10,6");
        assert_eq!(per_mille(500), "5");
        assert_eq!(per_mille(1065), "10,65");
    }
}
