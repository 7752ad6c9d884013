//! Tickets: what a commune sells (offers), when (slots, each with a capacity), the buyers'
//! orders and their tickets.
//!
//! Seats are taken by one conditional update (`taken + n <= capacity`, backed by a CHECK), so
//! however many buyers ask at once a slot never sells more than it holds; an order's seats go
//! back when its payment is given up ([`TenantDb::release_seats`], from `cancel_payment`).

use serde::Serialize;

use crate::identity::get;
use crate::{Result, TenantDb};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketOffer {
    pub id: String,
    pub title: String,
    pub place: String,
    pub price_cents: i64,
    pub max_per_order: i32,
    pub active: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketSlot {
    pub id: String,
    pub offer_id: String,
    /// Italian local time, `YYYY-MM-DDTHH:MM`.
    pub starts_at: String,
    pub capacity: i32,
    /// Held by orders being paid, or sold.
    pub taken: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketOrder {
    pub id: String,
    pub slot_id: String,
    pub quantity: i32,
    pub email: String,
    pub name: String,
    pub amount_cents: i64,
    /// `held` (being paid), `paid`, `released` (its payment given up).
    pub status: String,
    pub payment_id: String,
    pub key_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub code: String,
    pub order_id: String,
    pub seq: i32,
    pub used_at: Option<i64>,
    pub used_by: Option<String>,
    /// Voided by a refund of its order: it lets nobody in.
    pub voided_at: Option<i64>,
}

const OFFER: &str = "id, title, place, price_cents, max_per_order, active, created_at";
const SLOT: &str = "id, offer_id, starts_at, capacity, taken";
const ORDER: &str = "id, slot_id, quantity, email, name, amount_cents, status, payment_id, key_hash, created_at, updated_at";
const TICKET: &str = "code, order_id, seq, used_at, used_by, voided_at";

fn offer(r: &sea_orm::QueryResult) -> Result<TicketOffer> {
    Ok(TicketOffer {
        id: get(r, "id")?,
        title: get(r, "title")?,
        place: get(r, "place")?,
        price_cents: get(r, "price_cents")?,
        max_per_order: get(r, "max_per_order")?,
        active: get(r, "active")?,
        created_at: get(r, "created_at")?,
    })
}

fn slot(r: &sea_orm::QueryResult) -> Result<TicketSlot> {
    Ok(TicketSlot {
        id: get(r, "id")?,
        offer_id: get(r, "offer_id")?,
        starts_at: get(r, "starts_at")?,
        capacity: get(r, "capacity")?,
        taken: get(r, "taken")?,
    })
}

fn order(r: &sea_orm::QueryResult) -> Result<TicketOrder> {
    Ok(TicketOrder {
        id: get(r, "id")?,
        slot_id: get(r, "slot_id")?,
        quantity: get(r, "quantity")?,
        email: get(r, "email")?,
        name: get(r, "name")?,
        amount_cents: get(r, "amount_cents")?,
        status: get(r, "status")?,
        payment_id: get(r, "payment_id")?,
        key_hash: get(r, "key_hash")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
    })
}

fn ticket(r: &sea_orm::QueryResult) -> Result<Ticket> {
    Ok(Ticket {
        code: get(r, "code")?,
        order_id: get(r, "order_id")?,
        seq: get(r, "seq")?,
        used_at: get(r, "used_at")?,
        used_by: get(r, "used_by")?,
        voided_at: get(r, "voided_at")?,
    })
}

impl TenantDb<'_> {
    /// Writes an offer (a new one, or its new words and price).
    pub async fn save_ticket_offer(&self, o: &TicketOffer) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO ticket_offers (tenant_id, {OFFER}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant_id, id) DO UPDATE SET title = excluded.title, place = excluded.place, \
                 price_cents = excluded.price_cents, max_per_order = excluded.max_per_order, active = excluded.active"
            ),
            vec![
                o.id.clone().into(),
                o.title.clone().into(),
                o.place.clone().into(),
                o.price_cents.into(),
                o.max_per_order.into(),
                o.active.into(),
                o.created_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn ticket_offer(&self, id: &str) -> Result<Option<TicketOffer>> {
        self.one(
            &format!("SELECT {OFFER} FROM ticket_offers WHERE tenant_id = $1 AND id = $2"),
            vec![id.into()],
        )
        .await?
        .map(|r| offer(&r))
        .transpose()
    }

    pub async fn ticket_offers(&self) -> Result<Vec<TicketOffer>> {
        self.all(
            &format!("SELECT {OFFER} FROM ticket_offers WHERE tenant_id = $1 ORDER BY title, id"),
            vec![],
        )
        .await?
        .iter()
        .map(offer)
        .collect()
    }

    /// Adds a slot; false when the offer already has one at that time.
    pub async fn insert_ticket_slot(&self, s: &TicketSlot) -> Result<bool> {
        Ok(self
            .exec(
                &format!(
                    "INSERT INTO ticket_slots (tenant_id, {SLOT}) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (tenant_id, offer_id, starts_at) DO NOTHING"
                ),
                vec![
                    s.id.clone().into(),
                    s.offer_id.clone().into(),
                    s.starts_at.clone().into(),
                    s.capacity.into(),
                    s.taken.into(),
                ],
            )
            .await?
            == 1)
    }

    pub async fn ticket_slot(&self, id: &str) -> Result<Option<TicketSlot>> {
        self.one(
            &format!("SELECT {SLOT} FROM ticket_slots WHERE tenant_id = $1 AND id = $2"),
            vec![id.into()],
        )
        .await?
        .map(|r| slot(&r))
        .transpose()
    }

    /// An offer's slots starting at or after `from` (`YYYY-MM-DDTHH:MM`), soonest first.
    pub async fn ticket_slots(
        &self,
        offer_id: &str,
        from: &str,
        limit: u64,
    ) -> Result<Vec<TicketSlot>> {
        self.all(
            &format!(
                "SELECT {SLOT} FROM ticket_slots WHERE tenant_id = $1 AND offer_id = $2 AND starts_at >= $3 \
                 ORDER BY starts_at LIMIT $4"
            ),
            vec![offer_id.into(), from.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(slot)
        .collect()
    }

    /// Takes `n` seats of a slot if it has them; false (nothing taken) when it does not.
    pub async fn take_seats(&self, slot_id: &str, n: i32) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE ticket_slots SET taken = taken + $3 WHERE tenant_id = $1 AND id = $2 \
                 AND taken + $3 <= capacity",
                vec![slot_id.into(), n.into()],
            )
            .await?
            == 1)
    }

    pub async fn insert_ticket_order(&self, o: &TicketOrder) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO ticket_orders (tenant_id, {ORDER}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ),
            vec![
                o.id.clone().into(),
                o.slot_id.clone().into(),
                o.quantity.into(),
                o.email.clone().into(),
                o.name.clone().into(),
                o.amount_cents.into(),
                o.status.clone().into(),
                o.payment_id.clone().into(),
                o.key_hash.clone().into(),
                o.created_at.into(),
                o.updated_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn ticket_order(&self, id: &str) -> Result<Option<TicketOrder>> {
        self.one(
            &format!("SELECT {ORDER} FROM ticket_orders WHERE tenant_id = $1 AND id = $2"),
            vec![id.into()],
        )
        .await?
        .map(|r| order(&r))
        .transpose()
    }

    pub async fn ticket_order_of_payment(&self, payment_id: &str) -> Result<Option<TicketOrder>> {
        self.one(
            &format!("SELECT {ORDER} FROM ticket_orders WHERE tenant_id = $1 AND payment_id = $2"),
            vec![payment_id.into()],
        )
        .await?
        .map(|r| order(&r))
        .transpose()
    }

    /// The seats of the order a given-up payment held go back to its slot (once).
    pub async fn release_seats(&self, payment_id: &str, at: i64) -> Result<()> {
        let Some(o) = self.ticket_order_of_payment(payment_id).await? else {
            return Ok(());
        };
        let moved = self
            .exec(
                "UPDATE ticket_orders SET status = 'released', updated_at = $3 \
                 WHERE tenant_id = $1 AND id = $2 AND status = 'held'",
                vec![o.id.clone().into(), at.into()],
            )
            .await?;
        if moved == 1 {
            self.exec(
                "UPDATE ticket_slots SET taken = taken - $3 WHERE tenant_id = $1 AND id = $2",
                vec![o.slot_id.into(), o.quantity.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// The order is paid (`held` → `paid`); false when it was not held.
    pub async fn ticket_order_paid(&self, id: &str, at: i64) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE ticket_orders SET status = 'paid', updated_at = $3 \
                 WHERE tenant_id = $1 AND id = $2 AND status = 'held'",
                vec![id.into(), at.into()],
            )
            .await?
            == 1)
    }

    /// A paid order refunded whole: its tickets void, its seats back on sale if its time is
    /// still to come (`now_local`, `YYYY-MM-DDTHH:MM`). False when it was not paid.
    pub async fn refund_ticket_order(
        &self,
        payment_id: &str,
        at: i64,
        now_local: &str,
    ) -> Result<bool> {
        let Some(o) = self.ticket_order_of_payment(payment_id).await? else {
            return Ok(false);
        };
        let moved = self
            .exec(
                "UPDATE ticket_orders SET status = 'refunded', updated_at = $3 \
                 WHERE tenant_id = $1 AND id = $2 AND status = 'paid'",
                vec![o.id.clone().into(), at.into()],
            )
            .await?;
        if moved == 0 {
            return Ok(false);
        }
        self.exec(
            "UPDATE tickets SET voided_at = $3 WHERE tenant_id = $1 AND order_id = $2 AND voided_at IS NULL",
            vec![o.id.into(), at.into()],
        )
        .await?;
        self.exec(
            "UPDATE ticket_slots SET taken = taken - $3 WHERE tenant_id = $1 AND id = $2 AND starts_at > $4",
            vec![o.slot_id.into(), o.quantity.into(), now_local.into()],
        )
        .await?;
        Ok(true)
    }

    pub async fn insert_ticket(&self, code: &str, order_id: &str, seq: i32) -> Result<()> {
        self.exec(
            "INSERT INTO tickets (tenant_id, code, order_id, seq) VALUES ($1, $2, $3, $4)",
            vec![code.into(), order_id.into(), seq.into()],
        )
        .await?;
        Ok(())
    }

    pub async fn tickets_of(&self, order_id: &str) -> Result<Vec<Ticket>> {
        self.all(
            &format!(
                "SELECT {TICKET} FROM tickets WHERE tenant_id = $1 AND order_id = $2 ORDER BY seq"
            ),
            vec![order_id.into()],
        )
        .await?
        .iter()
        .map(ticket)
        .collect()
    }

    pub async fn ticket(&self, code: &str) -> Result<Option<Ticket>> {
        self.one(
            &format!("SELECT {TICKET} FROM tickets WHERE tenant_id = $1 AND code = $2"),
            vec![code.into()],
        )
        .await?
        .map(|r| ticket(&r))
        .transpose()
    }

    /// Lets a ticket in: true the first time, false when it was already used.
    pub async fn use_ticket(&self, code: &str, at: i64, by: &str) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE tickets SET used_at = $3, used_by = $4 WHERE tenant_id = $1 AND code = $2 \
                 AND used_at IS NULL AND voided_at IS NULL",
                vec![code.into(), at.into(), by.into()],
            )
            .await?
            == 1)
    }

    /// Seats sold (paid orders) per slot of an offer.
    pub async fn seats_sold(&self, offer_id: &str) -> Result<Vec<(String, i64)>> {
        self.all(
            "SELECT o.slot_id AS slot_id, SUM(o.quantity) AS n FROM ticket_orders o \
             JOIN ticket_slots s ON s.tenant_id = o.tenant_id AND s.id = o.slot_id \
             WHERE o.tenant_id = $1 AND s.offer_id = $2 AND o.status = 'paid' GROUP BY o.slot_id",
            vec![offer_id.into()],
        )
        .await?
        .iter()
        .map(|r| Ok((get(r, "slot_id")?, get(r, "n")?)))
        .collect()
    }
}
