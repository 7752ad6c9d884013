//! Local password accounts: register (a confirmation mail), confirm, sign in with e-mail and
//! password (locked after repeated failures), reset by mail (ending old sessions).

use sportello_domain::identity::check_new_password;
use sportello_domain::{Email, Language, TenantId};
use sportello_notify::{Notice, To};
use sportello_store::identity::AuditEvent;
use sportello_store::now_micros;

use super::{Client, LOCK_AFTER, LOCK_SECONDS, MICROS, audit};
use crate::password;
use sportello_kernel::Deps;
use sportello_kernel::tokens;
use sportello_kernel::{Error, Problems, Result, Why};

/// Checks an e-mail and password; the person on success. Counts failures and locks the account
/// after [`LOCK_AFTER`] in a row; a wrong e-mail costs the same time as a wrong password.
pub async fn check_password(
    deps: &Deps,
    email: &str,
    password: &str,
    client: &Client,
) -> Result<String> {
    let wrong = || Error::Refused("wrong_credentials");
    let Ok(email) = Email::parse(email) else {
        return Err(wrong());
    };
    let now = now_micros();
    let account = deps
        .store
        .identity()
        .local_account_by_email(email.as_str())
        .await?;
    let Some(account) = account else {
        password::verify(password.to_owned(), password::dummy_hash().to_owned()).await;
        return Err(wrong());
    };
    let password_event = |event: &str| AuditEvent {
        at: now,
        event: event.into(),
        person_id: Some(account.person_id.clone()),
        idp: Some("password".into()),
        ip: client.ip.clone(),
        ..Default::default()
    };
    // Count the attempt before checking it: parallel guesses cannot get past the limit.
    let claimed = deps
        .store
        .identity()
        .claim_password_attempt(&account.person_id, LOCK_AFTER, now, LOCK_SECONDS * MICROS)
        .await?;
    let right = password::verify(password.to_owned(), account.password_hash.clone()).await;
    if claimed.is_none() {
        audit(deps, password_event("sign_in_locked")).await;
        // Only someone who knows the password learns that the account exists and is locked.
        return Err(if right {
            Error::Refused("account_locked")
        } else {
            wrong()
        });
    }
    if !right {
        audit(deps, password_event("sign_in_failed")).await;
        return Err(wrong());
    }
    deps.store
        .identity()
        .reset_password_failures(&account.person_id)
        .await?;
    if !account.email_verified {
        return Err(Error::Refused("email_not_confirmed"));
    }
    Ok(account.person_id)
}

/// What a person fills in to open a password account.
#[derive(Debug)]
pub struct Registration<'a> {
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub password_again: &'a str,
    /// The privacy notice was read (the box ticked).
    pub consent: bool,
}

/// The longest name a person may give.
const NAME_MAX: usize = 100;

impl Registration<'_> {
    /// Every field checked at once: the names, the address, and the password.
    fn check(&self) -> Result<(&str, &str, Email)> {
        let mut p = Problems::default();
        let (given, family) = (self.given_name.trim(), self.family_name.trim());
        for (field, v) in [("given_name", given), ("family_name", family)] {
            if v.is_empty() {
                p.add(field, Why::Required, "");
            } else if v.chars().count() > NAME_MAX {
                p.add(field, Why::TooLong, NAME_MAX.to_string());
            }
        }
        let email = Email::parse(self.email).map_err(|e| p.parse("email", &e));
        if let Err(e) = check_new_password(self.password, self.email.trim()) {
            p.parse("password", &e);
        } else if self.password != self.password_again {
            p.add("password_again", Why::PasswordsDiffer, "");
        }
        if !self.consent {
            p.add("privacy", Why::ConsentNeeded, "");
        }
        match email {
            Ok(email) if p.is_empty() => Ok((given, family, email)),
            _ => Err(Error::Invalid(p)),
        }
    }
}

/// Registers a password account and mails the confirmation link. If the address is taken, the
/// owner gets a mail saying so instead (the page says the same either way).
pub async fn register(
    deps: &Deps,
    f: &Registration<'_>,
    lang: Language,
    verify_url: impl Fn(&str) -> String,
) -> Result<()> {
    let (given, family, email) = f.check()?;
    let password_text = f.password;
    let hash = password::hash(password_text.to_owned())
        .await
        .map_err(Error::Upstream)?;
    let now = now_micros();
    let created = deps
        .store
        .identity()
        .create_local_account(email.as_str(), &hash, given, family, now)
        .await?;
    match created {
        Some(person_id) => {
            let token = tokens::new_token();
            let m = sportello_notify::compose::federation_message(
                deps,
                &Notice {
                    template: "account_confirmation",
                    lang,
                    to: To::Email(email),
                    person_id: Some(person_id.clone()),
                    vars: serde_json::json!({"given": given, "url": verify_url(&token)}),
                },
            )?;
            deps.store
                .identity()
                .create_account_token_with_message(
                    &tokens::hash(&token),
                    &person_id,
                    "verify",
                    now + 24 * 3600 * MICROS,
                    TenantId(0),
                    &m,
                    now,
                )
                .await?;
        }
        None => {
            let tx = deps.store.tenant(TenantId(0)).await?;
            sportello_notify::enqueue(
                deps,
                &tx.db(),
                &Notice {
                    template: "account_exists",
                    lang,
                    to: To::Email(email),
                    person_id: None,
                    vars: serde_json::json!({}),
                },
            )
            .await?;
            tx.commit().await?;
        }
    }
    sportello_notify::wake(deps);
    Ok(())
}

pub async fn confirm_email(deps: &Deps, token: &str) -> Result<()> {
    let now = now_micros();
    let person = deps
        .store
        .identity()
        .take_account_token(&tokens::hash(token), "verify", now)
        .await?
        .ok_or(Error::Refused("confirm_link_expired"))?;
    deps.store
        .identity()
        .mark_email_verified(&person, now)
        .await?;
    Ok(())
}

/// Mails a reset link if the address has an account (the page says the same either way).
pub async fn request_reset(
    deps: &Deps,
    email: &str,
    lang: Language,
    reset_url: impl Fn(&str) -> String,
) -> Result<()> {
    let email = Email::parse(email).map_err(Error::parse("email"))?;
    let Some(account) = deps
        .store
        .identity()
        .local_account_by_email(email.as_str())
        .await?
    else {
        return Ok(());
    };
    let token = tokens::new_token();
    let m = sportello_notify::compose::federation_message(
        deps,
        &Notice {
            template: "password_reset",
            lang,
            to: To::Email(email),
            person_id: Some(account.person_id.clone()),
            vars: serde_json::json!({"url": reset_url(&token)}),
        },
    )?;
    let now = now_micros();
    deps.store
        .identity()
        .create_account_token_with_message(
            &tokens::hash(&token),
            &account.person_id,
            "reset",
            now + 3600 * MICROS,
            TenantId(0),
            &m,
            now,
        )
        .await?;
    sportello_notify::wake(deps);
    Ok(())
}

/// Sets a new password from a reset link; ends every session of that person. Also confirms the
/// e-mail address (the link proved it).
pub async fn reset_password(
    deps: &Deps,
    token: &str,
    new_password: &str,
    again: &str,
) -> Result<()> {
    let now = now_micros();
    let expired = || Error::Refused("reset_link_expired");
    let token_hash = tokens::hash(token);
    // Check the new password before spending the link (a refused password keeps the link, which
    // still expires when it was going to).
    let person = deps
        .store
        .identity()
        .account_token(&token_hash, "reset", now)
        .await?
        .ok_or_else(expired)?;
    let account = deps
        .store
        .identity()
        .local_account_of(&person)
        .await?
        .ok_or(Error::NotFound)?;
    password::check_new(new_password, again, &account.email)?;
    if deps
        .store
        .identity()
        .take_account_token(&token_hash, "reset", now)
        .await?
        .as_deref()
        != Some(person.as_str())
    {
        return Err(expired());
    }
    let hash = password::hash(new_password.to_owned())
        .await
        .map_err(Error::Upstream)?;
    deps.store.identity().set_password(&person, &hash).await?;
    deps.store
        .identity()
        .mark_email_verified(&person, now)
        .await?;
    for s in deps
        .store
        .identity()
        .sessions_of_person(&person, now)
        .await?
    {
        if s.kind == "sso" {
            deps.sessions.end_sso(&deps.store, &s.token_hash).await?;
        } else {
            deps.sessions.end(&deps.store, &s.token_hash).await?;
        }
    }
    Ok(())
}
