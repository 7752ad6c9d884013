//! Cases (pratiche): the case rows, their protocol numbers and their append-only history.
//!
//! The protocol number is taken by [`TenantDb::register_case`] inside the submission's
//! transaction, as its last write before commit: the counter row of (commune, year) stays
//! locked until the transaction ends, so numbers are given in commit order, and a transaction
//! that rolls back gives its number back (no gap).

pub mod desk;
pub mod forms;
mod queue;
pub mod ratings;
mod register;

pub use queue::{COUNT_CAP, Queue, QueueFilter};
pub use register::{Registered, Registration};

use serde::Serialize;

use crate::identity::get;
use crate::{Result, StoreError, TenantDb};

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    pub id: String,
    pub year: Option<i32>,
    pub number: Option<i64>,
    pub person_id: String,
    pub fiscal_code: Option<String>,
    pub applicant_name: String,
    pub service_id: String,
    pub form_version: i32,
    pub office_id: String,
    pub status: String,
    /// Checked answers, JSON.
    pub answers: String,
    pub level: i32,
    pub idp: String,
    /// The language of the pages the citizen used: their messages speak it.
    pub lang: String,
    pub code_hash: String,
    pub max_days: i32,
    pub submitted_at: i64,
    /// `YYYY-MM-DD`, Rome time.
    pub submitted_on: String,
    pub due_on: String,
    pub paused_days: i32,
    pub paused_since: Option<String>,
    pub taken_at: Option<i64>,
    pub taken_by: Option<String>,
    pub assigned_to: Option<String>,
    pub closed_at: Option<i64>,
    pub last_event: i32,
    pub updated_at: i64,
    /// Filed by staff for the person (a desk, the call centre, an intermediary).
    pub filed: Option<Filed>,
    /// The protocol number as the commune writes it (its format when the number was given).
    pub protocol_text: Option<String>,
}

/// Who filed a case for its person, as what and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Filed {
    /// `staff:<id>`.
    pub by: String,
    pub by_name: String,
    /// `front_desk`, `call_centre` or `intermediary`.
    pub as_: String,
    /// The commune of the desk (another member commune's, for "any desk").
    pub from: i64,
    pub purpose: String,
    pub delegation_id: Option<String>,
}

/// One entry of a case's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub seq: i32,
    pub kind: String,
    /// `citizen:<person>`, `staff:<id>`, `federation:<id>` or `system`.
    pub actor: String,
    pub actor_name: String,
    /// Shown to the citizen (an internal note is not).
    pub public: bool,
    /// JSON: what the entry says (a message, a status, a reason, an office).
    pub body: String,
    pub at: i64,
}

pub(crate) const CASE_COLS: &str = "id, year, number, person_id, fiscal_code, applicant_name, service_id, \
    form_version, office_id, status, answers, level, idp, lang, code_hash, max_days, submitted_at, \
    submitted_on, due_on, paused_days, paused_since, taken_at, taken_by, assigned_to, closed_at, \
    last_event, updated_at, filed_by, filed_by_name, filed_as, filed_from, purpose, delegation_id, \
    protocol_text";

pub(crate) fn case(r: &sea_orm::QueryResult) -> Result<Case> {
    Ok(Case {
        id: get(r, "id")?,
        year: get(r, "year")?,
        number: get(r, "number")?,
        person_id: get(r, "person_id")?,
        fiscal_code: get(r, "fiscal_code")?,
        applicant_name: get(r, "applicant_name")?,
        service_id: get(r, "service_id")?,
        form_version: get(r, "form_version")?,
        office_id: get(r, "office_id")?,
        status: get(r, "status")?,
        answers: get(r, "answers")?,
        level: get(r, "level")?,
        idp: get(r, "idp")?,
        lang: get(r, "lang")?,
        code_hash: get(r, "code_hash")?,
        max_days: get(r, "max_days")?,
        submitted_at: get(r, "submitted_at")?,
        submitted_on: get(r, "submitted_on")?,
        due_on: get(r, "due_on")?,
        paused_days: get(r, "paused_days")?,
        paused_since: get(r, "paused_since")?,
        taken_at: get(r, "taken_at")?,
        taken_by: get(r, "taken_by")?,
        assigned_to: get(r, "assigned_to")?,
        closed_at: get(r, "closed_at")?,
        last_event: get(r, "last_event")?,
        updated_at: get(r, "updated_at")?,
        filed: match get::<Option<String>>(r, "filed_by")? {
            None => None,
            Some(by) => Some(Filed {
                by,
                by_name: get::<Option<String>>(r, "filed_by_name")?.unwrap_or_default(),
                as_: get::<Option<String>>(r, "filed_as")?.unwrap_or_default(),
                from: get::<Option<i64>>(r, "filed_from")?.unwrap_or_default(),
                purpose: get::<Option<String>>(r, "purpose")?.unwrap_or_default(),
                delegation_id: get(r, "delegation_id")?,
            }),
        },
        protocol_text: get(r, "protocol_text")?,
    })
}

fn event(r: &sea_orm::QueryResult) -> Result<Event> {
    Ok(Event {
        seq: get(r, "seq")?,
        kind: get(r, "kind")?,
        actor: get(r, "actor")?,
        actor_name: get(r, "actor_name")?,
        public: get(r, "public")?,
        body: get(r, "body")?,
        at: get(r, "at")?,
    })
}

/// What changes when a case moves on: its state and the columns that follow it.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub status: Option<String>,
    pub office_id: Option<String>,
    pub due_on: Option<String>,
    pub paused_days: Option<i32>,
    /// `Some(None)`: the pause ended.
    pub paused_since: Option<Option<String>>,
    pub taken: Option<(i64, String)>,
    pub assigned_to: Option<Option<String>>,
    pub closed_at: Option<i64>,
    /// The history number the change was decided on: another change in between refuses it.
    pub expect_last: Option<i32>,
}

impl TenantDb<'_> {
    /// Writes a new case without its number (see [`TenantDb::register_case`]).
    pub async fn insert_case(&self, c: &Case, idempotency_key: &str, search: &str) -> Result<()> {
        self.exec(
            "INSERT INTO cases (tenant_id, id, year, number, idempotency_key, person_id, fiscal_code, \
             applicant_name, applicant_search, service_id, form_version, office_id, status, answers, level, idp, \
             lang, code_hash, max_days, submitted_at, submitted_on, due_on, paused_days, paused_since, taken_at, \
             taken_by, assigned_to, closed_at, last_event, updated_at, filed_by, filed_by_name, filed_as, \
             filed_from, purpose, delegation_id) VALUES ($1, $2, NULL, NULL, $3, $4, \
             $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 0, NULL, NULL, NULL, \
             NULL, NULL, 0, $18, $21, $22, $23, $24, $25, $26)",
            vec![
                c.id.clone().into(),
                idempotency_key.into(),
                c.person_id.clone().into(),
                c.fiscal_code.clone().into(),
                c.applicant_name.clone().into(),
                search.into(),
                c.service_id.clone().into(),
                c.form_version.into(),
                c.office_id.clone().into(),
                c.status.clone().into(),
                c.answers.clone().into(),
                c.level.into(),
                c.idp.clone().into(),
                c.lang.clone().into(),
                c.code_hash.clone().into(),
                c.max_days.into(),
                c.submitted_at.into(),
                c.submitted_on.clone().into(),
                c.due_on.clone().into(),
                c.filed.as_ref().map(|f| f.by.clone()).into(),
                c.filed.as_ref().map(|f| f.by_name.clone()).into(),
                c.filed.as_ref().map(|f| f.as_.clone()).into(),
                c.filed.as_ref().map(|f| f.from).into(),
                c.filed.as_ref().map(|f| f.purpose.clone()).into(),
                c.filed.as_ref().and_then(|f| f.delegation_id.clone()).into(),
            ],
        )
        .await?;
        // The name's words, for the offices' search.
        let mut words: Vec<&str> = search.split(' ').filter(|w| !w.is_empty()).collect();
        words.sort_unstable();
        words.dedup();
        if !words.is_empty() {
            let mut sql = String::from("INSERT INTO case_names (tenant_id, word, case_id) VALUES ");
            let mut vals: Vec<sea_orm::Value> = vec![c.id.clone().into()];
            for (i, w) in words.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                vals.push((*w).into());
                sql.push_str(&format!("($1, ${}, $2)", vals.len() + 1));
            }
            self.exec(&sql, vals).await?;
        }
        Ok(())
    }

    pub async fn case(&self, id: &str) -> Result<Option<Case>> {
        self.one(
            &format!("SELECT {CASE_COLS} FROM cases WHERE tenant_id = $1 AND id = $2"),
            vec![id.into()],
        )
        .await?
        .as_ref()
        .map(case)
        .transpose()
    }

    /// The case a submission with this key made, if any (a repeated submission finds it).
    pub async fn case_by_key(&self, key: &str) -> Result<Option<Case>> {
        self.one(
            &format!("SELECT {CASE_COLS} FROM cases WHERE tenant_id = $1 AND idempotency_key = $2"),
            vec![key.into()],
        )
        .await?
        .as_ref()
        .map(case)
        .transpose()
    }

    /// The case whose number was written so (the key of [`sportello_domain::ProtocolFormat`]):
    /// a receipt printed before the commune changed its format still finds its case.
    pub async fn case_by_protocol_key(&self, key: &str) -> Result<Option<Case>> {
        self.one(
            &format!("SELECT {CASE_COLS} FROM cases WHERE tenant_id = $1 AND protocol_key = $2"),
            vec![key.into()],
        )
        .await?
        .as_ref()
        .map(case)
        .transpose()
    }

    pub async fn case_by_number(&self, year: i32, number: i64) -> Result<Option<Case>> {
        self.one(
            &format!(
                "SELECT {CASE_COLS} FROM cases WHERE tenant_id = $1 AND year = $2 AND number = $3"
            ),
            vec![year.into(), number.into()],
        )
        .await?
        .as_ref()
        .map(case)
        .transpose()
    }

    /// A person's cases in this commune, newest first (at most `limit`).
    pub async fn cases_of(&self, person_id: &str, limit: u64) -> Result<Vec<Case>> {
        self.all(
            &format!(
                "SELECT {CASE_COLS} FROM cases WHERE tenant_id = $1 AND person_id = $2 \
                 ORDER BY submitted_at DESC LIMIT $3"
            ),
            vec![person_id.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(case)
        .collect()
    }

    /// Adds `delta` to the count of `office`'s cases in `status`.
    pub(crate) async fn bump_case_count(
        &self,
        office: &str,
        status: &str,
        delta: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO case_counts (tenant_id, office_id, status, n) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, office_id, status) DO UPDATE SET n = case_counts.n + excluded.n",
            vec![office.into(), status.into(), delta.into()],
        )
        .await?;
        Ok(())
    }

    /// The cases `filed_by` (staff) filed for people, newest first (at most `limit`).
    pub async fn cases_filed_by(&self, filed_by: &str, limit: u64) -> Result<Vec<Case>> {
        self.all(
            &format!(
                "SELECT {CASE_COLS} FROM cases WHERE tenant_id = $1 AND filed_by = $2 \
                 ORDER BY submitted_at DESC LIMIT $3"
            ),
            vec![filed_by.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(case)
        .collect()
    }

    /// Appends an entry to a case's history, numbered after the last one; the case row
    /// remembers that number (and moves as the change says). With `expect_last`, a change made
    /// in between (another clerk, the citizen) makes this one fail with [`StoreError::Conflict`].
    pub async fn append_event(&self, case_id: &str, e: &Event, change: &Change) -> Result<i32> {
        // The state and office before, where the change moves them (the row locked on
        // PostgreSQL; SQLite has one writer): the offices' counts follow.
        let moves = change.status.is_some() || change.office_id.is_some();
        let before: Option<(String, String)> = if moves {
            let lock = if self.is_postgres() {
                " FOR UPDATE"
            } else {
                ""
            };
            self.one(
                &format!(
                    "SELECT office_id, status FROM cases WHERE tenant_id = $1 AND id = $2{lock}"
                ),
                vec![case_id.into()],
            )
            .await?
            .map(|r| -> Result<(String, String)> {
                Ok((get(&r, "office_id")?, get(&r, "status")?))
            })
            .transpose()?
        } else {
            None
        };
        let row = self
            .one(
                "UPDATE cases SET last_event = last_event + 1, updated_at = $3, \
                 status = COALESCE($4, status), office_id = COALESCE($5, office_id), \
                 due_on = COALESCE($6, due_on), paused_days = COALESCE($7, paused_days), \
                 paused_since = CASE WHEN $8 THEN $9 ELSE paused_since END, \
                 taken_at = COALESCE($10, taken_at), taken_by = COALESCE($11, taken_by), \
                 assigned_to = CASE WHEN $12 THEN $13 ELSE assigned_to END, \
                 closed_at = COALESCE($14, closed_at) \
                 WHERE tenant_id = $1 AND id = $2 AND ($15 IS NULL OR last_event = $15) \
                 RETURNING last_event, office_id, status, number",
                vec![
                    case_id.into(),
                    e.at.into(),
                    change.status.clone().into(),
                    change.office_id.clone().into(),
                    change.due_on.clone().into(),
                    change.paused_days.into(),
                    change.paused_since.is_some().into(),
                    change.paused_since.clone().flatten().into(),
                    change.taken.as_ref().map(|t| t.0).into(),
                    change.taken.as_ref().map(|t| t.1.clone()).into(),
                    change.assigned_to.is_some().into(),
                    change.assigned_to.clone().flatten().into(),
                    change.closed_at.into(),
                    change.expect_last.into(),
                ],
            )
            .await?
            .ok_or(StoreError::Conflict)?;
        let seq: i32 = get(&row, "last_event")?;
        let after: (String, String) = (get(&row, "office_id")?, get(&row, "status")?);
        let numbered = get::<Option<i64>>(&row, "number")?.is_some();
        if let Some(before) = before.filter(|b| numbered && *b != after) {
            // Always in the same order (office, then state): two acts never wait on each other.
            let mut moves = [(before, -1), (after, 1)];
            moves.sort();
            for ((office, status), delta) in moves {
                self.bump_case_count(&office, &status, delta).await?;
            }
        }
        self.exec(
            "INSERT INTO case_events (tenant_id, case_id, seq, kind, actor, actor_name, public, body, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                case_id.into(),
                seq.into(),
                e.kind.clone().into(),
                e.actor.clone().into(),
                e.actor_name.clone().into(),
                e.public.into(),
                e.body.clone().into(),
                e.at.into(),
            ],
        )
        .await?;
        Ok(seq)
    }

    /// A case's history in order (`public_only`: what the citizen sees).
    pub async fn events(&self, case_id: &str, public_only: bool) -> Result<Vec<Event>> {
        self.all(
            "SELECT seq, kind, actor, actor_name, public, body, at FROM case_events \
             WHERE tenant_id = $1 AND case_id = $2 AND (public OR NOT $3) ORDER BY seq",
            vec![case_id.into(), public_only.into()],
        )
        .await?
        .iter()
        .map(event)
        .collect()
    }
}
