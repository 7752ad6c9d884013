//! Applying a declarative description to the database, idempotently: a commune (registry row and
//! hosts) and its charter (buildings, offices, staff, services). Only what differs is written;
//! every written office, staff member or service gets a history version.

use std::collections::BTreeMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, Statement,
};
use serde::Serialize;
use sportello_domain::{Host, Language, TenantId};

use crate::entity::{commune, commune_host};
use crate::istat::IstatRow;
use crate::tenant_file::{Branding, CharterSpec};
use crate::{FederationDb, Result, StoreError, TenantDb, now_micros};

mod charter;
mod dir;
mod history;
mod national;

pub use national::ImportReport;

pub use charter::*;
pub use dir::*;
pub use history::*;

/// What a sync changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Changes {
    pub inserted: usize,
    pub updated: usize,
    pub deleted: usize,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.inserted + self.updated + self.deleted == 0
    }
    fn add(&mut self, o: Changes) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.deleted += o.deleted;
    }
}

/// The registry part of a commune, before it is stored.
#[derive(Debug, Clone)]
pub struct CommuneSpec {
    pub istat: IstatRow,
    pub slug: String,
    pub primary_host: Host,
    pub aliases: Vec<Host>,
    pub default_language: Language,
    pub status: sportello_domain::CommuneStatus,
    pub patron_day: Option<String>,
    pub branding: Branding,
    pub source: &'static str,
}

/// The default colour of a commune's header: Bootstrap Italia's primary blue.
pub const DEFAULT_COLOUR: &str = "#0066cc";

impl CommuneSpec {
    pub fn tenant_id(&self) -> TenantId {
        self.istat.tenant_id()
    }

    pub(crate) fn model(&self, created_at: i64, updated_at: i64) -> commune::Model {
        commune::Model {
            id: self.tenant_id().0,
            istat_code: self.istat.istat_code.to_string(),
            cadastral_code: self.istat.cadastral_code.as_str().to_owned(),
            name: self.istat.name_it.clone(),
            name_other: self.istat.name_other.clone(),
            province_code: self.istat.province_code.clone(),
            province_name: self.istat.province_name.clone(),
            region: self.istat.region.clone(),
            slug: self.slug.clone(),
            primary_host: self.primary_host.to_string(),
            default_language: self.default_language.key().to_owned(),
            status: self.status.key().to_owned(),
            color: self
                .branding
                .color
                .clone()
                .unwrap_or_else(|| DEFAULT_COLOUR.to_owned())
                .to_ascii_lowercase(),
            email: self.branding.email.clone(),
            phone: self.branding.phone.clone(),
            pec: self.branding.pec.clone(),
            website: self.branding.website.clone(),
            patron_day: self.patron_day.clone(),
            source: self.source.to_owned(),
            created_at,
            updated_at,
        }
    }
}

/// German texts only where German is official (the console offers them there only, so
/// elsewhere they could be neither seen to be edited nor cleared).
fn german_only_where_official(spec: &CommuneSpec, charter: &CharterSpec) -> Result<()> {
    if sportello_domain::commune::co_official_language(&spec.istat.province_code)
        == Some(Language::De)
    {
        return Ok(());
    }
    let some = |v: &Option<String>| v.as_deref().is_some_and(|t| !t.trim().is_empty());
    let offices = charter
        .offices
        .iter()
        .filter(|o| some(&o.name_de) || some(&o.description_de))
        .map(|o| o.id.to_string());
    let services = charter
        .services
        .iter()
        .filter(|s| some(&s.title_de) || some(&s.summary_de) || some(&s.description_de))
        .map(|s| s.id.to_string());
    let found: Vec<String> = offices.chain(services).collect();
    if found.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "{}: German texts (*_de) are for the communes of the province of Bolzano/Bozen only: {}",
            spec.istat.name_it,
            found.join(", ")
        )))
    }
}

/// Whether the commune row or its hosts changed, and what changed in its charter.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SyncOutcome {
    pub created: bool,
    pub registry_changed: bool,
    pub charter: Changes,
}

impl FederationDb<'_> {
    /// Creates or updates one commune and, when `charter` is given, makes its charter exactly
    /// that. All in the caller's transaction; the caller bumps the registry revision once
    /// ([`bump_registry_revision`]) if any outcome says the registry changed.
    pub async fn sync_commune(
        txn: &DatabaseTransaction,
        spec: &CommuneSpec,
        charter: Option<&CharterSpec>,
        changed_by: &str,
    ) -> Result<SyncOutcome> {
        let mut out = SyncOutcome::default();
        check_hosts_free(txn, spec).await?;
        let now = now_micros();
        let existing = commune::Entity::find_by_id(spec.tenant_id().0)
            .one(txn)
            .await?;
        match existing {
            None => {
                commune::Entity::insert(spec.model(now, now).into_active_model())
                    .exec_without_returning(txn)
                    .await?;
                out.created = true;
                out.registry_changed = true;
            }
            Some(old) => {
                let new = spec.model(old.created_at, old.updated_at);
                if new != old {
                    let new = commune::Model {
                        updated_at: now,
                        ..new
                    };
                    commune::ActiveModel::from(new)
                        .reset_all()
                        .update(txn)
                        .await?;
                    out.registry_changed = true;
                }
            }
        }
        out.registry_changed |= sync_hosts(txn, spec).await?;
        if out.created {
            TenantDb::enter(txn, spec.tenant_id())
                .await?
                .apply_onboarding_policy(changed_by)
                .await?;
        }
        if let Some(charter) = charter {
            german_only_where_official(spec, charter)?;
            let db = TenantDb::enter(txn, spec.tenant_id()).await?;
            out.charter = apply_charter(db, charter, changed_by, out.created).await?;
            if !out.charter.is_empty() && !out.created {
                touch_commune(txn, spec.tenant_id()).await?;
                out.registry_changed = true;
            }
        }
        Ok(out)
    }

    /// Onboards one commune (registry row, hosts, starter charter) in one transaction; refuses a
    /// commune that exists already.
    pub async fn onboard_commune(
        &self,
        spec: &CommuneSpec,
        charter: &CharterSpec,
        changed_by: &str,
    ) -> Result<()> {
        let txn = crate::begin(self.conn()).await?;
        if commune::Entity::find_by_id(spec.tenant_id().0)
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(StoreError::Invalid(format!(
                "{}: already onboarded",
                spec.istat.name_it
            )));
        }
        FederationDb::sync_commune(&txn, spec, Some(charter), changed_by).await?;
        bump_registry_revision(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Suspends or resumes a commune.
    pub async fn set_status(
        &self,
        tenant: TenantId,
        status: sportello_domain::CommuneStatus,
    ) -> Result<bool> {
        let txn = crate::begin(self.conn()).await?;
        let res = commune::Entity::update_many()
            .col_expr(commune::Column::Status, Expr::value(status.key()))
            .col_expr(commune::Column::UpdatedAt, Expr::value(now_micros()))
            .filter(commune::Column::Id.eq(tenant.0))
            .exec(&txn)
            .await?;
        if res.rows_affected > 0 {
            bump_registry_revision(&txn).await?;
        }
        txn.commit().await?;
        Ok(res.rows_affected > 0)
    }
}

/// Marks a commune as changed (its charter changed): nodes reload it and drop cached charters.
pub async fn touch_commune(txn: &DatabaseTransaction, tenant: TenantId) -> Result<()> {
    commune::Entity::update_many()
        .col_expr(commune::Column::UpdatedAt, Expr::value(now_micros()))
        .filter(commune::Column::Id.eq(tenant.0))
        .exec(txn)
        .await?;
    Ok(())
}

pub async fn bump_registry_revision(txn: &DatabaseTransaction) -> Result<()> {
    txn.execute_raw(Statement::from_string(
        txn.get_database_backend(),
        "UPDATE federation_meta SET value = value + 1 WHERE key = 'registry_revision'",
    ))
    .await?;
    Ok(())
}

pub(super) fn wanted_hosts(spec: &CommuneSpec) -> BTreeMap<String, bool> {
    let mut wanted: BTreeMap<String, bool> = spec
        .aliases
        .iter()
        .map(|h| (h.to_string(), false))
        .collect();
    wanted.insert(spec.primary_host.to_string(), true);
    wanted
}

/// Refuses hosts (and the slug) that another commune already has, before anything is written.
pub(super) async fn check_hosts_free(txn: &DatabaseTransaction, spec: &CommuneSpec) -> Result<()> {
    let id = spec.tenant_id().0;
    let taken = commune_host::Entity::find()
        .filter(commune_host::Column::Host.is_in(wanted_hosts(spec).into_keys()))
        .filter(commune_host::Column::CommuneId.ne(id))
        .one(txn)
        .await?;
    if let Some(t) = taken {
        return Err(StoreError::Invalid(format!(
            "host {:?} already belongs to the commune with ISTAT code {:06}",
            t.host, t.commune_id
        )));
    }
    let slug_taken = commune::Entity::find()
        .filter(commune::Column::Slug.eq(spec.slug.as_str()))
        .filter(commune::Column::Id.ne(id))
        .one(txn)
        .await?;
    if let Some(c) = slug_taken {
        return Err(StoreError::Invalid(format!(
            "slug {:?} already belongs to {} ({})",
            spec.slug, c.name, c.istat_code
        )));
    }
    Ok(())
}

pub(super) async fn sync_hosts(txn: &DatabaseTransaction, spec: &CommuneSpec) -> Result<bool> {
    let id = spec.tenant_id().0;
    let wanted = wanted_hosts(spec);
    let current = commune_host::Entity::find()
        .filter(commune_host::Column::CommuneId.eq(id))
        .all(txn)
        .await?;
    let have: BTreeMap<String, bool> = current
        .into_iter()
        .map(|h| (h.host, h.is_primary))
        .collect();
    if have == wanted {
        return Ok(false);
    }
    commune_host::Entity::delete_many()
        .filter(commune_host::Column::CommuneId.eq(id))
        .exec(txn)
        .await?;
    commune_host::Entity::insert_many(wanted.into_iter().map(|(host, is_primary)| {
        commune_host::Model {
            host,
            commune_id: id,
            is_primary,
        }
        .into_active_model()
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(true)
}
