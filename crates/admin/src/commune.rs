//! A commune's own settings: branding and languages (public, in the registry), the mail
//! sender's name, its identity providers, and the support access it grants the federation.

use serde::Deserialize;
use serde_json::json;
use sportello_domain::{Email, Language};
use sportello_store::authz::CommuneSettings;
use sportello_store::staff::CommuneIdp;

use sportello_kernel::Actor;
use sportello_kernel::Deps;
use sportello_kernel::input::{optional, required};
use sportello_kernel::{Error, Problems, Result, Why};

/// A commune's settings as the administrator gives them.
#[derive(Debug, Default)]
pub struct SettingsChange {
    pub color: String,
    pub email: String,
    pub phone: String,
    pub website: String,
    pub default_language: String,
    pub languages: Vec<String>,
    pub mail_from_name: String,
    pub mail_reply_to: String,
    pub dpo_name: String,
    pub dpo_email: String,
    pub accessibility_url: String,
    pub privacy_notes: String,
}

/// The longest notes a commune adds to its privacy notice.
const NOTES_MAX: usize = 8000;
/// The longest name (the DPO's, the mails' sender).
const NAME_MAX: usize = 200;

fn colour(p: &mut Problems, s: &str) -> String {
    let s = s.trim().to_ascii_lowercase();
    let ok = s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit());
    if !ok {
        p.add("color", Why::ColourInvalid, s.as_str());
    }
    s
}

fn email(p: &mut Problems, field: &str, s: &str) -> Option<String> {
    let e = optional(s)?;
    match Email::parse(&e) {
        Ok(e) => Some(e.as_str().to_owned()),
        Err(e) => {
            p.parse(field, &e);
            None
        }
    }
}

/// An optional web address: blank, or `https://` (or `http://`) and more.
fn web_address(p: &mut Problems, field: &str, s: &str) -> Option<String> {
    let w = optional(s)?;
    let ok = (w.starts_with("https://") || w.starts_with("http://")) && w.len() > "https://".len();
    if !ok || w.chars().any(char::is_whitespace) {
        p.add(field, Why::AddressNeeded, "");
    }
    Some(w)
}

pub async fn save_settings(deps: &Deps, actor: &Actor, f: &SettingsChange) -> Result<()> {
    let c = actor.commune()?;
    // Every field is checked, so the form can show every mistake at once.
    let mut p = Problems::default();
    let color = colour(&mut p, &f.color);
    let default = Language::parse(&f.default_language).map_err(|e| p.parse("default_language", &e));
    let mut languages = Vec::new();
    for l in &f.languages {
        match Language::parse(l) {
            Ok(l) => languages.push(l.key().to_owned()),
            Err(e) => p.parse("languages", &e),
        }
    }
    let contact = email(&mut p, "email", &f.email);
    let reply_to = email(&mut p, "mail_reply_to", &f.mail_reply_to);
    let website = web_address(&mut p, "website", &f.website);
    let dpo_email = email(&mut p, "dpo_email", &f.dpo_email);
    let accessibility_url = optional(&f.accessibility_url).and_then(|u| {
        sportello_domain::WebAddress::parse(&u)
            .map(|u| u.as_str().to_owned())
            .map_err(|e| p.parse("accessibility_url", &e))
            .ok()
    });
    for (field, v) in [
        ("dpo_name", &f.dpo_name),
        ("mail_from_name", &f.mail_from_name),
    ] {
        if v.chars().count() > NAME_MAX {
            p.add(field, Why::TooLong, NAME_MAX.to_string());
        }
    }
    if f.privacy_notes.chars().count() > NOTES_MAX {
        p.add("privacy_notes", Why::TooLong, NOTES_MAX.to_string());
    }
    let default = match default {
        Ok(d) if p.is_empty() => d,
        _ => return Err(Error::Invalid(p)),
    };
    if !languages.iter().any(|l| l == default.key()) {
        languages.insert(0, default.key().to_owned());
    }
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    db.set_branding(
        &color,
        contact.as_deref(),
        optional(&f.phone).as_deref(),
        website.as_deref(),
        default.key(),
        &languages.join(","),
        now,
    )
    .await?;
    db.set_settings(
        &CommuneSettings {
            mail_from_name: optional(&f.mail_from_name),
            mail_reply_to: reply_to,
            dpo_name: optional(&f.dpo_name),
            dpo_email,
            accessibility_url,
            privacy_notes: optional(&f.privacy_notes),
        },
        now,
    )
    .await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "settings_changed",
        "settings",
        json!({"color": color, "languages": languages}),
    )
    .await?;
    tx.commit().await?;
    deps.apply_registry_changes().await;
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct NewIdp {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

/// Adds one of the commune's own OpenID Connect providers (its secret sealed at rest).
pub async fn add_idp(deps: &Deps, actor: &Actor, f: &NewIdp) -> Result<()> {
    let c = actor.commune()?;
    let id = sportello_domain::Slug::parse(f.id.trim())
        .map_err(Error::parse("id"))?
        .to_string();
    let issuer = required("issuer", &f.issuer)?;
    if !issuer.starts_with("https://") && !issuer.starts_with("http://") {
        return Err(Error::invalid("issuer", Why::AddressNeeded));
    }
    let sealed = deps
        .secrets
        .seal(required("client_secret", &f.client_secret)?.as_bytes())
        .map_err(Error::Upstream)?;
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    let added = db
        .insert_commune_idp(
            &CommuneIdp {
                id: id.clone(),
                name: required("name", &f.name)?,
                protocol: "oidc".into(),
                issuer: issuer.clone(),
                client_id: required("client_id", &f.client_id)?,
                client_secret: sealed,
            },
            sportello_store::now_micros(),
        )
        .await?;
    if !added {
        return Err(Error::invalid_at("id", Why::IdTaken, id));
    }
    sportello_kernel::audit::record(
        &db,
        actor,
        "idp_added",
        &format!("idp:{id}"),
        json!({"issuer": issuer}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes one of the commune's own identity providers (sign-ins through it stop at once).
pub async fn remove_idp(deps: &Deps, actor: &Actor, id: &str) -> Result<()> {
    let c = actor.commune()?;
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    if !db.delete_commune_idp(id).await? {
        return Err(Error::invalid_at("", Why::UnknownIdp, id));
    }
    sportello_kernel::audit::record(&db, actor, "idp_removed", &format!("idp:{id}"), json!({}))
        .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct NewGrant {
    pub reason: String,
    pub hours: String,
}

/// Lets the federation's support staff into this commune's console for a few hours.
pub async fn grant_support(deps: &Deps, actor: &Actor, f: &NewGrant) -> Result<String> {
    let c = actor.commune()?;
    let reason = required("reason", &f.reason)?;
    let hours: i64 = f
        .hours
        .trim()
        .parse()
        .ok()
        .filter(|h| (1..=72).contains(h))
        .ok_or_else(|| Error::invalid("hours", Why::DurationRange))?;
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    let id = db
        .grant_support(
            &reason,
            &actor.audit_name(),
            now,
            now + hours * 3_600_000_000,
        )
        .await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "support_granted",
        &format!("support:{id}"),
        json!({"hours": hours, "reason": reason}),
    )
    .await?;
    db.note_policy_change(now).await?;
    tx.commit().await?;
    deps.apply_policy_changes().await?;
    Ok(id)
}

/// Ends a grant now (the commune's administrators, or federation staff giving it back).
pub async fn revoke_support(
    deps: &Deps,
    actor: &Actor,
    commune: sportello_domain::TenantId,
    id: &str,
) -> Result<()> {
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    if !db.revoke_support(id, &actor.audit_name(), now).await? {
        return Err(Error::invalid("", Why::SupportInactive));
    }
    sportello_kernel::audit::record(
        &db,
        actor,
        "support_revoked",
        &format!("support:{id}"),
        json!({}),
    )
    .await?;
    db.note_policy_change(now).await?;
    tx.commit().await?;
    // A support session belongs to the grant it was opened under and dies with it (a later
    // grant must not bring it back). With two grants running, the other's sessions end too:
    // entering again takes one new code.
    deps.sessions.end_support(&deps.store, commune).await?;
    deps.apply_policy_changes().await
}

/// Publishes the commune's portal after onboarding: until then only its console answers. The
/// administrator decides, once the starter charter is reviewed.
pub async fn publish_portal(deps: &Deps, actor: &Actor) -> Result<bool> {
    let c = actor.commune()?;
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    let published = db.publish_portal(sportello_store::now_micros()).await?;
    if published {
        sportello_kernel::audit::record(&db, actor, "portal_published", "commune", json!({}))
            .await?;
    }
    tx.commit().await?;
    deps.apply_registry_changes().await;
    Ok(published)
}
