//! A service's online form: the definition in force and the versions cases were filed with.

use sportello_domain::Channel;
use sportello_domain::form::FormDef;
use sportello_kernel::{Error, Result};
use sportello_store::TenantDb;
use sportello_store::charter::Service;

/// A service that takes cases online, with the form in force.
#[derive(Debug, Clone)]
pub struct ServiceForm {
    pub service: Service,
    pub version: i32,
    pub def: FormDef,
}

/// The service and its form, if the service is offered online here and has a form.
pub async fn of_service(db: &TenantDb<'_>, service_id: &str) -> Result<Option<ServiceForm>> {
    let Some(service) = db.service(service_id).await? else {
        return Ok(None);
    };
    if !service.channels.contains(&Channel::Online) {
        return Ok(None);
    }
    let Some(f) = db.form(service_id, None).await? else {
        return Ok(None);
    };
    Ok(Some(ServiceForm {
        service,
        version: f.version,
        def: parse(&f.definition)?,
    }))
}

/// A stored definition (a version a case was filed with).
pub async fn version(db: &TenantDb<'_>, service_id: &str, version: i32) -> Result<FormDef> {
    let f = db
        .form(service_id, Some(version))
        .await?
        .ok_or(Error::NotFound)?;
    parse(&f.definition)
}

pub(crate) fn parse(json: &str) -> Result<FormDef> {
    FormDef::from_json(json).map_err(|e| Error::Internal(format!("stored form: {e}")))
}
