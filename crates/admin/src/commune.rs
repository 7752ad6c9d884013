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
use sportello_kernel::{Error, Result, Why};

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
}

fn colour(s: &str) -> Result<String> {
    let s = s.trim().to_ascii_lowercase();
    let ok = s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(s)
    } else {
        Err(Error::invalid_at("color", Why::ColourInvalid, s))
    }
}

fn email(field: &str, s: &str) -> Result<Option<String>> {
    optional(s)
        .map(|e| Email::parse(&e).map(|e| e.as_str().to_owned()))
        .transpose()
        .map_err(Error::parse(field))
}

pub async fn save_settings(deps: &Deps, actor: &Actor, f: &SettingsChange) -> Result<()> {
    let c = actor.commune()?;
    let color = colour(&f.color)?;
    let default = Language::parse(&f.default_language).map_err(Error::parse("default_language"))?;
    let mut languages = Vec::new();
    for l in &f.languages {
        let l = Language::parse(l).map_err(Error::parse("languages"))?;
        languages.push(l.key().to_owned());
    }
    if !languages.iter().any(|l| l == default.key()) {
        languages.insert(0, default.key().to_owned());
    }
    let contact = email("email", &f.email)?;
    let reply_to = email("mail_reply_to", &f.mail_reply_to)?;
    let website = optional(&f.website);
    if let Some(w) = &website
        && !(w.starts_with("https://") || w.starts_with("http://"))
    {
        return Err(Error::invalid("website", Why::AddressNeeded));
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
