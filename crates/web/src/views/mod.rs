//! What pages and the JSON API show: charter records turned into view models, with labels in the
//! page's language. The same structs feed templates and JSON.

use chrono::NaiveDateTime;
use serde::Serialize;
use sportello_domain::hours::OpeningHours;
use sportello_domain::{Channel, Language, LifeEvent, OpeningStatus};
use sportello_store::charter::{Building, Office, Service, Staff};

use crate::i18n::Strings;
use crate::tenancy::Commune;

mod jsonld;
mod office;
pub mod qr;
pub mod when;

pub use jsonld::{cpsv_jsonld, script_json};
pub use office::*;

#[derive(Serialize, Clone)]
pub struct KeyLabel {
    pub key: &'static str,
    pub label: &'static str,
}

#[derive(Serialize)]
pub struct LifeEventView {
    pub key: &'static str,
    pub label: &'static str,
    pub icon: &'static str,
    pub count: usize,
}

pub fn life_events(lang: Language, services: &[Service]) -> Vec<LifeEventView> {
    LifeEvent::ALL
        .iter()
        .map(|e| LifeEventView {
            key: e.key(),
            label: e.label(lang),
            icon: e.icon(),
            count: services
                .iter()
                .filter(|s| s.life_events.contains(e))
                .count(),
        })
        .collect()
}

#[derive(Serialize)]
pub struct CommuneView<'a> {
    pub name: &'a str,
    pub name_other: Option<&'a str>,
    pub slug: &'a str,
    pub istat_code: &'a str,
    pub cadastral_code: &'a str,
    pub province_code: &'a str,
    pub province_name: &'a str,
    pub region: &'a str,
    pub color: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub pec: Option<&'a str>,
    pub website: Option<&'a str>,
    pub default_language: &'static str,
}

impl<'a> CommuneView<'a> {
    pub fn of(c: &'a Commune) -> Self {
        let r = &c.record;
        Self {
            name: &r.name,
            name_other: r.name_other.as_deref(),
            slug: &r.slug,
            istat_code: &r.istat_code,
            cadastral_code: &r.cadastral_code,
            province_code: &r.province_code,
            province_name: &r.province_name,
            region: &r.region,
            color: &r.color,
            email: r.email.as_deref(),
            phone: r.phone.as_deref(),
            pec: r.pec.as_deref(),
            website: r.website.as_deref(),
            default_language: r.default_language.key(),
        }
    }
}

fn pick<'a>(lang: Language, it: &'a str, en: &'a Option<String>) -> &'a str {
    match (lang, en) {
        (Language::En, Some(e)) if !e.trim().is_empty() => e,
        _ => it,
    }
}

/// The language of the text [`pick`] shows, when it is not the page's: `"it"` for the Italian
/// text on an English page (the page marks it, WCAG 3.1.2).
pub(crate) fn picked_lang(lang: Language, en: &Option<String>) -> Option<&'static str> {
    (lang == Language::En && en.as_ref().is_none_or(|e| e.trim().is_empty())).then_some("it")
}

/// A text in German, shown beside the Italian (province of Bolzano/Bozen), if given.
pub(crate) fn german(de: &Option<String>) -> Option<&str> {
    de.as_deref().map(str::trim).filter(|d| !d.is_empty())
}

/// A service's texts in German, where the commune gives them.
#[derive(Serialize)]
pub struct ServiceGerman<'a> {
    pub title: Option<&'a str>,
    pub summary: Option<&'a str>,
    pub description: Option<&'a str>,
}

impl<'a> ServiceGerman<'a> {
    fn of(s: &'a Service) -> Option<Self> {
        let g = ServiceGerman {
            title: german(&s.title_de),
            summary: german(&s.summary_de),
            description: german(&s.description_de),
        };
        (g.title.is_some() || g.summary.is_some() || g.description.is_some()).then_some(g)
    }
}

#[derive(Serialize)]
pub struct ServiceSummary<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    /// The language of `title`/`summary` when not the page's (no translation yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_lang: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary_lang: Option<&'static str>,
    /// The title in German, beside the Italian.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_de: Option<&'a str>,
    pub audience: &'static str,
    pub audience_label: &'static str,
    pub online: bool,
    pub life_events: Vec<KeyLabel>,
}

fn event_labels(lang: Language, events: &[LifeEvent]) -> Vec<KeyLabel> {
    events
        .iter()
        .map(|e| KeyLabel {
            key: e.key(),
            label: e.label(lang),
        })
        .collect()
}

pub fn service_summary<'a>(lang: Language, s: &'a Service) -> ServiceSummary<'a> {
    ServiceSummary {
        id: &s.id,
        title: pick(lang, &s.title, &s.title_en),
        summary: pick(lang, &s.summary, &s.summary_en),
        title_lang: picked_lang(lang, &s.title_en),
        summary_lang: picked_lang(lang, &s.summary_en),
        title_de: german(&s.title_de),
        audience: s.audience.key(),
        audience_label: s.audience.label(lang),
        online: s.online(),
        life_events: event_labels(lang, &s.life_events),
    }
}

#[derive(Serialize)]
pub struct OfficeRef<'a> {
    pub id: &'a str,
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_lang: Option<&'static str>,
    pub building_name: Option<&'a str>,
    pub address: Option<&'a str>,
    pub floor: &'a str,
    pub room: &'a str,
    pub open_now: bool,
}

#[derive(Serialize)]
pub struct PersonRef<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub email: Option<&'a str>,
}

#[derive(Serialize)]
pub struct ServiceView<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    /// The language of `title`/`summary` when not the page's (no translation yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_lang: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary_lang: Option<&'static str>,
    pub description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_lang: Option<&'static str>,
    /// The texts in German, beside the Italian (province of Bolzano/Bozen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub de: Option<ServiceGerman<'a>>,
    pub audience: &'static str,
    pub audience_label: &'static str,
    pub life_events: Vec<KeyLabel>,
    pub office: Option<OfficeRef<'a>>,
    pub responsible: Option<PersonRef<'a>>,
    pub documents: &'a [String],
    pub cost_cents: i64,
    pub cost_label: String,
    pub cost_note: Option<&'a str>,
    pub max_days: Option<i32>,
    pub channels: Vec<KeyLabel>,
    pub online_level: Option<&'static str>,
    pub online_level_label: Option<&'static str>,
    /// Where the online service is (another site), and that site's host.
    pub online_url: Option<&'a str>,
    /// Filed here, through the service's form.
    pub online_here: bool,
    pub online_site: Option<&'a str>,
    pub available_from: Option<String>,
    pub available_to: Option<String>,
    pub valid_from: String,
}

/// Everything a page about one service needs besides the service.
pub struct Related<'a> {
    pub offices: &'a [Office],
    pub buildings: &'a [Building],
    pub staff: &'a [Staff],
    pub now: NaiveDateTime,
    pub patron_day: Option<(u32, u32)>,
}

impl<'a> Related<'a> {
    /// What a commune's cached charter says about its services' surroundings, now.
    pub fn of(c: &'a sportello_charter::Charter) -> Self {
        Related {
            offices: &c.offices,
            buildings: &c.buildings,
            staff: &c.staff,
            now: crate::routes::local_now(),
            patron_day: c.patron_day,
        }
    }

    fn building(&self, id: &Option<String>) -> Option<&'a Building> {
        id.as_ref()
            .and_then(|id| self.buildings.iter().find(|b| &b.id == id))
    }
    pub fn hours(&self, o: &Office) -> OpeningHours {
        OpeningHours {
            weekly: o.hours.weekly.clone(),
            closures: o.hours.closures.clone(),
            patron_day: self.patron_day,
        }
    }
    pub fn office_ref(&self, lang: Language, o: &'a Office) -> OfficeRef<'a> {
        let b = self.building(&o.building_id);
        OfficeRef {
            id: &o.id,
            name: pick(lang, &o.name, &o.name_en),
            name_lang: picked_lang(lang, &o.name_en),
            building_name: b.map(|b| b.name.as_str()),
            address: b.map(|b| b.address.as_str()).filter(|a| !a.is_empty()),
            floor: &o.floor,
            room: &o.room,
            open_now: matches!(
                self.hours(o).status_at(self.now),
                OpeningStatus::Open { .. }
            ),
        }
    }
    fn person(&self, id: &Option<String>) -> Option<PersonRef<'a>> {
        let s = id
            .as_ref()
            .and_then(|id| self.staff.iter().find(|s| &s.id == id))?;
        Some(PersonRef {
            id: &s.id,
            name: &s.name,
            role: &s.role,
            email: s.email.as_deref(),
        })
    }
}

fn micros_to_date(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|d| d.date_naive().to_string())
        .unwrap_or_default()
}

pub fn service_view<'a>(
    lang: Language,
    strings: &Strings,
    s: &'a Service,
    rel: &Related<'a>,
) -> ServiceView<'a> {
    let online = s.online();
    let office = s
        .office_id
        .as_ref()
        .and_then(|id| rel.offices.iter().find(|o| &o.id == id));
    ServiceView {
        id: &s.id,
        title: pick(lang, &s.title, &s.title_en),
        summary: pick(lang, &s.summary, &s.summary_en),
        title_lang: picked_lang(lang, &s.title_en),
        summary_lang: picked_lang(lang, &s.summary_en),
        description: pick(lang, &s.description, &s.description_en),
        description_lang: picked_lang(lang, &s.description_en),
        de: ServiceGerman::of(s),
        audience: s.audience.key(),
        audience_label: s.audience.label(lang),
        life_events: event_labels(lang, &s.life_events),
        office: office.map(|o| rel.office_ref(lang, o)),
        responsible: rel.person(&s.responsible_id),
        documents: &s.documents,
        cost_cents: s.cost.cents(),
        cost_label: if s.cost.is_zero() {
            strings.get(lang, "free").to_owned()
        } else {
            s.cost.to_string()
        },
        cost_note: s.cost_note.as_deref(),
        max_days: s.max_days,
        // The online channel only where it leads somewhere.
        channels: s
            .channels
            .iter()
            .filter(|c| **c != Channel::Online || online)
            .map(|c| KeyLabel {
                key: c.key(),
                label: c.label(lang),
            })
            .collect(),
        online_level: online.then(|| s.online_level.key()),
        online_url: s.online_url.as_ref().filter(|_| online).map(|u| u.as_str()),
        online_here: online && s.online_url.is_none() && s.online_form,
        online_site: s.online_url.as_ref().filter(|_| online).map(|u| u.host()),
        online_level_label: online.then(|| s.online_level.label(lang)),
        available_from: s.available_from.map(|d| d.to_string()),
        available_to: s.available_to.map(|d| d.to_string()),
        valid_from: micros_to_date(s.valid_from),
    }
}

#[derive(Serialize)]
pub struct StaffView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub office: Option<KeyName<'a>>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
}

#[derive(Serialize)]
pub struct KeyName<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

pub fn staff_view<'a>(lang: Language, s: &'a Staff, offices: &'a [Office]) -> StaffView<'a> {
    let office = s
        .office_id
        .as_ref()
        .and_then(|id| offices.iter().find(|o| &o.id == id));
    StaffView {
        id: &s.id,
        name: &s.name,
        role: &s.role,
        office: office.map(|o| KeyName {
            id: &o.id,
            name: pick(lang, &o.name, &o.name_en),
        }),
        email: s.email.as_deref(),
        phone: s.phone.as_deref(),
    }
}

#[cfg(test)]
#[path = "../tests/views.rs"]
mod tests;
