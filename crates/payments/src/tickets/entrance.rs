//! At the entrance: staff look a ticket up by its code (the QR opens this page on their phone,
//! or they type the code) and let it in, once: a second scan says when it was used.

use serde::Serialize;
use sportello_authz::Action;
use sportello_domain::TenantId;
use sportello_kernel::{Actor, Deps, Error, Result};
use sportello_store::payments::{Ticket, TicketOffer, TicketOrder, TicketSlot};

/// A ticket as the entrance sees it.
#[derive(Debug, Clone, Serialize)]
pub struct AtTheDoor {
    pub ticket: Ticket,
    pub order: TicketOrder,
    pub slot: TicketSlot,
    pub offer: TicketOffer,
    /// Its slot is on another day than today.
    pub other_day: bool,
}

/// What letting a ticket in did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Let in now.
    Admitted,
    /// Used before, at this instant (microseconds).
    AlreadyUsed(i64),
}

async fn find(deps: &Deps, actor: &Actor, typed: &str) -> Result<AtTheDoor> {
    crate::require_commune_read(deps, actor).await?;
    by_code(deps, actor.commune()?, typed).await
}

/// A ticket by its code, for whoever holds the code (its buyer's page: the code is the ticket).
pub async fn by_code(deps: &Deps, commune: TenantId, typed: &str) -> Result<AtTheDoor> {
    let code = super::code_of(typed);
    if code.is_empty() || code.len() > 64 {
        return Err(Error::NotFound);
    }
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let ticket = db.ticket(&code).await?.ok_or(Error::NotFound)?;
    let order = db
        .ticket_order(&ticket.order_id)
        .await?
        .ok_or(Error::NotFound)?;
    let (slot, offer) = super::slot_and_offer(&db, &order.slot_id).await?;
    tx.commit().await?;
    let other_day = !slot.starts_at.starts_with(&crate::today().to_string());
    Ok(AtTheDoor {
        ticket,
        order,
        slot,
        offer,
        other_day,
    })
}

/// A ticket by its code (an unknown one: not found).
pub async fn look(deps: &Deps, actor: &Actor, code: &str) -> Result<AtTheDoor> {
    find(deps, actor, code).await
}

/// Lets a ticket in: the first time it is admitted, after that it says when it was used. For
/// staff who take payments at a desk (`create`) or manage them (`update`), commune-wide.
pub async fn admit(deps: &Deps, actor: &Actor, code: &str) -> Result<Admission> {
    let at_desk = crate::require_commune(deps, actor, Action::Create).await;
    if at_desk.is_err() {
        crate::require_commune(deps, actor, Action::Update).await?;
    }
    let t = find(deps, actor, code).await?;
    if t.ticket.voided_at.is_some() {
        return Err(Error::Refused("refused_ticket_void"));
    }
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    let first = db.use_ticket(&t.ticket.code, now, &actor.staff_id).await?;
    let used_at = if first {
        now
    } else {
        db.ticket(&t.ticket.code)
            .await?
            .and_then(|x| x.used_at)
            .unwrap_or(now)
    };
    tx.commit().await?;
    Ok(if first {
        Admission::Admitted
    } else {
        Admission::AlreadyUsed(used_at)
    })
}
