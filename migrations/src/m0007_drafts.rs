use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An office made in the console starts as a draft: its staff see it, citizens do not, until
/// someone who may edit the charter publishes it. (A commune's draft state is its `status`,
/// `draft`, a text column already.)
const SCHEMA: &str = "ALTER TABLE offices ADD COLUMN draft BOOLEAN NOT NULL DEFAULT FALSE;\n";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }
}
