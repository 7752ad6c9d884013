use sea_orm_migration::prelude::*;

use crate::run_script;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A commune's console lists its staff's sign-ins, failed second factors and lockouts from the
/// sign-in audit: by commune, newest first.
const SCHEMA: &str = "CREATE INDEX auth_audit_commune ON auth_audit (commune_id, at);\n";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_script(manager, SCHEMA).await
    }
}
