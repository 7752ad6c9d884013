//! The commune portal (HTML) and the federation portal's home, both at `/`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use sportello_domain::LifeEvent;
use sportello_store::charter::Service;

use super::{Ctx, federation};
use crate::error::{AppError, AppResult};
use crate::middleware::Site;
use crate::views;
use sportello_charter::cache::Charter;

pub fn configure(t: &mut super::table::Table<'_>) {
    use super::table::on::{ANY, COMMUNE};
    t.on(ANY).get("/", home);
    t.on(COMMUNE)
        .get("/servizi", services)
        .get("/servizi/{id}", service)
        .get("/uffici", offices)
        .get("/uffici/{id}", office)
        .get("/personale", staff)
        .get("/cerca", search);
}

/// The commune's charter (from the per-node cache).
pub(super) async fn load_charter(ctx: &Ctx) -> AppResult<std::sync::Arc<Charter>> {
    Ok(ctx
        .state
        .charters
        .get(&ctx.state.store, ctx.commune()?)
        .await?)
}

async fn home(
    ctx: Ctx,
    req: actix_web::HttpRequest,
    q: web::Query<federation::CommuneQuery>,
) -> HttpResponse {
    if let Some(hit) = ctx.cached() {
        return hit;
    }
    match ctx.site {
        Site::Login => super::signin::page(&ctx, &req).await,
        Site::Federation => ctx.page(federation::home(&ctx, &q)),
        Site::Commune(_) => ctx.page(commune_home(&ctx).await),
    }
}

async fn commune_home(ctx: &Ctx) -> AppResult<(&'static str, serde_json::Value)> {
    let ch = load_charter(ctx).await?;
    let rel = views::Related::of(&ch);
    let featured: Vec<_> = ch
        .services
        .iter()
        .filter(|s| s.channels.contains(&sportello_domain::Channel::Online))
        .take(6)
        .map(|s| views::service_summary(ctx.lang, s))
        .collect();
    Ok((
        "home.html",
        json!({
            "life_events": views::life_events(ctx.lang, &ch.services),
            "featured": featured,
            "offices": ch.offices.iter().map(|o| views::office_summary(ctx.lang, o, &rel)).collect::<Vec<_>>(),
        }),
    ))
}

#[derive(Deserialize)]
struct ServicesQuery {
    evento: Option<String>,
}

async fn services(ctx: Ctx, q: web::Query<ServicesQuery>) -> HttpResponse {
    if let Some(hit) = ctx.cached() {
        return hit;
    }
    ctx.page(services_page(&ctx, q.evento.as_deref()).await)
}

async fn services_page(
    ctx: &Ctx,
    event: Option<&str>,
) -> AppResult<(&'static str, serde_json::Value)> {
    let event = event
        .filter(|e| !e.is_empty())
        .map(|e| LifeEvent::parse(e).map_err(|e| AppError::BadRequest(e.to_string())))
        .transpose()?;
    let ch = load_charter(ctx).await?;
    let list: Vec<_> = ch
        .services
        .iter()
        .filter(|s| event.is_none_or(|e| s.life_events.contains(&e)))
        .map(|s| views::service_summary(ctx.lang, s))
        .collect();
    Ok((
        "services.html",
        json!({
            "selected_event": event.map(|e| json!({"key": e.key(), "label": e.label(ctx.lang)})),
            "life_events": views::life_events(ctx.lang, &ch.services),
            "services": list,
        }),
    ))
}

#[derive(Deserialize)]
pub(super) struct AsOfQuery {
    /// `YYYY-MM-DD`: the charter as it was at the end of that day.
    pub al: Option<String>,
}

/// Parses `?al=` into microseconds at the end of that day (Rome time is close enough: a version
/// is dated by the day it was published).
pub(super) fn as_of(q: &AsOfQuery) -> AppResult<Option<(String, i64)>> {
    let Some(d) = q.al.as_deref().filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    let date = super::contract::strict_date(d).ok_or_else(|| AppError::BadParam("al".into()))?;
    let end = date
        .and_hms_opt(23, 59, 59)
        .map(|t| t.and_utc().timestamp_micros())
        .ok_or_else(|| AppError::BadParam("al".into()))?;
    Ok(Some((date.to_string(), end)))
}

pub(super) async fn load_service(
    ctx: &Ctx,
    ch: &Charter,
    id: &str,
    at: Option<i64>,
) -> AppResult<Service> {
    match at {
        None => ch
            .services
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .ok_or(AppError::NotFound),
        Some(at) => {
            let tx = ctx.state.store.tenant_read(ctx.commune()?.id()).await?;
            tx.db()
                .service_as_of(id, at)
                .await?
                .ok_or(AppError::NotFound)
        }
    }
}

async fn service(ctx: Ctx, id: super::ids::SlugId, q: web::Query<AsOfQuery>) -> HttpResponse {
    if let Some(hit) = ctx.cached() {
        return hit;
    }
    ctx.page(service_page(&ctx, &id, &q).await)
}

async fn service_page(
    ctx: &Ctx,
    id: &str,
    q: &AsOfQuery,
) -> AppResult<(&'static str, serde_json::Value)> {
    let at = as_of(q)?;
    let ch = load_charter(ctx).await?;
    let s = load_service(ctx, &ch, id, at.as_ref().map(|a| a.1)).await?;
    let rel = views::Related::of(&ch);
    let jsonld = views::cpsv_jsonld(ctx.commune()?, &ctx.base_url()?, &s, &rel);
    // What the citizens who used it online said of it (cached with the page).
    let rating = ctx
        .state
        .ratings
        .of(&ctx.state.store, ctx.commune()?.id(), &s.id)
        .await?
        .map(|r| json!({"average": format!("{},{}", r.tenths / 10, r.tenths % 10), "count": r.count}));
    Ok((
        "service.html",
        json!({
            "rating": rating,
            "service": views::service_view(ctx.lang, &ctx.state.render.strings, &s, &rel),
            "as_of": at.map(|a| a.0),
            // Safe inside <script>: "</" cannot end the element once escaped.
            "jsonld": views::script_json(&jsonld),
        }),
    ))
}

async fn offices(ctx: Ctx) -> HttpResponse {
    if let Some(hit) = ctx.cached() {
        return hit;
    }
    ctx.page(offices_page(&ctx).await)
}

async fn offices_page(ctx: &Ctx) -> AppResult<(&'static str, serde_json::Value)> {
    let ch = load_charter(ctx).await?;
    let rel = views::Related::of(&ch);
    Ok((
        "offices.html",
        json!({"offices": ch.offices.iter().map(|o| views::office_summary(ctx.lang, o, &rel)).collect::<Vec<_>>()}),
    ))
}

async fn office(ctx: Ctx, id: super::ids::SlugId) -> HttpResponse {
    if let Some(hit) = ctx.cached() {
        return hit;
    }
    ctx.page(office_page(&ctx, &id).await.map(|v| ("office.html", v)))
}

/// The office with its staff and services (the page's and the API's body).
pub(super) async fn office_page(ctx: &Ctx, id: &str) -> AppResult<serde_json::Value> {
    let ch = load_charter(ctx).await?;
    let rel = views::Related::of(&ch);
    let o = ch
        .offices
        .iter()
        .find(|o| o.id == id)
        .ok_or(AppError::NotFound)?;
    Ok(json!({
        "office": views::office_view(ctx.lang, &ctx.state.render.strings, o, &rel),
        "staff": ch.staff.iter().filter(|s| s.office_id.as_deref() == Some(id)).map(|s| views::staff_view(ctx.lang, s, &ch.offices)).collect::<Vec<_>>(),
        "services": ch.services.iter().filter(|s| s.office_id.as_deref() == Some(id)).map(|s| views::service_summary(ctx.lang, s)).collect::<Vec<_>>(),
    }))
}

async fn staff(ctx: Ctx) -> HttpResponse {
    if let Some(hit) = ctx.cached() {
        return hit;
    }
    ctx.page(staff_page(&ctx).await)
}

async fn staff_page(ctx: &Ctx) -> AppResult<(&'static str, serde_json::Value)> {
    let ch = load_charter(ctx).await?;
    Ok((
        "staff.html",
        json!({"staff": ch.staff.iter().map(|s| views::staff_view(ctx.lang, s, &ch.offices)).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    pub q: String,
}

async fn search(ctx: Ctx, q: web::Query<SearchQuery>) -> HttpResponse {
    ctx.page(search_results(&ctx, &q.q).await.map(|v| ("search.html", v)))
}

/// Search across services, offices and staff (the page's and the API's body).
pub(super) async fn search_results(ctx: &Ctx, q: &str) -> AppResult<serde_json::Value> {
    if q.chars().count() > 200 {
        return Err(AppError::BadRequest(
            "the search text is longer than 200 characters".into(),
        ));
    }
    let ch = load_charter(ctx).await?;
    let found = sportello_charter::search::find(&ch, q);
    let rel = views::Related::of(&ch);
    let total = found.total();
    Ok(json!({
        "q": q,
        "services": found.services.iter().map(|s| views::service_summary(ctx.lang, s)).collect::<Vec<_>>(),
        "offices": found.offices.iter().map(|o| views::office_summary(ctx.lang, o, &rel)).collect::<Vec<_>>(),
        "staff": found.staff.iter().map(|s| views::staff_view(ctx.lang, s, &ch.offices)).collect::<Vec<_>>(),
        "total": total,
    }))
}
