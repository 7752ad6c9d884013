//! The contacts a person gives for notifications: one e-mail and one mobile number, with the
//! consent to use each. They belong to the person (every commune sees the same), so they are
//! read from the store each time, never from a session's copy. A new e-mail address or mobile
//! number is used only once proven: a code is sent to it (by mail; by SMS where the commune
//! sends SMS) and typed back. What the identity provider or the person's confirmed account
//! already proved needs none.

use serde::Serialize;
use sportello_domain::{Email, Language, MobileNumber, TenantId};
use sportello_kernel::{Deps, Error, Problems, Result, Why};
use sportello_notify::{Notice, To};
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
    /// The same for the mobile number (proven by an SMS code where the commune sends SMS).
    pub mobile_verified: bool,
}

/// How long a mailed code works.
const CODE_MINUTES: i64 = 15;
/// At most one code a minute per person (a code mailed is a mail to someone's inbox).
const CODE_GAP_SECONDS: i64 = 60;
/// SMS codes a person may be sent by one commune in a day.
const SMS_CODES_A_DAY: i64 = 5;
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
    let mobile_verified = match &p.contact_mobile {
        Some(_) => p.contact_mobile == id.contact_mobile_verified(person_id).await?,
        None => true,
    };
    Ok(Contacts {
        email,
        mobile_verified,
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
/// are right. A consent needs its contact. A new, unproven e-mail address gets a code by mail;
/// a new, unproven mobile number gets one by SMS where the commune sends SMS (elsewhere it
/// stays unproven, and unused). The codes go out from `from` (the commune whose personal area
/// it is; 0: the sign-in host), in the person's language.
pub async fn save(
    deps: &Deps,
    from: TenantId,
    lang: Language,
    person_id: &str,
    f: &ContactsChange<'_>,
) -> Result<Saved> {
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
    let person = id.person(person_id).await?.ok_or(Error::NotFound)?;
    // What needs a code: a contact not proven yet, and not given by the identity provider or
    // the person's confirmed account (proven already).
    let email_new = match &email {
        Some(e) if id.contact_email_verified(person_id).await?.as_deref() != Some(e.as_str()) => {
            let account = id.local_account_of(person_id).await?;
            let proven = person.idp_email.as_deref() == Some(e.as_str())
                || account.is_some_and(|a| a.email_verified && a.email == e.as_str());
            Some((e.clone(), proven))
        }
        _ => None,
    };
    let mobile_new = match &mobile {
        Some(m) if id.contact_mobile_verified(person_id).await?.as_deref() != Some(m.as_str()) => {
            Some((m.clone(), person.idp_mobile.as_deref() == Some(m.as_str())))
        }
        _ => None,
    };
    // An SMS code goes to Italian mobile numbers only (an SMS abroad costs the commune more,
    // and numbers abroad are where SMS pumping sends them), at most a few a day per person.
    let sms = match &mobile_new {
        Some((m, false)) if m.as_str().starts_with("+393") => {
            sportello_notify::channels::sms_enabled(deps, from).await?
        }
        _ => false,
    };
    if sms {
        let tx = deps.store.tenant_read(from).await?;
        let sent = tx
            .db()
            .count_sent_to(
                person_id,
                "sms",
                "contact_code",
                now_micros() - 24 * 3600 * 1_000_000,
            )
            .await?;
        tx.commit().await?;
        if sent >= SMS_CODES_A_DAY {
            return Err(Error::Refused("contacts_sms_limit"));
        }
    }
    // Not more than one code a minute to each kind of contact (checked before anything is
    // written, so a refused save changes nothing).
    for (needed, purpose) in [
        (matches!(email_new, Some((_, false))), EMAIL_CODE),
        (sms, MOBILE_CODE),
    ] {
        if needed && let Some(expiry) = id.account_token_expiry(person_id, purpose).await? {
            let sent_at = expiry - CODE_MINUTES * 60 * 1_000_000;
            if now_micros() - sent_at < CODE_GAP_SECONDS * 1_000_000 {
                return Err(Error::Refused("contacts_code_wait"));
            }
        }
    }
    id.set_contacts(
        person_id,
        email.as_ref().map(|e| e.as_str().to_owned()),
        mobile.as_ref().map(|m| m.as_str().to_owned()),
        f.email_consent,
        f.sms_consent,
        now_micros(),
    )
    .await?;
    let mut sent = false;
    match email_new {
        Some((e, true)) => {
            id.mark_contact_email_verified(person_id, e.as_str())
                .await?;
        }
        Some((e, false)) => {
            send_code(deps, from, lang, person_id, To::Email(e), EMAIL_CODE).await?;
            sent = true;
        }
        None => {}
    }
    match mobile_new {
        Some((m, true)) => {
            id.mark_contact_mobile_verified(person_id, m.as_str())
                .await?;
        }
        Some((m, false)) if sms => {
            send_code(deps, from, lang, person_id, To::Mobile(m), MOBILE_CODE).await?;
            sent = true;
        }
        _ => {}
    }
    if sent {
        sportello_notify::wake(deps);
        Ok(Saved::CodeSent)
    } else {
        Ok(Saved::Done)
    }
}

const EMAIL_CODE: &str = "contact";
const MOBILE_CODE: &str = "contact_mobile";

/// A code to the contact, written with its message (the code exists if and only if its message
/// does).
async fn send_code(
    deps: &Deps,
    from: TenantId,
    lang: Language,
    person_id: &str,
    to: To,
    purpose: &str,
) -> Result<()> {
    let code = six_digits();
    let address = match &to {
        To::Email(e) => e.as_str().to_owned(),
        To::Mobile(m) => m.as_str().to_owned(),
    };
    let m = sportello_notify::compose::commune_message(
        deps,
        from,
        &Notice {
            template: "contact_code",
            lang,
            to,
            person_id: Some(person_id.to_owned()),
            vars: serde_json::json!({"code": code, "minutes": CODE_MINUTES}),
        },
    )
    .await?;
    let now = now_micros();
    deps.store
        .identity()
        .create_account_token_with_message(
            &code_hash(person_id, &address, &code),
            person_id,
            purpose,
            now + CODE_MINUTES * 60 * 1_000_000,
            from,
            &m,
            now,
        )
        .await?;
    Ok(())
}

/// Proves the contact e-mail or mobile number with the code sent to it.
pub async fn verify(deps: &Deps, person_id: &str, code: &str) -> Result<()> {
    let id = deps.store.identity();
    let person = id.person(person_id).await?.ok_or(Error::NotFound)?;
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    let now = now_micros();
    if let Some(email) = &person.contact_email
        && id
            .take_account_token(&code_hash(person_id, email, &code), EMAIL_CODE, now)
            .await?
            .as_deref()
            == Some(person_id)
    {
        id.mark_contact_email_verified(person_id, email).await?;
        return Ok(());
    }
    if let Some(mobile) = &person.contact_mobile
        && id
            .take_account_token(&code_hash(person_id, mobile, &code), MOBILE_CODE, now)
            .await?
            .as_deref()
            == Some(person_id)
    {
        id.mark_contact_mobile_verified(person_id, mobile).await?;
        return Ok(());
    }
    // Guessing: after a few wrong tries the codes stop working (per node).
    if wrong_guess(person_id) >= CODE_GUESSES {
        id.delete_account_tokens(person_id, EMAIL_CODE).await?;
        id.delete_account_tokens(person_id, MOBILE_CODE).await?;
    }
    Err(Error::invalid("code", Why::CodeWrong))
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

/// A code is for one person and one address or number (a code sent to an older one proves
/// nothing).
fn code_hash(person_id: &str, address: &str, code: &str) -> String {
    sportello_kernel::tokens::hash(&format!("contact:{person_id}:{address}:{code}"))
}

fn six_digits() -> String {
    use rand::Rng;
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}
