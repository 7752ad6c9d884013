//! The outbox's rows: messages written with the event that causes them (a commune's own
//! [`TenantDb`], or tenant 0 for the federation's messages), claimed and settled by the delivery
//! workers through [`DeliveryDb`] — the one door that reads messages across communes.

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, QueryResult};
use sea_orm::{Statement, Value};
use serde::Serialize;
use sportello_domain::TenantId;

use crate::identity::get;
use crate::{Result, TenantDb};

/// The life of a message, in the words of GOV.UK Notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Written with its event, waiting for a worker.
    Created,
    /// A worker holds it (until its lease runs out), or the provider took it and its delivery
    /// report has not come yet.
    Sending,
    Delivered,
    /// The provider could not take it now: it is tried again later.
    TemporaryFailure,
    /// It will not be delivered (bad address, unknown number, too many tries).
    PermanentFailure,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Created,
        Status::Sending,
        Status::Delivered,
        Status::TemporaryFailure,
        Status::PermanentFailure,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Sending => "sending",
            Status::Delivered => "delivered",
            Status::TemporaryFailure => "temporary_failure",
            Status::PermanentFailure => "permanent_failure",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.key() == s)
    }
}

/// A message to write into the outbox.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Also the idempotency key the provider receives.
    pub id: String,
    pub channel: String,
    pub template: String,
    pub recipient: String,
    pub person_id: Option<String>,
    /// Shown to staff and to the person (never a secret).
    pub subject: String,
    /// The rendered message, sealed.
    pub payload: String,
    /// The payload holds a link or a code: never shown again, dropped once settled.
    pub secret: bool,
    /// Not handed to a worker before this time (a long list spread over time); none: at once.
    pub not_before: Option<i64>,
}

/// A message as the consoles and the personal area list it (no payload).
#[derive(Debug, Clone, Serialize)]
pub struct MessageRow {
    pub tenant: i64,
    pub id: String,
    pub channel: String,
    pub template: String,
    pub recipient: String,
    pub person_id: Option<String>,
    pub subject: String,
    pub secret: bool,
    pub status: Status,
    pub attempts: i32,
    pub provider_id: Option<String>,
    pub reason: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub done_at: Option<i64>,
}

const COLUMNS: &str = "tenant_id, id, channel, template, recipient, person_id, subject, secret, \
                       status, attempts, provider_id, reason, created_at, sent_at, done_at";

/// A stored status, or the row is corrupt.
fn status_of(s: &str) -> Result<Status> {
    Status::parse(s).ok_or_else(|| crate::StoreError::Corrupt(format!("message status {s:?}")))
}

fn row(r: &QueryResult) -> Result<MessageRow> {
    let status: String = get(r, "status")?;
    Ok(MessageRow {
        tenant: get(r, "tenant_id")?,
        id: get(r, "id")?,
        channel: get(r, "channel")?,
        template: get(r, "template")?,
        recipient: get(r, "recipient")?,
        person_id: get(r, "person_id")?,
        subject: get(r, "subject")?,
        secret: get(r, "secret")?,
        status: status_of(&status)?,
        attempts: get(r, "attempts")?,
        provider_id: get(r, "provider_id")?,
        reason: get(r, "reason")?,
        created_at: get(r, "created_at")?,
        sent_at: get(r, "sent_at")?,
        done_at: get(r, "done_at")?,
    })
}

/// What the consoles filter the list by.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub channel: Option<String>,
    pub status: Option<Status>,
    pub person_id: Option<String>,
    pub limit: u64,
}

impl TenantDb<'_> {
    /// Writes a message in this transaction: it exists if and only if the event commits.
    pub async fn enqueue_message(&self, m: &NewMessage, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO messages (tenant_id, id, channel, template, recipient, person_id, \
             subject, payload, secret, status, attempts, next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'created', 0, $11, $10, $10)",
            vec![
                m.id.clone().into(),
                m.channel.clone().into(),
                m.template.clone().into(),
                m.recipient.clone().into(),
                m.person_id.clone().into(),
                m.subject.clone().into(),
                m.payload.clone().into(),
                m.secret.into(),
                now.into(),
                m.not_before.unwrap_or(now).max(now).into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// This commune's messages, newest first.
    pub async fn messages(&self, f: &MessageFilter) -> Result<Vec<MessageRow>> {
        let mut sql = format!("SELECT {COLUMNS} FROM messages WHERE tenant_id = $1");
        let mut values: Vec<Value> = vec![];
        for (col, v) in [
            ("channel", f.channel.clone()),
            ("status", f.status.map(|s| s.key().to_owned())),
            ("person_id", f.person_id.clone()),
        ] {
            if let Some(v) = v {
                values.push(v.into());
                sql.push_str(&format!(" AND {col} = ${}", values.len() + 1));
            }
        }
        sql.push_str(&format!(
            " ORDER BY created_at DESC, id LIMIT {}",
            f.limit.clamp(1, 1000)
        ));
        self.all(&sql, values).await?.iter().map(row).collect()
    }

    /// How many messages of a template this commune sent a person by a channel since a time.
    pub async fn count_sent_to(
        &self,
        person_id: &str,
        channel: &str,
        template: &str,
        since: i64,
    ) -> Result<i64> {
        let r = self
            .one(
                "SELECT COUNT(*) AS n FROM messages WHERE tenant_id = $1 AND person_id = $2 \
                 AND channel = $3 AND template = $4 AND created_at >= $5",
                vec![
                    person_id.to_owned().into(),
                    channel.to_owned().into(),
                    template.to_owned().into(),
                    since.into(),
                ],
            )
            .await?;
        match r {
            Some(r) => get(&r, "n"),
            None => Ok(0),
        }
    }

    /// The latest time a message of this template of this commune waits for (none waiting: none).
    pub async fn last_scheduled(&self, template: &str) -> Result<Option<i64>> {
        match self
            .one(
                "SELECT MAX(next_attempt_at) AS t FROM messages WHERE tenant_id = $1 \
                 AND template = $2 AND status = 'created'",
                vec![template.to_owned().into()],
            )
            .await?
        {
            Some(r) => get(&r, "t"),
            None => Ok(None),
        }
    }

    /// Makes concurrent requests of this commune that count and then write take turns
    /// (PostgreSQL: a transaction-scoped advisory lock on the commune; SQLite's write
    /// transactions take turns already).
    pub async fn take_turn(&self) -> Result<()> {
        if self.conn().get_database_backend() == sea_orm::DbBackend::Postgres {
            self.exec("SELECT pg_advisory_xact_lock($1)", vec![])
                .await?;
        }
        Ok(())
    }

    /// How many of this commune's messages are in each status, per channel.
    pub async fn message_counts(&self) -> Result<Vec<(String, Status, i64)>> {
        self.all(
            "SELECT channel, status, COUNT(*) AS n FROM messages WHERE tenant_id = $1 \
             GROUP BY channel, status ORDER BY channel, status",
            vec![],
        )
        .await?
        .iter()
        .map(|r| {
            let s: String = get(r, "status")?;
            Ok((get(r, "channel")?, status_of(&s)?, get(r, "n")?))
        })
        .collect()
    }

    /// A provider's delivery report for one of this commune's messages, by the provider's id.
    /// Only a message still on its way moves; gives whether one did.
    pub async fn settle_by_provider_id(
        &self,
        provider_id: &str,
        delivered: bool,
        reason: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let status = if delivered {
            Status::Delivered
        } else {
            Status::PermanentFailure
        };
        let n = self
            .exec(
                "UPDATE messages SET status = $2, reason = $3, done_at = $4, updated_at = $4, \
                 payload = CASE WHEN secret THEN '' ELSE payload END \
                 WHERE tenant_id = $1 AND provider_id = $5 AND status = 'sending'",
                vec![
                    status.key().into(),
                    reason.map(str::to_owned).into(),
                    now.into(),
                    provider_id.to_owned().into(),
                ],
            )
            .await?;
        Ok(n > 0)
    }
}

/// A message a worker claimed: everything needed to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub tenant: TenantId,
    pub id: String,
    pub channel: String,
    pub recipient: String,
    pub payload: String,
    pub attempts: i32,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The provider took it and has reported delivery (SMTP: the server accepted it).
    Delivered,
    /// The provider took it under this id; its delivery report comes later.
    Accepted { provider_id: String },
    /// Try again at this time.
    Retry { at: i64, reason: String },
    /// Never again.
    Failed { reason: String },
}

/// The delivery workers' door: claims due messages of every commune and settles them. Each
/// statement runs in a transaction that declares its cross-commune scope (PostgreSQL row-level
/// security allows messages, and only messages, under it).
#[derive(Clone, Copy)]
pub struct DeliveryDb<'a> {
    pub(crate) conn: &'a DatabaseConnection,
}

impl DeliveryDb<'_> {
    async fn begin(&self) -> Result<DatabaseTransaction> {
        let txn = crate::begin(self.conn).await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT set_config('sportello.scope', 'delivery', true)",
            ))
            .await?;
        }
        Ok(txn)
    }

    /// Claims up to `n` due messages for `lease` microseconds: new ones, ones to retry whose time
    /// has come, and ones a worker claimed and never settled (its lease ran out: it died). On
    /// PostgreSQL several nodes claim at once without waiting on each other and never claim the
    /// same row (`FOR UPDATE SKIP LOCKED`); SQLite runs one writer at a time.
    pub async fn claim(&self, n: u64, now: i64, lease: i64) -> Result<Vec<Claimed>> {
        let txn = self.begin().await?;
        let backend = txn.get_database_backend();
        let lock = if backend == DbBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE messages SET status = 'sending', attempts = attempts + 1, \
             lease_until = $1 + $2, updated_at = $1 \
             WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM messages \
               WHERE (status IN ('created', 'temporary_failure') AND next_attempt_at <= $1) \
                  OR (status = 'sending' AND provider_id IS NULL AND lease_until < $1) \
               ORDER BY CASE WHEN template = 'topic_message' THEN 1 ELSE 0 END, next_attempt_at \
               LIMIT {}{lock}) \
             RETURNING tenant_id, id, channel, recipient, payload, attempts",
            n.clamp(1, 1000)
        );
        let rows = txn
            .query_all_raw(crate::raw::stmt(
                backend,
                &sql,
                vec![now.into(), lease.into()],
            ))
            .await?;
        let claimed = rows
            .iter()
            .map(|r| {
                Ok(Claimed {
                    tenant: TenantId(get(r, "tenant_id")?),
                    id: get(r, "id")?,
                    channel: get(r, "channel")?,
                    recipient: get(r, "recipient")?,
                    payload: get(r, "payload")?,
                    attempts: get(r, "attempts")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        txn.commit().await?;
        Ok(claimed)
    }

    /// Records how an attempt ended — only if the message is still this attempt's (`sending`,
    /// with the number of tries the claim gave it): a worker whose lease ran out and whose
    /// message another worker took since changes nothing. A secret payload is dropped once the
    /// provider has the message or it failed for good.
    pub async fn settle(&self, m: &Claimed, outcome: &Outcome, now: i64) -> Result<bool> {
        Ok(self
            .settle_all(&[(m.clone(), outcome.clone())], now)
            .await?
            == 1)
    }

    /// [`DeliveryDb::settle`] for a whole round, in one transaction; gives how many were
    /// recorded.
    pub async fn settle_all(&self, done: &[(Claimed, Outcome)], now: i64) -> Result<u64> {
        let txn = self.begin().await?;
        let mut recorded = 0;
        for (m, outcome) in done {
            recorded += Self::settle_one(&txn, m, outcome, now).await?;
        }
        txn.commit().await?;
        Ok(recorded)
    }

    async fn settle_one(
        txn: &DatabaseTransaction,
        m: &Claimed,
        outcome: &Outcome,
        now: i64,
    ) -> Result<u64> {
        const MINE: &str =
            "WHERE tenant_id = $1 AND id = $2 AND status = 'sending' AND attempts = $4";
        let (sql, values): (String, Vec<Value>) = match outcome {
            Outcome::Delivered => (
                format!(
                    "UPDATE messages SET status = 'delivered', sent_at = $3, done_at = $3, \
                     lease_until = NULL, reason = NULL, updated_at = $3, \
                     payload = CASE WHEN secret THEN '' ELSE payload END {MINE}"
                ),
                vec![],
            ),
            Outcome::Accepted { provider_id } => (
                format!(
                    "UPDATE messages SET sent_at = $3, provider_id = $5, lease_until = NULL, \
                     reason = NULL, updated_at = $3, \
                     payload = CASE WHEN secret THEN '' ELSE payload END {MINE}"
                ),
                vec![provider_id.clone().into()],
            ),
            Outcome::Retry { at, reason } => (
                format!(
                    "UPDATE messages SET status = 'temporary_failure', next_attempt_at = $5, \
                     reason = $6, lease_until = NULL, updated_at = $3 {MINE}"
                ),
                vec![(*at).into(), reason.clone().into()],
            ),
            Outcome::Failed { reason } => (
                format!(
                    "UPDATE messages SET status = 'permanent_failure', done_at = $3, reason = $5, \
                     lease_until = NULL, updated_at = $3, \
                     payload = CASE WHEN secret THEN '' ELSE payload END {MINE}"
                ),
                vec![reason.clone().into()],
            ),
        };
        let mut all: Vec<Value> = vec![
            m.tenant.0.into(),
            m.id.clone().into(),
            now.into(),
            m.attempts.into(),
        ];
        all.extend(values);
        Ok(txn
            .execute_raw(crate::raw::stmt(txn.get_database_backend(), &sql, all))
            .await?
            .rows_affected())
    }

    /// The earliest time a message becomes due (none: nothing waits).
    pub async fn next_due(&self) -> Result<Option<i64>> {
        let txn = self.begin().await?;
        let r = txn
            .query_one_raw(Statement::from_string(
                txn.get_database_backend(),
                "SELECT MIN(CASE WHEN status = 'sending' THEN lease_until ELSE next_attempt_at END) \
                 AS due FROM messages WHERE status IN ('created', 'temporary_failure') \
                 OR (status = 'sending' AND provider_id IS NULL)",
            ))
            .await?;
        txn.commit().await?;
        match r {
            Some(r) => get(&r, "due"),
            None => Ok(None),
        }
    }
}

impl crate::Store {
    /// The delivery workers' cross-commune door (see [`DeliveryDb`]).
    pub fn delivery(&self) -> DeliveryDb<'_> {
        DeliveryDb { conn: &self.conn }
    }
}
