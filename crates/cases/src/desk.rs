//! Staff filing for someone: a front desk for a citizen present, the call centre for one on the
//! phone, an intermediary for a client who delegated it. The staff member starts a draft of
//! their own for the person (never the person's own draft), fills it in like the person would,
//! and files it: the case is the person's, and records who filed it, as what, from which desk
//! and why. Every filing and every look at a person's cases goes to the audit log with
//! `on_behalf_of` and `purpose`; the person sees both on their case.
//!
//! **Any desk of the federation**: a front desk of one member commune may file with another for
//! a citizen present, where that commune allows it ([`PartnerDesk`], the one way a desk reaches
//! another commune's cases). The case is that commune's from the first moment; the desk sees
//! only what it filed and its receipt; both communes' audit logs record it.

use serde::Serialize;
use sportello_authz::{Action, Object, Role};
use sportello_domain::{AssuranceLevel, CommuneStatus, FiscalCode, Language, TenantId, Why};
use sportello_kernel::{Actor, Deps, Error, Problems, Result};
use sportello_store::TenantDb;
use sportello_store::cases::Case;
use sportello_store::identity::{Person, VerifiedIdentity};

use crate::filer::{Desk, FiledAs, Filer};
use crate::view::{self, CaseView};

pub use crate::delegations::{DelegationLine, delegation_in_force, delegations};

/// The longest purpose staff give for acting for someone.
pub const PURPOSE_MAX: usize = 300;

/// As what the actor acts for people here: the first of front desk, call centre, intermediary
/// among their roles whose rules grant acting for citizens on cases.
pub async fn filed_as(deps: &Deps, actor: &Actor) -> Result<FiledAs> {
    if actor.federation {
        return Err(Error::Refused("refused_not_acting_for"));
    }
    let c = actor.commune()?;
    let rules = deps.policies.rules_of(c).await;
    let tx = deps.store.tenant_read(c).await?;
    let roles = tx.db().role_assignments().await?;
    tx.commit().await?;
    let held: Vec<Role> = roles
        .iter()
        .filter(|r| r.staff_id == actor.staff_id)
        .filter_map(|r| Role::parse(&r.role))
        .filter(|r| {
            rules
                .get(&(*r, Object::Cases))
                .is_some_and(|a| a.contains(&Action::ActFor))
        })
        .collect();
    [
        (Role::FrontDesk, FiledAs::FrontDesk),
        (Role::CallCentre, FiledAs::CallCentre),
        (Role::Intermediary, FiledAs::Intermediary),
    ]
    .into_iter()
    .find(|(r, _)| held.contains(r))
    .map(|(_, a)| a)
    .ok_or(Error::Refused("refused_not_acting_for"))
}

/// The one way a desk of one commune reaches another commune's cases: opened only where that
/// commune allows this desk's commune ([`crate::settings`]), for a front desk.
pub struct PartnerDesk {
    pub target: TenantId,
    pub from: TenantId,
}

impl PartnerDesk {
    /// The commune `target` as the desk of `from` may file with it (its own commune always).
    pub async fn open(deps: &Deps, from: TenantId, target: TenantId) -> Result<Self> {
        if target == from {
            return Ok(Self { target, from });
        }
        let c = deps.tenancy.by_id(target).ok_or(Error::NotFound)?;
        if c.record.status != CommuneStatus::Active {
            return Err(Error::NotFound);
        }
        if !deps
            .store
            .federation()
            .desk_consent(target.0)
            .await?
            .allows(from.0)
        {
            return Err(Error::Refused("refused_not_partner"));
        }
        Ok(Self { target, from })
    }

    /// The communes whose cases this desk may file (its own first): one query, however many
    /// communes the federation has.
    pub async fn targets(deps: &Deps, from: TenantId) -> Result<Vec<(TenantId, String)>> {
        let mut out = vec![];
        if let Some(c) = deps.tenancy.by_id(from) {
            out.push((from, c.record.name.clone()));
        }
        for id in deps.store.federation().desk_targets(from.0).await? {
            let id = TenantId(id);
            if let Some(c) = deps
                .tenancy
                .by_id(id)
                .filter(|c| id != from && c.record.status == CommuneStatus::Active)
            {
                out.push((id, c.record.name.clone()));
            }
        }
        Ok(out)
    }
}

/// What staff give to start filing for someone.
#[derive(Debug, Clone)]
pub struct StartRequest {
    /// The commune the case is for (the desk's own, or a partner's).
    pub target: TenantId,
    pub service_id: String,
    pub fiscal_code: String,
    pub given_name: String,
    pub family_name: String,
    pub purpose: String,
    /// For an intermediary: the client's delegation.
    pub delegation_id: Option<String>,
}

fn checked(req: &StartRequest) -> Result<(FiscalCode, String)> {
    let mut p = Problems::default();
    let cf = FiscalCode::parse(&req.fiscal_code);
    if let Err(e) = &cf {
        p.add("fiscal_code", e.why, e.arg.clone());
    }
    for (k, v) in [
        ("given_name", &req.given_name),
        ("family_name", &req.family_name),
    ] {
        let n = v.trim().chars().count();
        if n == 0 {
            p.add(k, Why::Required, "");
        } else if n > 100 {
            p.add(k, Why::TooLong, "100");
        }
    }
    let purpose = req.purpose.trim().to_owned();
    let n = purpose.chars().count();
    if n == 0 {
        p.add("purpose", Why::Required, "");
    } else if n > PURPOSE_MAX {
        p.add("purpose", Why::TooLong, PURPOSE_MAX.to_string());
    }
    p.result()?;
    let cf = cf.map_err(|_| Error::invalid("fiscal_code", Why::Required))?;
    Ok((cf.normalised(), purpose))
}

fn folded(s: &str) -> String {
    sportello_store::fold_for_search(s.trim())
}

/// The person with this fiscal code. A front desk (the person is there, with a document) and an
/// intermediary (the delegation carries the client's document) may make them known; the call
/// centre only reaches people who signed in once. A known person's family name must match what
/// staff typed: a slip of the fiscal code never files for someone else.
async fn person_for(
    deps: &Deps,
    as_: FiledAs,
    cf: &FiscalCode,
    req: &StartRequest,
) -> Result<Person> {
    let ids = deps.store.identity();
    if let Some(p) = ids.person_by_fiscal_code(cf.as_str()).await? {
        if folded(&p.family_name) != folded(&req.family_name) {
            return Err(Error::invalid("family_name", Why::NotOneOf));
        }
        // Known to the call centre only through an identity provider, not a desk's word.
        if as_ == FiledAs::CallCentre && ids.person_desk_made(&p.id).await? {
            return Err(Error::Refused("refused_person_unknown"));
        }
        return Ok(p);
    }
    if as_ == FiledAs::CallCentre {
        return Err(Error::Refused("refused_person_unknown"));
    }
    let who = VerifiedIdentity {
        fiscal_code: cf.as_str().to_owned(),
        given_name: req.given_name.trim().to_owned(),
        family_name: req.family_name.trim().to_owned(),
        email: None,
        mobile: None,
        date_of_birth: None,
        place_of_birth: None,
    };
    Ok(ids
        .person_from_desk(&who, sportello_store::now_micros())
        .await?)
}

/// Starts (or finds) the actor's draft for the person and service; gives the draft's id.
pub async fn start(deps: &Deps, actor: &Actor, req: &StartRequest) -> Result<String> {
    let here = actor.commune()?;
    let as_ = filed_as(deps, actor).await?;
    let (cf, purpose) = checked(req)?;
    if req.target != here && as_ != FiledAs::FrontDesk {
        return Err(Error::Refused("refused_not_partner"));
    }
    let desk = PartnerDesk::open(deps, here, req.target).await?;
    let delegation_id = if as_ == FiledAs::Intermediary {
        let id = req
            .delegation_id
            .as_deref()
            .filter(|d| !d.is_empty())
            .ok_or_else(|| Error::invalid("delegation", Why::DelegationMissing))?;
        let d = delegation_in_force(deps, actor, id).await?;
        if d.fiscal_code != cf.as_str() {
            return Err(Error::invalid("delegation", Why::DelegationMissing));
        }
        Some(d.id)
    } else {
        None
    };
    let person = person_for(deps, as_, &cf, req).await?;
    let keep_purpose = purpose.clone();
    let keep_delegation = delegation_id.clone();
    let filer = Filer {
        person,
        level: AssuranceLevel::None,
        idp: as_.key().to_owned(),
        desk: Some(Desk {
            staff: actor.clone(),
            as_,
            from: desk.from,
            purpose,
            delegation_id,
        }),
    };
    let f = crate::draft::open(deps, desk.target, &filer, &req.service_id, None).await?;
    // A draft this desk began earlier for the person: it files under what was said now.
    let tx = deps.store.tenant(desk.target).await?;
    tx.db()
        .set_draft_filing(
            &f.draft_id,
            &actor.audit_name(),
            as_.key(),
            &keep_purpose,
            keep_delegation.as_deref(),
        )
        .await?;
    tx.commit().await?;
    Ok(f.draft_id)
}

/// The actor's draft `draft_id` in `target`, as the filer who keeps it (checked again each
/// time: the partner commune's consent, the delegation).
pub async fn resume(
    deps: &Deps,
    actor: &Actor,
    target: TenantId,
    draft_id: &str,
) -> Result<(Filer, String)> {
    let (d, as_) = own_draft(deps, actor, target, draft_id).await?;
    let here = actor.commune()?;
    let person = deps
        .store
        .identity()
        .person(&d.person_id)
        .await?
        .ok_or(Error::NotFound)?;
    match &d.delegation_id {
        Some(id) => {
            let del = delegation_in_force(deps, actor, id).await?;
            if person.fiscal_code.as_deref() != Some(del.fiscal_code.as_str()) {
                return Err(Error::NotFound);
            }
        }
        None if as_ == FiledAs::Intermediary => return Err(Error::NotFound),
        None => {}
    }
    let filer = Filer {
        person,
        level: AssuranceLevel::None,
        idp: as_.key().to_owned(),
        desk: Some(Desk {
            staff: actor.clone(),
            as_,
            from: here,
            purpose: d.purpose.clone(),
            delegation_id: d.delegation_id.clone(),
        }),
    };
    Ok((filer, d.service_id))
}

/// The actor's own desk draft in `target`, with the role they act in now: the same as when the
/// draft began, and a front desk's for a partner commune (whose consent is checked again).
async fn own_draft(
    deps: &Deps,
    actor: &Actor,
    target: TenantId,
    draft_id: &str,
) -> Result<(sportello_store::cases::forms::Draft, FiledAs)> {
    let here = actor.commune()?;
    let as_ = filed_as(deps, actor).await?;
    if target != here && as_ != FiledAs::FrontDesk {
        return Err(Error::Refused("refused_not_partner"));
    }
    let desk = PartnerDesk::open(deps, here, target).await?;
    let tx = deps.store.tenant_read(desk.target).await?;
    let d = tx
        .db()
        .draft(draft_id)
        .await?
        .filter(|d| {
            d.filed_by == actor.audit_name()
                && d.filed_from == Some(here.0)
                && d.filed_as == as_.key()
        })
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok((d, as_))
}

/// Throws away one of the actor's desk drafts (whatever became of its delegation).
pub async fn discard(deps: &Deps, actor: &Actor, target: TenantId, draft_id: &str) -> Result<()> {
    let here = actor.commune()?;
    // Its own commune's drafts go even when the actor's role changed; a partner's only while
    // the partner's consent holds (else its drafts expire there).
    let d = match own_draft(deps, actor, target, draft_id).await {
        Ok((d, _)) => d,
        Err(_) if target == here => {
            let tx = deps.store.tenant_read(here).await?;
            let d = tx
                .db()
                .draft(draft_id)
                .await?
                .filter(|d| d.filed_by == actor.audit_name() && d.filed_from == Some(here.0))
                .ok_or(Error::NotFound)?;
            tx.commit().await?;
            d
        }
        Err(e) => return Err(e),
    };
    let tx = deps.store.tenant(target).await?;
    let db = tx.db();
    if !sportello_payments::fees::release(&db, &d.id).await? {
        return Err(Error::Refused("refused_fee_paid_keep"));
    }
    let mut keys = vec![];
    for f in db.draft_files(&d.id).await? {
        if let Some(k) = db.delete_draft_file(&f.id, &d.id).await? {
            keys.push(k);
        }
    }
    db.delete_draft(&d.id, &d.person_id).await?;
    tx.commit().await?;
    for k in keys {
        deps.files.delete(&k).await.ok();
    }
    Ok(())
}

/// Records a filing for someone in the case's commune (in the submission's transaction).
pub(crate) async fn audit_filing(
    db: &TenantDb<'_>,
    d: &Desk,
    case_id: &str,
    p: &Person,
    commune: TenantId,
) -> Result<()> {
    sportello_kernel::audit::record_for(
        db,
        &d.staff,
        "case_filed_for",
        &format!("case:{case_id}"),
        serde_json::json!({
            "as": d.as_.key(),
            "from": d.from.0,
            "commune": commune.0,
            "delegation": d.delegation_id,
        }),
        p.fiscal_code.as_deref().unwrap_or(""),
        &d.purpose,
    )
    .await
}

/// Records a filing for a partner commune in the desk's own commune, with where the case is.
pub(crate) async fn audit_at_desk(
    deps: &Deps,
    d: &Desk,
    target: TenantId,
    case_id: &str,
    protocol: sportello_domain::ProtocolNumber,
    p: &Person,
) -> Result<()> {
    let tx = deps.store.tenant(d.from).await?;
    sportello_kernel::audit::record_for(
        &tx.db(),
        &d.staff,
        "case_filed_for_partner",
        &format!("commune:{}/case:{case_id}", target.0),
        serde_json::json!({"commune": target.0, "protocol": protocol.to_string()}),
        p.fiscal_code.as_deref().unwrap_or(""),
        &d.purpose,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Notes, in the desk's own commune and before the case is written, where the case it is about
/// to file for a partner commune will be: the desk finds it in its list even if what follows
/// the submission fails (a note for a case that never came is never shown).
pub(crate) async fn note_at_desk(
    deps: &Deps,
    d: &Desk,
    target: TenantId,
    case_id: &str,
) -> Result<()> {
    let tx = deps.store.tenant(d.from).await?;
    tx.db()
        .record_desk_filing(&d.staff.audit_name(), target.0, case_id)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A case as the desk that filed it lists it.
#[derive(Debug, Clone, Serialize)]
pub struct FiledLine {
    pub commune: i64,
    pub commune_name: String,
    pub id: String,
    pub protocol: String,
    pub applicant_name: String,
    pub service_title: String,
    pub status: String,
    pub submitted_at: i64,
}

/// What the actor filed for people: here, and at partner communes; an intermediary's only while
/// the client's delegation holds.
pub async fn filed_by_me(deps: &Deps, actor: &Actor, lang: Language) -> Result<Vec<FiledLine>> {
    let here = actor.commune()?;
    let as_ = filed_as(deps, actor).await?;
    let me = actor.audit_name();
    let (own, elsewhere) = {
        let tx = deps.store.tenant_read(here).await?;
        let own = tx.db().cases_filed_by(&me, 100).await?;
        let elsewhere = tx.db().desk_filings(&me, 100).await?;
        tx.commit().await?;
        (own, elsewhere)
    };
    let mut out = lines(deps, here, &own, lang).await?;
    for (commune, case_id) in elsewhere {
        let target = TenantId(commune);
        let tx = deps.store.tenant_read(target).await?;
        let c = tx.db().case(&case_id).await?;
        tx.commit().await?;
        if let Some(c) = c.filter(|c| is_mine(c, &me, here)) {
            out.extend(lines(deps, target, &[c], lang).await?);
        }
    }
    if as_ == FiledAs::Intermediary {
        // Only while the client's delegation holds (each looked up once).
        let mut holds: std::collections::HashMap<String, bool> = Default::default();
        let mut kept = vec![];
        for l in out {
            let d = own
                .iter()
                .find(|c| c.id == l.id)
                .and_then(|c| c.filed.as_ref()?.delegation_id.clone());
            let Some(d) = d else { continue };
            let ok = match holds.get(&d) {
                Some(ok) => *ok,
                None => {
                    let ok = delegation_in_force(deps, actor, &d).await.is_ok();
                    holds.insert(d, ok);
                    ok
                }
            };
            if ok {
                kept.push(l);
            }
        }
        out = kept;
    }
    out.sort_by_key(|l| std::cmp::Reverse(l.submitted_at));
    Ok(out)
}

fn is_mine(c: &Case, me: &str, here: TenantId) -> bool {
    c.filed
        .as_ref()
        .is_some_and(|f| f.by == me && f.from == here.0)
}

async fn lines(
    deps: &Deps,
    commune: TenantId,
    cases: &[Case],
    lang: Language,
) -> Result<Vec<FiledLine>> {
    let tx = deps.store.tenant_read(commune).await?;
    let services = tx.db().services().await?;
    tx.commit().await?;
    let name = deps
        .tenancy
        .by_id(commune)
        .map_or_else(|| commune.0.to_string(), |c| c.record.name.clone());
    Ok(cases
        .iter()
        .map(|c| FiledLine {
            commune: commune.0,
            commune_name: name.clone(),
            id: c.id.clone(),
            protocol: view::protocol_text(c),
            applicant_name: c.applicant_name.clone(),
            service_title: view::service_title(&services, &c.service_id, lang),
            status: c.status.clone(),
            submitted_at: c.submitted_at,
        })
        .collect())
}

/// One case the actor filed, as the person would see it (public history, the receipt's code):
/// what a desk hands over. Anything else: not found.
pub async fn filed_case(
    deps: &Deps,
    actor: &Actor,
    target: TenantId,
    id: &str,
    lang: Language,
) -> Result<CaseView> {
    let here = actor.commune()?;
    let as_ = filed_as(deps, actor).await?;
    let tx = deps.store.tenant_read(target).await?;
    let db = tx.db();
    let c = db
        .case(id)
        .await?
        .filter(|c| is_mine(c, &actor.audit_name(), here))
        .ok_or(Error::NotFound)?;
    if as_ == FiledAs::Intermediary {
        let d = c
            .filed
            .as_ref()
            .and_then(|f| f.delegation_id.clone())
            .ok_or(Error::NotFound)?;
        let del = delegation_in_force(deps, actor, &d)
            .await
            .map_err(|_| Error::NotFound)?;
        if c.fiscal_code.as_deref() != Some(del.fiscal_code.as_str()) {
            return Err(Error::NotFound);
        }
    }
    let v = view::build(deps, &db, &c, lang, true, true).await?;
    tx.commit().await?;
    Ok(v)
}
