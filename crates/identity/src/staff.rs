//! Staff sign-in (operators, clerks, administrators) on a commune's host: e-mail and password,
//! then a TOTP code. A session is for one commune; it counts as signed in only once the second
//! factor is given. Invitations set the password and enrol TOTP.

use sportello_domain::{AssuranceLevel, Email};
use sportello_store::identity::AuditEvent;
use sportello_store::now_micros;
use sportello_store::staff::Realm;
use sportello_store::staff::StaffAccount;

use super::citizen::{Client, LOCK_AFTER, LOCK_SECONDS, audit};
use super::{password, totp};
use sportello_kernel::Deps;
use sportello_kernel::session::{Kind, NewSession};
use sportello_kernel::tokens;
use sportello_kernel::{Error, Result, Why};

const MICROS: i64 = 1_000_000;
pub const INVITE_DAYS: i64 = 7;

fn staff_event(event: &str, realm: Realm, staff: &str, client: &Client) -> AuditEvent {
    AuditEvent {
        at: now_micros(),
        event: event.into(),
        commune_id: realm.commune().map(|c| c.0),
        staff_id: Some(staff.into()),
        idp: Some("password+totp".into()),
        ip: client.ip.clone(),
        ..Default::default()
    }
}

/// Creates a staff account and its invitation; returns the account id and the invitation token.
pub async fn invite(
    store: &sportello_store::Store,
    realm: Realm,
    email: &str,
    name: &str,
    role: &str,
) -> Result<(String, String)> {
    invite_for_office(store, realm, email, name, role, None).await
}

/// [`invite`], with the role given for one office only (a clerk, an office head), all in one
/// transaction.
pub async fn invite_for_office(
    store: &sportello_store::Store,
    realm: Realm,
    email: &str,
    name: &str,
    role: &str,
    office: Option<&str>,
) -> Result<(String, String)> {
    invite_inner(store, realm, email, name, role, office, None).await
}

/// The message that carries an invitation, made from its token.
pub type InvitationMessage<'a> =
    &'a (dyn Fn(&str) -> Result<sportello_store::outbox::NewMessage> + Send + Sync);

/// [`invite_for_office`] in a commune, with the message carrying the link written into the
/// commune's outbox in the same transaction: no invitation without its mail.
pub async fn invite_with_message(
    store: &sportello_store::Store,
    commune: sportello_domain::TenantId,
    email: &str,
    name: &str,
    role: &str,
    office: Option<&str>,
    message: InvitationMessage<'_>,
) -> Result<(String, String)> {
    invite_inner(
        store,
        Realm::Commune(commune),
        email,
        name,
        role,
        office,
        Some(message),
    )
    .await
}

async fn invite_inner(
    store: &sportello_store::Store,
    realm: Realm,
    email: &str,
    name: &str,
    role: &str,
    office: Option<&str>,
    message: Option<InvitationMessage<'_>>,
) -> Result<(String, String)> {
    let email = Email::parse(email).map_err(Error::parse("email"))?;
    let now = now_micros();
    let tx = store.staff(realm).await?;
    let db = tx.db();
    let id = match db
        .create_staff_account(email.as_str(), name.trim(), role, now)
        .await?
    {
        Some(id) => id,
        None => {
            return Err(Error::invalid_at("email", Why::EmailTaken, email.as_str()));
        }
    };
    let token = tokens::new_token();
    db.create_staff_token(
        &tokens::hash(&token),
        &id,
        "invite",
        now + INVITE_DAYS * 86_400 * MICROS,
    )
    .await?;
    // The role it is invited for (a commune's staff role, or the federation's platform role).
    let role_ok = sportello_authz::Role::parse(role).is_some_and(|r| match realm {
        Realm::Commune(_) => sportello_authz::Role::STAFF.contains(&r),
        Realm::Federation => r == sportello_authz::Role::Federation,
    });
    if !role_ok {
        return Err(Error::invalid_at("role", Why::UnknownRole, role));
    }
    if let Some(tdb) = tx.tenant_db() {
        if let Some(o) = office
            && tdb.office_row(o).await?.is_none()
        {
            return Err(Error::invalid_at("office", Why::UnknownOffice, o));
        }
        tdb.assign_role(&id, role, office, "invitation", now)
            .await?;
        tdb.note_policy_change(now).await?;
        if let Some(message) = message {
            tdb.enqueue_message(&message(&token)?, now).await?;
        }
    }
    tx.commit().await?;
    if realm == Realm::Federation {
        store.federation().note_federation_change(now).await?;
    }
    Ok((id, token))
}

/// The account an invitation is for.
pub async fn invited(deps: &Deps, realm: Realm, token: &str) -> Result<StaffAccount> {
    let expired = || Error::Refused("invitation_expired");
    let tx = deps.store.staff(realm).await?;
    let db = tx.db();
    let id = db
        .staff_token(&tokens::hash(token), "invite", now_micros())
        .await?
        .ok_or_else(expired)?;
    let acc = db.staff_by_id(&id).await?.ok_or_else(expired)?;
    tx.commit().await?;
    Ok(acc)
}

/// Step 1 of an invitation: the password, and a new TOTP secret to enrol (returned in clear for
/// the enrolment page, stored encrypted).
pub async fn accept_password(
    deps: &Deps,
    realm: Realm,
    token: &str,
    new_password: &str,
    again: &str,
) -> Result<(StaffAccount, Vec<u8>)> {
    let acc = invited(deps, realm, token).await?;
    password::check_new(new_password, again, &acc.email)?;
    let hash = password::hash(new_password.to_owned())
        .await
        .map_err(Error::Upstream)?;
    let secret = totp::new_secret();
    let sealed = deps.secrets.seal(&secret).map_err(Error::Upstream)?;
    let tx = deps.store.staff(realm).await?;
    tx.db().set_staff_password(&acc.id, &hash).await?;
    tx.db().set_staff_totp(&acc.id, &sealed).await?;
    tx.commit().await?;
    Ok((acc, secret))
}

/// The clear TOTP secret of an account.
pub fn secret_of(deps: &Deps, acc: &StaffAccount) -> Result<Vec<u8>> {
    let sealed = acc
        .totp_secret
        .as_deref()
        .ok_or(Error::Refused("no_authenticator"))?;
    deps.secrets.open(sealed).map_err(Error::Upstream)
}

/// Checks a TOTP code for an account (each time step accepted once).
pub async fn check_code(deps: &Deps, realm: Realm, acc: &StaffAccount, code: &str) -> Result<bool> {
    let secret = secret_of(deps, acc)?;
    let now = now_micros();
    let Some(step) = totp::matching_step(&secret, code, now / MICROS) else {
        return Ok(false);
    };
    let tx = deps.store.staff(realm).await?;
    let ok = tx.db().use_totp_step(&acc.id, step, now).await?;
    tx.commit().await?;
    Ok(ok)
}

/// The authenticator secret being enrolled for an invitation whose password is chosen: shown
/// again after a wrong first code, so that the one already in the person's app stays good.
pub async fn enrolment(deps: &Deps, realm: Realm, token: &str) -> Result<(StaffAccount, Vec<u8>)> {
    let acc = invited(deps, realm, token).await?;
    if acc.password_hash.is_none() {
        return Err(Error::invalid("", Why::PasswordFirst));
    }
    let secret = secret_of(deps, &acc)?;
    Ok((acc, secret))
}

/// Step 2 of an invitation: the first code confirms the authenticator; the invitation is used up
/// (its link stops working), recovery codes are issued, and the staff member is signed in (with
/// the second factor). Returns the session token and the codes, to show once.
pub async fn accept_totp(
    deps: &Deps,
    realm: Realm,
    token: &str,
    code: &str,
    client: &Client,
) -> Result<(String, Vec<String>)> {
    let acc = invited(deps, realm, token).await?;
    if acc.password_hash.is_none() {
        return Err(Error::invalid("", Why::PasswordFirst));
    }
    if !check_code(deps, realm, &acc, code).await? {
        return Err(Error::Refused("code_wrong"));
    }
    let tx = deps.store.staff(realm).await?;
    tx.db().delete_staff_token(&tokens::hash(token)).await?;
    tx.commit().await?;
    let codes = crate::recovery::issue(deps, realm, &acc.id).await?;
    audit(deps, staff_event("staff_enrolled", realm, &acc.id, client)).await;
    Ok((open(deps, realm, &acc, true, client).await?, codes))
}

async fn open(
    deps: &Deps,
    realm: Realm,
    acc: &StaffAccount,
    mfa: bool,
    client: &Client,
) -> Result<String> {
    Ok(deps
        .sessions
        .create(
            &deps.store,
            NewSession {
                kind: Kind::Staff,
                sso_hash: None,
                commune: realm.commune(),
                person_id: None,
                staff_id: Some(&acc.id),
                level: AssuranceLevel::Low,
                idp: if mfa { "password+totp" } else { "password" },
                mfa,
                user_agent: client.user_agent.clone(),
                not_after: None,
            },
        )
        .await?)
}

/// Password step of a staff sign-in: a session without the second factor yet.
pub async fn sign_in_password(
    deps: &Deps,
    realm: Realm,
    email: &str,
    password_text: &str,
    client: &Client,
) -> Result<String> {
    let wrong = || Error::Refused("wrong_credentials");
    let Ok(email) = Email::parse(email) else {
        return Err(wrong());
    };
    let now = now_micros();
    let tx = deps.store.staff(realm).await?;
    let acc = tx.db().staff_by_email(email.as_str()).await?;
    tx.commit().await?;
    let Some(acc) = acc.filter(|a| a.password_hash.is_some() && a.totp_confirmed) else {
        password::verify(password_text.to_owned(), password::dummy_hash().to_owned()).await;
        return Err(wrong());
    };
    // Count the attempt before checking it (reset only after the second factor).
    let tx = deps.store.staff(realm).await?;
    let claimed = tx
        .db()
        .claim_staff_attempt(&acc.id, LOCK_AFTER, now, LOCK_SECONDS * MICROS)
        .await?;
    tx.commit().await?;
    let ok = password::verify(
        password_text.to_owned(),
        acc.password_hash.clone().unwrap_or_default(),
    )
    .await;
    if !claimed {
        audit(
            deps,
            staff_event("staff_sign_in_locked", realm, &acc.id, client),
        )
        .await;
        // Only someone who knows the password learns that the account is locked.
        return Err(if ok {
            Error::Refused("staff_locked")
        } else {
            wrong()
        });
    }
    if !ok {
        audit(
            deps,
            staff_event("staff_sign_in_failed", realm, &acc.id, client),
        )
        .await;
        return Err(wrong());
    }
    open(deps, realm, &acc, false, client).await
}

/// Second-factor step: the password-only session is replaced by a new one with the factor. The
/// factor is the authenticator's code, or one of the recovery codes (spent).
pub async fn sign_in_totp(
    deps: &Deps,
    realm: Realm,
    pending: &sportello_kernel::session::Current,
    code: &str,
    client: &Client,
) -> Result<String> {
    let staff = pending.staff.as_ref().ok_or(Error::NotFound)?;
    let tx = deps.store.staff(realm).await?;
    let acc = tx
        .db()
        .staff_by_id(&staff.id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    let tx = deps.store.staff(realm).await?;
    let claimed = tx
        .db()
        .claim_staff_attempt(&acc.id, LOCK_AFTER, now_micros(), LOCK_SECONDS * MICROS)
        .await?;
    tx.commit().await?;
    if !claimed {
        return Err(Error::Refused("staff_locked"));
    }
    let recovery = crate::recovery::looks_like_one(code);
    let ok = if recovery {
        crate::recovery::spend(deps, realm, &acc.id, code).await?
    } else {
        check_code(deps, realm, &acc, code).await?
    };
    if !ok {
        audit(
            deps,
            staff_event("staff_totp_failed", realm, &acc.id, client),
        )
        .await;
        return Err(Error::Refused("code_wrong"));
    }
    if recovery {
        audit(
            deps,
            staff_event("staff_recovery_code_used", realm, &acc.id, client),
        )
        .await;
    }
    let tx = deps.store.staff(realm).await?;
    tx.db().reset_staff_failures(&acc.id).await?;
    tx.commit().await?;
    deps.sessions.end(&deps.store, &pending.token_hash).await?;
    audit(deps, staff_event("staff_sign_in", realm, &acc.id, client)).await;
    open(deps, realm, &acc, true, client).await
}

/// Links a staff account to the fiscal code of its holder (then an identity provider at level 2
/// or more opens the console too).
pub async fn link_fiscal_code(
    store: &sportello_store::Store,
    realm: Realm,
    staff_id: &str,
    fiscal_code: &str,
) -> Result<()> {
    let cf = sportello_domain::FiscalCode::parse(fiscal_code)
        .map_err(Error::parse("fiscal_code"))?
        .normalised();
    let tx = store.staff(realm).await?;
    if !tx.db().set_staff_fiscal_code(staff_id, cf.as_str()).await? {
        return Err(Error::invalid_at(
            "fiscal_code",
            Why::FiscalCodeTaken,
            cf.as_str(),
        ));
    }
    tx.commit().await?;
    Ok(())
}

/// Staff sign-in through an identity provider: a citizen of this commune signed in at level 2 or
/// more (SPID L2/L3, CIE: already two factors) whose fiscal code is linked to a staff account
/// gets a staff session with the second factor counted. Returns the session token.
pub async fn sign_in_with_idp(
    deps: &Deps,
    realm: Realm,
    citizen: &sportello_kernel::session::Current,
    client: &Client,
) -> Result<String> {
    if citizen.level < AssuranceLevel::Substantial {
        return Err(Error::Refused("staff_idp_level"));
    }
    let cf = citizen
        .person
        .as_ref()
        .and_then(|p| p.fiscal_code.clone())
        .ok_or(Error::Refused("staff_not_found_for_identity"))?;
    let tx = deps.store.staff(realm).await?;
    let acc = tx.db().staff_by_fiscal_code(&cf).await?;
    tx.commit().await?;
    let acc = acc.ok_or(Error::Refused("staff_not_found_for_identity"))?;
    let mut event = staff_event("staff_sign_in", realm, &acc.id, client);
    event.idp = Some(citizen.idp.clone());
    event.level = Some(citizen.level.key().into());
    audit(deps, event).await;
    Ok(deps
        .sessions
        .create(
            &deps.store,
            NewSession {
                kind: Kind::Staff,
                sso_hash: None,
                commune: realm.commune(),
                person_id: None,
                staff_id: Some(&acc.id),
                level: citizen.level,
                idp: &citizen.idp,
                mfa: true,
                user_agent: client.user_agent.clone(),
                not_after: Some(citizen.expires_at),
            },
        )
        .await?)
}
