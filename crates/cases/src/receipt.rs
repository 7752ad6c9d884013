//! The receipt of a submission (PDF): the commune, the service, the protocol number with date
//! and time, the case's code for the status page, the applicant and how they signed, a summary
//! of the answers and the SHA-256 of every file attached.

use sportello_domain::{Language, TenantId};
use sportello_kernel::session::Current;
use sportello_kernel::{Deps, Result};

use sportello_kernel::pdf::{Line, render};

fn words(lang: Language) -> [&'static str; 12] {
    if lang == Language::En {
        [
            "Receipt of filing",
            "Service",
            "Protocol number",
            "Filed on",
            "Case code",
            "Applicant",
            "Signature",
            "Office in charge",
            "Answers",
            "Attached files",
            "With the protocol number and the code, the case's status is at",
            "signed request (SPID or CIE, art. 65 CAD)",
        ]
    } else {
        [
            "Ricevuta di presentazione",
            "Servizio",
            "Numero di protocollo",
            "Presentata il",
            "Codice della pratica",
            "Richiedente",
            "Firma",
            "Ufficio competente",
            "Risposte",
            "File allegati",
            "Con il numero di protocollo e il codice, lo stato della pratica è su",
            "istanza firmata (SPID o CIE, art. 65 CAD)",
        ]
    }
}

/// The receipt of one of the person's cases. `base` is the commune's site (the status page's
/// address printed on it).
pub async fn receipt(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    id: &str,
    lang: Language,
    base: &str,
) -> Result<(String, Vec<u8>)> {
    let v = crate::follow::one(deps, commune, who, id, lang).await?;
    Ok(of_view(deps, commune, &v, lang, base))
}

/// The receipt of a case the actor filed for someone (what the desk hands over).
pub async fn filed(
    deps: &Deps,
    actor: &sportello_kernel::Actor,
    commune: TenantId,
    id: &str,
    lang: Language,
    base: &str,
) -> Result<(String, Vec<u8>)> {
    let v = crate::desk::filed_case(deps, actor, commune, id, lang).await?;
    Ok(of_view(deps, commune, &v, lang, base))
}

fn of_view(
    deps: &Deps,
    commune: TenantId,
    v: &crate::view::CaseView,
    lang: Language,
    base: &str,
) -> (String, Vec<u8>) {
    let w = words(lang);
    let name = deps
        .tenancy
        .by_id(commune)
        .map_or_else(|| commune.0.to_string(), |c| c.record.name.clone());
    let at = chrono::DateTime::from_timestamp_micros(v.submitted_at)
        .unwrap_or_default()
        .with_timezone(&chrono_tz::Europe::Rome)
        .format("%d/%m/%Y %H:%M:%S")
        .to_string();
    let plain = |t: String| Line {
        bold: false,
        size: 10,
        text: t,
    };
    let bold = |t: String, size: u8| Line {
        bold: true,
        size,
        text: t,
    };
    let mut lines = vec![
        bold(format!("Comune di {name}"), 16),
        bold(w[0].to_owned(), 13),
        plain(String::new()),
        plain(format!("{}: {}", w[1], v.service_title)),
        bold(format!("{}: {}", w[2], v.protocol), 11),
        plain(format!("{}: {at}", w[3])),
        plain(format!("{}: {}", w[4], v.code.clone().unwrap_or_default())),
        plain(format!(
            "{}: {}{}",
            w[5],
            v.applicant_name,
            v.fiscal_code
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default()
        )),
        plain(format!(
            "{}: {} ({}, {})",
            w[6],
            if v.signed { w[11] } else { "-" },
            v.idp,
            v.level
        )),
        plain(format!("{}: {}", w[7], v.office_name)),
    ];
    if let Some(f) = &v.filed {
        let by = if lang == Language::En {
            format!(
                "Filed for the applicant by {} ({}), {}: {}",
                f.by_name, f.from, "purpose", f.purpose
            )
        } else {
            format!(
                "Presentata per il richiedente da {} ({}), motivo: {}",
                f.by_name, f.from, f.purpose
            )
        };
        lines.push(plain(by));
    }
    lines.extend([plain(String::new()), bold(w[8].to_owned(), 12)]);
    for p in &v.answers {
        lines.push(bold(p.title.clone(), 10));
        for r in &p.rows {
            let value = if r.files.is_empty() {
                r.value.clone()
            } else {
                v.files
                    .iter()
                    .filter(|f| r.files.contains(&f.id))
                    .map(|f| f.name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            lines.push(plain(format!("{}: {value}", r.label)));
        }
    }
    if !v.files.is_empty() {
        lines.push(plain(String::new()));
        lines.push(bold(w[9].to_owned(), 12));
        for f in &v.files {
            lines.push(plain(format!("{} ({} B)", f.name, f.size)));
            lines.push(Line {
                bold: false,
                size: 8,
                text: format!("SHA-256 {}", f.sha256),
            });
        }
    }
    lines.push(plain(String::new()));
    lines.push(plain(format!("{} {base}/stato-pratica", w[10])));
    let plain_number: String = v
        .protocol
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let file = format!("ricevuta-{plain_number}.pdf");
    (file, render(&format!("{} {}", w[0], v.protocol), &lines))
}
