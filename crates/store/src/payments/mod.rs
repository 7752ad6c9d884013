//! Payments owed to a commune: its payment settings and its notices.
//!
//! A notice's own number (the 13 digits inside its pagoPA notice number) comes from the
//! commune's counter in `payment_settings`: [`TenantDb::take_notice_numbers`] bumps it by as
//! many as an import needs in one statement. Numbers need not be gap-free (a rolled-back import
//! gives them back anyway, the row being locked until commit); they must never repeat.

mod fees;
mod imu;
mod notices;
mod online;
mod reconciliations;
mod refunds;
mod tickets;

pub use fees::ServiceFee;
pub use imu::{ImuPosition, ImuProperty, ImuRates};
pub use notices::{NewNotice, Notice, NoticeFilter, NoticeStatus};
pub use online::{Payment, PaymentItem};
pub use reconciliations::Reconciliation;
pub use refunds::Refund;
pub use tickets::{Ticket, TicketOffer, TicketOrder, TicketSlot};

use serde::Serialize;

use crate::identity::get;
use crate::{Result, TenantDb};

/// A commune's payment settings (the defaults until it saves its own).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaymentSettings {
    /// The commune's own tax code (11 digits), printed in every notice's QR code.
    pub tax_code: Option<String>,
    /// Its pagoPA segregation code (0–99).
    pub segregation: i32,
    pub fee_cents: i64,
    /// The kinds it collects online, by key, separated by commas.
    pub kinds: String,
    pub receipt_header: String,
    /// Its Stripe connected account (`acct_…`).
    pub stripe_account: Option<String>,
    pub updated_at: i64,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Self {
            tax_code: None,
            segregation: 1,
            fee_cents: 100,
            kinds: String::new(),
            receipt_header: String::new(),
            stripe_account: None,
            updated_at: 0,
        }
    }
}

impl TenantDb<'_> {
    pub async fn payment_settings(&self) -> Result<PaymentSettings> {
        let Some(r) = self
            .one(
                "SELECT tax_code, segregation, fee_cents, kinds, receipt_header, stripe_account, updated_at \
                 FROM payment_settings WHERE tenant_id = $1",
                vec![],
            )
            .await?
        else {
            return Ok(PaymentSettings::default());
        };
        Ok(PaymentSettings {
            tax_code: get(&r, "tax_code")?,
            segregation: get(&r, "segregation")?,
            fee_cents: get(&r, "fee_cents")?,
            kinds: get(&r, "kinds")?,
            receipt_header: get(&r, "receipt_header")?,
            stripe_account: get(&r, "stripe_account")?,
            updated_at: get(&r, "updated_at")?,
        })
    }

    /// The settings, held until the transaction ends (PostgreSQL `FOR SHARE`; SQLite's writer
    /// already holds everything): nobody changes them under a payment being made.
    pub async fn payment_settings_held(&self) -> Result<PaymentSettings> {
        if self.is_postgres() {
            self.exec(
                "SELECT 1 FROM payment_settings WHERE tenant_id = $1 FOR SHARE",
                vec![],
            )
            .await?;
        }
        self.payment_settings().await
    }

    /// Writes the settings (the counter of notice numbers is left as it is).
    pub async fn save_payment_settings(&self, s: &PaymentSettings) -> Result<()> {
        self.exec(
            "INSERT INTO payment_settings (tenant_id, tax_code, segregation, fee_cents, kinds, receipt_header, stripe_account, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant_id) DO UPDATE SET tax_code = excluded.tax_code, segregation = excluded.segregation, \
             fee_cents = excluded.fee_cents, kinds = excluded.kinds, receipt_header = excluded.receipt_header, \
             stripe_account = excluded.stripe_account, updated_at = excluded.updated_at",
            vec![
                s.tax_code.clone().into(),
                s.segregation.into(),
                s.fee_cents.into(),
                s.kinds.clone().into(),
                s.receipt_header.clone().into(),
                s.stripe_account.clone().into(),
                s.updated_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Takes `n` consecutive notice numbers; gives the first. The settings row stays locked
    /// until the transaction ends.
    pub async fn take_notice_numbers(&self, n: i64) -> Result<i64> {
        let r = self
            .one(
                "INSERT INTO payment_settings (tenant_id, next_local) VALUES ($1, 1 + $2) \
                 ON CONFLICT (tenant_id) DO UPDATE SET next_local = payment_settings.next_local + $2 \
                 RETURNING next_local",
                vec![n.into()],
            )
            .await?
            .ok_or_else(|| crate::StoreError::Corrupt("no counter row".into()))?;
        let next: i64 = get(&r, "next_local")?;
        Ok(next - n)
    }
}
