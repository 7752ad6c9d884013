//! Intermediaries' delegations: a client (a person, by fiscal code) delegates a CAF or a
//! patronato to file for them. The signed document is uploaded once (PDF or signed `.p7m`,
//! judged from its bytes, hashed, kept through the file store) with the day it ends; the
//! intermediary files and sees that client's cases only while it holds.

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sportello_domain::{FileType, FiscalCode, Why};
use sportello_kernel::{Actor, Deps, Error, Problems, Result};
use sportello_store::cases::desk::Delegation;

use crate::draft::internal;
use crate::filer::FiledAs;
use crate::files::Download;

/// The largest delegation document (KiB), and the longest a delegation may run (days).
pub const DOCUMENT_KIB: usize = 5 * 1024;
pub const LONGEST_DAYS: i64 = 3 * 366;

#[derive(Debug, Clone, Serialize)]
pub struct DelegationLine {
    pub id: String,
    pub fiscal_code: String,
    pub client_name: String,
    pub document_name: String,
    pub sha256: String,
    pub valid_until: String,
    pub in_force: bool,
}

fn in_force(d: &Delegation, today: NaiveDate) -> bool {
    d.revoked_at.is_none() && d.valid_until.as_str() >= today.to_string().as_str()
}

fn line(d: &Delegation, today: NaiveDate) -> DelegationLine {
    DelegationLine {
        id: d.id.clone(),
        fiscal_code: d.fiscal_code.clone(),
        client_name: d.client_name.clone(),
        document_name: d.document_name.clone(),
        sha256: d.sha256.clone(),
        valid_until: d.valid_until.clone(),
        in_force: in_force(d, today),
    }
}

/// Refuses anyone but an intermediary (as the commune's rules make one: `filed_as`).
pub async fn intermediary(deps: &Deps, actor: &Actor) -> Result<()> {
    if crate::desk::filed_as(deps, actor).await? != FiledAs::Intermediary {
        return Err(Error::Refused("refused_not_intermediary"));
    }
    Ok(())
}

/// The actor's delegations here, the newest first.
pub async fn delegations(deps: &Deps, actor: &Actor) -> Result<Vec<DelegationLine>> {
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let today = crate::today();
    let list = tx
        .db()
        .delegations_of(&actor.staff_id, &today.to_string())
        .await?;
    tx.commit().await?;
    Ok(list.iter().map(|d| line(d, today)).collect())
}

/// The actor's delegation `id` if it holds today; else refused.
pub async fn delegation_in_force(deps: &Deps, actor: &Actor, id: &str) -> Result<Delegation> {
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let d = tx.db().delegation(id).await?;
    tx.commit().await?;
    d.filter(|d| d.staff_id == actor.staff_id && in_force(d, crate::today()))
        .ok_or_else(|| Error::invalid("delegation", Why::DelegationMissing))
}

/// A new delegation as the intermediary gives it.
pub struct NewDelegation<'a> {
    pub fiscal_code: &'a str,
    pub client_name: &'a str,
    pub valid_until: &'a str,
    pub document_name: &'a str,
    pub document: &'a [u8],
}

/// Records a client's delegation with its signed document.
pub async fn add(deps: &Deps, actor: &Actor, n: &NewDelegation<'_>) -> Result<DelegationLine> {
    intermediary(deps, actor).await?;
    let here = actor.commune()?;
    let today = crate::today();
    let mut p = Problems::default();
    let cf = FiscalCode::parse(n.fiscal_code);
    if let Err(e) = &cf {
        p.add("fiscal_code", e.why, e.arg.clone());
    }
    let name = n.client_name.trim();
    if name.is_empty() {
        p.add("client_name", Why::Required, "");
    } else if name.chars().count() > 100 {
        p.add("client_name", Why::TooLong, "100");
    } else if name.chars().any(char::is_control) {
        p.add("client_name", Why::Malformed, "");
    }
    let until = NaiveDate::parse_from_str(n.valid_until.trim(), "%Y-%m-%d");
    match until {
        Err(_) => p.add("valid_until", Why::DateInvalid, n.valid_until.trim()),
        Ok(d) if d < today => p.add("valid_until", Why::DateTooEarly, today.to_string()),
        Ok(d) if d > today + chrono::Duration::days(LONGEST_DAYS) => p.add(
            "valid_until",
            Why::DateTooLate,
            (today + chrono::Duration::days(LONGEST_DAYS)).to_string(),
        ),
        Ok(_) => {}
    }
    let kind = if n.document.is_empty() {
        p.add("document", Why::Required, "");
        None
    } else if n.document.len() > DOCUMENT_KIB * 1024 {
        p.add("document", Why::FileTooLarge, "5 MB");
        None
    } else {
        match FileType::sniff(n.document).filter(|t| matches!(t, FileType::Pdf | FileType::P7m)) {
            None => {
                p.add("document", Why::FileType, "PDF, P7M");
                None
            }
            k => k,
        }
    };
    p.result()?;
    let (Ok(cf), Some(kind)) = (cf, kind) else {
        return Err(Error::invalid("document", Why::Required));
    };
    let doc_name = crate::files::clean_name(n.document_name, kind);
    if deps.scanner.scan(&doc_name, n.document).await.is_err() {
        return Err(Error::invalid("document", Why::FileRefused));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let key = format!("{}/delegations/{id}", here.0);
    let d = Delegation {
        id: id.clone(),
        staff_id: actor.staff_id.clone(),
        fiscal_code: cf.normalised().as_str().to_owned(),
        client_name: name.to_owned(),
        document_name: doc_name,
        file_type: kind.key().to_owned(),
        size: n.document.len() as i64,
        sha256: data_encoding::HEXLOWER.encode(&Sha256::digest(n.document)),
        storage_key: key.clone(),
        // Written as `YYYY-MM-DD` whatever was typed: compared as text with today.
        valid_until: until.map(|d| d.to_string()).unwrap_or_default(),
        created_at: sportello_store::now_micros(),
        revoked_at: None,
    };
    // The bytes first (a row never names a file that is not there); gone again if the row is not
    // written.
    deps.files.put(&key, n.document).await.map_err(internal)?;
    let written: Result<()> = async {
        let tx = deps.store.tenant(here).await?;
        tx.db().insert_delegation(&d).await?;
        sportello_kernel::audit::record(
            &tx.db(),
            actor,
            "delegation_added",
            &format!("delegation:{id}"),
            serde_json::json!({"client": d.fiscal_code, "valid_until": d.valid_until, "sha256": d.sha256}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    if let Err(e) = written {
        deps.files.delete(&key).await.ok();
        return Err(e);
    }
    Ok(line(&d, today))
}

/// Ends one of the actor's delegations now.
pub async fn revoke(deps: &Deps, actor: &Actor, id: &str) -> Result<()> {
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    if !db
        .revoke_delegation(id, &actor.staff_id, sportello_store::now_micros())
        .await?
    {
        return Err(Error::NotFound);
    }
    sportello_kernel::audit::record(
        &db,
        actor,
        "delegation_revoked",
        &format!("delegation:{id}"),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The signed document of one of the actor's delegations (each reading recorded: it carries
/// the client's identity document).
pub async fn document(deps: &Deps, actor: &Actor, id: &str) -> Result<Download> {
    let tx = deps.store.tenant(actor.commune()?).await?;
    let d = tx
        .db()
        .delegation(id)
        .await?
        .filter(|d| d.staff_id == actor.staff_id)
        .ok_or(Error::NotFound)?;
    sportello_kernel::audit::record_for(
        &tx.db(),
        actor,
        "delegation_read",
        &format!("delegation:{id}"),
        serde_json::json!({}),
        &d.fiscal_code,
        "documento di delega",
    )
    .await?;
    tx.commit().await?;
    let bytes = deps.files.get(&d.storage_key).await.map_err(internal)?;
    Ok(Download {
        name: d.document_name,
        media_type: FileType::from_key(&d.file_type)
            .map_or("application/octet-stream", FileType::media_type),
        bytes,
    })
}
