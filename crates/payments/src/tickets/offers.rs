//! What a commune sells: offers (a title, a place, a price per ticket, how many one order may
//! take) and their times, each with a capacity. Administrators write them; the public page lists
//! the active ones with the seats still free.

use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;
use serde_json::json;
use sportello_authz::Action;
use sportello_domain::{Money, Slug, TenantId};
use sportello_kernel::{Actor, Deps, Error, Problems, Result, Why};
use sportello_store::payments::{TicketOffer, TicketSlot};

/// How many slots a page shows.
pub const SLOTS_SHOWN: u64 = 200;

/// What an administrator posts for an offer.
#[derive(Debug, Clone, Default)]
pub struct OfferForm {
    pub id: String,
    pub title: String,
    pub place: String,
    pub price: String,
    pub max_per_order: String,
    pub active: bool,
    /// Editing the offer of this id (a new offer's id must be free).
    pub editing: bool,
}

/// Writes an offer (new, or its words, price and state).
pub async fn save(deps: &Deps, actor: &Actor, f: &OfferForm) -> Result<String> {
    crate::require_commune(deps, actor, Action::Update).await?;
    let mut p = Problems::default();
    let id = Slug::parse(f.id.trim()).map_err(|e| p.parse("id", &e)).ok();
    let title = f.title.trim();
    if title.is_empty() {
        p.add("title", Why::Required, "");
    } else if title.chars().count() > 200 {
        p.add("title", Why::TooLong, "");
    }
    let place = f.place.trim();
    if place.chars().count() > 300 {
        p.add("place", Why::TooLong, "");
    }
    let price = match Money::parse(&f.price) {
        Ok(m) if m.is_zero() => {
            p.add("price", Why::Required, "");
            m
        }
        Ok(m) if m.cents() > 100_000 => {
            p.add("price", Why::OutOfRange, "1000");
            m
        }
        Ok(m) => m,
        Err(e) => {
            p.parse("price", &e);
            Money::ZERO
        }
    };
    let max = match f.max_per_order.trim().parse::<i32>() {
        Ok(n) if (1..=20).contains(&n) => n,
        _ => {
            p.add("max_per_order", Why::OutOfRange, "1–20");
            0
        }
    };
    p.result()?;
    let id = id.ok_or_else(|| Error::invalid("id", Why::SlugInvalid))?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    let created_at = match (db.ticket_offer(id.as_str()).await?, f.editing) {
        (Some(o), true) => o.created_at,
        (None, false) => sportello_store::now_micros(),
        (Some(_), false) => return Err(Error::invalid_at("id", Why::IdTaken, id.as_str())),
        (None, true) => return Err(Error::NotFound),
    };
    let o = TicketOffer {
        id: id.as_str().to_owned(),
        title: title.to_owned(),
        place: place.to_owned(),
        price_cents: price.cents(),
        max_per_order: max,
        active: f.active,
        created_at,
    };
    db.save_ticket_offer(&o).await?;
    sportello_kernel::audit::record(&db, actor, "ticket_offer_saved", "payments", json!(o)).await?;
    tx.commit().await?;
    Ok(o.id)
}

/// Adds a time to an offer: a day and an hour (Italian time) from now on, and its capacity.
pub async fn add_slot(
    deps: &Deps,
    actor: &Actor,
    offer_id: &str,
    day: &str,
    time: &str,
    capacity: &str,
) -> Result<()> {
    crate::require_commune(deps, actor, Action::Update).await?;
    let mut p = Problems::default();
    let day = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
        .map_err(|_| p.add("day", Why::DateInvalid, day.trim()))
        .ok();
    let time = NaiveTime::parse_from_str(time.trim(), "%H:%M")
        .map_err(|_| p.add("time", Why::HoursFormat, time.trim()))
        .ok();
    let capacity = match capacity.trim().parse::<i32>() {
        Ok(n) if (1..=100_000).contains(&n) => n,
        _ => {
            p.add("capacity", Why::OutOfRange, "1–100000");
            0
        }
    };
    let starts_at = match (day, time) {
        (Some(d), Some(t)) => {
            let s = d.and_time(t).format("%Y-%m-%dT%H:%M").to_string();
            if s <= super::now_local() {
                p.add("day", Why::DateTooEarly, d.to_string());
            }
            s
        }
        _ => String::new(),
    };
    p.result()?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    if db.ticket_offer(offer_id).await?.is_none() {
        return Err(Error::NotFound);
    }
    let s = TicketSlot {
        id: uuid::Uuid::new_v4().to_string(),
        offer_id: offer_id.to_owned(),
        starts_at,
        capacity,
        taken: 0,
    };
    if !db.insert_ticket_slot(&s).await? {
        return Err(Error::invalid_at("time", Why::IdTaken, s.starts_at));
    }
    sportello_kernel::audit::record(&db, actor, "ticket_slot_added", "payments", json!(s)).await?;
    tx.commit().await?;
    Ok(())
}

/// An offer with its coming slots and, for staff, what each sold.
#[derive(Debug, Clone, Serialize)]
pub struct OfferView {
    pub offer: TicketOffer,
    pub slots: Vec<SlotView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlotView {
    pub slot: TicketSlot,
    pub free: i32,
    /// Seats paid for (staff only; 0 on the public page).
    pub sold: i64,
}

/// The commune's offers, for its staff.
pub async fn list(deps: &Deps, actor: &Actor) -> Result<Vec<TicketOffer>> {
    crate::require_commune_read(deps, actor).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let l = tx.db().ticket_offers().await?;
    tx.commit().await?;
    Ok(l)
}

/// One offer with its coming slots and the seats sold, for its staff.
pub async fn for_staff(deps: &Deps, actor: &Actor, id: &str) -> Result<OfferView> {
    crate::require_commune_read(deps, actor).await?;
    view(deps, actor.commune()?, id, true).await
}

/// The active offers of a commune, for anyone.
pub async fn public(deps: &Deps, commune: TenantId) -> Result<Vec<TicketOffer>> {
    let tx = deps.store.tenant_read(commune).await?;
    let l = tx.db().ticket_offers().await?;
    tx.commit().await?;
    Ok(l.into_iter().filter(|o| o.active).collect())
}

/// One active offer with its coming slots and their free seats, for anyone.
pub async fn public_one(deps: &Deps, commune: TenantId, id: &str) -> Result<OfferView> {
    let v = view(deps, commune, id, false).await?;
    if !v.offer.active {
        return Err(Error::NotFound);
    }
    Ok(v)
}

async fn view(deps: &Deps, commune: TenantId, id: &str, staff: bool) -> Result<OfferView> {
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let offer = db.ticket_offer(id).await?.ok_or(Error::NotFound)?;
    let slots = db
        .ticket_slots(id, &super::now_local(), SLOTS_SHOWN)
        .await?;
    let sold = if staff {
        db.seats_sold(id).await?
    } else {
        vec![]
    };
    tx.commit().await?;
    let slots = slots
        .into_iter()
        .map(|s| SlotView {
            free: s.capacity - s.taken,
            sold: sold
                .iter()
                .find(|(id, _)| *id == s.id)
                .map_or(0, |(_, n)| *n),
            slot: s,
        })
        .collect();
    Ok(OfferView { offer, slots })
}
