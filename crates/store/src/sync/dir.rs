//! A folder of commune files, synced all or nothing.

use std::collections::BTreeMap;

use serde::Serialize;
use sportello_domain::Host;

use crate::tenant_file::CharterSpec;
use crate::{FederationDb, Result, StoreError};

use super::*;

/// What syncing a folder of commune files did, per file.
#[derive(Debug, Default, Clone, Serialize)]
pub struct DirReport {
    pub files: Vec<(String, SyncOutcome)>,
}

impl FederationDb<'_> {
    /// Syncs every `*.toml` of `dir` (not its subfolders), all or nothing: every file is parsed
    /// and checked before anything is written, and all are written in one transaction.
    pub async fn sync_tenants_dir(&self, dir: &std::path::Path, apex: &Host) -> Result<DirReport> {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| StoreError::Invalid(format!("{}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
            .collect();
        paths.sort();
        let mut specs: Vec<(String, CommuneSpec, CharterSpec)> = Vec::with_capacity(paths.len());
        let mut claimed: BTreeMap<String, String> = BTreeMap::new();
        for p in &paths {
            let origin = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(p)
                .map_err(|e| StoreError::Invalid(format!("{origin}: {e}")))?;
            let file = crate::tenant_file::CommuneFile::parse(&text, &origin)?;
            let spec = commune_spec_of(&file, apex, &origin)?;
            for h in wanted_hosts(&spec).into_keys().chain([
                format!("slug {}", spec.slug),
                format!("ISTAT {}", spec.istat.istat_code),
            ]) {
                if let Some(first) = claimed.insert(h.clone(), origin.clone()) {
                    return Err(StoreError::Invalid(format!(
                        "{origin}: {h} is already claimed by {first}"
                    )));
                }
            }
            specs.push((origin, spec, file.charter));
        }
        let txn = crate::begin(self.conn()).await?;
        let mut report = DirReport::default();
        for (origin, spec, charter) in &specs {
            let outcome =
                FederationDb::sync_commune(&txn, spec, Some(charter), &format!("tenants/{origin}"))
                    .await
                    .map_err(|e| match e {
                        StoreError::Invalid(m) => StoreError::Invalid(format!("{origin}: {m}")),
                        other => other,
                    })?;
            report.files.push((origin.clone(), outcome));
        }
        if report.files.iter().any(|(_, o)| o.registry_changed) {
            bump_registry_revision(&txn).await?;
        }
        txn.commit().await?;
        Ok(report)
    }
}

/// The registry part of a commune file, completed from the ISTAT list.
pub fn commune_spec_of(
    file: &crate::tenant_file::CommuneFile,
    apex: &Host,
    origin: &str,
) -> Result<CommuneSpec> {
    let c = &file.commune;
    let istat = crate::istat::embedded()
        .get(c.istat_code.as_str())
        .ok_or_else(|| {
            StoreError::Invalid(format!(
                "{origin}: ISTAT code {} is not in the ISTAT list",
                c.istat_code
            ))
        })?
        .clone();
    let slug = c
        .slug
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| sportello_domain::slugify(&istat.name_it));
    let primary_host = match &c.primary_host {
        Some(h) => h.clone(),
        None => Host::parse(&format!("{slug}.{apex}"))
            .map_err(|e| StoreError::Invalid(format!("{origin}: {e}")))?,
    };
    if c.aliases.contains(&primary_host) {
        return Err(StoreError::Invalid(format!(
            "{origin}: {primary_host} is both the primary host and an alias"
        )));
    }
    Ok(CommuneSpec {
        istat,
        slug,
        primary_host,
        aliases: c.aliases.clone(),
        default_language: c.default_language,
        status: c.status,
        patron_day: c.patron_day.clone(),
        branding: file.branding.clone(),
        source: "tenants",
    })
}
