//! Who may do what here: the permissions matrix, saving it, re-applying the template.

use actix_web::HttpResponse;
use sportello_authz::{Action, Object, Role};

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::console_page::{
    after_post_or, checkbox, form, no_query, notice_of, render, table, text,
};
use crate::routes::{Button, Ctx, Posted};
use sportello_admin::policy;

use super::*;

pub(super) async fn policies(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = actor.commune()?;
        let rules = ctx.state.policies.rules_of(c).await;
        let tx = ctx.state.store.tenant(c).await?;
        let stored = tx.db().policy().await?;
        tx.commit().await?;
        let custom = stored.as_ref().is_some_and(|p| p.custom_rules.is_some());
        let editable = actor.may(&ctx.state, Object::Policies, Action::Update).await;
        // One table per area, a row per role, a column per action that means something there
        // (or that some role holds there: saving must not drop what is not shown).
        let mut tables = vec![];
        for object in Object::COMMUNE {
            let actions: Vec<Action> = Action::ALL
                .into_iter()
                .filter(|a| {
                    meaningful(object, *a)
                        || Role::COMMUNE.iter().any(|r| {
                            rules.get(&(*r, object)).is_some_and(|have| have.contains(a))
                        })
                })
                .collect();
            let mut headers = vec![ctx.t("console_role")];
            headers.extend(actions.iter().map(|a| ctx.t(action_label(*a))));
            let rows = Role::COMMUNE
                .iter()
                .map(|role| {
                    let have = rules.get(&(*role, object)).cloned().unwrap_or_default();
                    let mut row = vec![text(ctx.t(role_label(*role)))];
                    for a in &actions {
                        let label = ctx.tf(
                            "console_may",
                            &[&ctx.t(role_label(*role)), &ctx.t(action_label(*a)), &ctx.t(object_label(object))],
                        );
                        let mut cbox = checkbox(&policy::cell(*role, object, *a), have.contains(a), &label);
                        if !editable && let Some(m) = cbox.as_object_mut() {
                            m.insert("disabled".into(), true.into());
                        }
                        row.push(cbox);
                    }
                    row
                })
                .collect::<Vec<_>>();
            tables.push(serde_json::json!({
                "heading": ctx.t(object_label(object)),
                "text": ctx.t(object_help(object)),
                "headers": headers,
                "rows": rows,
            }));
        }
        let mut matrix = serde_json::json!({
            "heading": if custom { ctx.t("console_rules_custom") } else { ctx.t("console_rules_template") },
            "tables": tables,
        });
        if editable && let Some(m) = matrix.as_object_mut() {
            m.insert("form".into(), serde_json::json!({"action": "/console/permessi", "submit": ctx.t("console_save_rules"), "fields": []}));
        }
        let roles = table(
            ctx.t("console_roles_explained"),
            &[ctx.t("console_role"), ctx.t("console_what_it_is")],
            Role::COMMUNE
                .iter()
                .map(|r| vec![text(ctx.t(role_label(*r))), text(ctx.t(role_help(*r)))])
                .collect(),
        );
        let mut out = vec![roles, matrix];
        if editable {
            out.push(form(
                ctx.t("console_template"),
                "/console/permessi/modello",
                ctx.t("console_reapply_template"),
                vec![],
            ));
        }
        Ok(out)
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/permessi",
                ctx.t("console_nav_permissions"),
                ctx.t("console_permissions_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn policies_save(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let r = async {
        let rules = policy::rules_from_form(&f)?;
        policy::save_rules(&ctx.state, &actor, rules).await?;
        Ok("/console/permessi?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| policies(ctx, actor, no_query())).await
}

pub(super) async fn policies_template(
    ctx: Ctx,
    actor: Admitted,
    b: Posted<Button>,
) -> HttpResponse {
    let r = async {
        policy::apply_template(&ctx.state, &actor).await?;
        Ok("/console/permessi?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &b, r, |ctx| policies(ctx, actor, no_query())).await
}

/// The actions that mean something for an object (the others are shown only where granted).
fn meaningful(object: Object, a: Action) -> bool {
    use Action::{ActFor, Create, Delete, Read, Refund, Update, Verify};
    match object {
        Object::Settings | Object::Policies => matches!(a, Read | Update),
        Object::Audit => a == Read,
        Object::Cases => matches!(a, Read | Create | Update | Delete | ActFor),
        Object::Payments => matches!(a, Read | Create | Update | Refund),
        Object::Records => matches!(a, Read | Create | Update | Verify),
        _ => matches!(a, Read | Create | Update | Delete),
    }
}

/// The key of an action's name in `web/i18n/ui.toml`.
fn action_label(a: Action) -> &'static str {
    match a {
        Action::Read => "action_read",
        Action::Create => "action_create",
        Action::Update => "action_update",
        Action::Delete => "action_delete",
        Action::ActFor => "action_act_for",
        Action::Verify => "action_verify",
        Action::Refund => "action_refund",
    }
}

/// The keys of an area's name and explanation.
fn object_label(o: Object) -> &'static str {
    match o {
        Object::Offices => "object_offices",
        Object::Services => "object_services",
        Object::Cases => "object_cases",
        Object::Payments => "object_payments",
        Object::Charter => "object_charter",
        Object::Settings => "object_settings",
        Object::Staff => "object_staff",
        Object::Policies => "object_policies",
        Object::Audit => "object_audit",
        Object::Idps => "object_idps",
        Object::Support => "object_support",
        Object::Records => "object_records",
        Object::Messages => "object_messages",
        Object::Communes => "object_communes",
    }
}

fn object_help(o: Object) -> &'static str {
    match o {
        Object::Offices => "object_help_offices",
        Object::Services => "object_help_services",
        Object::Cases => "object_help_cases",
        Object::Payments => "object_help_payments",
        Object::Charter => "object_help_charter",
        Object::Settings => "object_help_settings",
        Object::Staff => "object_help_staff",
        Object::Policies => "object_help_policies",
        Object::Audit => "object_help_audit",
        Object::Idps => "object_help_idps",
        Object::Support => "object_help_support",
        Object::Records => "object_help_records",
        Object::Messages => "object_help_messages",
        Object::Communes => "object_help_communes",
    }
}

fn role_help(r: Role) -> &'static str {
    match r {
        Role::Citizen => "role_help_citizen",
        Role::FrontDesk => "role_help_front_desk",
        Role::CallCentre => "role_help_call_centre",
        Role::Clerk => "role_help_clerk",
        Role::OfficeHead => "role_help_office_head",
        Role::Admin => "role_help_admin",
        Role::Intermediary => "role_help_intermediary",
        Role::Verifier => "role_help_verifier",
        Role::Support => "role_help_support",
        Role::Federation => "role_help_federation",
    }
}
