//! The population registry's rows: people (by fiscal code), the versions of their records over
//! legal days, families as the members' shared number, the commune's streets, and who looked
//! at a person's record. Certificates and signing keys are in `certificates.rs`.

mod access;
mod agencies;
mod certificates;
mod reminders;
mod requests;
mod residence;

pub use access::Access;
pub use agencies::Agency;
pub use certificates::{CertificateRow, SigningKey};
pub use reminders::Expiring;
pub use requests::CertificateRequest;
pub use residence::{Elsewhere, Move, Moved};

use sea_orm::Value;
use sportello_domain::registry::{Facts, RawFacts};

use crate::identity::get;
use crate::{Result, StoreError, TenantDb};

/// Why a version was written.
pub const CAUSES: &[&str] = &["registration", "import", "change", "correction"];

/// A version of a person's record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Version {
    pub person_id: i64,
    pub fiscal_code: String,
    pub version: i32,
    /// Legal days `[valid_from, valid_to)`, `YYYY-MM-DD`.
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub recorded_at: i64,
    pub recorded_by: String,
    /// A correction replaced it (then it is kept for the record only).
    pub superseded_at: Option<i64>,
    pub cause: String,
    pub note: String,
    pub facts: Facts,
}

/// A version to write.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    pub person_id: i64,
    pub version: i32,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub recorded_at: i64,
    pub recorded_by: &'a str,
    pub cause: &'a str,
    pub note: &'a str,
    pub facts: &'a Facts,
}

const FACT_COLUMNS: &str = "status, last_name, first_name, sex, birth_date, birth_place, birth_place_name, \
    citizenship, marital_status, doc_kind, doc_number, doc_expires, electoral, family_id, relation, \
    street_code, house_number, interior";

fn columns(alias: &str) -> String {
    let mut out = format!(
        "{alias}.person_id, p.fiscal_code, {alias}.version, {alias}.valid_from, {alias}.valid_to, \
        {alias}.recorded_at, {alias}.recorded_by, {alias}.superseded_at, {alias}.cause, {alias}.note"
    );
    for c in FACT_COLUMNS.split(", ") {
        out.push_str(&format!(", {alias}.{c}"));
    }
    out
}

fn version(r: &sea_orm::QueryResult) -> Result<Version> {
    let family: i64 = get(r, "family_id")?;
    let raw = RawFacts {
        status: get(r, "status")?,
        last_name: get(r, "last_name")?,
        first_name: get(r, "first_name")?,
        sex: get(r, "sex")?,
        birth_date: get(r, "birth_date")?,
        birth_place: get(r, "birth_place")?,
        birth_place_name: get(r, "birth_place_name")?,
        citizenship: get(r, "citizenship")?,
        marital: get(r, "marital_status")?,
        doc_kind: get::<Option<String>>(r, "doc_kind")?.unwrap_or_default(),
        doc_number: get::<Option<String>>(r, "doc_number")?.unwrap_or_default(),
        doc_expires: get::<Option<String>>(r, "doc_expires")?.unwrap_or_default(),
        voter: get(r, "electoral")?,
        family: family.to_string(),
        relation: get(r, "relation")?,
        street: get(r, "street_code")?,
        number: get(r, "house_number")?,
        interior: get(r, "interior")?,
    };
    let facts = Facts::parse(&raw)
        .map_err(|e| StoreError::Corrupt(format!("registry facts: {:?}", e.first())))?;
    Ok(Version {
        person_id: get(r, "person_id")?,
        fiscal_code: get(r, "fiscal_code")?,
        version: get(r, "version")?,
        valid_from: get(r, "valid_from")?,
        valid_to: get(r, "valid_to")?,
        recorded_at: get(r, "recorded_at")?,
        recorded_by: get(r, "recorded_by")?,
        superseded_at: get(r, "superseded_at")?,
        cause: get(r, "cause")?,
        note: get(r, "note")?,
        facts,
    })
}

fn fact_values(f: &Facts) -> Vec<Value> {
    let raw = f.raw();
    let opt = |s: String| -> Value {
        if s.is_empty() {
            Option::<String>::None.into()
        } else {
            s.into()
        }
    };
    vec![
        raw.status.into(),
        raw.last_name.into(),
        raw.first_name.into(),
        raw.sex.into(),
        raw.birth_date.into(),
        raw.birth_place.into(),
        raw.birth_place_name.into(),
        raw.citizenship.into(),
        raw.marital.into(),
        opt(raw.doc_kind),
        opt(raw.doc_number),
        opt(raw.doc_expires),
        raw.voter.into(),
        f.family.into(),
        raw.relation.into(),
        raw.street.into(),
        raw.number.into(),
        raw.interior.into(),
    ]
}

/// Rows (or values) per statement. PostgreSQL takes many; SQLite's driver looks each bound
/// value's name up among all of a statement's (measured: binding 10,000 values spent 59 % of an
/// import there), so its statements stay small.
const BATCH: usize = 400;
const SQLITE_ROWS: usize = 16;

impl TenantDb<'_> {
    /// How many rows of `values_per_row` one statement carries here.
    fn rows_per_statement(&self, values_per_row: usize) -> usize {
        if self.is_postgres() {
            BATCH
        } else {
            (SQLITE_ROWS * 26 / values_per_row.max(1)).max(1)
        }
    }
}

/// Current: in force and not replaced by a correction.
const LIVE: &str = "v.superseded_at IS NULL";

impl TenantDb<'_> {
    /// Takes `n` numbers from the registry counter `name` (people, families, a year's
    /// certificates); gives the first. The row stays locked until the transaction ends.
    pub async fn registry_take(&self, name: &str, n: i64) -> Result<i64> {
        let r = self
            .one(
                "INSERT INTO registry_counters (tenant_id, name, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id, name) DO UPDATE SET value = registry_counters.value + $3 \
                 RETURNING value",
                vec![name.into(), n.into()],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("no registry counter".into()))?;
        Ok(get::<i64>(&r, "value")? - n + 1)
    }

    /// Moves the counter `name` to at least `value` (numbers an import brought are not given again).
    pub async fn registry_counter_at_least(&self, name: &str, value: i64) -> Result<()> {
        self.exec(
            "INSERT INTO registry_counters (tenant_id, name, value) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, name) DO UPDATE SET value = $3 WHERE registry_counters.value < $3",
            vec![name.into(), value.into()],
        )
        .await?;
        Ok(())
    }

    /// The commune's streets (code, name), by name.
    pub async fn registry_streets(&self) -> Result<Vec<(String, String)>> {
        self.all(
            "SELECT code, name FROM registry_streets WHERE tenant_id = $1 ORDER BY name, code",
            vec![],
        )
        .await?
        .iter()
        .map(|r| Ok((get(r, "code")?, get(r, "name")?)))
        .collect()
    }

    /// Adds streets not yet known (a known code keeps its name).
    pub async fn registry_add_streets(&self, streets: &[(String, String)]) -> Result<()> {
        for chunk in streets.chunks(self.rows_per_statement(2)) {
            let mut sql =
                String::from("INSERT INTO registry_streets (tenant_id, code, name) VALUES ");
            let mut vals: Vec<Value> = vec![];
            for (i, (code, name)) in chunk.iter().enumerate() {
                sql.push_str(&format!(
                    "{}($1, ${}, ${})",
                    if i > 0 { ", " } else { "" },
                    2 + 2 * i,
                    3 + 2 * i
                ));
                vals.extend([code.clone().into(), name.clone().into()]);
            }
            sql.push_str(" ON CONFLICT DO NOTHING");
            self.exec(&sql, vals).await?;
        }
        Ok(())
    }

    /// The ids of the people known by some of `codes`.
    pub async fn registry_ids(&self, codes: &[String]) -> Result<Vec<(String, i64)>> {
        let mut out = vec![];
        for chunk in codes.chunks(self.rows_per_statement(1)) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let rows = self
                .all(
                    &format!("SELECT fiscal_code, id FROM registry_people WHERE tenant_id = $1 AND fiscal_code IN ({})", marks.join(", ")),
                    chunk.iter().map(|c| c.clone().into()).collect(),
                )
                .await?;
            for r in rows {
                out.push((get(&r, "fiscal_code")?, get(&r, "id")?));
            }
        }
        Ok(out)
    }

    pub async fn registry_id(&self, code: &str) -> Result<Option<i64>> {
        Ok(self
            .registry_ids(&[code.to_owned()])
            .await?
            .first()
            .map(|(_, id)| *id))
    }

    /// The people whose code without omocodia is `key` (a signed-in person's code arrives so):
    /// one, or several homonyms told apart by omocodia.
    pub async fn registry_ids_by_key(&self, key: &str) -> Result<Vec<i64>> {
        self.all(
            "SELECT id FROM registry_people WHERE tenant_id = $1 AND code_key = $2 ORDER BY id LIMIT 10",
            vec![key.to_owned().into()],
        )
        .await?
        .iter()
        .map(|r| get(r, "id"))
        .collect()
    }

    /// Locks a person's record until the transaction ends (a change and a correction at once
    /// are then one after the other).
    pub async fn registry_lock(&self, person: i64) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE registry_people SET created_at = created_at WHERE tenant_id = $1 AND id = $2",
                vec![person.into()],
            )
            .await?
            == 1)
    }

    /// Writes new people (id, fiscal code as issued); their code's key is the code without
    /// omocodia.
    pub async fn registry_add_people(&self, people: &[(i64, String)], now: i64) -> Result<u64> {
        let mut written = 0;
        for chunk in people.chunks(self.rows_per_statement(3)) {
            let mut sql = String::from(
                "INSERT INTO registry_people (tenant_id, id, fiscal_code, code_key, created_at) VALUES ",
            );
            let mut vals: Vec<Value> = vec![now.into()];
            for (i, (id, code)) in chunk.iter().enumerate() {
                sql.push_str(&format!(
                    "{}($1, ${}, ${}, ${}, $2)",
                    if i > 0 { ", " } else { "" },
                    3 + 3 * i,
                    4 + 3 * i,
                    5 + 3 * i
                ));
                let key = sportello_domain::FiscalCode::parse(code)
                    .map(|c| c.normalised().as_str().to_owned())
                    .unwrap_or_else(|_| code.clone());
                vals.extend([(*id).into(), code.clone().into(), key.into()]);
            }
            written += self.exec(&sql, vals).await?;
        }
        Ok(written)
    }

    /// Writes versions.
    pub async fn registry_add_versions(&self, versions: &[NewVersion<'_>]) -> Result<()> {
        for chunk in versions.chunks(self.rows_per_statement(26)) {
            let mut sql = format!(
                "INSERT INTO registry_versions (tenant_id, person_id, version, valid_from, valid_to, recorded_at, \
                 recorded_by, cause, note, {FACT_COLUMNS}) VALUES "
            );
            let mut vals: Vec<Value> = vec![];
            for (i, v) in chunk.iter().enumerate() {
                let base = 2 + i * 26;
                let marks: Vec<String> = (0..26).map(|k| format!("${}", base + k)).collect();
                sql.push_str(&format!(
                    "{}($1, {})",
                    if i > 0 { ", " } else { "" },
                    marks.join(", ")
                ));
                vals.extend([
                    v.person_id.into(),
                    v.version.into(),
                    v.valid_from.clone().into(),
                    v.valid_to.clone().into(),
                    v.recorded_at.into(),
                    v.recorded_by.to_owned().into(),
                    v.cause.to_owned().into(),
                    v.note.to_owned().into(),
                ]);
                vals.extend(fact_values(v.facts));
            }
            self.exec(&sql, vals).await?;
        }
        Ok(())
    }

    /// Every version of a person's record (replaced ones too), oldest first.
    pub async fn registry_history(&self, person: i64) -> Result<Vec<Version>> {
        self.all(
            &format!(
                "SELECT {} FROM registry_versions v JOIN registry_people p ON p.tenant_id = v.tenant_id AND p.id = v.person_id \
                 WHERE v.tenant_id = $1 AND v.person_id = $2 ORDER BY v.valid_from, v.version",
                columns("v")
            ),
            vec![person.into()],
        )
        .await?
        .iter()
        .map(version)
        .collect()
    }

    /// A person's record as it was on `day` (`YYYY-MM-DD`), or now (the open version).
    pub async fn registry_at(&self, person: i64, day: Option<&str>) -> Result<Option<Version>> {
        let (cond, vals): (&str, Vec<Value>) = match day {
            Some(d) => (
                "v.valid_from <= $3 AND (v.valid_to IS NULL OR v.valid_to > $3)",
                vec![person.into(), d.to_owned().into()],
            ),
            None => ("v.valid_to IS NULL", vec![person.into()]),
        };
        self.one(
            &format!(
                "SELECT {} FROM registry_versions v JOIN registry_people p ON p.tenant_id = v.tenant_id AND p.id = v.person_id \
                 WHERE v.tenant_id = $1 AND v.person_id = $2 AND {LIVE} AND {cond} ORDER BY v.version DESC LIMIT 1",
                columns("v")
            ),
            vals,
        )
        .await?
        .as_ref()
        .map(version)
        .transpose()
    }

    /// The open versions of some people.
    pub async fn registry_current_of(&self, ids: &[i64]) -> Result<Vec<Version>> {
        let mut out = vec![];
        for chunk in ids.chunks(self.rows_per_statement(1)) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let rows = self
                .all(
                    &format!(
                        "SELECT {} FROM registry_versions v JOIN registry_people p ON p.tenant_id = v.tenant_id AND p.id = v.person_id \
                         WHERE v.tenant_id = $1 AND v.valid_to IS NULL AND {LIVE} AND v.person_id IN ({})",
                        columns("v"),
                        marks.join(", ")
                    ),
                    chunk.iter().map(|i| (*i).into()).collect(),
                )
                .await?;
            for r in &rows {
                out.push(version(r)?);
            }
        }
        Ok(out)
    }

    /// The members of a family as it was on `day` (or now), head first.
    pub async fn registry_family(&self, family: i64, day: Option<&str>) -> Result<Vec<Version>> {
        let (cond, vals): (&str, Vec<Value>) = match day {
            Some(d) => (
                "v.valid_from <= $3 AND (v.valid_to IS NULL OR v.valid_to > $3)",
                vec![family.into(), d.to_owned().into()],
            ),
            None => ("v.valid_to IS NULL", vec![family.into()]),
        };
        let mut out: Vec<Version> = self
            .all(
                &format!(
                    "SELECT {} FROM registry_versions v JOIN registry_people p ON p.tenant_id = v.tenant_id AND p.id = v.person_id \
                     WHERE v.tenant_id = $1 AND v.family_id = $2 AND {LIVE} AND {cond} AND v.status = 'resident'",
                    columns("v")
                ),
                vals,
            )
            .await?
            .iter()
            .map(version)
            .collect::<Result<_>>()?;
        out.sort_by_key(|v| {
            (
                v.facts.relation != sportello_domain::registry::Relation::Head,
                v.facts.birth_date,
            )
        });
        Ok(out)
    }

    /// Ends a version on `valid_to` (a change from that day on); false if it was no longer open.
    pub async fn registry_close(&self, person: i64, version: i32, valid_to: &str) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE registry_versions SET valid_to = $4 WHERE tenant_id = $1 AND person_id = $2 AND version = $3 \
                 AND valid_to IS NULL AND superseded_at IS NULL",
                vec![person.into(), version.into(), valid_to.to_owned().into()],
            )
            .await?
            == 1)
    }

    /// Marks a version replaced by a correction; false if it already was.
    pub async fn registry_supersede(&self, person: i64, version: i32, at: i64) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE registry_versions SET superseded_at = $4 WHERE tenant_id = $1 AND person_id = $2 AND version = $3 \
                 AND superseded_at IS NULL",
                vec![person.into(), version.into(), at.into()],
            )
            .await?
            == 1)
    }

    /// The highest version number of a person's record.
    pub async fn registry_last_version(&self, person: i64) -> Result<i32> {
        let r = self
            .one(
                "SELECT COALESCE(MAX(version), 0) AS n FROM registry_versions WHERE tenant_id = $1 AND person_id = $2",
                vec![person.into()],
            )
            .await?;
        Ok(match r {
            Some(r) => get::<i32>(&r, "n").or_else(|_| get::<i64>(&r, "n").map(|n| n as i32))?,
            None => 0,
        })
    }

    /// People whose current record matches a name or a fiscal code (the clerk's search).
    pub async fn registry_search(&self, text: &str, limit: u64) -> Result<Vec<Version>> {
        let t = text.trim().to_uppercase();
        let like = format!("{}%", t.replace(['%', '_', '\\'], ""));
        self.all(
            &format!(
                "SELECT {} FROM registry_versions v JOIN registry_people p ON p.tenant_id = v.tenant_id AND p.id = v.person_id \
                 WHERE v.tenant_id = $1 AND v.valid_to IS NULL AND {LIVE} AND (p.fiscal_code = $2 OR v.last_name LIKE $3) \
                 ORDER BY v.last_name, v.first_name LIMIT $4",
                columns("v")
            ),
            vec![t.into(), like.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(version)
        .collect()
    }

    /// How many people the registry holds (ever).
    pub async fn registry_count(&self) -> Result<i64> {
        let r = self
            .one(
                "SELECT COUNT(*) AS n FROM registry_people WHERE tenant_id = $1",
                vec![],
            )
            .await?;
        Ok(match r {
            Some(r) => get::<i64>(&r, "n")?,
            None => 0,
        })
    }
}
