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

use super::stripe::{
    CallError, NewIntent, cancel_intent, configured, create_intent, retrieve_intent,
};
use super::webhook::{Said, apply};
use crate::due::{DueLine, vouched_code};

/// At most this many notices in one payment.
pub const ITEMS_MAX: usize = 20;

fn person(who: &Current) -> Result<(&str, &str)> {
    let p = who.person.as_ref().ok_or(Error::Refused("session_ended"))?;
    let code = vouched_code(who).ok_or(Error::NotFound)?;
    Ok((p.id.as_str(), code))
}

/// Starts paying `numbers` (the person's open notices of `commune`); gives the payment's id.
/// The same notices asked again while their payment is under way give that payment again (a new
/// one if what is due changed, as when a fine's reduction ran out); others overlapping wait
/// until it is paid or given up (the sweeper gives up an unpaid one after a day).
pub async fn start(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    numbers: &[String],
) -> Result<String> {
    let (person_id, code) = person(who)?;
    if !configured(deps) {
        return Err(Error::Refused("refused_online_payment_off"));
    }
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
    // Held until commit: the account cannot change under a payment being made on it.
    let s = db.payment_settings_held().await?;
    let Some(account) = s.stripe_account.clone() else {
        return Err(Error::Refused("refused_online_payment_off"));
    };
    let kinds = crate::settings::kinds_of(&s);
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
        if !sportello_domain::PaymentKind::parse(&notice.kind).is_ok_and(|k| kinds.contains(&k)) {
            return Err(Error::Refused("refused_online_payment_off"));
        }
        let line = DueLine::of(&notice, today);
        items.push(PaymentItem {
            notice_number: notice.notice_number.clone(),
            amount_cents: line.to_pay_today.cents(),
        });
        under_way = under_way.or(db.open_payment_of(n).await?);
    }
    let amount: i64 = items.iter().map(|i| i.amount_cents).sum();
    let total = amount.saturating_add(s.fee_cents);
    if !(super::stripe::AMOUNT_MIN..=super::stripe::AMOUNT_MAX).contains(&total) {
        return Err(Error::Refused("refused_amount_out_of_range"));
    }
    // A payment under way for these notices: the same notices and amounts give it back.
    if let Some(old) = under_way {
        let theirs = db.payment_items(&old).await?;
        let p = db.payment(&old).await?;
        tx.commit().await?;
        let same_notices = theirs.iter().map(|i| &i.notice_number).eq(wanted.iter());
        let same_amounts = theirs
            .iter()
            .map(|i| i.amount_cents)
            .eq(items.iter().map(|i| i.amount_cents));
        let Some(p) = p.filter(|p| {
            same_notices && matches!(p.status.as_str(), "created" | "pending" | "failed")
        }) else {
            return Err(Error::Refused("refused_payment_under_way"));
        };
        if same_amounts {
            if p.intent_id.is_none() {
                ask_or_give_up(deps, commune, &p).await?;
            }
            return Ok(old);
        }
        // What is due changed: that payment is given up (if Stripe lets it be: one already
        // being processed is waited for), a new one made.
        if !give_up(deps, commune, &p, "amount_changed").await? {
            return Err(Error::Refused("refused_payment_under_way"));
        }
        return Box::pin(start(deps, commune, who, numbers)).await;
    }
    let id = uuid::Uuid::new_v4().to_string();
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
        receipt: None,
        checked_at: 0,
        purpose: "notices".into(),
    };
    if db.claim_notices(&id, &wanted).await? != wanted.len() as u64 {
        return Err(Error::Refused("refused_payment_under_way"));
    }
    db.insert_payment(&p, &items).await?;
    tx.commit().await?;
    ask_or_give_up(deps, commune, &p).await?;
    Ok(id)
}

/// Asks Stripe for the payment's intent; a refusal for good gives the payment up at once (its
/// notices free again) and tells the person so.
pub(crate) async fn ask_or_give_up(deps: &Deps, commune: TenantId, p: &Payment) -> Result<()> {
    match ask_stripe(deps, commune, p).await {
        Ok(_) => Ok(()),
        Err(CallError::ForGood(why)) => {
            cancel(deps, commune, &p.id, &why).await?;
            Err(Error::Refused("refused_payment_not_possible"))
        }
        Err(CallError::ForNow(e)) => Err(e),
    }
}

/// Marks a payment cancelled here and frees its notices, in its own transaction.
pub(crate) async fn cancel(deps: &Deps, commune: TenantId, id: &str, why: &str) -> Result<()> {
    let tx = deps.store.tenant(commune).await?;
    tx.db()
        .cancel_payment(id, why, sportello_store::now_micros())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a payment up: its intent cancelled at Stripe (or, if it was paid after all, settled),
/// its notices free again. Gives false when Stripe would not cancel it and it is not paid
/// either (being processed, a bank debit say): it is left as it is, to be asked about again,
/// so its notices are never freed while money may still come.
pub(crate) async fn give_up(
    deps: &Deps,
    commune: TenantId,
    p: &Payment,
    why: &str,
) -> Result<bool> {
    let intent = match &p.intent_id {
        Some(i) => Some(i.clone()),
        // Its creation may have reached Stripe: ask again with the key, then cancel what exists.
        None => match ask_stripe(deps, commune, p).await {
            Ok(i) => Some(i),
            Err(CallError::ForGood(_)) => None,
            Err(CallError::ForNow(e)) => return Err(e),
        },
    };
    if let Some(i) = intent {
        let now = cancel_intent(deps, &p.stripe_account, &i).await?;
        if now.succeeded() {
            apply(
                deps,
                commune,
                &p.stripe_account,
                None,
                &now,
                Said::Succeeded,
            )
            .await?;
            return Ok(true);
        }
        if now.status != "canceled" {
            return Ok(false);
        }
    }
    cancel(deps, commune, &p.id, why).await?;
    Ok(true)
}

/// Asks Stripe for the payment's intent (again, with the same key, if it was asked before)
/// and records it; gives its id.
pub(crate) async fn ask_stripe(
    deps: &Deps,
    commune: TenantId,
    p: &Payment,
) -> std::result::Result<String, CallError> {
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
    let record = async {
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
        Ok::<_, Error>(())
    };
    record.await.map_err(CallError::ForNow)?;
    Ok(intent.id)
}

/// Whether what a payment asks is no longer what is due today (a fine's reduction ran out).
pub(crate) async fn stale(db: &sportello_store::TenantDb<'_>, p: &Payment) -> Result<bool> {
    let today = crate::today();
    for i in db.payment_items(&p.id).await? {
        if let Some(n) = db.notice(&i.notice_number).await?
            && n.status == NoticeStatus::Open
            && DueLine::of(&n, today).to_pay_today.cents() != i.amount_cents
        {
            return Ok(true);
        }
    }
    Ok(false)
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
    /// What it asks is no longer what is due (the person starts again from the list).
    pub stale: bool,
    /// The receipt's number, once paid (`12/2026`).
    pub receipt: Option<String>,
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
        items.push((
            crate::grouped(&i.notice_number),
            reason,
            Money::from_cents(i.amount_cents),
        ));
    }
    let stale =
        matches!(p.status.as_str(), "created" | "pending" | "failed") && stale(&db, &p).await?;
    tx.commit().await?;
    let payable = matches!(p.status.as_str(), "pending" | "failed") && !stale;
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
        stale,
        receipt: p.receipt.map(|(y, n)| format!("{n}/{y}")),
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
    refresh_payment(deps, commune, &p).await
}

/// Asks Stripe about a payment being made (at most every `refresh_every_ms`) and applies what
/// it says.
pub(crate) async fn refresh_payment(deps: &Deps, commune: TenantId, p: &Payment) -> Result<()> {
    let Some(intent_id) = p.intent_id.as_deref() else {
        return Ok(());
    };
    // Looked at a moment ago: Stripe is not asked again for every reload.
    let now = sportello_store::now_micros();
    let every = i64::try_from(deps.settings.stripe.refresh_every_ms).unwrap_or(i64::MAX);
    if !matches!(p.status.as_str(), "pending" | "failed")
        || now - p.checked_at < every.saturating_mul(1000)
    {
        return Ok(());
    }
    let intent = retrieve_intent(deps, &p.stripe_account, intent_id).await?;
    if intent.succeeded() {
        apply(
            deps,
            commune,
            &p.stripe_account,
            None,
            &intent,
            Said::Succeeded,
        )
        .await?;
    } else {
        // Noted apart from the sweeper's turn: reloading the page never keeps a payment from it.
        let tx = deps.store.tenant(commune).await?;
        tx.db().note_payment_checked(&p.id, now).await?;
        tx.commit().await?;
    }
    Ok(())
}
