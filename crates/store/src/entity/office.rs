use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "offices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub name_en: Option<String>,
    pub description: String,
    /// The description in English, if given.
    #[serde(default)]
    pub description_en: Option<String>,
    /// The name and description in German (province of Bolzano/Bozen), if given.
    #[serde(default)]
    pub name_de: Option<String>,
    #[serde(default)]
    pub description_de: Option<String>,
    pub building_id: Option<String>,
    pub floor: String,
    pub room: String,
    pub directions: String,
    pub phone: String,
    pub email: String,
    pub pec: Option<String>,
    pub head_id: Option<String>,
    /// JSON of `domain::hours::{WeeklyHours, closures}`.
    pub hours: String,
    pub search_text: String,
    pub updated_at: i64,
    /// Made in the console and not yet published: the commune's staff see it, citizens do not.
    #[serde(default)]
    pub draft: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
