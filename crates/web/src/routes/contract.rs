//! The public API keeps its OpenAPI document's word on query parameters: the document is read
//! once, and every `/api/v1` request is checked against its operation's parameters — `enum`,
//! `maxLength`, `pattern`, `format: date` (strictly `YYYY-MM-DD`), at most once each — before
//! any handler runs. A value the document does not allow is a 400 JSON error naming the
//! parameter, so the document and the behaviour cannot drift apart (schemathesis checks both).

use std::sync::OnceLock;

use actix_web::body::BoxBody;
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use serde_json::Value;

use crate::error::AppError;

/// One query parameter as the document declares it.
struct Param {
    name: String,
    one_of: Option<Vec<String>>,
    max_length: Option<usize>,
    pattern: Option<regex::Regex>,
    date: bool,
}

struct Operation {
    path: ResourceDef,
    params: Vec<Param>,
}

fn operations() -> &'static [Operation] {
    static OPS: OnceLock<Vec<Operation>> = OnceLock::new();
    OPS.get_or_init(|| read(super::api::OPENAPI))
}

fn read(doc: &str) -> Vec<Operation> {
    let doc: Value = serde_json::from_str(doc).unwrap_or(Value::Null);
    let Some(paths) = doc["paths"].as_object() else {
        return vec![];
    };
    paths
        .iter()
        .map(|(path, item)| Operation {
            path: ResourceDef::new(path.as_str()),
            params: item["get"]["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query")
                        .map(|p| {
                            let s = &p["schema"];
                            Param {
                                name: p["name"].as_str().unwrap_or_default().to_owned(),
                                one_of: s["enum"].as_array().map(|e| {
                                    e.iter()
                                        .filter_map(|v| v.as_str().map(str::to_owned))
                                        .collect()
                                }),
                                max_length: s["maxLength"]
                                    .as_u64()
                                    .and_then(|n| usize::try_from(n).ok()),
                                pattern: s["pattern"]
                                    .as_str()
                                    .and_then(|r| regex::Regex::new(r).ok()),
                                date: s["format"] == "date",
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// A date as the document means it: `YYYY-MM-DD`, four digits of year from 0001, a real day.
pub fn strict_date(s: &str) -> Option<chrono::NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| chrono::Datelike::year(d) >= 1)
}

/// Checks `query` against the parameters of the operation at `path`: the first parameter the
/// document does not allow, by name.
pub fn check(path: &str, query: &str) -> Result<(), String> {
    let Some(op) = operations().iter().find(|o| o.path.is_match(path)) else {
        return Ok(());
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    for p in &op.params {
        let mut values = pairs.iter().filter(|(k, _)| *k == p.name).map(|(_, v)| v);
        let Some(v) = values.next() else {
            continue;
        };
        let ok = values.next().is_none()
            && p.one_of.as_ref().is_none_or(|e| e.contains(v))
            && p.max_length.is_none_or(|n| v.chars().count() <= n)
            && p.pattern.as_ref().is_none_or(|r| r.is_match(v))
            && (!p.date || strict_date(v).is_some());
        if !ok {
            return Err(p.name.clone());
        }
    }
    Ok(())
}

/// Wraps the API's scope: a request whose query the document does not allow gets a 400.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // The document describes GET operations (HEAD alike); another method gets its 405.
    let read = matches!(
        *req.method(),
        actix_web::http::Method::GET | actix_web::http::Method::HEAD
    );
    if !read {
        return next.call(req).await;
    }
    match check(req.match_info().as_str(), req.query_string()) {
        Ok(()) => next.call(req).await,
        Err(name) => {
            let (req, _) = req.into_parts();
            Ok(ServiceResponse::new(
                req,
                HttpResponse::from_error(AppError::BadParam(name)),
            ))
        }
    }
}

#[cfg(test)]
#[path = "../tests/contract.rs"]
mod tests;
