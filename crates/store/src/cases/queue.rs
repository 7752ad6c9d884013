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

/// A case's states.
const STATES: [&str; 6] = [
    "submitted",
    "in_charge",
    "waiting",
    "accepted",
    "rejected",
    "withdrawn",
];

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
    /// Beginnings of the words of the applicant's name, folded for search.
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
    /// Finds nothing (a search with nothing to look for).
    pub nothing: bool,
}

impl QueueFilter {
    fn conditions(&self, vals: &mut Vec<Value>) -> String {
        let mut sql = String::from("tenant_id = $1");
        if self.nothing {
            sql.push_str(" AND 1 = 0");
        }
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
            // Every word typed begins a word of the name. The first word (the rarest, once
            // [`TenantDb::order_search_words`] ordered them) is a range of `case_names`; the
            // others are checked on those cases' folded names (words one space apart).
            let mut words = name_words(n);
            if let Some(first) = words.next() {
                push(
                    &mut sql,
                    " AND id IN (SELECT case_id FROM case_names WHERE tenant_id = $1 AND word >= ?",
                    first.to_owned().into(),
                );
                match word_bound(first) {
                    Some(b) => push(&mut sql, " AND word < ?)", b.into()),
                    None => sql.push(')'),
                }
            }
            for w in words {
                push(
                    &mut sql,
                    " AND (' ' || applicant_search) LIKE ? ESCAPE '\\'",
                    format!("% {}%", like_escaped(w)).into(),
                );
            }
        }
        if let Some(d) = &self.from {
            push(&mut sql, " AND submitted_on >= ?", d.clone().into());
        }
        if let Some(d) = &self.to {
            push(&mut sql, " AND submitted_on <= ?", d.clone().into());
        }
        sql
    }

    /// No search: only the queue and the offices.
    fn is_plain(&self) -> bool {
        !self.nothing
            && self.service.is_none()
            && self.number.is_none()
            && self.fiscal_code.is_none()
            && self.name.is_none()
            && self.from.is_none()
            && self.to.is_none()
    }

    fn order(&self) -> &'static str {
        match self.queue {
            Queue::New | Queue::Mine | Queue::Waiting => "submitted_at ASC, id",
            Queue::Deadline => "due_on ASC, submitted_at ASC, id",
            Queue::Closed | Queue::All => "submitted_at DESC, id DESC",
        }
    }
}

/// The words of a folded name (letters and digits, one space apart) a search uses: at most five,
/// and only words of `0-9a-z` (what folding writes; anything else is not a folded word).
pub(crate) fn name_words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(' ')
        .filter(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        })
        .take(5)
}

fn like_escaped(w: &str) -> String {
    w.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The first string after every word that begins with `w` (words are of `0-9a-z`, which sort
/// the same in every collation): `ros` → `rot`, `az` → `b`, `9` → `a`; none after `zz`.
fn word_bound(w: &str) -> Option<String> {
    let kept = w.trim_end_matches('z');
    let (i, last) = kept.char_indices().last()?;
    let next = match last {
        '9' => 'a',
        c if c.is_ascii_digit() || c.is_ascii_lowercase() => char::from_u32(u32::from(c) + 1)?,
        _ => return None,
    };
    Some(format!("{}{next}", &kept[..i]))
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

    /// Puts the rarest of the searched words first (each counted in `case_names` up to
    /// [`COUNT_CAP`] + 1): the search starts from the fewest cases.
    pub async fn order_search_words(&self, f: &mut QueueFilter) -> Result<()> {
        let Some(n) = &f.name else {
            return Ok(());
        };
        let mut counted = vec![];
        for w in name_words(n) {
            let mut vals: Vec<Value> = vec![w.to_owned().into()];
            let mut sql = String::from("tenant_id = $1 AND word >= $2");
            if let Some(b) = word_bound(w) {
                vals.push(b.into());
                sql.push_str(" AND word < $3");
            }
            let row = self
                .one(
                    &format!(
                        "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM case_names WHERE {sql} LIMIT {}) AS capped",
                        COUNT_CAP + 1
                    ),
                    vals,
                )
                .await?;
            let k: i64 = row.as_ref().map_or(Ok(0), |r| get(r, "n"))?;
            counted.push((k, w.to_owned()));
        }
        counted.sort_by_key(|(k, _)| *k);
        f.name = Some(
            counted
                .into_iter()
                .map(|(_, w)| w)
                .collect::<Vec<_>>()
                .join(" "),
        );
        Ok(())
    }

    /// How many cases each state holds under the filter's other conditions (its queue left
    /// aside): one pass over the office's index instead of one per queue.
    pub async fn counts_by_status(&self, f: &QueueFilter) -> Result<Vec<(String, i64)>> {
        if f.is_plain() {
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
        // A search: each state counted up to the cap (a common word never counts a whole
        // office; more than the cap reads "1000+", and so does any sum holding one).
        let mut vals = vec![];
        let cond = QueueFilter {
            queue: Queue::All,
            ..f.clone()
        }
        .conditions(&mut vals);
        let each: Vec<String> = STATES
            .iter()
            .map(|s| {
                format!(
                    "SELECT '{s}' AS status, COUNT(*) AS n FROM (SELECT 1 AS one FROM cases \
                     WHERE {cond} AND status = '{s}' LIMIT {}) AS capped_{s}",
                    COUNT_CAP + 1
                )
            })
            .collect();
        self.all(&each.join(" UNION ALL "), vals)
            .await?
            .iter()
            .map(|r| Ok((get(r, "status")?, get(r, "n")?)))
            .filter(|r| !matches!(r, Ok((_, 0))))
            .collect()
    }

    /// How many cases a queue holds (the filter's other conditions apply), counted up to
    /// [`COUNT_CAP`] + 1 (more than the cap: "1000+"): a tab's count never reads a whole office.
    /// Without a search, for one office, counted in the queue's order, so the database reads the
    /// queue's index as the page does (a bare count may choose to scan the table, stopping
    /// wherever it finds enough); with one, from where the search's conditions lead.
    pub async fn queue_count(&self, f: &QueueFilter) -> Result<i64> {
        let mut vals = vec![];
        let cond = f.conditions(&mut vals);
        // One office (or the whole commune): its index is in the queue's order. Several: a
        // sort of all of theirs would come first, so the database chooses.
        let one_index = f.office.is_some() || f.offices.as_ref().is_none_or(|list| list.len() == 1);
        let order = if f.is_plain() && one_index {
            format!(" ORDER BY {}", f.order())
        } else {
            String::new()
        };
        let row = self
            .one(
                &format!(
                    "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM cases WHERE {cond}{order} LIMIT {}) AS capped",
                    COUNT_CAP + 1
                ),
                vals,
            )
            .await?;
        row.as_ref().map_or(Ok(0), |r| get(r, "n"))
    }
}

#[cfg(test)]
#[path = "../tests/cases_queue.rs"]
mod tests;
