//! "Da pagare": the notices a commune addressed to the signed-in person's fiscal code (as an
//! identity provider vouched for it: a code typed into a form finds nothing), with what is due
//! today (the reduced amount while the reduction lasts).

use chrono::NaiveDate;
use serde::Serialize;
use sportello_domain::{Money, TenantId};
use sportello_kernel::session::Current;
use sportello_kernel::{Deps, Error, Result};
use sportello_store::payments::{Notice, NoticeStatus};

/// The most notices the list shows.
pub const MINE_MAX: u64 = 200;
/// Paid and cancelled notices stay on the list for this many days after their due day.
pub const KEEP_DAYS: i64 = 365;

/// A notice as its payer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct DueLine {
    pub number: String,
    /// The number in groups of four, as printed.
    pub grouped: String,
    pub kind: String,
    pub reason: String,
    pub amount: Money,
    pub due_on: String,
    /// Open and past its due day.
    pub overdue: bool,
    /// The reduced amount and its last day, where the law gives one.
    pub reduced: Option<(Money, String)>,
    /// What paying today costs (the reduced amount while it lasts).
    pub to_pay_today: Money,
    pub status: NoticeStatus,
}

impl DueLine {
    pub fn of(n: &Notice, today: NaiveDate) -> DueLine {
        let reduced = match (n.reduced_cents, &n.reduced_until) {
            (Some(c), Some(u)) => Some((Money::from_cents(c), u.clone())),
            _ => None,
        };
        let today_s = today.to_string();
        let to_pay_today = match &reduced {
            Some((m, until)) if *until >= today_s => *m,
            _ => Money::from_cents(n.amount_cents),
        };
        DueLine {
            grouped: crate::grouped(&n.notice_number),
            number: n.notice_number.clone(),
            kind: n.kind.clone(),
            reason: n.reason.clone(),
            amount: Money::from_cents(n.amount_cents),
            due_on: n.due_on.clone(),
            overdue: n.status == NoticeStatus::Open && n.due_on < today_s,
            reduced,
            to_pay_today,
            status: n.status,
        }
    }
}

/// The person's fiscal code as an identity provider gave it, if one did.
pub fn vouched_code(who: &Current) -> Option<&str> {
    who.person.as_ref()?.fiscal_code.as_deref()
}

/// The person's list.
#[derive(Debug, Clone, Serialize)]
pub struct Mine {
    pub notices: Vec<DueLine>,
    /// Whether the commune takes payments online (its connected account, the platform's keys).
    pub online: bool,
    /// The fee added to a payment online.
    pub fee: Money,
    /// The person's payments here, newest first (each with its page and, once paid, receipt).
    pub payments: Vec<PaymentLine>,
}

/// One of the person's payments.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentLine {
    pub id: String,
    pub created_at: i64,
    pub total: Money,
    pub status: String,
    /// `12/2026`.
    pub receipt: Option<String>,
}

/// How many of the person's payments the list shows.
pub const PAYMENTS_SHOWN: u64 = 50;

/// The person's notices from this commune, soonest due first (`None` when no identity provider
/// vouched for their fiscal code: the page says how to sign in for them).
pub async fn mine(deps: &Deps, commune: TenantId, who: &Current) -> Result<Option<Mine>> {
    let Some(code) = vouched_code(who) else {
        return Ok(None);
    };
    let today = crate::today();
    let since = (today - chrono::Duration::days(KEEP_DAYS)).to_string();
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let list = db.notices_of(code, &since, MINE_MAX).await?;
    let s = db.payment_settings().await?;
    let person = who.person.as_ref().map(|p| p.id.as_str()).unwrap_or("");
    let payments = db
        .payments_of(person, PAYMENTS_SHOWN)
        .await?
        .into_iter()
        .map(|p| PaymentLine {
            total: Money::from_cents(p.total_cents()),
            receipt: p.receipt.map(|(y, n)| format!("{n}/{y}")),
            id: p.id,
            created_at: p.created_at,
            status: p.status,
        })
        .collect();
    tx.commit().await?;
    Ok(Some(Mine {
        notices: list.iter().map(|n| DueLine::of(n, today)).collect(),
        online: s.stripe_account.is_some() && crate::online::stripe::configured(deps),
        fee: Money::from_cents(s.fee_cents),
        payments,
    }))
}

/// One of the person's notices (another person's, or none: the same answer).
pub async fn my_notice(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    number: &str,
) -> Result<Notice> {
    let code = vouched_code(who).ok_or(Error::NotFound)?;
    let tx = deps.store.tenant_read(commune).await?;
    let n = tx.db().notice(number).await?;
    tx.commit().await?;
    n.filter(|n| n.fiscal_code == code).ok_or(Error::NotFound)
}
