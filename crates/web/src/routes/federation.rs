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

/// Communes whose name (either language) holds the text, or whose province code or ISTAT code
/// is the text. Runs on the in-memory registry: no query.
pub fn find(ctx: &Ctx, q: &str) -> (Vec<serde_json::Value>, usize) {
    let reg = ctx.state.tenancy.snapshot();
    let folded = sportello_store::fold_for_search(q);
    let upper = q.trim().to_ascii_uppercase();
    let mut out = Vec::new();
    let mut matched = 0;
    for c in reg.communes.iter() {
        let r = &c.record;
        let hit = folded.is_empty()
            || c.search_key.contains(&folded)
            || r.province_code == upper
            || r.istat_code == q.trim()
            || sportello_store::fold_for_search(&r.province_name) == folded;
        if hit {
            matched += 1;
            if out.len() < LIMIT {
                out.push(json!({
                    "name": r.name, "name_other": r.name_other, "province_code": r.province_code,
                    "province_name": r.province_name, "region": r.region, "istat_code": r.istat_code,
                    "status": r.status.key(), "url": format!("{}/", ctx.origin.url_for(&r.primary_host)),
                }));
            }
        }
    }
    (out, matched)
}

pub fn home(ctx: &Ctx, q: &CommuneQuery) -> AppResult<(&'static str, serde_json::Value)> {
    let (communes, matched) = find(ctx, &q.q);
    let total = ctx.state.tenancy.snapshot().len();
    Ok((
        "federation_home.html",
        json!({"q": q.q, "communes": communes, "total_communes": total, "shown": communes.len(), "matched": matched}),
    ))
}
