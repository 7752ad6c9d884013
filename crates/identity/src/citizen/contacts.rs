//! The contacts a person gives for notifications: one e-mail and one mobile number, with the
//! consent to use each. They belong to the person (every commune sees the same), so they are
//! read from the store each time, never from a session's copy. A new e-mail address is used
//! only once proven: a code is mailed to it and typed back (an address the identity provider
//! or the person's confirmed account already proved needs none). Mobile numbers are proven the
//! same way once the SMS channel exists (issue 13); until then they are marked unproven.

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
    /// The contact e-mail is proven the person's (notifications go only to a proven address).
    pub email_verified: bool,
}

/// How long a mailed code works.
const CODE_MINUTES: i64 = 15;
/// At most one code a minute per person (a code mailed is a mail to someone's inbox).
const CODE_GAP_SECONDS: i64 = 60;
/// Wrong guesses a code survives (then the person asks for another).
const CODE_GUESSES: u32 = 5;

/// A person's contacts now.
pub async fn of(deps: &Deps, person_id: &str) -> Result<Contacts> {
    let id = deps.store.identity();
    let p = id.person(person_id).await?.ok_or(Error::NotFound)?;
    let verified = id.contact_email_verified(person_id).await?;
    // No address chosen: the one offered is the identity provider's or the confirmed
    // account's, proven already.
    let email_verified = match &p.contact_email {
        Some(_) => p.contact_email == verified,
        None => true,
    };
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
        email_verified,
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

/// What saving did: whether a code went to a new address to prove it.
#[derive(Debug, PartialEq, Eq)]
pub enum Saved {
    Done,
    CodeSent,
}

/// Saves a person's contacts; every field is checked first, and nothing is written unless all
/// are right. A consent needs its contact. A new, unproven e-mail address gets a code.
pub async fn save(deps: &Deps, person_id: &str, f: &ContactsChange<'_>) -> Result<Saved> {
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
    let id = deps.store.identity();
    let email = email.map(|e| e.as_str().to_owned());
    // A new address to prove: not more than one code a minute (checked before anything is
    // written, so a refused save changes nothing).
    if let Some(e) = &email
        && id.contact_email_verified(person_id).await?.as_deref() != Some(e.as_str())
        && let Some(expiry) = id.account_token_expiry(person_id, "contact").await?
    {
        let sent_at = expiry - CODE_MINUTES * 60 * 1_000_000;
        if now_micros() - sent_at < CODE_GAP_SECONDS * 1_000_000 {
            return Err(Error::Refused("contacts_code_wait"));
        }
    }
    id.set_contacts(
        person_id,
        email.clone(),
        mobile.map(|m| m.as_str().to_owned()),
        f.email_consent,
        f.sms_consent,
        now_micros(),
    )
    .await?;
    let Some(email) = email else {
        return Ok(Saved::Done);
    };
    if id.contact_email_verified(person_id).await?.as_deref() == Some(email.as_str()) {
        return Ok(Saved::Done);
    }
    // An address the identity provider gave, or the person's confirmed account, is proven.
    let person = id.person(person_id).await?.ok_or(Error::NotFound)?;
    let account = id.local_account_of(person_id).await?;
    let proven = person.idp_email.as_deref() == Some(email.as_str())
        || account.is_some_and(|a| a.email_verified && a.email == email);
    if proven {
        id.mark_contact_email_verified(person_id, &email).await?;
        return Ok(Saved::Done);
    }
    let code = six_digits();
    id.create_account_token(
        &code_hash(person_id, &email, &code),
        person_id,
        "contact",
        now_micros() + CODE_MINUTES * 60 * 1_000_000,
    )
    .await?;
    let mail = sportello_kernel::mail::Mail {
        to: email.clone(),
        subject: format!("{}: codice di verifica {code}", deps.federation_name),
        body: format!(
            "Il codice per confermare questo indirizzo come tuo recapito è {code}.\n\
             Scrivilo nella tua area personale entro {CODE_MINUTES} minuti.\n\n\
             Se non hai chiesto tu di usare questo indirizzo, ignora questo messaggio.\n\n\
             Your code to confirm this address as your contact is {code} \
             (valid for {CODE_MINUTES} minutes)."
        ),
        ..Default::default()
    };
    super::accounts::send(deps, mail).await?;
    Ok(Saved::CodeSent)
}

/// Proves the contact e-mail with the code mailed to it.
pub async fn verify(deps: &Deps, person_id: &str, code: &str) -> Result<()> {
    let id = deps.store.identity();
    let person = id.person(person_id).await?.ok_or(Error::NotFound)?;
    let email = person
        .contact_email
        .ok_or_else(|| Error::invalid("code", Why::CodeWrong))?;
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    let taken = id
        .take_account_token(
            &code_hash(person_id, &email, &code),
            "contact",
            now_micros(),
        )
        .await?;
    if taken.as_deref() != Some(person_id) {
        // Guessing: after a few wrong tries the code stops working (per node).
        if wrong_guess(person_id) >= CODE_GUESSES {
            id.delete_account_tokens(person_id, "contact").await?;
        }
        return Err(Error::invalid("code", Why::CodeWrong));
    }
    id.mark_contact_email_verified(person_id, &email).await?;
    Ok(())
}

/// Counts a wrong guess of a person's code; returns how many so far (forgotten once the code
/// is dropped).
fn wrong_guess(person_id: &str) -> u32 {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static WRONG: OnceLock<Mutex<HashMap<String, u32>>> = OnceLock::new();
    let Ok(mut map) = WRONG.get_or_init(|| Mutex::new(HashMap::new())).lock() else {
        return CODE_GUESSES;
    };
    if map.len() > 100_000 {
        map.clear();
    }
    let n = map.entry(person_id.to_owned()).or_insert(0);
    *n += 1;
    let seen = *n;
    if seen >= CODE_GUESSES {
        map.remove(person_id);
    }
    seen
}

/// A code is for one person and one address (a code mailed to an older address proves nothing).
fn code_hash(person_id: &str, email: &str, code: &str) -> String {
    sportello_kernel::tokens::hash(&format!("contact:{person_id}:{email}:{code}"))
}

fn six_digits() -> String {
    use rand::Rng;
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}
