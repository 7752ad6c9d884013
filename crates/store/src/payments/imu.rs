//! IMU: a commune's rates per year, the properties a person keeps for the calculator, and the
//! person's position per year (what was calculated, the properties then, the instalments the
//! person marked paid).

use serde::Serialize;

use crate::identity::get;
use crate::{Result, TenantDb};

/// A year's rates as stored (thousandths of a per cent; cents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImuRates {
    pub year: i32,
    pub main_dwelling: i32,
    pub detraction_cents: i64,
    pub other_buildings: i32,
    pub group_d: i32,
    pub rural: i32,
    pub buildable_land: i32,
    pub agricultural_land: i32,
    pub minimum_cents: i64,
    pub updated_at: i64,
}

/// A property a person keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImuProperty {
    pub id: String,
    pub person_id: String,
    pub label: String,
    /// `building`, `agricultural_land`, `buildable_land`.
    pub kind: String,
    pub category: Option<String>,
    /// Cadastral income (buildings), reddito dominicale (agricultural land), value (buildable).
    pub amount_cents: i64,
    /// Hundredths of a per cent.
    pub share: i32,
    pub held_from: Option<String>,
    pub held_to: Option<String>,
    pub main_dwelling: bool,
    /// Owners living there (sharing the detraction).
    pub residents: i32,
    pub rural: bool,
    pub exempt: bool,
    pub created_at: i64,
}

/// A person's position for a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImuPosition {
    pub year: i32,
    pub year_cents: i64,
    pub june_euros: i64,
    pub december_euros: i64,
    /// JSON: the F24 lines and the properties as calculated.
    pub detail: String,
    pub calculated_at: i64,
    pub june_paid_on: Option<String>,
    pub december_paid_on: Option<String>,
}

const RATES: &str = "year, main_dwelling, detraction_cents, other_buildings, group_d, rural, \
    buildable_land, agricultural_land, minimum_cents, updated_at";
const PROPERTY: &str = "id, person_id, label, kind, category, amount_cents, share, held_from, held_to, \
    main_dwelling, residents, rural, exempt, created_at";
const POSITION: &str = "year, year_cents, june_euros, december_euros, detail, calculated_at, \
    june_paid_on, december_paid_on";

fn rates(r: &sea_orm::QueryResult) -> Result<ImuRates> {
    Ok(ImuRates {
        year: get(r, "year")?,
        main_dwelling: get(r, "main_dwelling")?,
        detraction_cents: get(r, "detraction_cents")?,
        other_buildings: get(r, "other_buildings")?,
        group_d: get(r, "group_d")?,
        rural: get(r, "rural")?,
        buildable_land: get(r, "buildable_land")?,
        agricultural_land: get(r, "agricultural_land")?,
        minimum_cents: get(r, "minimum_cents")?,
        updated_at: get(r, "updated_at")?,
    })
}

fn property(r: &sea_orm::QueryResult) -> Result<ImuProperty> {
    Ok(ImuProperty {
        id: get(r, "id")?,
        person_id: get(r, "person_id")?,
        label: get(r, "label")?,
        kind: get(r, "kind")?,
        category: get(r, "category")?,
        amount_cents: get(r, "amount_cents")?,
        share: get(r, "share")?,
        held_from: get(r, "held_from")?,
        held_to: get(r, "held_to")?,
        main_dwelling: get(r, "main_dwelling")?,
        residents: get(r, "residents")?,
        rural: get(r, "rural")?,
        exempt: get(r, "exempt")?,
        created_at: get(r, "created_at")?,
    })
}

fn position(r: &sea_orm::QueryResult) -> Result<ImuPosition> {
    Ok(ImuPosition {
        year: get(r, "year")?,
        year_cents: get(r, "year_cents")?,
        june_euros: get(r, "june_euros")?,
        december_euros: get(r, "december_euros")?,
        detail: get(r, "detail")?,
        calculated_at: get(r, "calculated_at")?,
        june_paid_on: get(r, "june_paid_on")?,
        december_paid_on: get(r, "december_paid_on")?,
    })
}

impl TenantDb<'_> {
    pub async fn save_imu_rates(&self, x: &ImuRates) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO imu_rates (tenant_id, {RATES}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (tenant_id, year) DO UPDATE SET main_dwelling = excluded.main_dwelling, \
                 detraction_cents = excluded.detraction_cents, other_buildings = excluded.other_buildings, \
                 group_d = excluded.group_d, rural = excluded.rural, buildable_land = excluded.buildable_land, \
                 agricultural_land = excluded.agricultural_land, minimum_cents = excluded.minimum_cents, \
                 updated_at = excluded.updated_at"
            ),
            vec![
                x.year.into(),
                x.main_dwelling.into(),
                x.detraction_cents.into(),
                x.other_buildings.into(),
                x.group_d.into(),
                x.rural.into(),
                x.buildable_land.into(),
                x.agricultural_land.into(),
                x.minimum_cents.into(),
                x.updated_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn imu_rates(&self, year: i32) -> Result<Option<ImuRates>> {
        self.one(
            &format!("SELECT {RATES} FROM imu_rates WHERE tenant_id = $1 AND year = $2"),
            vec![year.into()],
        )
        .await?
        .map(|r| rates(&r))
        .transpose()
    }

    /// Every year's rates, the latest first.
    pub async fn imu_rates_all(&self) -> Result<Vec<ImuRates>> {
        self.all(
            &format!(
                "SELECT {RATES} FROM imu_rates WHERE tenant_id = $1 ORDER BY year DESC LIMIT 50"
            ),
            vec![],
        )
        .await?
        .iter()
        .map(rates)
        .collect()
    }

    pub async fn insert_imu_property(&self, p: &ImuProperty) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO imu_properties (tenant_id, {PROPERTY}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            ),
            vec![
                p.id.clone().into(),
                p.person_id.clone().into(),
                p.label.clone().into(),
                p.kind.clone().into(),
                p.category.clone().into(),
                p.amount_cents.into(),
                p.share.into(),
                p.held_from.clone().into(),
                p.held_to.clone().into(),
                p.main_dwelling.into(),
                p.residents.into(),
                p.rural.into(),
                p.exempt.into(),
                p.created_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// A person's properties, oldest first.
    pub async fn imu_properties(&self, person_id: &str) -> Result<Vec<ImuProperty>> {
        self.all(
            &format!(
                "SELECT {PROPERTY} FROM imu_properties WHERE tenant_id = $1 AND person_id = $2 \
                 ORDER BY created_at, id LIMIT 100"
            ),
            vec![person_id.into()],
        )
        .await?
        .iter()
        .map(property)
        .collect()
    }

    /// Removes one of a person's properties; false when they have none with that id.
    pub async fn delete_imu_property(&self, person_id: &str, id: &str) -> Result<bool> {
        Ok(self
            .exec(
                "DELETE FROM imu_properties WHERE tenant_id = $1 AND person_id = $2 AND id = $3",
                vec![person_id.into(), id.into()],
            )
            .await?
            == 1)
    }

    /// Writes the person's position for a year (a new calculation keeps an instalment's paid
    /// mark while its amount is the same).
    pub async fn save_imu_position(&self, person_id: &str, p: &ImuPosition) -> Result<()> {
        self.exec(
            "INSERT INTO imu_positions (tenant_id, person_id, year, year_cents, june_euros, december_euros, \
             detail, calculated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant_id, person_id, year) DO UPDATE SET year_cents = excluded.year_cents, \
             june_paid_on = CASE WHEN imu_positions.june_euros = excluded.june_euros \
               THEN imu_positions.june_paid_on ELSE NULL END, \
             december_paid_on = CASE WHEN imu_positions.december_euros = excluded.december_euros \
               THEN imu_positions.december_paid_on ELSE NULL END, \
             june_euros = excluded.june_euros, december_euros = excluded.december_euros, \
             detail = excluded.detail, calculated_at = excluded.calculated_at",
            vec![
                person_id.into(),
                p.year.into(),
                p.year_cents.into(),
                p.june_euros.into(),
                p.december_euros.into(),
                p.detail.clone().into(),
                p.calculated_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn imu_positions(&self, person_id: &str) -> Result<Vec<ImuPosition>> {
        self.all(
            &format!(
                "SELECT {POSITION} FROM imu_positions WHERE tenant_id = $1 AND person_id = $2 ORDER BY year DESC"
            ),
            vec![person_id.into()],
        )
        .await?
        .iter()
        .map(position)
        .collect()
    }

    /// Marks an instalment paid (`june` or `december`) on a day; false when there is no such
    /// position.
    pub async fn mark_imu_paid(
        &self,
        person_id: &str,
        year: i32,
        june: bool,
        on: &str,
    ) -> Result<bool> {
        let column = if june {
            "june_paid_on"
        } else {
            "december_paid_on"
        };
        Ok(self
            .exec(
                &format!(
                    "UPDATE imu_positions SET {column} = $4 WHERE tenant_id = $1 AND person_id = $2 AND year = $3"
                ),
                vec![person_id.into(), year.into(), on.into()],
            )
            .await?
            == 1)
    }
}
