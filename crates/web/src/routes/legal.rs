//! The pages every Italian municipal site must have, linked from every footer: the privacy
//! notice (GDPR art. 13), the legal notes, the cookie information (technical cookies only) and
//! the accessibility statement (AgID). On a commune's host they speak for the commune, the
//! controller of its citizens' data, filled from its registry record and its settings (data
//! protection officer, its own notes, the address of its statement); on the federation's hosts
//! they speak for the federation. The texts are the federation's template (`legal_*.html`).

use actix_web::HttpResponse;
use serde_json::json;

use super::Ctx;
use crate::error::AppResult;
use crate::middleware::Site;

pub fn configure(t: &mut super::table::Table<'_>) {
    use super::table::on::ANY;
    t.on(ANY)
        .get("/privacy", privacy)
        .get("/note-legali", notes)
        .get("/cookie", cookies)
        .get("/accessibilita", accessibility);
}

/// Who answers for the data on this host: the commune (with its settings), or the federation.
async fn controller(ctx: &Ctx) -> AppResult<serde_json::Value> {
    match &ctx.site {
        Site::Commune(c) => {
            let tx = ctx.state.store.tenant_read(c.id()).await?;
            let s = tx.db().settings().await?;
            tx.commit().await?;
            Ok(json!({
                "kind": "commune",
                "name": format!("{} {}", ctx.t("commune_of"), c.record.name),
                "email": c.record.email, "pec": c.record.pec, "phone": c.record.phone,
                "dpo_name": s.dpo_name, "dpo_email": s.dpo_email,
                "notes": s.privacy_notes, "accessibility_url": s.accessibility_url,
            }))
        }
        Site::Federation | Site::Login => Ok(json!({
            "kind": "federation",
            "name": ctx.state.federation_name,
            "email": ctx.state.settings.contact_email,
        })),
    }
}

async fn page(ctx: Ctx, template: &'static str) -> HttpResponse {
    let r = async {
        let who = controller(&ctx).await?;
        Ok((template, json!({"controller": who})))
    }
    .await;
    ctx.page(r)
}

async fn privacy(ctx: Ctx) -> HttpResponse {
    page(ctx, "legal_privacy.html").await
}

async fn notes(ctx: Ctx) -> HttpResponse {
    page(ctx, "legal_notes.html").await
}

async fn cookies(ctx: Ctx) -> HttpResponse {
    page(ctx, "legal_cookies.html").await
}

async fn accessibility(ctx: Ctx) -> HttpResponse {
    page(ctx, "legal_accessibility.html").await
}
