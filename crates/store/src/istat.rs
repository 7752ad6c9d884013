//! ISTAT's list of Italian communes: parsing (with line numbers in every error), the embedded
//! copy, lookups and slugs. Data only: importing the list as communes is `sync::national`.

use std::collections::HashMap;
use std::sync::OnceLock;

use sportello_domain::{CadastralCode, IstatCode, TenantId, slugify};

/// The ISTAT list shipped with Sportello (`tenants/istat/comuni.csv`, CC BY 4.0 ISTAT).
pub const EMBEDDED_CSV: &str = include_str!("../../../tenants/istat/comuni.csv");

/// One commune of the ISTAT list.
#[derive(Debug, Clone, PartialEq)]
pub struct IstatRow {
    /// 1-based line in the file it came from.
    pub line: usize,
    pub istat_code: IstatCode,
    pub name_it: String,
    pub name_other: Option<String>,
    pub region: String,
    pub province_code: String,
    pub province_name: String,
    pub cadastral_code: CadastralCode,
}

impl IstatRow {
    /// A commune's tenant id is its ISTAT code as a number: stable across installations.
    pub fn tenant_id(&self) -> TenantId {
        TenantId(self.istat_code.as_str().parse().unwrap_or_default())
    }
}

/// Problems in a file, each naming its line. Nothing is imported when there is any.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct CsvErrors(pub Vec<String>);

const COLUMNS: [&str; 7] = [
    "istat_code",
    "name_it",
    "name_other_language",
    "region",
    "province_code",
    "province_name",
    "cadastral_code",
];

/// Parses the ISTAT CSV (header row naming at least the columns above; other columns ignored).
pub fn parse_csv(text: &str) -> Result<Vec<IstatRow>, CsvErrors> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| CsvErrors(vec![format!("line 1: {e}")]))?
        .clone();
    let mut idx = [0usize; 7];
    let mut missing = vec![];
    for (i, col) in COLUMNS.iter().enumerate() {
        match headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == *col)
        {
            Some(p) => idx[i] = p,
            None => missing.push(*col),
        }
    }
    if !missing.is_empty() {
        return Err(CsvErrors(vec![format!(
            "line 1: the header lacks the column(s) {}",
            missing.join(", ")
        )]));
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut by_code: HashMap<String, usize> = HashMap::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                errors.push(format!("line {line}: malformed CSV: {e}"));
                continue;
            }
        };
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        let get = |i: usize| rec.get(idx[i]).unwrap_or("").trim().to_owned();
        let code = get(0);
        if code.is_empty() {
            errors.push(format!("line {line}: the ISTAT code is missing"));
            continue;
        }
        let istat_code = match IstatCode::parse(&code) {
            Ok(c) => c,
            Err(e) => {
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        if let Some(first) = by_code.insert(code.clone(), line) {
            errors.push(format!(
                "line {line}: ISTAT code {code} already appears on line {first}"
            ));
            continue;
        }
        let cadastral_code = match CadastralCode::parse(&get(6)) {
            Ok(c) => c,
            Err(e) => {
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let name_it = get(1);
        if name_it.is_empty() {
            errors.push(format!("line {line}: the name is missing"));
            continue;
        }
        let other = get(2);
        rows.push(IstatRow {
            line,
            istat_code,
            name_it,
            name_other: (!other.is_empty()).then_some(other),
            region: get(3),
            province_code: get(4),
            province_name: get(5),
            cadastral_code,
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(CsvErrors(errors))
    }
}

/// The embedded ISTAT list, by ISTAT code.
pub fn embedded() -> &'static HashMap<String, IstatRow> {
    static LIST: OnceLock<HashMap<String, IstatRow>> = OnceLock::new();
    LIST.get_or_init(|| {
        parse_csv(EMBEDDED_CSV)
            .map(|rows| {
                rows.into_iter()
                    .map(|r| (r.istat_code.to_string(), r))
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// The commune of the embedded ISTAT list with this cadastral code (e.g. the birthplace of a
/// fiscal code); `None` for foreign countries (`Z…`) and for communes that no longer exist.
pub fn by_cadastral_code(code: &str) -> Option<&'static IstatRow> {
    static BY_CODE: OnceLock<HashMap<String, String>> = OnceLock::new();
    let index = BY_CODE.get_or_init(|| {
        embedded()
            .values()
            .map(|r| {
                (
                    r.cadastral_code.as_str().to_owned(),
                    r.istat_code.to_string(),
                )
            })
            .collect()
    });
    index
        .get(&code.to_ascii_uppercase())
        .and_then(|istat| embedded().get(istat))
}

/// Slugs for every row: the name, plus the province code where two communes share a name
/// (Castro in Bergamo and in Lecce become `castro-bg` and `castro-le`).
pub fn slugs(rows: &[IstatRow]) -> Vec<String> {
    let base: Vec<String> = rows.iter().map(|r| slugify(&r.name_it)).collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for b in &base {
        *count.entry(b).or_default() += 1;
    }
    rows.iter()
        .zip(&base)
        .map(|(r, b)| {
            if count[b.as_str()] > 1 {
                format!("{b}-{}", r.province_code.to_ascii_lowercase())
            } else {
                b.clone()
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "tests/istat.rs"]
mod tests;
