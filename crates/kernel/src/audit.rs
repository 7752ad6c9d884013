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

/// Records that `actor` was refused `what` (a route's method and path) for lack of permission:
/// in the commune's log inside a commune, in the federation's on the apex. A failure to record
/// is logged, never turned into another refusal.
pub async fn refusal(deps: &crate::Deps, actor: &Actor, what: &str, needed: &str) {
    let detail = serde_json::json!({"request": what, "needed": needed});
    let done: Result<()> = async {
        match actor.realm {
            sportello_store::staff::Realm::Commune(c) => {
                let tx = deps.store.tenant(c).await?;
                record(&tx.db(), actor, "action_refused", what, detail).await?;
                tx.commit().await?;
            }
            sportello_store::staff::Realm::Federation => {
                deps.store
                    .federation()
                    .federation_audit(&sportello_store::authz::FederationAuditEntry {
                        at: sportello_store::now_micros(),
                        actor: actor.audit_name(),
                        actor_name: actor.name.clone(),
                        commune_id: None,
                        action: "action_refused".into(),
                        detail: detail.to_string(),
                    })
                    .await?;
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = done {
        tracing::warn!(error = %e, "a refusal could not be recorded");
    }
}
