//! Single charter rows read and written by the console, each change a history version.

use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter,
};
use serde::Serialize;

use crate::entity::{charter_history, office, service, staff};
use crate::{Result, StoreError, TenantDb, fold_for_search, now_micros};

use super::*;

/// One version of a charter entry, as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub version: i32,
    pub valid_from: i64,
    pub valid_to: Option<i64>,
    pub changed_by: String,
}

pub(super) async fn put_row<E, M>(db: TenantDb<'_>, m: M, changed_by: &str) -> Result<bool>
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
