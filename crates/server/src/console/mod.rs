//! What the consoles do, behind their routes: each function takes the admitted [`Actor`] (the
//! guard already checked the route's permission), validates its input, writes in one
//! transaction with an audit entry, and applies policy changes to this node before returning.
//!
//! - [`charter`]: offices (hours, closures), services (routing to an office), with history;
//! - [`people`]: staff accounts, invitations, roles;
//! - [`policy`]: the commune's rules (template or its own);
//! - [`commune`]: branding, languages, mail sender, identity providers, support grants;
//! - [`federation`]: onboarding from the ISTAT list, suspension, activity, support access.

pub mod charter;
pub mod commune;
pub mod federation;
pub mod people;
pub mod policy;

use sportello_domain::TenantId;
use sportello_store::TenantDb;
use sportello_store::authz::AuditEntry;

use crate::AppState;
use crate::authz::Actor;
use crate::error::{AppError, AppResult};

/// The commune the actor works in (every commune console action has one).
pub fn commune_of(actor: &Actor) -> AppResult<TenantId> {
    actor.realm.commune().ok_or(AppError::NeedsCommune)
}

/// Appends to the commune's audit log, in the caller's transaction.
pub async fn audit(
    db: &TenantDb<'_>,
    actor: &Actor,
    action: &str,
    object: &str,
    detail: serde_json::Value,
) -> AppResult<()> {
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

/// After a committed policy, role or grant change: this node applies it now (others within a
/// poll tick).
pub async fn apply_policy_changes(state: &AppState) -> AppResult<()> {
    state
        .policy_sync
        .catch_up(&state.store, &state.policies)
        .await?;
    Ok(())
}

/// After a committed registry or charter change: this node sees it now.
pub async fn apply_registry_changes(state: &AppState) {
    if let Err(e) = state.tenancy.refresh(&state.store).await {
        tracing::warn!(error = %e, "registry refresh after a console change failed");
    }
}

/// A required text field, trimmed.
pub fn required(name: &str, v: &str) -> AppResult<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(AppError::BadRequest(format!("{name}: required")));
    }
    if v.chars().count() > 2000 {
        return Err(AppError::BadRequest(format!("{name}: too long")));
    }
    Ok(v.to_owned())
}

/// An optional text field: `None` when blank.
pub fn optional(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}
