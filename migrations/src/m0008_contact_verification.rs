use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The contact address a person proved to be theirs (a code mailed to it, typed back): the
/// contact e-mail is used only while it is this one.
const SCHEMA: &str = "ALTER TABLE people ADD COLUMN contact_email_verified TEXT;\n";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }
}
