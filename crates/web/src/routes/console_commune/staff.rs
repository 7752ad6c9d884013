//! Staff: the list with roles, invitations, role changes, removal.

use actix_web::{HttpResponse, web};
use sportello_authz::{Action, Object, Role};

use crate::authz::Admitted;
use crate::error::{AppError, AppResult};
use crate::routes::console_page::{
    after_post_or, button, field, form, form_with_text, link, no_query, notice_of, removal_fields,
    render, select, table, text,
};
use crate::routes::{Ctx, Posted};
use sportello_admin::people;
use sportello_kernel::input::Removal;

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

/// A role as people read it: "Impiegato (Anagrafe)", the office by its name.
fn role_words(
    ctx: &Ctx,
    r: &sportello_store::authz::RoleAssignment,
    offices: &[(String, String)],
) -> String {
    let name = role_name(ctx, &r.role);
    match &r.office_id {
        Some(o) => {
            let office = offices
                .iter()
                .find(|(id, _)| id == o)
                .map_or(o.as_str(), |(_, n)| n);
            format!("{name} ({office})")
        }
        None => name,
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
        let offices = office_options(&ctx, &actor).await?;
        let rows = accounts
            .iter()
            .map(|a| {
                let list: Vec<String> = roles
                    .iter()
                    .filter(|r| r.staff_id == a.id)
                    .map(|r| role_words(&ctx, r, &offices))
                    .collect();
                vec![
                    link(&a.display_name, format!("/console/personale/{}", a.id)),
                    text(&a.email),
                    text(list.join(", ")),
                    text(if a.totp_confirmed {
                        ctx.t("console_account_active")
                    } else {
                        ctx.t("console_account_invited")
                    }),
                ]
            })
            .collect();
        let mut out = vec![table(
            ctx.t("console_staff"),
            &[
                ctx.t("console_name"),
                ctx.t("console_email"),
                ctx.t("console_roles"),
                ctx.t("console_status"),
            ],
            rows,
        )];
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

/// One person of the staff: their roles (each with the button that takes it back), the form
/// that gives another, and the removal of the account. Nobody is offered a change to their own
/// roles or account (the service refuses them anyway).
pub(super) async fn person(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    q: Query,
) -> HttpResponse {
    let r: AppResult<(String, Vec<serde_json::Value>)> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let db = tx.db();
        let a = db
            .staff_db()
            .staff_by_id(&id)
            .await?
            .ok_or(AppError::NotFound)?;
        let roles: Vec<_> = db
            .role_assignments()
            .await?
            .into_iter()
            .filter(|r| r.staff_id == a.id)
            .collect();
        tx.commit().await?;
        let offices = office_options(&ctx, &actor).await?;
        let own = a.id == actor.staff_id && !actor.federation;
        let can_update = !own && actor.may(&ctx.state, Object::Staff, Action::Update).await;
        let can_delete = !own && actor.may(&ctx.state, Object::Staff, Action::Delete).await;
        let rows = roles
            .iter()
            .map(|r| {
                let words = role_words(&ctx, r, &offices);
                let mut row = vec![text(&words)];
                if can_update {
                    let o = r.office_id.clone().unwrap_or_default();
                    row.push(button(
                        &ctx.tf("console_remove_role", &[&words]),
                        format!("/console/personale/{}/ruoli", a.id),
                        &[("role", &r.role), ("office", &o), ("op", "remove")],
                    ));
                }
                row
            })
            .collect();
        let mut out = vec![table(
            ctx.t("console_roles"),
            &[
                ctx.t("console_role"),
                if can_update {
                    ctx.t("console_actions")
                } else {
                    ""
                },
            ],
            rows,
        )];
        if own {
            out[0]["text"] = serde_json::json!(ctx.t("console_own_account_note"));
        }
        if can_update {
            out.push(form(
                ctx.t("console_give_role"),
                &format!("/console/personale/{}/ruoli", a.id),
                ctx.t("console_give_role"),
                vec![
                    select("role", ctx.t("console_role"), &role_options(&ctx), "clerk"),
                    select("office", ctx.t("console_only_office"), &offices, ""),
                    field("hidden", "op", "", "add"),
                ],
            ));
        }
        if can_delete {
            out.push(form_with_text(
                ctx.t("console_delete_account"),
                &ctx.tf("console_delete_account_text", &[&a.display_name]),
                &format!("/console/personale/{}/elimina", a.id),
                ctx.t("console_delete_account"),
                removal_fields(&ctx, ctx.t("console_delete_account_confirm")),
            ));
        }
        Ok((format!("{} · {}", a.display_name, a.email), out))
    }
    .await;
    match r {
        Ok((title, s)) => {
            render(
                &ctx,
                &actor,
                "/console/personale",
                &title,
                "",
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
    after_post_or(ctx, &f, r, |ctx| staff(ctx, actor, no_query())).await
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
            "/console/personale/{id}?esito={}",
            if changed { "salvato" } else { "invariato" }
        ))
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| person(ctx, actor, id, no_query())).await
}

pub(super) async fn staff_remove(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Posted<Removal>,
) -> HttpResponse {
    let r = async {
        people::remove(&ctx.state, &actor, &id, &f).await?;
        Ok("/console/personale?esito=eliminato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| person(ctx, actor, id, no_query())).await
}
