use sea_orm::entity::prelude::*;

/// Every version of every office, staff member and service, with its validity interval
/// `[valid_from, valid_to)` in microseconds since the epoch; `valid_to` is null for the current one.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "charter_history")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub entity_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    pub valid_from: i64,
    pub valid_to: Option<i64>,
    pub snapshot: Option<String>,
    pub changed_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
