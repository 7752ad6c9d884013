//! The contacts a person gives for notifications: one e-mail and one mobile number, with the
//! consent to use each. They belong to the person (every commune sees the same), so they are
//! read from the store each time, never from a session's copy.

use serde::Serialize;
use sportello_domain::{Email, MobileNumber};
use sportello_kernel::{Deps, Error, Problems, Result, Why};
use sportello_store::now_micros;

/// The contacts as the personal area's form shows them.
#[derive(Debug, Clone, Serialize)]
pub struct Contacts {
    /// The address chosen, or (until one is chosen) the one the account or the identity
    /// provider gave, offered as the form's value.
    pub email: String,
    pub mobile: String,
    pub email_consent: bool,
    pub sms_consent: bool,
}

/// A person's contacts now.
pub async fn of(deps: &Deps, person_id: &str) -> Result<Contacts> {
    let id = deps.store.identity();
    let p = id.person(person_id).await?.ok_or(Error::NotFound)?;
    let email = match (&p.contact_email, &p.idp_email) {
        (Some(e), _) => e.clone(),
        (None, Some(e)) => e.clone(),
        (None, None) => id
            .local_account_of(person_id)
            .await?
            .map(|a| a.email)
            .unwrap_or_default(),
    };
    Ok(Contacts {
        email,
        mobile: p.contact_mobile.or(p.idp_mobile).unwrap_or_default(),
        email_consent: p.email_consent,
        sms_consent: p.sms_consent,
    })
}

/// The contacts form as sent.
#[derive(Debug)]
pub struct ContactsChange<'a> {
    pub email: &'a str,
    pub mobile: &'a str,
    pub email_consent: bool,
    pub sms_consent: bool,
}

/// Saves a person's contacts; every field is checked first, and nothing is written unless all
/// are right. A consent needs its contact.
pub async fn save(deps: &Deps, person_id: &str, f: &ContactsChange<'_>) -> Result<()> {
    let mut p = Problems::default();
    let email = match f.email.trim() {
        "" => None,
        e => Email::parse(e).map_err(|e| p.parse("email", &e)).ok(),
    };
    let mobile = match f.mobile.trim() {
        "" => None,
        m => MobileNumber::parse(m)
            .map_err(|e| p.parse("mobile", &e))
            .ok(),
    };
    if f.email_consent && f.email.trim().is_empty() {
        p.add("email", Why::Required, "");
    }
    if f.sms_consent && f.mobile.trim().is_empty() {
        p.add("mobile", Why::Required, "");
    }
    p.result()?;
    deps.store
        .identity()
        .set_contacts(
            person_id,
            email.map(|e| e.as_str().to_owned()),
            mobile.map(|m| m.as_str().to_owned()),
            f.email_consent,
            f.sms_consent,
            now_micros(),
        )
        .await?;
    Ok(())
}
