//! The console's form editor: a service's form read as it stands, and changed one step at a
//! time (a field added on a page or a new page, moved, removed). Each step is checked and
//! stored as a new version: cases already filed keep theirs. Administrators edit any service's
//! form; an office head those of their offices' services.

use serde::Serialize;
use sportello_authz::{Action, Object};
use sportello_domain::Why;
use sportello_domain::form::{FormDef, NewField};
use sportello_kernel::scope::{check_scope, office_scope};
use sportello_kernel::{Actor, Deps, Error, Problems, Result};

use crate::draft::internal;

#[derive(Debug, Clone, Serialize)]
pub struct Editor {
    pub service_id: String,
    pub service_title: String,
    /// The version in force (none yet: 0).
    pub version: i32,
    pub def: FormDef,
    /// Whether the service is offered online (a form shows to citizens only then).
    pub online: bool,
}

/// A service's form as it stands (an empty one if it has none yet).
pub async fn editor(deps: &Deps, actor: &Actor, service_id: &str) -> Result<Editor> {
    let tx = deps.store.tenant_read(actor.commune()?).await?;
    let db = tx.db();
    let service = db.service(service_id).await?.ok_or(Error::NotFound)?;
    let current = db.form(service_id, None).await?;
    tx.commit().await?;
    let (version, def) = match current {
        Some(f) => (f.version, crate::forms::parse(&f.definition)?),
        None => (0, FormDef::empty()),
    };
    Ok(Editor {
        service_id: service.id.clone(),
        service_title: service.title.clone(),
        version,
        def,
        online: service
            .channels
            .contains(&sportello_domain::Channel::Online),
    })
}

/// One step of editing.
#[derive(Debug, Clone)]
pub enum FormOp {
    /// A field at the end of page `page` (`None`: of a new page titled `new_page`).
    AddField {
        page: Option<usize>,
        new_page: String,
        field: Box<NewField>,
    },
    Move {
        field: String,
        up: bool,
    },
    Remove {
        field: String,
    },
}

/// Applies `op` to the service's form, as the editor showed it at version `seen`, and stores
/// the result as a new version; gives it. Someone else's step in between: refused (the editor
/// shows the form as it is now).
pub async fn edit(
    deps: &Deps,
    actor: &Actor,
    service_id: &str,
    seen: i32,
    op: &FormOp,
) -> Result<i32> {
    let commune = actor.commune()?;
    let scope = office_scope(deps, actor, Object::Services, Action::Update).await?;
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    if !db.lock_service_forms(service_id).await? {
        return Err(Error::NotFound);
    }
    let service = db.service(service_id).await?.ok_or(Error::NotFound)?;
    check_scope(&scope, service.office_id.as_deref())?;
    let current = db.form(service_id, None).await?;
    if current.as_ref().map_or(0, |f| f.version) != seen {
        return Err(Error::Refused("refused_form_changed"));
    }
    let mut def = match current {
        Some(f) => crate::forms::parse(&f.definition)?,
        None => FormDef::empty(),
    };
    let what = match op {
        FormOp::AddField {
            page,
            new_page,
            field,
        } => {
            def.add_field(*page, new_page, field).map_err(|list| {
                let mut p = Problems::default();
                for (f, why, arg) in list {
                    p.add(f, why, arg);
                }
                Error::Invalid(p)
            })?;
            serde_json::json!({"added": field.id.trim(), "kind": field.kind})
        }
        FormOp::Move { field, up } => {
            if !def.move_field(field, *up) {
                return Err(Error::invalid_at("field", Why::NotOneOf, field.as_str()));
            }
            serde_json::json!({"moved": field, "up": up})
        }
        FormOp::Remove { field } => {
            def.remove_field(field)
                .map_err(|why| Error::invalid_at("field", why, field.as_str()))?;
            serde_json::json!({"removed": field})
        }
    };
    // A form keeps a field (its versions stay for the cases filed with them; a service stops
    // taking cases online by leaving the online channel).
    if def.pages.is_empty() {
        return Err(Error::Refused("refused_form_last_field"));
    }
    // The whole form again, as a sync would check it: a step never leaves a broken form.
    let offices: Vec<String> = db.offices().await?.into_iter().map(|o| o.id).collect();
    let refs: Vec<&str> = offices.iter().map(String::as_str).collect();
    def.check(&refs)
        .map_err(|e| Error::invalid_at("form", Why::Malformed, e))?;
    let json = serde_json::to_string(&def).map_err(internal)?;
    let now = sportello_store::now_micros();
    let version = db
        .save_form(service_id, &json, &actor.audit_name(), now)
        .await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "form_changed",
        &format!("service:{service_id}"),
        serde_json::json!({"version": version, "step": what}),
    )
    .await?;
    db.note_form_change().await?;
    tx.commit().await?;
    deps.apply_registry_changes().await;
    Ok(version)
}
