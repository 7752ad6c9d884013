//! The federation console's work: onboarding a commune from the ISTAT list (hosts, languages,
//! branding, first administrator), suspending and resuming, the communes' activity, and entering
//! a commune that granted support access.

use serde::Deserialize;
use serde_json::json;
use sportello_domain::{CommuneStatus, Host, Language, TenantId, slugify};
use sportello_store::authz::FederationAuditEntry;
use sportello_store::istat::{self, IstatRow};
use sportello_store::sync::{CommuneSpec, DEFAULT_COLOUR};
use sportello_store::tenant_file::{Branding, CharterSpec, STARTER_CHARTER};
use sportello_store::{FederationDb, now_micros};

use sportello_kernel::Actor;
use sportello_kernel::Deps;
use sportello_kernel::input::{Removal, optional, required};
use sportello_kernel::{Error, Result, Why};

/// The slug a commune gets in the national list (its name, plus the province code when two
/// communes share the name).
pub fn national_slug(row: &IstatRow) -> String {
    let base = slugify(&row.name_it);
    let shared = istat::embedded()
        .values()
        .filter(|r| slugify(&r.name_it) == base)
        .count();
    if shared > 1 {
        format!("{base}-{}", row.province_code.to_ascii_lowercase())
    } else {
        base
    }
}

/// Rows of the ISTAT list matching a name (either language) or a code, at most `limit`.
pub fn search_istat(q: &str, limit: usize) -> Vec<&'static IstatRow> {
    let q = sportello_store::fold_for_search(q.trim());
    if q.is_empty() {
        return vec![];
    }
    let mut rows: Vec<&IstatRow> = istat::embedded()
        .values()
        .filter(|r| {
            r.istat_code.as_str() == q
                || sportello_store::fold_for_search(&r.name_it).contains(&q)
                || r.name_other
                    .as_deref()
                    .is_some_and(|n| sportello_store::fold_for_search(n).contains(&q))
        })
        .collect();
    rows.sort_by(|a, b| {
        a.name_it
            .cmp(&b.name_it)
            .then(a.istat_code.cmp(&b.istat_code))
    });
    rows.truncate(limit);
    rows
}

#[derive(Debug, Deserialize)]
pub struct Onboard {
    pub istat: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub aliases: String,
    pub default_language: String,
    #[serde(default)]
    pub color: String,
    pub admin_email: String,
    pub admin_name: String,
}

async fn federation_audit(
    db: FederationDb<'_>,
    actor: &Actor,
    commune: Option<TenantId>,
    action: &str,
    detail: serde_json::Value,
) -> Result<()> {
    db.federation_audit(&FederationAuditEntry {
        at: now_micros(),
        actor: actor.audit_name(),
        actor_name: actor.name.clone(),
        commune_id: commune.map(|c| c.0),
        action: action.into(),
        detail: detail.to_string(),
    })
    .await?;
    Ok(())
}

/// Onboards a commune: registry row and hosts, the starter charter, the current policy
/// template, and an invitation for its first administrator. The portal is live on return.
/// Returns the commune and its primary host.
pub async fn onboard(
    deps: &Deps,
    actor: &Actor,
    f: &Onboard,
    port_suffix: &str,
) -> Result<(TenantId, Host)> {
    let row = istat::embedded()
        .get(f.istat.trim())
        .ok_or_else(|| Error::invalid_at("istat", Why::IstatUnknown, f.istat.trim()))?
        .clone();
    let id = row.tenant_id();
    if deps.tenancy.by_id(id).is_some() {
        return Err(Error::invalid_at(
            "istat",
            Why::AlreadyOnboarded,
            row.name_it.as_str(),
        ));
    }
    let slug = national_slug(&row);
    let apex = deps.tenancy.apex.clone();
    let host = match optional(&f.host) {
        Some(h) => Host::parse(&h).map_err(Error::parse("host"))?,
        None => Host::parse(&format!("{slug}.{apex}")).map_err(Error::parse("host"))?,
    };
    let aliases = f
        .aliases
        .split([',', '\n', ' '])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| Host::parse(a).map_err(Error::parse("aliases")))
        .collect::<Result<Vec<Host>>>()?;
    // The federation's own hosts are never a commune's.
    for h in std::iter::once(&host).chain(&aliases) {
        if *h == apex || *h == deps.login_host {
            let field = if *h == host { "host" } else { "aliases" };
            return Err(Error::invalid_at(field, Why::HostFederation, h.as_str()));
        }
    }
    let language =
        Language::parse(&f.default_language).map_err(Error::parse("default_language"))?;
    let color = match optional(&f.color) {
        Some(c) => {
            let c = c.to_ascii_lowercase();
            if c.len() != 7 || !c.starts_with('#') || !c[1..].chars().all(|x| x.is_ascii_hexdigit())
            {
                return Err(Error::invalid_at("color", Why::ColourInvalid, c));
            }
            c
        }
        None => DEFAULT_COLOUR.to_owned(),
    };
    let admin_email =
        sportello_domain::Email::parse(&f.admin_email).map_err(Error::parse("admin_email"))?;
    let admin_name = required("admin_name", &f.admin_name)?;
    let spec = CommuneSpec {
        istat: row.clone(),
        slug,
        primary_host: host.clone(),
        aliases,
        default_language: language,
        // Its staff prepare it first: the starter charter is a draft to review.
        status: CommuneStatus::Draft,
        patron_day: None,
        branding: Branding {
            color: Some(color),
            ..Default::default()
        },
        source: "console",
    };
    let starter = CharterSpec::parse(STARTER_CHARTER, "starter charter")?;
    let by = actor.audit_name();
    deps.store
        .federation()
        .onboard_commune(&spec, &starter, &by)
        .await
        .map_err(|e| match e {
            // Another commune holds the host (or the name it would take).
            sportello_store::StoreError::Invalid(_) => {
                Error::invalid_at("host", Why::HostTaken, host.as_str())
            }
            other => Error::Store(other),
        })?;
    deps.apply_registry_changes().await;
    let portal = format!("{}://{}{port_suffix}/", deps.scheme, host.as_str());
    // The invitation leaves from the federation, with the administrator's account.
    let message = |token: &str| {
        sportello_notify::compose::compose(
            deps,
            TenantId(0),
            &sportello_notify::Notice {
                template: "commune_onboarded",
                lang: Language::It,
                to: sportello_notify::To::Email(admin_email.clone()),
                person_id: None,
                vars: json!({
                    "name": admin_name, "commune": row.name_it, "portal": portal,
                    "url": format!("{portal}console/invito?token={token}"),
                }),
            },
            None,
            None,
        )
    };
    let (staff_id, _token) = sportello_identity::staff::invite_with_message(
        &deps.store,
        id,
        admin_email.as_str(),
        &admin_name,
        "admin",
        None,
        &message,
    )
    .await?;
    sportello_notify::wake(deps);
    federation_audit(
        deps.store.federation(),
        actor,
        Some(id),
        "commune_onboarded",
        json!({"name": row.name_it, "host": host.as_str(), "admin": admin_email.as_str(), "staff_id": staff_id}),
    )
    .await?;
    deps.apply_policy_changes().await?;
    Ok((id, host))
}

/// Suspends (once confirmed, with a reason) or resumes a commune.
pub async fn set_status(
    deps: &Deps,
    actor: &Actor,
    commune: TenantId,
    status: &str,
    f: &Removal,
) -> Result<()> {
    let status = CommuneStatus::parse(status).map_err(Error::parse("status"))?;
    // Taking a commune off line needs the reason; bringing it back does not. Being prepared is
    // where onboarding starts, never a state to put a commune back into.
    // A commune being prepared is its administrator's to publish: not resumed into the public
    // by the federation, nor suspended and resumed past them.
    if deps
        .tenancy
        .by_id(commune)
        .is_some_and(|c| c.record.status == CommuneStatus::Draft)
    {
        return Err(Error::invalid_at("status", Why::NotOneOf, status.key()));
    }
    let reason = match status {
        CommuneStatus::Suspended => Some(f.reason()?),
        CommuneStatus::Active => optional(&f.reason),
        CommuneStatus::Draft => return Err(Error::invalid_at("status", Why::NotOneOf, "draft")),
    };
    if !deps.store.federation().set_status(commune, status).await? {
        return Err(Error::NotFound);
    }
    federation_audit(
        deps.store.federation(),
        actor,
        Some(commune),
        "commune_status",
        json!({"status": status.key(), "reason": reason}),
    )
    .await?;
    deps.apply_registry_changes().await;
    Ok(())
}

/// Opens a support session in a commune that granted access: a one-time code the commune's
/// host redeems (`/console/supporto/ingresso`), valid 60 s, for this federation staff member.
pub async fn support_entry(
    deps: &Deps,
    actor: &Actor,
    commune: TenantId,
) -> Result<(Host, String)> {
    let now = now_micros();
    let tx = deps.store.tenant(commune).await?;
    let until = tx.db().support_until(now).await?;
    tx.commit().await?;
    let until = until.ok_or(Error::Refused("refused_no_support"))?;
    let c = deps.tenancy.by_id(commune).ok_or(Error::NotFound)?;
    let host = Host::parse(&c.record.primary_host).map_err(|e| Error::Upstream(e.to_string()))?;
    let code = sportello_kernel::tokens::new_token();
    deps.store
        .identity()
        .create_handoff(
            &sportello_kernel::tokens::hash(&code),
            &format!("support:{}:{until}", actor.staff_id),
            host.as_str(),
            "/console",
            "support",
            now + 60_000_000,
        )
        .await?;
    federation_audit(
        deps.store.federation(),
        actor,
        Some(commune),
        "support_entered",
        json!({"until": until}),
    )
    .await?;
    Ok((host, code))
}

/// The commune's side of [`support_entry`]: redeems the code, opens the session (it ends when
/// the grant does). Returns the session token.
pub async fn redeem_support(
    deps: &Deps,
    commune: TenantId,
    host: &str,
    code: &str,
    user_agent: Option<String>,
) -> Result<String> {
    let now = now_micros();
    let taken = deps
        .store
        .identity()
        .take_handoff(&sportello_kernel::tokens::hash(code), host, "support", now)
        .await?
        .ok_or(Error::Refused("invitation_expired"))?;
    let mut parts = taken.0.splitn(3, ':');
    let (Some("support"), Some(staff), Some(until)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Refused("invitation_expired"));
    };
    let until: i64 = until
        .parse()
        .map_err(|_| Error::Refused("invitation_expired"))?;
    let staff_id = format!("f:{staff}");
    let token = deps
        .sessions
        .create(
            &deps.store,
            sportello_kernel::session::NewSession {
                kind: sportello_kernel::session::Kind::Staff,
                sso_hash: None,
                commune: Some(commune),
                person_id: None,
                staff_id: Some(&staff_id),
                level: sportello_domain::AssuranceLevel::Low,
                idp: "federation-support",
                mfa: true,
                user_agent,
                not_after: Some(until),
            },
        )
        .await?;
    let tx = deps.store.tenant(commune).await?;
    tx.db()
        .audit(&sportello_store::authz::AuditEntry {
            at: now,
            actor: format!("federation:{staff}"),
            actor_name: "federation support".into(),
            action: "support_session_opened".into(),
            object: "support".into(),
            detail: json!({"until": until}).to_string(),
            ..Default::default()
        })
        .await?;
    tx.commit().await?;
    Ok(token)
}
