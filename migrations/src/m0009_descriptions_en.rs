use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The English version of the longest texts of the charter, beside the titles' and names'.
const SCHEMA: &str = r#"
ALTER TABLE services ADD COLUMN description_en TEXT;
ALTER TABLE offices ADD COLUMN description_en TEXT;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }
}
