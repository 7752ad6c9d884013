//! The printable notice (PDF): the commune, the payer, what for, how much and by when (and the
//! reduced amount while it lasts), the notice number and the commune's tax code, and the pagoPA
//! QR code `PAGOPA|002|<notice number>|<tax code>|<cents>` any payment channel reads.

use sportello_domain::{Language, Money, NoticeNumber, TenantId};
use sportello_kernel::pdf::{Line, render_with_qr};
use sportello_kernel::session::Current;
use sportello_kernel::{Actor, Deps, Error, Result};
use sportello_store::payments::{Notice, NoticeStatus};

fn words(lang: Language) -> [&'static str; 11] {
    if lang == Language::En {
        [
            "Payment notice",
            "Addressed to",
            "Reason",
            "Amount",
            "Due by",
            "Reduced amount if paid by",
            "Notice number",
            "Creditor's tax code",
            "Pay online in the personal area of the commune's site. The notice number and the QR code identify this notice.",
            "This notice was cancelled.",
            "This notice is paid.",
        ]
    } else {
        [
            "Avviso di pagamento",
            "Destinatario",
            "Causale",
            "Importo",
            "Da pagare entro il",
            "Importo ridotto se pagato entro il",
            "Codice avviso",
            "Codice fiscale dell'Ente creditore",
            "Paga online nell'area personale del sito del Comune. Il codice avviso e il codice QR identificano questo avviso.",
            "Questo avviso è stato annullato.",
            "Questo avviso è pagato.",
        ]
    }
}

/// The PDF of a notice of commune `name` whose tax code is `tax_code`.
pub fn render(name: &str, tax_code: &str, n: &Notice, lang: Language) -> Result<Vec<u8>> {
    let w = words(lang);
    let number = NoticeNumber::parse(&n.notice_number)
        .map_err(|e| Error::Internal(format!("stored notice number: {e}")))?;
    let amount = Money::from_cents(n.amount_cents);
    let qr = number
        .qr_text(tax_code, amount)
        .map_err(|e| Error::Internal(format!("QR text: {e}")))?;
    let line = |bold: bool, size: u8, text: String| Line { bold, size, text };
    let mut lines = vec![
        line(true, 16, w[0].to_owned()),
        line(true, 12, name.to_owned()),
        line(false, 10, String::new()),
        line(
            false,
            10,
            format!("{}: {} ({})", w[1], n.payer_name, n.fiscal_code),
        ),
        line(false, 10, format!("{}: {}", w[2], n.reason)),
        line(true, 12, format!("{}: {}", w[3], amount)),
        line(
            false,
            10,
            format!("{}: {}", w[4], crate::italian_day(&n.due_on)),
        ),
    ];
    if let (Some(c), Some(u)) = (n.reduced_cents, &n.reduced_until) {
        lines.push(line(
            false,
            10,
            format!(
                "{} {}: {}",
                w[5],
                crate::italian_day(u),
                Money::from_cents(c)
            ),
        ));
    }
    lines.extend([
        line(false, 10, String::new()),
        line(true, 11, format!("{}: {}", w[6], number.grouped())),
        line(false, 10, format!("{}: {}", w[7], tax_code)),
        line(false, 10, String::new()),
        line(false, 9, w[8].to_owned()),
    ]);
    match n.status {
        NoticeStatus::Cancelled => lines.push(line(true, 11, w[9].to_owned())),
        NoticeStatus::Paid => lines.push(line(true, 11, w[10].to_owned())),
        NoticeStatus::Open => {}
    }
    Ok(render_with_qr(
        &format!("{} {}", w[0], number.as_str()),
        &lines,
        Some(&qr),
    ))
}

async fn tax_code(deps: &Deps, commune: TenantId) -> Result<String> {
    let tx = deps.store.tenant_read(commune).await?;
    let s = tx.db().payment_settings().await?;
    tx.commit().await?;
    s.tax_code
        .ok_or(Error::Refused("refused_payments_not_set_up"))
}

fn commune_name(deps: &Deps, commune: TenantId) -> String {
    deps.tenancy
        .by_id(commune)
        .map(|c| c.record.name.clone())
        .unwrap_or_default()
}

/// One of the person's notices, printable.
pub async fn for_citizen(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    number: &str,
    lang: Language,
) -> Result<Vec<u8>> {
    let n = crate::due::my_notice(deps, commune, who, number).await?;
    render(
        &commune_name(deps, commune),
        &tax_code(deps, commune).await?,
        &n,
        lang,
    )
}

/// One of the commune's notices, printable (to post or hand over).
pub async fn for_staff(
    deps: &Deps,
    actor: &Actor,
    number: &str,
    lang: Language,
) -> Result<Vec<u8>> {
    let c = actor.commune()?;
    let n = crate::notices::one(deps, actor, number).await?;
    render(&commune_name(deps, c), &tax_code(deps, c).await?, &n, lang)
}
