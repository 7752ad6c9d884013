use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A service's online channel on another site (the Ministry's appointment booking for the
/// identity card, the national registry's certificates): shown as online only with it (or,
/// later, with a form of our own).
const SCHEMA: &str = "ALTER TABLE services ADD COLUMN online_url TEXT;\n";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }
}
