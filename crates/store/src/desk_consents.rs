//! "Any desk of the federation": which partner communes' front desks each commune lets file its
//! cases. One row per commune that allows any (`*`, or `,<id>,<id>,`), read across communes in
//! one query: a desk's list of communes it may file for costs the same with 7 communes or 8,000.
//! Cross-commune by nature, so on [`FederationDb`], the greppable cross-tenant handle.

use sea_orm::ConnectionTrait;

use crate::identity::get;
use crate::raw::stmt;
use crate::{FederationDb, Result};

/// Which desks a commune lets file with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DeskConsent {
    #[default]
    None,
    All,
    Some(Vec<i64>),
}

impl DeskConsent {
    fn stored(&self) -> Option<String> {
        match self {
            DeskConsent::None => None,
            DeskConsent::All => Some("*".into()),
            DeskConsent::Some(ids) => Some(format!(
                ",{},",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            )),
        }
    }

    fn read(s: &str) -> Self {
        if s == "*" {
            return DeskConsent::All;
        }
        let ids: Vec<i64> = s.split(',').filter_map(|x| x.parse().ok()).collect();
        if ids.is_empty() {
            DeskConsent::None
        } else {
            DeskConsent::Some(ids)
        }
    }

    pub fn allows(&self, from: i64) -> bool {
        match self {
            DeskConsent::None => false,
            DeskConsent::All => true,
            DeskConsent::Some(ids) => ids.contains(&from),
        }
    }
}

impl FederationDb<'_> {
    /// What `commune` allows.
    pub async fn desk_consent(&self, commune: i64) -> Result<DeskConsent> {
        let c = self.conn();
        let row = c
            .query_one_raw(stmt(
                c.get_database_backend(),
                "SELECT partners FROM desk_consents WHERE commune_id = $1",
                vec![commune.into()],
            ))
            .await?;
        Ok(match row {
            Some(r) => DeskConsent::read(&get::<String>(&r, "partners")?),
            None => DeskConsent::None,
        })
    }

    /// The communes that let the desks of `from` file with them.
    pub async fn desk_targets(&self, from: i64) -> Result<Vec<i64>> {
        let c = self.conn();
        c.query_all_raw(stmt(
            c.get_database_backend(),
            "SELECT commune_id FROM desk_consents WHERE partners = '*' OR partners LIKE $1 \
             ORDER BY commune_id",
            vec![format!("%,{from},%").into()],
        ))
        .await?
        .iter()
        .map(|r| get(r, "commune_id"))
        .collect()
    }
}

impl crate::TenantDb<'_> {
    /// Sets what this commune allows, in its own transaction (its row only): the change and
    /// its audit entry commit together.
    pub async fn set_own_desk_consent(&self, d: &DeskConsent, now: i64) -> Result<()> {
        let tenant = self.tenant().0;
        match d.stored() {
            None => {
                self.exec(
                    "DELETE FROM desk_consents WHERE commune_id = $2",
                    vec![tenant.into()],
                )
                .await?;
            }
            Some(p) => {
                self.exec(
                    "INSERT INTO desk_consents (commune_id, partners, updated_at) VALUES ($2, $3, $4) \
                     ON CONFLICT (commune_id) DO UPDATE SET partners = excluded.partners, \
                     updated_at = excluded.updated_at",
                    vec![tenant.into(), p.into(), now.into()],
                )
                .await?;
            }
        }
        Ok(())
    }
}
