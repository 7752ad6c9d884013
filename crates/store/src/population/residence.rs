//! Declarations of residence the registry office has registered: their legal day, the end of
//! the police check, their state, and the people moved with the version each had before.

use crate::identity::get;
use crate::{Result, TenantDb};

/// A person a registration changed: `(person, version before, version written)`; no version
/// before: registered by it.
pub type Moved = (i64, Option<i32>, i32);

/// The member commune a declaration's people came from, and what its registry recorded.
pub type Elsewhere = (i64, Vec<Moved>);

/// A registered declaration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Move {
    pub case_id: String,
    /// `registered`, `confirmed` or `rejected`.
    pub state: String,
    /// `YYYY-MM-DD`: the day of the declaration, from which the registry changed.
    pub legal_day: String,
    /// The last day of the police check.
    pub check_by: String,
    /// `(person, version before, version written)`; no version before: registered by this
    /// declaration. The members left behind whose relation changed are here too.
    pub people: Vec<Moved>,
    /// The member commune they came from and what it recorded (its people, as `people`).
    pub elsewhere: Option<Elsewhere>,
    pub registered_at: i64,
    pub registered_by: String,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
}

fn row(r: &sea_orm::QueryResult) -> Result<Move> {
    let people: String = get(r, "people")?;
    let elsewhere: Option<String> = get(r, "elsewhere")?;
    Ok(Move {
        elsewhere: elsewhere.and_then(|e| serde_json::from_str(&e).ok()),
        case_id: get(r, "case_id")?,
        state: get(r, "state")?,
        legal_day: get(r, "legal_day")?,
        check_by: get(r, "check_by")?,
        people: serde_json::from_str(&people).unwrap_or_default(),
        registered_at: get(r, "registered_at")?,
        registered_by: get(r, "registered_by")?,
        decided_at: get(r, "decided_at")?,
        decided_by: get(r, "decided_by")?,
    })
}

const COLUMNS: &str = "case_id, state, legal_day, check_by, people, elsewhere, registered_at, \
                       registered_by, decided_at, decided_by";

impl TenantDb<'_> {
    pub async fn residence_move(&self, case_id: &str) -> Result<Option<Move>> {
        self.one(
            &format!("SELECT {COLUMNS} FROM residence_moves WHERE tenant_id = $1 AND case_id = $2"),
            vec![case_id.into()],
        )
        .await?
        .as_ref()
        .map(row)
        .transpose()
    }

    /// The declarations in `state`, the oldest check first.
    pub async fn residence_moves(&self, state: &str, limit: u64) -> Result<Vec<Move>> {
        self.all(
            &format!(
                "SELECT {COLUMNS} FROM residence_moves WHERE tenant_id = $1 AND state = $2 \
                 ORDER BY check_by, case_id LIMIT {limit}"
            ),
            vec![state.into()],
        )
        .await?
        .iter()
        .map(row)
        .collect()
    }

    /// Records a registration; false: the declaration was registered before.
    pub async fn add_residence_move(&self, m: &Move) -> Result<bool> {
        let people = serde_json::to_string(&m.people).unwrap_or_else(|_| "[]".into());
        Ok(self
            .exec(
                "INSERT INTO residence_moves (tenant_id, case_id, state, legal_day, check_by, \
                 people, registered_at, registered_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant_id, case_id) DO NOTHING",
                vec![
                    m.case_id.clone().into(),
                    m.state.clone().into(),
                    m.legal_day.clone().into(),
                    m.check_by.clone().into(),
                    people.into(),
                    m.registered_at.into(),
                    m.registered_by.clone().into(),
                ],
            )
            .await?
            == 1)
    }

    /// The people a registration moved (written in the transaction that claimed it).
    pub async fn set_residence_people(&self, case_id: &str, people: &[Moved]) -> Result<()> {
        let people = serde_json::to_string(people).unwrap_or_else(|_| "[]".into());
        self.exec(
            "UPDATE residence_moves SET people = $3 WHERE tenant_id = $1 AND case_id = $2",
            vec![case_id.into(), people.into()],
        )
        .await?;
        Ok(())
    }

    /// What the member commune they came from recorded, kept while the declaration is still
    /// registered (false: decided meanwhile); `None` clears it (put back).
    pub async fn set_residence_elsewhere(
        &self,
        case_id: &str,
        elsewhere: Option<&Elsewhere>,
    ) -> Result<bool> {
        let n = match elsewhere.and_then(|e| serde_json::to_string(e).ok()) {
            Some(json) => {
                self.exec(
                    "UPDATE residence_moves SET elsewhere = $3 WHERE tenant_id = $1 \
                     AND case_id = $2 AND state = 'registered'",
                    vec![case_id.into(), json.into()],
                )
                .await?
            }
            None => {
                self.exec(
                    "UPDATE residence_moves SET elsewhere = NULL WHERE tenant_id = $1 AND case_id = $2",
                    vec![case_id.into()],
                )
                .await?
            }
        };
        Ok(n == 1)
    }

    /// Ends a registered declaration as `state`; false: it was no longer `registered`.
    pub async fn decide_residence_move(
        &self,
        case_id: &str,
        state: &str,
        at: i64,
        by: &str,
    ) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE residence_moves SET state = $3, decided_at = $4, decided_by = $5 \
                 WHERE tenant_id = $1 AND case_id = $2 AND state = 'registered'",
                vec![case_id.into(), state.into(), at.into(), by.into()],
            )
            .await?
            == 1)
    }
}
