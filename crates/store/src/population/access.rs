//! Who looked at a person's record: every look by anyone but the person (clerks, verifiers,
//! intermediaries, desks), with what they declared, shown to the person.

use crate::identity::get;
use crate::{Result, TenantDb};

/// One look at a person's record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Access {
    pub at: i64,
    /// `staff:<id>`, `verifier:<agency>`, `person:<id>` (an intermediary).
    pub who: String,
    pub who_name: String,
    /// `clerk`, `verifier`, `intermediary`, `desk`.
    pub capacity: String,
    pub purpose: String,
    /// The case or file it was for, as the looker gave it.
    pub reference: String,
    /// What was looked at (`record`, `certificate:residence`, the fields given).
    pub what: String,
}

impl TenantDb<'_> {
    /// Records a look at a person's record (in the transaction of the look).
    pub async fn registry_log_access(&self, person: i64, a: &Access) -> Result<()> {
        self.exec(
            "INSERT INTO registry_access (tenant_id, person_id, id, at, who, who_name, capacity, purpose, reference, what) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            vec![
                person.into(),
                uuid::Uuid::new_v4().to_string().into(),
                a.at.into(),
                a.who.clone().into(),
                a.who_name.clone().into(),
                a.capacity.clone().into(),
                a.purpose.clone().into(),
                a.reference.clone().into(),
                a.what.clone().into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The looks at a person's record, newest first.
    pub async fn registry_accesses(&self, person: i64, limit: u64) -> Result<Vec<Access>> {
        self.all(
            "SELECT at, who, who_name, capacity, purpose, reference, what FROM registry_access \
             WHERE tenant_id = $1 AND person_id = $2 ORDER BY at DESC LIMIT $3",
            vec![person.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Access {
                at: get(r, "at")?,
                who: get(r, "who")?,
                who_name: get(r, "who_name")?,
                capacity: get(r, "capacity")?,
                purpose: get(r, "purpose")?,
                reference: get(r, "reference")?,
                what: get(r, "what")?,
            })
        })
        .collect()
    }
}
