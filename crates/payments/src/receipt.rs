//! The receipt of a payment: numbered per commune and year when Stripe's word settles the
//! payment (in the same transaction), told to the person through the outbox, and printable (PDF:
//! the commune, its receipt header, the payer, what was paid, the amount, the fee, the day,
//! Stripe's reference) from the person's area.

use chrono::Datelike;

use crate::rome;
use sportello_domain::{Language, Money, TenantId};
use sportello_kernel::pdf::{Line, render};
use sportello_kernel::session::Current;
use sportello_kernel::{Deps, Error, Result};
use sportello_notify::{Notice, To};
use sportello_store::TenantDb;
use sportello_store::payments::Payment;

/// Where the person is told (their proven e-mail address), read before the transaction that
/// writes the message.
pub(crate) async fn reach(deps: &Deps, person_id: &str) -> Result<Option<(To, String)>> {
    let c = sportello_notify::topics::proven_contacts(deps, person_id).await?;
    let given = deps
        .store
        .identity()
        .person(person_id)
        .await?
        .map(|p| p.given_name)
        .unwrap_or_default();
    Ok(c.email.map(|e| (To::Email(e), given)))
}

/// Numbers the receipt of a payment just settled and writes the message telling its person, in
/// the settling transaction.
pub(crate) async fn issue(
    deps: &Deps,
    db: &TenantDb<'_>,
    p: &Payment,
    to: Option<(To, String)>,
    now: i64,
) -> Result<i64> {
    let year = rome(now).year();
    let number = db.issue_receipt(&p.id, year).await?;
    let Some((to, given)) = to else {
        return Ok(number);
    };
    let (commune, base) = crate::commune_words(deps, db.tenant());
    let mut items = vec![];
    for i in db.payment_items(&p.id).await? {
        let reason = db
            .notice(&i.notice_number)
            .await?
            .map(|n| n.reason)
            .unwrap_or_default();
        items.push(format!("– {reason}: {}", Money::from_cents(i.amount_cents)));
    }
    sportello_notify::enqueue(
        deps,
        db,
        &Notice {
            template: "payment_receipt",
            lang: Language::It,
            to,
            person_id: Some(p.person_id.clone()),
            vars: serde_json::json!({
                "commune": commune,
                "given": given,
                "number": format!("{number}/{year}"),
                "total": Money::from_cents(p.total_cents()).to_string(),
                "amount": Money::from_cents(p.amount_cents).to_string(),
                "fee": Money::from_cents(p.fee_cents).to_string(),
                "day": rome(now).format("%d/%m/%Y").to_string(),
                "items": items.join("\n"),
                "url": format!("{base}/area-personale/pagamenti/pagamento/{}", p.id),
            }),
        },
    )
    .await?;
    Ok(number)
}

fn words(lang: Language) -> [&'static str; 9] {
    if lang == Language::En {
        [
            "Payment receipt",
            "Receipt no.",
            "Payer",
            "Paid",
            "Notices",
            "Fee",
            "Total",
            "Paid on",
            "Reference of the payment provider (Stripe)",
        ]
    } else {
        [
            "Ricevuta di pagamento",
            "Ricevuta n.",
            "Pagatore",
            "Pagato",
            "Avvisi",
            "Commissione",
            "Totale",
            "Pagato il",
            "Riferimento del prestatore di servizi di pagamento (Stripe)",
        ]
    }
}

/// The receipt of one of the person's payments (another person's, or one not paid: not found).
pub async fn for_citizen(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    id: &str,
    lang: Language,
) -> Result<(String, Vec<u8>)> {
    let person = who.person.as_ref().ok_or(Error::Refused("session_ended"))?;
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let p = db
        .payment(id)
        .await?
        .filter(|p| p.person_id == person.id)
        .ok_or(Error::NotFound)?;
    let Some((year, number)) = p.receipt else {
        return Err(Error::NotFound);
    };
    let header = db.payment_settings().await?.receipt_header;
    let mut paid = vec![];
    let mut payer = String::new();
    for i in db.payment_items(id).await? {
        let n = db.notice(&i.notice_number).await?;
        let reason = n.as_ref().map(|n| n.reason.clone()).unwrap_or_default();
        if payer.is_empty() {
            payer = n.map(|n| n.payer_name).unwrap_or_default();
        }
        paid.push((
            crate::grouped(&i.notice_number),
            reason,
            Money::from_cents(i.amount_cents),
        ));
    }
    tx.commit().await?;
    let name = deps
        .tenancy
        .by_id(commune)
        .map(|c| c.record.name.clone())
        .unwrap_or_default();
    let w = words(lang);
    let line = |bold: bool, size: u8, text: String| Line { bold, size, text };
    let mut lines = vec![line(true, 12, format!("Comune di {name}"))];
    if !header.is_empty() {
        lines.push(line(false, 10, header));
    }
    lines.extend([
        line(false, 10, String::new()),
        line(true, 16, w[0].to_owned()),
        line(true, 11, format!("{} {number}/{year}", w[1])),
        line(false, 10, format!("{}: {payer} ({})", w[2], p.fiscal_code)),
        line(false, 10, String::new()),
        line(true, 10, format!("{}:", w[3])),
    ]);
    for (n, reason, m) in &paid {
        lines.push(line(false, 10, format!("{n} – {reason}: {m}")));
    }
    lines.extend([
        line(false, 10, String::new()),
        line(
            false,
            10,
            format!("{}: {}", w[4], Money::from_cents(p.amount_cents)),
        ),
        line(
            false,
            10,
            format!("{}: {}", w[5], Money::from_cents(p.fee_cents)),
        ),
        line(
            true,
            12,
            format!("{}: {}", w[6], Money::from_cents(p.total_cents())),
        ),
        line(
            false,
            10,
            format!(
                "{}: {}",
                w[7],
                rome(p.succeeded_at.unwrap_or(p.updated_at)).format("%d/%m/%Y %H:%M")
            ),
        ),
        line(
            false,
            9,
            format!("{}: {}", w[8], p.intent_id.clone().unwrap_or_default()),
        ),
    ]);
    Ok((
        format!("ricevuta-{number}-{year}.pdf"),
        render(&format!("{} {number}/{year}", w[0]), &lines),
    ))
}
