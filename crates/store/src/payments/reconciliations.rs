//! The nightly reconciliation: each commune's record of the days compared, and the federation's
//! claims on per-commune nightly jobs (see migration m0022).

use sea_orm::ConnectionTrait;
use serde::Serialize;

use crate::identity::get;
use crate::raw::stmt;
use crate::{FederationDb, Result, TenantDb};

/// One day compared, as the commune's console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    /// The Italian day, `YYYY-MM-DD`.
    pub day: String,
    /// `done`, `failed` (Stripe could not be read; tried again later) or `gave_up`.
    pub state: String,
    pub ran_at: i64,
    pub lines: i32,
    pub flagged: i32,
    pub ours_cents: i64,
    pub stripe_gross_cents: i64,
    pub stripe_fee_cents: i64,
    pub stripe_net_cents: i64,
    pub error: Option<String>,
}

const COLUMNS: &str = "day, state, ran_at, lines, flagged, ours_cents, stripe_gross_cents, \
                       stripe_fee_cents, stripe_net_cents, error";

fn reconciliation(r: &sea_orm::QueryResult) -> Result<Reconciliation> {
    Ok(Reconciliation {
        day: get(r, "day")?,
        state: get(r, "state")?,
        ran_at: get(r, "ran_at")?,
        lines: get(r, "lines")?,
        flagged: get(r, "flagged")?,
        ours_cents: get(r, "ours_cents")?,
        stripe_gross_cents: get(r, "stripe_gross_cents")?,
        stripe_fee_cents: get(r, "stripe_fee_cents")?,
        stripe_net_cents: get(r, "stripe_net_cents")?,
        error: get(r, "error")?,
    })
}

impl TenantDb<'_> {
    /// Records a day's comparison (again, if it was tried before).
    pub async fn record_reconciliation(&self, r: &Reconciliation) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO reconciliations (tenant_id, {COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (tenant_id, day) DO UPDATE SET state = excluded.state, \
                 ran_at = excluded.ran_at, lines = excluded.lines, flagged = excluded.flagged, \
                 ours_cents = excluded.ours_cents, stripe_gross_cents = excluded.stripe_gross_cents, \
                 stripe_fee_cents = excluded.stripe_fee_cents, \
                 stripe_net_cents = excluded.stripe_net_cents, error = excluded.error"
            ),
            vec![
                r.day.clone().into(),
                r.state.clone().into(),
                r.ran_at.into(),
                r.lines.into(),
                r.flagged.into(),
                r.ours_cents.into(),
                r.stripe_gross_cents.into(),
                r.stripe_fee_cents.into(),
                r.stripe_net_cents.into(),
                r.error.clone().into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The latest days compared, newest first.
    pub async fn reconciliations(&self, limit: u64) -> Result<Vec<Reconciliation>> {
        self.all(
            &format!(
                "SELECT {COLUMNS} FROM reconciliations WHERE tenant_id = $1 ORDER BY day DESC LIMIT $2"
            ),
            vec![(limit as i64).into()],
        )
        .await?
        .iter()
        .map(reconciliation)
        .collect()
    }
}

impl FederationDb<'_> {
    /// The communes with a connected account whose `job` for `day` is still to run: never
    /// claimed, or failed or left running (a node died) before `retry_before`, fewer than
    /// `max_attempts` times (neither done nor given up).
    pub async fn jobs_due(
        &self,
        job: &str,
        day: &str,
        retry_before: i64,
        max_attempts: i32,
    ) -> Result<Vec<i64>> {
        let c = self.conn();
        c.query_all_raw(stmt(
            c.get_database_backend(),
            "SELECT s.commune_id FROM stripe_accounts s WHERE NOT EXISTS (SELECT 1 FROM commune_jobs j \
             WHERE j.job = $1 AND j.commune_id = s.commune_id AND j.day = $2 AND \
             (j.state IN ('done', 'gave_up') OR j.started_at >= $3 OR j.attempts >= $4)) \
             ORDER BY s.commune_id",
            vec![job.into(), day.into(), retry_before.into(), max_attempts.into()],
        ))
        .await?
        .iter()
        .map(|r| get(r, "commune_id"))
        .collect()
    }

    /// Claims a commune's `job` for `day` for this node: its attempt's number if it is this
    /// node's to run, none if another node has it (or it is over). Each step is one conditional
    /// write, so of two nodes asking at once one gets it.
    pub async fn claim_job(
        &self,
        job: &str,
        commune: i64,
        day: &str,
        now: i64,
        retry_before: i64,
        max_attempts: i32,
    ) -> Result<Option<i32>> {
        let c = self.conn();
        let b = c.get_database_backend();
        let fresh = c
            .execute_raw(stmt(
                b,
                "INSERT INTO commune_jobs (job, commune_id, day, state, started_at, attempts) \
                 VALUES ($1, $2, $3, 'running', $4, 1) ON CONFLICT (job, commune_id, day) DO NOTHING",
                vec![job.into(), commune.into(), day.into(), now.into()],
            ))
            .await?
            .rows_affected();
        if fresh == 1 {
            return Ok(Some(1));
        }
        c.query_one_raw(stmt(
            b,
            "UPDATE commune_jobs SET state = 'running', started_at = $4, attempts = attempts + 1 \
             WHERE job = $1 AND commune_id = $2 AND day = $3 AND state NOT IN ('done', 'gave_up') \
             AND started_at < $5 AND attempts < $6 RETURNING attempts",
            vec![
                job.into(),
                commune.into(),
                day.into(),
                now.into(),
                retry_before.into(),
                max_attempts.into(),
            ],
        ))
        .await?
        .map(|r| get(&r, "attempts"))
        .transpose()
    }

    /// Ends this node's claim (the one it made at `claimed_at`; a claim another node has taken
    /// over since is left alone): `done`, `failed` (to be tried again) or `gave_up`.
    pub async fn end_job(
        &self,
        job: &str,
        commune: i64,
        day: &str,
        claimed_at: i64,
        state: &str,
    ) -> Result<bool> {
        let c = self.conn();
        Ok(c.execute_raw(stmt(
            c.get_database_backend(),
            "UPDATE commune_jobs SET state = $5 WHERE job = $1 AND commune_id = $2 AND day = $3 \
                 AND started_at = $4 AND state = 'running'",
            vec![
                job.into(),
                commune.into(),
                day.into(),
                claimed_at.into(),
                state.into(),
            ],
        ))
        .await?
        .rows_affected()
            == 1)
    }
}
