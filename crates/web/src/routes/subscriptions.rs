//! The personal area's subscriptions to a commune's kinds of event ("Avvisi"): which ones, by
//! e-mail and/or SMS.

use actix_web::HttpResponse;
use serde_json::json;
use sportello_notify::topics::{self, Choice};

use super::{Ctx, Posted};
use crate::error::{AppError, AppResult};

pub fn configure(t: &mut super::table::Table<'_>) {
    t.on(super::table::on::COMMUNE)
        .post("/area-personale/avvisi", save);
}

/// The commune's kinds of event with what the person chose (nothing on the sign-in host).
pub(super) async fn view(ctx: &Ctx, person_id: &str) -> AppResult<serde_json::Value> {
    let Ok(c) = ctx.commune() else {
        return Ok(json!([]));
    };
    let list = topics::topics(&ctx.state, c.id()).await?;
    let tx = ctx.state.store.tenant_read(c.id()).await?;
    let mine = tx.db().subscriptions_of(person_id).await?;
    tx.commit().await?;
    Ok(json!(
        list.iter()
            .map(|t| {
                let s = mine.iter().find(|s| s.topic_id == t.id);
                let name = match (ctx.lang, &t.name_en) {
                    (sportello_domain::Language::En, Some(en)) => en.clone(),
                    _ => t.name.clone(),
                };
                json!({
                    "id": t.id, "name": name, "description": t.description,
                    "email": s.is_some_and(|s| s.by_email), "sms": s.is_some_and(|s| s.by_sms),
                })
            })
            .collect::<Vec<_>>()
    ))
}

async fn save(ctx: Ctx, form: Posted<Vec<(String, String)>>) -> HttpResponse {
    let r = async {
        let user = ctx
            .citizen()
            .cloned()
            .ok_or(AppError::Refused("session_ended"))?;
        let person = user.person.as_ref().ok_or(AppError::NotFound)?;
        let c = ctx.commune()?.id();
        // Every kind of event of the commune: a box left unticked is a channel turned off.
        let choices: Vec<Choice> = topics::topics(&ctx.state, c)
            .await?
            .into_iter()
            .map(|t| Choice {
                by_email: form.iter().any(|(k, _)| *k == format!("email:{}", t.id)),
                by_sms: form.iter().any(|(k, _)| *k == format!("sms:{}", t.id)),
                topic_id: t.id,
            })
            .collect();
        topics::subscribe(&ctx.state, c, &person.id, &choices).await?;
        Ok("/area-personale?avvisi=1")
    }
    .await;
    super::account::personal_answer(ctx, &form, r).await
}
