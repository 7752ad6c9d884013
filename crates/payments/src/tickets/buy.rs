//! Buying tickets: no sign-in (a tourist has no SPID), an e-mail address is enough. The seats
//! are taken by one conditional update in the commune's transaction that also writes the order
//! and its payment (with its idempotency key), so however many buyers ask at once a slot never
//! sells more than it holds; Stripe is asked after the commit, as for a notice. The order's
//! page is reached with a key only the buyer has (its hash is kept). When Stripe's word settles
//! the payment, the tickets are made (a code each, for the QR) and sent to the address; a
//! payment given up (nobody paid within the hold, or Stripe refused) gives its seats back.

use serde::Serialize;
use serde_json::json;
use sportello_domain::{Email, Language, Money, TenantId};
use sportello_kernel::{Deps, Error, Problems, Result, Why};
use sportello_notify::{Notice, To};
use sportello_store::TenantDb;
use sportello_store::payments::{Payment, Ticket, TicketOffer, TicketOrder, TicketSlot};

use crate::online::pay::{ask_or_give_up, refresh_payment};
use crate::online::stripe::{AMOUNT_MAX, AMOUNT_MIN, configured};

/// What a buyer posts.
#[derive(Debug, Clone, Default)]
pub struct Buy {
    pub slot: String,
    pub quantity: String,
    pub email: String,
    pub name: String,
}

/// Takes the seats and starts their payment; gives the order's id and the key to its page.
pub async fn reserve(
    deps: &Deps,
    commune: TenantId,
    offer_id: &str,
    b: &Buy,
) -> Result<(String, String)> {
    if !configured(deps) {
        return Err(Error::Refused("refused_online_payment_off"));
    }
    let mut p = Problems::default();
    let email = Email::parse(&b.email)
        .map_err(|e| p.parse("email", &e))
        .ok();
    let name = b.name.trim();
    if name.chars().count() > 200 {
        p.add("name", Why::TooLong, "");
    }
    let quantity = b.quantity.trim().parse::<i32>().unwrap_or(0);
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let settings = db.payment_settings_held().await?;
    let Some(account) = settings.stripe_account.clone() else {
        return Err(Error::Refused("refused_online_payment_off"));
    };
    let offer = db
        .ticket_offer(offer_id)
        .await?
        .filter(|o| o.active)
        .ok_or(Error::NotFound)?;
    if !(1..=offer.max_per_order).contains(&quantity) {
        p.add(
            "quantity",
            Why::OutOfRange,
            format!("1–{}", offer.max_per_order),
        );
    }
    let slot = db
        .ticket_slot(&b.slot)
        .await?
        .filter(|s| s.offer_id == offer.id);
    match &slot {
        None => p.add("slot", Why::NotOneOf, ""),
        Some(s) if s.starts_at <= super::now_local() => p.add("slot", Why::DateTooEarly, ""),
        Some(_) => {}
    }
    p.result()?;
    let (Some(email), Some(slot)) = (email, slot) else {
        return Err(Error::invalid("email", Why::EmailInvalid));
    };
    let amount = offer.price_cents.saturating_mul(i64::from(quantity));
    let total = amount.saturating_add(settings.fee_cents);
    if !(AMOUNT_MIN..=AMOUNT_MAX).contains(&total) {
        return Err(Error::Refused("refused_amount_out_of_range"));
    }
    if !db.take_seats(&slot.id, quantity).await? {
        // Not enough left: how many are, by the field.
        let left = db
            .ticket_slot(&slot.id)
            .await?
            .map_or(0, |s| s.capacity - s.taken);
        return Err(Error::invalid_at(
            "quantity",
            Why::OutOfRange,
            left.max(0).to_string(),
        ));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let payment = Payment {
        id: uuid::Uuid::new_v4().to_string(),
        person_id: String::new(),
        fiscal_code: String::new(),
        amount_cents: amount,
        fee_cents: settings.fee_cents,
        currency: "eur".into(),
        status: "created".into(),
        stripe_account: account,
        idempotency_key: format!("sportello-tickets-{id}"),
        intent_id: None,
        client_secret: None,
        failure: None,
        created_at: now,
        updated_at: now,
        succeeded_at: None,
        receipt: None,
        checked_at: 0,
        purpose: "tickets".into(),
    };
    let key = sportello_kernel::tokens::new_token();
    let order = TicketOrder {
        id: id.clone(),
        slot_id: slot.id.clone(),
        quantity,
        email: email.as_str().to_owned(),
        name: name.to_owned(),
        amount_cents: amount,
        status: "held".into(),
        payment_id: payment.id.clone(),
        key_hash: sportello_kernel::tokens::hash(&key),
        created_at: now,
        updated_at: now,
    };
    db.insert_payment(&payment, &[]).await?;
    db.insert_ticket_order(&order).await?;
    tx.commit().await?;
    match ask_or_give_up(deps, commune, &payment).await {
        // Stripe refused: the payment is given up, its seats back on sale.
        Err(e @ Error::Refused(_)) => return Err(e),
        // Stripe unreachable: the order's page asks again (and the sweeper, or the hold's
        // end, frees the seats); the buyer keeps the key to it.
        Err(e) => tracing::warn!(order = %id, error = %e, "stripe not reached for an order"),
        Ok(()) => {}
    }
    Ok((id, key))
}

/// An order as its buyer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub order: TicketOrder,
    pub offer: TicketOffer,
    pub slot: TicketSlot,
    pub payment_status: String,
    pub amount: Money,
    pub fee: Money,
    pub total: Money,
    pub client_secret: Option<String>,
    pub account: String,
    pub tickets: Vec<Ticket>,
    pub receipt: Option<String>,
}

/// The order behind its key (a wrong key: not found).
async fn order_by_key(db: &TenantDb<'_>, id: &str, key: &str) -> Result<TicketOrder> {
    let o = db.ticket_order(id).await?.ok_or(Error::NotFound)?;
    let h = sportello_kernel::tokens::hash(key);
    if !sportello_kernel::tokens::constant_time_eq(h.as_bytes(), o.key_hash.as_bytes()) {
        return Err(Error::NotFound);
    }
    Ok(o)
}

/// The buyer is back from paying, or looks again: Stripe is asked (never the browser believed).
pub async fn refresh(deps: &Deps, commune: TenantId, id: &str, key: &str) -> Result<()> {
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let o = order_by_key(&db, id, key).await?;
    let p = db.payment(&o.payment_id).await?.ok_or(Error::NotFound)?;
    tx.commit().await?;
    if p.intent_id.is_none() && p.status == "created" {
        // Stripe was not reached when the order was made: asked again now.
        return ask_or_give_up(deps, commune, &p).await;
    }
    refresh_payment(deps, commune, &p).await
}

pub async fn view(deps: &Deps, commune: TenantId, id: &str, key: &str) -> Result<OrderView> {
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let order = order_by_key(&db, id, key).await?;
    let p = db
        .payment(&order.payment_id)
        .await?
        .ok_or(Error::NotFound)?;
    let (slot, offer) = super::slot_and_offer(&db, &order.slot_id).await?;
    let tickets = db.tickets_of(&order.id).await?;
    tx.commit().await?;
    let payable = order.status == "held" && matches!(p.status.as_str(), "pending" | "failed");
    let client_secret = match (&p.client_secret, payable) {
        (Some(s), true) => Some(
            String::from_utf8(deps.secrets.open(s).map_err(Error::Internal)?)
                .map_err(|e| Error::Internal(e.to_string()))?,
        ),
        _ => None,
    };
    Ok(OrderView {
        amount: Money::from_cents(p.amount_cents),
        fee: Money::from_cents(p.fee_cents),
        total: Money::from_cents(p.total_cents()),
        payment_status: p.status.clone(),
        receipt: p.receipt.map(|(y, n)| format!("{n}/{y}")),
        account: p.stripe_account,
        client_secret,
        order,
        offer,
        slot,
        tickets,
    })
}

/// A new ticket's code: 80 random bits, in base32 (16 letters and digits, no look-alikes).
fn new_code() -> String {
    let t = sportello_kernel::tokens::new_token();
    let h = sportello_kernel::tokens::hash(&t);
    // Crockford's alphabet over the hash's first 20 hex digits (80 bits).
    const A: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bits = u128::from_str_radix(&h[..20], 16).unwrap_or_default();
    (0..16)
        .map(|i| A[((bits >> (75 - 5 * i)) & 31) as usize] as char)
        .collect()
}

/// The payment of an order went through (in the settling transaction): the order is paid,
/// one ticket per seat is made, and the buyer is sent them.
pub(crate) async fn issue(deps: &Deps, db: &TenantDb<'_>, p: &Payment) -> Result<()> {
    let Some(o) = db.ticket_order_of_payment(&p.id).await? else {
        return Ok(());
    };
    if !db
        .ticket_order_paid(&o.id, sportello_store::now_micros())
        .await?
    {
        // Released before Stripe's word came (cannot be: a payment is given up only once
        // Stripe says cancelled); its seats may be sold again, so staff must look.
        tracing::error!(order = %o.id, payment = %p.id, "a ticket order paid after release");
        return Ok(());
    }
    let mut codes = vec![];
    for seq in 1..=o.quantity {
        let code = new_code();
        db.insert_ticket(&code, &o.id, seq).await?;
        codes.push(code);
    }
    let (slot, offer) = super::slot_and_offer(db, &o.slot_id).await?;
    let (commune, base) = crate::commune_words(deps, db.tenant());
    let links: Vec<String> = codes
        .iter()
        .map(|c| {
            format!(
                "– {}: {base}/biglietti/biglietto/{c}",
                super::grouped_code(c)
            )
        })
        .collect();
    let Ok(email) = Email::parse(&o.email) else {
        return Ok(());
    };
    sportello_notify::enqueue(
        deps,
        db,
        &Notice {
            template: "tickets_bought",
            lang: Language::It,
            to: To::Email(email),
            person_id: None,
            vars: json!({
                "commune": commune,
                "title": offer.title,
                "place": offer.place,
                "when": when(&slot.starts_at),
                "count": o.quantity,
                "total": Money::from_cents(p.total_cents()).to_string(),
                "tickets": links.join("\n"),
            }),
        },
    )
    .await?;
    Ok(())
}

/// A slot's time as Italians write it (`31/10/2026 10:30`).
pub fn when(starts_at: &str) -> String {
    chrono::NaiveDateTime::parse_from_str(starts_at, "%Y-%m-%dT%H:%M")
        .map(|t| t.format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_else(|_| starts_at.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_sixteen_unambiguous_characters_and_differ() {
        let a = super::new_code();
        let b = super::new_code();
        assert_eq!(a.len(), 16);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert!(!a.contains(['I', 'L', 'O', 'U']));
        assert_ne!(a, b);
    }
}
