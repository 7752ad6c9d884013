use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What a commune's legal pages need beyond the federation's template: its data protection
/// officer (GDPR art. 13(1)(b)), the address of its accessibility statement (published on AgID's
/// form.agid.gov.it), and its own notes to the privacy notice (retention, other purposes).
const SCHEMA: &str = r#"
ALTER TABLE commune_settings ADD COLUMN dpo_name TEXT;
ALTER TABLE commune_settings ADD COLUMN dpo_email TEXT;
ALTER TABLE commune_settings ADD COLUMN accessibility_url TEXT;
ALTER TABLE commune_settings ADD COLUMN privacy_notes TEXT;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }
}
