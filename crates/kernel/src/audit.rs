//! The commune's audit log, written in the caller's transaction.

use sportello_store::TenantDb;
use sportello_store::authz::AuditEntry;

use crate::{Actor, Result};

/// Appends to the commune's audit log, in the caller's transaction.
pub async fn record(
    db: &TenantDb<'_>,
    actor: &Actor,
    action: &str,
    object: &str,
    detail: serde_json::Value,
) -> Result<()> {
    db.audit(&AuditEntry {
        at: sportello_store::now_micros(),
        actor: actor.audit_name(),
        actor_name: actor.name.clone(),
        action: action.to_owned(),
        object: object.to_owned(),
        detail: detail.to_string(),
        ..Default::default()
    })
    .await?;
    Ok(())
}
