//! A service as CPSV-AP JSON-LD.

use sportello_domain::{AssuranceLevel, Channel, Language};
use sportello_store::charter::Service;

use crate::tenancy::Commune;

use super::*;

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
    if let (Some(en), Some(obj)) = (
        s.description_en.as_ref().filter(|d| !d.trim().is_empty()),
        v.get_mut("dct:description").and_then(|t| t.as_array_mut()),
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

/// JSON to embed in an HTML `<script>` element: `<`, `>` and `&` (and the JavaScript line
/// separators) written as `\u` escapes, which JSON reads back as the same characters. Inside a
/// script element no text can then end the element (`</script>`), open an HTML comment
/// (`<!--`, which would swallow the rest of the page) or start a character reference.
pub fn script_json(v: &serde_json::Value) -> String {
    let raw = v.to_string();
    let mut out = String::with_capacity(raw.len() + 16);
    for ch in raw.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}
