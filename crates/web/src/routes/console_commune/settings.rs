//! The commune's settings: branding, languages, the mails' sender.

use actix_web::HttpResponse;
use sportello_authz::{Action, Object};
use sportello_domain::Language;

use crate::authz::Admitted;
use crate::error::AppResult;
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post_or, check, field, field_help, form, no_query, notice_of, render, select, table, text,
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
                ctx.t("console_header_colour"),
                &c.record.color,
            ),
            field(
                "email",
                "email",
                ctx.t("console_commune_email"),
                c.record.email.as_deref().unwrap_or(""),
            ),
            field(
                "text",
                "phone",
                ctx.t("console_phone"),
                c.record.phone.as_deref().unwrap_or(""),
            ),
            field(
                "url",
                "website",
                ctx.t("console_website"),
                c.record.website.as_deref().unwrap_or(""),
            ),
            select(
                "default_language",
                ctx.t("console_default_language"),
                &langs,
                c.record.default_language.key(),
            ),
        ];
        for l in [Language::It, Language::En] {
            fields.push(check(
                &format!("lang:{}", l.key()),
                &ctx.tf("console_portal_also_in", &[&l.key().to_uppercase()]),
                c.record.languages.contains(&l),
            ));
        }
        fields.push(field_help(
            "text",
            "mail_from_name",
            ctx.t("console_mail_from_name"),
            s.mail_from_name.as_deref().unwrap_or(""),
            ctx.t("console_mail_from_name_help"),
        ));
        fields.push(field(
            "email",
            "mail_reply_to",
            ctx.t("console_reply_to"),
            s.mail_reply_to.as_deref().unwrap_or(""),
        ));
        // The legal pages: the privacy notice's data protection officer and the commune's own
        // notes; the accessibility statement every page's footer links to.
        fields.push(field(
            "text",
            "dpo_name",
            ctx.t("console_dpo_name"),
            s.dpo_name.as_deref().unwrap_or(""),
        ));
        fields.push(field(
            "email",
            "dpo_email",
            ctx.t("console_dpo_email"),
            s.dpo_email.as_deref().unwrap_or(""),
        ));
        fields.push(field_help(
            "url",
            "accessibility_url",
            ctx.t("console_accessibility_url"),
            s.accessibility_url.as_deref().unwrap_or(""),
            ctx.t("console_accessibility_url_help"),
        ));
        fields.push(field_help(
            "textarea",
            "privacy_notes",
            ctx.t("console_privacy_notes"),
            s.privacy_notes.as_deref().unwrap_or(""),
            ctx.t("console_privacy_notes_help"),
        ));
        let editable = actor
            .may(&ctx.state, Object::Settings, Action::Update)
            .await;
        Ok(vec![if editable {
            form(
                ctx.t("console_settings_title"),
                "/console/impostazioni",
                ctx.t("console_save"),
                fields,
            )
        } else {
            table(
                ctx.t("console_settings_title"),
                &[ctx.t("console_item"), ctx.t("console_value")],
                vec![vec![text(ctx.t("console_colour")), text(&c.record.color)]],
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
                ctx.t("console_nav_settings"),
                "",
                notice_of(&ctx, &q),
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
    after_post_or(ctx, &f, r, |ctx| settings(ctx, actor, no_query())).await
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
            "dpo_name" => f.dpo_name = v.clone(),
            "dpo_email" => f.dpo_email = v.clone(),
            "accessibility_url" => f.accessibility_url = v.clone(),
            "privacy_notes" => f.privacy_notes = v.clone(),
            k if k.starts_with("lang:") => f.languages.push(k[5..].to_owned()),
            _ => {}
        }
    }
    f
}
