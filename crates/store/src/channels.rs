//! A commune's channels: whether it pays for SMS, and its SMS gateway (token and
//! delivery-report secret sealed by the caller, like the identity providers' secrets).

use crate::identity::get;
use crate::{Result, TenantDb};

/// The commune's SMS gateway as stored (the secrets sealed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SmsGatewayRow {
    pub enabled: bool,
    pub endpoint: Option<String>,
    pub token_sealed: Option<String>,
    pub sender: Option<String>,
    pub report_secret_sealed: Option<String>,
}

impl TenantDb<'_> {
    pub async fn sms_gateway(&self) -> Result<SmsGatewayRow> {
        let r = self
            .one(
                "SELECT sms_enabled, sms_endpoint, sms_token, sms_sender, sms_report_secret \
                 FROM commune_settings WHERE tenant_id = $1",
                vec![],
            )
            .await?;
        Ok(match r {
            Some(r) => SmsGatewayRow {
                enabled: get(&r, "sms_enabled")?,
                endpoint: get(&r, "sms_endpoint")?,
                token_sealed: get(&r, "sms_token")?,
                sender: get(&r, "sms_sender")?,
                report_secret_sealed: get(&r, "sms_report_secret")?,
            },
            None => SmsGatewayRow::default(),
        })
    }

    pub async fn set_sms_gateway(&self, g: &SmsGatewayRow, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO commune_settings (tenant_id, sms_enabled, sms_endpoint, sms_token, \
             sms_sender, sms_report_secret, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant_id) DO UPDATE SET sms_enabled = excluded.sms_enabled, \
             sms_endpoint = excluded.sms_endpoint, sms_token = excluded.sms_token, \
             sms_sender = excluded.sms_sender, sms_report_secret = excluded.sms_report_secret, \
             updated_at = excluded.updated_at",
            vec![
                g.enabled.into(),
                g.endpoint.clone().into(),
                g.token_sealed.clone().into(),
                g.sender.clone().into(),
                g.report_secret_sealed.clone().into(),
                now.into(),
            ],
        )
        .await?;
        Ok(())
    }
}
