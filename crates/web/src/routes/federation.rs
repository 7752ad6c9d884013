//! The federation portal on the apex host: find your commune.

use serde::Deserialize;
use serde_json::json;

use super::Ctx;
use crate::error::AppResult;

#[derive(Deserialize)]
pub struct CommuneQuery {
    #[serde(default)]
    pub q: String,
}

/// At most this many communes in one answer.
const LIMIT: usize = 50;

/// Communes by relevance: their name (either language) first, then their province and region
/// ("Forlì", "Toscana"), or exactly their province code or ISTAT code. Suspended communes and
/// those still being prepared are not offered. Runs on the in-memory registry: no query.
pub fn find(ctx: &Ctx, q: &str) -> (Vec<serde_json::Value>, usize) {
    use sportello_domain::search::Query;
    let reg = ctx.state.tenancy.snapshot();
    let query = Query::parse(q);
    let upper = q.trim().to_ascii_uppercase();
    let live = reg
        .communes
        .iter()
        .filter(|c| c.record.status == sportello_domain::CommuneStatus::Active);
    let mut hits: Vec<(u32, &std::sync::Arc<sportello_kernel::tenancy::Commune>)> = live
        .filter_map(|c| {
            let r = &c.record;
            if query.is_empty() {
                return Some((0, c));
            }
            if r.province_code == upper || r.istat_code == q.trim() {
                return Some((1000, c));
            }
            query
                .score(&[
                    (&r.name, 10),
                    (r.name_other.as_deref().unwrap_or(""), 10),
                    (&r.province_name, 3),
                    (&r.region, 2),
                ])
                .map(|s| (s, c))
        })
        .collect();
    hits.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.search_key.cmp(&b.1.search_key))
    });
    let matched = hits.len();
    let out = hits
        .into_iter()
        .take(LIMIT)
        .map(|(_, c)| {
            let r = &c.record;
            json!({
                "name": r.name, "name_other": r.name_other, "province_code": r.province_code,
                "province_name": r.province_name, "region": r.region, "istat_code": r.istat_code,
                "status": r.status.key(), "url": format!("{}/", ctx.origin.url_for(&r.primary_host)),
            })
        })
        .collect();
    (out, matched)
}

pub fn home(ctx: &Ctx, q: &CommuneQuery) -> AppResult<(&'static str, serde_json::Value)> {
    // As the API's document says of `q`: at most 200 characters.
    if q.q.chars().count() > 200 {
        return Err(crate::error::AppError::BadParam("q".into()));
    }
    let (communes, matched) = find(ctx, &q.q);
    let total = ctx.state.tenancy.snapshot().len();
    Ok((
        "federation_home.html",
        json!({"q": q.q, "communes": communes, "total_communes": total, "shown": communes.len(), "matched": matched}),
    ))
}
