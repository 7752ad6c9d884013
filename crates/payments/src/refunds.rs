//! Refunds: money given back on a succeeded payment, whole or in part, by staff whose role
//! holds `refund` for the whole commune, with a reason (in the audit log and on the refund).
//!
//! The refund and its idempotency key are committed before Stripe is called; Stripe is then
//! asked once (`POST /v1/refunds` on the commune's account, `refund_application_fee` when the
//! platform's fee goes back too). A lost answer leaves the refund `created`: the sweeper asks
//! again with the same key and Stripe answers with the refund it made, so money goes back once.
//! What becomes of it afterwards (`refund.updated`, `refund.failed`) comes by webhook.

use std::collections::HashMap;

use serde_json::json;
use sportello_authz::Action;
use sportello_domain::{Money, TenantId};
use sportello_kernel::{Actor, Deps, Error, Problems, Result, Why};
use sportello_store::payments::{Payment, Refund};
use std::str::FromStr;
use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_core::refund::{CreateRefund, CreateRefundReason, ListRefund, RetrieveRefund};

use crate::online::stripe::{CallError, account, call_error, client};

/// A payment with its refunds, for the console.
#[derive(Debug, Clone)]
pub struct Refundable {
    pub payment: Payment,
    pub items: Vec<sportello_store::payments::PaymentItem>,
    pub refunds: Vec<Refund>,
}

impl Refundable {
    /// What is given back (or on its way).
    pub fn refunded_cents(&self) -> i64 {
        self.refunds
            .iter()
            .filter(|r| r.counts())
            .map(|r| r.amount_cents)
            .sum()
    }
    /// What may still be given back: what the person paid (notices and fee) less the refunds.
    pub fn left_cents(&self) -> i64 {
        if self.payment.status != "succeeded" {
            return 0;
        }
        self.payment.total_cents() - self.refunded_cents()
    }
}

/// One of the commune's payments with its items and refunds.
pub async fn payment(deps: &Deps, actor: &Actor, id: &str) -> Result<Refundable> {
    crate::require_commune_read(deps, actor).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let db = tx.db();
    let Some(payment) = db.payment(id).await? else {
        return Err(Error::NotFound);
    };
    let items = db.payment_items(id).await?;
    let refunds = db.refunds_of(id).await?;
    tx.commit().await?;
    Ok(Refundable {
        payment,
        items,
        refunds,
    })
}

/// What staff ask: how much (in euros, as typed), why, and whether the fee goes back too.
pub struct Ask<'a> {
    pub amount: &'a str,
    pub reason: &'a str,
    pub refund_fee: bool,
}

/// Gives money back on a payment; returns the refund's id. The refund is recorded before
/// Stripe is asked; Stripe unreachable leaves it to the sweeper, Stripe refusing marks it failed.
pub async fn refund(deps: &Deps, actor: &Actor, payment_id: &str, ask: &Ask<'_>) -> Result<String> {
    crate::require_commune(deps, actor, Action::Refund).await?;
    let commune = actor.commune()?;
    let mut problems = Problems::default();
    let amount = match Money::parse(ask.amount) {
        Ok(a) if a.is_zero() => {
            problems.add("amount", Why::Required, "");
            a
        }
        Ok(a) => a,
        Err(e) => {
            problems.parse("amount", &e);
            Money::ZERO
        }
    };
    let reason = ask.reason.trim();
    if reason.is_empty() {
        problems.add("reason", Why::Required, "");
    } else if reason.chars().count() > 500 {
        problems.add("reason", Why::TooLong, "");
    }
    problems.result()?;
    let now = sportello_store::now_micros();
    let id = uuid::Uuid::new_v4().to_string();
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    db.hold_payment(payment_id).await?;
    let Some(p) = db.payment(payment_id).await? else {
        return Err(Error::NotFound);
    };
    if p.status != "succeeded" {
        return Err(Error::Refused("refused_payment_not_refundable"));
    }
    let before: i64 = db
        .refunds_of(payment_id)
        .await?
        .iter()
        .filter(|r| r.counts())
        .map(|r| r.amount_cents)
        .sum();
    let left = p.total_cents() - before;
    if amount.cents() > left {
        return Err(Error::invalid_at(
            "amount",
            Why::OutOfRange,
            Money::from_cents(left).to_string(),
        ));
    }
    let r = Refund {
        id: id.clone(),
        payment_id: p.id.clone(),
        amount_cents: amount.cents(),
        refund_fee: ask.refund_fee,
        reason: reason.to_owned(),
        status: "created".into(),
        idempotency_key: format!("sportello-refund-{id}"),
        stripe_refund_id: None,
        failure: None,
        requested_by: actor.staff_id.clone(),
        created_at: now,
        updated_at: now,
    };
    db.insert_refund(&r).await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "payment_refunded",
        "payments",
        json!({"payment": p.id, "refund": id, "cents": amount.cents(), "fee_back": ask.refund_fee,
               "reason": reason, "receipt": p.receipt.map(|(y, n)| format!("{n}/{y}"))}),
    )
    .await?;
    tx.commit().await?;
    ask_stripe(deps, commune, &p, &r).await?;
    Ok(id)
}

/// Asks Stripe for a recorded refund (again, with its key) and records the answer. A refusal
/// for good marks it failed; a failure for now leaves it for the sweeper.
pub(crate) async fn ask_stripe(
    deps: &Deps,
    commune: TenantId,
    p: &Payment,
    r: &Refund,
) -> Result<()> {
    let Some(intent) = p.intent_id.as_deref() else {
        return Err(Error::Internal(format!("payment {} without intent", p.id)));
    };
    let answer = create(deps, &p.stripe_account, intent, r).await;
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    match &answer {
        Ok(s) => {
            db.set_refund_stripe(&r.id, &s.id, &s.status, s.failure.as_deref(), now)
                .await?;
            void_tickets_if_refunded(&db, &p.id).await?;
        }
        Err(CallError::ForGood(why)) => {
            db.move_refund(&r.id, "failed", Some(why), now).await?;
        }
        Err(CallError::ForNow(_)) => db.touch_refund(&r.id, now).await?,
    }
    tx.commit().await?;
    match answer {
        Ok(_) => Ok(()),
        Err(CallError::ForGood(_)) => Err(Error::Refused("refused_refund_stripe")),
        // Recorded: the sweeper asks again.
        Err(CallError::ForNow(e)) => {
            tracing::warn!(refund = %r.id, error = %e, "refund left for the sweeper");
            Ok(())
        }
    }
}

/// Tickets: once refunds that went through give their price back whole, they let nobody in
/// and their seats go back on sale (a part refunded, a goodwill gesture, leaves them valid; a
/// refund asked, under way or failed leaves them as they are). Called where a refund's state
/// moves, in that transaction.
pub(crate) async fn void_tickets_if_refunded(
    db: &sportello_store::TenantDb<'_>,
    payment_id: &str,
) -> Result<()> {
    let Some(p) = db.payment(payment_id).await? else {
        return Ok(());
    };
    if p.purpose != "tickets" {
        return Ok(());
    }
    let Some(o) = db.ticket_order_of_payment(payment_id).await? else {
        return Ok(());
    };
    let back: i64 = db
        .refunds_of(payment_id)
        .await?
        .iter()
        .filter(|r| r.status == "succeeded")
        .map(|r| r.amount_cents)
        .sum();
    if back >= o.amount_cents
        && db
            .refund_ticket_order(
                payment_id,
                sportello_store::now_micros(),
                &crate::tickets::now_local(),
            )
            .await?
    {
        tracing::info!(order = %o.id, "tickets voided by their refund");
    }
    Ok(())
}

/// What Stripe says of a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeRefund {
    pub id: String,
    pub status: String,
    pub failure: Option<String>,
}

impl StripeRefund {
    pub fn of(r: &stripe_shared::Refund) -> StripeRefund {
        StripeRefund {
            id: r.id.as_str().to_owned(),
            status: r.status.clone().unwrap_or_else(|| "pending".into()),
            failure: r.failure_reason.clone(),
        }
    }
}

async fn create(
    deps: &Deps,
    account_id: &str,
    intent: &str,
    r: &Refund,
) -> std::result::Result<StripeRefund, CallError> {
    let client = client(deps).map_err(CallError::ForNow)?;
    let key = IdempotencyKey::new(&r.idempotency_key)
        .map_err(|e| CallError::ForNow(Error::Internal(format!("idempotency key: {e}"))))?;
    let metadata = HashMap::from([
        ("refund".to_owned(), r.id.clone()),
        ("payment".to_owned(), r.payment_id.clone()),
    ]);
    let refund = CreateRefund::new()
        .payment_intent(intent)
        .amount(r.amount_cents)
        .reason(CreateRefundReason::RequestedByCustomer)
        .refund_application_fee(r.refund_fee)
        .metadata(metadata)
        .customize()
        .account_id(account(account_id).map_err(CallError::ForNow)?)
        .request_strategy(RequestStrategy::Idempotent(key))
        .send(&client)
        .await
        .map_err(call_error)?;
    Ok(StripeRefund::of(&refund))
}

/// Applies what Stripe says of a refund (its event) in the commune's transaction: found by
/// Stripe's id, or by ours in its metadata (the answer to the request was lost); forward only.
/// A refund nobody asked for here (made on Stripe's dashboard) is left to the reconciliation.
pub(crate) async fn apply(
    db: &sportello_store::TenantDb<'_>,
    account: &str,
    s: &StripeRefund,
    ours: Option<&str>,
) -> Result<&'static str> {
    let now = sportello_store::now_micros();
    let found = match db.refund_by_stripe(&s.id).await? {
        Some(r) => Some(r),
        None => match ours {
            Some(id) => db.refund(id).await?,
            None => None,
        },
    };
    let Some(r) = found else {
        return Ok("unknown_refund");
    };
    match db.payment(&r.payment_id).await? {
        Some(p) if p.stripe_account == account => {}
        _ => return Ok("unknown_refund"),
    }
    if r.stripe_refund_id.is_none() {
        db.set_refund_stripe(&r.id, &s.id, &s.status, s.failure.as_deref(), now)
            .await?;
        void_tickets_if_refunded(db, &r.payment_id).await?;
        return Ok("refund_recorded");
    }
    if r.stripe_refund_id.as_deref() != Some(s.id.as_str()) {
        return Ok("unknown_refund");
    }
    if db
        .move_refund(&r.id, &s.status, s.failure.as_deref(), now)
        .await?
    {
        void_tickets_if_refunded(db, &r.payment_id).await?;
        Ok("refund_moved")
    } else {
        Ok("already")
    }
}

/// Stripe keeps an idempotency key 24 hours: past 23, a refund never answered is looked for
/// among the intent's refunds (by our id in its metadata) instead of asked again.
const KEY_KEPT_MICROS: i64 = 23 * 3600 * 1_000_000;

/// Refunds not final: one Stripe never answered is asked again with its key (or, once the key
/// may be forgotten, looked for, and failed if Stripe has none: no money moved); one under way
/// is read from Stripe. Gives how many were looked at.
pub(crate) async fn sweep_commune(deps: &Deps, commune: TenantId, before: i64) -> Result<usize> {
    let list = {
        let tx = deps.store.tenant_read(commune).await?;
        let l = tx.db().unanswered_refunds(before, 50).await?;
        tx.commit().await?;
        l
    };
    let mut looked = 0;
    for r in list {
        let p = {
            let tx = deps.store.tenant_read(commune).await?;
            let p = tx.db().payment(&r.payment_id).await?;
            tx.commit().await?;
            p
        };
        let Some(p) = p else { continue };
        let done = match &r.stripe_refund_id {
            Some(re) => read_and_apply(deps, commune, &p, &r, re).await,
            None if r.created_at < sportello_store::now_micros() - KEY_KEPT_MICROS => {
                look_for(deps, commune, &p, &r).await
            }
            None => ask_stripe(deps, commune, &p, &r).await,
        };
        match done {
            Ok(()) => looked += 1,
            Err(e) => {
                tracing::warn!(refund = %r.id, error = %e, "sweeping a refund");
                let tx = deps.store.tenant(commune).await?;
                tx.db()
                    .touch_refund(&r.id, sportello_store::now_micros())
                    .await?;
                tx.commit().await?;
            }
        }
    }
    Ok(looked)
}

async fn read_and_apply(
    deps: &Deps,
    commune: TenantId,
    p: &Payment,
    r: &Refund,
    stripe_id: &str,
) -> Result<()> {
    let client = client(deps)?;
    let id = stripe_shared::RefundId::from_str(stripe_id)
        .map_err(|_| Error::Internal(format!("refund id {stripe_id:?}")))?;
    let s = RetrieveRefund::new(id)
        .customize()
        .account_id(account(&p.stripe_account)?)
        .send(&client)
        .await
        .map_err(crate::online::stripe::upstream)?;
    let s = StripeRefund::of(&s);
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    if db
        .move_refund(&r.id, &s.status, s.failure.as_deref(), now)
        .await?
    {
        void_tickets_if_refunded(&db, &p.id).await?;
    } else {
        db.touch_refund(&r.id, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn look_for(deps: &Deps, commune: TenantId, p: &Payment, r: &Refund) -> Result<()> {
    let Some(intent) = p.intent_id.as_deref() else {
        return Err(Error::Internal(format!("payment {} without intent", p.id)));
    };
    let client = client(deps)?;
    let list = ListRefund::new()
        .payment_intent(intent)
        .limit(100)
        .customize()
        .account_id(account(&p.stripe_account)?)
        .send(&client)
        .await
        .map_err(crate::online::stripe::upstream)?;
    let found = list
        .data
        .iter()
        .find(|x| x.metadata.as_ref().and_then(|m| m.get("refund")) == Some(&r.id))
        .map(StripeRefund::of);
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    match found {
        Some(s) => {
            db.set_refund_stripe(&r.id, &s.id, &s.status, s.failure.as_deref(), now)
                .await?;
            void_tickets_if_refunded(&db, &p.id).await?;
        }
        None => {
            db.move_refund(&r.id, "failed", Some("never_made"), now)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
