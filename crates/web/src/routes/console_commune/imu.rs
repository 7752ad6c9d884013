//! The commune's IMU rates per year (published on its calculator), written by administrators.

use actix_web::HttpResponse;
use serde_json::{Value, json};
use sportello_authz::{Action, Object};
use sportello_domain::Money;
use sportello_domain::imu::Rates;
use sportello_payments::imu::per_mille;
use sportello_payments::imu::rates::{self, RatesForm};

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post_or, field, form, no_query, notice_of, render_or, table, text,
};

use super::*;

pub(super) async fn imu_rates(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let c = actor.commune()?;
        let all = rates::all(&ctx.state, c).await?;
        let rows = all
            .iter()
            .map(|r| {
                vec![
                    text(r.year),
                    text(per_mille(r.main_dwelling)),
                    text(Money::from_cents(r.detraction_cents)),
                    text(per_mille(r.other_buildings)),
                    text(per_mille(r.group_d)),
                    text(per_mille(r.rural)),
                    text(per_mille(r.buildable_land)),
                    text(per_mille(r.agricultural_land)),
                    text(Money::from_cents(r.minimum_cents)),
                ]
            })
            .collect();
        let mut t = table(
            ctx.t("imu_rates"),
            &[
                ctx.t("imu_year"),
                ctx.t("imu_rate_main"),
                ctx.t("imu_detraction"),
                ctx.t("imu_rate_other"),
                ctx.t("imu_rate_d"),
                ctx.t("imu_rate_rural"),
                ctx.t("imu_rate_buildable"),
                ctx.t("imu_rate_agricultural"),
                ctx.t("imu_minimum"),
            ],
            rows,
        );
        t["empty"] = json!(ctx.t("imu_no_rates"));
        let mut out = vec![t];
        if actor
            .may(&ctx.state, Object::Payments, Action::Update)
            .await
        {
            // Prefilled with the latest year's, or the law's base rates.
            let b = Rates::BASE;
            let rate = |x: u32| per_mille(i32::try_from(x).unwrap_or(0));
            let (year, main, det, other, d, rural, buildable, agri, min) = match all.first() {
                Some(r) => (
                    r.year + 1,
                    per_mille(r.main_dwelling),
                    r.detraction_cents,
                    per_mille(r.other_buildings),
                    per_mille(r.group_d),
                    per_mille(r.rural),
                    per_mille(r.buildable_land),
                    per_mille(r.agricultural_land),
                    r.minimum_cents,
                ),
                None => (
                    sportello_payments::today()
                        .format("%Y")
                        .to_string()
                        .parse()
                        .unwrap_or(2026),
                    rate(b.main_dwelling),
                    b.detraction_cents,
                    rate(b.other_buildings),
                    rate(b.group_d),
                    rate(b.rural),
                    rate(b.buildable_land),
                    rate(b.agricultural_land),
                    b.minimum_cents,
                ),
            };
            let mut f = form(
                ctx.t("imu_rates_publish"),
                "/console/imu",
                ctx.t("console_save"),
                vec![
                    field("number", "year", ctx.t("imu_year"), year),
                    field("text", "main_dwelling", ctx.t("imu_rate_main"), main),
                    field(
                        "text",
                        "detraction",
                        ctx.t("imu_detraction"),
                        Money::from_cents(det).decimal(),
                    ),
                    field("text", "other_buildings", ctx.t("imu_rate_other"), other),
                    field("text", "group_d", ctx.t("imu_rate_d"), d),
                    field("text", "rural", ctx.t("imu_rate_rural"), rural),
                    field(
                        "text",
                        "buildable_land",
                        ctx.t("imu_rate_buildable"),
                        buildable,
                    ),
                    field(
                        "text",
                        "agricultural_land",
                        ctx.t("imu_rate_agricultural"),
                        agri,
                    ),
                    field(
                        "text",
                        "minimum",
                        ctx.t("imu_minimum"),
                        Money::from_cents(min).decimal(),
                    ),
                ],
            );
            f["text"] = json!(ctx.t("imu_rates_help"));
            out.push(f);
        }
        Ok(out)
    }
    .await;
    render_or(
        &ctx,
        &actor,
        "/console/pagamenti",
        (ctx.t("imu_rates"), ctx.t("imu_rates_intro")),
        notice_of(&ctx, &q),
        r,
    )
    .await
}

pub(super) async fn imu_rates_save(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let r = async {
        let get = |k: &str| {
            f.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let form = RatesForm {
            year: get("year"),
            main_dwelling: get("main_dwelling"),
            detraction: get("detraction"),
            other_buildings: get("other_buildings"),
            group_d: get("group_d"),
            rural: get("rural"),
            buildable_land: get("buildable_land"),
            agricultural_land: get("agricultural_land"),
            minimum: get("minimum"),
        };
        rates::save(&ctx.state, &actor, &form).await?;
        Ok("/console/imu?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| imu_rates(ctx, actor, no_query())).await
}
