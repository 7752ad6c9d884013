//! Paying for services: for each service of the charter with a cost, when it is paid (before
//! the request is sent, or after), whether it needs the stamp duty and which exemptions from it
//! a citizen may declare.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use sportello_authz::{Action, Object};
use sportello_payments::fees::{self, FeeForm};

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post_or, check, form, no_query, notice_of, render_or, select,
};

use super::*;

pub(super) async fn service_fees(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let list = fees::list(&ctx.state, &actor).await?;
        let may = actor.may(&ctx.state, Object::Payments, Action::Update).await;
        let modes = [
            ("none".to_owned(), ctx.t("service_fee_none").to_owned()),
            ("before".to_owned(), ctx.t("service_fee_before").to_owned()),
            ("after".to_owned(), ctx.t("service_fee_after").to_owned()),
        ];
        let mut out = vec![];
        for (s, f) in &list {
            let mode = f.as_ref().map_or("none", |f| f.mode.as_str());
            let heading = format!("{} — {}", s.title, s.cost);
            if may {
                out.push(form(
                    &heading,
                    &format!("/console/pagamenti/servizi/{}", s.id),
                    ctx.t("console_save"),
                    vec![
                        select("mode", ctx.t("service_fee_mode"), &modes, mode),
                        check(
                            "stamp_duty",
                            ctx.t("service_fee_stamp"),
                            f.as_ref().is_some_and(|f| f.stamp_duty),
                        ),
                        json!({"kind": "textarea", "name": "exemptions", "rows": 3,
                               "label": ctx.t("service_fee_exemptions"),
                               "value": f.as_ref().map(|f| f.exemptions.clone()).unwrap_or_default()}),
                    ],
                ));
            } else {
                let label = modes
                    .iter()
                    .find(|(k, _)| k == mode)
                    .map_or(mode.to_owned(), |(_, l)| l.clone());
                out.push(json!({"heading": heading, "text": label}));
            }
        }
        Ok(out)
    }
    .await;
    render_or(
        &ctx,
        &actor,
        "/console/pagamenti",
        (ctx.t("service_fees"), ctx.t("service_fees_intro")),
        notice_of(&ctx, &q),
        r,
    )
    .await
}

pub(super) async fn service_fee_save(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Pairs,
) -> HttpResponse {
    let r = async {
        let get = |k: &str| {
            f.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let form = FeeForm {
            mode: get("mode"),
            stamp_duty: f.iter().any(|(n, v)| n == "stamp_duty" && v != "false"),
            exemptions: get("exemptions"),
        };
        fees::save(&ctx.state, &actor, &id, &form).await?;
        Ok("/console/pagamenti/servizi?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| service_fees(ctx, actor, no_query())).await
}
