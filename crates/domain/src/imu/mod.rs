//! IMU, the municipal property tax (Legge 27 dicembre 2019, n. 160, art. 1, commi 738-783):
//! the taxable base of each property, the months of possession, the tax of the year and its two
//! instalments, by F24 tax code, rounded as the F24 form wants. Pure arithmetic in integers:
//! no float touches an amount.
//!
//! - Base (c. 745-746): a building's cadastral income revalued by 5 % times its category's
//!   multiplier; agricultural land's *reddito dominicale* revalued by 25 % times 135; buildable
//!   land at its market value on 1 January.
//! - Months (c. 761): a month counts when the possession lasted more than half its days; the
//!   day of transfer is the buyer's, and a month split in equal halves is the buyer's.
//! - Tax: base × rate × share × months ÷ 12; a main dwelling of category A/1, A/8 or A/9 (the
//!   others are exempt, c. 740) and its appurtenances take the main dwelling's rate and €200 of
//!   detraction for the months it is one (c. 748-749); group D pays 0.76 % to the State (code
//!   3925) and the rest to the commune (3930, c. 753).
//! - Instalments (c. 762): by 16 June the first half-year's tax at the previous year's rates and
//!   detraction; by 16 December the year's tax at this year's rates, less the first.
//! - Rounding (art. 1 c. 166 L. 296/2006): each F24 line to the euro, down up to 49 cents, up
//!   from 50.

mod category;
mod months;

pub use category::Category;
pub use months::months;

use serde::Serialize;

/// A rate as the commune publishes it, in thousandths of a per cent (0,86 % = 860).
pub type Rate = u32;

/// A commune's rates for a year, and the least the year's tax must be to be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rates {
    /// Main dwelling of category A/1, A/8, A/9 and its appurtenances (base 0,5 %).
    pub main_dwelling: Rate,
    /// Its yearly detraction, in cents (€200).
    pub detraction_cents: i64,
    /// Other buildings (base 0,86 %).
    pub other_buildings: Rate,
    /// Group D (base 0,86 %, of which 0,76 % the State's).
    pub group_d: Rate,
    /// Rural buildings for farming (base 0,1 %).
    pub rural: Rate,
    /// Buildable land (base 0,86 %).
    pub buildable_land: Rate,
    /// Agricultural land (base 0,76 %).
    pub agricultural_land: Rate,
    /// Below this yearly amount nothing is paid (cents; €12 by default, art. 25 L. 289/2002).
    pub minimum_cents: i64,
}

impl Rates {
    /// The rates the law sets when a commune decided none (c. 748-753).
    pub const BASE: Rates = Rates {
        main_dwelling: 500,
        detraction_cents: 20_000,
        other_buildings: 860,
        group_d: 860,
        rural: 100,
        buildable_land: 860,
        agricultural_land: 760,
        minimum_cents: 1_200,
    };
    /// The State's part of group D (c. 753).
    pub const STATE_GROUP_D: Rate = 760;
}

/// What a property is, for the tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Asset {
    /// A building of a cadastral category, with its cadastral income (cents, not revalued).
    Building {
        category: Category,
        income_cents: i64,
    },
    /// Agricultural land with its *reddito dominicale* (cents, not revalued).
    AgriculturalLand { income_cents: i64 },
    /// Buildable land at its market value (cents).
    BuildableLand { value_cents: i64 },
}

/// One property as its owner holds it in a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Holding {
    pub asset: Asset,
    /// The owner's share, in hundredths of a per cent (50 % = 5000).
    pub share: u32,
    /// Months held in the year (0-12) and of them in January-June (0-6).
    pub months: u8,
    pub months_first_half: u8,
    /// The owner's main dwelling (or its appurtenance: C/2, C/6, C/7, one of each).
    pub main_dwelling: bool,
    /// How many of its owners live there (the detraction is theirs in equal parts, c. 749,
    /// whatever their shares); 1 at least.
    pub residents: u8,
    /// A rural building for farming.
    pub rural: bool,
    /// Exempt by a rule the owner declares (a farmer's land, land in a mountain commune).
    pub exempt: bool,
}

/// The F24 tax codes (Risoluzione 29/E del 2020 of the Agenzia delle Entrate).
pub mod code {
    pub const MAIN_DWELLING: &str = "3912";
    pub const RURAL: &str = "3913";
    pub const AGRICULTURAL_LAND: &str = "3914";
    pub const BUILDABLE_LAND: &str = "3916";
    pub const OTHER_BUILDINGS: &str = "3918";
    pub const GROUP_D_STATE: &str = "3925";
    pub const GROUP_D_COMMUNE: &str = "3930";
}

/// What a holding owes in a year: its base, and by F24 code the year's tax and the first
/// half-year's (cents, not rounded: the rounding is per F24 line, on the sum).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owed {
    /// The taxable base, in cents (rounded half up for display).
    pub base_cents: i64,
    /// Exempt (a main dwelling not of luxury, a declared exemption): nothing owed.
    pub exempt: bool,
    /// (code, year's tax, first half-year's tax) in hundredths of a cent.
    pub lines: Vec<(&'static str, i64, i64)>,
}

/// Whether a building may be a main dwelling or one of its appurtenances at all.
fn home_category(h: &Holding) -> bool {
    matches!(h.asset, Asset::Building { category, .. } if category.is_dwelling() || category.is_appurtenance())
}

/// A main dwelling not of luxury, and the appurtenances of one, are exempt (c. 740).
fn exempt_main_dwelling(h: &Holding, luxury_home: bool) -> bool {
    let Asset::Building { category, .. } = h.asset else {
        return false;
    };
    h.main_dwelling
        && !h.rural
        && ((category.is_dwelling() && !category.is_luxury())
            || (category.is_appurtenance() && !luxury_home))
}

/// Revalued base as a fraction: numerator over `BASE_DEN` cents.
const BASE_DEN: i128 = 100;

fn base_num(a: Asset) -> i128 {
    match a {
        // × 1,05 × multiplier
        Asset::Building {
            category,
            income_cents,
        } => i128::from(income_cents) * 105 * i128::from(category.multiplier()),
        // × 1,25 × 135
        Asset::AgriculturalLand { income_cents } => i128::from(income_cents) * 125 * 135,
        Asset::BuildableLand { value_cents } => i128::from(value_cents) * BASE_DEN,
    }
}

/// The tax of `months` of a base at a rate, for a share, in hundredths of a cent.
fn tax(base_num: i128, rate: Rate, share: u32, months: u8) -> i128 {
    // base_num / 100 × rate / 100 000 × share / 10 000 × months / 12, in 1/100 cent.
    let num = base_num * i128::from(rate) * i128::from(share) * i128::from(months) * 100;
    let den = BASE_DEN * 100_000 * 10_000 * 12;
    (num + den / 2) / den
}

/// What one holding owes under this year's rates and (for the first instalment) last year's.
/// `luxury_home`: the owner's main dwelling is of category A/1, A/8 or A/9 (then its
/// appurtenances are taxed with it; otherwise they are exempt with it).
pub fn owed(h: &Holding, rates: &Rates, last_year: &Rates, luxury_home: bool) -> Owed {
    let num = base_num(h.asset);
    let base_cents = i64::try_from((num + BASE_DEN / 2) / BASE_DEN).unwrap_or(i64::MAX);
    let exempt = h.exempt || exempt_main_dwelling(h, luxury_home);
    let main = h.main_dwelling && home_category(h);
    if exempt || h.share == 0 || h.months == 0 {
        return Owed {
            base_cents,
            exempt,
            lines: vec![],
        };
    }
    let one = |r: &Rates, months: u8| -> Vec<(&'static str, i128)> {
        match h.asset {
            Asset::Building { category, .. } if category.is_group_d() && !h.rural => {
                let state = Rates::STATE_GROUP_D.min(r.group_d);
                vec![
                    (code::GROUP_D_STATE, tax(num, state, h.share, months)),
                    (
                        code::GROUP_D_COMMUNE,
                        tax(num, r.group_d - state, h.share, months),
                    ),
                ]
            }
            Asset::Building { .. } if h.rural => {
                vec![(code::RURAL, tax(num, r.rural, h.share, months))]
            }
            // The main dwelling's rate; the detraction is taken from the dwelling and its
            // appurtenances together (`assess`).
            Asset::Building { .. } if main => {
                vec![(
                    code::MAIN_DWELLING,
                    tax(num, r.main_dwelling, h.share, months),
                )]
            }
            Asset::Building { .. } => {
                vec![(
                    code::OTHER_BUILDINGS,
                    tax(num, r.other_buildings, h.share, months),
                )]
            }
            Asset::AgriculturalLand { .. } => vec![(
                code::AGRICULTURAL_LAND,
                tax(num, r.agricultural_land, h.share, months),
            )],
            Asset::BuildableLand { .. } => vec![(
                code::BUILDABLE_LAND,
                tax(num, r.buildable_land, h.share, months),
            )],
        }
    };
    let year = one(rates, h.months);
    let first = one(last_year, h.months_first_half);
    let lines = year
        .iter()
        .map(|(c, y)| {
            let f = first.iter().find(|(fc, _)| fc == c).map_or(0, |(_, f)| *f);
            (*c, clamp(*y), clamp(f))
        })
        .collect();
    Owed {
        base_cents,
        exempt: false,
        lines,
    }
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// An F24 line: its code, the June instalment and the December balance, in whole euros.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct F24Line {
    pub code: &'static str,
    pub june_euros: i64,
    pub december_euros: i64,
}

/// The year's result: each holding's, the F24 lines, and whether anything is due at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub holdings: Vec<Owed>,
    /// The year's tax, in cents (rounded half up).
    pub year_cents: i64,
    /// The main dwelling's detraction taken, in cents.
    pub detraction_cents: i64,
    pub lines: Vec<F24Line>,
    /// Under the commune's minimum: nothing to pay.
    pub below_minimum: bool,
}

/// To whole euros as the F24 wants: down up to 49 cents, up from 50 (in hundredths of a cent).
pub fn f24_euros(hundredths_of_cent: i64) -> i64 {
    let cents = (hundredths_of_cent + 50).div_euclid(100);
    (cents + 50).div_euclid(100)
}

/// The year's assessment of an owner's holdings in one commune.
pub fn assess(holdings: &[Holding], rates: &Rates, last_year: &Rates) -> Assessment {
    // One appurtenance of each category C/2, C/6, C/7 goes with the main dwelling (c. 741
    // b); any further one is taxed as another building.
    let mut seen: Vec<Category> = vec![];
    let adjusted: Vec<Holding> = holdings
        .iter()
        .map(|h| match h.asset {
            Asset::Building { category, .. } if h.main_dwelling && category.is_appurtenance() => {
                if seen.contains(&category) {
                    Holding {
                        main_dwelling: false,
                        ..*h
                    }
                } else {
                    seen.push(category);
                    *h
                }
            }
            _ => *h,
        })
        .collect();
    let holdings = adjusted.as_slice();
    let is_home = |h: &Holding| {
        h.main_dwelling
            && !h.exempt
            && matches!(h.asset, Asset::Building { category, .. } if category.is_luxury())
    };
    let luxury_home = holdings.iter().any(is_home);
    let owed: Vec<Owed> = holdings
        .iter()
        .map(|h| owed(h, rates, last_year, luxury_home))
        .collect();
    let mut by_code: Vec<(&'static str, i64, i64)> = vec![];
    for (c, y, f) in owed.iter().flat_map(|o| o.lines.iter()) {
        match by_code.iter_mut().find(|(x, _, _)| x == c) {
            Some(e) => {
                e.1 = e.1.saturating_add(*y);
                e.2 = e.2.saturating_add(*f);
            }
            None => by_code.push((c, *y, *f)),
        }
    }
    // The detraction of the luxury main dwelling, for the months it was one and the owner's
    // share, from the tax of the dwelling and its appurtenances (never below nothing).
    let detraction = |r: &Rates, months: fn(&Holding) -> u8| -> i64 {
        holdings
            .iter()
            .filter(|h| is_home(h))
            .map(|h| {
                let d = i128::from(r.detraction_cents) * 100 * i128::from(months(h))
                    / (12 * i128::from(h.residents.max(1)));
                clamp(d)
            })
            .sum()
    };
    let detraction_year = detraction(rates, |h| h.months);
    let detraction_first = detraction(last_year, |h| h.months_first_half);
    let mut taken = 0;
    if let Some(e) = by_code
        .iter_mut()
        .find(|(c, _, _)| *c == code::MAIN_DWELLING)
    {
        taken = detraction_year.min(e.1);
        e.1 -= taken;
        e.2 = (e.2 - detraction_first).max(0);
    }
    by_code.sort_by_key(|(c, _, _)| *c);
    let year: i64 = by_code.iter().map(|(_, y, _)| *y).sum();
    let year_cents = (year + 50).div_euclid(100);
    let below_minimum = year_cents < rates.minimum_cents;
    let lines = if below_minimum {
        vec![]
    } else {
        by_code
            .iter()
            .filter(|(_, y, _)| *y > 0)
            .map(|(c, y, f)| {
                let june = f24_euros(*f);
                // The balance: the year's tax less what June paid, never below nothing.
                let december = f24_euros((*y - june * 10_000).max(0));
                F24Line {
                    code: c,
                    june_euros: june,
                    december_euros: december,
                }
            })
            .collect()
    };
    Assessment {
        holdings: owed,
        year_cents,
        detraction_cents: (taken + 50).div_euclid(100),
        lines,
        below_minimum,
    }
}

#[cfg(test)]
#[path = "../tests/imu.rs"]
mod tests;
