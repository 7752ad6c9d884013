use sea_orm_migration::prelude::*;

use crate::{run_script, secure_commune_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const TABLES: &[&str] = &["imu_rates", "imu_properties", "imu_positions"];

/// IMU. `imu_rates`: the rates a commune publishes for a year (thousandths of a per cent:
/// 0,86 % = 860), its main dwelling's detraction and the least amount paid; `imu_properties`:
/// the properties a signed-in person keeps for the calculator (a building's category and
/// cadastral income, land's income or value, the share, when held); `imu_positions`: per person
/// and year, what was calculated (the F24 lines, and the properties as they were, as the
/// person declared them) and which instalments the person marked paid.
const SCHEMA: &str = r#"
CREATE TABLE imu_rates (
    tenant_id BIGINT NOT NULL,
    year INTEGER NOT NULL,
    main_dwelling INTEGER NOT NULL,
    detraction_cents BIGINT NOT NULL,
    other_buildings INTEGER NOT NULL,
    group_d INTEGER NOT NULL,
    rural INTEGER NOT NULL,
    buildable_land INTEGER NOT NULL,
    agricultural_land INTEGER NOT NULL,
    minimum_cents BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, year)
);
CREATE TABLE imu_properties (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    category TEXT NULL,
    amount_cents BIGINT NOT NULL,
    share INTEGER NOT NULL,
    held_from TEXT NULL,
    held_to TEXT NULL,
    main_dwelling BOOLEAN NOT NULL,
    residents INTEGER NOT NULL,
    rural BOOLEAN NOT NULL,
    exempt BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX imu_properties_person ON imu_properties (tenant_id, person_id, created_at);
CREATE TABLE imu_positions (
    tenant_id BIGINT NOT NULL,
    person_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    year_cents BIGINT NOT NULL,
    june_euros BIGINT NOT NULL,
    december_euros BIGINT NOT NULL,
    detail TEXT NOT NULL,
    calculated_at BIGINT NOT NULL,
    june_paid_on TEXT NULL,
    december_paid_on TEXT NULL,
    PRIMARY KEY (tenant_id, person_id, year)
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await?;
        secure_commune_tables(manager, TABLES).await
    }
}
