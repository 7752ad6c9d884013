//! Staff accounts of a commune: invitations (by e-mail; TOTP is set up on first sign-in), roles
//! (for the whole commune or one office), removal. A role taken back ends access at once: the
//! enforcer is updated before the response, and other nodes within a poll tick.

use serde::Deserialize;
use serde_json::json;
use sportello_authz::{Action, Object, Role};
use sportello_kernel::scope::{check_scope, office_scope};

use sportello_domain::Language;
use sportello_kernel::Actor;
use sportello_kernel::Deps;
use sportello_kernel::input::{Removal, optional, required};
use sportello_kernel::{Error, Result, Why};
use sportello_notify::{Notice, To};

#[derive(Debug, Deserialize)]
pub struct Invite {
    pub email: String,
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub office: String,
}

/// Only those who may change the policy may make administrators (otherwise whoever may manage
/// staff could make themselves one).
async fn may_give(deps: &Deps, actor: &Actor, role: Role) -> Result<()> {
    if role == Role::Admin
        && !actor
            .may(
                deps,
                sportello_authz::Object::Policies,
                sportello_authz::Action::Update,
            )
            .await
    {
        return Err(Error::Refused("refused_admin_only"));
    }
    Ok(())
}

/// Administrators still able to sign in (enrolled), other than `except`.
async fn other_admins(db: &sportello_store::TenantDb<'_>, except: &str) -> Result<usize> {
    let accounts = db.staff_db().list().await?;
    Ok(db
        .role_assignments()
        .await?
        .into_iter()
        .filter(|r| r.role == Role::Admin.key() && r.staff_id != except)
        .filter(|r| {
            accounts
                .iter()
                .any(|a| a.id == r.staff_id && a.totp_confirmed)
        })
        .count())
}

fn staff_role(s: &str) -> Result<Role> {
    Role::parse(s)
        .filter(|r| Role::STAFF.contains(r))
        .ok_or_else(|| Error::invalid_at("role", Why::UnknownRole, s))
}

/// Invites a staff member: the account, its first role, and a mail with the link (valid 7 days).
pub async fn invite(deps: &Deps, actor: &Actor, f: &Invite, base_url: &str) -> Result<String> {
    let c = actor.commune()?;
    let role = staff_role(&f.role)?;
    let name = required("name", &f.name)?;
    let office = optional(&f.office);
    may_give(deps, actor, role).await?;
    // Someone whose staff powers come from one office invites for that office only.
    check_scope(
        &office_scope(deps, actor, Object::Staff, Action::Create).await?,
        office.as_deref(),
    )?;
    // Who invites, for which commune: a person must be able to tell a real invitation.
    let commune = deps
        .tenancy
        .by_id(c)
        .map_or_else(|| format!("{:06}", c.0), |m| m.record.name.clone());
    let by = if actor.name.trim().is_empty() {
        actor.email.clone()
    } else {
        format!("{} ({})", actor.name.trim(), actor.email)
    };
    let to = sportello_domain::Email::parse(&f.email).map_err(Error::parse("email"))?;
    let sender = {
        let tx = deps.store.tenant(c).await?;
        let s = tx.db().settings().await?;
        tx.commit().await?;
        s
    };
    let message = |token: &str| {
        sportello_notify::compose::compose(
            deps,
            c,
            &Notice {
                template: "staff_invitation",
                lang: Language::It,
                to: To::Email(to.clone()),
                person_id: None,
                vars: json!({
                    "name": name, "by": by, "commune": commune,
                    "url": format!("{base_url}/console/invito?token={token}"),
                }),
            },
            sender.mail_from_name.clone(),
            sender.mail_reply_to.clone(),
        )
    };
    let (id, _token) = sportello_identity::staff::invite_with_message(
        &deps.store,
        c,
        &f.email,
        &name,
        role.key(),
        office.as_deref(),
        &message,
    )
    .await?;
    sportello_notify::wake(deps);
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    sportello_kernel::audit::record(
        &db,
        actor,
        "staff_invited",
        &format!("staff:{id}"),
        json!({"email": f.email.trim(), "role": role.key(), "office": office}),
    )
    .await?;
    tx.commit().await?;
    deps.apply_policy_changes().await?;
    Ok(id)
}

#[derive(Debug, Deserialize)]
pub struct RoleChange {
    pub role: String,
    #[serde(default)]
    pub office: String,
    /// `add` or `remove`.
    pub op: String,
}

/// Gives or takes back a role.
pub async fn change_role(
    deps: &Deps,
    actor: &Actor,
    staff_id: &str,
    f: &RoleChange,
) -> Result<bool> {
    let c = actor.commune()?;
    let role = staff_role(&f.role)?;
    let office = optional(&f.office);
    if staff_id == actor.staff_id && !actor.federation {
        return Err(Error::Refused("refused_own_roles"));
    }
    may_give(deps, actor, role).await?;
    // Roles of one's own offices only: never commune-wide, never another office's.
    check_scope(
        &office_scope(deps, actor, Object::Staff, Action::Update).await?,
        office.as_deref(),
    )?;
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    // Numbered first: the row lock serialises concurrent role changes, so two administrators
    // cannot remove each other at once.
    db.note_policy_change(now).await?;
    if db.staff_db().staff_by_id(staff_id).await?.is_none() {
        return Err(Error::NotFound);
    }
    if let Some(o) = &office
        && db.office_row(o).await?.is_none()
    {
        return Err(Error::invalid_at("office", Why::UnknownOffice, o.as_str()));
    }
    let changed = match f.op.as_str() {
        "add" => {
            db.assign_role(
                staff_id,
                role.key(),
                office.as_deref(),
                &actor.audit_name(),
                now,
            )
            .await?
        }
        "remove" => {
            // Nobody may leave the commune without an administrator who can sign in.
            if role == Role::Admin {
                let admins = other_admins(&db, staff_id).await?;
                if admins == 0 {
                    return Err(Error::invalid("role", Why::LastAdmin));
                }
            }
            db.unassign_role(staff_id, role.key(), office.as_deref())
                .await?
        }
        other => {
            return Err(Error::invalid_at("op", Why::NotOneOf, other));
        }
    };
    if changed {
        sportello_kernel::audit::record(
            &db,
            actor,
            if f.op == "add" {
                "role_given"
            } else {
                "role_taken"
            },
            &format!("staff:{staff_id}"),
            json!({"role": role.key(), "office": office}),
        )
        .await?;
    }
    tx.commit().await?;
    deps.apply_policy_changes().await?;
    Ok(changed)
}

/// Removes a staff account, once confirmed: its roles, its sessions, the account. The reason
/// goes to the audit log.
pub async fn remove(deps: &Deps, actor: &Actor, staff_id: &str, f: &Removal) -> Result<()> {
    let c = actor.commune()?;
    if staff_id == actor.staff_id && !actor.federation {
        return Err(Error::invalid("", Why::OwnAccount));
    }
    let reason = f.reason()?;
    let scope = office_scope(deps, actor, Object::Staff, Action::Delete).await?;
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    // Numbered first: the row lock serialises concurrent removals (see `change_role`).
    db.note_policy_change(now).await?;
    let acc = db
        .staff_db()
        .staff_by_id(staff_id)
        .await?
        .ok_or(Error::NotFound)?;
    let roles: Vec<_> = db
        .role_assignments()
        .await?
        .into_iter()
        .filter(|r| r.staff_id == staff_id)
        .collect();
    // Someone whose staff powers come from offices removes only people who work in those
    // offices and nowhere else.
    if let Some(mine) = &scope
        && (roles.is_empty()
            || roles
                .iter()
                .any(|r| !r.office_id.as_ref().is_some_and(|o| mine.contains(o))))
    {
        return Err(Error::Refused("refused_outside_offices"));
    }
    let is_admin = roles.iter().any(|r| r.role == Role::Admin.key());
    let other_admins = if is_admin {
        other_admins(&db, staff_id).await?
    } else {
        0
    };
    if is_admin && other_admins == 0 {
        return Err(Error::invalid("", Why::LastAdmin));
    }
    db.unassign_all(staff_id).await?;
    db.staff_db().delete(staff_id).await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "staff_removed",
        &format!("staff:{staff_id}"),
        json!({"email": acc.email, "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    // Sessions first: the account is gone, so nothing it opened may outlive this call, even
    // if applying the policy change below fails.
    deps.sessions
        .end_staff(&deps.store, c, staff_id)
        .await
        .map_err(Error::Store)?;
    deps.apply_policy_changes().await?;
    Ok(())
}
