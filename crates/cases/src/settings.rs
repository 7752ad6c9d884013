//! A commune's case settings: how its protocol numbers are written, and which partner communes'
//! front desks may file its cases ("any desk of the federation": off until the commune says;
//! kept in `desk_consents`, read across communes in one query).

use serde::Serialize;
use sportello_domain::{DEFAULT_PROTOCOL_FORMAT, ProtocolFormat, ProtocolNumber, TenantId, Why};
use sportello_kernel::{Actor, Deps, Problems, Result};
use sportello_store::cases::desk::CaseSettings;
use sportello_store::desk_consents::DeskConsent;

#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    pub protocol_format: String,
    /// An example number in that format.
    pub example: String,
    /// `none`, `all` or `some`.
    pub desk: &'static str,
    /// The partner communes chosen (with `some`).
    pub partners: Vec<i64>,
}

pub async fn get(deps: &Deps, actor: &Actor) -> Result<SettingsView> {
    let c = actor.commune()?;
    let tx = deps.store.tenant_read(c).await?;
    let s = tx.db().case_settings().await?;
    tx.commit().await?;
    let d = deps.store.federation().desk_consent(c.0).await?;
    Ok(view(&s, &d))
}

fn view(s: &CaseSettings, d: &DeskConsent) -> SettingsView {
    let format = ProtocolFormat::parse(&s.protocol_format).unwrap_or_default();
    SettingsView {
        protocol_format: if s.protocol_format.is_empty() {
            DEFAULT_PROTOCOL_FORMAT.to_owned()
        } else {
            s.protocol_format.clone()
        },
        example: format.write(ProtocolNumber {
            year: crate::today()
                .format("%Y")
                .to_string()
                .parse()
                .unwrap_or(2026),
            number: 123,
        }),
        desk: match d {
            DeskConsent::None => "none",
            DeskConsent::All => "all",
            DeskConsent::Some(_) => "some",
        },
        partners: match d {
            DeskConsent::Some(ids) => ids.clone(),
            _ => vec![],
        },
    }
}

/// What an administrator posts.
#[derive(Debug, Clone, Default)]
pub struct SettingsForm {
    pub protocol_format: String,
    /// `none`, `all` or `some`.
    pub desk: String,
    /// With `some`: ISTAT codes of member communes (`050003`, `50003`), separated by commas or
    /// spaces.
    pub partners: String,
}

/// Saves the settings; every change goes to the audit log.
pub async fn save(deps: &Deps, actor: &Actor, f: &SettingsForm) -> Result<SettingsView> {
    let here = actor.commune()?;
    let mut p = Problems::default();
    let format = f.protocol_format.trim();
    if let Err(e) = ProtocolFormat::parse(format) {
        p.add("protocol_format", e.why, e.arg);
    }
    let consent = match f.desk.as_str() {
        "none" => DeskConsent::None,
        "all" => DeskConsent::All,
        "some" => {
            let mut ids = vec![];
            for code in f
                .partners
                .split([',', ' ', ';', '\n'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
            {
                let known = code
                    .parse::<i64>()
                    .ok()
                    .map(TenantId)
                    .and_then(|id| deps.tenancy.by_id(id))
                    .filter(|c| c.id() != here);
                match known {
                    Some(c) if !ids.contains(&c.id().0) => ids.push(c.id().0),
                    Some(_) => {}
                    None => {
                        p.add("partners", Why::NotOneOf, code);
                        break;
                    }
                }
            }
            if ids.is_empty() && p.0.is_empty() {
                p.add("partners", Why::Required, "");
            }
            DeskConsent::Some(ids)
        }
        _ => {
            p.add("desk", Why::NotOneOf, "");
            DeskConsent::None
        }
    };
    p.result()?;
    let s = CaseSettings {
        protocol_format: if format == DEFAULT_PROTOCOL_FORMAT {
            String::new()
        } else {
            format.to_owned()
        },
    };
    let now = sportello_store::now_micros();
    let consent_before = deps.store.federation().desk_consent(here.0).await?;
    // The consent (read across communes) is the commune's own row: written in its transaction,
    // with the audit entry.
    let tx = deps.store.tenant(here).await?;
    let db = tx.db();
    let before = db.case_settings().await?;
    db.set_case_settings(&s, &actor.audit_name(), now).await?;
    db.set_own_desk_consent(&consent, now).await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "case_settings_changed",
        "case_settings",
        serde_json::json!({
            "protocol_format": [before.protocol_format, s.protocol_format],
            "desk_partners": [format!("{consent_before:?}"), format!("{consent:?}")],
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(view(&s, &consent))
}
