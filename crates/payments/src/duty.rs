//! The stamp duty on a document the commune gives at once (a registry certificate on stamped
//! paper, 16 €): a notice of the person's under the request's reference (`BOLLO-<request>`),
//! paid like any notice ("Da pagare", online or at the bank); the document is given once it is
//! paid. Only where the commune takes payments for services; elsewhere the duty is recorded as
//! due on the document.

use chrono::Duration;
use sportello_domain::{FiscalCode, NoticeInput, PaymentKind};
use sportello_kernel::{Error, Result};
use sportello_store::TenantDb;
use sportello_store::payments::Notice;

use crate::fees::STAMP_DUTY;
use crate::notices::write_one;
use crate::settings::kinds_of;

/// Days the duty's notice gives to pay.
const DAYS_TO_PAY: i64 = 30;

/// A request's duty reference.
pub fn reference(request_id: &str) -> String {
    format!("BOLLO-{request_id}")
}

/// Whether the commune takes payments for services (so the duty is paid before the document).
pub async fn taken(db: &TenantDb<'_>) -> Result<bool> {
    let s = db.payment_settings().await?;
    Ok(s.tax_code.is_some() && kinds_of(&s).contains(&PaymentKind::Service))
}

/// The duty's notice of a request, if one was issued.
pub async fn notice_of(db: &TenantDb<'_>, request_id: &str) -> Result<Option<Notice>> {
    Ok(db
        .notices_by_reference(&[reference(request_id)])
        .await?
        .into_iter()
        .next())
}

/// Issues the duty's notice of a request, in the caller's transaction; gives its number.
pub async fn issue(
    db: &TenantDb<'_>,
    request_id: &str,
    code: &FiscalCode,
    payer: &str,
    what: &str,
    by: &str,
) -> Result<String> {
    let s = db.payment_settings().await?;
    if s.tax_code.is_none() {
        return Err(Error::Refused("refused_payments_not_set_up"));
    }
    let n = NoticeInput {
        reference: reference(request_id),
        fiscal_code: code.clone(),
        payer_name: payer.chars().take(200).collect(),
        kind: PaymentKind::Service,
        reason: format!("Imposta di bollo: {what}")
            .chars()
            .take(500)
            .collect(),
        amount: STAMP_DUTY,
        due_on: crate::today() + Duration::days(DAYS_TO_PAY),
        reduction: None,
    };
    write_one(db, &s, &n, by)
        .await?
        .ok_or(Error::Refused("refused_duty_exists"))
}

/// Whether the duty's notice is paid, by the person it was issued to.
pub fn paid(n: &Notice, fiscal_code: &str) -> bool {
    crate::fees::paid_by(n, Some(fiscal_code))
}
