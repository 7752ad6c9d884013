//! The registry of communes: who answers on which host. Read whole into memory by the server.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sportello_domain::{CommuneStatus, Language, TenantId};

use crate::entity::{commune, commune_host};
use crate::{FederationDb, Result, StoreError};

/// A commune as the portal needs it to route and brand pages.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CommuneRecord {
    pub id: TenantId,
    pub istat_code: String,
    pub cadastral_code: String,
    pub name: String,
    pub name_other: Option<String>,
    pub province_code: String,
    pub province_name: String,
    pub region: String,
    pub slug: String,
    pub primary_host: String,
    pub aliases: Vec<String>,
    pub default_language: Language,
    /// The languages the portal offers (the default among them).
    pub languages: Vec<Language>,
    pub status: CommuneStatus,
    pub color: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub pec: Option<String>,
    pub website: Option<String>,
    /// (month, day)
    pub patron_day: Option<(u32, u32)>,
    /// Changes whenever the commune or its charter changes: caches key on it.
    pub version: i64,
}

pub(crate) fn parse_patron_day(s: &str) -> Option<(u32, u32)> {
    let (m, d) = s.split_once('-')?;
    let (m, d) = (m.parse().ok()?, d.parse().ok()?);
    chrono::NaiveDate::from_ymd_opt(2024, m, d).map(|_| (m, d))
}

impl CommuneRecord {
    fn from_model(m: commune::Model, aliases: Vec<String>) -> Result<Self> {
        let corrupt = |e: sportello_domain::ParseError| {
            StoreError::Corrupt(format!("commune {}: {e}", m.istat_code))
        };
        Ok(Self {
            id: TenantId(m.id),
            default_language: Language::parse(&m.default_language).map_err(corrupt)?,
            languages: vec![],
            status: CommuneStatus::parse(&m.status).map_err(corrupt)?,
            patron_day: m.patron_day.as_deref().and_then(parse_patron_day),
            version: m.updated_at,
            istat_code: m.istat_code,
            cadastral_code: m.cadastral_code,
            name: m.name,
            name_other: m.name_other,
            province_code: m.province_code,
            province_name: m.province_name,
            region: m.region,
            slug: m.slug,
            primary_host: m.primary_host,
            aliases,
            color: m.color,
            email: m.email,
            phone: m.phone,
            pec: m.pec,
            website: m.website,
        })
    }
}

impl FederationDb<'_> {
    /// Every commune with its aliases, ordered by name.
    pub async fn load_registry(&self) -> Result<Vec<CommuneRecord>> {
        let communes = commune::Entity::find()
            .order_by_asc(commune::Column::Name)
            .all(self.conn())
            .await?;
        let hosts = commune_host::Entity::find()
            .filter(commune_host::Column::IsPrimary.eq(false))
            .all(self.conn())
            .await?;
        let mut aliases: std::collections::HashMap<i64, Vec<String>> = Default::default();
        for h in hosts {
            aliases.entry(h.commune_id).or_default().push(h.host);
        }
        let languages: std::collections::HashMap<i64, String> = {
            use sea_orm::{ConnectionTrait, Statement};
            self.conn()
                .query_all_raw(Statement::from_string(
                    self.conn().get_database_backend(),
                    "SELECT id, languages FROM communes",
                ))
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        crate::identity::get(r, "id")?,
                        crate::identity::get(r, "languages")?,
                    ))
                })
                .collect::<Result<_>>()?
        };
        communes
            .into_iter()
            .map(|c| {
                let a = aliases.remove(&c.id).unwrap_or_default();
                let offered = languages.get(&c.id).cloned().unwrap_or_default();
                let mut r = CommuneRecord::from_model(c, a)?;
                r.languages = offered
                    .split(',')
                    .filter_map(|l| Language::parse(l.trim()).ok())
                    .collect();
                if !r.languages.contains(&r.default_language) {
                    r.languages.insert(0, r.default_language);
                }
                Ok(r)
            })
            .collect()
    }

    /// A number that grows whenever a commune or its hosts change: the server polls it to
    /// refresh its in-memory registry without a restart.
    pub async fn registry_revision(&self) -> Result<i64> {
        use sea_orm::{ConnectionTrait, Statement};
        let row = self
            .conn()
            .query_one_raw(Statement::from_string(
                self.conn().get_database_backend(),
                "SELECT value FROM federation_meta WHERE key = 'registry_revision'",
            ))
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt("federation_meta has no registry_revision".into())
            })?;
        Ok(row.try_get::<i64>("", "value")?)
    }

    /// How many communes there are.
    pub async fn commune_count(&self) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(commune::Entity::find().count(self.conn()).await?)
    }

    /// Every ISTAT code and primary host known (for onboarding's duplicate checks).
    pub async fn known_hosts(&self) -> Result<Vec<(String, i64)>> {
        Ok(commune_host::Entity::find()
            .select_only()
            .column(commune_host::Column::Host)
            .column(commune_host::Column::CommuneId)
            .into_tuple()
            .all(self.conn())
            .await?)
    }
}
