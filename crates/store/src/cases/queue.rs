//! The back office's queues: an office's cases by state, searched and paginated.

use sea_orm::Value;

use super::{CASE_COLS, Case, case};
use crate::identity::get;
use crate::{Result, TenantDb};

/// Which cases a queue holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Queue {
    /// Submitted, nobody took them in charge yet (oldest first).
    #[default]
    New,
    /// Open cases assigned to the staff member asking (taken in charge or not yet).
    Mine,
    /// Waiting for the citizen.
    Waiting,
    /// Open, not waiting, due within the days given or overdue (soonest first).
    Deadline,
    /// Closed (newest first).
    Closed,
    /// Everything (newest first).
    All,
}

/// The most a counted queue tab says exactly (a count above it reads "1000+").
pub const COUNT_CAP: i64 = 1000;

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub queue: Queue,
    /// The offices the reader may see (`None`: the whole commune).
    pub offices: Option<Vec<String>>,
    /// Only this office.
    pub office: Option<String>,
    pub service: Option<String>,
    /// Exactly this protocol number.
    pub number: Option<(i32, i64)>,
    pub fiscal_code: Option<String>,
    /// Part of the applicant's name, folded for search.
    pub name: Option<String>,
    /// Submitted on or after / before (`YYYY-MM-DD`).
    pub from: Option<String>,
    pub to: Option<String>,
    /// For [`Queue::Mine`].
    pub me: String,
    /// For [`Queue::Deadline`]: due on or before this day.
    pub due_by: String,
    pub offset: u64,
    pub limit: u64,
}

impl QueueFilter {
    fn conditions(&self, vals: &mut Vec<Value>) -> String {
        let mut sql = String::from("tenant_id = $1");
        if let Some(list) = &self.offices {
            if list.is_empty() {
                sql.push_str(" AND 1 = 0");
            } else {
                sql.push_str(" AND office_id IN (");
                for (i, o) in list.iter().enumerate() {
                    vals.push(o.clone().into());
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("${}", vals.len() + 1));
                }
                sql.push(')');
            }
        }
        let mut push = |sql: &mut String, cond: &str, v: Value| {
            vals.push(v);
            sql.push_str(&cond.replace('?', &format!("${}", vals.len() + 1)));
        };
        if let Some(o) = &self.office {
            push(&mut sql, " AND office_id = ?", o.clone().into());
        }
        match self.queue {
            Queue::New => sql.push_str(" AND status = 'submitted'"),
            Queue::Mine => {
                push(&mut sql, " AND assigned_to = ?", self.me.clone().into());
                sql.push_str(" AND status IN ('submitted', 'in_charge', 'waiting')");
            }
            Queue::Waiting => sql.push_str(" AND status = 'waiting'"),
            Queue::Deadline => {
                // A service that answers at once (no legal duration) has no deadline to be near.
                sql.push_str(" AND status IN ('submitted', 'in_charge') AND max_days > 0");
                push(&mut sql, " AND due_on <= ?", self.due_by.clone().into());
            }
            Queue::Closed => sql.push_str(" AND status IN ('accepted', 'rejected', 'withdrawn')"),
            Queue::All => {}
        }
        if let Some(s) = &self.service {
            push(&mut sql, " AND service_id = ?", s.clone().into());
        }
        if let Some((y, n)) = self.number {
            push(&mut sql, " AND year = ?", y.into());
            push(&mut sql, " AND number = ?", n.into());
        }
        if let Some(cf) = &self.fiscal_code {
            push(&mut sql, " AND fiscal_code = ?", cf.clone().into());
        }
        if let Some(n) = &self.name {
            let escaped = n
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            push(
                &mut sql,
                " AND applicant_search LIKE ? ESCAPE '\\'",
                format!("%{escaped}%").into(),
            );
        }
        if let Some(d) = &self.from {
            push(&mut sql, " AND submitted_on >= ?", d.clone().into());
        }
        if let Some(d) = &self.to {
            push(&mut sql, " AND submitted_on <= ?", d.clone().into());
        }
        sql
    }

    fn order(&self) -> &'static str {
        match self.queue {
            Queue::New | Queue::Mine | Queue::Waiting => "submitted_at ASC, id",
            Queue::Deadline => "due_on ASC, submitted_at ASC, id",
            Queue::Closed | Queue::All => "submitted_at DESC, id",
        }
    }
}

impl TenantDb<'_> {
    /// One page of a queue.
    pub async fn queue(&self, f: &QueueFilter) -> Result<Vec<Case>> {
        let mut vals = vec![];
        let cond = f.conditions(&mut vals);
        vals.push((f.limit.min(200) as i64).into());
        vals.push((f.offset as i64).into());
        let n = vals.len();
        self.all(
            &format!(
                "SELECT {CASE_COLS} FROM cases WHERE {cond} ORDER BY {} LIMIT ${} OFFSET ${}",
                f.order(),
                n,
                n + 1
            ),
            vals,
        )
        .await?
        .iter()
        .map(case)
        .collect()
    }

    /// How many cases each state holds under the filter's other conditions (its queue left
    /// aside): one pass over the office's index instead of one per queue.
    pub async fn counts_by_status(&self, f: &QueueFilter) -> Result<Vec<(String, i64)>> {
        let plain = f.service.is_none()
            && f.number.is_none()
            && f.fiscal_code.is_none()
            && f.name.is_none()
            && f.from.is_none()
            && f.to.is_none();
        if plain {
            // No search: the offices' counts, kept in step with every change (no case read).
            let mut vals = vec![];
            let cond = QueueFilter {
                queue: Queue::All,
                offices: f.offices.clone(),
                office: f.office.clone(),
                ..QueueFilter::default()
            }
            .conditions(&mut vals);
            return self
                .all(
                    &format!(
                        "SELECT status, CAST(SUM(n) AS BIGINT) AS n FROM case_counts WHERE {cond} \
                         GROUP BY status"
                    ),
                    vals,
                )
                .await?
                .iter()
                .map(|r| Ok((get(r, "status")?, get(r, "n")?)))
                .collect();
        }
        let mut vals = vec![];
        let cond = QueueFilter {
            queue: Queue::All,
            ..f.clone()
        }
        .conditions(&mut vals);
        self.all(
            &format!("SELECT status, COUNT(*) AS n FROM cases WHERE {cond} GROUP BY status"),
            vals,
        )
        .await?
        .iter()
        .map(|r| Ok((get(r, "status")?, get(r, "n")?)))
        .collect()
    }

    /// How many cases a queue holds (the filter's other conditions apply), counted up to
    /// [`COUNT_CAP`] + 1 (more than the cap: "1000+"): a tab's count never reads a whole office.
    pub async fn queue_count(&self, f: &QueueFilter) -> Result<i64> {
        let mut vals = vec![];
        let cond = f.conditions(&mut vals);
        let row = self
            .one(
                &format!(
                    "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM cases WHERE {cond} LIMIT {}) AS capped",
                    COUNT_CAP + 1
                ),
                vals,
            )
            .await?;
        row.as_ref().map_or(Ok(0), |r| get(r, "n"))
    }
}
