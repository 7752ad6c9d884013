//! The rates a commune publishes for a year, written by its administrators (within the law's
//! bounds, L. 160/2019 art. 1 c. 748-754) and read by anyone.

use serde_json::json;
use sportello_authz::Action;
use sportello_domain::{Money, TenantId};
use sportello_kernel::{Actor, Deps, Error, Problems, Result, Why};
use sportello_store::payments::ImuRates;

use super::parse_per_mille;

/// What an administrator posts (per-mille rates, euros).
#[derive(Debug, Clone, Default)]
pub struct RatesForm {
    pub year: String,
    pub main_dwelling: String,
    pub detraction: String,
    pub other_buildings: String,
    pub group_d: String,
    pub rural: String,
    pub buildable_land: String,
    pub agricultural_land: String,
    pub minimum: String,
}

/// Writes a year's rates; every field checked against the law's bounds at once.
pub async fn save(deps: &Deps, actor: &Actor, f: &RatesForm) -> Result<i32> {
    crate::require_commune(deps, actor, Action::Update).await?;
    let mut p = Problems::default();
    let year = match f.year.trim().parse::<i32>() {
        Ok(y) if (2020..=2100).contains(&y) => y,
        _ => {
            p.add("year", Why::OutOfRange, "2020–2100");
            0
        }
    };
    let mut rate = |field: &str, s: &str, lo: i32, hi: i32| -> i32 {
        match parse_per_mille(s) {
            Some(r) if (lo..=hi).contains(&r) => r,
            Some(_) => {
                p.add(
                    field,
                    Why::OutOfRange,
                    format!("{}–{}", super::per_mille(lo), super::per_mille(hi)),
                );
                0
            }
            None => {
                p.add(field, Why::NumberInvalid, s.trim());
                0
            }
        }
    };
    // Bounds: c. 748 (main dwelling 0–6 ‰), 750 (rural 0–1 ‰), 752 (agricultural land 0–10,6
    // ‰), 753 (group D 7,6–10,6 ‰), 754 (others 0–10,6 ‰), 755 (up to 11,4 ‰ where the commune
    // kept the old surcharge).
    let main_dwelling = rate("main_dwelling", &f.main_dwelling, 0, 600);
    let other_buildings = rate("other_buildings", &f.other_buildings, 0, 1140);
    let group_d = rate("group_d", &f.group_d, 760, 1140);
    let rural = rate("rural", &f.rural, 0, 100);
    let buildable_land = rate("buildable_land", &f.buildable_land, 0, 1140);
    let agricultural_land = rate("agricultural_land", &f.agricultural_land, 0, 1140);
    let mut money = |field: &str, s: &str, max: i64| -> i64 {
        match Money::parse(s) {
            Ok(m) if m.cents() <= max => m.cents(),
            Ok(_) => {
                p.add(field, Why::OutOfRange, Money::from_cents(max).to_string());
                0
            }
            Err(e) => {
                p.parse(field, &e);
                0
            }
        }
    };
    let detraction_cents = money("detraction", &f.detraction, 10_000_000);
    let minimum_cents = money("minimum", &f.minimum, 100_000);
    p.result()?;
    let r = ImuRates {
        year,
        main_dwelling,
        detraction_cents,
        other_buildings,
        group_d,
        rural,
        buildable_land,
        agricultural_land,
        minimum_cents,
        updated_at: sportello_store::now_micros(),
    };
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    db.save_imu_rates(&r).await?;
    sportello_kernel::audit::record(&db, actor, "imu_rates_saved", "payments", json!(r)).await?;
    tx.commit().await?;
    Ok(year)
}

/// Every year's rates of a commune (anyone may read them: they are published).
pub async fn all(deps: &Deps, commune: TenantId) -> Result<Vec<ImuRates>> {
    let tx = deps.store.tenant_read(commune).await?;
    let l = tx.db().imu_rates_all().await?;
    tx.commit().await?;
    Ok(l)
}

/// A year's rates, and the previous year's for June (this year's when none were published).
pub async fn for_year(deps: &Deps, commune: TenantId, year: i32) -> Result<(ImuRates, ImuRates)> {
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let this = db.imu_rates(year).await?;
    let last = db.imu_rates(year - 1).await?;
    tx.commit().await?;
    let this = this.ok_or(Error::Refused("refused_imu_no_rates"))?;
    let last = last.unwrap_or_else(|| this.clone());
    Ok((this, last))
}
