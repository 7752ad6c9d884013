//! Notices imported from a CSV file (the canteen's ten thousand notices at the start of the
//! school year): every row checked, every mistake named by its line, nothing written unless
//! every row is right; importing the same file again writes nothing new (a notice is known by
//! the commune's own reference).
//!
//! The file: a header row naming the columns (Italian or English names, any order, any case),
//! separated by `;`, `,` or tabs, UTF-8 (a byte-order mark allowed) or Windows-1252 as
//! spreadsheets save it:
//!
//! | column | also | content |
//! |---|---|---|
//! | `riferimento` | `reference` | the commune's own reference, unique (letters, digits, `- _ / .`) |
//! | `codice_fiscale` | `fiscal_code` | the payer's fiscal code |
//! | `nominativo` | `payer_name` | the payer's name |
//! | `tipo` | `kind` | `multa`, `mensa`, `scuola`, … or the English keys |
//! | `causale` | `reason` | what it is for (up to 140 characters) |
//! | `importo` | `amount` | euros: `45,60` or `45.60` |
//! | `scadenza` | `due_on` | `31/10/2026` or `2026-10-31` |
//! | `notificato_il` | `notified_on` | optional: for fines, the day of notification |

use std::collections::HashMap;

use serde_json::json;
use sportello_authz::Action;
use sportello_domain::{NoticeInput, RawNotice, Why};
use sportello_kernel::csv_text::{column_names, decode, delimiter, norm};
use sportello_kernel::{Actor, Deps, Error, Result};

use crate::notices::{new_notice, notice_number, ready, same};
use crate::require;
use crate::settings::kinds_of;

/// The most rows one file may hold.
pub const ROWS_MAX: usize = 200_000;
/// How many mistakes a refused import lists (the rest are counted).
pub const ERRORS_SHOWN: usize = 100;

/// One mistake: the file's line (the header is line 1), the column as the file names it, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub why: Why,
    pub arg: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing written: the first mistakes, and how many there were in all.
    Refused { errors: Vec<RowError>, total: usize },
    /// Every row written or already there.
    Done { written: u64, already: u64 },
}

const COLUMNS: [(&str, &str, &str); 8] = [
    ("reference", "riferimento", "reference"),
    ("fiscal_code", "codice_fiscale", "fiscal_code"),
    ("payer_name", "nominativo", "payer_name"),
    ("kind", "tipo", "kind"),
    ("reason", "causale", "reason"),
    ("amount", "importo", "amount"),
    ("due_on", "scadenza", "due_on"),
    ("notified_on", "notificato_il", "notified_on"),
];

struct Parsed {
    rows: Vec<(u64, NoticeInput)>,
    errors: Vec<RowError>,
}

/// Reads and checks every row (no database).
fn parse(bytes: &[u8], names: &HashMap<&'static str, String>) -> Parsed {
    let text = decode(bytes);
    let mut rd = csv::ReaderBuilder::new()
        .delimiter(delimiter(&text))
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Parsed {
        rows: vec![],
        errors: vec![],
    };
    let err = |line: u64, column: &str, why: Why, arg: &str| RowError {
        line,
        column: column.to_owned(),
        why,
        arg: arg.to_owned(),
    };
    let header: Vec<String> = match rd.headers() {
        Ok(h) => h.iter().map(norm).collect(),
        Err(_) => {
            out.errors.push(err(1, "", Why::Malformed, ""));
            return out;
        }
    };
    let mut at: HashMap<&str, usize> = HashMap::new();
    for (key, it, en) in COLUMNS {
        if let Some(i) = header.iter().position(|h| h == it || h == en) {
            at.insert(key, i);
        } else if key != "notified_on" {
            out.errors.push(err(1, it, Why::Required, it));
        }
    }
    if !out.errors.is_empty() {
        return out;
    }
    let mut seen: HashMap<String, u64> = HashMap::new();
    for rec in rd.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                out.errors.push(err(line, "", Why::Malformed, ""));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if out.rows.len() + out.errors.len() >= ROWS_MAX {
            out.errors
                .push(err(line, "", Why::TooLong, &ROWS_MAX.to_string()));
            break;
        }
        let cell = |k: &str| at.get(k).and_then(|&i| rec.get(i)).unwrap_or("").to_owned();
        let raw = RawNotice {
            reference: cell("reference"),
            fiscal_code: cell("fiscal_code"),
            payer_name: cell("payer_name"),
            kind: cell("kind"),
            reason: cell("reason"),
            amount: cell("amount"),
            due_on: cell("due_on"),
            notified_on: cell("notified_on"),
        };
        match NoticeInput::parse(&raw) {
            Ok(n) => {
                if let Some(first) = seen.insert(n.reference.clone(), line) {
                    out.errors.push(err(
                        line,
                        &names["reference"],
                        Why::IdTaken,
                        &format!("{} ({first})", n.reference),
                    ));
                } else {
                    out.rows.push((line, n));
                }
            }
            Err(errs) => {
                for (field, e) in errs {
                    out.errors.push(err(line, &names[field], e.why, &e.arg));
                }
            }
        }
    }
    if out.rows.is_empty() && out.errors.is_empty() {
        out.errors.push(err(2, "", Why::Required, ""));
    }
    out
}

fn refused(mut errors: Vec<RowError>) -> Outcome {
    errors.sort_by_key(|e| e.line);
    let total = errors.len();
    errors.truncate(ERRORS_SHOWN);
    Outcome::Refused { errors, total }
}

/// Imports a CSV file of notices: all or nothing.
pub async fn import(deps: &Deps, actor: &Actor, bytes: &[u8]) -> Result<Outcome> {
    require(deps, actor, Action::Update).await?;
    let c = actor.commune()?;
    let names = column_names(bytes, &COLUMNS);
    let parsed = parse(bytes, &names);
    let mut errors = parsed.errors;
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    let s = ready(&db).await?;
    let kinds = kinds_of(&s);
    for (line, n) in &parsed.rows {
        if !kinds.contains(&n.kind) {
            errors.push(RowError {
                line: *line,
                column: names["kind"].clone(),
                why: Why::NotOneOf,
                arg: n.kind.key().to_owned(),
            });
        }
    }
    if !errors.is_empty() {
        return Ok(refused(errors));
    }
    let refs: Vec<String> = parsed
        .rows
        .iter()
        .map(|(_, n)| n.reference.clone())
        .collect();
    let stored: HashMap<String, _> = db
        .notices_by_reference(&refs)
        .await?
        .into_iter()
        .map(|n| (n.reference.clone(), n))
        .collect();
    let mut fresh = vec![];
    let mut already = 0;
    for (line, n) in &parsed.rows {
        match stored.get(&n.reference) {
            Some(old) if same(old, n) => already += 1,
            Some(_) => errors.push(RowError {
                line: *line,
                column: names["reference"].clone(),
                why: Why::IdTaken,
                arg: n.reference.clone(),
            }),
            None => fresh.push(n),
        }
    }
    if !errors.is_empty() {
        return Ok(refused(errors));
    }
    if fresh.is_empty() {
        tx.commit().await?;
        return Ok(Outcome::Done {
            written: 0,
            already,
        });
    }
    let first = db.take_notice_numbers(fresh.len() as i64).await?;
    let now = sportello_store::now_micros();
    let import_id = uuid::Uuid::new_v4().to_string();
    let by = actor.audit_name();
    let mut rows = Vec::with_capacity(fresh.len());
    for (i, n) in fresh.iter().enumerate() {
        let number = notice_number(&s, first + i as i64)?;
        rows.push(new_notice(n, &number, now, &by, Some(&import_id)));
    }
    let written = db.insert_notices(&rows).await?;
    if written != rows.len() as u64 {
        // Another import wrote some of these references meanwhile: start again, and this time
        // they are "already there" or a conflict named by its line.
        return Err(Error::Refused("refused_import_raced"));
    }
    sportello_kernel::audit::record(
        &db,
        actor,
        "notices_imported",
        "payments",
        json!({"import": import_id, "written": written, "already": already}),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done { written, already })
}
