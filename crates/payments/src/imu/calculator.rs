//! The calculator: properties as a person types them (or keeps them), the year's rates, and
//! what is owed: per property, per F24 code, in June and in December.

use chrono::NaiveDate;
use serde::Serialize;
use sportello_domain::imu::{self, Assessment, Asset, Category, Holding};
use sportello_domain::{Money, TenantId};
use sportello_kernel::{Deps, Error, Problems, Result, Why};

/// At most this many properties in one calculation.
pub const PROPERTIES_MAX: usize = 30;

/// One property as typed: amounts in euros, the share in per cent, days `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PropertyInput {
    pub label: String,
    /// `building`, `agricultural_land`, `buildable_land`.
    pub kind: String,
    pub category: String,
    pub amount: String,
    pub share: String,
    pub from: String,
    pub to: String,
    pub main_dwelling: bool,
    /// Owners living there (empty: 1).
    pub residents: String,
    pub rural: bool,
    pub exempt: bool,
}

impl PropertyInput {
    /// Nothing typed: the row is left out.
    pub fn is_blank(&self) -> bool {
        self.category.trim().is_empty() && self.amount.trim().is_empty()
    }
}

/// A property read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Property {
    pub label: String,
    pub asset: Asset,
    pub share: u32,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub main_dwelling: bool,
    pub residents: u8,
    pub rural: bool,
    pub exempt: bool,
}

impl Property {
    pub fn kind(&self) -> &'static str {
        match self.asset {
            Asset::Building { .. } => "building",
            Asset::AgriculturalLand { .. } => "agricultural_land",
            Asset::BuildableLand { .. } => "buildable_land",
        }
    }
    /// How it is held in `year`.
    pub fn holding(&self, year: i32) -> Holding {
        let (months, months_first_half) = imu::months(year, self.from, self.to);
        Holding {
            asset: self.asset,
            share: self.share,
            months,
            months_first_half,
            main_dwelling: self.main_dwelling,
            residents: self.residents,
            rural: self.rural,
            exempt: self.exempt,
        }
    }
}

/// A share in per cent as typed (`50`, `33,33`), in hundredths of a per cent.
fn share_of(s: &str) -> Option<u32> {
    let t = s.trim().replace(['%', ' '], "");
    if t.is_empty() {
        return Some(10_000);
    }
    let m = Money::parse(&t).ok()?;
    u32::try_from(m.cents())
        .ok()
        .filter(|v| (1..=10_000).contains(v))
}

fn day(s: &str) -> std::result::Result<Option<NaiveDate>, ()> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| ())
}

/// Reads one property; its fields' problems are named `<prefix><field>`.
pub fn read(i: &PropertyInput, prefix: &str, p: &mut Problems) -> Option<Property> {
    let f = |name: &str| format!("{prefix}{name}");
    let label = i.label.trim();
    if label.chars().count() > 200 {
        p.add(&f("label"), Why::TooLong, "");
    }
    let amount = match Money::parse(&i.amount) {
        Ok(m) if m.is_zero() => {
            p.add(&f("amount"), Why::Required, "");
            None
        }
        Ok(m) if m.cents() > 100_000_000_000 => {
            p.add(&f("amount"), Why::OutOfRange, "");
            None
        }
        Ok(m) => Some(m.cents()),
        Err(e) => {
            p.parse(&f("amount"), &e);
            None
        }
    };
    let asset = match (i.kind.as_str(), amount) {
        ("building" | "", Some(income_cents)) => match Category::parse(&i.category) {
            Ok(category) => Some(Asset::Building {
                category,
                income_cents,
            }),
            Err(e) => {
                p.parse(&f("category"), &e);
                None
            }
        },
        ("agricultural_land", Some(income_cents)) => Some(Asset::AgriculturalLand { income_cents }),
        ("buildable_land", Some(value_cents)) => Some(Asset::BuildableLand { value_cents }),
        ("building" | "" | "agricultural_land" | "buildable_land", None) => None,
        _ => {
            p.add(&f("kind"), Why::NotOneOf, i.kind.as_str());
            None
        }
    };
    let share = share_of(&i.share);
    if share.is_none() {
        p.add(&f("share"), Why::OutOfRange, "0–100");
    }
    if i.main_dwelling
        && let Some(Asset::Building { category, .. }) = asset
        && !(category.is_dwelling() || category.is_appurtenance())
    {
        p.add(&f("main"), Why::MainDwellingOnly, category.to_string());
    }
    let residents = match i.residents.trim() {
        "" => Some(1),
        r => r.parse::<u8>().ok().filter(|n| (1..=20).contains(n)),
    };
    if residents.is_none() {
        p.add(&f("residents"), Why::OutOfRange, "1–20");
    }
    let from = day(&i.from).map_err(|_| p.add(&f("from"), Why::DateInvalid, i.from.trim()));
    let to = day(&i.to).map_err(|_| p.add(&f("to"), Why::DateInvalid, i.to.trim()));
    if let (Ok(Some(a)), Ok(Some(b))) = (from, to)
        && b <= a
    {
        p.add(&f("to"), Why::DateTooEarly, i.to.trim());
    }
    Some(Property {
        label: label.to_owned(),
        asset: asset?,
        share: share?,
        from: from.ok()?,
        to: to.ok()?,
        main_dwelling: i.main_dwelling,
        residents: residents?,
        rural: i.rural,
        exempt: i.exempt,
    })
}

/// Reads every row typed (blank ones left out), naming problems `p<n>_<field>`.
pub fn read_all(rows: &[PropertyInput]) -> Result<Vec<Property>> {
    let mut p = Problems::default();
    let mut out = vec![];
    for (n, r) in rows.iter().enumerate().filter(|(_, r)| !r.is_blank()) {
        if let Some(x) = read(r, &format!("p{}_", n + 1), &mut p) {
            out.push(x);
        }
    }
    // One main dwelling (c. 741 b): a second one flagged is refused by its field.
    let homes: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.is_blank() && r.main_dwelling)
        .filter(|(_, r)| Category::parse(&r.category).is_ok_and(|c| c.is_dwelling()))
        .map(|(n, _)| n)
        .collect();
    if let Some(second) = homes.get(1) {
        p.add(&format!("p{}_main", second + 1), Why::OneMainDwelling, "");
    }
    if out.len() > PROPERTIES_MAX {
        p.add("properties", Why::OutOfRange, PROPERTIES_MAX.to_string());
    }
    p.result()?;
    if out.is_empty() {
        return Err(Error::invalid("p1_amount", Why::Required));
    }
    Ok(out)
}

/// What a calculation gives.
#[derive(Debug, Clone, Serialize)]
pub struct Calculation {
    pub year: i32,
    pub properties: Vec<Property>,
    pub assessment: Assessment,
    /// June used last year's rates (`false`: none were published, this year's were used).
    pub june_on_last_year: bool,
}

/// The year's IMU of `properties` in `commune`.
pub async fn calculate(
    deps: &Deps,
    commune: TenantId,
    year: i32,
    properties: Vec<Property>,
) -> Result<Calculation> {
    let (this, last) = super::rates::for_year(deps, commune, year).await?;
    let holdings: Vec<Holding> = properties.iter().map(|p| p.holding(year)).collect();
    let assessment = imu::assess(&holdings, &super::of(&this), &super::of(&last));
    Ok(Calculation {
        year,
        properties,
        assessment,
        june_on_last_year: last.year == year - 1,
    })
}
