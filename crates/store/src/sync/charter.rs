//! The charter's tables compared with what is wanted, and only the differences written, each
//! written office, staff member or service with a new history version.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde::Serialize;
use sportello_domain::TenantId;

use crate::entity::{building, charter_history, office, service, staff};
use crate::tenant_file::CharterSpec;
use crate::{Result, StoreError, TenantDb, fold_for_search, now_micros};

use super::*;

/// A row of a charter table, comparable with its stored version.
pub(super) trait CharterRow: Clone + Serialize + PartialEq {
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

pub(super) fn json<T: Serialize>(v: &T) -> Result<String> {
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
                description_en: o.description_en.clone(),
                name_de: o.name_de.clone(),
                description_de: o.description_de.clone(),
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
                // A commune's file publishes what it declares.
                draft: false,
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
                description_en: s.description_en.clone(),
                title_de: s.title_de.clone(),
                summary_de: s.summary_de.clone(),
                description_de: s.description_de.clone(),
                audience: s.audience.key().to_owned(),
                life_events: json(&s.life_events)?,
                office_id: s.office.as_ref().map(ToString::to_string),
                responsible_id: s.responsible.as_ref().map(ToString::to_string),
                documents: json(&s.documents)?,
                cost_cents: s.cost_cents,
                cost_note: s.cost_note.clone(),
                max_days: s.max_days.map(|d| i32::from(d.days())),
                channels: json(&s.channels)?,
                online_level: s.online_level.key().to_owned(),
                online_url: s.online_url.as_ref().map(|u| u.as_str().to_owned()),
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
    // Forms: a new version where the definition changed (cases keep theirs).
    for f in &spec.forms {
        let json = serde_json::to_string(&f.definition())
            .map_err(|e| crate::StoreError::Invalid(e.to_string()))?;
        let before = db.form(f.service.as_str(), None).await?.map(|x| x.version);
        let now_version = db
            .save_form(f.service.as_str(), &json, changed_by, now)
            .await?;
        if before != Some(now_version) {
            c.updated += 1;
        }
    }
    Ok(c)
}

pub(super) struct Diff<M> {
    pub(super) inserts: Vec<M>,
    pub(super) updates: Vec<M>,
    pub(super) deletes: Vec<String>,
}

pub(super) async fn diff<E, M>(db: TenantDb<'_>, wanted: Vec<M>, fresh: bool) -> Result<Diff<M>>
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

pub(super) async fn write<E, M>(
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

pub(super) async fn delete<E, M>(db: TenantDb<'_>, d: &Diff<M>, now: i64) -> Result<usize>
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

pub(super) async fn close_versions(
    db: TenantDb<'_>,
    kind: &str,
    ids: &[&str],
    now: i64,
) -> Result<()> {
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

pub(super) async fn last_versions(
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
