//! The day's reconciliation of a commune: what was recorded here (payments that succeeded,
//! refunds asked) against Stripe's balance transactions on the commune's account for the same
//! Italian day, paired by Stripe's ids (a payment's charge, a refund's id). Every line gets a
//! verdict; anything but `ok` is a discrepancy for staff to look at.
//!
//! A pair may straddle midnight (the charge made at 23:59:59, recorded here a moment later):
//! a line without its partner on the day is looked up on any day before it is flagged.

use chrono::{NaiveDate, TimeZone};
use serde::Serialize;
use sportello_domain::TenantId;
use sportello_kernel::{Actor, Deps, Error, Result};
use stripe::StripeRequest;
use stripe_core::balance_transaction::ListBalanceTransaction;
use stripe_shared::BalanceTransaction;
use stripe_types::{RangeBoundsTs, RangeQueryTs};

use crate::online::stripe::{account, client, upstream};

/// A balance transaction as the reconciliation reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Movement {
    pub id: String,
    /// `charge`, `payment`, `refund`, `adjustment`, `payout`, …
    pub kind: String,
    /// The charge, refund or other object it comes from.
    pub source: String,
    pub amount: i64,
    pub fee: i64,
    pub net: i64,
    /// Seconds since the epoch.
    pub created: i64,
}

impl Movement {
    fn of(b: &BalanceTransaction) -> Movement {
        Movement {
            id: b.id.as_str().to_owned(),
            kind: b.type_.as_str().to_owned(),
            source: b
                .source
                .as_ref()
                .map(|s| s.id().to_string())
                .unwrap_or_default(),
            amount: b.amount,
            fee: b.fee,
            net: b.net,
            created: b.created,
        }
    }
}

/// What a line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// Both sides agree.
    Ok,
    /// Both agree, one of them on another day.
    OkOtherDay,
    /// A movement at Stripe with nothing here (a refund made on Stripe's dashboard, say).
    NotRecordedHere,
    /// Recorded here, nothing at Stripe.
    MissingAtStripe,
    /// Paired, but the amounts differ.
    AmountDiffers,
    /// A refund Stripe has not answered for yet.
    Unanswered,
    /// Stripe moved money on its own (a dispute, a correction): for staff to look at.
    Adjustment,
    /// A movement of the account that is not a payment's (a payout, a fee): listed only.
    Other,
}

impl Verdict {
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::OkOtherDay => "ok_other_day",
            Verdict::NotRecordedHere => "not_recorded_here",
            Verdict::MissingAtStripe => "missing_at_stripe",
            Verdict::AmountDiffers => "amount_differs",
            Verdict::Unanswered => "unanswered",
            Verdict::Adjustment => "adjustment",
            Verdict::Other => "other",
        }
    }
    /// Whether staff must look at it.
    pub fn flagged(self) -> bool {
        !matches!(self, Verdict::Ok | Verdict::OkOtherDay | Verdict::Other)
    }
}

/// One line of the day: what is recorded here (a payment or a refund, with its cents as
/// money into the account: a refund is negative) and Stripe's movement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// `payment` or `refund` (here), or Stripe's kind when only Stripe has it.
    pub kind: String,
    pub ours: Option<(String, i64)>,
    pub stripe: Option<Movement>,
    pub verdict: Verdict,
}

/// The day's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub day: NaiveDate,
    pub account: String,
    pub lines: Vec<Line>,
}

impl Report {
    pub fn flagged(&self) -> usize {
        self.lines.iter().filter(|l| l.verdict.flagged()).count()
    }
    /// Money in and out by what is recorded here (cents).
    pub fn ours_cents(&self) -> i64 {
        self.lines
            .iter()
            .filter_map(|l| l.ours.as_ref())
            .map(|o| o.1)
            .sum()
    }
    /// Gross, fees and net of Stripe's payment movements of the day.
    pub fn stripe_cents(&self) -> (i64, i64, i64) {
        self.lines
            .iter()
            .filter(|l| l.verdict != Verdict::Other)
            .filter_map(|l| l.stripe.as_ref())
            .fold((0, 0, 0), |(a, f, n), m| {
                (a + m.amount, f + m.fee, n + m.net)
            })
    }

    /// The report as CSV (`;`, as Italian spreadsheets read it; amounts in euros with a dot).
    pub fn csv(&self) -> String {
        let euros = |c: i64| sportello_domain::Money::from_cents(c).decimal();
        let mut out = String::from(
            "day;verdict;kind;recorded_here;recorded_cents_eur;stripe_transaction;stripe_type;stripe_source;stripe_amount_eur;stripe_fee_eur;stripe_net_eur\n",
        );
        // A cell a spreadsheet would read as a formula is quoted as text.
        let cell = |s: &str| {
            let s = s.replace([';', '\n', '\r'], " ");
            if s.starts_with(['=', '+', '-', '@']) {
                format!("'{s}")
            } else {
                s
            }
        };
        for l in &self.lines {
            let (oid, oc) = l
                .ours
                .as_ref()
                .map(|(i, c)| (i.clone(), euros(*c)))
                .unwrap_or_default();
            let s = l.stripe.as_ref();
            out.push_str(&format!(
                "{};{};{};{};{};{};{};{};{};{};{}\n",
                self.day,
                l.verdict.key(),
                cell(&l.kind),
                cell(&oid),
                oc,
                cell(&s.map(|m| m.id.clone()).unwrap_or_default()),
                cell(&s.map(|m| m.kind.clone()).unwrap_or_default()),
                cell(&s.map(|m| m.source.clone()).unwrap_or_default()),
                s.map(|m| euros(m.amount)).unwrap_or_default(),
                s.map(|m| euros(m.fee)).unwrap_or_default(),
                s.map(|m| euros(m.net)).unwrap_or_default(),
            ));
        }
        out
    }
}

/// The Italian day as seconds since the epoch, `[start, end)`.
pub fn bounds(day: NaiveDate) -> (i64, i64) {
    let at = |d: NaiveDate| {
        chrono_tz::Europe::Rome
            .from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.timestamp())
            .unwrap_or_default()
    };
    (at(day), at(day.succ_opt().unwrap_or(day)))
}

/// Stripe's balance transactions on `account`, created in `[from, to)` or from `source`.
async fn movements(
    deps: &Deps,
    account_id: &str,
    window: Option<(i64, i64)>,
    source: Option<&str>,
) -> Result<Vec<Movement>> {
    let client = client(deps)?;
    let mut out = vec![];
    let mut after: Option<String> = None;
    // At most 100 pages of 100: a commune's day is far less.
    for _ in 0..100 {
        let mut req = ListBalanceTransaction::new().limit(100);
        if let Some((from, to)) = window {
            req = req.created(RangeQueryTs::Bounds(RangeBoundsTs {
                gte: Some(from),
                lt: Some(to),
                ..Default::default()
            }));
        }
        if let Some(s) = source {
            req = req.source(s);
        }
        if let Some(a) = &after {
            req = req.starting_after(a.clone());
        }
        let page = req
            .customize()
            .account_id(account(account_id)?)
            .send(&client)
            .await
            .map_err(upstream)?;
        let more = page.has_more && !page.data.is_empty();
        out.extend(page.data.iter().map(Movement::of));
        match (more, out.last()) {
            (true, Some(last)) => after = Some(last.id.clone()),
            _ => return Ok(out),
        }
    }
    Err(Error::Upstream(
        "stripe: too many balance transactions".into(),
    ))
}

/// The commune's reconciliation for an Italian day.
pub async fn day(deps: &Deps, actor: &Actor, day: NaiveDate) -> Result<Report> {
    crate::require_commune_read(deps, actor).await?;
    compute(deps, actor.commune()?, day).await
}

/// The reconciliation itself, for whoever asked (staff, or the nightly run).
pub(crate) async fn compute(deps: &Deps, commune: TenantId, day: NaiveDate) -> Result<Report> {
    let (from, to) = bounds(day);
    let (us_from, us_to) = (from * 1_000_000, to * 1_000_000);
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let account_id = db
        .payment_settings()
        .await?
        .stripe_account
        .ok_or(Error::Refused("refused_online_payment_off"))?;
    let payments = db.payments_succeeded(us_from, us_to).await?;
    let refunds = db.refunds_asked(us_from, us_to).await?;
    tx.commit().await?;
    let stripe = movements(deps, &account_id, Some((from, to)), None).await?;
    let mut lines = vec![];
    let mut paired: std::collections::HashSet<String> = Default::default();
    for m in &stripe {
        let line = match m.kind.as_str() {
            "charge" | "payment" => {
                let found = payments
                    .iter()
                    .find(|(_, c)| c.as_deref() == Some(m.source.as_str()));
                let (p, other_day) = match found {
                    Some((p, _)) => (Some(p.clone()), false),
                    None => {
                        let tx = deps.store.tenant_read(commune).await?;
                        let p = tx.db().payment_by_charge(&m.source).await?;
                        tx.commit().await?;
                        (p.map(|(p, _)| p), true)
                    }
                };
                match p {
                    Some(p) => {
                        paired.insert(p.id.clone());
                        let verdict = if p.total_cents() != m.amount {
                            Verdict::AmountDiffers
                        } else if other_day {
                            Verdict::OkOtherDay
                        } else {
                            Verdict::Ok
                        };
                        let cents = p.total_cents();
                        line("payment", Some((p.id, cents)), m, verdict)
                    }
                    None => line(&m.kind, None, m, Verdict::NotRecordedHere),
                }
            }
            "refund" | "payment_refund" | "refund_failure" => {
                let failure = m.kind == "refund_failure";
                let r = match refunds
                    .iter()
                    .find(|r| r.stripe_refund_id.as_deref() == Some(m.source.as_str()))
                {
                    Some(r) => Some((r.clone(), false)),
                    None => {
                        let tx = deps.store.tenant_read(commune).await?;
                        let r = tx.db().refund_by_stripe(&m.source).await?;
                        tx.commit().await?;
                        r.map(|r| (r, true))
                    }
                };
                match r {
                    // A refund's movement takes the money out; its failure's puts it back.
                    Some((r, other_day)) => {
                        paired.insert(r.id.clone());
                        let cents = if failure {
                            r.amount_cents
                        } else {
                            -r.amount_cents
                        };
                        let verdict = if cents != m.amount || (failure && r.counts()) {
                            Verdict::AmountDiffers
                        } else if other_day {
                            Verdict::OkOtherDay
                        } else {
                            Verdict::Ok
                        };
                        let kind = if failure { "refund_failure" } else { "refund" };
                        line(kind, Some((r.id, cents)), m, verdict)
                    }
                    None => line(&m.kind, None, m, Verdict::NotRecordedHere),
                }
            }
            "adjustment" => line(&m.kind, None, m, Verdict::Adjustment),
            _ => line(&m.kind, None, m, Verdict::Other),
        };
        lines.push(line);
    }
    // What is recorded here and had no movement on the day: on another day, or missing.
    for (p, charge) in &payments {
        if paired.contains(&p.id) {
            continue;
        }
        let elsewhere = match charge {
            Some(c) => movements(deps, &account_id, None, Some(c)).await?,
            None => vec![],
        };
        let verdict = match elsewhere.iter().find(|m| m.kind != "refund") {
            Some(m) if m.amount == p.total_cents() => Verdict::OkOtherDay,
            Some(_) => Verdict::AmountDiffers,
            None => Verdict::MissingAtStripe,
        };
        lines.push(Line {
            kind: "payment".into(),
            ours: Some((p.id.clone(), p.total_cents())),
            stripe: elsewhere.into_iter().next(),
            verdict,
        });
    }
    for r in refunds.iter().filter(|r| r.counts()) {
        if paired.contains(&r.id) {
            continue;
        }
        let elsewhere = match &r.stripe_refund_id {
            Some(s) => movements(deps, &account_id, None, Some(s)).await?,
            None => vec![],
        };
        let verdict = match (&r.stripe_refund_id, elsewhere.first()) {
            (None, _) => Verdict::Unanswered,
            (Some(_), Some(m)) if m.amount == -r.amount_cents => Verdict::OkOtherDay,
            (Some(_), Some(_)) => Verdict::AmountDiffers,
            (Some(_), None) if r.status == "pending" => Verdict::Unanswered,
            (Some(_), None) => Verdict::MissingAtStripe,
        };
        lines.push(Line {
            kind: "refund".into(),
            ours: Some((r.id.clone(), -r.amount_cents)),
            stripe: elsewhere.into_iter().next(),
            verdict,
        });
    }
    Ok(Report {
        day,
        account: account_id,
        lines,
    })
}

fn line(kind: &str, ours: Option<(String, i64)>, m: &Movement, verdict: Verdict) -> Line {
    Line {
        kind: kind.to_owned(),
        ours,
        stripe: Some(m.clone()),
        verdict,
    }
}

#[cfg(test)]
#[path = "tests/reconcile.rs"]
mod tests;
