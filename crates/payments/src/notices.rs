//! A commune's notices in its console: one written by hand, cancelled, listed, looked at.
//! Every notice gets its pagoPA notice number from the commune's segregation code and counter.

use serde_json::json;
use sportello_authz::Action;
use sportello_domain::{NoticeInput, NoticeNumber, RawNotice, Why};
use sportello_kernel::{Actor, Deps, Error, Problems, Result};
use sportello_store::TenantDb;
use sportello_store::payments::{NewNotice, Notice, NoticeFilter, PaymentSettings};

use crate::require;
use crate::settings::kinds_of;

/// A console list's page.
pub const PAGE: u64 = 50;

/// The row to write for a parsed notice under its number.
pub(crate) fn new_notice(
    n: &NoticeInput,
    number: &NoticeNumber,
    at: i64,
    by: &str,
    import_id: Option<&str>,
) -> NewNotice {
    NewNotice {
        notice_number: number.as_str().to_owned(),
        reference: n.reference.clone(),
        // As identity providers' codes are kept (omocodia folded): the payer's own code finds it.
        fiscal_code: n.fiscal_code.normalised().as_str().to_owned(),
        payer_name: n.payer_name.clone(),
        kind: n.kind.key().to_owned(),
        reason: n.reason.clone(),
        amount_cents: n.amount.cents(),
        due_on: n.due_on.to_string(),
        reduced_cents: n.reduction.map(|r| r.amount.cents()),
        reduced_until: n.reduction.map(|r| r.until.to_string()),
        created_at: at,
        created_by: by.to_owned(),
        import_id: import_id.map(str::to_owned),
    }
}

/// Whether a stored notice says what a new one under the same reference says (then writing it
/// again is a repetition, not a conflict).
pub(crate) fn same(stored: &Notice, n: &NoticeInput) -> bool {
    stored.fiscal_code == n.fiscal_code.normalised().as_str()
        && stored.payer_name == n.payer_name
        && stored.kind == n.kind.key()
        && stored.reason == n.reason
        && stored.amount_cents == n.amount.cents()
        && stored.due_on == n.due_on.to_string()
        && stored.reduced_cents == n.reduction.map(|r| r.amount.cents())
        && stored.reduced_until == n.reduction.map(|r| r.until.to_string())
}

/// The settings a commune needs before it issues notices: its tax code (the QR code carries it).
pub(crate) async fn ready(db: &TenantDb<'_>) -> Result<PaymentSettings> {
    let s = db.payment_settings().await?;
    if s.tax_code.is_none() {
        return Err(Error::Refused("refused_payments_not_set_up"));
    }
    Ok(s)
}

/// The form's field names, as [`NoticeInput::parse`] names them.
pub(crate) fn problems(errs: &[(&'static str, sportello_domain::ParseError)]) -> Problems {
    let mut p = Problems::default();
    for (field, e) in errs {
        p.parse(field, e);
    }
    p
}

/// Writes one notice; gives its number. The same notice posted again (same reference, same
/// content) gives the number it already has; another notice under a reference in use is refused.
pub async fn create(deps: &Deps, actor: &Actor, raw: &RawNotice) -> Result<String> {
    require(deps, actor, Action::Update).await?;
    let c = actor.commune()?;
    let n = NoticeInput::parse(raw).map_err(|e| Error::Invalid(problems(&e)))?;
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    let s = ready(&db).await?;
    if !kinds_of(&s).contains(&n.kind) {
        return Err(Error::invalid("kind", Why::NotOneOf));
    }
    if let Some(old) = db
        .notices_by_reference(std::slice::from_ref(&n.reference))
        .await?
        .into_iter()
        .next()
    {
        tx.commit().await?;
        return if same(&old, &n) {
            Ok(old.notice_number)
        } else {
            Err(Error::invalid("reference", Why::IdTaken))
        };
    }
    let local = db.take_notice_numbers(1).await?;
    let number = notice_number(&s, local)?;
    let now = sportello_store::now_micros();
    if db
        .insert_notices(&[new_notice(&n, &number, now, &actor.audit_name(), None)])
        .await?
        != 1
    {
        // Another post wrote this reference meanwhile: the same answer as if it had been first.
        return Err(Error::invalid("reference", Why::IdTaken));
    }
    sportello_kernel::audit::record(
        &db,
        actor,
        "notice_created",
        "payments",
        json!({"notice": number.as_str(), "reference": n.reference, "amount_cents": n.amount.cents()}),
    )
    .await?;
    tx.commit().await?;
    Ok(number.as_str().to_owned())
}

/// Writes one notice of the commune's under the next number; `None` when a notice with its
/// reference was written meanwhile (PostgreSQL waited for it: that one stands).
pub(crate) async fn write_one(
    db: &TenantDb<'_>,
    s: &PaymentSettings,
    n: &NoticeInput,
    by: &str,
) -> Result<Option<String>> {
    let local = db.take_notice_numbers(1).await?;
    let number = notice_number(s, local)?;
    let now = sportello_store::now_micros();
    let written = db
        .insert_notices(&[new_notice(n, &number, now, by, None)])
        .await?;
    Ok((written == 1).then(|| number.as_str().to_owned()))
}

pub(crate) fn notice_number(s: &PaymentSettings, local: i64) -> Result<NoticeNumber> {
    let seg = u8::try_from(s.segregation).map_err(|_| Error::Internal("segregation".into()))?;
    let local = u64::try_from(local).map_err(|_| Error::Internal("notice counter".into()))?;
    NoticeNumber::new(seg, local).map_err(|_| Error::Refused("refused_notice_numbers_used_up"))
}

/// Cancels an open notice, with the reason (to the audit log and the notice).
pub async fn cancel(deps: &Deps, actor: &Actor, number: &str, reason: &str) -> Result<()> {
    require(deps, actor, Action::Update).await?;
    let c = actor.commune()?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid("reason", Why::Required));
    }
    if reason.chars().count() > 500 {
        return Err(Error::invalid("reason", Why::TooLong));
    }
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    let Some(n) = db.notice(number).await? else {
        return Err(Error::NotFound);
    };
    if !db
        .cancel_notice(number, reason, sportello_store::now_micros())
        .await?
    {
        return Err(Error::Refused("refused_notice_not_open"));
    }
    sportello_kernel::audit::record(
        &db,
        actor,
        "notice_cancelled",
        "payments",
        json!({"notice": n.notice_number, "reference": n.reference, "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The commune's notices, newest first, a page after `before`.
pub async fn list(
    deps: &Deps,
    actor: &Actor,
    filter: &NoticeFilter,
    before: Option<(i64, String)>,
) -> Result<Vec<Notice>> {
    crate::require_commune_read(deps, actor).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let list = tx.db().notices(filter, before, PAGE).await?;
    tx.commit().await?;
    Ok(list)
}

/// One of the commune's notices.
pub async fn one(deps: &Deps, actor: &Actor, number: &str) -> Result<Notice> {
    crate::require_commune_read(deps, actor).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let n = tx.db().notice(number).await?;
    tx.commit().await?;
    n.ok_or(Error::NotFound)
}
