//! Reading the digital service charter of one commune. Every function here is a method of
//! [`TenantDb`]: there is no way to read charter data without naming the commune.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use sportello_domain::hours::{Closure, WeeklyHours};
use sportello_domain::{AssuranceLevel, Audience, Channel, LifeEvent, Money, WebAddress};

use crate::entity::{building, charter_history, office, service, staff};
use crate::{Result, StoreError, TenantDb};

/// How an office's hours are stored (JSON in `offices.hours`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredHours {
    pub weekly: WeeklyHours,
    #[serde(default)]
    pub closures: Vec<Closure>,
}

pub type Building = building::Model;
pub type Staff = staff::Model;

#[derive(Debug, Clone, PartialEq)]
pub struct Office {
    pub id: String,
    pub name: String,
    pub name_en: Option<String>,
    pub description: String,
    pub description_en: Option<String>,
    pub name_de: Option<String>,
    pub description_de: Option<String>,
    pub building_id: Option<String>,
    pub floor: String,
    pub room: String,
    pub directions: String,
    pub phone: String,
    pub email: String,
    pub pec: Option<String>,
    pub head_id: Option<String>,
    pub hours: StoredHours,
    pub updated_at: i64,
    /// Not yet published (see the entity).
    pub draft: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: String,
    pub title: String,
    pub title_en: Option<String>,
    pub summary: String,
    pub summary_en: Option<String>,
    pub description: String,
    pub description_en: Option<String>,
    pub title_de: Option<String>,
    pub summary_de: Option<String>,
    pub description_de: Option<String>,
    pub audience: Audience,
    pub life_events: Vec<LifeEvent>,
    pub office_id: Option<String>,
    pub responsible_id: Option<String>,
    pub documents: Vec<String>,
    pub cost: Money,
    pub cost_note: Option<String>,
    pub max_days: Option<i32>,
    pub channels: Vec<Channel>,
    pub online_level: AssuranceLevel,
    /// The online service on another site, if the online channel is there.
    pub online_url: Option<WebAddress>,
    /// The online service here: a form of its own (cases).
    pub online_form: bool,
    pub available_from: Option<NaiveDate>,
    pub available_to: Option<NaiveDate>,
    /// When this version started to hold (microseconds since the epoch).
    pub valid_from: i64,
}

fn corrupt(what: &str, id: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} {id}: {e}"))
}

impl TryFrom<office::Model> for Office {
    type Error = StoreError;
    fn try_from(m: office::Model) -> Result<Self> {
        let hours = serde_json::from_str(&m.hours).map_err(|e| corrupt("office", &m.id, e))?;
        Ok(Office {
            id: m.id,
            name: m.name,
            name_en: m.name_en,
            description: m.description,
            description_en: m.description_en,
            name_de: m.name_de,
            description_de: m.description_de,
            building_id: m.building_id,
            floor: m.floor,
            room: m.room,
            directions: m.directions,
            phone: m.phone,
            email: m.email,
            pec: m.pec,
            head_id: m.head_id,
            hours,
            updated_at: m.updated_at,
            draft: m.draft,
        })
    }
}

impl TryFrom<service::Model> for Service {
    type Error = StoreError;
    fn try_from(m: service::Model) -> Result<Self> {
        let c = |e: &dyn std::fmt::Display| corrupt("service", &m.id, e);
        let keys = |s: &str| serde_json::from_str::<Vec<String>>(s).map_err(|e| c(&e));
        let date = |s: &Option<String>| -> Result<Option<NaiveDate>> {
            s.as_deref()
                .map(|d| d.parse().map_err(|e| c(&e)))
                .transpose()
        };
        Ok(Service {
            audience: Audience::parse(&m.audience).map_err(|e| c(&e))?,
            life_events: keys(&m.life_events)?
                .iter()
                .map(|k| LifeEvent::parse(k).map_err(|e| c(&e)))
                .collect::<Result<_>>()?,
            documents: keys(&m.documents)?,
            channels: keys(&m.channels)?
                .iter()
                .map(|k| Channel::parse(k).map_err(|e| c(&e)))
                .collect::<Result<_>>()?,
            online_level: AssuranceLevel::parse(&m.online_level).map_err(|e| c(&e))?,
            online_url: m
                .online_url
                .as_deref()
                .map(|u| WebAddress::parse(u).map_err(|e| c(&e)))
                .transpose()?,
            online_form: false,
            available_from: date(&m.available_from)?,
            available_to: date(&m.available_to)?,
            cost: Money::from_cents(m.cost_cents),
            id: m.id,
            title: m.title,
            title_en: m.title_en,
            summary: m.summary,
            summary_en: m.summary_en,
            description: m.description,
            description_en: m.description_en,
            title_de: m.title_de,
            summary_de: m.summary_de,
            description_de: m.description_de,
            office_id: m.office_id,
            responsible_id: m.responsible_id,
            cost_note: m.cost_note,
            max_days: m.max_days,
            valid_from: m.updated_at,
        })
    }
}

impl Service {
    /// Whether the service can really be done online now: its online channel leads somewhere
    /// (another site's service, or a form of our own).
    pub fn online(&self) -> bool {
        self.channels.contains(&Channel::Online) && (self.online_url.is_some() || self.online_form)
    }
}

impl TenantDb<'_> {
    pub async fn services(&self) -> Result<Vec<Service>> {
        let mut list: Vec<Service> = service::Entity::find()
            .filter(service::Column::TenantId.eq(self.tenant().0))
            .order_by_asc(service::Column::Title)
            .all(self.conn())
            .await?
            .into_iter()
            .map(Service::try_from)
            .collect::<Result<_>>()?;
        let with_forms = self.services_with_forms().await?;
        for s in &mut list {
            s.online_form = with_forms.contains(&s.id);
        }
        Ok(list)
    }

    pub async fn service(&self, id: &str) -> Result<Option<Service>> {
        let mut s = service::Entity::find_by_id((self.tenant().0, id.to_owned()))
            .one(self.conn())
            .await?
            .map(Service::try_from)
            .transpose()?;
        if let Some(s) = &mut s {
            s.online_form = self.form(id, None).await?.is_some();
        }
        Ok(s)
    }

    /// The services that have a form (cases are filed online here).
    async fn services_with_forms(&self) -> Result<std::collections::HashSet<String>> {
        self.all(
            "SELECT DISTINCT service_id FROM forms WHERE tenant_id = $1",
            vec![],
        )
        .await?
        .iter()
        .map(|r| crate::identity::get(r, "service_id"))
        .collect()
    }

    /// The service as it was at `at` (microseconds since the epoch), from its history.
    pub async fn service_as_of(&self, id: &str, at: i64) -> Result<Option<Service>> {
        let row = charter_history::Entity::find()
            .filter(charter_history::Column::TenantId.eq(self.tenant().0))
            .filter(charter_history::Column::Kind.eq("service"))
            .filter(charter_history::Column::EntityId.eq(id))
            .filter(charter_history::Column::ValidFrom.lte(at))
            .filter(
                Condition::any()
                    .add(charter_history::Column::ValidTo.is_null())
                    .add(charter_history::Column::ValidTo.gt(at)),
            )
            .one(self.conn())
            .await?;
        let Some(snapshot) = row.and_then(|r| r.snapshot) else {
            return Ok(None);
        };
        let m: service::Model =
            serde_json::from_str(&snapshot).map_err(|e| corrupt("service history", id, e))?;
        if m.tenant_id != self.tenant().0 {
            return Err(corrupt("service history", id, "belongs to another commune"));
        }
        Service::try_from(m).map(Some)
    }

    /// How many versions of a kind of entity the history holds for `id`.
    pub async fn history_len(&self, kind: &str, id: &str) -> Result<usize> {
        Ok(charter_history::Entity::find()
            .filter(charter_history::Column::TenantId.eq(self.tenant().0))
            .filter(charter_history::Column::Kind.eq(kind))
            .filter(charter_history::Column::EntityId.eq(id))
            .all(self.conn())
            .await?
            .len())
    }

    pub async fn offices(&self) -> Result<Vec<Office>> {
        office::Entity::find()
            .filter(office::Column::TenantId.eq(self.tenant().0))
            .order_by_asc(office::Column::Name)
            .all(self.conn())
            .await?
            .into_iter()
            .map(Office::try_from)
            .collect()
    }

    pub async fn office(&self, id: &str) -> Result<Option<Office>> {
        office::Entity::find_by_id((self.tenant().0, id.to_owned()))
            .one(self.conn())
            .await?
            .map(Office::try_from)
            .transpose()
    }

    pub async fn buildings(&self) -> Result<Vec<Building>> {
        Ok(building::Entity::find()
            .filter(building::Column::TenantId.eq(self.tenant().0))
            .all(self.conn())
            .await?)
    }

    pub async fn staff(&self) -> Result<Vec<Staff>> {
        Ok(staff::Entity::find()
            .filter(staff::Column::TenantId.eq(self.tenant().0))
            .order_by_asc(staff::Column::Name)
            .all(self.conn())
            .await?)
    }
}
