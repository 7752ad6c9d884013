//! One online payment for the commune's staff (what it paid, its refunds, the refund form for
//! those whose role holds `refund`), and the day's reconciliation with Stripe (page and CSV).

use actix_web::{HttpResponse, http::header, web};
use chrono::NaiveDate;
use serde_json::{Value, json};
use sportello_authz::{Action, Object};
use sportello_domain::Money;
use sportello_payments::reconcile;
use sportello_payments::refunds::{self, Ask};

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post_or, check, field, form, link, no_query, notice_of, render_or, table, text, when,
};

use super::*;

fn status(ctx: &Ctx, s: &str) -> String {
    ctx.label_or_code("payment_status_", s)
}

pub(super) async fn payment_page(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    q: Query,
) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let r = refunds::payment(&ctx.state, &actor, &id).await?;
        let p = &r.payment;
        let mut facts = vec![
            vec![text(ctx.t("payments_when")), text(when(&ctx, p.created_at))],
            vec![text(ctx.t("payments_payer")), text(&p.fiscal_code)],
            vec![
                text(ctx.t("payment_total")),
                text(Money::from_cents(p.total_cents())),
            ],
            vec![
                text(ctx.t("payment_fee")),
                text(Money::from_cents(p.fee_cents)),
            ],
            vec![
                text(ctx.t("payments_status")),
                text(format!(
                    "{}{}",
                    status(&ctx, &p.status),
                    p.failure
                        .as_ref()
                        .map(|f| format!(" ({f})"))
                        .unwrap_or_default()
                )),
            ],
            vec![
                text(ctx.t("payments_reference_stripe")),
                text(p.intent_id.clone().unwrap_or_default()),
            ],
        ];
        if let Some((y, n)) = p.receipt {
            facts.push(vec![
                text(ctx.t("payments_receipt")),
                text(format!("{n}/{y}")),
            ]);
        }
        if !r.refunds.is_empty() {
            facts.push(vec![
                text(ctx.t("refunds_total")),
                text(Money::from_cents(r.refunded_cents())),
            ]);
        }
        let items = r
            .items
            .iter()
            .map(|i| {
                vec![
                    link(
                        sportello_payments::grouped(&i.notice_number),
                        format!("/console/pagamenti/avvisi/{}", i.notice_number),
                    ),
                    text(Money::from_cents(i.amount_cents)),
                ]
            })
            .collect();
        let mut out = vec![
            table(
                ctx.t("payments_payment"),
                &[ctx.t("console_item"), ctx.t("console_value")],
                facts,
            ),
            table(
                ctx.t("payments_notices_paid"),
                &[ctx.t("payments_notice_number"), ctx.t("payments_amount")],
                items,
            ),
        ];
        if !r.refunds.is_empty() {
            let rows = r
                .refunds
                .iter()
                .map(|f| {
                    vec![
                        text(when(&ctx, f.created_at)),
                        text(Money::from_cents(f.amount_cents)),
                        text(&f.reason),
                        text(format!(
                            "{}{}",
                            ctx.label_or_code("refund_status_", &f.status),
                            f.failure
                                .as_ref()
                                .map(|x| format!(" ({x})"))
                                .unwrap_or_default()
                        )),
                        text(f.stripe_refund_id.clone().unwrap_or_default()),
                    ]
                })
                .collect();
            out.push(table(
                ctx.t("refunds"),
                &[
                    ctx.t("payments_when"),
                    ctx.t("payments_amount"),
                    ctx.t("payments_reason"),
                    ctx.t("payments_status"),
                    ctx.t("payments_reference_stripe"),
                ],
                rows,
            ));
        }
        if r.left_cents() > 0
            && actor
                .may(&ctx.state, Object::Payments, Action::Refund)
                .await
        {
            let left = Money::from_cents(r.left_cents());
            let mut f = form(
                ctx.t("refund_give"),
                &format!("/console/pagamenti/pagamenti/{}/rimborsa", p.id),
                ctx.t("refund_give"),
                vec![
                    field("text", "amount", ctx.t("refund_amount"), left.decimal()),
                    json!({"kind": "textarea", "name": "reason", "label": ctx.t("payments_reason"),
                           "value": "", "rows": 3, "required": true}),
                    check("refund_fee", ctx.t("refund_fee_back"), true),
                ],
            );
            f["text"] = json!(ctx.tf("refund_left", &[&left]));
            out.push(f);
        }
        Ok(out)
    }
    .await;
    render_or(
        &ctx,
        &actor,
        "/console/pagamenti",
        (ctx.t("payments_payment"), ""),
        notice_of(&ctx, &q),
        r,
    )
    .await
}

pub(super) async fn payment_refund(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Pairs,
) -> HttpResponse {
    let r = async {
        let get = |k: &str| {
            f.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        let ask = Ask {
            amount: get("amount"),
            reason: get("reason"),
            refund_fee: f.iter().any(|(n, v)| n == "refund_fee" && v != "false"),
        };
        refunds::refund(&ctx.state, &actor, &id, &ask).await?;
        Ok(format!(
            "/console/pagamenti/pagamenti/{id}?esito=rimborsato"
        ))
    }
    .await;
    let again = id.clone();
    after_post_or(ctx, &f, r, |ctx| {
        payment_page(ctx, actor, web::Path::from(again), no_query())
    })
    .await
}

/// The day asked for (`?giorno=YYYY-MM-DD`), yesterday by default.
fn day_of(q: &Query) -> Option<NaiveDate> {
    match q.get("giorno").filter(|g| !g.is_empty()) {
        Some(g) => NaiveDate::parse_from_str(g, "%Y-%m-%d").ok(),
        None => sportello_payments::today().pred_opt(),
    }
}

pub(super) async fn reconciliation(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let day = day_of(&q).ok_or(crate::error::AppError::NotFound)?;
        let rep = reconcile::day(&ctx.state, &actor, day).await?;
        let euros = signed_euros;
        let (gross, fees, net) = rep.stripe_cents();
        let pick = form(
            ctx.t("reconcile_day"),
            "/console/pagamenti/riconciliazione",
            ctx.t("reconcile_show"),
            vec![field("date", "giorno", ctx.t("reconcile_day"), day)],
        );
        let mut pick = pick;
        pick["form"]["method"] = json!("get");
        let nightly = nightly_runs(&ctx, &actor).await?;
        let summary = table(
            ctx.t("reconcile_summary"),
            &[ctx.t("console_item"), ctx.t("console_value")],
            vec![
                vec![text(ctx.t("reconcile_ours")), text(euros(rep.ours_cents()))],
                vec![text(ctx.t("reconcile_stripe_gross")), text(euros(gross))],
                vec![text(ctx.t("reconcile_stripe_fees")), text(euros(fees))],
                vec![text(ctx.t("reconcile_stripe_net")), text(euros(net))],
                vec![text(ctx.t("reconcile_flagged")), text(rep.flagged())],
                vec![
                    text(ctx.t("reconcile_export")),
                    link(
                        ctx.t("reconcile_csv"),
                        format!("/console/pagamenti/riconciliazione/csv?giorno={day}"),
                    ),
                ],
            ],
        );
        let rows = rep
            .lines
            .iter()
            .map(|l| {
                let ours = match (&l.ours, l.kind.as_str()) {
                    (Some((id, c)), "payment") => {
                        link(euros(*c), format!("/console/pagamenti/pagamenti/{id}"))
                    }
                    (Some((_, c)), _) => text(euros(*c)),
                    (None, _) => text(""),
                };
                let s = l.stripe.as_ref();
                vec![
                    text(ctx.label_or_code("reconcile_verdict_", l.verdict.key())),
                    text(&l.kind),
                    ours,
                    text(s.map(|m| euros(m.amount)).unwrap_or_default()),
                    text(s.map(|m| euros(m.fee)).unwrap_or_default()),
                    text(s.map(|m| m.source.clone()).unwrap_or_default()),
                ]
            })
            .collect();
        let mut t = table(
            ctx.t("reconcile_lines"),
            &[
                ctx.t("reconcile_verdict"),
                ctx.t("reconcile_kind"),
                ctx.t("reconcile_ours"),
                ctx.t("reconcile_stripe_gross"),
                ctx.t("reconcile_stripe_fees"),
                ctx.t("payments_reference_stripe"),
            ],
            rows,
        );
        t["empty"] = json!(ctx.t("reconcile_nothing"));
        Ok(vec![pick, summary, t, nightly])
    }
    .await;
    render_or(
        &ctx,
        &actor,
        "/console/pagamenti",
        (ctx.t("reconcile_title"), ctx.t("reconcile_intro")),
        None,
        r,
    )
    .await
}

/// Cents as euros, money out with a minus sign.
fn signed_euros(c: i64) -> String {
    let m = Money::from_cents(c.abs());
    if c < 0 {
        format!("−{m}")
    } else {
        m.to_string()
    }
}

/// The nightly comparisons of the last two weeks, each linking to its day.
async fn nightly_runs(ctx: &Ctx, actor: &Admitted) -> AppResult<Value> {
    let runs = sportello_payments::nightly::runs(&ctx.state, actor, 14).await?;
    let rows = runs
        .iter()
        .map(|r| {
            vec![
                link(
                    sportello_payments::italian_day(&r.day),
                    format!("/console/pagamenti/riconciliazione?giorno={}", r.day),
                ),
                text(ctx.label_or_code("reconcile_run_", &r.state)),
                text(if r.state == "done" {
                    r.flagged.to_string()
                } else {
                    String::new()
                }),
                text(if r.state == "done" {
                    signed_euros(r.stripe_net_cents)
                } else {
                    String::new()
                }),
            ]
        })
        .collect();
    let mut t = table(
        ctx.t("reconcile_nightly"),
        &[
            ctx.t("reconcile_day"),
            ctx.t("reconcile_run_state"),
            ctx.t("reconcile_flagged"),
            ctx.t("reconcile_stripe_net"),
        ],
        rows,
    );
    t["empty"] = json!(ctx.t("reconcile_nightly_none"));
    Ok(t)
}

pub(super) async fn reconciliation_csv(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<HttpResponse> = async {
        let day = day_of(&q).ok_or(crate::error::AppError::NotFound)?;
        let rep = reconcile::day(&ctx.state, &actor, day).await?;
        Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"riconciliazione-{day}.csv\""),
            ))
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .body(rep.csv()))
    }
    .await;
    ctx.respond(r)
}
