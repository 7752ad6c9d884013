use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub title: String,
    pub title_en: Option<String>,
    pub summary: String,
    pub summary_en: Option<String>,
    pub description: String,
    /// The description in English, if given.
    #[serde(default)]
    pub description_en: Option<String>,
    /// The texts in German (province of Bolzano/Bozen), if given.
    #[serde(default)]
    pub title_de: Option<String>,
    #[serde(default)]
    pub summary_de: Option<String>,
    #[serde(default)]
    pub description_de: Option<String>,
    pub audience: String,
    /// JSON list of life-event keys.
    pub life_events: String,
    pub office_id: Option<String>,
    pub responsible_id: Option<String>,
    /// JSON list of strings.
    pub documents: String,
    pub cost_cents: i64,
    pub cost_note: Option<String>,
    pub max_days: Option<i32>,
    /// JSON list of channel keys.
    pub channels: String,
    pub online_level: String,
    /// The online service on another site (https), if any.
    #[serde(default)]
    pub online_url: Option<String>,
    pub available_from: Option<String>,
    pub available_to: Option<String>,
    pub search_text: String,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
