//! The commune's settings: branding, languages, the mails' sender.

use actix_web::HttpResponse;
use sportello_authz::{Action, Object};
use sportello_domain::Language;

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post, check, field, field_help, form, notice_of, render, select, table, text,
};
use sportello_admin::commune;

use super::*;

pub(super) async fn settings(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    let r: AppResult<Vec<serde_json::Value>> = async {
        let c = ctx.commune()?.clone();
        let tx = ctx.state.store.tenant(c.id()).await?;
        let s = tx.db().settings().await?;
        tx.commit().await?;
        let langs: Vec<(String, String)> = [Language::It, Language::En]
            .iter()
            .map(|l| (l.key().to_owned(), l.key().to_uppercase()))
            .collect();
        let mut fields = vec![
            field(
                "color",
                "color",
                "Colore dell'intestazione",
                &c.record.color,
            ),
            field(
                "email",
                "email",
                "E-mail del comune",
                c.record.email.as_deref().unwrap_or(""),
            ),
            field(
                "text",
                "phone",
                "Telefono",
                c.record.phone.as_deref().unwrap_or(""),
            ),
            field(
                "url",
                "website",
                "Sito istituzionale",
                c.record.website.as_deref().unwrap_or(""),
            ),
            select(
                "default_language",
                "Lingua predefinita",
                &langs,
                c.record.default_language.key(),
            ),
        ];
        for l in [Language::It, Language::En] {
            fields.push(check(
                &format!("lang:{}", l.key()),
                &format!("Portale anche in {}", l.key().to_uppercase()),
                c.record.languages.contains(&l),
            ));
        }
        fields.push(field_help(
            "text",
            "mail_from_name",
            "Nome del mittente delle e-mail",
            s.mail_from_name.as_deref().unwrap_or(""),
            "es. Comune di Pisa – Sportello telematico",
        ));
        fields.push(field(
            "email",
            "mail_reply_to",
            "Indirizzo per le risposte",
            s.mail_reply_to.as_deref().unwrap_or(""),
        ));
        let editable = actor
            .may(&ctx.state, Object::Settings, Action::Update)
            .await;
        Ok(vec![if editable {
            form(
                "Aspetto, lingue e posta",
                "/console/impostazioni",
                "Salva",
                fields,
            )
        } else {
            table(
                "Aspetto, lingue e posta",
                &["Voce", "Valore"],
                vec![vec![text("Colore"), text(&c.record.color)]],
            )
        }])
    }
    .await;
    match r {
        Ok(s) => {
            render(
                &ctx,
                &actor,
                "/console/impostazioni",
                "Impostazioni",
                "",
                notice_of(&q),
                s,
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

pub(super) async fn settings_save(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let r = async {
        commune::save_settings(&ctx.state, &actor, &settings_change(&f)).await?;
        Ok("/console/impostazioni?esito=salvato".to_owned())
    }
    .await;
    after_post(&ctx, r)
}

/// The settings form: language checkboxes arrive as repeated keys.
fn settings_change(pairs: &[(String, String)]) -> commune::SettingsChange {
    let mut f = commune::SettingsChange::default();
    for (k, v) in pairs {
        match k.as_str() {
            "color" => f.color = v.clone(),
            "email" => f.email = v.clone(),
            "phone" => f.phone = v.clone(),
            "website" => f.website = v.clone(),
            "default_language" => f.default_language = v.clone(),
            "mail_from_name" => f.mail_from_name = v.clone(),
            "mail_reply_to" => f.mail_reply_to = v.clone(),
            k if k.starts_with("lang:") => f.languages.push(k[5..].to_owned()),
            _ => {}
        }
    }
    f
}
