//! A signed-in person's IMU in a commune: the properties they keep here (as they would declare
//! them), and their position per year: what was calculated from them (the F24 lines and the
//! properties as they were) and the instalments they marked paid.

use chrono::NaiveDate;
use serde_json::json;
use sportello_domain::{TenantId, Why};
use sportello_kernel::session::Current;
use sportello_kernel::{Deps, Error, Problems, Result};
use sportello_store::payments::{ImuPosition, ImuProperty};

use super::calculator::{self, Calculation, Property, PropertyInput};

fn person(who: &Current) -> Result<&str> {
    who.person
        .as_ref()
        .map(|p| p.id.as_str())
        .ok_or(Error::Refused("session_ended"))
}

/// The property a kept row is (what the calculator reads).
pub fn input_of(p: &ImuProperty) -> PropertyInput {
    PropertyInput {
        label: p.label.clone(),
        kind: p.kind.clone(),
        category: p.category.clone().unwrap_or_default(),
        amount: sportello_domain::Money::from_cents(p.amount_cents).decimal(),
        share: sportello_domain::Money::from_cents(i64::from(p.share)).decimal(),
        from: p.held_from.clone().unwrap_or_default(),
        to: p.held_to.clone().unwrap_or_default(),
        main_dwelling: p.main_dwelling,
        residents: p.residents.to_string(),
        rural: p.rural,
        exempt: p.exempt,
    }
}

/// Keeps a property (every field checked); gives its id.
pub async fn add(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    i: &PropertyInput,
) -> Result<String> {
    let person_id = person(who)?;
    let mut p = Problems::default();
    let read = calculator::read(i, "", &mut p);
    p.result()?;
    let x: Property = read.ok_or_else(|| Error::invalid("amount", Why::Required))?;
    let (category, amount_cents) = match x.asset {
        sportello_domain::imu::Asset::Building {
            category,
            income_cents,
        } => (Some(category.to_string()), income_cents),
        sportello_domain::imu::Asset::AgriculturalLand { income_cents } => (None, income_cents),
        sportello_domain::imu::Asset::BuildableLand { value_cents } => (None, value_cents),
    };
    let row = ImuProperty {
        id: uuid::Uuid::new_v4().to_string(),
        person_id: person_id.to_owned(),
        label: x.label.clone(),
        kind: x.kind().to_owned(),
        category,
        amount_cents,
        share: i32::try_from(x.share).unwrap_or(10_000),
        held_from: x.from.map(|d| d.to_string()),
        held_to: x.to.map(|d| d.to_string()),
        main_dwelling: x.main_dwelling,
        residents: i32::from(x.residents),
        rural: x.rural,
        exempt: x.exempt,
        created_at: sportello_store::now_micros(),
    };
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    if db.imu_properties(person_id).await?.len() >= calculator::PROPERTIES_MAX {
        return Err(Error::invalid_at(
            "amount",
            Why::OutOfRange,
            calculator::PROPERTIES_MAX.to_string(),
        ));
    }
    db.insert_imu_property(&row).await?;
    tx.commit().await?;
    Ok(row.id)
}

/// Removes one of the person's properties (another's, or none: not found).
pub async fn remove(deps: &Deps, commune: TenantId, who: &Current, id: &str) -> Result<()> {
    let person_id = person(who)?;
    let tx = deps.store.tenant(commune).await?;
    if !tx.db().delete_imu_property(person_id, id).await? {
        return Err(Error::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// The person's kept properties and positions.
pub async fn mine(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
) -> Result<(Vec<ImuProperty>, Vec<ImuPosition>)> {
    let person_id = person(who)?;
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let props = db.imu_properties(person_id).await?;
    let positions = db.imu_positions(person_id).await?;
    tx.commit().await?;
    Ok((props, positions))
}

/// Calculates the year from the kept properties and records it as the person's position.
pub async fn calculate(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    year: i32,
) -> Result<Calculation> {
    let person_id = person(who)?;
    let (props, _) = mine(deps, commune, who).await?;
    let rows: Vec<PropertyInput> = props.iter().map(input_of).collect();
    let c = calculator::calculate(deps, commune, year, calculator::read_all(&rows)?).await?;
    let detail = json!({"lines": c.assessment.lines, "properties": props,
                        "below_minimum": c.assessment.below_minimum});
    let pos = ImuPosition {
        year,
        year_cents: c.assessment.year_cents,
        june_euros: c.assessment.lines.iter().map(|l| l.june_euros).sum(),
        december_euros: c.assessment.lines.iter().map(|l| l.december_euros).sum(),
        detail: detail.to_string(),
        calculated_at: sportello_store::now_micros(),
        june_paid_on: None,
        december_paid_on: None,
    };
    let tx = deps.store.tenant(commune).await?;
    tx.db().save_imu_position(person_id, &pos).await?;
    tx.commit().await?;
    Ok(c)
}

/// Marks an instalment of a year paid (`june` or `december`) on a day.
pub async fn mark_paid(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    year: i32,
    june: bool,
    on: &str,
) -> Result<()> {
    let person_id = person(who)?;
    let on = NaiveDate::parse_from_str(on.trim(), "%Y-%m-%d")
        .map_err(|_| Error::invalid_at("paid_on", Why::DateInvalid, on.trim()))?;
    if on > crate::today() {
        return Err(Error::invalid_at(
            "paid_on",
            Why::DateTooLate,
            on.to_string(),
        ));
    }
    let tx = deps.store.tenant(commune).await?;
    if !tx
        .db()
        .mark_imu_paid(person_id, year, june, &on.to_string())
        .await?
    {
        return Err(Error::NotFound);
    }
    tx.commit().await?;
    Ok(())
}
