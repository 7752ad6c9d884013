//! The national import: ISTAT's list onboarded as communes in one transaction (new communes
//! get `<slug>.<apex>` and the starter charter; known ones ISTAT's current names).

use std::collections::HashMap;

use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
use sportello_domain::{CommuneStatus, Host, Language};

use super::{CommuneSpec, apply_charter};
use crate::entity::{commune, commune_host};
use crate::istat::{IstatRow, slugs};
use crate::tenant_file::{Branding, CharterSpec, STARTER_CHARTER};
use crate::{FederationDb, Result, StoreError, TenantDb};

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
        let txn = crate::begin(self.conn()).await?;
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
            super::bump_registry_revision(&txn).await?;
        }
        txn.commit().await?;
        Ok(report)
    }
}
