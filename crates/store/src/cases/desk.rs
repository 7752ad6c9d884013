//! Acting for people: intermediaries' delegations, and each commune's case settings (how its
//! protocol numbers are written, which partner communes' desks may file its cases).

use serde::Serialize;

use crate::identity::get;
use crate::{Result, TenantDb};

/// A client's delegation to an intermediary (a CAF, a patronato): the signed document,
/// uploaded once, and until when it holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delegation {
    pub id: String,
    /// The intermediary's staff account.
    pub staff_id: String,
    pub fiscal_code: String,
    pub client_name: String,
    pub document_name: String,
    pub file_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    /// `YYYY-MM-DD`: the last day it holds.
    pub valid_until: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

fn delegation(r: &sea_orm::QueryResult) -> Result<Delegation> {
    Ok(Delegation {
        id: get(r, "id")?,
        staff_id: get(r, "staff_id")?,
        fiscal_code: get(r, "fiscal_code")?,
        client_name: get(r, "client_name")?,
        document_name: get(r, "document_name")?,
        file_type: get(r, "file_type")?,
        size: get(r, "size")?,
        sha256: get(r, "sha256")?,
        storage_key: get(r, "storage_key")?,
        valid_until: get(r, "valid_until")?,
        created_at: get(r, "created_at")?,
        revoked_at: get(r, "revoked_at")?,
    })
}

const DELEGATION_COLS: &str = "id, staff_id, fiscal_code, client_name, document_name, file_type, \
    size, sha256, storage_key, valid_until, created_at, revoked_at";

/// A commune's case settings (which desks may file here is in
/// [`crate::desk_consents`], read across communes).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct CaseSettings {
    /// How protocol numbers are written (`{anno}/{numero:7}`); empty: the default.
    pub protocol_format: String,
}

impl TenantDb<'_> {
    pub async fn insert_delegation(&self, d: &Delegation) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO delegations (tenant_id, {DELEGATION_COLS}) VALUES ($1, $2, $3, $4, $5, \
                 $6, $7, $8, $9, $10, $11, $12, $13)"
            ),
            vec![
                d.id.clone().into(),
                d.staff_id.clone().into(),
                d.fiscal_code.clone().into(),
                d.client_name.clone().into(),
                d.document_name.clone().into(),
                d.file_type.clone().into(),
                d.size.into(),
                d.sha256.clone().into(),
                d.storage_key.clone().into(),
                d.valid_until.clone().into(),
                d.created_at.into(),
                d.revoked_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// An intermediary's delegations, the newest first: those in force on `today` (however
    /// many), then at most 100 that ended.
    pub async fn delegations_of(&self, staff_id: &str, today: &str) -> Result<Vec<Delegation>> {
        self.all(
            &format!(
                "SELECT {DELEGATION_COLS} FROM delegations WHERE tenant_id = $1 AND staff_id = $2 \
                 AND revoked_at IS NULL AND valid_until >= $3 ORDER BY client_name"
            ),
            vec![staff_id.into(), today.into()],
        )
        .await?
        .iter()
        .map(delegation)
        .chain(
            self.all(
                &format!(
                    "SELECT {DELEGATION_COLS} FROM delegations WHERE tenant_id = $1 AND staff_id = $2 \
                     AND (revoked_at IS NOT NULL OR valid_until < $3) ORDER BY created_at DESC LIMIT 100"
                ),
                vec![staff_id.into(), today.into()],
            )
            .await?
            .iter()
            .map(delegation),
        )
        .collect()
    }

    pub async fn delegation(&self, id: &str) -> Result<Option<Delegation>> {
        self.one(
            &format!("SELECT {DELEGATION_COLS} FROM delegations WHERE tenant_id = $1 AND id = $2"),
            vec![id.into()],
        )
        .await?
        .as_ref()
        .map(delegation)
        .transpose()
    }

    /// Ends a delegation now (its intermediary's own); gives whether it was in force.
    pub async fn revoke_delegation(&self, id: &str, staff_id: &str, now: i64) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE delegations SET revoked_at = $4 WHERE tenant_id = $1 AND id = $2 \
                 AND staff_id = $3 AND revoked_at IS NULL",
                vec![id.into(), staff_id.into(), now.into()],
            )
            .await?
            == 1)
    }

    /// The commune's case settings (the defaults if never set).
    pub async fn case_settings(&self) -> Result<CaseSettings> {
        Ok(self
            .one(
                "SELECT protocol_format FROM case_settings WHERE tenant_id = $1",
                vec![],
            )
            .await?
            .map(|r| -> Result<CaseSettings> {
                Ok(CaseSettings {
                    protocol_format: get(&r, "protocol_format")?,
                })
            })
            .transpose()?
            .unwrap_or_default())
    }

    pub async fn set_case_settings(&self, s: &CaseSettings, by: &str, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO case_settings (tenant_id, protocol_format, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET \
             protocol_format = excluded.protocol_format, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            vec![s.protocol_format.clone().into(), by.into(), now.into()],
        )
        .await?;
        Ok(())
    }

    /// Remembers, in the desk's commune, a case its staff filed with a partner commune.
    pub async fn record_desk_filing(
        &self,
        filed_by: &str,
        commune: i64,
        case_id: &str,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO desk_filings (tenant_id, filed_by, commune_id, case_id, filed_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            vec![
                filed_by.into(),
                commune.into(),
                case_id.into(),
                crate::now_micros().into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The cases `filed_by` filed with partner communes: (commune, case), newest first.
    pub async fn desk_filings(&self, filed_by: &str, limit: u64) -> Result<Vec<(i64, String)>> {
        self.all(
            "SELECT commune_id, case_id FROM desk_filings WHERE tenant_id = $1 AND filed_by = $2 \
             ORDER BY filed_at DESC LIMIT $3",
            vec![filed_by.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(|r| Ok((get(r, "commune_id")?, get(r, "case_id")?)))
        .collect()
    }
}
