//! The federation console's pages (on the apex host), each declared with its permission in [`routes`].

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use sportello_authz::{Action, Object};
use sportello_domain::{CommuneStatus, TenantId};

use super::console_page::{
    after_post_or, button, field, field_help, form, form_with_text, link, no_query, notice_of,
    removal_fields, render, select, table, text, when,
};
use super::{Button, Ctx, Posted};
use crate::authz::{Admitted, Need, Needs, Routes};
use crate::error::{AppError, AppResult};
use sportello_admin::{commune, federation};
use sportello_kernel::input::Removal;

type Query = web::Query<HashMap<String, String>>;

/// The federation console's pages (the apex host only), each with the permission it needs.
pub fn routes(r: &mut Routes) {
    use Action::{Create, Delete, Read, Update};
    let allow = |obj, act| Needs::Federation(Need::Allow(obj, act));
    r.get(
        "/console/comuni",
        allow(Object::Communes, Read),
        istat_search,
    )
    .get(
        "/console/comuni/nuovo",
        allow(Object::Communes, Create),
        onboard_form,
    )
    .post("/console/comuni", allow(Object::Communes, Create), onboard)
    .get(
        "/console/comuni/{istat}/stato",
        allow(Object::Communes, Update),
        status_page,
    )
    .post(
        "/console/comuni/{istat}/stato",
        allow(Object::Communes, Update),
        set_status,
    )
    .get("/console/assistenza", allow(Object::Support, Read), support)
    .post(
        "/console/assistenza/{istat}/entra",
        allow(Object::Support, Read),
        support_enter,
    )
    .post(
        "/console/assistenza/{istat}/{id}/revoca",
        allow(Object::Support, Delete),
        support_revoke,
    );
}

fn port_suffix(ctx: &Ctx) -> String {
    ctx.origin.port.map(|p| format!(":{p}")).unwrap_or_default()
}

fn tenant(istat: &str) -> AppResult<TenantId> {
    istat
        .trim()
        .parse::<i64>()
        .map(TenantId)
        .map_err(|_| AppError::NotFound)
}

/// The communes of the federation with their activity (filtered by name or code): the live ones,
/// 50 per page, then the suspended ones apart.
pub async fn home(ctx: Ctx, actor: Admitted, q: HashMap<String, String>) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let filter = sportello_store::fold_for_search(q.get("q").map(String::as_str).unwrap_or(""));
        let page: usize = q.get("pagina").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
        let reg = ctx.state.tenancy.snapshot();
        let (live, others): (Vec<_>, Vec<_>) = reg
            .communes()
            .iter()
            .filter(|c| filter.is_empty() || c.search_key.contains(&filter) || c.record.istat_code.as_str() == filter)
            .cloned()
            .partition(|c| c.record.status == CommuneStatus::Active);
        let (drafts, suspended): (Vec<_>, Vec<_>) =
            others.into_iter().partition(|c| c.record.status == CommuneStatus::Draft);
        let total = live.len();
        let shown: Vec<_> = live.into_iter().skip(page.saturating_sub(1).saturating_mul(50)).take(50).collect();
        let can_update = actor.may(&ctx.state, Object::Communes, Action::Update).await;
        let header = [ctx.t("console_commune"), ctx.t("console_istat"), ctx.t("console_address"), ctx.t("console_status"), ctx.t("console_signins_30d"), ctx.t("console_services"), ctx.t("console_staff"), ""];
        let mut sections = vec![
            serde_json::json!({"heading": ctx.t("console_search_active"), "search": {"action": "/console", "value": q.get("q").cloned().unwrap_or_default()}}),
        ];
        // Communes being prepared first: the newest work.
        if !drafts.is_empty() {
            sections.push(table(
                &ctx.tf("console_draft_communes", &[&drafts.len()]),
                &header,
                commune_rows(&ctx, &drafts, can_update).await?,
            ));
        }
        sections.extend([
            table(
                &ctx.tf("console_active_communes", &[&total]),
                &header,
                commune_rows(&ctx, &shown, can_update).await?,
            ),
        ]);
        if !suspended.is_empty() {
            sections.push(table(
                &ctx.tf("console_suspended_communes", &[&suspended.len()]),
                &header,
                commune_rows(&ctx, &suspended, can_update).await?,
            ));
        }
        Ok(sections)
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console",
                ctx.t("console_federation_title"),
                ctx.t("console_federation_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

/// A row per commune: name (a link to its portal), code, host, status, sign-ins in 30 days,
/// services, staff, and the suspend/resume button for those who may.
async fn commune_rows(
    ctx: &Ctx,
    communes: &[std::sync::Arc<sportello_kernel::tenancy::Commune>],
    can_update: bool,
) -> AppResult<Vec<Vec<serde_json::Value>>> {
    let ids: Vec<i64> = communes.iter().map(|c| c.id().0).collect();
    let since = sportello_store::now_micros() - 30 * 86_400_000_000;
    let sign_ins: HashMap<i64, i64> = ctx
        .state
        .store
        .federation()
        .sign_ins_since(&ids, since)
        .await?
        .into_iter()
        .collect();
    let mut rows = vec![];
    for c in communes {
        let tx = ctx.state.store.tenant(c.id()).await?;
        let (services, staff) = tx.db().sizes().await?;
        tx.commit().await?;
        let suspended = c.record.status == CommuneStatus::Suspended;
        let mut row = vec![
            link(
                &c.record.name,
                format!(
                    "{}://{}{}/",
                    ctx.state.scheme,
                    c.record.primary_host,
                    port_suffix(ctx)
                ),
            ),
            text(c.record.istat_code.as_str()),
            text(&c.record.primary_host),
            text(if c.record.status == CommuneStatus::Draft {
                ctx.t("console_commune_draft")
            } else if suspended {
                ctx.t("console_commune_suspended")
            } else {
                ctx.t("console_commune_live")
            }),
            text(sign_ins.get(&c.id().0).copied().unwrap_or(0)),
            text(services),
            text(staff),
        ];
        if can_update {
            let label = if suspended {
                ctx.t("console_resume")
            } else {
                ctx.t("console_suspend")
            };
            row.push(link(
                label,
                format!("/console/comuni/{}/stato", c.record.istat_code.as_str()),
            ));
        }
        rows.push(row);
    }
    Ok(rows)
}

async fn istat_search(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let term = q.get("q").cloned().unwrap_or_default();
    let rows: Vec<Vec<serde_json::Value>> = federation::search_istat(&term, 50)
        .into_iter()
        .map(|r| {
            let live = ctx.state.tenancy.by_id(r.tenant_id()).is_some();
            vec![
                text(&r.name_it),
                text(r.istat_code.as_str()),
                text(format!("{} ({})", r.province_name, r.province_code)),
                if live {
                    text(ctx.t("console_already_active"))
                } else {
                    link(
                        ctx.t("console_activate"),
                        format!("/console/comuni/nuovo?istat={}", r.istat_code.as_str()),
                    )
                },
            ]
        })
        .collect();
    let sections = vec![
        serde_json::json!({"heading": ctx.t("console_search_istat"), "search": {"action": "/console/comuni", "value": term}}),
        table(
            ctx.t("console_results"),
            &[
                ctx.t("console_commune"),
                ctx.t("console_istat_code"),
                ctx.t("console_province"),
                "",
            ],
            rows,
        ),
    ];
    render(
        &ctx,
        &actor,
        "/console/comuni",
        ctx.t("console_nav_onboard"),
        ctx.t("console_onboard_intro"),
        notice_of(&ctx, &q),
        sections,
    )
    .await
}

async fn onboard_form(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let istat = q.get("istat").cloned().unwrap_or_default();
    let Some(row) = sportello_store::istat::embedded().get(istat.trim()) else {
        return ctx.respond(Err(AppError::NotFound));
    };
    let slug = federation::national_slug(row);
    let langs = vec![
        ("it".to_owned(), ctx.t("console_italian").to_owned()),
        ("en".to_owned(), ctx.t("console_english").to_owned()),
    ];
    let sections = vec![form(
        &ctx.tf("console_commune_of", &[&row.name_it, &row.province_code]),
        "/console/comuni",
        ctx.t("console_activate_commune"),
        vec![
            field("hidden", "istat", "", row.istat_code.as_str()),
            field_help(
                "text",
                "host",
                ctx.t("console_portal_host"),
                format!("{slug}.{}", ctx.state.tenancy.apex),
                ctx.t("console_portal_host_help"),
            ),
            field_help(
                "text",
                "aliases",
                ctx.t("console_aliases"),
                "",
                ctx.t("console_aliases_help"),
            ),
            select(
                "default_language",
                ctx.t("console_default_language"),
                &langs,
                "it",
            ),
            field(
                "color",
                "color",
                ctx.t("console_header_colour"),
                sportello_store::sync::DEFAULT_COLOUR,
            ),
            field(
                "email",
                "admin_email",
                ctx.t("console_first_admin_email"),
                "",
            ),
            field("text", "admin_name", ctx.t("console_first_admin_name"), ""),
        ],
    )];
    render(
        &ctx,
        &actor,
        "/console/comuni",
        ctx.t("console_nav_onboard"),
        ctx.t("console_onboard_note"),
        None,
        sections,
    )
    .await
}

async fn onboard(ctx: Ctx, actor: Admitted, f: Posted<federation::Onboard>) -> HttpResponse {
    let r = async {
        // Back to the list, filtered on the new commune (by its ISTAT code: the list's filter
        // knows names and codes, not hosts).
        let (id, _) = federation::onboard(&ctx.state, &actor, &f, &port_suffix(&ctx)).await?;
        Ok(format!("/console?esito=creato&q={:06}", id.0))
    }
    .await;
    let istat = f.istat.clone();
    after_post_or(ctx, &f, r, |ctx| {
        onboard_form(
            ctx,
            actor,
            web::Query(HashMap::from([("istat".to_owned(), istat)])),
        )
    })
    .await
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
    #[serde(flatten)]
    removal: Removal,
}

/// A commune's status: the form that suspends it (with the reason and a confirmation), or
/// brings it back.
async fn status_page(ctx: Ctx, actor: Admitted, istat: web::Path<String>) -> HttpResponse {
    let Some(c) = tenant(&istat).ok().and_then(|t| ctx.state.tenancy.by_id(t)) else {
        return ctx.respond(Err(AppError::NotFound));
    };
    let suspended = c.record.status == CommuneStatus::Suspended;
    let action = format!("/console/comuni/{}/stato", c.record.istat_code.as_str());
    let section = if suspended {
        form_with_text(
            ctx.t("console_resume"),
            ctx.t("console_resume_text"),
            &action,
            ctx.t("console_resume"),
            vec![field("hidden", "status", "", "active")],
        )
    } else {
        let mut fields = vec![field("hidden", "status", "", "suspended")];
        fields.extend(removal_fields(&ctx, ctx.t("console_suspend_confirm")));
        form_with_text(
            ctx.t("console_suspend"),
            ctx.t("console_suspend_text"),
            &action,
            ctx.t("console_suspend"),
            fields,
        )
    };
    render(
        &ctx,
        &actor,
        "/console",
        &ctx.tf(
            "console_commune_of",
            &[&c.record.name, &c.record.province_code],
        ),
        "",
        None,
        vec![section],
    )
    .await
}

async fn set_status(
    ctx: Ctx,
    actor: Admitted,
    istat: web::Path<String>,
    f: Posted<StatusForm>,
) -> HttpResponse {
    let r = async {
        federation::set_status(&ctx.state, &actor, tenant(&istat)?, &f.status, &f.removal).await?;
        Ok("/console?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| status_page(ctx, actor, istat)).await
}

async fn support(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let now = sportello_store::now_micros();
        let grants = ctx
            .state
            .store
            .federation()
            .active_support_grants(now)
            .await?;
        let can_revoke = actor.may(&ctx.state, Object::Support, Action::Delete).await;
        let rows = grants
            .iter()
            .map(|g| {
                let name = ctx
                    .state
                    .tenancy
                    .by_id(TenantId(g.commune_id))
                    .map(|c| c.record.name.clone())
                    .unwrap_or_default();
                let istat = format!("{:06}", g.commune_id);
                let mut row = vec![
                    text(name),
                    text(&g.reason),
                    text(when(&ctx, g.expires_at)),
                    button(
                        ctx.t("console_enter"),
                        format!("/console/assistenza/{istat}/entra"),
                        &[],
                    ),
                ];
                if can_revoke {
                    row.push(button(
                        ctx.t("console_give_back"),
                        format!("/console/assistenza/{istat}/{}/revoca", g.id),
                        &[],
                    ));
                }
                row
            })
            .collect();
        Ok(vec![table(
            ctx.t("console_grants_from_communes"),
            &[
                ctx.t("console_commune"),
                ctx.t("console_reason"),
                ctx.t("console_until"),
                "",
                "",
            ],
            rows,
        )])
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/assistenza",
                ctx.t("console_assistance_title"),
                ctx.t("console_assistance_intro"),
                notice_of(&ctx, &q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

async fn support_enter(
    ctx: Ctx,
    actor: Admitted,
    istat: web::Path<String>,
    b: Posted<Button>,
) -> HttpResponse {
    let r = async {
        let (host, code) = federation::support_entry(&ctx.state, &actor, tenant(&istat)?).await?;
        Ok(format!(
            "{}://{}{}/console/supporto/ingresso?code={code}",
            ctx.state.scheme,
            host.as_str(),
            port_suffix(&ctx)
        ))
    }
    .await;
    after_post_or(ctx, &b, r, |ctx| support(ctx, actor, no_query())).await
}

async fn support_revoke(
    ctx: Ctx,
    actor: Admitted,
    path: web::Path<(String, String)>,
    b: Posted<Button>,
) -> HttpResponse {
    let r = async {
        commune::revoke_support(&ctx.state, &actor, tenant(&path.0)?, &path.1).await?;
        Ok("/console/assistenza?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &b, r, |ctx| support(ctx, actor, no_query())).await
}
