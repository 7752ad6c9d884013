//! Agencies that check the registry under an agreement, and the verifier accounts acting for
//! each.

use crate::identity::get;
use crate::{Result, TenantDb};

/// An agency's agreement with the commune.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Agency {
    pub id: String,
    pub name: String,
    /// The fields it may see (keys of `population::checks::FIELDS`).
    pub fields: Vec<String>,
    /// The purposes it may declare.
    pub purposes: Vec<String>,
    pub per_minute: i32,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

fn agency(r: &sea_orm::QueryResult) -> Result<Agency> {
    let fields: String = get(r, "fields")?;
    let purposes: String = get(r, "purposes")?;
    Ok(Agency {
        id: get(r, "id")?,
        name: get(r, "name")?,
        fields: fields
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        purposes: purposes
            .split('\n')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        per_minute: get(r, "per_minute")?,
        created_at: get(r, "created_at")?,
        revoked_at: get(r, "revoked_at")?,
    })
}

const COLUMNS: &str = "id, name, fields, purposes, per_minute, created_at, revoked_at";

impl TenantDb<'_> {
    pub async fn agencies(&self) -> Result<Vec<Agency>> {
        self.all(
            &format!("SELECT {COLUMNS} FROM agencies WHERE tenant_id = $1 ORDER BY name, id"),
            vec![],
        )
        .await?
        .iter()
        .map(agency)
        .collect()
    }

    /// Writes an agreement (a new agency, or new terms for one not revoked); false: the agency
    /// was revoked (its agreement stays ended).
    pub async fn save_agency(&self, a: &Agency) -> Result<bool> {
        Ok(self.exec(
            "INSERT INTO agencies (tenant_id, id, name, fields, purposes, per_minute, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant_id, id) DO UPDATE SET name = $3, fields = $4, purposes = $5, per_minute = $6 \
             WHERE agencies.revoked_at IS NULL",
            vec![
                a.id.clone().into(),
                a.name.clone().into(),
                a.fields.join(",").into(),
                a.purposes.join("\n").into(),
                a.per_minute.into(),
                a.created_at.into(),
            ],
        )
        .await?
            == 1)
    }

    /// Ends an agreement: its accounts' checks are refused from now on.
    pub async fn revoke_agency(&self, id: &str, at: i64) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE agencies SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
                vec![id.to_owned().into(), at.into()],
            )
            .await?
            == 1)
    }

    /// Makes a staff account act for an agency (replacing another link).
    pub async fn link_agency_member(&self, staff_id: &str, agency: &str) -> Result<()> {
        self.exec(
            "INSERT INTO agency_members (tenant_id, staff_id, agency_id) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, staff_id) DO UPDATE SET agency_id = $3",
            vec![staff_id.to_owned().into(), agency.to_owned().into()],
        )
        .await?;
        Ok(())
    }

    /// The agency a staff account acts for.
    pub async fn agency_of(&self, staff_id: &str) -> Result<Option<Agency>> {
        self.one(
            &format!(
                "SELECT {} FROM agency_members m JOIN agencies a ON a.tenant_id = m.tenant_id AND a.id = m.agency_id \
                 WHERE m.tenant_id = $1 AND m.staff_id = $2",
                COLUMNS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ")
            ),
            vec![staff_id.to_owned().into()],
        )
        .await?
        .as_ref()
        .map(agency)
        .transpose()
    }
}
