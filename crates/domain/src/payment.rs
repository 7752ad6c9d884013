//! Payments owed to a commune: what a notice (avviso di pagamento) is for, what it asks, and
//! the reduction the law gives for paying a road fine early. Parsed, not validated: a
//! [`NoticeInput`] holds a notice a commune may issue.

use chrono::{Duration, NaiveDate};

use crate::{FiscalCode, Money, ParseError, Why};

/// What a notice is for. A commune enables the kinds it collects online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PaymentKind {
    /// Road fines (Codice della strada): reduced by 30 % within five days.
    Fine,
    /// School canteen.
    Canteen,
    /// Nursery and school fees.
    School,
    /// Rents of the commune's property.
    Rent,
    /// Occupation of public land and other concessions.
    Concession,
    /// Cemetery lamps (lux perpetua).
    Lamp,
    /// Local taxes (IMU and others).
    Tax,
    /// The fee of a service of the charter.
    Service,
    /// Tickets (museums, events).
    Ticket,
    /// Anything else the commune collects.
    Other,
}

impl PaymentKind {
    pub const ALL: [PaymentKind; 10] = [
        PaymentKind::Fine,
        PaymentKind::Canteen,
        PaymentKind::School,
        PaymentKind::Rent,
        PaymentKind::Concession,
        PaymentKind::Lamp,
        PaymentKind::Tax,
        PaymentKind::Service,
        PaymentKind::Ticket,
        PaymentKind::Other,
    ];

    /// The kind's key (stored, in CSV files, and in `payment_kind_<key>` words).
    pub fn key(self) -> &'static str {
        match self {
            PaymentKind::Fine => "fine",
            PaymentKind::Canteen => "canteen",
            PaymentKind::School => "school",
            PaymentKind::Rent => "rent",
            PaymentKind::Concession => "concession",
            PaymentKind::Lamp => "lamp",
            PaymentKind::Tax => "tax",
            PaymentKind::Service => "service",
            PaymentKind::Ticket => "ticket",
            PaymentKind::Other => "other",
        }
    }

    /// A kind by its key, or by its Italian name as a commune's spreadsheet writes it
    /// (`multa`, `mensa`, …), in any case.
    pub fn parse(s: &str) -> Result<PaymentKind, ParseError> {
        let k = s.trim().to_lowercase();
        let found = PaymentKind::ALL
            .into_iter()
            .find(|p| p.key() == k)
            .or(match k.as_str() {
                "multa" | "sanzione" | "contravvenzione" => Some(PaymentKind::Fine),
                "mensa" | "refezione" => Some(PaymentKind::Canteen),
                "scuola" | "retta" | "nido" => Some(PaymentKind::School),
                "affitto" | "canone" => Some(PaymentKind::Rent),
                "concessione" | "occupazione" | "cosap" | "tosap" => Some(PaymentKind::Concession),
                "lampade" | "lampada" | "luci votive" => Some(PaymentKind::Lamp),
                "tributo" | "imu" | "tassa" => Some(PaymentKind::Tax),
                "servizio" | "diritti" => Some(PaymentKind::Service),
                "biglietto" => Some(PaymentKind::Ticket),
                "altro" => Some(PaymentKind::Other),
                _ => None,
            });
        found.ok_or_else(|| {
            ParseError::new(
                Why::NotOneOf,
                "payment kind",
                format!("{s:?} is not a kind"),
            )
            .arg(s.trim())
        })
    }
}

/// An amount the law lets the payer pay instead, until a day (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reduction {
    pub amount: Money,
    pub until: NaiveDate,
}

/// Days after notification within which a road fine is reduced (Codice della strada, art. 202
/// c. 1, as amended by DL 69/2013).
pub const FINE_REDUCED_DAYS: i64 = 5;

/// A road fine paid within five days of its notification is reduced by 30 % (art. 202 c. 1
/// CdS); the cent is rounded half up.
pub fn fine_reduction(amount: Money, notified_on: NaiveDate) -> Reduction {
    let cents = amount.cents();
    Reduction {
        amount: Money::from_cents((cents * 7 + 5) / 10),
        until: notified_on + Duration::days(FINE_REDUCED_DAYS),
    }
}

/// The most a notice may ask: a million euros.
pub const AMOUNT_MAX: Money = Money::from_cents(100_000_000);
/// A commune's own reference of a notice: up to this many characters.
pub const REFERENCE_MAX: usize = 35;
/// The reason (causale) printed on a notice: up to this many characters (pagoPA's limit).
pub const REASON_MAX: usize = 140;
/// The payer's name: up to this many characters.
pub const NAME_MAX: usize = 70;

/// A notice as a commune types or imports it: text fields, unparsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawNotice {
    pub reference: String,
    pub fiscal_code: String,
    pub payer_name: String,
    pub kind: String,
    pub reason: String,
    pub amount: String,
    pub due_on: String,
    /// For fines: when the fine was notified (the reduction runs from that day).
    pub notified_on: String,
}

/// A notice the commune may issue: every part parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeInput {
    pub reference: String,
    pub fiscal_code: FiscalCode,
    pub payer_name: String,
    pub kind: PaymentKind,
    pub reason: String,
    pub amount: Money,
    pub due_on: NaiveDate,
    pub reduction: Option<Reduction>,
}

/// A day as a commune writes it: `2027-01-31` or `31/01/2027`.
pub fn parse_day(s: &str) -> Result<NaiveDate, ParseError> {
    let t = s.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .map_err(|_| ParseError::new(Why::DateInvalid, "date", format!("{t:?}")).arg(t))
}

/// Characters that change how text is shown without being seen (direction overrides, zero-width
/// marks): a reason or a name holding one could read otherwise than it is.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

fn text(s: &str, what: &'static str, max: usize) -> Result<String, ParseError> {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        return Err(ParseError::new(Why::Required, what, "empty"));
    }
    if t.chars().count() > max {
        return Err(ParseError::new(Why::TooLong, what, "too long").arg(max.to_string()));
    }
    if t.chars().any(|c| c.is_control() || invisible(c)) {
        return Err(ParseError::new(Why::Malformed, what, "control character"));
    }
    Ok(t)
}

impl NoticeInput {
    /// Parses every field; gives each refused field with its name (`reference`, `amount`, …).
    pub fn parse(raw: &RawNotice) -> Result<NoticeInput, Vec<(&'static str, ParseError)>> {
        let mut errs = vec![];
        let reference = raw.reference.trim();
        let reference_ok = if reference.is_empty() {
            Err(ParseError::new(Why::Required, "reference", "empty"))
        } else if reference.len() > REFERENCE_MAX {
            Err(ParseError::new(Why::TooLong, "reference", "too long")
                .arg(REFERENCE_MAX.to_string()))
        } else if !reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_/.".contains(&b))
        {
            Err(ParseError::new(
                Why::PatternMismatch,
                "reference",
                "letters, digits, - _ / .",
            )
            .arg(reference))
        } else {
            Ok(reference.to_owned())
        };
        let fiscal_code = FiscalCode::parse(raw.fiscal_code.trim());
        let payer_name = text(&raw.payer_name, "payer name", NAME_MAX);
        let kind = PaymentKind::parse(&raw.kind);
        let reason = text(&raw.reason, "reason", REASON_MAX);
        let amount = Money::parse(&raw.amount).and_then(|m| {
            if m.is_zero() || m > AMOUNT_MAX {
                Err(
                    ParseError::new(Why::AmountInvalid, "amount", "zero or too large")
                        .arg(raw.amount.trim()),
                )
            } else {
                Ok(m)
            }
        });
        let due_on = parse_day(&raw.due_on);
        let notified = if raw.notified_on.trim().is_empty() {
            Ok(None)
        } else {
            parse_day(&raw.notified_on).map(Some)
        };
        macro_rules! take {
            ($field:literal, $r:expr) => {
                match $r {
                    Ok(v) => Some(v),
                    Err(e) => {
                        errs.push(($field, e));
                        None
                    }
                }
            };
        }
        let reference = take!("reference", reference_ok);
        let fiscal_code = take!("fiscal_code", fiscal_code);
        let payer_name = take!("payer_name", payer_name);
        let kind = take!("kind", kind);
        let reason = take!("reason", reason);
        let amount = take!("amount", amount);
        let due_on = take!("due_on", due_on);
        let notified = take!("notified_on", notified);
        if let (Some(Some(n)), Some(d)) = (notified, due_on)
            && n > d
        {
            errs.push((
                "notified_on",
                ParseError::new(Why::DateTooLate, "notified on", "after the due day")
                    .arg(raw.notified_on.trim()),
            ));
        }
        match (
            reference,
            fiscal_code,
            payer_name,
            kind,
            reason,
            amount,
            due_on,
            notified,
        ) {
            (
                Some(reference),
                Some(fiscal_code),
                Some(payer_name),
                Some(kind),
                Some(reason),
                Some(amount),
                Some(due_on),
                Some(notified),
            ) if errs.is_empty() => {
                let reduction = match (kind, notified) {
                    (PaymentKind::Fine, Some(n)) => Some(fine_reduction(amount, n)),
                    _ => None,
                };
                Ok(NoticeInput {
                    reference,
                    fiscal_code,
                    payer_name,
                    kind,
                    reason,
                    amount,
                    due_on,
                    reduction,
                })
            }
            _ => Err(errs),
        }
    }
}

/// An Italian numeric tax code of a body (codice fiscale numerico, the same check as a VAT
/// number): eleven digits, the last the Luhn-style check of the first ten.
pub fn parse_body_tax_code(s: &str) -> Result<String, ParseError> {
    let t = s.trim();
    let bad = || ParseError::new(Why::FiscalCodeInvalid, "tax code", format!("{t:?}")).arg(t);
    if t.len() != 11 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let d: Vec<u32> = t.bytes().map(|b| u32::from(b - b'0')).collect();
    let mut sum = 0;
    for (i, v) in d[..10].iter().enumerate() {
        if i % 2 == 0 {
            sum += v;
        } else {
            let w = v * 2;
            sum += if w > 9 { w - 9 } else { w };
        }
    }
    if (10 - sum % 10) % 10 != d[10] {
        return Err(bad());
    }
    Ok(t.to_owned())
}

#[cfg(test)]
#[path = "tests/payment.rs"]
mod tests;
