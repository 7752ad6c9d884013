//! Staff: the list with roles, invitations, role changes, removal.

use actix_web::{HttpResponse, web};
use sportello_authz::{Action, Object, Role};

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::console_page::{
    after_post, button, field, form, notice_of, render, select, table, text,
};
use crate::routes::{Button, Ctx, Posted};
use sportello_admin::people;

use super::*;

pub(super) fn role_options(ctx: &Ctx) -> Vec<(String, String)> {
    Role::STAFF
        .iter()
        .map(|r| (r.key().to_owned(), ctx.t(role_label(*r)).to_owned()))
        .collect()
}

/// A stored role key as people read it, in the page's language.
pub(crate) fn role_name(ctx: &Ctx, key: &str) -> String {
    Role::parse(key).map_or_else(|| key.to_owned(), |r| ctx.t(role_label(r)).to_owned())
}

/// The key of a role's name in `web/i18n/ui.toml`.
pub(crate) fn role_label(r: Role) -> &'static str {
    match r {
        Role::Citizen => "role_citizen",
        Role::FrontDesk => "role_front_desk",
        Role::CallCentre => "role_call_centre",
        Role::Clerk => "role_clerk",
        Role::OfficeHead => "role_office_head",
        Role::Admin => "role_admin",
        Role::Intermediary => "role_intermediary",
        Role::Verifier => "role_verifier",
        Role::Support => "role_support",
        Role::Federation => "role_federation",
    }
}

pub(super) async fn staff(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let db = tx.db();
        let accounts = db.staff_db().list().await?;
        let roles = db.role_assignments().await?;
        tx.commit().await?;
        let can_update = actor.may(&ctx.state, Object::Staff, Action::Update).await;
        let can_delete = actor.may(&ctx.state, Object::Staff, Action::Delete).await;
        let mut rows = vec![];
        for a in &accounts {
            let mine: Vec<_> = roles.iter().filter(|r| r.staff_id == a.id).collect();
            let mut cells = vec![text(&a.display_name), text(&a.email)];
            let list: Vec<String> = mine
                .iter()
                .map(|r| match &r.office_id {
                    Some(o) => format!("{} ({o})", role_name(&ctx, &r.role)),
                    None => role_name(&ctx, &r.role),
                })
                .collect();
            cells.push(text(list.join(", ")));
            cells.push(text(if a.totp_confirmed {
                ctx.t("console_account_active")
            } else {
                ctx.t("console_account_invited")
            }));
            if can_update {
                for r in &mine {
                    let o = r.office_id.clone().unwrap_or_default();
                    cells.push(button(
                        &ctx.tf("console_remove_role", &[&role_name(&ctx, &r.role)]),
                        format!("/console/personale/{}/ruoli", a.id),
                        &[("role", &r.role), ("office", &o), ("op", "remove")],
                    ));
                }
            }
            if can_delete {
                cells.push(button(
                    ctx.t("console_delete_account"),
                    format!("/console/personale/{}/elimina", a.id),
                    &[],
                ));
            }
            rows.push(cells);
        }
        let mut out = vec![table(
            ctx.t("console_staff"),
            &[
                ctx.t("console_name"),
                ctx.t("console_email"),
                ctx.t("console_roles"),
                ctx.t("console_status"),
                ctx.t("console_actions"),
            ],
            rows,
        )];
        let offices = office_options(&ctx, &actor).await?;
        if actor.may(&ctx.state, Object::Staff, Action::Create).await {
            out.push(form(
                ctx.t("console_invite_person"),
                "/console/personale",
                ctx.t("console_send_invitation"),
                vec![
                    field("email", "email", ctx.t("console_email"), ""),
                    field("text", "name", ctx.t("console_full_name"), ""),
                    select("role", ctx.t("console_role"), &role_options(&ctx), "clerk"),
                    select("office", ctx.t("console_only_office_help"), &offices, ""),
                ],
            ));
        }
        if can_update {
            for a in &accounts {
                out.push(form(
                    &ctx.tf("console_give_role_to", &[&a.display_name]),
                    &format!("/console/personale/{}/ruoli", a.id),
                    ctx.t("console_give_role"),
                    vec![
                        select("role", ctx.t("console_role"), &role_options(&ctx), "clerk"),
                        select("office", ctx.t("console_only_office"), &offices, ""),
                        field("hidden", "op", "", "add"),
                    ],
                ));
            }
        }
        Ok(out)
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/personale",
                ctx.t("console_nav_staff"),
                ctx.t("console_staff_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn staff_invite(
    ctx: Ctx,
    actor: Admitted,
    f: Posted<people::Invite>,
) -> HttpResponse {
    let r = async {
        let base = ctx.base_url()?;
        people::invite(&ctx.state, &actor, &f, &base).await?;
        Ok("/console/personale?esito=invitato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}

pub(super) async fn staff_role(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Posted<people::RoleChange>,
) -> HttpResponse {
    let r = async {
        let changed = people::change_role(&ctx.state, &actor, &id, &f).await?;
        Ok(format!(
            "/console/personale?esito={}",
            if changed { "salvato" } else { "invariato" }
        ))
    }
    .await;
    after_post(&ctx, r)
}

pub(super) async fn staff_remove(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    _: Posted<Button>,
) -> HttpResponse {
    let r = async {
        people::remove(&ctx.state, &actor, &id).await?;
        Ok("/console/personale?esito=eliminato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}
