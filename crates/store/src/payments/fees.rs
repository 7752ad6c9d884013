//! Paying for a service as the last step of its case: each service's settings.

use serde::Serialize;

use crate::identity::get;
use crate::{Result, TenantDb};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceFee {
    pub service_id: String,
    /// `before` (paid, then submitted) or `after` (submitted, then awaiting payment).
    pub mode: String,
    pub stamp_duty: bool,
    /// The exemptions from the stamp duty a person may declare, one per line.
    pub exemptions: String,
    pub updated_at: i64,
}

impl ServiceFee {
    pub fn exemption_list(&self) -> Vec<&str> {
        self.exemptions
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    }
}

fn fee(r: &sea_orm::QueryResult) -> Result<ServiceFee> {
    Ok(ServiceFee {
        service_id: get(r, "service_id")?,
        mode: get(r, "mode")?,
        stamp_duty: get(r, "stamp_duty")?,
        exemptions: get(r, "exemptions")?,
        updated_at: get(r, "updated_at")?,
    })
}

impl TenantDb<'_> {
    pub async fn service_fee(&self, service_id: &str) -> Result<Option<ServiceFee>> {
        self.one(
            "SELECT service_id, mode, stamp_duty, exemptions, updated_at FROM service_fees \
             WHERE tenant_id = $1 AND service_id = $2",
            vec![service_id.into()],
        )
        .await?
        .map(|r| fee(&r))
        .transpose()
    }

    pub async fn service_fees(&self) -> Result<Vec<ServiceFee>> {
        self.all(
            "SELECT service_id, mode, stamp_duty, exemptions, updated_at FROM service_fees \
             WHERE tenant_id = $1 ORDER BY service_id",
            vec![],
        )
        .await?
        .iter()
        .map(fee)
        .collect()
    }

    /// Writes a service's settings; `None` mode removes them (the service asks for no payment).
    pub async fn save_service_fee(&self, f: &ServiceFee) -> Result<()> {
        if f.mode == "none" {
            self.exec(
                "DELETE FROM service_fees WHERE tenant_id = $1 AND service_id = $2",
                vec![f.service_id.clone().into()],
            )
            .await?;
            return Ok(());
        }
        self.exec(
            "INSERT INTO service_fees (tenant_id, service_id, mode, stamp_duty, exemptions, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, service_id) DO UPDATE SET \
             mode = excluded.mode, stamp_duty = excluded.stamp_duty, exemptions = excluded.exemptions, \
             updated_at = excluded.updated_at",
            vec![
                f.service_id.clone().into(),
                f.mode.clone().into(),
                f.stamp_duty.into(),
                f.exemptions.clone().into(),
                f.updated_at.into(),
            ],
        )
        .await?;
        Ok(())
    }
}
