//! A commune's rules: the template it follows, or rules of its own written in the console's
//! matrix (role × object × action). Checked before saving: administrators keep the power to undo.

use std::collections::BTreeSet;

use serde_json::json;
use sportello_authz::{Action, Object, Role, Rule, template};
use sportello_store::authz::StoredPolicy;

use sportello_kernel::Actor;
use sportello_kernel::Deps;
use sportello_kernel::{Error, Result, Why};

/// The matrix's checkbox name for a permission.
pub fn cell(role: Role, object: Object, action: Action) -> String {
    format!("p:{}:{}:{}", role.key(), object.key(), action.key())
}

/// Reads the ticked boxes of the matrix form into rules.
pub fn rules_from_form(pairs: &[(String, String)]) -> Result<Vec<Rule>> {
    let mut by: std::collections::BTreeMap<(Role, Object), BTreeSet<Action>> = Default::default();
    for (k, _) in pairs {
        let Some(rest) = k.strip_prefix("p:") else {
            continue;
        };
        let mut parts = rest.split(':');
        let (Some(r), Some(o), Some(a), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::invalid_at("", Why::Malformed, k.as_str()));
        };
        let role = Role::parse(r).ok_or_else(|| Error::invalid_at("", Why::UnknownRole, r))?;
        let object = Object::parse(o).ok_or_else(|| Error::invalid_at("", Why::Malformed, o))?;
        let action = Action::parse(a).ok_or_else(|| Error::invalid_at("", Why::Malformed, a))?;
        by.entry((role, object)).or_default().insert(action);
    }
    Ok(by
        .into_iter()
        .map(|((role, object), actions)| Rule {
            role,
            object,
            actions,
        })
        .collect())
}

/// Saves the commune's own rules.
pub async fn save_rules(deps: &Deps, actor: &Actor, rules: Vec<Rule>) -> Result<()> {
    let rules = template::check_commune_rules(rules).map_err(|e| match e {
        template::RuleSetError::AdminLockout => Error::invalid("", Why::PermissionsUnsafe),
        other => Error::invalid_at("", Why::Malformed, other.to_string()),
    })?;
    let c = actor.commune()?;
    let now = sportello_store::now_micros();
    let custom = serde_json::to_string(&rules).map_err(|e| Error::Upstream(e.to_string()))?;
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    let version = db
        .policy()
        .await?
        .map(|p| p.template_version)
        .unwrap_or(template::CURRENT);
    db.set_policy(
        &StoredPolicy {
            template_version: version,
            custom_rules: Some(custom),
        },
        &actor.audit_name(),
        now,
    )
    .await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "policy_changed",
        "policies",
        json!({"rules": rules.len()}),
    )
    .await?;
    db.note_policy_change(now).await?;
    tx.commit().await?;
    deps.apply_policy_changes().await
}

/// Re-applies the current template (the commune's own rules are dropped).
pub async fn apply_template(deps: &Deps, actor: &Actor) -> Result<()> {
    let c = actor.commune()?;
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    db.set_policy(
        &StoredPolicy {
            template_version: template::CURRENT,
            custom_rules: None,
        },
        &actor.audit_name(),
        now,
    )
    .await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "policy_template_applied",
        "policies",
        json!({"version": template::CURRENT}),
    )
    .await?;
    db.note_policy_change(now).await?;
    tx.commit().await?;
    deps.apply_policy_changes().await
}
