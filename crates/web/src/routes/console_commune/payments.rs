//! The commune's payments: settings, notices written one by one or imported from a CSV file,
//! the list (by state, or one payer, reference or notice number), one notice (printable,
//! cancellable while open).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use sportello_authz::{Action, Object};
use sportello_domain::{Money, PaymentKind, RawNotice};
use sportello_payments::{document, import, italian_day as day, notices, settings};
use sportello_store::payments::{Notice, NoticeFilter, NoticeStatus};

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post_or, check, field, field_help, form, link, no_query, notice_of, removal_fields,
    render, render_or, select, table, text, when,
};

use super::*;

/// The largest CSV file an import takes: 32 MiB (a few hundred thousand rows).
const IMPORT_BYTES: usize = 32 * 1024 * 1024;

fn kind_label(ctx: &Ctx, key: &str) -> String {
    ctx.label_or_code("payment_kind_", key)
}
fn status_label(ctx: &Ctx, s: NoticeStatus) -> String {
    ctx.label_or_code("notice_status_", s.key())
}

pub(super) async fn payments(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    page(ctx, actor, q, None).await
}

/// The page; `refused`: an import's mistakes to show at the top.
async fn page(
    ctx: Ctx,
    actor: Admitted,
    q: Query,
    refused: Option<(Vec<import::RowError>, usize)>,
) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let s = settings::get(&ctx.state, &actor).await?;
        let mut out = vec![];
        if let Some((errors, total)) = refused {
            let rows = errors
                .iter()
                .map(|e| {
                    let p = sportello_kernel::Problem {
                        field: e.column.clone(),
                        why: e.why,
                        arg: e.arg.clone(),
                    };
                    vec![
                        text(e.line),
                        text(&e.column),
                        text(&e.arg),
                        text(ctx.problem_text(&p)),
                    ]
                })
                .collect();
            let mut t = table(
                &ctx.tf("payments_import_refused", &[&total]),
                &[ctx.t("payments_line"), ctx.t("payments_column"), ctx.t("payments_value"), ctx.t("payments_problem")],
                rows,
            );
            t["text"] = json!(ctx.t("payments_import_nothing_written"));
            out.push(t);
        }
        // The list: by state, or one payer / reference / notice number.
        let status = q.get("stato").and_then(|s| NoticeStatus::parse(s));
        // A notice number as printed (groups of four), a fiscal code as its holder's (omocodia
        // folded, as notices keep it), a reference as the commune wrote it.
        let exact = q
            .get("q")
            .map(|x| {
                let t = x.trim();
                if t.chars().all(|c| c.is_ascii_digit() || c == ' ') {
                    t.replace(' ', "")
                } else if let Ok(cf) = sportello_domain::FiscalCode::parse(t) {
                    cf.normalised().as_str().to_owned()
                } else {
                    t.to_owned()
                }
            })
            .filter(|x| !x.is_empty());
        let before = q.get("prima").and_then(|p| {
            let (at, n) = p.split_once('-')?;
            Some((at.parse().ok()?, n.to_owned()))
        });
        let filter = NoticeFilter {
            status,
            kind: None,
            exact: exact.clone(),
        };
        let list = notices::list(&ctx.state, &actor, &filter, before).await?;
        // The last nightly comparison, when staff must look at it (commune-wide readers only:
        // others are refused it, and see nothing here).
        if let Ok(runs) = sportello_payments::nightly::runs(&ctx.state, &actor, 1).await
            && let Some(r) = runs.first()
            && (r.flagged > 0 || r.state == "gave_up")
        {
            let day = sportello_payments::italian_day(&r.day);
            let mut t = table(
                ctx.t("reconcile_alert_heading"),
                &[""],
                vec![vec![link(ctx.tf("reconcile_alert_link", &[&day]), format!("/console/pagamenti/riconciliazione?giorno={}", r.day))]],
            );
            t["text"] = json!(if r.state == "gave_up" {
                ctx.tf("reconcile_alert_gave_up", &[&day])
            } else {
                ctx.tf("reconcile_alert_flagged", &[&day, &r.flagged.to_string()])
            });
            out.push(t);
        }
        out.push(table(
            ctx.t("payments_made"),
            &[""],
            vec![vec![link(ctx.t("payments_made_link"), "/console/pagamenti/pagamenti")]],
        ));
        out.push(json!({"heading": ctx.t("payments_find"), "text": ctx.t("payments_find_help"),
                        "search": {"action": "/console/pagamenti", "value": exact.clone().unwrap_or_default()}}));
        let tabs = [
            (None, ctx.t("payments_all")),
            (Some(NoticeStatus::Open), ctx.t("notice_status_open")),
            (Some(NoticeStatus::Paid), ctx.t("notice_status_paid")),
            (Some(NoticeStatus::Cancelled), ctx.t("notice_status_cancelled")),
        ];
        let tab_row: Vec<Value> = tabs
            .iter()
            .map(|(st, label)| {
                if *st == status {
                    text(format!("[{label}]"))
                } else {
                    link(
                        label,
                        st.map_or("/console/pagamenti".to_owned(), |s| {
                            format!("/console/pagamenti?stato={}", s.key())
                        }),
                    )
                }
            })
            .collect();
        let rows: Vec<Vec<Value>> = list.iter().map(|n| row(&ctx, n)).collect();
        let mut t = table(
            ctx.t("payments_notices"),
            &[
                ctx.t("payments_notice_number"),
                ctx.t("payments_payer"),
                ctx.t("payments_reason"),
                ctx.t("payments_amount"),
                ctx.t("payments_due"),
                ctx.t("payments_status"),
            ],
            rows,
        );
        t["tables"] = json!([{"heading": ctx.t("payments_filter"), "headers": ["", "", "", ""], "rows": [tab_row]}]);
        t["empty"] = json!(ctx.t("payments_none"));
        out.push(t);
        if list.len() as u64 == notices::PAGE
            && let Some(last) = list.last()
        {
            let mut more = format!("/console/pagamenti?prima={}-{}", last.created_at, last.notice_number);
            if let Some(st) = status {
                more.push_str(&format!("&stato={}", st.key()));
            }
            out.push(table(ctx.t("payments_more"), &[""], vec![vec![link(ctx.t("payments_next_page"), more)]]));
        }
        let may = |a| actor.may(&ctx.state, Object::Payments, a);
        let kinds = settings::kinds_of(&s);
        if may(Action::Update).await {
            let options: Vec<(String, String)> = kinds
                .iter()
                .map(|k| (k.key().to_owned(), kind_label(&ctx, k.key())))
                .collect();
            out.push(form(
                ctx.t("payments_new_notice"),
                "/console/pagamenti/avvisi",
                ctx.t("payments_create"),
                vec![
                    field_help("text", "reference", ctx.t("payments_reference"), "", ctx.t("payments_reference_help")),
                    field("text", "fiscal_code", ctx.t("payments_fiscal_code"), ""),
                    field("text", "payer_name", ctx.t("payments_payer"), ""),
                    select("kind", ctx.t("payments_kind"), &options, ""),
                    field("text", "reason", ctx.t("payments_reason"), ""),
                    field_help("text", "amount", ctx.t("payments_amount"), "", ctx.t("payments_amount_help")),
                    field("date", "due_on", ctx.t("payments_due"), ""),
                    field_help("date", "notified_on", ctx.t("payments_notified_on"), "", ctx.t("payments_notified_on_help")),
                ],
            ));
            let mut f = form(
                ctx.t("payments_import"),
                "/console/pagamenti/importa",
                ctx.t("payments_import_submit"),
                vec![json!({"kind": "file", "name": "file", "label": ctx.t("payments_import_file"),
                            "help": ctx.t("payments_import_help"), "value": ""})],
            );
            f["form"]["multipart"] = json!(true);
            out.push(f);
        }
        if may(Action::Update).await {
            let mut fields = vec![
                field_help("text", "tax_code", ctx.t("payments_tax_code"), s.tax_code.clone().unwrap_or_default(), ctx.t("payments_tax_code_help")),
                field_help("number", "segregation", ctx.t("payments_segregation"), s.segregation, ctx.t("payments_segregation_help")),
                field_help("text", "fee", ctx.t("payments_fee"), Money::from_cents(s.fee_cents).decimal(), ctx.t("payments_fee_help")),
            ];
            for k in PaymentKind::ALL {
                fields.push(check(&format!("kind:{}", k.key()), &kind_label(&ctx, k.key()), kinds.contains(&k)));
            }
            fields.push(field("textarea", "receipt_header", ctx.t("payments_receipt_header"), &s.receipt_header));
            fields.push(field_help("text", "stripe_account", ctx.t("payments_stripe_account"), s.stripe_account.clone().unwrap_or_default(), ctx.t("payments_stripe_account_help")));
            out.push(form(ctx.t("payments_settings"), "/console/pagamenti/impostazioni", ctx.t("console_save"), fields));
        }
        Ok(out)
    }
    .await;
    match r {
        Ok(sections) => {
            let intro = ctx.t("payments_intro");
            render(
                &ctx,
                &actor,
                "/console/pagamenti",
                ctx.t("console_nav_payments"),
                intro,
                notice_of(&ctx, &q),
                sections,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

fn row(ctx: &Ctx, n: &Notice) -> Vec<Value> {
    let grouped = sportello_payments::grouped(&n.notice_number);
    vec![
        link(
            grouped,
            format!("/console/pagamenti/avvisi/{}", n.notice_number),
        ),
        text(format!("{} ({})", n.payer_name, n.fiscal_code)),
        text(format!("{} · {}", kind_label(ctx, &n.kind), n.reason)),
        text(Money::from_cents(n.amount_cents)),
        text(day(&n.due_on)),
        text(status_label(ctx, n.status)),
    ]
}

pub(super) async fn payment_settings_save(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let r = async {
        let mut form = settings::SettingsForm::default();
        for (k, v) in f.iter() {
            match k.as_str() {
                "tax_code" => form.tax_code = v.clone(),
                "segregation" => form.segregation = v.clone(),
                "fee" => form.fee = v.clone(),
                "receipt_header" => form.receipt_header = v.clone(),
                "stripe_account" => form.stripe_account = v.clone(),
                k if k.starts_with("kind:") => form.kinds.push(k[5..].to_owned()),
                _ => {}
            }
        }
        settings::save(&ctx.state, &actor, &form).await?;
        Ok("/console/pagamenti?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| payments(ctx, actor, no_query())).await
}

pub(super) async fn notice_create(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let r = async {
        let get = |k: &str| {
            f.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let raw = RawNotice {
            reference: get("reference"),
            fiscal_code: get("fiscal_code"),
            payer_name: get("payer_name"),
            kind: get("kind"),
            reason: get("reason"),
            amount: get("amount"),
            due_on: get("due_on"),
            notified_on: get("notified_on"),
        };
        let number = notices::create(&ctx.state, &actor, &raw).await?;
        Ok(format!("/console/pagamenti/avvisi/{number}?esito=creato"))
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| payments(ctx, actor, no_query())).await
}

/// A CSV file of notices (multipart, its form token in the body): all or nothing.
pub(super) async fn notices_import(
    ctx: Ctx,
    actor: Admitted,
    req: HttpRequest,
    mp: actix_multipart::Multipart,
) -> HttpResponse {
    let r: AppResult<import::Outcome> = async {
        let bytes = uploaded_file(&ctx, &req, mp, IMPORT_BYTES).await?;
        Ok(import::import(&ctx.state, &actor, &bytes).await?)
    }
    .await;
    match r {
        Ok(import::Outcome::Done { written, already }) => ctx.see_other(&format!(
            "/console/pagamenti?esito=importati&scritti={written}&gia={already}"
        )),
        Ok(import::Outcome::Refused { errors, total }) => {
            let mut res = page(ctx, actor, no_query(), Some((errors, total))).await;
            *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
            res
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn notice_page(
    ctx: Ctx,
    actor: Admitted,
    number: web::Path<String>,
    q: Query,
) -> HttpResponse {
    let r: AppResult<(String, Vec<Value>)> = async {
        let n = notices::one(&ctx.state, &actor, &number).await?;
        let grouped = sportello_payments::grouped(&n.notice_number);
        let mut facts = vec![
            vec![text(ctx.t("payments_notice_number")), text(&grouped)],
            vec![text(ctx.t("payments_reference")), text(&n.reference)],
            vec![
                text(ctx.t("payments_payer")),
                text(format!("{} ({})", n.payer_name, n.fiscal_code)),
            ],
            vec![
                text(ctx.t("payments_kind")),
                text(kind_label(&ctx, &n.kind)),
            ],
            vec![text(ctx.t("payments_reason")), text(&n.reason)],
            vec![
                text(ctx.t("payments_amount")),
                text(Money::from_cents(n.amount_cents)),
            ],
            vec![text(ctx.t("payments_due")), text(day(&n.due_on))],
        ];
        if let (Some(c), Some(u)) = (n.reduced_cents, &n.reduced_until) {
            facts.push(vec![
                text(ctx.t("payments_reduced")),
                text(format!("{} — {}", Money::from_cents(c), day(u))),
            ]);
        }
        facts.push(vec![
            text(ctx.t("payments_status")),
            text(status_label(&ctx, n.status)),
        ]);
        facts.push(vec![
            text(ctx.t("payments_created")),
            text(when(&ctx, n.created_at)),
        ]);
        if let Some(reason) = &n.cancel_reason {
            facts.push(vec![text(ctx.t("payments_cancel_reason")), text(reason)]);
        }
        facts.push(vec![
            text(ctx.t("payments_printable")),
            link(
                ctx.t("payments_download_pdf"),
                format!("/console/pagamenti/avvisi/{}/pdf", n.notice_number),
            ),
        ]);
        let mut out = vec![table(
            ctx.t("payments_notice"),
            &[ctx.t("console_item"), ctx.t("console_value")],
            facts,
        )];
        if n.status == NoticeStatus::Open
            && actor
                .may(&ctx.state, Object::Payments, Action::Update)
                .await
        {
            let mut fields = removal_fields(&ctx, ctx.t("payments_cancel_confirm"));
            fields.truncate(1);
            out.push(form(
                ctx.t("payments_cancel"),
                &format!("/console/pagamenti/avvisi/{}/annulla", n.notice_number),
                ctx.t("payments_cancel"),
                fields,
            ));
        }
        Ok((grouped, out))
    }
    .await;
    match r {
        Ok((title, sections)) => {
            render(
                &ctx,
                &actor,
                "/console/pagamenti",
                &title,
                "",
                notice_of(&ctx, &q),
                sections,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn notice_cancel(
    ctx: Ctx,
    actor: Admitted,
    number: web::Path<String>,
    f: Pairs,
) -> HttpResponse {
    let r = async {
        let reason = f
            .iter()
            .find(|(k, _)| k == "reason")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        notices::cancel(&ctx.state, &actor, &number, reason).await?;
        Ok(format!(
            "/console/pagamenti/avvisi/{number}?esito=annullato"
        ))
    }
    .await;
    let again = number.clone();
    after_post_or(ctx, &f, r, |ctx| {
        notice_page(ctx, actor, web::Path::from(again), no_query())
    })
    .await
}

pub(super) async fn notice_pdf(
    ctx: Ctx,
    actor: Admitted,
    number: web::Path<String>,
) -> HttpResponse {
    match document::for_staff(&ctx.state, &actor, &number, ctx.lang).await {
        Ok(pdf) => crate::routes::payments::pdf_response(&ctx, &number, pdf),
        Err(e) => ctx.respond(Err(e.into())),
    }
}

/// The payments made online, by state (the set-aside ones found here).
pub(super) async fn payments_made(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let status = q.get("stato").map(String::as_str);
        let list = sportello_payments::ledger::list(&ctx.state, &actor, status).await?;
        let mut tabs = vec![
            link(
                ctx.t("reconcile_title"),
                "/console/pagamenti/riconciliazione",
            ),
            link(ctx.t("payments_all"), "/console/pagamenti/pagamenti"),
        ];
        for st in sportello_payments::ledger::STATES {
            tabs.push(link(
                ctx.label_or_code("payment_status_", st),
                format!("/console/pagamenti/pagamenti?stato={st}"),
            ));
        }
        let rows: Vec<Vec<Value>> = list
            .iter()
            .map(|p| {
                vec![
                    link(
                        when(&ctx, p.created_at),
                        format!("/console/pagamenti/pagamenti/{}", p.id),
                    ),
                    text(&p.fiscal_code),
                    text(Money::from_cents(p.total_cents())),
                    text(Money::from_cents(p.fee_cents)),
                    text(format!(
                        "{}{}",
                        ctx.label_or_code("payment_status_", &p.status),
                        p.failure
                            .as_ref()
                            .map(|f| format!(" ({f})"))
                            .unwrap_or_default()
                    )),
                    text(
                        p.receipt
                            .map(|(y, n)| format!("{n}/{y}"))
                            .unwrap_or_default(),
                    ),
                    text(p.intent_id.clone().unwrap_or_default()),
                ]
            })
            .collect();
        let mut t = table(
            ctx.t("payments_made"),
            &[
                ctx.t("payments_when"),
                ctx.t("payments_payer"),
                ctx.t("payment_total"),
                ctx.t("payment_fee"),
                ctx.t("payments_status"),
                ctx.t("payments_receipt"),
                ctx.t("payments_reference_stripe"),
            ],
            rows,
        );
        t["empty"] = json!(ctx.t("payments_none"));
        Ok(vec![
            table(ctx.t("payments_filter"), &[""; 10], vec![tabs]),
            t,
        ])
    }
    .await;
    render_or(
        &ctx,
        &actor,
        "/console/pagamenti",
        (ctx.t("payments_made"), ctx.t("payments_made_intro")),
        None,
        r,
    )
    .await
}
