//! ISTAT's list of Italian communes: parsing (with line numbers in every error) and onboarding.

use std::collections::HashMap;
use std::sync::OnceLock;

use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, TransactionTrait};
use sportello_domain::{
    CadastralCode, CommuneStatus, Host, IstatCode, Language, TenantId, slugify,
};

use crate::entity::{commune, commune_host};
use crate::sync::{CommuneSpec, apply_charter};
use crate::tenant_file::{Branding, CharterSpec, STARTER_CHARTER};
use crate::{FederationDb, Result, StoreError, TenantDb};

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

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
}

impl FederationDb<'_> {
    /// Onboards every commune of `rows` in one transaction: new communes get the host
    /// `<slug>.<apex>` and the starter charter; known ones get ISTAT's current names (their hosts,
    /// branding and charter are left as they are). Any conflict aborts the whole import.
    pub async fn import_istat(
        &self,
        rows: &[IstatRow],
        apex: &Host,
        mut progress: impl FnMut(usize),
    ) -> Result<ImportReport> {
        let starter = CharterSpec::parse(STARTER_CHARTER, "starter charter")?;
        let slugs = slugs(rows);
        let existing: HashMap<i64, commune::Model> = commune::Entity::find()
            .all(self.conn())
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let hosts: HashMap<String, i64> = self.known_hosts().await?.into_iter().collect();
        let existing_slugs: HashMap<&str, i64> =
            existing.values().map(|c| (c.slug.as_str(), c.id)).collect();
        // Check every new commune's host and slug before writing anything.
        let mut errors = Vec::new();
        let mut plans = Vec::with_capacity(rows.len());
        let mut planned_hosts: HashMap<String, usize> = HashMap::new();
        for (row, slug) in rows.iter().zip(slugs) {
            let id = row.tenant_id();
            let spec = match existing.get(&id.0) {
                Some(c) => CommuneSpec {
                    istat: row.clone(),
                    slug: c.slug.clone(),
                    primary_host: Host::parse(&c.primary_host)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    aliases: vec![],
                    default_language: Language::parse(&c.default_language).unwrap_or_default(),
                    status: CommuneStatus::parse(&c.status).unwrap_or_default(),
                    patron_day: c.patron_day.clone(),
                    branding: Branding {
                        color: Some(c.color.clone()),
                        email: c.email.clone(),
                        phone: c.phone.clone(),
                        pec: c.pec.clone(),
                        website: c.website.clone(),
                    },
                    source: if c.source == "tenants" {
                        "tenants"
                    } else {
                        "istat"
                    },
                },
                None => {
                    let host = match Host::parse(&format!("{slug}.{apex}")) {
                        Ok(h) => h,
                        Err(e) => {
                            errors.push(format!("line {}: {e}", row.line));
                            continue;
                        }
                    };
                    if let Some(other) = hosts.get(host.as_str()).filter(|o| **o != id.0) {
                        errors.push(format!(
                            "line {}: host {host} is already used by the commune with ISTAT code {other:06}",
                            row.line
                        ));
                        continue;
                    }
                    if let Some(first) = planned_hosts.insert(host.to_string(), row.line) {
                        errors.push(format!(
                            "line {}: host {host} is also derived for line {first}",
                            row.line
                        ));
                        continue;
                    }
                    if let Some(other) = existing_slugs.get(slug.as_str()).filter(|o| **o != id.0) {
                        errors.push(format!(
                            "line {}: slug {slug} is already used by the commune with ISTAT code {other:06}",
                            row.line
                        ));
                        continue;
                    }
                    CommuneSpec {
                        istat: row.clone(),
                        slug,
                        primary_host: host,
                        aliases: vec![],
                        default_language: if row.name_other.is_some()
                            && row.region.contains("Alto Adige")
                        {
                            Language::De
                        } else {
                            Language::It
                        },
                        status: CommuneStatus::Active,
                        patron_day: None,
                        branding: Branding::default(),
                        source: "istat",
                    }
                }
            };
            plans.push(spec);
        }
        if !errors.is_empty() {
            return Err(StoreError::Invalid(errors.join("\n")));
        }
        // Write: changed names of known communes, then every new commune in batches, then each new
        // commune's starter charter (one commune at a time: row-level security checks each row
        // against the commune set for the transaction).
        let txn = self.conn().begin().await?;
        let now = crate::now_micros();
        let mut report = ImportReport::default();
        let mut fresh = Vec::new();
        for spec in &plans {
            match existing.get(&spec.tenant_id().0) {
                Some(old) => {
                    let new = spec.model(old.created_at, old.updated_at);
                    if &new == old {
                        report.skipped += 1;
                    } else {
                        commune::ActiveModel::from(commune::Model {
                            updated_at: now,
                            ..new
                        })
                        .reset_all()
                        .update(&txn)
                        .await?;
                        report.updated += 1;
                    }
                }
                None => fresh.push(spec),
            }
        }
        for chunk in fresh.chunks(500) {
            commune::Entity::insert_many(
                chunk.iter().map(|s| s.model(now, now).into_active_model()),
            )
            .exec_without_returning(&txn)
            .await?;
            commune_host::Entity::insert_many(chunk.iter().map(|s| {
                commune_host::Model {
                    host: s.primary_host.to_string(),
                    commune_id: s.tenant_id().0,
                    is_primary: true,
                }
                .into_active_model()
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        let mut done = report.updated + report.skipped;
        progress(done);
        for spec in &fresh {
            let db = TenantDb::enter(&txn, spec.tenant_id()).await?;
            apply_charter(db, &starter, "istat-import", true).await?;
            db.apply_onboarding_policy("istat-import").await?;
            report.created += 1;
            done += 1;
            progress(done);
        }
        if report.created + report.updated > 0 {
            crate::sync::bump_registry_revision(&txn).await?;
        }
        txn.commit().await?;
        Ok(report)
    }
}

#[cfg(test)]
#[path = "tests/istat.rs"]
mod tests;
