//! The office's response document (a permit, a decision, a letter: PDF or signed `.p7m`),
//! attached to a case by its office with the outcome or after it. The citizen downloads it from
//! their case like their own files; the history records it (with its SHA-256) and the citizen
//! is told.

use sha2::{Digest, Sha256};
use sportello_authz::{Action, Object};
use sportello_domain::{FileType, Language, Why};
use sportello_kernel::scope::{check_scope, office_scope_without};
use sportello_kernel::{Actor, Deps, Error, Result};
use sportello_store::cases::forms::CaseFile;
use sportello_store::cases::{Change, Event};

use crate::draft::internal;
use crate::files::{FileLine, clean_name};
use crate::tell::{self, About};
use crate::view;

/// The largest response document (KiB).
pub const RESPONSE_KIB: usize = 10 * 1024;
/// The field a response document is filed under (never a form's: ids start with a letter).
pub const FIELD: &str = "_response";

/// Attaches the office's response document to a case of the actor's offices.
pub async fn attach(
    deps: &Deps,
    actor: &Actor,
    case_id: &str,
    name: &str,
    bytes: &[u8],
    base: &str,
) -> Result<FileLine> {
    let commune = actor.commune()?;
    let scope = office_scope_without(
        deps,
        actor,
        Object::Cases,
        Action::Update,
        &crate::ACTING_FOR,
    )
    .await?;
    let before = {
        let tx = deps.store.tenant_read(commune).await?;
        let c = tx.db().case(case_id).await?.ok_or(Error::NotFound)?;
        tx.commit().await?;
        c
    };
    check_scope(&scope, Some(&before.office_id)).map_err(|_| Error::NotFound)?;
    // Once the office works on it: taken in charge, waiting, or decided.
    if matches!(before.status.as_str(), "submitted" | "withdrawn") {
        return Err(Error::Refused("refused_response_not_now"));
    }
    if bytes.is_empty() {
        return Err(Error::invalid_at("file", Why::Required, ""));
    }
    if bytes.len() > RESPONSE_KIB * 1024 {
        return Err(Error::invalid_at("file", Why::FileTooLarge, "10 MB"));
    }
    let kind = FileType::sniff(bytes)
        .filter(|t| matches!(t, FileType::Pdf | FileType::P7m))
        .ok_or_else(|| Error::invalid_at("file", Why::FileType, "PDF, P7M"))?;
    let name = clean_name(name, kind);
    if deps.scanner.scan(&name, bytes).await.is_err() {
        return Err(Error::invalid_at("file", Why::FileRefused, ""));
    }
    let to = tell::reach(deps, &before.person_id).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let key = format!("{}/{}", commune.0, id);
    let now = sportello_store::now_micros();
    let row = CaseFile {
        id: id.clone(),
        person_id: before.person_id.clone(),
        draft_id: None,
        case_id: Some(case_id.to_owned()),
        field: FIELD.into(),
        name,
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
        db.insert_case_file(&row).await?;
        let body = serde_json::json!({"text": row.name, "file": row.id, "sha256": row.sha256});
        db.append_event(
            case_id,
            &Event {
                seq: 0,
                kind: "response_document".into(),
                actor: actor.audit_name(),
                actor_name: actor.name.clone(),
                public: true,
                body: body.to_string(),
                at: now,
            },
            &Change {
                expect_last: Some(before.last_event),
                ..Default::default()
            },
        )
        .await
        .map_err(crate::follow::conflict)?;
        sportello_kernel::audit::record(
            &db,
            actor,
            "case_response_document",
            &format!("case:{case_id}"),
            body,
        )
        .await?;
        let lang = Language::parse(&before.lang).unwrap_or(Language::It);
        let service = db.service(&before.service_id).await?;
        let given = deps
            .store
            .identity()
            .person(&before.person_id)
            .await?
            .map(|p| p.given_name)
            .unwrap_or_default();
        let about = About {
            case: &before,
            service_title: service
                .as_ref()
                .map_or(before.service_id.as_str(), |s| view::title(s, lang)),
            protocol: view::protocol_text(&before),
            base,
            given_name: &given,
        };
        tell::citizen(deps, &db, to, &about, "response_document", &row.name, None).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    if let Err(e) = r {
        deps.files.delete(&key).await.ok();
        return Err(e);
    }
    sportello_notify::wake(deps);
    Ok(FileLine::from(&row))
}
