//! People imported from a CSV export of the commune's previous registry system: every row
//! checked, every mistake named by its line, nothing written unless every row is right; the
//! same file imported again writes nothing (a person is known by fiscal code, and a person
//! already recorded with the same facts from the same day is "already there").
//!
//! The file: a header row naming the columns (Italian or English, any order, any case),
//! separated by `;`, `,` or tabs, UTF-8 or Windows-1252:
//!
//! | column | also | content |
//! |---|---|---|
//! | `codice_fiscale` | `fiscal_code` | the person's fiscal code (must agree with sex, birth day and place) |
//! | `cognome`, `nome` | `last_name`, `first_name` | |
//! | `sesso` | `sex` | `M` or `F` |
//! | `data_nascita` | `birth_date` | `12/08/1985` or `1985-08-12` |
//! | `luogo_nascita` | `birth_place` | cadastral code of the commune of birth (`G702`), `Z…` abroad |
//! | `comune_nascita` | `birth_place_name` | as printed: `PISA (PI)`, `ROMANIA` |
//! | `cittadinanza` | `citizenship` | ISO 3166 alpha-3: `ITA` |
//! | `stato_civile` | `marital_status` | `single`, `married`, `divorced`, `widowed`, `civil_union`, `union_dissolved` |
//! | `famiglia` | `family` | the family's number (the household sheet) |
//! | `relazione` | `relation` | `head`, `spouse`, `civil_partner`, `child`, `parent`, `sibling`, `grandchild`, `relative`, `cohabitant` |
//! | `codice_via`, `via` | `street_code`, `street_name` | the street's code and name (the commune's list) |
//! | `civico`, `interno` | `house_number`, `interior` | the interior may be empty |
//! | `documento_tipo`, `documento_numero`, `documento_scadenza` | `doc_kind`, `doc_number`, `doc_expires` | optional: `identity_card`, `paper_identity_card`, `passport`, `driving_licence` |
//! | `elettore` | `voter` | optional: `S`/`N` |
//! | `stato` | `status` | optional: `resident` (default), `emigrated`, `deceased` |
//! | `dal` | `since` | the legal day the record holds from |

use std::collections::HashMap;

use chrono::Datelike;

use serde_json::json;
use sportello_authz::Action;
use sportello_domain::registry::{Facts, RawFacts, Relation};
use sportello_domain::{FiscalCode, Why};
use sportello_kernel::csv_text::{column_names, decode, delimiter, norm};
use sportello_kernel::{Actor, Deps, Error, Result};
use sportello_store::population::NewVersion;

/// The most rows one file may hold.
pub const ROWS_MAX: usize = 500_000;
/// How many mistakes a refused import lists (the rest are counted).
pub const ERRORS_SHOWN: usize = 100;

/// One mistake: the file's line (the header is line 1), the column as the file names it, why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    #[serde(skip)]
    pub why: Why,
    pub arg: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Refused { errors: Vec<RowError>, total: usize },
    Done { written: u64, already: u64 },
}

const COLUMNS: [(&str, &str, &str); 21] = [
    ("fiscal_code", "codice_fiscale", "fiscal_code"),
    ("last_name", "cognome", "last_name"),
    ("first_name", "nome", "first_name"),
    ("sex", "sesso", "sex"),
    ("birth_date", "data_nascita", "birth_date"),
    ("birth_place", "luogo_nascita", "birth_place"),
    ("birth_place_name", "comune_nascita", "birth_place_name"),
    ("citizenship", "cittadinanza", "citizenship"),
    ("marital", "stato_civile", "marital_status"),
    ("family", "famiglia", "family"),
    ("relation", "relazione", "relation"),
    ("street", "codice_via", "street_code"),
    ("street_name", "via", "street_name"),
    ("number", "civico", "house_number"),
    ("interior", "interno", "interior"),
    ("doc_kind", "documento_tipo", "doc_kind"),
    ("doc_number", "documento_numero", "doc_number"),
    ("doc_expires", "documento_scadenza", "doc_expires"),
    ("voter", "elettore", "voter"),
    ("status", "stato", "status"),
    ("since", "dal", "since"),
];

const OPTIONAL: &[&str] = &[
    "interior",
    "doc_kind",
    "doc_number",
    "doc_expires",
    "voter",
    "status",
];

/// A row that parsed.
pub struct Row {
    pub line: u64,
    pub code: FiscalCode,
    pub facts: Facts,
    pub since: String,
    pub street_name: String,
}

struct Parsed {
    rows: Vec<Row>,
    errors: Vec<RowError>,
}

fn err(line: u64, column: &str, why: Why, arg: &str) -> RowError {
    RowError {
        line,
        column: column.to_owned(),
        why,
        arg: arg.to_owned(),
    }
}

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
    let header: Vec<String> = match rd.headers() {
        Ok(h) => h.iter().map(norm).collect(),
        Err(_) => {
            out.errors.push(err(1, "", Why::Malformed, ""));
            return out;
        }
    };
    let mut at: HashMap<&str, usize> = HashMap::new();
    for (key, it, en) in COLUMNS.iter() {
        if let Some(i) = header.iter().position(|h| h == it || h == en) {
            at.insert(key, i);
        } else if !OPTIONAL.contains(key) {
            out.errors.push(err(1, it, Why::Required, it));
        }
    }
    if !out.errors.is_empty() {
        return out;
    }
    let today = crate::today();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut heads: HashMap<i64, u64> = HashMap::new();
    for rec in rd.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                out.errors.push(err(
                    e.position().map_or(0, |p| p.line()),
                    "",
                    Why::Malformed,
                    "",
                ));
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
        let raw = RawFacts {
            status: cell("status"),
            last_name: cell("last_name"),
            first_name: cell("first_name"),
            sex: cell("sex"),
            birth_date: cell("birth_date"),
            birth_place: cell("birth_place"),
            birth_place_name: cell("birth_place_name"),
            citizenship: cell("citizenship"),
            marital: cell("marital"),
            doc_kind: cell("doc_kind"),
            doc_number: cell("doc_number"),
            doc_expires: cell("doc_expires"),
            voter: cell("voter"),
            family: cell("family"),
            relation: cell("relation"),
            street: cell("street"),
            number: cell("number"),
            interior: cell("interior"),
        };
        let before = out.errors.len();
        let code = FiscalCode::parse(&cell("fiscal_code"))
            .map_err(|e| {
                out.errors
                    .push(err(line, &names["fiscal_code"], e.why, &e.arg))
            })
            .ok();
        let since = sportello_domain::payment::parse_day(&cell("since"))
            .map_err(|e| out.errors.push(err(line, &names["since"], e.why, &e.arg)))
            .ok()
            .and_then(|d| {
                // A record holds from a day that has come.
                if d > today || d.year() < 1880 {
                    out.errors
                        .push(err(line, &names["since"], Why::DateInvalid, &d.to_string()));
                    None
                } else {
                    Some(d)
                }
            });
        let street_name = cell("street_name")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if street_name.is_empty() || street_name.chars().count() > 120 {
            let why = if street_name.is_empty() {
                Why::Required
            } else {
                Why::TooLong
            };
            out.errors.push(err(line, &names["street_name"], why, ""));
        } else if street_name.chars().any(|c| {
            c.is_control() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
        }) {
            out.errors.push(err(line, &names["street_name"], Why::Malformed, ""));
        }
        let facts = Facts::parse(&raw)
            .map_err(|errs| {
                for (field, e) in errs {
                    out.errors.push(err(line, &names[field], e.why, &e.arg));
                }
            })
            .ok();
        let (Some(code), Some(since), Some(facts)) = (code, since, facts) else {
            continue;
        };
        if out.errors.len() > before {
            continue;
        }
        if !facts.matches(&code) {
            out.errors.push(err(
                line,
                &names["fiscal_code"],
                Why::FiscalCodeInvalid,
                code.as_str(),
            ));
            continue;
        }
        if let Some(first) = seen.insert(code.as_str().to_owned(), line) {
            out.errors.push(err(
                line,
                &names["fiscal_code"],
                Why::IdTaken,
                &format!("{} ({first})", code.as_str()),
            ));
            continue;
        }
        if facts.relation == Relation::Head
            && let Some(first) = heads.insert(facts.family, line)
        {
            out.errors.push(err(
                line,
                &names["relation"],
                Why::IdTaken,
                &format!("{} ({first})", facts.family),
            ));
            continue;
        }
        out.rows.push(Row {
            line,
            code,
            facts,
            since: since.to_string(),
            street_name,
        });
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

/// Imports a CSV file of people: all or nothing.
pub async fn import(deps: &Deps, actor: &Actor, bytes: &[u8]) -> Result<Outcome> {
    crate::require(deps, actor, Action::Create).await?;
    let names = column_names(bytes, &COLUMNS);
    let parsed = parse(bytes, &names);
    if !parsed.errors.is_empty() {
        return Ok(refused(parsed.errors));
    }
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    let by = actor.audit_name();
    let out = write(&db, &by, &parsed.rows, &names).await?;
    if let Outcome::Done { written, already } = &out {
        sportello_kernel::audit::record(
            &db,
            actor,
            "people_imported",
            "records",
            json!({"written": written, "already": already}),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(out)
}

/// Writes checked rows in the caller's transaction (the import, the demo's residents).
pub(crate) async fn write(
    db: &sportello_store::TenantDb<'_>,
    by: &str,
    rows: &[Row],
    names: &HashMap<&'static str, String>,
) -> Result<Outcome> {
    let mut errors = vec![];
    // Streets: one name per code, in the file and against the commune's list.
    let stored: HashMap<String, String> = db.registry_streets().await?.into_iter().collect();
    let mut streets: HashMap<&str, (&str, u64)> = HashMap::new();
    for r in rows {
        let name = stored
            .get(&r.facts.street)
            .map_or((r.street_name.as_str(), r.line), |n| (n.as_str(), 0));
        let first = *streets.entry(&r.facts.street).or_insert(name);
        if !first.0.eq_ignore_ascii_case(&r.street_name) {
            errors.push(err(
                r.line,
                &names["street_name"],
                Why::IdTaken,
                &format!("{} ({})", r.facts.street, first.0),
            ));
        }
    }
    let codes: Vec<String> = rows.iter().map(|r| r.code.as_str().to_owned()).collect();
    let known: HashMap<String, i64> = db.registry_ids(&codes).await?.into_iter().collect();
    let ids: Vec<i64> = known.values().copied().collect();
    let current: HashMap<i64, sportello_store::population::Version> = db
        .registry_current_of(&ids)
        .await?
        .into_iter()
        .map(|v| (v.person_id, v))
        .collect();
    let mut fresh = vec![];
    let mut already = 0;
    for r in rows {
        match known.get(r.code.as_str()) {
            None => fresh.push(r),
            Some(id) => match current.get(id) {
                Some(v) if v.facts == r.facts && v.valid_from == r.since => already += 1,
                _ => errors.push(err(
                    r.line,
                    &names["fiscal_code"],
                    Why::IdTaken,
                    r.code.as_str(),
                )),
            },
        }
    }
    if !errors.is_empty() {
        return Ok(refused(errors));
    }
    if fresh.is_empty() {
        return Ok(Outcome::Done {
            written: 0,
            already,
        });
    }
    let new_streets: Vec<(String, String)> = streets
        .iter()
        .filter(|(c, _)| !stored.contains_key(**c))
        .map(|(c, (n, _))| ((*c).to_owned(), n.to_uppercase()))
        .collect();
    db.registry_add_streets(&new_streets).await?;
    let first = db.registry_take("person", fresh.len() as i64).await?;
    let now = sportello_store::now_micros();
    let people: Vec<(i64, String)> = fresh
        .iter()
        .enumerate()
        .map(|(i, r)| (first + i as i64, r.code.as_str().to_owned()))
        .collect();
    let written = db.registry_add_people(&people, now).await?;
    if written != people.len() as u64 {
        return Err(Error::Refused("refused_registry_import_raced"));
    }
    let versions: Vec<NewVersion<'_>> = fresh
        .iter()
        .enumerate()
        .map(|(i, r)| NewVersion {
            person_id: first + i as i64,
            version: 1,
            valid_from: r.since.clone(),
            valid_to: None,
            recorded_at: now,
            recorded_by: by,
            cause: "import",
            note: "",
            facts: &r.facts,
        })
        .collect();
    db.registry_add_versions(&versions).await?;
    if let Some(max) = fresh.iter().map(|r| r.facts.family).max() {
        db.registry_counter_at_least("family", max).await?;
    }
    Ok(Outcome::Done { written, already })
}
