//! Office scope: the offices an actor's work is limited to. A role given for one office (a
//! clerk, an office head) opens only that office, whatever the commune's rules let the role
//! do; every service that touches something belonging to an office checks it here, and
//! anything commune-wide (a new office, a commune-wide role) is refused to a scoped actor.

use sportello_authz::{Action, Object, Role};

use crate::{Actor, Deps, Error, Result};

/// The offices an actor's work on `obj`/`act` is limited to (`None`: the whole commune). Only the
/// roles that grant that permission count: a commune-wide assignment of one of them opens the
/// commune; office-scoped ones open their offices; other roles open nothing here.
pub async fn office_scope(
    deps: &Deps,
    actor: &Actor,
    obj: Object,
    act: Action,
) -> Result<Option<Vec<String>>> {
    office_scope_without(deps, actor, obj, act, &[]).await
}

/// The same, not counting the roles in `without` (an intermediary reads the cases of its own
/// clients only, never an office's: the cases' service leaves that role out here).
pub async fn office_scope_without(
    deps: &Deps,
    actor: &Actor,
    obj: Object,
    act: Action,
    without: &[Role],
) -> Result<Option<Vec<String>>> {
    if actor.federation {
        return Ok(None);
    }
    let c = actor.commune()?;
    let rules = deps.policies.rules_of(c).await;
    let tx = deps.store.tenant(c).await?;
    let roles = tx.db().role_assignments().await?;
    tx.commit().await?;
    let mut offices = Vec::new();
    for r in roles.into_iter().filter(|r| r.staff_id == actor.staff_id) {
        let Some(role) = Role::parse(&r.role).filter(|r| !without.contains(r)) else {
            continue;
        };
        let grants = rules
            .get(&(role, obj))
            .is_some_and(|actions| actions.contains(&act));
        if !grants {
            continue;
        }
        match r.office_id {
            None => return Ok(None),
            Some(o) => offices.push(o),
        }
    }
    Ok(Some(offices))
}

/// The staff of a commune whose roles let them `act` on `obj` of `office` (a commune-wide role
/// or one for that office), leaving the roles in `without` out: one read of the roles, however
/// many staff.
pub async fn staff_for_office(
    deps: &Deps,
    commune: sportello_domain::TenantId,
    obj: Object,
    act: Action,
    office: &str,
    without: &[Role],
) -> Result<Vec<String>> {
    let rules = deps.policies.rules_of(commune).await;
    let tx = deps.store.tenant_read(commune).await?;
    let roles = tx.db().role_assignments().await?;
    tx.commit().await?;
    let mut out: Vec<String> = vec![];
    for r in roles {
        let Some(role) = Role::parse(&r.role).filter(|x| !without.contains(x)) else {
            continue;
        };
        let grants = rules
            .get(&(role, obj))
            .is_some_and(|actions| actions.contains(&act));
        if grants
            && r.office_id.as_deref().is_none_or(|o| o == office)
            && !out.contains(&r.staff_id)
        {
            out.push(r.staff_id);
        }
    }
    Ok(out)
}

pub fn check_scope(scope: &Option<Vec<String>>, office: Option<&str>) -> Result<()> {
    match (scope, office) {
        (None, _) => Ok(()),
        (Some(list), Some(o)) if list.iter().any(|x| x == o) => Ok(()),
        _ => Err(Error::Refused("refused_not_your_office")),
    }
}
