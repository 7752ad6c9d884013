//! The JSON API under `/api/v1`: the same charter as the pages, the commune from the host.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::portal::{
    AsOfQuery, SearchQuery, as_of, load_charter, load_service, office_page, search_results,
};
use super::{Ctx, federation};
use crate::authz::{Need, Needs, Routes};
use crate::error::AppResult;
use crate::views;

pub(super) const OPENAPI: &str = include_str!("../../openapi.json");

/// The public JSON API, described in `openapi.json`: the charter on a commune's host, the
/// document and the communes on both.
pub fn routes(r: &mut Routes) {
    let both = Needs::Both(Need::Public);
    let commune = Needs::Commune(Need::Public);
    r.get("/api/v1/openapi.json", both, openapi)
        .get("/api/v1/services", commune, services)
        .get("/api/v1/services/{id}", commune, service)
        .get("/api/v1/services/{id}/jsonld", commune, service_jsonld)
        .get("/api/v1/offices", commune, offices)
        .get("/api/v1/offices/{id}", commune, office)
        .get("/api/v1/staff", commune, staff)
        .get("/api/v1/search", commune, search)
        .get("/api/v1/communes", both, communes);
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(OPENAPI)
}

async fn services(ctx: Ctx) -> HttpResponse {
    if let Some(hit) = ctx.cached_json() {
        return hit;
    }
    ctx.json_cached(list_services(&ctx).await)
}

async fn list_services(ctx: &Ctx) -> AppResult<serde_json::Value> {
    let ch = load_charter(ctx).await?;
    Ok(
        json!({"services": ch.services.iter().map(|s| views::service_summary(ctx.lang, s)).collect::<Vec<_>>()}),
    )
}

async fn service(ctx: Ctx, id: super::ids::SlugId, q: web::Query<AsOfQuery>) -> HttpResponse {
    if let Some(hit) = ctx.cached_json() {
        return hit;
    }
    ctx.json_cached(one_service(&ctx, &id, &q).await)
}

async fn one_service(ctx: &Ctx, id: &str, q: &AsOfQuery) -> AppResult<serde_json::Value> {
    let at = as_of(q)?;
    let ch = load_charter(ctx).await?;
    let s = load_service(ctx, &ch, id, at.map(|a| a.1)).await?;
    Ok(json!(views::service_view(
        ctx.lang,
        &ctx.state.render.strings,
        &s,
        &views::Related::of(&ch)
    )))
}

async fn service_jsonld(ctx: Ctx, id: super::ids::SlugId) -> HttpResponse {
    ctx.respond(jsonld(&ctx, &id).await.map(|v| {
        HttpResponse::Ok()
            .content_type("application/ld+json")
            .body(v.to_string())
    }))
}

async fn jsonld(ctx: &Ctx, id: &str) -> AppResult<serde_json::Value> {
    let ch = load_charter(ctx).await?;
    let s = load_service(ctx, &ch, id, None).await?;
    Ok(views::cpsv_jsonld(
        ctx.commune()?,
        &ctx.base_url()?,
        &s,
        &views::Related::of(&ch),
    ))
}

async fn offices(ctx: Ctx) -> HttpResponse {
    if let Some(hit) = ctx.cached_json() {
        return hit;
    }
    ctx.json_cached(list_offices(&ctx).await)
}

async fn list_offices(ctx: &Ctx) -> AppResult<serde_json::Value> {
    let ch = load_charter(ctx).await?;
    let rel = views::Related::of(&ch);
    Ok(
        json!({"offices": ch.offices.iter().map(|o| views::office_summary(ctx.lang, o, &rel)).collect::<Vec<_>>()}),
    )
}

async fn office(ctx: Ctx, id: super::ids::SlugId) -> HttpResponse {
    if let Some(hit) = ctx.cached_json() {
        return hit;
    }
    ctx.json_cached(office_page(&ctx, &id).await)
}

async fn staff(ctx: Ctx) -> HttpResponse {
    if let Some(hit) = ctx.cached_json() {
        return hit;
    }
    ctx.json_cached(list_staff(&ctx).await)
}

async fn list_staff(ctx: &Ctx) -> AppResult<serde_json::Value> {
    let ch = load_charter(ctx).await?;
    Ok(
        json!({"staff": ch.staff.iter().map(|s| views::staff_view(ctx.lang, s, &ch.offices)).collect::<Vec<_>>()}),
    )
}

async fn search(ctx: Ctx, q: web::Query<SearchQuery>) -> HttpResponse {
    ctx.json(search_results(&ctx, &q.q).await)
}

/// On the federation host: communes by relevance (name, province, region) or by code.
async fn communes(ctx: Ctx, q: web::Query<federation::CommuneQuery>) -> HttpResponse {
    let (communes, matched) = federation::find(&ctx, &q.q);
    ctx.json(Ok(json!({"communes": communes, "matched": matched})))
}
