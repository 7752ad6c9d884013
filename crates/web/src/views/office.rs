//! Offices as pages and the API show them: summary, hours by weekday, closures, open now, the
//! way in.

use chrono::{Datelike, Weekday};
use serde::Serialize;
use sportello_domain::hours::Exception;
use sportello_domain::{Language, OpeningStatus};
use sportello_store::charter::Office;

use crate::i18n::Strings;

use super::*;

#[derive(Serialize)]
pub struct OfficeSummary<'a> {
    pub id: &'a str,
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_lang: Option<&'static str>,
    pub description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_lang: Option<&'static str>,
    /// The name in German, beside the Italian.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_de: Option<&'a str>,
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
        name_lang: r.name_lang,
        description: pick(lang, &o.description, &o.description_en),
        description_lang: super::picked_lang(lang, &o.description_en),
        name_de: super::german(&o.name_de),
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_lang: Option<&'static str>,
    pub description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_lang: Option<&'static str>,
    /// The name and description in German, beside the Italian.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_de: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_de: Option<&'a str>,
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
    format!(
        "{} {} {} {}",
        day_name(lang, d.weekday()),
        d.day(),
        super::when::month(lang, d.month0()),
        d.year()
    )
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
        name_lang: super::picked_lang(lang, &o.name_en),
        description: pick(lang, &o.description, &o.description_en),
        description_lang: super::picked_lang(lang, &o.description_en),
        name_de: super::german(&o.name_de),
        description_de: super::german(&o.description_de),
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
