//! Files attached to a form's file fields: checked against the field's limits (how many, how
//! large, which types, the type judged from the bytes), looked at by the scanner, hashed
//! (SHA-256, recorded with the case), kept through the file store. A draft's files become the
//! case's at submission; only the case's citizen and the staff of its office download them.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sportello_authz::{Action, Object};
use sportello_domain::form::Kind;
use sportello_domain::{FileType, TenantId, Why};
use sportello_kernel::scope::{check_scope, office_scope_without};
use sportello_kernel::session::Current;
use sportello_kernel::{Actor, Deps, Error, Result};
use sportello_store::cases::forms::CaseFile;

use crate::draft::internal;
use crate::filer::Filer;
use crate::forms;

/// The largest file accepted whatever a form says (KiB), and a field's default.
pub const MAX_KIB: u32 = 20 * 1024;
pub const DEFAULT_KIB: u32 = 5 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct FileLine {
    pub id: String,
    pub field: String,
    pub name: String,
    pub file_type: String,
    pub size: i64,
    pub sha256: String,
}

impl From<&CaseFile> for FileLine {
    fn from(f: &CaseFile) -> Self {
        Self {
            id: f.id.clone(),
            field: f.field.clone(),
            name: f.name.clone(),
            file_type: f.file_type.clone(),
            size: f.size,
            sha256: f.sha256.clone(),
        }
    }
}

/// A name fit to show and to send back in `Content-Disposition`: its last path part, without
/// controls or the invisible characters that reorder or hide text (U+202E shows `exe.pdf` for
/// `fdp.exe`), at most 100 characters, and always the extension of the type its bytes showed
/// (`x.pdf.bat` holding a PDF is `x.pdf.bat.pdf`): the name never decides how it is opened.
pub fn clean_name(name: &str, kind: FileType) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let invisible = |c: char| matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}');
    let kept: String = last
        .chars()
        .filter(|c| !c.is_control() && !invisible(*c) && !matches!(c, '"' | ';' | '<' | '>'))
        .take(100)
        .collect();
    let kept = kept.trim();
    let stem = match kept.rsplit_once('.') {
        Some((s, ext))
            if ext.eq_ignore_ascii_case(kind.key())
                || (kind == FileType::Jpeg && ext.eq_ignore_ascii_case("jpg")) =>
        {
            s.trim()
        }
        _ => kept,
    };
    let stem = if stem.is_empty() { "file" } else { stem };
    format!("{stem}.{}", kind.key())
}

/// Attaches a file to the person's draft for `service_id`, in `field`.
pub async fn attach(
    deps: &Deps,
    commune: TenantId,
    who: &Filer,
    service_id: &str,
    field: &str,
    name: &str,
    bytes: &[u8],
) -> Result<FileLine> {
    // Checks first (nothing is kept unless all pass).
    let (form, draft) = {
        let tx = deps.store.tenant_read(commune).await?;
        let db = tx.db();
        let form = forms::of_service(&db, service_id)
            .await?
            .ok_or(Error::NotFound)?;
        who.may_fill(&form)?;
        let draft = db
            .draft_of(&who.person.id, service_id, &who.key())
            .await?
            .ok_or(Error::NotFound)?;
        tx.commit().await?;
        (form, draft)
    };
    let f = form
        .def
        .field(field)
        .filter(|f| f.kind == Kind::File)
        .ok_or(Error::NotFound)?;
    let max_kib = f.max_kib.unwrap_or(DEFAULT_KIB).min(MAX_KIB);
    if bytes.is_empty() {
        return Err(Error::invalid_at(field, Why::Required, ""));
    }
    if bytes.len() > max_kib as usize * 1024 {
        return Err(Error::invalid_at(
            field,
            Why::FileTooLarge,
            format!("{} MB", f64::from(max_kib) / 1024.0),
        ));
    }
    let allowed: Vec<&str> = if f.types.is_empty() {
        vec!["pdf"]
    } else {
        f.types.iter().map(String::as_str).collect()
    };
    let kind = FileType::sniff(bytes)
        .filter(|t| allowed.contains(&t.key()))
        .ok_or_else(|| {
            Error::invalid_at(field, Why::FileType, allowed.join(", ").to_uppercase())
        })?;
    let name = clean_name(name, kind);
    if let Err(why) = deps.scanner.scan(&name, bytes).await {
        tracing::warn!(%why, commune = commune.0, "an attached file was refused by the scanner");
        return Err(Error::invalid_at(field, Why::FileRefused, ""));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let key = format!("{}/{}", commune.0, id);
    let row = CaseFile {
        id: id.clone(),
        person_id: draft.person_id.clone(),
        draft_id: Some(draft.id.clone()),
        case_id: None,
        field: field.to_owned(),
        name,
        file_type: kind.key().to_owned(),
        size: bytes.len() as i64,
        sha256: data_encoding::HEXLOWER.encode(&Sha256::digest(bytes)),
        storage_key: key.clone(),
        created_at: sportello_store::now_micros(),
    };
    // The bytes first: a row never names a file that is not there.
    deps.files.put(&key, bytes).await.map_err(internal)?;
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let mut d = db
        .draft_of(&draft.person_id, service_id, &draft.filed_by)
        .await?
        .filter(|d| d.id == draft.id)
        .ok_or(Error::NotFound)?;
    let was = d.raw.clone();
    let mut raw: sportello_domain::form::Raw = serde_json::from_str(&d.raw).unwrap_or_default();
    let list = raw.entry(field.to_owned()).or_default();
    let max = f.max_files.unwrap_or(1) as usize;
    if list.len() >= max {
        drop(tx);
        deps.files.delete(&key).await.ok();
        return Err(Error::invalid_at(field, Why::TooManyFiles, max.to_string()));
    }
    list.push(id.clone());
    d.raw = serde_json::to_string(&raw).map_err(internal)?;
    d.updated_at = row.created_at;
    db.insert_case_file(&row).await?;
    // Two uploads at once: the second finds the draft changed and keeps nothing.
    if !db.update_draft(&d, &was).await? {
        drop(tx);
        deps.files.delete(&key).await.ok();
        return Err(Error::Refused("refused_draft_changed"));
    }
    tx.commit().await?;
    Ok(FileLine::from(&row))
}

/// Takes a file off the person's draft.
pub async fn remove(
    deps: &Deps,
    commune: TenantId,
    who: &Filer,
    service_id: &str,
    file_id: &str,
) -> Result<()> {
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let mut d = db
        .draft_of(&who.person.id, service_id, &who.key())
        .await?
        .ok_or(Error::NotFound)?;
    let key = db
        .delete_draft_file(file_id, &d.id)
        .await?
        .ok_or(Error::NotFound)?;
    let was = d.raw.clone();
    let mut raw: sportello_domain::form::Raw = serde_json::from_str(&d.raw).unwrap_or_default();
    for v in raw.values_mut() {
        v.retain(|x| x != file_id);
    }
    raw.retain(|_, v| !v.is_empty());
    d.raw = serde_json::to_string(&raw).map_err(internal)?;
    if !db.update_draft(&d, &was).await? {
        return Err(Error::Refused("refused_draft_changed"));
    }
    tx.commit().await?;
    deps.files.delete(&key).await.ok();
    Ok(())
}

/// The files of the person's draft for a service.
pub async fn of_draft(
    deps: &Deps,
    commune: TenantId,
    who: &Filer,
    service_id: &str,
) -> Result<Vec<FileLine>> {
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let files = match db.draft_of(&who.person.id, service_id, &who.key()).await? {
        Some(d) => db.draft_files(&d.id).await?,
        None => vec![],
    };
    tx.commit().await?;
    Ok(files.iter().map(FileLine::from).collect())
}

/// A file to send: its name, type and bytes.
pub struct Download {
    pub name: String,
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

async fn load(deps: &Deps, f: &CaseFile) -> Result<Download> {
    let bytes = deps.files.get(&f.storage_key).await.map_err(internal)?;
    Ok(Download {
        name: f.name.clone(),
        media_type: FileType::from_key(&f.file_type)
            .map_or("application/octet-stream", FileType::media_type),
        bytes,
    })
}

/// A file of one of the person's cases.
pub async fn citizen_download(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    case_id: &str,
    file_id: &str,
) -> Result<Download> {
    let p = who.person.as_ref().ok_or(Error::Refused("session_ended"))?;
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let case = db
        .case(case_id)
        .await?
        .filter(|c| c.person_id == p.id)
        .ok_or(Error::NotFound)?;
    let f = db
        .case_file(file_id)
        .await?
        .filter(|f| f.case_id.as_deref() == Some(case.id.as_str()))
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    load(deps, &f).await
}

/// A file of a case of the actor's offices.
pub async fn staff_download(
    deps: &Deps,
    actor: &Actor,
    case_id: &str,
    file_id: &str,
) -> Result<Download> {
    let scope =
        office_scope_without(deps, actor, Object::Cases, Action::Read, &crate::ACTING_FOR).await?;
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let db = tx.db();
    let case = db.case(case_id).await?.ok_or(Error::NotFound)?;
    check_scope(&scope, Some(&case.office_id)).map_err(|_| Error::NotFound)?;
    let f = db
        .case_file(file_id)
        .await?
        .filter(|f| f.case_id.as_deref() == Some(case.id.as_str()))
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    load(deps, &f).await
}

/// How many files a citizen may add to an open case, and how large each (KiB).
pub const CASE_FILES_MAX: usize = 20;
pub const CASE_FILE_KIB: u32 = 10 * 1024;

/// The citizen adds a document to their open case (an answer to the office's request comes with
/// its documents): any type forms take, judged from the bytes; recorded in the history.
pub async fn attach_to_case(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    case_id: &str,
    name: &str,
    bytes: &[u8],
) -> Result<FileLine> {
    use sportello_domain::CaseStatus;
    let p = who.person.clone().ok_or(Error::Refused("session_ended"))?;
    if bytes.is_empty() {
        return Err(Error::invalid_at("file", Why::Required, ""));
    }
    if bytes.len() > CASE_FILE_KIB as usize * 1024 {
        return Err(Error::invalid_at(
            "file",
            Why::FileTooLarge,
            format!("{} MB", CASE_FILE_KIB / 1024),
        ));
    }
    let kind = FileType::sniff(bytes)
        .ok_or_else(|| Error::invalid_at("file", Why::FileType, "PDF, JPEG, PNG, P7M"))?;
    let name = clean_name(name, kind);
    if let Err(why) = deps.scanner.scan(&name, bytes).await {
        tracing::warn!(%why, commune = commune.0, "an attached file was refused by the scanner");
        return Err(Error::invalid_at("file", Why::FileRefused, ""));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let key = format!("{}/{}", commune.0, id);
    let now = sportello_store::now_micros();
    let row = CaseFile {
        id: id.clone(),
        person_id: p.id.clone(),
        draft_id: None,
        case_id: Some(case_id.to_owned()),
        field: "reply".into(),
        name: name.clone(),
        file_type: kind.key().to_owned(),
        size: bytes.len() as i64,
        sha256: data_encoding::HEXLOWER.encode(&Sha256::digest(bytes)),
        storage_key: key.clone(),
        created_at: now,
    };
    deps.files.put(&key, bytes).await.map_err(internal)?;
    let r: Result<()> = async {
        let tx = deps.store.tenant(commune).await?;
        let db = tx.db();
        let c = db
            .case(case_id)
            .await?
            .filter(|c| c.person_id == p.id)
            .ok_or(Error::NotFound)?;
        if CaseStatus::parse(&c.status).is_none_or(CaseStatus::is_closed) {
            return Err(Error::Refused("refused_case_closed"));
        }
        if db.case_files(case_id).await?.len() >= CASE_FILES_MAX {
            return Err(Error::invalid_at(
                "file",
                Why::TooManyFiles,
                CASE_FILES_MAX.to_string(),
            ));
        }
        db.insert_case_file(&row).await?;
        db.append_event(
            case_id,
            &sportello_store::cases::Event {
                seq: 0,
                kind: "citizen_file".into(),
                actor: format!("citizen:{}", p.id),
                actor_name: format!("{} {}", p.given_name, p.family_name),
                public: true,
                body: serde_json::json!({ "text": row.name, "file": row.id }).to_string(),
                at: now,
            },
            &sportello_store::cases::Change {
                expect_last: Some(c.last_event),
                ..Default::default()
            },
        )
        .await
        .map_err(crate::follow::conflict)?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    if let Err(e) = r {
        // Nothing recorded: the bytes go too.
        deps.files.delete(&key).await.ok();
        return Err(e);
    }
    Ok(FileLine::from(&row))
}

#[cfg(test)]
#[path = "tests/files.rs"]
mod tests;
