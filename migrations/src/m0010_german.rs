use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The charter's texts in German, for the communes of the province of Bolzano/Bozen, where
/// German is official beside Italian.
const SCHEMA: &str = r#"
ALTER TABLE services ADD COLUMN title_de TEXT;
ALTER TABLE services ADD COLUMN summary_de TEXT;
ALTER TABLE services ADD COLUMN description_de TEXT;
ALTER TABLE offices ADD COLUMN name_de TEXT;
ALTER TABLE offices ADD COLUMN description_de TEXT;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }
}
