//! A person pays one or several of their notices of one commune: the payment and its
//! idempotency key are written (and the notices marked as being paid) before Stripe is called,
//! so a retry after a timeout or a crash makes no second charge: it finds the same intent.
//! Nothing here marks a notice paid: only Stripe's word does (webhook.rs, sweep.rs).

use std::collections::HashMap;

use serde::Serialize;
use sportello_domain::{Money, NoticeNumber, TenantId};
use sportello_kernel::session::Current;
use sportello_kernel::{Deps, Error, Result};
use sportello_store::payments::{NoticeStatus, Payment, PaymentItem};

use super::stripe::{NewIntent, create_intent, retrieve_intent};
use super::webhook::apply;
use crate::due::{DueLine, vouched_code};

/// At most this many notices in one payment.
pub const ITEMS_MAX: usize = 20;

fn person(who: &Current) -> Result<(&str, &str)> {
    let p = who.person.as_ref().ok_or(Error::Refused("session_ended"))?;
    let code = vouched_code(who).ok_or(Error::NotFound)?;
    Ok((p.id.as_str(), code))
}

/// Starts paying `numbers` (the person's open notices of `commune`); gives the payment's id.
/// The same notices asked again while their payment is under way give that payment again.
pub async fn start(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    numbers: &[String],
) -> Result<String> {
    let (person_id, code) = person(who)?;
    let mut wanted: Vec<String> = numbers
        .iter()
        .filter_map(|n| NoticeNumber::parse(n).ok())
        .map(|n| n.as_str().to_owned())
        .collect();
    wanted.sort();
    wanted.dedup();
    if wanted.is_empty() || wanted.len() != numbers.len() || wanted.len() > ITEMS_MAX {
        return Err(Error::invalid("notices", sportello_domain::Why::NotOneOf));
    }
    let today = crate::today();
    let now = sportello_store::now_micros();
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let s = db.payment_settings().await?;
    let Some(account) = s.stripe_account.clone() else {
        return Err(Error::Refused("refused_online_payment_off"));
    };
    let mut items = vec![];
    let mut under_way = None;
    for n in &wanted {
        // Another person's notice, or none: the same answer.
        let notice = db
            .notice(n)
            .await?
            .filter(|x| x.fiscal_code == code)
            .ok_or(Error::NotFound)?;
        if notice.status != NoticeStatus::Open {
            return Err(Error::Refused("refused_notice_not_open"));
        }
        let line = DueLine::of(&notice, today);
        items.push(PaymentItem {
            notice_number: notice.notice_number.clone(),
            amount_cents: line.to_pay_today.cents(),
        });
        under_way = under_way.or(db.open_payment_of(n).await?);
    }
    // A payment under way for these notices: the same notices give it back, others wait.
    if let Some(p) = under_way {
        let theirs = db.payment_items(&p).await?;
        tx.commit().await?;
        let same = theirs.iter().map(|i| &i.notice_number).eq(wanted.iter());
        return if same {
            Ok(p)
        } else {
            Err(Error::Refused("refused_payment_under_way"))
        };
    }
    let id = uuid::Uuid::new_v4().to_string();
    let amount: i64 = items.iter().map(|i| i.amount_cents).sum();
    let p = Payment {
        id: id.clone(),
        person_id: person_id.to_owned(),
        fiscal_code: code.to_owned(),
        amount_cents: amount,
        fee_cents: s.fee_cents,
        currency: "eur".into(),
        status: "created".into(),
        stripe_account: account,
        idempotency_key: format!("sportello-payment-{id}"),
        intent_id: None,
        client_secret: None,
        failure: None,
        created_at: now,
        updated_at: now,
        succeeded_at: None,
    };
    if db.claim_notices(&id, &wanted).await? != wanted.len() as u64 {
        return Err(Error::Refused("refused_payment_under_way"));
    }
    db.insert_payment(&p, &items).await?;
    tx.commit().await?;
    ask_stripe(deps, commune, &p).await?;
    Ok(id)
}

/// Asks Stripe for the payment's intent (again, with the same key, if it was asked before)
/// and records it.
pub(crate) async fn ask_stripe(deps: &Deps, commune: TenantId, p: &Payment) -> Result<()> {
    let metadata = HashMap::from([
        ("payment".to_owned(), p.id.clone()),
        ("commune".to_owned(), commune.0.to_string()),
    ]);
    let intent = create_intent(
        deps,
        &NewIntent {
            account: &p.stripe_account,
            amount: p.total_cents(),
            fee: p.fee_cents,
            idempotency_key: &p.idempotency_key,
            metadata,
            description: format!("Sportello {}", p.id),
        },
    )
    .await?;
    let secret = intent.client_secret.clone().unwrap_or_default();
    let sealed = deps
        .secrets
        .seal(secret.as_bytes())
        .map_err(Error::Internal)?;
    let tx = deps.store.tenant(commune).await?;
    tx.db()
        .set_payment_intent(&p.id, &intent.id, &sealed, sportello_store::now_micros())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A payment as its person sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentView {
    pub id: String,
    pub status: String,
    pub amount: Money,
    pub fee: Money,
    pub total: Money,
    pub items: Vec<(String, String, Money)>,
    /// For Stripe.js, while the payment can still be made.
    pub client_secret: Option<String>,
    pub account: String,
}

/// One of the person's payments (another person's, or none: not found).
pub async fn view(deps: &Deps, commune: TenantId, who: &Current, id: &str) -> Result<PaymentView> {
    let (person_id, _) = person(who)?;
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let p = db
        .payment(id)
        .await?
        .filter(|p| p.person_id == person_id)
        .ok_or(Error::NotFound)?;
    let mut items = vec![];
    for i in db.payment_items(id).await? {
        let reason = db
            .notice(&i.notice_number)
            .await?
            .map(|n| n.reason)
            .unwrap_or_default();
        let grouped = NoticeNumber::parse(&i.notice_number)
            .map(|n| n.grouped())
            .unwrap_or(i.notice_number);
        items.push((grouped, reason, Money::from_cents(i.amount_cents)));
    }
    tx.commit().await?;
    let payable = matches!(p.status.as_str(), "pending" | "failed");
    let client_secret = match (&p.client_secret, payable) {
        (Some(s), true) => Some(
            String::from_utf8(deps.secrets.open(s).map_err(Error::Internal)?)
                .map_err(|e| Error::Internal(e.to_string()))?,
        ),
        _ => None,
    };
    Ok(PaymentView {
        id: p.id.clone(),
        status: p.status.clone(),
        amount: Money::from_cents(p.amount_cents),
        fee: Money::from_cents(p.fee_cents),
        total: Money::from_cents(p.total_cents()),
        items,
        client_secret,
        account: p.stripe_account,
    })
}

/// The person is back from paying (Stripe sends the browser back to the payment's page): Stripe
/// is asked, never the browser believed, and what it says is applied as its event would be.
pub async fn refresh(deps: &Deps, commune: TenantId, who: &Current, id: &str) -> Result<()> {
    let (person_id, _) = person(who)?;
    let tx = deps.store.tenant_read(commune).await?;
    let p = tx
        .db()
        .payment(id)
        .await?
        .filter(|p| p.person_id == person_id)
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    let Some(intent_id) = p.intent_id.as_deref() else {
        return Ok(());
    };
    if !matches!(p.status.as_str(), "pending" | "failed") {
        return Ok(());
    }
    let intent = retrieve_intent(deps, &p.stripe_account, intent_id).await?;
    if intent.succeeded() {
        apply(deps, commune, &p.stripe_account, None, &intent, None).await?;
    }
    Ok(())
}
