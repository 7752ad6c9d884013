//! Tickets in the commune's console: the offers and their times (what each sold, what is
//! free), written by administrators; and the entrance, where staff look a ticket up by its
//! code (its QR opens this page) and let it in once.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use sportello_authz::{Action, Object};
use sportello_domain::Money;
use sportello_payments::tickets::entrance::{self, Admission};
use sportello_payments::tickets::offers::{self, OfferForm};
use sportello_payments::tickets::{buy::when as slot_when, grouped_code};

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post_or, check, field, form, link, no_query, notice_of, render_or, table, text, when,
};

use super::*;

fn get<'a>(f: &'a Pairs, k: &str) -> &'a str {
    f.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn offer_form(ctx: &Ctx, o: Option<&sportello_store::payments::TicketOffer>) -> Value {
    let mut fields = vec![];
    match o {
        Some(o) => {
            fields.push(json!({"kind": "hidden", "name": "id", "value": o.id}));
            fields.push(json!({"kind": "hidden", "name": "editing", "value": "1"}));
        }
        None => fields.push(field("text", "id", ctx.t("ticket_offer_id"), "")),
    }
    fields.extend([
        field(
            "text",
            "title",
            ctx.t("ticket_offer_title"),
            o.map_or("", |o| &o.title),
        ),
        field(
            "text",
            "place",
            ctx.t("ticket_place"),
            o.map_or("", |o| &o.place),
        ),
        field(
            "text",
            "price",
            ctx.t("ticket_price"),
            o.map(|o| Money::from_cents(o.price_cents).decimal())
                .unwrap_or_default(),
        ),
        field(
            "number",
            "max_per_order",
            ctx.t("ticket_max_per_order"),
            o.map_or(10, |o| o.max_per_order),
        ),
        check(
            "active",
            ctx.t("ticket_offer_active"),
            o.is_none_or(|o| o.active),
        ),
    ]);
    let heading = if o.is_some() {
        ctx.t("ticket_offer_edit")
    } else {
        ctx.t("ticket_offer_new")
    };
    form(heading, "/console/biglietti", ctx.t("console_save"), fields)
}

fn entrance_form(ctx: &Ctx) -> Value {
    let mut f = form(
        ctx.t("ticket_entrance"),
        "/console/biglietti/valida",
        ctx.t("ticket_look"),
        vec![field("text", "codice", ctx.t("ticket_code"), "")],
    );
    f["form"]["method"] = json!("get");
    f
}

pub(super) async fn tickets(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let list = offers::list(&ctx.state, &actor).await?;
        let rows = list
            .iter()
            .map(|o| {
                vec![
                    link(&o.title, format!("/console/biglietti/offerte/{}", o.id)),
                    text(&o.place),
                    text(Money::from_cents(o.price_cents)),
                    text(if o.active {
                        ctx.t("ticket_on_sale")
                    } else {
                        ctx.t("ticket_not_on_sale")
                    }),
                ]
            })
            .collect();
        let mut t = table(
            ctx.t("ticket_offers"),
            &[
                ctx.t("ticket_offer_title"),
                ctx.t("ticket_place"),
                ctx.t("ticket_price"),
                ctx.t("payments_status"),
            ],
            rows,
        );
        t["empty"] = json!(ctx.t("tickets_none"));
        let mut out = vec![entrance_form(&ctx), t];
        if actor
            .may(&ctx.state, Object::Payments, Action::Update)
            .await
        {
            out.push(offer_form(&ctx, None));
        }
        Ok(out)
    }
    .await;
    page(ctx, actor, r, q).await
}

async fn page(ctx: Ctx, actor: Admitted, r: AppResult<Vec<Value>>, q: Query) -> HttpResponse {
    let words = (ctx.t("tickets_console"), ctx.t("tickets_console_intro"));
    render_or(
        &ctx,
        &actor,
        "/console/biglietti",
        words,
        notice_of(&ctx, &q),
        r,
    )
    .await
}

pub(super) async fn offer_save(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let r = async {
        let form = OfferForm {
            id: get(&f, "id").to_owned(),
            title: get(&f, "title").to_owned(),
            place: get(&f, "place").to_owned(),
            price: get(&f, "price").to_owned(),
            max_per_order: get(&f, "max_per_order").to_owned(),
            active: f.iter().any(|(n, v)| n == "active" && v != "false"),
            editing: get(&f, "editing") == "1",
        };
        let id = offers::save(&ctx.state, &actor, &form).await?;
        Ok(format!("/console/biglietti/offerte/{id}?esito=salvato"))
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| tickets(ctx, actor, no_query())).await
}

pub(super) async fn offer_page(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    q: Query,
) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let v = offers::for_staff(&ctx.state, &actor, &id).await?;
        let rows = v
            .slots
            .iter()
            .map(|s| {
                vec![
                    text(slot_when(&s.slot.starts_at)),
                    text(s.slot.capacity),
                    text(s.sold),
                    text(i64::from(s.slot.taken) - s.sold),
                    text(s.free),
                ]
            })
            .collect();
        let mut t = table(
            &v.offer.title,
            &[
                ctx.t("ticket_slot"),
                ctx.t("ticket_capacity"),
                ctx.t("ticket_sold"),
                ctx.t("ticket_held"),
                ctx.t("ticket_free"),
            ],
            rows,
        );
        t["empty"] = json!(ctx.t("ticket_no_slots"));
        t["text"] = json!(format!(
            "{} · {} · {}",
            v.offer.place,
            Money::from_cents(v.offer.price_cents),
            link_text(&ctx, &v.offer.id)
        ));
        let mut out = vec![t];
        if actor
            .may(&ctx.state, Object::Payments, Action::Update)
            .await
        {
            out.push(form(
                ctx.t("ticket_slot_new"),
                &format!("/console/biglietti/offerte/{}/orari", v.offer.id),
                ctx.t("ticket_slot_add"),
                vec![
                    field("date", "day", ctx.t("ticket_day"), ""),
                    field("time", "time", ctx.t("ticket_time"), ""),
                    field("number", "capacity", ctx.t("ticket_capacity"), ""),
                ],
            ));
            out.push(offer_form(&ctx, Some(&v.offer)));
        }
        Ok(out)
    }
    .await;
    page(ctx, actor, r, q).await
}

/// Where the public buys this offer.
fn link_text(ctx: &Ctx, id: &str) -> String {
    format!("{}/biglietti/{id}", ctx.base_url().unwrap_or_default())
}

pub(super) async fn slot_add(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Pairs,
) -> HttpResponse {
    let r = async {
        offers::add_slot(
            &ctx.state,
            &actor,
            &id,
            get(&f, "day"),
            get(&f, "time"),
            get(&f, "capacity"),
        )
        .await?;
        Ok(format!("/console/biglietti/offerte/{id}?esito=salvato"))
    }
    .await;
    let again = id.clone();
    after_post_or(ctx, &f, r, |ctx| {
        offer_page(ctx, actor, web::Path::from(again), no_query())
    })
    .await
}

/// The entrance: a ticket by its code (`?codice=`), with the button that lets it in.
pub(super) async fn entrance_page(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let mut out = vec![entrance_form(&ctx)];
        let Some(code) = q.get("codice").filter(|c| !c.trim().is_empty()) else {
            return Ok(out);
        };
        let t = entrance::look(&ctx.state, &actor, code).await?;
        let mut facts = vec![
            vec![
                text(ctx.t("ticket_code")),
                text(grouped_code(&t.ticket.code)),
            ],
            vec![text(ctx.t("ticket_what")), text(&t.offer.title)],
            vec![
                text(ctx.t("ticket_slot")),
                text(slot_when(&t.slot.starts_at)),
            ],
            vec![
                text(ctx.t("ticket")),
                text(format!("{} / {}", t.ticket.seq, t.order.quantity)),
            ],
        ];
        if t.other_day {
            facts.push(vec![
                text(ctx.t("ticket_warning")),
                text(ctx.t("ticket_other_day")),
            ]);
        }
        if t.ticket.voided_at.is_some() {
            facts.push(vec![
                text(ctx.t("ticket_warning")),
                text(ctx.t("ticket_voided")),
            ]);
        }
        match t.ticket.used_at {
            Some(u) => facts.push(vec![
                text(ctx.t("payments_status")),
                text(format!("{} {}", ctx.t("ticket_used"), when(&ctx, u))),
            ]),
            None => facts.push(vec![
                text(ctx.t("payments_status")),
                text(ctx.t("ticket_valid")),
            ]),
        }
        out.push(table(
            ctx.t("ticket"),
            &[ctx.t("console_item"), ctx.t("console_value")],
            facts,
        ));
        if t.ticket.used_at.is_none() && t.ticket.voided_at.is_none() {
            out.push(form(
                ctx.t("ticket_admit"),
                "/console/biglietti/valida",
                ctx.t("ticket_admit"),
                vec![json!({"kind": "hidden", "name": "codice", "value": t.ticket.code})],
            ));
        }
        Ok(out)
    }
    .await;
    render_or(
        &ctx,
        &actor,
        "/console/biglietti",
        (ctx.t("ticket_entrance"), ctx.t("ticket_entrance_intro")),
        notice_of(&ctx, &q),
        r,
    )
    .await
}

pub(super) async fn admit(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let code = get(&f, "codice").to_owned();
    let r = async {
        let outcome = match entrance::admit(&ctx.state, &actor, &code).await? {
            Admission::Admitted => "ammesso",
            Admission::AlreadyUsed(_) => "usato",
        };
        let code = sportello_payments::tickets::code_of(&code);
        Ok(format!(
            "/console/biglietti/valida?codice={code}&esito={outcome}"
        ))
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| entrance_page(ctx, actor, no_query())).await
}
