use sea_orm::entity::prelude::*;

/// Federation table: the registry of communes (public data, read across communes).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "communes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub istat_code: String,
    pub cadastral_code: String,
    pub name: String,
    pub name_other: Option<String>,
    pub province_code: String,
    pub province_name: String,
    pub region: String,
    pub slug: String,
    pub primary_host: String,
    pub default_language: String,
    pub status: String,
    pub color: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub pec: Option<String>,
    pub website: Option<String>,
    pub patron_day: Option<String>,
    pub source: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
