//! Staff API tokens: a commune staff member makes one in the console (shown once, kept only as
//! its SHA-256), and programs call the API with it in `Authorization: Bearer`. A token acts as
//! its staff member, with exactly their roles; one per person at a time (a new one replaces
//! the old), for 90 days; deleting the account deletes it.

use sportello_domain::TenantId;
use sportello_kernel::{Actor, Error, Result, audit, tokens};
use sportello_store::now_micros;
use sportello_store::staff::{Realm, StaffAccount};

const PURPOSE: &str = "api";
/// How long a token works.
pub const API_TOKEN_DAYS: i64 = 90;
/// Every token starts so (a scanner of leaked secrets can recognise it).
pub const PREFIX: &str = "spt_";

/// Makes the actor's API token (replacing any older one), recorded in the commune's audit log;
/// gives it and its expiry.
pub async fn create(store: &sportello_store::Store, actor: &Actor) -> Result<(String, i64)> {
    let commune = actor.commune()?;
    let token = format!("{PREFIX}{}", tokens::new_token());
    let expires = now_micros() + API_TOKEN_DAYS * 86_400 * 1_000_000;
    let tx = store.staff(Realm::Commune(commune)).await?;
    let db = tx.db();
    if db.staff_by_id(&actor.staff_id).await?.is_none() {
        return Err(Error::NotFound);
    }
    db.create_staff_token(&tokens::hash(&token), &actor.staff_id, PURPOSE, expires)
        .await?;
    if let Some(tdb) = tx.tenant_db() {
        audit::record(
            &tdb,
            actor,
            "api_token_created",
            &format!("staff:{}", actor.staff_id),
            serde_json::json!({ "expires_at": expires }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok((token, expires))
}

/// Ends the actor's API token, if any (recorded in the audit log).
pub async fn revoke(store: &sportello_store::Store, actor: &Actor) -> Result<()> {
    let tx = store.staff(Realm::Commune(actor.commune()?)).await?;
    // An expired token in its place: nothing matches it any more.
    tx.db()
        .create_staff_token(
            &tokens::hash(&tokens::new_token()),
            &actor.staff_id,
            PURPOSE,
            0,
        )
        .await?;
    if let Some(tdb) = tx.tenant_db() {
        audit::record(
            &tdb,
            actor,
            "api_token_revoked",
            &format!("staff:{}", actor.staff_id),
            serde_json::json!({}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The staff account a bearer token acts for in `commune` (none: unknown, expired, or another
/// commune's).
pub async fn account(
    store: &sportello_store::Store,
    commune: TenantId,
    token: &str,
) -> Result<Option<StaffAccount>> {
    if !token.starts_with(PREFIX) || token.len() > 100 {
        return Ok(None);
    }
    let tx = store.staff_read(Realm::Commune(commune)).await?;
    let db = tx.db();
    let Some(id) = db
        .staff_token(&tokens::hash(token), PURPOSE, now_micros())
        .await?
    else {
        tx.commit().await?;
        return Ok(None);
    };
    let a = db.staff_by_id(&id).await?;
    tx.commit().await?;
    Ok(a)
}
