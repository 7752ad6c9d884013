//! What pages and the JSON API show: charter records turned into view models, with labels in the
//! page's language. The same structs feed templates and JSON.

use chrono::{Datelike, NaiveDateTime, Weekday};
use serde::Serialize;
use sportello_domain::hours::{Exception, OpeningHours};
use sportello_domain::{AssuranceLevel, Channel, Language, LifeEvent, OpeningStatus};
use sportello_store::charter::{Building, Office, Service, Staff};

use crate::i18n::Strings;
use crate::tenancy::Commune;

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

#[derive(Serialize)]
pub struct ServiceSummary<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
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
        audience: s.audience.key(),
        audience_label: s.audience.label(lang),
        online: s.channels.contains(&Channel::Online),
        life_events: event_labels(lang, &s.life_events),
    }
}

#[derive(Serialize)]
pub struct OfficeRef<'a> {
    pub id: &'a str,
    pub name: &'a str,
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
    pub description: &'a str,
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
    let online = s.channels.contains(&Channel::Online);
    let office = s
        .office_id
        .as_ref()
        .and_then(|id| rel.offices.iter().find(|o| &o.id == id));
    ServiceView {
        id: &s.id,
        title: pick(lang, &s.title, &s.title_en),
        summary: pick(lang, &s.summary, &s.summary_en),
        description: &s.description,
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
        channels: s
            .channels
            .iter()
            .map(|c| KeyLabel {
                key: c.key(),
                label: c.label(lang),
            })
            .collect(),
        online_level: online.then(|| s.online_level.key()),
        online_level_label: online.then(|| s.online_level.label(lang)),
        available_from: s.available_from.map(|d| d.to_string()),
        available_to: s.available_to.map(|d| d.to_string()),
        valid_from: micros_to_date(s.valid_from),
    }
}

#[derive(Serialize)]
pub struct OfficeSummary<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub building_name: Option<&'a str>,
    pub address: Option<&'a str>,
    pub floor: &'a str,
    pub room: &'a str,
    pub open_now: bool,
}

pub fn office_summary<'a>(lang: Language, o: &'a Office, rel: &Related<'a>) -> OfficeSummary<'a> {
    let r = rel.office_ref(lang, o);
    OfficeSummary {
        id: r.id,
        name: r.name,
        description: &o.description,
        building_name: r.building_name,
        address: r.address,
        floor: r.floor,
        room: r.room,
        open_now: r.open_now,
    }
}

#[derive(Serialize)]
pub struct BuildingView<'a> {
    pub name: &'a str,
    pub address: &'a str,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Serialize)]
pub struct DayView {
    pub day_label: &'static str,
    pub date: String,
    pub ranges: String,
    pub closed: bool,
    pub today: bool,
    pub note: Option<String>,
}

#[derive(Serialize)]
pub struct ClosureView {
    pub date: String,
    pub date_label: String,
    pub note: Option<String>,
    pub hours: Option<String>,
}

#[derive(Serialize)]
pub struct OfficeView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub building: Option<BuildingView<'a>>,
    pub floor: &'a str,
    pub room: &'a str,
    pub directions: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub pec: Option<&'a str>,
    pub head: Option<PersonRef<'a>>,
    pub open_now: bool,
    pub status_label: String,
    pub week: Vec<DayView>,
    pub closures: Vec<ClosureView>,
}

fn day_name(lang: Language, d: Weekday) -> &'static str {
    let it = [
        "lunedì",
        "martedì",
        "mercoledì",
        "giovedì",
        "venerdì",
        "sabato",
        "domenica",
    ];
    let en = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let i = d.num_days_from_monday() as usize;
    if lang == Language::En { en[i] } else { it[i] }
}

fn join_ranges(r: &[sportello_domain::TimeRange]) -> String {
    r.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn date_label(lang: Language, d: chrono::NaiveDate) -> String {
    let months_it = [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ];
    let months_en = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let m = d.month0() as usize;
    match lang {
        Language::En => format!(
            "{} {} {} {}",
            day_name(lang, d.weekday()),
            d.day(),
            months_en[m],
            d.year()
        ),
        _ => format!(
            "{} {} {} {}",
            day_name(lang, d.weekday()),
            d.day(),
            months_it[m],
            d.year()
        ),
    }
}

pub fn office_view<'a>(
    lang: Language,
    strings: &Strings,
    o: &'a Office,
    rel: &Related<'a>,
) -> OfficeView<'a> {
    let hours = rel.hours(o);
    let status = hours.status_at(rel.now);
    let status_label = match &status {
        OpeningStatus::Open { closes_at } => {
            format!(
                "{} · {} {}",
                strings.get(lang, "open_now"),
                strings.get(lang, "closes_at"),
                closes_at.format("%H:%M")
            )
        }
        OpeningStatus::Closed {
            reopens_at: Some(t),
        } => {
            let when = if t.date() == rel.now.date() {
                strings.get(lang, "today").to_owned()
            } else {
                day_name(lang, t.weekday()).to_owned()
            };
            format!(
                "{} · {} {} {} {}",
                strings.get(lang, "closed_now"),
                strings.get(lang, "reopens"),
                when,
                strings.get(lang, "at_time"),
                t.format("%H:%M")
            )
        }
        OpeningStatus::Closed { reopens_at: None } => strings.get(lang, "closed_now").to_owned(),
    };
    // This week, Monday to Sunday, with the exceptions that fall in it.
    let today = rel.now.date();
    let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
    let week = (0..7)
        .filter_map(|i| monday.checked_add_days(chrono::Days::new(i)))
        .map(|d| {
            let (ranges, exc) = hours.day(d);
            DayView {
                day_label: day_name(lang, d.weekday()),
                date: d.to_string(),
                ranges: join_ranges(&ranges),
                closed: ranges.is_empty(),
                today: d == today,
                note: exc.map(|e| match e {
                    Exception::NationalHoliday => strings.get(lang, "national_holiday").to_owned(),
                    Exception::PatronDay => strings.get(lang, "patron_day").to_owned(),
                    Exception::Closure(n) => {
                        n.unwrap_or_else(|| strings.get(lang, "closure").to_owned())
                    }
                }),
            }
        })
        .collect();
    let closures = o
        .hours
        .closures
        .iter()
        .filter(|c| c.date >= today)
        .map(|c| ClosureView {
            date: c.date.to_string(),
            date_label: date_label(lang, c.date),
            note: c.note.clone(),
            hours: c.hours.as_deref().map(join_ranges),
        })
        .collect();
    let b = rel.building(&o.building_id);
    OfficeView {
        id: &o.id,
        name: pick(lang, &o.name, &o.name_en),
        description: &o.description,
        building: b.map(|b| BuildingView {
            name: &b.name,
            address: &b.address,
            lat: b.lat,
            lon: b.lon,
        }),
        floor: &o.floor,
        room: &o.room,
        directions: &o.directions,
        phone: &o.phone,
        email: &o.email,
        pec: o.pec.as_deref(),
        head: rel.person(&o.head_id),
        open_now: matches!(status, OpeningStatus::Open { .. }),
        status_label,
        week,
        closures,
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

/// The service as CPSV-AP (Core Public Service Vocabulary Application Profile) JSON-LD.
pub fn cpsv_jsonld(
    c: &Commune,
    base_url: &str,
    s: &Service,
    rel: &Related<'_>,
) -> serde_json::Value {
    let office = s
        .office_id
        .as_ref()
        .and_then(|id| rel.offices.iter().find(|o| &o.id == id));
    let url = format!("{base_url}/servizi/{}", s.id);
    let mut v = serde_json::json!({
        "@context": {
            "cpsv": "http://purl.org/vocab/cpsv#",
            "dct": "http://purl.org/dc/terms/",
            "cv": "http://data.europa.eu/m8g/",
            "schema": "http://schema.org/",
            "skos": "http://www.w3.org/2004/02/skos/core#"
        },
        "@id": url,
        "@type": "cpsv:PublicService",
        "dct:identifier": s.id,
        "dct:title": [{"@value": s.title, "@language": "it"}],
        "dct:description": [{"@value": s.description, "@language": "it"}],
        "cv:hasCompetentAuthority": {
            "@type": "cv:PublicOrganisation",
            "skos:prefLabel": format!("Comune di {}", c.record.name),
            "dct:identifier": format!("istat:{}", c.record.istat_code),
        },
        "cv:hasChannel": s.channels.iter().map(|ch| serde_json::json!({"@type": "cv:Channel", "dct:type": ch.key()})).collect::<Vec<_>>(),
        "cv:isGroupedBy": s.life_events.iter().map(|e| serde_json::json!({"@type": "cv:Event", "dct:title": e.label(Language::It), "dct:identifier": e.key()})).collect::<Vec<_>>(),
        "cv:hasInput": s.documents.iter().map(|d| serde_json::json!({"@type": "cv:Evidence", "dct:title": d})).collect::<Vec<_>>(),
        "cv:hasCost": {"@type": "cv:Cost", "cv:value": s.cost.decimal(), "cv:currency": "EUR", "dct:description": s.cost_note},
        "cv:processingTime": s.max_days.map(|d| format!("P{d}D")),
    });
    if let (Some(en), Some(obj)) = (
        &s.title_en,
        v.get_mut("dct:title").and_then(|t| t.as_array_mut()),
    ) {
        obj.push(serde_json::json!({"@value": en, "@language": "en"}));
    }
    if let (Some(o), Some(obj)) = (office, v.as_object_mut()) {
        obj.insert(
            "cv:hasContactPoint".into(),
            serde_json::json!({"@type": "schema:ContactPoint", "schema:name": o.name, "schema:email": o.email, "schema:telephone": o.phone}),
        );
    }
    if s.online_level != AssuranceLevel::None
        && s.channels.contains(&Channel::Online)
        && let Some(obj) = v.as_object_mut()
    {
        obj.insert(
            "cv:requirement".into(),
            serde_json::json!({"dct:description": s.online_level.label(Language::En)}),
        );
    }
    v
}

#[cfg(test)]
#[path = "tests/views.rs"]
mod tests;
