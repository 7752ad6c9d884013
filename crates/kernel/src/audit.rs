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

/// Appends an act done for a citizen (`on_behalf_of`: their fiscal code) and why, in the
/// caller's transaction.
pub async fn record_for(
    db: &TenantDb<'_>,
    actor: &Actor,
    action: &str,
    object: &str,
    detail: serde_json::Value,
    on_behalf_of: &str,
    purpose: &str,
) -> Result<()> {
    db.audit(&AuditEntry {
        at: sportello_store::now_micros(),
        actor: actor.audit_name(),
        actor_name: actor.name.clone(),
        on_behalf_of: Some(on_behalf_of.to_owned()),
        purpose: Some(purpose.to_owned()),
        action: action.to_owned(),
        object: object.to_owned(),
        detail: detail.to_string(),
        ..Default::default()
    })
    .await?;
    Ok(())
}

/// The same person refused the same thing is recorded once in this long (per node): repeated
/// attempts cannot push the rest of the log out of sight.
const REFUSAL_QUIET_MICROS: i64 = 10 * 60 * 1_000_000;
/// Remembered refusals before the memory is cleared (bounded whatever happens).
const REFUSALS_REMEMBERED: usize = 10_000;

/// Whether this refusal was recorded a moment ago (and, if not, remembers it now).
fn recently_recorded(key: String, now: i64) -> bool {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static RECENT: OnceLock<Mutex<HashMap<String, i64>>> = OnceLock::new();
    let Ok(mut map) = RECENT.get_or_init(|| Mutex::new(HashMap::new())).lock() else {
        return false;
    };
    if map
        .get(&key)
        .is_some_and(|at| now - at < REFUSAL_QUIET_MICROS)
    {
        return true;
    }
    if map.len() >= REFUSALS_REMEMBERED {
        map.clear();
    }
    map.insert(key, now);
    false
}

/// Records that `actor` was refused `what` (a route's method and path) for lack of permission:
/// in the commune's log inside a commune, in the federation's on the apex; once per person and
/// route in ten minutes. A failure to record is logged, never turned into another refusal.
pub async fn refusal(deps: &crate::Deps, actor: &Actor, what: &str, needed: &str) {
    let key = format!("{:?}|{}|{what}", actor.realm, actor.audit_name());
    if recently_recorded(key, sportello_store::now_micros()) {
        return;
    }
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
