//! Payment notices: written one by one or an import at a time, read by the citizen (by fiscal
//! code) and by the commune's console.

use sea_orm::Value;
use serde::Serialize;

use crate::identity::get;
use crate::{Result, TenantDb};

/// A notice's state. A notice is paid once and never moves back; only an open one is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NoticeStatus {
    Open,
    Paid,
    Cancelled,
}

impl NoticeStatus {
    pub fn key(self) -> &'static str {
        match self {
            NoticeStatus::Open => "open",
            NoticeStatus::Paid => "paid",
            NoticeStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<NoticeStatus> {
        match s {
            "open" => Some(NoticeStatus::Open),
            "paid" => Some(NoticeStatus::Paid),
            "cancelled" => Some(NoticeStatus::Cancelled),
            _ => None,
        }
    }
}

/// A notice to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotice {
    pub notice_number: String,
    pub reference: String,
    pub fiscal_code: String,
    pub payer_name: String,
    pub kind: String,
    pub reason: String,
    pub amount_cents: i64,
    /// `YYYY-MM-DD`.
    pub due_on: String,
    pub reduced_cents: Option<i64>,
    pub reduced_until: Option<String>,
    pub created_at: i64,
    /// `staff:<id>`.
    pub created_by: String,
    pub import_id: Option<String>,
}

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    pub notice_number: String,
    pub reference: String,
    pub fiscal_code: String,
    pub payer_name: String,
    pub kind: String,
    pub reason: String,
    pub amount_cents: i64,
    pub due_on: String,
    pub reduced_cents: Option<i64>,
    pub reduced_until: Option<String>,
    pub status: NoticeStatus,
    pub created_at: i64,
    pub created_by: String,
    pub import_id: Option<String>,
    pub paid_at: Option<i64>,
    pub paid_cents: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub cancel_reason: Option<String>,
}

const COLUMNS: &str = "notice_number, reference, fiscal_code, payer_name, kind, reason, amount_cents, due_on, \
    reduced_cents, reduced_until, status, created_at, created_by, import_id, paid_at, paid_cents, cancelled_at, cancel_reason";

fn notice(r: &sea_orm::QueryResult) -> Result<Notice> {
    let status: String = get(r, "status")?;
    Ok(Notice {
        notice_number: get(r, "notice_number")?,
        reference: get(r, "reference")?,
        fiscal_code: get(r, "fiscal_code")?,
        payer_name: get(r, "payer_name")?,
        kind: get(r, "kind")?,
        reason: get(r, "reason")?,
        amount_cents: get(r, "amount_cents")?,
        due_on: get(r, "due_on")?,
        reduced_cents: get(r, "reduced_cents")?,
        reduced_until: get(r, "reduced_until")?,
        status: NoticeStatus::parse(&status)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("notice status {status:?}")))?,
        created_at: get(r, "created_at")?,
        created_by: get(r, "created_by")?,
        import_id: get(r, "import_id")?,
        paid_at: get(r, "paid_at")?,
        paid_cents: get(r, "paid_cents")?,
        cancelled_at: get(r, "cancelled_at")?,
        cancel_reason: get(r, "cancel_reason")?,
    })
}

/// Rows per INSERT: 13 values each, well under SQLite's 32,766 variables.
const BATCH: usize = 500;

/// What the console's list shows.
#[derive(Debug, Clone, Default)]
pub struct NoticeFilter {
    pub status: Option<NoticeStatus>,
    pub kind: Option<String>,
    /// A fiscal code, a reference or a notice number, exactly.
    pub exact: Option<String>,
}

impl TenantDb<'_> {
    /// Writes new notices, many rows per statement; gives how many were written. A reference
    /// or number already there is skipped (the caller checked first; a concurrent import of
    /// the same file writes each reference once).
    pub async fn insert_notices(&self, notices: &[NewNotice]) -> Result<u64> {
        let mut written = 0;
        for chunk in notices.chunks(BATCH) {
            let mut sql = String::from(
                "INSERT INTO payment_notices (tenant_id, notice_number, reference, fiscal_code, payer_name, kind, reason, \
                 amount_cents, due_on, reduced_cents, reduced_until, created_at, created_by, import_id) VALUES ",
            );
            let mut vals: Vec<Value> = Vec::with_capacity(chunk.len() * 13);
            for (i, n) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let b = 2 + i * 13;
                sql.push_str("($1");
                for k in 0..13 {
                    sql.push_str(&format!(", ${}", b + k));
                }
                sql.push(')');
                vals.extend([
                    n.notice_number.clone().into(),
                    n.reference.clone().into(),
                    n.fiscal_code.clone().into(),
                    n.payer_name.clone().into(),
                    n.kind.clone().into(),
                    n.reason.clone().into(),
                    n.amount_cents.into(),
                    n.due_on.clone().into(),
                    n.reduced_cents.into(),
                    n.reduced_until.clone().into(),
                    n.created_at.into(),
                    n.created_by.clone().into(),
                    n.import_id.clone().into(),
                ]);
            }
            sql.push_str(" ON CONFLICT DO NOTHING");
            written += self.exec(&sql, vals).await?;
        }
        Ok(written)
    }

    pub async fn notice(&self, number: &str) -> Result<Option<Notice>> {
        self.one(
            &format!(
                "SELECT {COLUMNS} FROM payment_notices WHERE tenant_id = $1 AND notice_number = $2"
            ),
            vec![number.into()],
        )
        .await?
        .map(|r| notice(&r))
        .transpose()
    }

    /// The notices already written under some of `references`.
    pub async fn notices_by_reference(&self, references: &[String]) -> Result<Vec<Notice>> {
        let mut out = vec![];
        for chunk in references.chunks(BATCH) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let rows = self
                .all(
                    &format!(
                        "SELECT {COLUMNS} FROM payment_notices WHERE tenant_id = $1 AND reference IN ({})",
                        marks.join(", ")
                    ),
                    chunk.iter().map(|r| r.clone().into()).collect(),
                )
                .await?;
            for r in rows {
                out.push(notice(&r)?);
            }
        }
        Ok(out)
    }

    /// A payer's notices, soonest due first: open ones, and paid or cancelled ones of the last
    /// `since` day (`YYYY-MM-DD`) on.
    pub async fn notices_of(
        &self,
        fiscal_code: &str,
        since: &str,
        limit: u64,
    ) -> Result<Vec<Notice>> {
        self.all(
            &format!(
                "SELECT {COLUMNS} FROM payment_notices WHERE tenant_id = $1 AND fiscal_code = $2 \
                 AND (status = 'open' OR due_on >= $3) ORDER BY due_on, notice_number LIMIT $4"
            ),
            vec![fiscal_code.into(), since.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(notice)
        .collect()
    }

    /// The console's list, newest first, a page at a time (`before`: the last row of the
    /// previous page, as (created_at, notice_number)).
    pub async fn notices(
        &self,
        f: &NoticeFilter,
        before: Option<(i64, String)>,
        limit: u64,
    ) -> Result<Vec<Notice>> {
        let mut sql = format!("SELECT {COLUMNS} FROM payment_notices WHERE tenant_id = $1");
        let mut vals: Vec<Value> = vec![];
        let mut bind = |sql: &mut String, cond: &str, v: Value| {
            vals.push(v);
            sql.push_str(&cond.replace('?', &format!("${}", vals.len() + 1)));
        };
        if let Some(s) = f.status {
            bind(&mut sql, " AND status = ?", s.key().into());
        }
        if let Some(k) = &f.kind {
            bind(&mut sql, " AND kind = ?", k.clone().into());
        }
        if let Some(x) = &f.exact {
            // A fiscal code is stored in capitals; a reference as the commune wrote it.
            let n = vals.len() + 2;
            vals.push(x.to_uppercase().into());
            vals.push(x.clone().into());
            sql.push_str(&format!(
                " AND (fiscal_code = ${n} OR reference = ${} OR notice_number = ${})",
                n + 1,
                n + 1
            ));
        }
        if let Some((at, number)) = before {
            let n = vals.len() + 2;
            vals.push(at.into());
            vals.push(number.into());
            sql.push_str(&format!(
                " AND (created_at < ${n} OR (created_at = ${n} AND notice_number < ${}))",
                n + 1
            ));
        }
        vals.push((limit as i64).into());
        sql.push_str(&format!(
            " ORDER BY created_at DESC, notice_number DESC LIMIT ${}",
            vals.len() + 1
        ));
        self.all(&sql, vals).await?.iter().map(notice).collect()
    }

    /// Cancels an open notice; gives false if it was not open (paid, cancelled, or none).
    pub async fn cancel_notice(&self, number: &str, reason: &str, at: i64) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE payment_notices SET status = 'cancelled', cancelled_at = $3, cancel_reason = $4 \
                 WHERE tenant_id = $1 AND notice_number = $2 AND status = 'open' AND open_payment IS NULL",
                vec![number.into(), at.into(), reason.into()],
            )
            .await?
            == 1)
    }
}
