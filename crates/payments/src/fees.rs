//! Paying for a service as the last step of its online case. A commune says, per service of
//! its charter that has a cost, when it is paid (`before`: the case is submitted only once
//! paid; `after`: submitted at once and awaiting payment), whether the request needs the stamp
//! duty (16 €, D.P.R. 642/1972, Tariffa parte I, art. 3, as D.L. 43/2013 set it) and the
//! exemptions from it a person may declare. The fee is a payment notice of the person's, for
//! the charter's cost (and the stamp duty unless an exemption is declared), under the reference
//! `PRATICA-<draft>` (the case's own key): it is paid like any notice, online or at the bank.

use chrono::Duration;
use serde::Serialize;
use serde_json::json;
use sportello_authz::Action;
use sportello_domain::{FiscalCode, Money, NoticeInput, PaymentKind, TenantId, Why};
use sportello_kernel::session::Current;
use sportello_kernel::{Actor, Deps, Error, Problems, Result};
use sportello_store::TenantDb;
use sportello_store::charter::Service;
use sportello_store::payments::{Notice, ServiceFee};

use crate::notices::{ready, write_one};
use crate::settings::kinds_of;

/// The stamp duty on a request to a public office.
pub const STAMP_DUTY: Money = Money::from_cents(1_600);
/// Days a fee notice gives to pay (an `after` case).
const DAYS_TO_PAY: i64 = 30;

/// A case's fee reference: the draft's id is the case's key.
pub fn reference(draft_id: &str) -> String {
    format!("PRATICA-{draft_id}")
}

/// What a service asks to be paid.
#[derive(Debug, Clone, Serialize)]
pub struct Quote {
    pub mode: String,
    pub cost: Money,
    /// The stamp duty, when the service needs it.
    pub stamp: Option<Money>,
    pub exemptions: Vec<String>,
}

impl Quote {
    /// What is paid with the exemption declared (one of the service's, or none); the exemption
    /// kept (`None` when none applies).
    pub fn total(&self, exemption: Option<&str>) -> Result<(Money, Option<String>)> {
        let exemption = exemption.map(str::trim).filter(|e| !e.is_empty());
        match (self.stamp, exemption) {
            (None, _) => Ok((self.cost, None)),
            (Some(s), None) => Ok((Money::from_cents(self.cost.cents() + s.cents()), None)),
            (Some(_), Some(e)) if self.exemptions.iter().any(|x| x == e) => {
                Ok((self.cost, Some(e.to_owned())))
            }
            (Some(_), Some(e)) => Err(Error::invalid_at("esenzione", Why::NotOneOf, e)),
        }
    }
}

/// What a service asks to be paid, if anything.
pub async fn quote(db: &TenantDb<'_>, service: &Service) -> Result<Option<Quote>> {
    let Some(f) = db.service_fee(&service.id).await? else {
        return Ok(None);
    };
    if service.cost.is_zero() && !f.stamp_duty {
        return Ok(None);
    }
    Ok(Some(Quote {
        mode: f.mode.clone(),
        cost: service.cost,
        stamp: f.stamp_duty.then_some(STAMP_DUTY),
        exemptions: f.exemption_list().iter().map(|s| (*s).to_owned()).collect(),
    }))
}

/// The fee notice of a case (by its draft), if one was issued.
pub async fn notice_of(db: &TenantDb<'_>, draft_id: &str) -> Result<Option<Notice>> {
    Ok(db
        .notices_by_reference(&[reference(draft_id)])
        .await?
        .into_iter()
        .next())
}

/// Issues (or finds again) the fee notice of a case, in the caller's transaction; gives its
/// number.
#[allow(clippy::too_many_arguments)]
pub async fn issue(
    db: &TenantDb<'_>,
    service: &Service,
    q: &Quote,
    fiscal_code: Option<&str>,
    payer: &str,
    draft_id: &str,
    exemption: Option<&str>,
    by: &str,
) -> Result<String> {
    let (amount, exempt) = q.total(exemption)?;
    if let Some(n) = notice_of(db, draft_id).await? {
        // The commune cancelled it: the person asks the commune (a new one is not made behind
        // its back).
        if n.status == sportello_store::payments::NoticeStatus::Cancelled {
            return Err(Error::Refused("refused_fee_cancelled"));
        }
        return Ok(n.notice_number);
    }
    if amount.is_zero() {
        return Err(Error::Refused("refused_no_fee"));
    }
    let code = fiscal_code
        .and_then(|c| FiscalCode::parse(c).ok())
        .ok_or(Error::Refused("refused_fee_needs_fiscal_code"))?;
    let s = ready(db).await?;
    let mut reason = format!("{}: diritti", service.title);
    match (q.stamp, &exempt) {
        (Some(_), None) => reason.push_str(" e imposta di bollo"),
        (Some(_), Some(e)) => reason.push_str(&format!(" (bollo: esente, {e})")),
        (None, _) => {}
    }
    let n = NoticeInput {
        reference: reference(draft_id),
        fiscal_code: code,
        payer_name: payer.chars().take(200).collect(),
        kind: PaymentKind::Service,
        reason: reason.chars().take(500).collect(),
        amount,
        due_on: crate::today() + Duration::days(DAYS_TO_PAY),
        reduction: None,
    };
    match write_one(db, &s, &n, by).await? {
        Some(number) => Ok(number),
        // Another request issued it meanwhile (PostgreSQL waited for it): that one stands.
        None => notice_of(db, draft_id)
            .await?
            .map(|n| n.notice_number)
            .ok_or_else(|| Error::Internal("a fee notice neither written nor found".into())),
    }
}

/// Whether a paid fee notice is this draft's person's fee (a notice staff wrote under the same
/// reference is not).
pub fn paid_by(n: &Notice, fiscal_code: Option<&str>) -> bool {
    n.status == sportello_store::payments::NoticeStatus::Paid
        && n.kind == PaymentKind::Service.key()
        && fiscal_code
            .and_then(|c| FiscalCode::parse(c).ok())
            .is_some_and(|c| c.normalised().as_str() == n.fiscal_code)
}

/// Before a draft is thrown away: an open fee notice is cancelled with it; a paid one, or one
/// being paid, keeps the draft (false: the caller must not delete it).
pub async fn release(db: &TenantDb<'_>, draft_id: &str) -> Result<bool> {
    let Some(n) = notice_of(db, draft_id).await? else {
        return Ok(true);
    };
    match n.status {
        sportello_store::payments::NoticeStatus::Open => Ok(db
            .cancel_notice(
                &n.notice_number,
                "domanda non inviata",
                sportello_store::now_micros(),
            )
            .await?),
        sportello_store::payments::NoticeStatus::Cancelled => Ok(true),
        sportello_store::payments::NoticeStatus::Paid => Ok(false),
    }
}

/// A `before` service: the person pays first. Issues the fee notice (with the exemption they
/// declare) and starts paying it; gives the payment's id.
pub async fn pay_first(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    service_id: &str,
    draft_id: &str,
    exemption: Option<&str>,
) -> Result<String> {
    let p = who.person.as_ref().ok_or(Error::Refused("session_ended"))?;
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    // The person's own draft of this service, or nothing.
    if db
        .draft_of(&p.id, service_id, "")
        .await?
        .filter(|d| d.id == draft_id)
        .is_none()
    {
        return Err(Error::NotFound);
    }
    let service = db.service(service_id).await?.ok_or(Error::NotFound)?;
    let q = quote(&db, &service)
        .await?
        .filter(|q| q.mode == "before")
        .ok_or(Error::Refused("refused_no_fee"))?;
    let name = format!("{} {}", p.given_name, p.family_name);
    let number = issue(
        &db,
        &service,
        &q,
        p.fiscal_code.as_deref(),
        &name,
        draft_id,
        exemption,
        &format!("person:{}", p.id),
    )
    .await?;
    tx.commit().await?;
    crate::online::pay::start(deps, commune, who, &[number]).await
}

/// What an administrator posts for a service.
#[derive(Debug, Clone, Default)]
pub struct FeeForm {
    /// `none`, `before` or `after`.
    pub mode: String,
    pub stamp_duty: bool,
    pub exemptions: String,
}

/// Writes a service's payment step.
pub async fn save(deps: &Deps, actor: &Actor, service_id: &str, f: &FeeForm) -> Result<()> {
    crate::require_commune(deps, actor, Action::Update).await?;
    let mut p = Problems::default();
    if !matches!(f.mode.as_str(), "none" | "before" | "after") {
        p.add("mode", Why::NotOneOf, f.mode.as_str());
    }
    let lines: Vec<&str> = f
        .exemptions
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.len() > 20 || lines.iter().any(|l| l.chars().count() > 200) {
        p.add("exemptions", Why::TooLong, "");
    }
    p.result()?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    let service = db.service(service_id).await?.ok_or(Error::NotFound)?;
    if f.mode != "none" {
        if service.cost.is_zero() && !f.stamp_duty {
            return Err(Error::Refused("refused_service_free"));
        }
        if !kinds_of(&db.payment_settings().await?).contains(&PaymentKind::Service) {
            return Err(Error::Refused("refused_service_kind_off"));
        }
    }
    let fee = ServiceFee {
        service_id: service.id.clone(),
        mode: f.mode.clone(),
        stamp_duty: f.stamp_duty,
        exemptions: lines.join("\n"),
        updated_at: sportello_store::now_micros(),
    };
    db.save_service_fee(&fee).await?;
    sportello_kernel::audit::record(&db, actor, "service_fee_saved", "payments", json!(fee))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The commune's services that have a cost or a payment step, with their settings.
pub async fn list(deps: &Deps, actor: &Actor) -> Result<Vec<(Service, Option<ServiceFee>)>> {
    crate::require_commune_read(deps, actor).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let db = tx.db();
    let fees = db.service_fees().await?;
    let services = db.services().await?;
    tx.commit().await?;
    Ok(services
        .into_iter()
        .filter(|s| !s.cost.is_zero() || fees.iter().any(|f| f.service_id == s.id))
        .map(|s| {
            let f = fees.iter().find(|f| f.service_id == s.id).cloned();
            (s, f)
        })
        .collect())
}

/// What the summary of a draft says of its fee: the quote, and its notice once issued.
pub async fn for_draft(
    deps: &Deps,
    commune: TenantId,
    service_id: &str,
    draft_id: &str,
) -> Result<Option<(Quote, Option<Notice>)>> {
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let Some(service) = db.service(service_id).await? else {
        return Ok(None);
    };
    let q = quote(&db, &service).await?;
    let n = match &q {
        Some(_) => notice_of(&db, draft_id).await?,
        None => None,
    };
    tx.commit().await?;
    Ok(q.map(|q| (q, n)))
}
