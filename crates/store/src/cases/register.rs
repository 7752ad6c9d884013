//! Registering a case: the protocol number and everything that depends on it, written as the
//! submission's last step before commit.
//!
//! The counter row of (commune, year) stays locked from the moment the number is taken until the
//! transaction ends, so every submission into one commune waits for the one before it to commit.
//! What happens under that lock is therefore the commune's whole throughput: on PostgreSQL it is
//! one statement (the counter, the case's number, its text, time and due day, the office's
//! count).

use sea_orm::Value;
use sportello_domain::ProtocolNumber;
use sportello_domain::protocol_format::{Piece, ProtocolFormat};

use super::*;

/// What the registration writes besides the number.
pub struct Registration<'a> {
    pub case_id: &'a str,
    /// The year of the register, by the node's clock (SQLite; PostgreSQL reads its own clock
    /// for the year as for the time, so one clock orders every node's registrations).
    pub year: i32,
    /// How the commune writes its numbers.
    pub format: &'a ProtocolFormat,
    /// The time (microseconds) and the day in Italy, read under the lock where the database does
    /// not tell them itself (SQLite); PostgreSQL reads its clock in the statement, in the same
    /// time zone (`Europe/Rome`, from the same IANA database).
    pub clock: fn() -> (i64, chrono::NaiveDate),
}

/// What the register says of the case.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The register's year: the year of the registration's day in Italy.
    pub year: i32,
    pub number: i64,
    /// The registration's day in Italy (its time, read under the counter's lock so that times
    /// follow numbers, is the case's `submitted_at`).
    pub on: String,
    /// The number as the commune writes it.
    pub text: String,
}

impl TenantDb<'_> {
    /// Takes the next number of `r.year` for the case and writes what follows from it: the
    /// case's number, text and key, its registration time and day and its due day (`max_days`
    /// after that day), and the office's count of its state. Call it last, just before commit.
    pub async fn register_case(&self, r: &Registration<'_>) -> Result<Registered> {
        if self.is_postgres() {
            self.register_in_one(r).await
        } else {
            self.register_in_steps(r).await
        }
    }

    /// PostgreSQL: one statement. The number is written in SQL as the format says (the pieces
    /// are bound, never spliced); the year is read from the database's clock before the lock,
    /// the time after it (a year that turned in between shows as a day of another year).
    async fn register_in_one(&self, r: &Registration<'_>) -> Result<Registered> {
        // $1 tenant, $2 case, then the format's texts. The year is the database's, as the time.
        let mut vals: Vec<Value> = vec![r.case_id.into()];
        let mut text = vec![];
        for piece in r.format.pieces() {
            text.push(match piece {
                Piece::Text(t) => {
                    vals.push(t.into());
                    format!("CAST(${} AS TEXT)", vals.len() + 1)
                }
                Piece::Year => "CAST(year AS TEXT)".to_owned(),
                Piece::Number(w) => format!(
                    "lpad(CAST(last_number AS TEXT), GREATEST({w}, length(CAST(last_number AS TEXT))), '0')"
                ),
            });
        }
        let micros = "CAST(EXTRACT(EPOCH FROM t.ts) * 1000000 AS BIGINT)";
        let day = "CAST(t.ts AT TIME ZONE 'Europe/Rome' AS DATE)";
        let sql = format!(
            "WITH n AS (INSERT INTO protocol_counters (tenant_id, year, last_number) \
               VALUES ($1, CAST(to_char(clock_timestamp() AT TIME ZONE 'Europe/Rome', 'YYYY') AS INTEGER), 1) \
               ON CONFLICT (tenant_id, year) DO UPDATE SET last_number = protocol_counters.last_number + 1 \
               RETURNING year, last_number), \
             t AS (SELECT year AS yr, last_number AS num, {text} AS txt, clock_timestamp() AS ts FROM n), \
             c AS (UPDATE cases SET year = t.yr, number = t.num, protocol_text = t.txt, \
               protocol_key = upper(replace(t.txt, ' ', '')), submitted_at = {micros}, updated_at = {micros}, \
               submitted_on = to_char({day}, 'YYYY-MM-DD'), \
               due_on = to_char({day} + cases.max_days, 'YYYY-MM-DD') \
               FROM t WHERE cases.tenant_id = $1 AND cases.id = $2 \
               RETURNING cases.office_id, cases.status, cases.year, cases.number, \
               cases.submitted_on, cases.protocol_text), \
             k AS (INSERT INTO case_counts (tenant_id, office_id, status, n) SELECT $1, office_id, status, 1 FROM c \
               ON CONFLICT (tenant_id, office_id, status) DO UPDATE SET n = case_counts.n + excluded.n) \
             SELECT year, number, submitted_on, protocol_text FROM c",
            text = text.join(" || "),
        );
        let row = self
            .one(&sql, vals)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the case to number is gone".into()))?;
        Ok(Registered {
            year: get(&row, "year")?,
            number: get(&row, "number")?,
            on: get(&row, "submitted_on")?,
            text: get(&row, "protocol_text")?,
        })
    }

    /// SQLite (one writer: the transaction holds the database from its first write): the same
    /// writes one by one.
    async fn register_in_steps(&self, r: &Registration<'_>) -> Result<Registered> {
        let row = self
            .one(
                "INSERT INTO protocol_counters (tenant_id, year, last_number) VALUES ($1, $2, 1) \
                 ON CONFLICT (tenant_id, year) DO UPDATE SET last_number = protocol_counters.last_number + 1 \
                 RETURNING last_number",
                vec![r.year.into()],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("no protocol number returned".into()))?;
        let number: i64 = get(&row, "last_number")?;
        let (at, day) = (r.clock)();
        let text = r.format.write(ProtocolNumber {
            year: r.year,
            number,
        });
        let row = self
            .one(
                "UPDATE cases SET year = $2, number = $3, submitted_at = $5, updated_at = $5, \
                 submitted_on = $6, due_on = date($6, '+' || max_days || ' days'), protocol_text = $7, \
                 protocol_key = $8 WHERE tenant_id = $1 AND id = $4 RETURNING office_id, status",
                vec![
                    r.year.into(),
                    number.into(),
                    r.case_id.into(),
                    at.into(),
                    day.to_string().into(),
                    text.clone().into(),
                    ProtocolFormat::key(&text).into(),
                ],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("the case to number is gone".into()))?;
        self.bump_case_count(
            &get::<String>(&row, "office_id")?,
            &get::<String>(&row, "status")?,
            1,
        )
        .await?;
        Ok(Registered {
            year: r.year,
            number,
            on: day.to_string(),
            text,
        })
    }
}
