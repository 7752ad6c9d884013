//! Paying online: a payment (one or several notices of one person), its items, the Stripe
//! events applied, and the federation's map from a connected account to its commune.
//!
//! A payment's state only moves forward: `created` (the idempotency key written, Stripe not yet
//! answered) → `pending` (the PaymentIntent known) → `succeeded` (final); `failed` may still
//! succeed (the person tries another card on the same intent); `mismatch` (Stripe reported an
//! amount or currency other than the payment's: nothing paid, for staff to look at) and
//! `cancelled` are final.

use sea_orm::{ConnectionTrait, Value};
use serde::Serialize;

use crate::identity::get;
use crate::raw::stmt;
use crate::{FederationDb, Result, TenantDb};

/// A payment as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payment {
    pub id: String,
    pub person_id: String,
    pub fiscal_code: String,
    pub amount_cents: i64,
    pub fee_cents: i64,
    pub currency: String,
    pub status: String,
    pub stripe_account: String,
    pub idempotency_key: String,
    pub intent_id: Option<String>,
    /// Sealed.
    pub client_secret: Option<String>,
    pub failure: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub succeeded_at: Option<i64>,
    /// The receipt's year and number, once paid.
    pub receipt: Option<(i32, i64)>,
    /// When Stripe was last asked for it on the person's return (not the sweeper's turn).
    pub checked_at: i64,
    /// What it pays: `notices` (its items) or `tickets` (an order's seats).
    pub purpose: String,
}

impl Payment {
    /// What the person is charged: the notices and the fee.
    pub fn total_cents(&self) -> i64 {
        self.amount_cents + self.fee_cents
    }
}

/// One notice a payment pays, and how much of it (the reduced amount while it lasts).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaymentItem {
    pub notice_number: String,
    pub amount_cents: i64,
}

const COLUMNS: &str = "id, person_id, fiscal_code, amount_cents, fee_cents, currency, status, stripe_account, \
    idempotency_key, intent_id, client_secret, failure, created_at, updated_at, succeeded_at, purpose";
pub(super) const READ: &str = "id, person_id, fiscal_code, amount_cents, fee_cents, currency, status, stripe_account, \
    idempotency_key, intent_id, client_secret, failure, created_at, updated_at, succeeded_at, \
    receipt_year, receipt_number, checked_at, purpose";

pub(super) fn payment(r: &sea_orm::QueryResult) -> Result<Payment> {
    Ok(Payment {
        id: get(r, "id")?,
        person_id: get(r, "person_id")?,
        fiscal_code: get(r, "fiscal_code")?,
        amount_cents: get(r, "amount_cents")?,
        fee_cents: get(r, "fee_cents")?,
        currency: get(r, "currency")?,
        status: get(r, "status")?,
        stripe_account: get(r, "stripe_account")?,
        idempotency_key: get(r, "idempotency_key")?,
        intent_id: get(r, "intent_id")?,
        client_secret: get(r, "client_secret")?,
        failure: get(r, "failure")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        succeeded_at: get(r, "succeeded_at")?,
        receipt: match (
            get::<Option<i32>>(r, "receipt_year")?,
            get::<Option<i64>>(r, "receipt_number")?,
        ) {
            (Some(y), Some(n)) => Some((y, n)),
            _ => None,
        },
        checked_at: get(r, "checked_at")?,
        purpose: get(r, "purpose")?,
    })
}

fn marks(from: usize, n: usize) -> String {
    (0..n)
        .map(|i| format!("${}", from + i))
        .collect::<Vec<_>>()
        .join(", ")
}

impl TenantDb<'_> {
    /// Writes a new payment (state `created`) and its items.
    pub async fn insert_payment(&self, p: &Payment, items: &[PaymentItem]) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO payments (tenant_id, {COLUMNS}) VALUES ($1, {})",
                marks(2, 16)
            ),
            vec![
                p.id.clone().into(),
                p.person_id.clone().into(),
                p.fiscal_code.clone().into(),
                p.amount_cents.into(),
                p.fee_cents.into(),
                p.currency.clone().into(),
                p.status.clone().into(),
                p.stripe_account.clone().into(),
                p.idempotency_key.clone().into(),
                p.intent_id.clone().into(),
                p.client_secret.clone().into(),
                p.failure.clone().into(),
                p.created_at.into(),
                p.updated_at.into(),
                p.succeeded_at.into(),
                p.purpose.clone().into(),
            ],
        )
        .await?;
        for i in items {
            self.exec(
                "INSERT INTO payment_items (tenant_id, payment_id, notice_number, amount_cents) VALUES ($1, $2, $3, $4)",
                vec![p.id.clone().into(), i.notice_number.clone().into(), i.amount_cents.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Marks open notices as being paid by `payment`; gives how many it took (a notice already
    /// under another payment, paid or cancelled is not taken).
    pub async fn claim_notices(&self, payment: &str, numbers: &[String]) -> Result<u64> {
        let mut vals: Vec<Value> = vec![payment.into()];
        vals.extend(numbers.iter().map(|n| Value::from(n.clone())));
        self.exec(
            &format!(
                "UPDATE payment_notices SET open_payment = $2 WHERE tenant_id = $1 AND status = 'open' \
                 AND open_payment IS NULL AND notice_number IN ({})",
                marks(3, numbers.len())
            ),
            vals,
        )
        .await
    }

    pub async fn payment(&self, id: &str) -> Result<Option<Payment>> {
        self.one(
            &format!("SELECT {READ} FROM payments WHERE tenant_id = $1 AND id = $2"),
            vec![id.into()],
        )
        .await?
        .map(|r| payment(&r))
        .transpose()
    }

    pub async fn payment_by_intent(&self, intent: &str) -> Result<Option<Payment>> {
        self.one(
            &format!("SELECT {READ} FROM payments WHERE tenant_id = $1 AND intent_id = $2"),
            vec![intent.into()],
        )
        .await?
        .map(|r| payment(&r))
        .transpose()
    }

    pub async fn payment_items(&self, id: &str) -> Result<Vec<PaymentItem>> {
        self.all(
            "SELECT notice_number, amount_cents FROM payment_items WHERE tenant_id = $1 AND payment_id = $2 \
             ORDER BY notice_number",
            vec![id.into()],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(PaymentItem {
                notice_number: get(r, "notice_number")?,
                amount_cents: get(r, "amount_cents")?,
            })
        })
        .collect()
    }

    /// Records the PaymentIntent Stripe made for the payment (`created` → `pending`).
    pub async fn set_payment_intent(
        &self,
        id: &str,
        intent: &str,
        sealed_secret: &str,
        at: i64,
    ) -> Result<()> {
        self.exec(
            "UPDATE payments SET intent_id = $3, client_secret = $4, updated_at = $5, \
             status = CASE WHEN status = 'created' THEN 'pending' ELSE status END \
             WHERE tenant_id = $1 AND id = $2",
            vec![id.into(), intent.into(), sealed_secret.into(), at.into()],
        )
        .await?;
        Ok(())
    }

    /// The payment succeeded: it and its notices are paid. Gives false when it was already
    /// succeeded or is final otherwise (nothing moves back).
    pub async fn settle_payment(&self, id: &str, at: i64) -> Result<bool> {
        let moved = self
            .exec(
                "UPDATE payments SET status = 'succeeded', succeeded_at = $3, updated_at = $3, failure = NULL \
                 WHERE tenant_id = $1 AND id = $2 AND status IN ('created', 'pending', 'failed')",
                vec![id.into(), at.into()],
            )
            .await?;
        if moved == 0 {
            return Ok(false);
        }
        self.exec(
            "UPDATE payment_notices SET status = 'paid', paid_at = $3, payment_id = $2, open_payment = NULL, \
             paid_cents = (SELECT i.amount_cents FROM payment_items i WHERE i.tenant_id = payment_notices.tenant_id \
               AND i.payment_id = $2 AND i.notice_number = payment_notices.notice_number) \
             WHERE tenant_id = $1 AND notice_number IN \
               (SELECT notice_number FROM payment_items WHERE tenant_id = $1 AND payment_id = $2)",
            vec![id.into(), at.into()],
        )
        .await?;
        Ok(true)
    }

    /// An attempt failed (the intent stays usable): `pending`/`created` → `failed`.
    pub async fn fail_payment(&self, id: &str, why: &str, at: i64) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE payments SET status = 'failed', failure = $3, updated_at = $4 \
                 WHERE tenant_id = $1 AND id = $2 AND status IN ('created', 'pending', 'failed')",
                vec![id.into(), why.into(), at.into()],
            )
            .await?
            == 1)
    }

    /// Stripe reported another amount, currency or fee (or a success for a payment given up):
    /// nothing is paid and the payment is set aside for staff (final). Its notices stay held by
    /// it: money may have moved, so the person is not offered to pay them again until the
    /// commune has looked.
    pub async fn flag_payment(&self, id: &str, why: &str, at: i64) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE payments SET status = 'mismatch', failure = $3, updated_at = $4 \
                 WHERE tenant_id = $1 AND id = $2 AND status IN ('created', 'pending', 'failed', 'cancelled')",
                vec![id.into(), why.into(), at.into()],
            )
            .await?
            == 1)
    }

    /// The payment will not be made (its intent cancelled at Stripe, or never made): final, and
    /// its notices are free to be paid or cancelled again.
    pub async fn cancel_payment(&self, id: &str, why: &str, at: i64) -> Result<bool> {
        let moved = self
            .exec(
                "UPDATE payments SET status = 'cancelled', failure = $3, updated_at = $4 \
                 WHERE tenant_id = $1 AND id = $2 AND status IN ('created', 'pending', 'failed')",
                vec![id.into(), why.into(), at.into()],
            )
            .await?;
        if moved == 1 {
            self.release_notices(id).await?;
            self.release_seats(id, at).await?;
        }
        Ok(moved == 1)
    }

    /// How many of the commune's payments are not yet settled one way or the other.
    pub async fn unsettled_count(&self) -> Result<i64> {
        let r = self
            .one(
                "SELECT count(*) AS n FROM payments WHERE tenant_id = $1 \
                 AND status IN ('created', 'pending', 'failed')",
                vec![],
            )
            .await?
            .ok_or_else(|| crate::StoreError::Corrupt("no count".into()))?;
        get(&r, "n")
    }

    async fn release_notices(&self, id: &str) -> Result<()> {
        // Through the payment's items (the primary key), not a scan for `open_payment`.
        self.exec(
            "UPDATE payment_notices SET open_payment = NULL WHERE tenant_id = $1 AND open_payment = $2 \
             AND notice_number IN (SELECT notice_number FROM payment_items WHERE tenant_id = $1 AND payment_id = $2)",
            vec![id.into()],
        )
        .await?;
        Ok(())
    }

    /// Notes that Stripe was asked about the payment on the person's return.
    pub async fn note_payment_checked(&self, id: &str, at: i64) -> Result<()> {
        self.exec(
            "UPDATE payments SET checked_at = $3 WHERE tenant_id = $1 AND id = $2",
            vec![id.into(), at.into()],
        )
        .await?;
        Ok(())
    }

    /// Whether an event was applied to this commune already.
    pub async fn stripe_event_seen(&self, event: &str) -> Result<bool> {
        Ok(self
            .one(
                "SELECT 1 AS seen FROM stripe_events WHERE tenant_id = $1 AND event_id = $2",
                vec![event.into()],
            )
            .await?
            .is_some())
    }

    /// Records an event as applied to this commune; false when it was already (apply nothing).
    pub async fn record_stripe_event(
        &self,
        event: &str,
        kind: &str,
        outcome: &str,
        at: i64,
    ) -> Result<bool> {
        Ok(self
            .exec(
                "INSERT INTO stripe_events (tenant_id, event_id, kind, received_at, outcome) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, event_id) DO NOTHING",
                vec![event.into(), kind.into(), at.into(), outcome.into()],
            )
            .await?
            == 1)
    }

    /// Payments not yet settled (failed ones too: another card may have worked since), last
    /// looked at before `before` (the sweeper's work), oldest first.
    pub async fn unsettled_payments(&self, before: i64, limit: u64) -> Result<Vec<Payment>> {
        self.all(
            &format!(
                "SELECT {READ} FROM payments WHERE tenant_id = $1 AND status IN ('created', 'pending', 'failed') \
                 AND updated_at < $2 ORDER BY updated_at LIMIT $3"
            ),
            vec![before.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(payment)
        .collect()
    }

    /// Marks a payment looked at by the sweeper (so the next look waits its turn).
    pub async fn touch_payment(&self, id: &str, at: i64) -> Result<()> {
        self.exec(
            "UPDATE payments SET updated_at = $3 WHERE tenant_id = $1 AND id = $2",
            vec![id.into(), at.into()],
        )
        .await?;
        Ok(())
    }

    /// The commune's own connected account in the federation's map (its row only); false when
    /// another commune has that account.
    pub async fn set_own_stripe_account(&self, account: Option<&str>) -> Result<bool> {
        let tenant = self.tenant().0;
        self.exec(
            "DELETE FROM stripe_accounts WHERE commune_id = $2",
            vec![tenant.into()],
        )
        .await?;
        let Some(a) = account else {
            return Ok(true);
        };
        Ok(self
            .exec(
                "INSERT INTO stripe_accounts (account_id, commune_id) VALUES ($2, $3) ON CONFLICT (account_id) DO NOTHING",
                vec![a.into(), tenant.into()],
            )
            .await?
            == 1)
    }
}

impl FederationDb<'_> {
    /// The commune a connected account belongs to.
    pub async fn commune_of_stripe_account(&self, account: &str) -> Result<Option<i64>> {
        let c = self.conn();
        c.query_one_raw(stmt(
            c.get_database_backend(),
            "SELECT commune_id FROM stripe_accounts WHERE account_id = $1",
            vec![account.into()],
        ))
        .await?
        .map(|r| get(&r, "commune_id"))
        .transpose()
    }

    /// Every commune with a connected account (the sweeper visits these).
    pub async fn communes_with_stripe(&self) -> Result<Vec<i64>> {
        let c = self.conn();
        c.query_all_raw(stmt(
            c.get_database_backend(),
            "SELECT commune_id FROM stripe_accounts ORDER BY commune_id",
            vec![],
        ))
        .await?
        .iter()
        .map(|r| get(r, "commune_id"))
        .collect()
    }
}

impl TenantDb<'_> {
    /// The payment under way for a notice, if one is.
    pub async fn open_payment_of(&self, notice: &str) -> Result<Option<String>> {
        Ok(self
            .one(
                "SELECT open_payment FROM payment_notices WHERE tenant_id = $1 AND notice_number = $2",
                vec![notice.into()],
            )
            .await?
            .map(|r| get::<Option<String>>(&r, "open_payment"))
            .transpose()?
            .flatten())
    }
}

impl TenantDb<'_> {
    /// What an event applied did (written in the same transaction).
    pub async fn set_stripe_event_outcome(&self, event: &str, outcome: &str) -> Result<()> {
        self.exec(
            "UPDATE stripe_events SET outcome = $3 WHERE tenant_id = $1 AND event_id = $2",
            vec![event.into(), outcome.into()],
        )
        .await?;
        Ok(())
    }
}

impl TenantDb<'_> {
    /// Gives a paid payment the next receipt number of `year` (the counter row stays locked until
    /// the transaction ends: numbers follow commits, none is lost to a rollback).
    pub async fn issue_receipt(&self, payment: &str, year: i32) -> Result<i64> {
        let r = self
            .one(
                "INSERT INTO receipt_counters (tenant_id, year, next) VALUES ($1, $2, 2) \
                 ON CONFLICT (tenant_id, year) DO UPDATE SET next = receipt_counters.next + 1 \
                 RETURNING next",
                vec![year.into()],
            )
            .await?
            .ok_or_else(|| crate::StoreError::Corrupt("no receipt counter".into()))?;
        let number = get::<i64>(&r, "next")? - 1;
        self.exec(
            "UPDATE payments SET receipt_year = $3, receipt_number = $4 WHERE tenant_id = $1 AND id = $2",
            vec![payment.into(), year.into(), number.into()],
        )
        .await?;
        Ok(number)
    }

    /// A person's payments in this commune, newest first.
    pub async fn payments_of(&self, person_id: &str, limit: u64) -> Result<Vec<Payment>> {
        self.all(
            &format!(
                "SELECT {READ} FROM payments WHERE tenant_id = $1 AND person_id = $2 \
                 ORDER BY created_at DESC, id DESC LIMIT $3"
            ),
            vec![person_id.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(payment)
        .collect()
    }
}

impl TenantDb<'_> {
    /// The commune's payments, newest first, in one state or all.
    pub async fn payments_list(&self, status: Option<&str>, limit: u64) -> Result<Vec<Payment>> {
        let (cond, mut vals): (&str, Vec<Value>) = match status {
            Some(s) => (" AND status = $2", vec![s.into()]),
            None => ("", vec![]),
        };
        vals.push((limit as i64).into());
        let n = vals.len() + 1;
        self.all(
            &format!(
                "SELECT {READ} FROM payments WHERE tenant_id = $1{cond} \
                 ORDER BY created_at DESC, id DESC LIMIT ${n}"
            ),
            vals,
        )
        .await?
        .iter()
        .map(payment)
        .collect()
    }
}
