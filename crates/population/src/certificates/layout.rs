//! A certificate's page as printed: its title, what it certifies (in Italian, and German where
//! the commune is bilingual), the stamp duty or its exemption, the legend of art. 40 DPR
//! 445/2000, and the caption beside the stamp.

use chrono::NaiveDate;
use sportello_domain::registry::certificate::{self, Kind};
use sportello_kernel::pdf::Line;

use super::{Parsed, wording};

pub(super) struct RenderArgs<'a> {
    pub(super) rec: &'a sportello_store::registry::CommuneRecord,
    pub(super) kind: Kind,
    pub(super) q: &'a Parsed,
    pub(super) it: &'a [String],
    pub(super) de: Option<&'a Vec<String>>,
    pub(super) number: &'a str,
    pub(super) today: NaiveDate,
    pub(super) expires: NaiveDate,
    pub(super) base: &'a str,
}

/// The certificate's lines on their pages, the caption beside the stamp.
pub(super) fn lay_out(a: &RenderArgs<'_>) -> sportello_kernel::stamped_pdf::Laid {
    let line = |bold: bool, size: u8, text: String| Line { bold, size, text };
    let dmy = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
    let (title_it, title_de) = wording::title(a.kind);
    let mut lines = vec![line(
        true,
        14,
        format!("COMUNE DI {}", a.rec.name.to_uppercase()),
    )];
    if let (Some(other), Some(_)) = (&a.rec.name_other, a.de) {
        lines.push(line(true, 14, format!("GEMEINDE {}", other.to_uppercase())));
    }
    lines.push(line(
        false,
        10,
        format!("Provincia di {} — Ufficio Anagrafe", a.rec.province_name),
    ));
    lines.push(line(false, 10, String::new()));
    lines.push(line(true, 13, title_it.into()));
    if a.de.is_some() {
        lines.push(line(true, 13, title_de.into()));
    }
    lines.push(line(false, 10, format!("N. {}", a.number)));
    lines.push(line(false, 10, String::new()));
    lines.push(line(
        false,
        11,
        "L'Ufficiale d'Anagrafe, visti gli atti d'ufficio, certifica che".into(),
    ));
    for l in a.it {
        lines.push(line(false, 11, l.clone()));
    }
    if let Some(de) = a.de {
        lines.push(line(false, 10, String::new()));
        lines.push(line(
            false,
            11,
            "Der Standesbeamte bescheinigt auf Grund der Amtsakten, dass".into(),
        ));
        for l in de {
            lines.push(line(false, 11, l.clone()));
        }
    }
    lines.push(line(false, 10, String::new()));
    if !a.q.purpose.is_empty() {
        lines.push(line(false, 10, format!("Uso: {}", a.q.purpose)));
    }
    match a.q.exemption {
        Some(e) => {
            lines.push(line(
                false,
                10,
                format!("Esente dall'imposta di bollo: {} ({}).", e.it, e.rule),
            ));
            if a.de.is_some() {
                lines.push(line(
                    false,
                    10,
                    format!("Stempelfrei: {} ({}).", e.de, e.rule),
                ));
            }
        }
        None => {
            lines.push(line(
                false,
                10,
                match &a.q.duty_paid {
                    Some(n) => format!(
                        "Imposta di bollo di {} assolta con l'avviso di pagamento n. {n} (DPR 642/1972).",
                        certificate::STAMP_DUTY
                    ),
                    None => format!(
                        "Imposta di bollo di {} dovuta (DPR 642/1972).",
                        certificate::STAMP_DUTY
                    ),
                },
            ));
            if a.de.is_some() {
                lines.push(line(
                    false,
                    10,
                    match &a.q.duty_paid {
                        Some(n) => format!(
                            "Stempelsteuer von {} mit Zahlungsaufforderung Nr. {n} entrichtet (DPR 642/1972).",
                            certificate::STAMP_DUTY
                        ),
                        None => format!(
                            "Stempelsteuer von {} geschuldet (DPR 642/1972).",
                            certificate::STAMP_DUTY
                        ),
                    },
                ));
            }
        }
    }
    lines.push(line(
        false,
        10,
        format!(
            "Rilasciato il {}, valido fino al {}.",
            dmy(a.today),
            dmy(a.expires)
        ),
    ));
    if a.de.is_some() {
        lines.push(line(
            false,
            10,
            format!(
                "Ausgestellt am {}, gültig bis {}.",
                dmy(a.today),
                dmy(a.expires)
            ),
        ));
    }
    lines.push(line(false, 10, String::new()));
    lines.push(line(true, 9, certificate::LEGEND_IT.into()));
    if a.de.is_some() {
        lines.push(line(true, 9, certificate::LEGEND_DE.into()));
    }
    let caption = vec![
        format!(
            "Timbro digitale del Comune di {} (certificato n. {}).",
            a.rec.name, a.number
        ),
        format!("Verifica: {}/verifica", a.base),
        "Il codice riporta il contenuto essenziale del certificato firmato dal Comune.".to_owned(),
    ];
    sportello_kernel::stamped_pdf::lay_out(title_it, &lines, &caption)
}
