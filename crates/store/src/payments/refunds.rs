//! Refunds of succeeded payments, and what the day's reconciliation reads.
//!
//! A refund's state follows Stripe's and only moves forward: `created` (the idempotency key
//! written, Stripe not yet answered) → `pending` / `requires_action` → `succeeded`, `failed` or
//! `canceled`; a succeeded refund may still fail (Stripe says so for some methods), nothing else
//! moves back.

use serde::Serialize;

use super::Payment;
use super::online::{READ, payment};
use crate::identity::get;
use crate::{Result, TenantDb};

/// A refund as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refund {
    pub id: String,
    pub payment_id: String,
    pub amount_cents: i64,
    /// Whether the platform's fee goes back to the commune too (`refund_application_fee`).
    pub refund_fee: bool,
    pub reason: String,
    pub status: String,
    pub idempotency_key: String,
    pub stripe_refund_id: Option<String>,
    pub failure: Option<String>,
    /// The staff member who asked (their account's id).
    pub requested_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Refund {
    /// Whether the money counts as given back (or on its way): every state but a failure.
    pub fn counts(&self) -> bool {
        !matches!(self.status.as_str(), "failed" | "canceled")
    }
}

const COLUMNS: &str = "id, payment_id, amount_cents, refund_fee, reason, status, idempotency_key, \
    stripe_refund_id, failure, requested_by, created_at, updated_at";

fn refund(r: &sea_orm::QueryResult) -> Result<Refund> {
    Ok(Refund {
        id: get(r, "id")?,
        payment_id: get(r, "payment_id")?,
        amount_cents: get(r, "amount_cents")?,
        refund_fee: get(r, "refund_fee")?,
        reason: get(r, "reason")?,
        status: get(r, "status")?,
        idempotency_key: get(r, "idempotency_key")?,
        stripe_refund_id: get(r, "stripe_refund_id")?,
        failure: get(r, "failure")?,
        requested_by: get(r, "requested_by")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
    })
}

/// The states a refund may move to from `from` (forward only).
fn may_move(from: &str, to: &str) -> bool {
    from != to
        && match from {
            "created" | "pending" | "requires_action" => to != "created",
            "succeeded" => to == "failed",
            _ => false,
        }
}

impl TenantDb<'_> {
    /// Holds a payment until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite's writer
    /// already holds everything): two refunds of one payment are decided one after the other.
    pub async fn hold_payment(&self, id: &str) -> Result<()> {
        if self.is_postgres() {
            self.exec(
                "SELECT 1 FROM payments WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
                vec![id.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Holds a refund until the transaction ends (PostgreSQL; SQLite's writer holds all), so
    /// its state is decided from what it is, not from what it was a moment ago.
    async fn hold_refund(&self, id: &str) -> Result<()> {
        if self.is_postgres() {
            self.exec(
                "SELECT 1 FROM refunds WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
                vec![id.into()],
            )
            .await?;
        }
        Ok(())
    }

    pub async fn insert_refund(&self, r: &Refund) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO refunds (tenant_id, {COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ),
            vec![
                r.id.clone().into(),
                r.payment_id.clone().into(),
                r.amount_cents.into(),
                r.refund_fee.into(),
                r.reason.clone().into(),
                r.status.clone().into(),
                r.idempotency_key.clone().into(),
                r.stripe_refund_id.clone().into(),
                r.failure.clone().into(),
                r.requested_by.clone().into(),
                r.created_at.into(),
                r.updated_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn refund(&self, id: &str) -> Result<Option<Refund>> {
        self.one(
            &format!("SELECT {COLUMNS} FROM refunds WHERE tenant_id = $1 AND id = $2"),
            vec![id.into()],
        )
        .await?
        .map(|r| refund(&r))
        .transpose()
    }

    pub async fn refund_by_stripe(&self, stripe_id: &str) -> Result<Option<Refund>> {
        self.one(
            &format!(
                "SELECT {COLUMNS} FROM refunds WHERE tenant_id = $1 AND stripe_refund_id = $2"
            ),
            vec![stripe_id.into()],
        )
        .await?
        .map(|r| refund(&r))
        .transpose()
    }

    /// A payment's refunds, oldest first.
    pub async fn refunds_of(&self, payment_id: &str) -> Result<Vec<Refund>> {
        self.all(
            &format!(
                "SELECT {COLUMNS} FROM refunds WHERE tenant_id = $1 AND payment_id = $2 ORDER BY created_at, id"
            ),
            vec![payment_id.into()],
        )
        .await?
        .iter()
        .map(refund)
        .collect()
    }

    /// Records what Stripe answered to the refund's request (its id and state), forward only.
    pub async fn set_refund_stripe(
        &self,
        id: &str,
        stripe_id: &str,
        status: &str,
        failure: Option<&str>,
        at: i64,
    ) -> Result<()> {
        self.hold_refund(id).await?;
        let Some(r) = self.refund(id).await? else {
            return Ok(());
        };
        let status = if may_move(&r.status, status) {
            status
        } else {
            r.status.as_str()
        };
        self.exec(
            "UPDATE refunds SET stripe_refund_id = $3, status = $4, failure = COALESCE($5, failure), \
             updated_at = $6 WHERE tenant_id = $1 AND id = $2",
            vec![
                id.into(),
                stripe_id.into(),
                status.into(),
                failure.map(str::to_owned).into(),
                at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Moves a refund to what Stripe says of it, forward only; gives whether it moved.
    pub async fn move_refund(
        &self,
        id: &str,
        status: &str,
        failure: Option<&str>,
        at: i64,
    ) -> Result<bool> {
        self.hold_refund(id).await?;
        let Some(r) = self.refund(id).await? else {
            return Ok(false);
        };
        if !may_move(&r.status, status) {
            return Ok(false);
        }
        Ok(self
            .exec(
                "UPDATE refunds SET status = $3, failure = COALESCE($4, failure), updated_at = $5 \
                 WHERE tenant_id = $1 AND id = $2 AND status = $6",
                vec![
                    id.into(),
                    status.into(),
                    failure.map(str::to_owned).into(),
                    at.into(),
                    r.status.into(),
                ],
            )
            .await?
            == 1)
    }

    /// Refunds not final (Stripe has not answered for them, or they are under way), last looked
    /// at before `before`, oldest first: the sweeper asks about them.
    pub async fn unanswered_refunds(&self, before: i64, limit: u64) -> Result<Vec<Refund>> {
        self.all(
            &format!(
                "SELECT {COLUMNS} FROM refunds WHERE tenant_id = $1 \
                 AND status IN ('created', 'pending', 'requires_action') \
                 AND updated_at < $2 ORDER BY updated_at LIMIT $3"
            ),
            vec![before.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(refund)
        .collect()
    }

    /// Marks a refund looked at by the sweeper.
    pub async fn touch_refund(&self, id: &str, at: i64) -> Result<()> {
        self.exec(
            "UPDATE refunds SET updated_at = $3 WHERE tenant_id = $1 AND id = $2",
            vec![id.into(), at.into()],
        )
        .await?;
        Ok(())
    }

    /// Records the charge Stripe made for a payment.
    pub async fn set_payment_charge(&self, id: &str, charge: &str) -> Result<()> {
        self.exec(
            "UPDATE payments SET charge_id = $3 WHERE tenant_id = $1 AND id = $2",
            vec![id.into(), charge.into()],
        )
        .await?;
        Ok(())
    }

    /// The payment of a charge.
    pub async fn payment_by_charge(&self, charge: &str) -> Result<Option<(Payment, String)>> {
        self.one(
            &format!(
                "SELECT {READ}, charge_id FROM payments WHERE tenant_id = $1 AND charge_id = $2"
            ),
            vec![charge.into()],
        )
        .await?
        .map(|r| Ok((payment(&r)?, get(&r, "charge_id")?)))
        .transpose()
    }

    /// Payments that succeeded in `[from, to)`, with their charges (none yet: `None`).
    pub async fn payments_succeeded(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<(Payment, Option<String>)>> {
        self.all(
            &format!(
                "SELECT {READ}, charge_id FROM payments WHERE tenant_id = $1 AND status = 'succeeded' \
                 AND succeeded_at >= $2 AND succeeded_at < $3 ORDER BY succeeded_at, id"
            ),
            vec![from.into(), to.into()],
        )
        .await?
        .iter()
        .map(|r| Ok((payment(r)?, get(r, "charge_id")?)))
        .collect()
    }

    /// Refunds asked in `[from, to)` that count (not failed or cancelled).
    pub async fn refunds_asked(&self, from: i64, to: i64) -> Result<Vec<Refund>> {
        self.all(
            &format!(
                "SELECT {COLUMNS} FROM refunds WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 \
                 ORDER BY created_at, id"
            ),
            vec![from.into(), to.into()],
        )
        .await?
        .iter()
        .map(refund)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::may_move;

    #[test]
    fn refunds_move_forward_only() {
        assert!(may_move("created", "pending"));
        assert!(may_move("pending", "succeeded"));
        assert!(may_move("succeeded", "failed"));
        assert!(!may_move("succeeded", "pending"));
        assert!(!may_move("failed", "succeeded"));
        assert!(!may_move("canceled", "succeeded"));
        assert!(!may_move("pending", "created"));
        assert!(!may_move("pending", "pending"));
    }
}
