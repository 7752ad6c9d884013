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
        let mut headers = vec![ctx.t("console_role_and_object")];
        headers.extend(sportello_authz::Action::ALL.iter().map(|a| a.key()));
        let mut rows = vec![];
        for role in Role::COMMUNE {
            for object in Object::COMMUNE {
                let have = rules.get(&(role, object)).cloned().unwrap_or_default();
                let mut row = vec![text(format!("{} · {}", ctx.t(role_label(role)), object.key()))];
                for a in sportello_authz::Action::ALL {
                    let name = policy::cell(role, object, a);
                    let label = ctx.tf("console_may", &[&role.key(), &a.key(), &object.key()]);
                    let mut cbox = checkbox(&name, have.contains(&a), &label);
                    if !editable && let Some(m) = cbox.as_object_mut() {
                        m.insert("disabled".into(), true.into());
                    }
                    row.push(cbox);
                }
                rows.push(row);
            }
        }
        let mut matrix = table(
            if custom { ctx.t("console_rules_custom") } else { ctx.t("console_rules_template") },
            &headers,
            rows,
        );
        if editable && let Some(m) = matrix.as_object_mut() {
            m.insert("form".into(), serde_json::json!({"action": "/console/permessi", "submit": ctx.t("console_save_rules"), "fields": []}));
        }
        let mut out = vec![matrix];
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
