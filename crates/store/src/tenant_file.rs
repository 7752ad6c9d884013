//! The declarative description of a commune (`tenants/<slug>.toml`) and of a charter
//! (`tenants/templates/starter.toml`): parsed into typed specs, with every reference checked.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Deserialize;
use sportello_domain::hours::{Closure, WeeklyHours};
use sportello_domain::{
    AssuranceLevel, Audience, Channel, CommuneStatus, Host, IstatCode, Language, LifeEvent, Slug,
};

use crate::StoreError;

/// The starter charter every commune onboarded from the ISTAT list receives.
pub const STARTER_CHARTER: &str = include_str!("../../../tenants/templates/starter.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommuneFile {
    pub commune: CommuneSection,
    #[serde(default)]
    pub branding: Branding,
    #[serde(flatten)]
    pub charter: CharterSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommuneSection {
    pub istat_code: IstatCode,
    pub slug: Option<Slug>,
    pub primary_host: Option<Host>,
    #[serde(default)]
    pub aliases: Vec<Host>,
    #[serde(default)]
    pub default_language: Language,
    #[serde(default)]
    pub status: CommuneStatus,
    pub patron_day: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    pub color: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub pec: Option<String>,
    pub website: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CharterSpec {
    #[serde(default)]
    pub buildings: Vec<BuildingSpec>,
    #[serde(default)]
    pub offices: Vec<OfficeSpec>,
    #[serde(default)]
    pub staff: Vec<StaffSpec>,
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    /// The online forms of services with the online channel (see `domain::form`).
    #[serde(default)]
    pub forms: Vec<FormSpec>,
}

/// A service's online form as a commune file declares it: `service` and the definition.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormSpec {
    pub service: Slug,
    pub pages: Vec<sportello_domain::form::Page>,
    #[serde(default)]
    pub routing: Vec<sportello_domain::form::Route>,
}

impl FormSpec {
    pub fn definition(&self) -> sportello_domain::form::FormDef {
        sportello_domain::form::FormDef {
            pages: self.pages.clone(),
            routing: self.routing.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildingSpec {
    pub id: Slug,
    pub name: String,
    #[serde(default)]
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeSpec {
    pub id: Slug,
    pub name: String,
    pub name_en: Option<String>,
    #[serde(default)]
    pub description: String,
    /// The description in English.
    pub description_en: Option<String>,
    /// The name and description in German (province of Bolzano/Bozen only).
    pub name_de: Option<String>,
    pub description_de: Option<String>,
    pub building: Option<Slug>,
    #[serde(default)]
    pub floor: String,
    #[serde(default)]
    pub room: String,
    #[serde(default)]
    pub directions: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    pub pec: Option<String>,
    pub head: Option<Slug>,
    #[serde(default)]
    pub hours: WeeklyHours,
    #[serde(default)]
    pub closures: Vec<Closure>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffSpec {
    pub id: Slug,
    pub name: String,
    pub role: String,
    pub office: Option<Slug>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub id: Slug,
    pub title: String,
    pub title_en: Option<String>,
    pub summary: String,
    pub summary_en: Option<String>,
    #[serde(default)]
    pub description: String,
    /// The description in English.
    pub description_en: Option<String>,
    /// The texts in German (province of Bolzano/Bozen only).
    pub title_de: Option<String>,
    pub summary_de: Option<String>,
    pub description_de: Option<String>,
    pub audience: Audience,
    #[serde(default)]
    pub life_events: Vec<LifeEvent>,
    pub office: Option<Slug>,
    pub responsible: Option<Slug>,
    #[serde(default)]
    pub documents: Vec<String>,
    #[serde(default)]
    pub cost_cents: i64,
    pub cost_note: Option<String>,
    pub max_days: Option<sportello_domain::LegalDays>,
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default = "default_level")]
    pub online_level: AssuranceLevel,
    /// The online service on another site (https://…), where the online channel is.
    pub online_url: Option<sportello_domain::WebAddress>,
    pub available_from: Option<NaiveDate>,
    pub available_to: Option<NaiveDate>,
}

fn default_level() -> AssuranceLevel {
    AssuranceLevel::None
}

impl CommuneFile {
    /// Parses and checks a commune file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, StoreError> {
        let file: CommuneFile =
            toml::from_str(text).map_err(|e| StoreError::Invalid(format!("{origin}: {e}")))?;
        if let Some(p) = &file.commune.patron_day
            && crate::registry::parse_patron_day(p).is_none()
        {
            return Err(StoreError::Invalid(format!(
                "{origin}: patron_day {p:?} is not MM-DD"
            )));
        }
        if let Some(c) = &file.branding.color
            && !is_hex_colour(c)
        {
            return Err(StoreError::Invalid(format!(
                "{origin}: branding.color {c:?} is not #rrggbb"
            )));
        }
        file.charter.check(origin)?;
        Ok(file)
    }
}

pub(crate) fn is_hex_colour(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl CharterSpec {
    pub fn parse(text: &str, origin: &str) -> Result<Self, StoreError> {
        let spec: CharterSpec =
            toml::from_str(text).map_err(|e| StoreError::Invalid(format!("{origin}: {e}")))?;
        spec.check(origin)?;
        Ok(spec)
    }

    /// Every id unique in its kind, every reference resolved, every time range sane.
    pub fn check(&self, origin: &str) -> Result<(), StoreError> {
        let err = |m: String| Err(StoreError::Invalid(format!("{origin}: {m}")));
        let ids = |kind: &str,
                   it: &mut dyn Iterator<Item = &Slug>|
         -> Result<HashSet<String>, StoreError> {
            let mut seen = HashSet::new();
            for id in it {
                if !seen.insert(id.to_string()) {
                    return Err(StoreError::Invalid(format!(
                        "{origin}: {kind} id {id:?} appears twice"
                    )));
                }
            }
            Ok(seen)
        };
        let buildings = ids("building", &mut self.buildings.iter().map(|b| &b.id))?;
        let offices = ids("office", &mut self.offices.iter().map(|o| &o.id))?;
        let staff = ids("staff", &mut self.staff.iter().map(|s| &s.id))?;
        ids("service", &mut self.services.iter().map(|s| &s.id))?;
        let missing = |set: &HashSet<String>, r: &Option<Slug>| {
            r.as_ref().is_some_and(|r| !set.contains(r.as_str()))
        };
        for o in &self.offices {
            if missing(&buildings, &o.building) {
                return err(format!(
                    "office {:?} names an unknown building",
                    o.id.as_str()
                ));
            }
            if missing(&staff, &o.head) {
                return err(format!(
                    "office {:?} names an unknown head of office",
                    o.id.as_str()
                ));
            }
            let hours = sportello_domain::OpeningHours {
                weekly: o.hours.clone(),
                closures: o.closures.clone(),
                patron_day: None,
            };
            if let Err(e) = hours.check() {
                return err(format!("office {:?}: {e}", o.id.as_str()));
            }
            if o.name.trim().is_empty() {
                return err(format!("office {:?} has no name", o.id.as_str()));
            }
        }
        for s in &self.staff {
            if missing(&offices, &s.office) {
                return err(format!("staff {:?} names an unknown office", s.id.as_str()));
            }
        }
        for s in &self.services {
            if missing(&offices, &s.office) {
                return err(format!(
                    "service {:?} names an unknown office",
                    s.id.as_str()
                ));
            }
            if missing(&staff, &s.responsible) {
                return err(format!(
                    "service {:?} names an unknown responsible person",
                    s.id.as_str()
                ));
            }
            if s.title.trim().is_empty() {
                return err(format!("service {:?} has no title", s.id.as_str()));
            }
            if s.cost_cents < 0 {
                return err(format!("service {:?} has a negative cost", s.id.as_str()));
            }
            if let (Some(a), Some(b)) = (s.available_from, s.available_to)
                && a > b
            {
                return err(format!(
                    "service {:?} is available to a date before it is available from",
                    s.id.as_str()
                ));
            }
        }
        let office_ids: Vec<&str> = offices.iter().map(String::as_str).collect();
        let mut with_form = HashSet::new();
        for f in &self.forms {
            let sid = f.service.as_str();
            let Some(s) = self.services.iter().find(|s| s.id.as_str() == sid) else {
                return err(format!("form for an unknown service {sid:?}"));
            };
            if !s.channels.contains(&Channel::Online) || s.online_url.is_some() {
                return err(format!(
                    "form for service {sid:?}: only a service with the online channel here (no online_url) takes a form"
                ));
            }
            if s.office.is_none() && f.routing.is_empty() {
                return err(format!(
                    "form for service {sid:?}: the service has no office to route cases to"
                ));
            }
            if !with_form.insert(sid) {
                return err(format!("service {sid:?} has two forms"));
            }
            if let Err(e) = f.definition().check(&office_ids) {
                return err(format!("form for service {sid:?}: {e}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "tests/tenant_file.rs"]
mod tests;
