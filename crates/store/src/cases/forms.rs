//! Form definitions (numbered versions per service) and the drafts people keep.

use serde::Serialize;

use crate::identity::get;
use crate::{Result, TenantDb};

/// One version of a service's form, its definition as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormVersion {
    pub service_id: String,
    pub version: i32,
    pub definition: String,
    pub created_by: String,
    pub created_at: i64,
}

/// What a person has typed so far into a service's form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Draft {
    pub id: String,
    pub person_id: String,
    pub service_id: String,
    pub form_version: i32,
    /// The answers as typed, JSON (`{"field": ["value", …]}`).
    pub raw: String,
    pub page: i32,
    pub created_at: i64,
    pub updated_at: i64,
    /// Empty: the person's own draft. Else the staff filling it in for them (`staff:<id>`):
    /// a desk's draft is the desk's, never shown to nor mixed with the person's own.
    pub filed_by: String,
    /// As what the staff files (`front_desk`, `call_centre`, `intermediary`).
    pub filed_as: String,
    /// The commune whose desk files it (another member commune's, for "any desk").
    pub filed_from: Option<i64>,
    /// Why staff act for the person (the audit log and the citizen's case show it).
    pub purpose: String,
    /// The delegation an intermediary files under.
    pub delegation_id: Option<String>,
}

fn form(r: &sea_orm::QueryResult) -> Result<FormVersion> {
    Ok(FormVersion {
        service_id: get(r, "service_id")?,
        version: get(r, "version")?,
        definition: get(r, "definition")?,
        created_by: get(r, "created_by")?,
        created_at: get(r, "created_at")?,
    })
}

fn draft(r: &sea_orm::QueryResult) -> Result<Draft> {
    Ok(Draft {
        id: get(r, "id")?,
        person_id: get(r, "person_id")?,
        service_id: get(r, "service_id")?,
        form_version: get(r, "form_version")?,
        raw: get(r, "raw")?,
        page: get(r, "page")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        filed_by: get(r, "filed_by")?,
        filed_as: get(r, "filed_as")?,
        filed_from: get(r, "filed_from")?,
        purpose: get(r, "purpose")?,
        delegation_id: get(r, "delegation_id")?,
    })
}

const FORM_COLS: &str = "service_id, version, definition, created_by, created_at";
const DRAFT_COLS: &str = "id, person_id, service_id, form_version, raw, page, created_at, updated_at, \
    filed_by, filed_as, filed_from, purpose, delegation_id";

impl TenantDb<'_> {
    /// The newest version of each service's form.
    pub async fn latest_forms(&self) -> Result<Vec<FormVersion>> {
        self.all(
            &format!(
                "SELECT {FORM_COLS} FROM forms f WHERE tenant_id = $1 AND version = \
                 (SELECT MAX(version) FROM forms g WHERE g.tenant_id = f.tenant_id AND g.service_id = f.service_id) \
                 ORDER BY service_id"
            ),
            vec![],
        )
        .await?
        .iter()
        .map(form)
        .collect()
    }

    /// A service's form: the version given, or the newest.
    pub async fn form(
        &self,
        service_id: &str,
        version: Option<i32>,
    ) -> Result<Option<FormVersion>> {
        let row = match version {
            Some(v) => {
                self.one(
                    &format!("SELECT {FORM_COLS} FROM forms WHERE tenant_id = $1 AND service_id = $2 AND version = $3"),
                    vec![service_id.into(), v.into()],
                )
                .await?
            }
            None => {
                self.one(
                    &format!(
                        "SELECT {FORM_COLS} FROM forms WHERE tenant_id = $1 AND service_id = $2 \
                         ORDER BY version DESC LIMIT 1"
                    ),
                    vec![service_id.into()],
                )
                .await?
            }
        };
        row.as_ref().map(form).transpose()
    }

    /// Every version of a service's form, newest first.
    pub async fn form_versions(&self, service_id: &str) -> Result<Vec<FormVersion>> {
        self.all(
            &format!("SELECT {FORM_COLS} FROM forms WHERE tenant_id = $1 AND service_id = $2 ORDER BY version DESC"),
            vec![service_id.into()],
        )
        .await?
        .iter()
        .map(form)
        .collect()
    }

    /// Stores a new version of a service's form unless it equals the newest; gives the version
    /// in force.
    pub async fn save_form(
        &self,
        service_id: &str,
        definition: &str,
        by: &str,
        now: i64,
    ) -> Result<i32> {
        if let Some(cur) = self.form(service_id, None).await?
            && cur.definition == definition
        {
            return Ok(cur.version);
        }
        let row = self
            .one(
                "INSERT INTO forms (tenant_id, service_id, version, definition, created_by, created_at) \
                 SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4, $5 FROM forms \
                 WHERE tenant_id = $1 AND service_id = $2 RETURNING version",
                vec![service_id.into(), definition.into(), by.into(), now.into()],
            )
            .await?;
        row.as_ref()
            .map(|r| get(r, "version"))
            .transpose()?
            .ok_or_else(|| crate::StoreError::Corrupt("no version returned".into()))
    }

    /// The draft for a service that `filed_by` keeps for the person (`""`: the person's own).
    pub async fn draft_of(
        &self,
        person_id: &str,
        service_id: &str,
        filed_by: &str,
    ) -> Result<Option<Draft>> {
        self.one(
            &format!("SELECT {DRAFT_COLS} FROM case_drafts WHERE tenant_id = $1 AND person_id = $2 AND service_id = $3 AND filed_by = $4"),
            vec![person_id.into(), service_id.into(), filed_by.into()],
        )
        .await?
        .as_ref()
        .map(draft)
        .transpose()
    }

    /// A person's own drafts in this commune, the most recent first.
    pub async fn drafts_of(&self, person_id: &str) -> Result<Vec<Draft>> {
        self.all(
            &format!("SELECT {DRAFT_COLS} FROM case_drafts WHERE tenant_id = $1 AND person_id = $2 AND filed_by = '' ORDER BY updated_at DESC"),
            vec![person_id.into()],
        )
        .await?
        .iter()
        .map(draft)
        .collect()
    }

    /// The drafts `filed_by` (staff) keeps for people, the most recent first.
    pub async fn drafts_filed_by(&self, filed_by: &str) -> Result<Vec<Draft>> {
        self.all(
            &format!("SELECT {DRAFT_COLS} FROM case_drafts WHERE tenant_id = $1 AND filed_by = $2 ORDER BY updated_at DESC LIMIT 200"),
            vec![filed_by.into()],
        )
        .await?
        .iter()
        .map(draft)
        .collect()
    }

    /// A draft by its id.
    pub async fn draft(&self, id: &str) -> Result<Option<Draft>> {
        self.one(
            &format!("SELECT {DRAFT_COLS} FROM case_drafts WHERE tenant_id = $1 AND id = $2"),
            vec![id.into()],
        )
        .await?
        .as_ref()
        .map(draft)
        .transpose()
    }

    /// Creates a draft for a service unless its keeper has one for the person (one per person,
    /// service and keeper); gives whether this one was created.
    pub async fn create_draft(&self, d: &Draft) -> Result<bool> {
        Ok(self
            .exec(
                "INSERT INTO case_drafts (tenant_id, id, person_id, service_id, form_version, raw, page, created_at, updated_at, \
                 filed_by, filed_as, filed_from, purpose, delegation_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (tenant_id, person_id, service_id, filed_by) DO NOTHING",
                vec![
                    d.id.clone().into(),
                    d.person_id.clone().into(),
                    d.service_id.clone().into(),
                    d.form_version.into(),
                    d.raw.clone().into(),
                    d.page.into(),
                    d.created_at.into(),
                    d.updated_at.into(),
                    d.filed_by.clone().into(),
                    d.filed_as.clone().into(),
                    d.filed_from.into(),
                    d.purpose.clone().into(),
                    d.delegation_id.clone().into(),
                ],
            )
            .await?
            == 1)
    }

    /// Writes a draft's new content if it still holds `was` (what the caller read): false when
    /// it changed or went meanwhile (another tab, an upload, its submission). Never brings a
    /// submitted draft back.
    pub async fn update_draft(&self, d: &Draft, was: &str) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE case_drafts SET form_version = $3, raw = $4, page = $5, updated_at = $6, \
                 expiry_notice_at = NULL WHERE tenant_id = $1 AND id = $2 AND raw = $7",
                vec![
                    d.id.clone().into(),
                    d.form_version.into(),
                    d.raw.clone().into(),
                    d.page.into(),
                    d.updated_at.into(),
                    was.into(),
                ],
            )
            .await?
            == 1)
    }

    /// Holds the service's row until the transaction ends (PostgreSQL; SQLite has one writer):
    /// two edits of its form one after the other, never on the same version.
    pub async fn lock_service_forms(&self, service_id: &str) -> Result<bool> {
        let lock = if self.is_postgres() {
            " FOR UPDATE"
        } else {
            ""
        };
        Ok(self
            .one(
                &format!("SELECT id FROM services WHERE tenant_id = $1 AND id = $2{lock}"),
                vec![service_id.into()],
            )
            .await?
            .is_some())
    }

    /// A form changed outside a sync (the console's editor): the commune's charter is read
    /// again on every node (a service gains its "start" button with its first form).
    pub async fn note_form_change(&self) -> Result<()> {
        crate::sync::touch_commune(self.conn(), self.tenant()).await?;
        crate::sync::bump_registry_revision(self.conn()).await
    }

    /// Sets who keeps a desk's draft as what, why and under which delegation (a draft begun
    /// earlier files under what was said when it was opened again).
    pub async fn set_draft_filing(
        &self,
        id: &str,
        filed_by: &str,
        filed_as: &str,
        purpose: &str,
        delegation_id: Option<&str>,
    ) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE case_drafts SET filed_as = $4, purpose = $5, delegation_id = $6 \
                 WHERE tenant_id = $1 AND id = $2 AND filed_by = $3",
                vec![
                    id.into(),
                    filed_by.into(),
                    filed_as.into(),
                    purpose.into(),
                    delegation_id.map(str::to_owned).into(),
                ],
            )
            .await?
            == 1)
    }

    /// Deletes a draft; gives whether it existed (a submission consumes its draft).
    pub async fn delete_draft(&self, id: &str, person_id: &str) -> Result<bool> {
        Ok(self
            .exec(
                "DELETE FROM case_drafts WHERE tenant_id = $1 AND id = $2 AND person_id = $3",
                vec![id.into(), person_id.into()],
            )
            .await?
            == 1)
    }
}

/// A file attached to a draft (then to its case).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseFile {
    pub id: String,
    pub person_id: String,
    pub draft_id: Option<String>,
    pub case_id: Option<String>,
    pub field: String,
    pub name: String,
    pub file_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub created_at: i64,
}

fn case_file(r: &sea_orm::QueryResult) -> Result<CaseFile> {
    Ok(CaseFile {
        id: get(r, "id")?,
        person_id: get(r, "person_id")?,
        draft_id: get(r, "draft_id")?,
        case_id: get(r, "case_id")?,
        field: get(r, "field")?,
        name: get(r, "name")?,
        file_type: get(r, "file_type")?,
        size: get(r, "size")?,
        sha256: get(r, "sha256")?,
        storage_key: get(r, "storage_key")?,
        created_at: get(r, "created_at")?,
    })
}

const FILE_COLS: &str = "id, person_id, draft_id, case_id, field, name, file_type, size, sha256, storage_key, created_at";

impl TenantDb<'_> {
    pub async fn insert_case_file(&self, f: &CaseFile) -> Result<()> {
        self.exec(
            "INSERT INTO case_files (tenant_id, id, person_id, draft_id, case_id, field, name, file_type, \
             size, sha256, storage_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            vec![
                f.id.clone().into(),
                f.person_id.clone().into(),
                f.draft_id.clone().into(),
                f.case_id.clone().into(),
                f.field.clone().into(),
                f.name.clone().into(),
                f.file_type.clone().into(),
                f.size.into(),
                f.sha256.clone().into(),
                f.storage_key.clone().into(),
                f.created_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The files of a draft (not yet submitted).
    pub async fn draft_files(&self, draft_id: &str) -> Result<Vec<CaseFile>> {
        self.all(
            &format!("SELECT {FILE_COLS} FROM case_files WHERE tenant_id = $1 AND draft_id = $2 AND case_id IS NULL ORDER BY created_at"),
            vec![draft_id.into()],
        )
        .await?
        .iter()
        .map(case_file)
        .collect()
    }

    pub async fn case_files(&self, case_id: &str) -> Result<Vec<CaseFile>> {
        self.all(
            &format!("SELECT {FILE_COLS} FROM case_files WHERE tenant_id = $1 AND case_id = $2 ORDER BY created_at"),
            vec![case_id.into()],
        )
        .await?
        .iter()
        .map(case_file)
        .collect()
    }

    pub async fn case_file(&self, id: &str) -> Result<Option<CaseFile>> {
        self.one(
            &format!("SELECT {FILE_COLS} FROM case_files WHERE tenant_id = $1 AND id = $2"),
            vec![id.into()],
        )
        .await?
        .as_ref()
        .map(case_file)
        .transpose()
    }

    /// A draft's files become the case's (in the submission's transaction).
    pub async fn files_to_case(&self, draft_id: &str, case_id: &str) -> Result<u64> {
        self.exec(
            "UPDATE case_files SET case_id = $3 WHERE tenant_id = $1 AND draft_id = $2 AND case_id IS NULL",
            vec![draft_id.into(), case_id.into()],
        )
        .await
    }

    /// Removes a file of a draft; gives its storage key if it was there.
    pub async fn delete_draft_file(&self, id: &str, draft_id: &str) -> Result<Option<String>> {
        let f = self.case_file(id).await?;
        let Some(f) = f.filter(|f| f.draft_id.as_deref() == Some(draft_id) && f.case_id.is_none())
        else {
            return Ok(None);
        };
        self.exec(
            "DELETE FROM case_files WHERE tenant_id = $1 AND id = $2",
            vec![id.into()],
        )
        .await?;
        Ok(Some(f.storage_key))
    }
}

impl TenantDb<'_> {
    /// Drafts untouched since `before` whose person was not yet told they will be deleted.
    pub async fn drafts_to_notice(&self, before: i64, limit: u64) -> Result<Vec<Draft>> {
        self.all(
            &format!(
                "SELECT {DRAFT_COLS} FROM case_drafts WHERE tenant_id = $1 AND updated_at < $2 \
                 AND expiry_notice_at IS NULL ORDER BY updated_at LIMIT $3"
            ),
            vec![before.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(draft)
        .collect()
    }

    /// Records the notice; false if another node recorded it first.
    pub async fn mark_draft_noticed(&self, id: &str, now: i64) -> Result<bool> {
        Ok(self
            .exec(
                "UPDATE case_drafts SET expiry_notice_at = $3 WHERE tenant_id = $1 AND id = $2 \
                 AND expiry_notice_at IS NULL",
                vec![id.into(), now.into()],
            )
            .await?
            == 1)
    }

    /// Drafts untouched since `updated_before` whose notice went out before `noticed_before`.
    pub async fn drafts_to_delete(
        &self,
        updated_before: i64,
        noticed_before: i64,
        limit: u64,
    ) -> Result<Vec<Draft>> {
        self.all(
            &format!(
                "SELECT {DRAFT_COLS} FROM case_drafts WHERE tenant_id = $1 AND updated_at < $2 \
                 AND expiry_notice_at IS NOT NULL AND expiry_notice_at < $3 ORDER BY updated_at LIMIT $4"
            ),
            vec![updated_before.into(), noticed_before.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(draft)
        .collect()
    }
}
