//! Applying a declarative description to the database, idempotently: a commune (registry row and
//! hosts) and its charter (buildings, offices, staff, services). Only what differs is written;
//! every written office, staff member or service gets a history version.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Statement,
};
use serde::Serialize;
use sportello_domain::{Host, Language, TenantId};

use crate::entity::{building, charter_history, commune, commune_host, office, service, staff};
use crate::istat::IstatRow;
use crate::tenant_file::{Branding, CharterSpec};
use crate::{FederationDb, Result, StoreError, TenantDb, fold_for_search, now_micros};

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
        use sea_orm::TransactionTrait;
        let txn = self.conn().begin().await?;
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
        use sea_orm::TransactionTrait;
        let txn = self.conn().begin().await?;
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

fn wanted_hosts(spec: &CommuneSpec) -> BTreeMap<String, bool> {
    let mut wanted: BTreeMap<String, bool> = spec
        .aliases
        .iter()
        .map(|h| (h.to_string(), false))
        .collect();
    wanted.insert(spec.primary_host.to_string(), true);
    wanted
}

/// Refuses hosts (and the slug) that another commune already has, before anything is written.
async fn check_hosts_free(txn: &DatabaseTransaction, spec: &CommuneSpec) -> Result<()> {
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

async fn sync_hosts(txn: &DatabaseTransaction, spec: &CommuneSpec) -> Result<bool> {
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

/// A row of a charter table, comparable with its stored version.
trait CharterRow: Clone + Serialize + PartialEq {
    const KIND: &'static str;
    fn id(&self) -> &str;
    /// The same row with its bookkeeping (time stamps) cleared, for comparison.
    fn normalised(&self) -> Self;
    fn stamped(self, at: i64) -> Self;
}

macro_rules! charter_row {
    ($m:path, $kind:literal, stamped) => {
        impl CharterRow for $m {
            const KIND: &'static str = $kind;
            fn id(&self) -> &str {
                &self.id
            }
            fn normalised(&self) -> Self {
                Self {
                    updated_at: 0,
                    ..self.clone()
                }
            }
            fn stamped(self, at: i64) -> Self {
                Self {
                    updated_at: at,
                    ..self
                }
            }
        }
    };
    ($m:path, $kind:literal) => {
        impl CharterRow for $m {
            const KIND: &'static str = $kind;
            fn id(&self) -> &str {
                &self.id
            }
            fn normalised(&self) -> Self {
                self.clone()
            }
            fn stamped(self, _at: i64) -> Self {
                self
            }
        }
    };
}
charter_row!(building::Model, "building");
charter_row!(office::Model, "office", stamped);
charter_row!(staff::Model, "staff", stamped);
charter_row!(service::Model, "service", stamped);

/// The rows a charter spec stands for in one commune.
pub(crate) struct CharterRows {
    buildings: Vec<building::Model>,
    offices: Vec<office::Model>,
    staff: Vec<staff::Model>,
    services: Vec<service::Model>,
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid(e.to_string()))
}

pub(crate) fn charter_rows(t: TenantId, spec: &CharterSpec) -> Result<CharterRows> {
    let tid = t.0;
    let buildings = spec
        .buildings
        .iter()
        .map(|b| building::Model {
            tenant_id: tid,
            id: b.id.to_string(),
            name: b.name.clone(),
            address: b.address.clone(),
            lat: b.lat,
            lon: b.lon,
        })
        .collect();
    let offices = spec
        .offices
        .iter()
        .map(|o| {
            Ok(office::Model {
                tenant_id: tid,
                id: o.id.to_string(),
                name: o.name.clone(),
                name_en: o.name_en.clone(),
                description: o.description.clone(),
                building_id: o.building.as_ref().map(ToString::to_string),
                floor: o.floor.clone(),
                room: o.room.clone(),
                directions: o.directions.clone(),
                phone: o.phone.clone(),
                email: o.email.clone(),
                pec: o.pec.clone(),
                head_id: o.head.as_ref().map(ToString::to_string),
                hours: json(&crate::charter::StoredHours {
                    weekly: o.hours.clone(),
                    closures: o.closures.clone(),
                })?,
                search_text: fold_for_search(&format!(
                    "{} {} {}",
                    o.name,
                    o.name_en.as_deref().unwrap_or(""),
                    o.description
                )),
                updated_at: 0,
            })
        })
        .collect::<Result<_>>()?;
    let staff = spec
        .staff
        .iter()
        .map(|s| staff::Model {
            tenant_id: tid,
            id: s.id.to_string(),
            name: s.name.clone(),
            role: s.role.clone(),
            office_id: s.office.as_ref().map(ToString::to_string),
            email: s.email.clone(),
            phone: s.phone.clone(),
            search_text: fold_for_search(&format!("{} {}", s.name, s.role)),
            updated_at: 0,
        })
        .collect();
    let services = spec
        .services
        .iter()
        .map(|s| {
            Ok(service::Model {
                tenant_id: tid,
                id: s.id.to_string(),
                title: s.title.clone(),
                title_en: s.title_en.clone(),
                summary: s.summary.clone(),
                summary_en: s.summary_en.clone(),
                description: s.description.clone(),
                audience: s.audience.key().to_owned(),
                life_events: json(&s.life_events)?,
                office_id: s.office.as_ref().map(ToString::to_string),
                responsible_id: s.responsible.as_ref().map(ToString::to_string),
                documents: json(&s.documents)?,
                cost_cents: s.cost_cents,
                cost_note: s.cost_note.clone(),
                max_days: s.max_days.map(|d| i32::try_from(d).unwrap_or(i32::MAX)),
                channels: json(&s.channels)?,
                online_level: s.online_level.key().to_owned(),
                available_from: s.available_from.map(|d| d.to_string()),
                available_to: s.available_to.map(|d| d.to_string()),
                search_text: fold_for_search(&format!(
                    "{} {} {} {} {}",
                    s.title,
                    s.title_en.as_deref().unwrap_or(""),
                    s.summary,
                    s.summary_en.as_deref().unwrap_or(""),
                    s.description
                )),
                updated_at: 0,
            })
        })
        .collect::<Result<_>>()?;
    Ok(CharterRows {
        buildings,
        offices,
        staff,
        services,
    })
}

/// Makes the commune's charter exactly `spec`. `fresh` skips reading what is there (a commune
/// created in this same transaction has nothing yet).
pub async fn apply_charter(
    db: TenantDb<'_>,
    spec: &CharterSpec,
    changed_by: &str,
    fresh: bool,
) -> Result<Changes> {
    let rows = charter_rows(db.tenant(), spec)?;
    let now = now_micros();
    let mut c = Changes::default();
    let (b, o, s, v) = (
        diff::<building::Entity, _>(db, rows.buildings, fresh).await?,
        diff::<office::Entity, _>(db, rows.offices, fresh).await?,
        diff::<staff::Entity, _>(db, rows.staff, fresh).await?,
        diff::<service::Entity, _>(db, rows.services, fresh).await?,
    );
    // Writes first in reference order, deletions last in reverse order, so that every foreign key
    // holds at every step.
    c.add(write::<building::Entity, _>(db, &b, now, changed_by, false).await?);
    c.add(write::<office::Entity, _>(db, &o, now, changed_by, true).await?);
    c.add(write::<staff::Entity, _>(db, &s, now, changed_by, true).await?);
    c.add(write::<service::Entity, _>(db, &v, now, changed_by, true).await?);
    c.deleted += delete::<service::Entity, _>(db, &v, now).await?;
    c.deleted += delete::<staff::Entity, _>(db, &s, now).await?;
    c.deleted += delete::<office::Entity, _>(db, &o, now).await?;
    c.deleted += delete::<building::Entity, _>(db, &b, now).await?;
    Ok(c)
}

struct Diff<M> {
    inserts: Vec<M>,
    updates: Vec<M>,
    deletes: Vec<String>,
}

async fn diff<E, M>(db: TenantDb<'_>, wanted: Vec<M>, fresh: bool) -> Result<Diff<M>>
where
    E: EntityTrait<Model = M>,
    M: CharterRow + sea_orm::ModelTrait + sea_orm::FromQueryResult + Send + Sync,
{
    if fresh {
        return Ok(Diff {
            inserts: wanted,
            updates: vec![],
            deletes: vec![],
        });
    }
    let current: Vec<M> = E::find()
        .filter(Expr::col(Alias::new("tenant_id")).eq(db.tenant().0))
        .all(db.conn())
        .await?;
    let mut by_id: BTreeMap<String, M> = current
        .into_iter()
        .map(|m| (m.id().to_owned(), m))
        .collect();
    let mut d = Diff {
        inserts: vec![],
        updates: vec![],
        deletes: vec![],
    };
    for w in wanted {
        match by_id.remove(w.id()) {
            None => d.inserts.push(w),
            Some(old) if old.normalised() != w.normalised() => d.updates.push(w),
            Some(_) => {}
        }
    }
    d.deletes = by_id.into_keys().collect();
    Ok(d)
}

async fn write<E, M>(
    db: TenantDb<'_>,
    d: &Diff<M>,
    now: i64,
    changed_by: &str,
    versioned: bool,
) -> Result<Changes>
where
    E: EntityTrait<Model = M>,
    M: CharterRow + sea_orm::ModelTrait + IntoActiveModel<E::ActiveModel> + Send + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send + From<M>,
{
    let conn = db.conn();
    if !d.inserts.is_empty() {
        E::insert_many(
            d.inserts
                .iter()
                .cloned()
                .map(|m| m.stamped(now).into_active_model()),
        )
        .exec_without_returning(conn)
        .await?;
    }
    for m in &d.updates {
        E::ActiveModel::from(m.clone().stamped(now))
            .reset_all()
            .update(conn)
            .await?;
    }
    if versioned {
        let updated: Vec<&str> = d.updates.iter().map(|m| m.id()).collect();
        close_versions(db, M::KIND, &updated, now).await?;
        let last = last_versions(db, M::KIND, &updated).await?;
        let mut rows = Vec::with_capacity(d.inserts.len() + d.updates.len());
        for m in d.inserts.iter().chain(&d.updates) {
            let version = last.get(m.id()).copied().unwrap_or(0) + 1;
            rows.push(charter_history::ActiveModel::from(charter_history::Model {
                tenant_id: db.tenant().0,
                kind: M::KIND.to_owned(),
                entity_id: m.id().to_owned(),
                version,
                valid_from: now,
                valid_to: None,
                snapshot: Some(json(&m.clone().stamped(now))?),
                changed_by: changed_by.to_owned(),
            }));
        }
        if !rows.is_empty() {
            charter_history::Entity::insert_many(rows)
                .exec_without_returning(conn)
                .await?;
        }
    }
    Ok(Changes {
        inserted: d.inserts.len(),
        updated: d.updates.len(),
        deleted: 0,
    })
}

async fn delete<E, M>(db: TenantDb<'_>, d: &Diff<M>, now: i64) -> Result<usize>
where
    E: EntityTrait<Model = M>,
    M: CharterRow + sea_orm::ModelTrait,
{
    if d.deletes.is_empty() {
        return Ok(0);
    }
    E::delete_many()
        .filter(Expr::col(Alias::new("tenant_id")).eq(db.tenant().0))
        .filter(Expr::col(Alias::new("id")).is_in(d.deletes.clone()))
        .exec(db.conn())
        .await?;
    let ids: Vec<&str> = d.deletes.iter().map(String::as_str).collect();
    close_versions(db, M::KIND, &ids, now).await?;
    Ok(d.deletes.len())
}

async fn close_versions(db: TenantDb<'_>, kind: &str, ids: &[&str], now: i64) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    charter_history::Entity::update_many()
        .col_expr(charter_history::Column::ValidTo, Expr::value(now))
        .filter(charter_history::Column::TenantId.eq(db.tenant().0))
        .filter(charter_history::Column::Kind.eq(kind))
        .filter(charter_history::Column::EntityId.is_in(ids.iter().copied()))
        .filter(charter_history::Column::ValidTo.is_null())
        .exec(db.conn())
        .await?;
    Ok(())
}

async fn last_versions(
    db: TenantDb<'_>,
    kind: &str,
    ids: &[&str],
) -> Result<BTreeMap<String, i32>> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = charter_history::Entity::find()
        .filter(charter_history::Column::TenantId.eq(db.tenant().0))
        .filter(charter_history::Column::Kind.eq(kind))
        .filter(charter_history::Column::EntityId.is_in(ids.iter().copied()))
        .all(db.conn())
        .await?;
    let mut out = BTreeMap::new();
    for r in rows {
        let v = out.entry(r.entity_id).or_insert(0);
        *v = std::cmp::max(*v, r.version);
    }
    Ok(out)
}

/// What syncing a folder of commune files did, per file.
#[derive(Debug, Default, Clone, Serialize)]
pub struct DirReport {
    pub files: Vec<(String, SyncOutcome)>,
}

impl FederationDb<'_> {
    /// Syncs every `*.toml` of `dir` (not its subfolders), all or nothing: every file is parsed
    /// and checked before anything is written, and all are written in one transaction.
    pub async fn sync_tenants_dir(&self, dir: &std::path::Path, apex: &Host) -> Result<DirReport> {
        use sea_orm::TransactionTrait;
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
        let txn = self.conn().begin().await?;
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

/// One version of a charter entry, as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub version: i32,
    pub valid_from: i64,
    pub valid_to: Option<i64>,
    pub changed_by: String,
}

async fn put_row<E, M>(db: TenantDb<'_>, m: M, changed_by: &str) -> Result<bool>
where
    E: EntityTrait<Model = M>,
    M: CharterRow
        + sea_orm::ModelTrait
        + sea_orm::FromQueryResult
        + IntoActiveModel<E::ActiveModel>
        + Send
        + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send + From<M>,
{
    let current: Option<M> = E::find()
        .filter(Expr::col(Alias::new("tenant_id")).eq(db.tenant().0))
        .filter(Expr::col(Alias::new("id")).eq(m.id().to_owned()))
        .one(db.conn())
        .await?;
    let d = match current {
        None => Diff {
            inserts: vec![m],
            updates: vec![],
            deletes: vec![],
        },
        Some(old) if old.normalised() != m.normalised() => Diff {
            inserts: vec![],
            updates: vec![m],
            deletes: vec![],
        },
        Some(_) => return Ok(false),
    };
    write::<E, M>(db, &d, now_micros(), changed_by, true).await?;
    touch_commune(db.conn(), db.tenant()).await?;
    bump_registry_revision(db.conn()).await?;
    Ok(true)
}

impl TenantDb<'_> {
    /// The stored row of an office (for an edit that keeps what the form does not show).
    pub async fn office_row(&self, id: &str) -> Result<Option<office::Model>> {
        Ok(office::Entity::find()
            .filter(office::Column::TenantId.eq(self.tenant().0))
            .filter(office::Column::Id.eq(id))
            .one(self.conn())
            .await?)
    }

    pub async fn service_row(&self, id: &str) -> Result<Option<service::Model>> {
        Ok(service::Entity::find()
            .filter(service::Column::TenantId.eq(self.tenant().0))
            .filter(service::Column::Id.eq(id))
            .one(self.conn())
            .await?)
    }

    /// Creates or replaces one office, with a new version in the history when it changed.
    pub async fn put_office_row(&self, mut m: office::Model, changed_by: &str) -> Result<bool> {
        m.tenant_id = self.tenant().0;
        m.search_text = fold_for_search(&format!(
            "{} {} {}",
            m.name,
            m.name_en.as_deref().unwrap_or(""),
            m.description
        ));
        put_row::<office::Entity, _>(*self, m, changed_by).await
    }

    /// Creates or replaces one service (its office is where requests are routed).
    pub async fn put_service_row(&self, mut m: service::Model, changed_by: &str) -> Result<bool> {
        m.tenant_id = self.tenant().0;
        if let Some(o) = &m.office_id
            && self.office_row(o).await?.is_none()
        {
            return Err(StoreError::Invalid(format!("office: {o} does not exist")));
        }
        m.search_text = fold_for_search(&format!(
            "{} {} {} {} {}",
            m.title,
            m.title_en.as_deref().unwrap_or(""),
            m.summary,
            m.summary_en.as_deref().unwrap_or(""),
            m.description
        ));
        put_row::<service::Entity, _>(*self, m, changed_by).await
    }

    /// Deletes an office no service or staff entry refers to (its history is closed, not lost).
    pub async fn delete_office(&self, id: &str) -> Result<bool> {
        let used = service::Entity::find()
            .filter(service::Column::TenantId.eq(self.tenant().0))
            .filter(service::Column::OfficeId.eq(id))
            .count(self.conn())
            .await?
            + staff::Entity::find()
                .filter(staff::Column::TenantId.eq(self.tenant().0))
                .filter(staff::Column::OfficeId.eq(id))
                .count(self.conn())
                .await?;
        let roles: i64 = match self
            .one(
                "SELECT COUNT(*) AS n FROM role_assignments WHERE tenant_id = $1 AND office_id = $2",
                vec![id.into()],
            )
            .await?
        {
            Some(r) => crate::identity::get(&r, "n")?,
            None => 0,
        };
        if used > 0 || roles > 0 {
            return Err(StoreError::Invalid(format!(
                "office {id}: {used} services or staff entries and {roles} roles still refer to it"
            )));
        }
        if self.office_row(id).await?.is_none() {
            return Ok(false);
        }
        let d: Diff<office::Model> = Diff {
            inserts: vec![],
            updates: vec![],
            deletes: vec![id.to_owned()],
        };
        let n = delete::<office::Entity, _>(*self, &d, now_micros()).await?;
        touch_commune(self.conn(), self.tenant()).await?;
        bump_registry_revision(self.conn()).await?;
        Ok(n > 0)
    }

    /// Every version of a charter entry, newest first.
    pub async fn history(&self, kind: &str, id: &str) -> Result<Vec<HistoryEntry>> {
        let rows = charter_history::Entity::find()
            .filter(charter_history::Column::TenantId.eq(self.tenant().0))
            .filter(charter_history::Column::Kind.eq(kind))
            .filter(charter_history::Column::EntityId.eq(id))
            .all(self.conn())
            .await?;
        let mut out: Vec<HistoryEntry> = rows
            .into_iter()
            .map(|r| HistoryEntry {
                version: r.version,
                valid_from: r.valid_from,
                valid_to: r.valid_to,
                changed_by: r.changed_by,
            })
            .collect();
        out.sort_by_key(|h| std::cmp::Reverse(h.version));
        Ok(out)
    }
}
