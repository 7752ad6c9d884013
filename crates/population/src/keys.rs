//! The commune's certificate signing keys: P-256, made when first needed and rotated every
//! [`ROTATE_DAYS`] (the next certificate after that makes a new one); a retired key stays
//! published so that certificates it signed still verify. The private key is kept sealed with
//! the server's secret; the public keys are published at [`WELL_KNOWN`] on the commune's host.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sportello_authz::Action;
use sportello_domain::TenantId;
use sportello_kernel::{Actor, Deps, Error, Result};
use sportello_store::TenantDb;
use sportello_store::population::SigningKey;

/// Where a commune's host publishes its public keys.
pub const WELL_KNOWN: &str = "/.well-known/timbro-digitale.json";
/// A key signs for this many days, then the next certificate makes a new one.
pub const ROTATE_DAYS: i64 = 90;
pub const ALGORITHM: &str = "ES256";

/// A commune's public keys, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub commune: i64,
    pub name: String,
    pub host: String,
    pub keys: Vec<PublicKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    pub kid: String,
    pub alg: String,
    /// SubjectPublicKeyInfo, DER, base64.
    pub spki: String,
    /// `YYYY-MM-DD`.
    pub created: String,
    pub retired: Option<String>,
}

impl PublicKey {
    pub fn key(&self) -> Option<PKey<Public>> {
        let der = STANDARD.decode(&self.spki).ok()?;
        PKey::public_key_from_der(&der).ok()
    }
}

fn day(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.date_naive().to_string())
        .unwrap_or_default()
}

/// Makes and stores a new key (the others retire).
async fn make(deps: &Deps, db: &TenantDb<'_>, now: i64) -> Result<(String, PKey<Private>)> {
    let fail = |e: openssl::error::ErrorStack| Error::Internal(format!("signing key: {e}"));
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(fail)?;
    let key = PKey::from_ec_key(EcKey::generate(&group).map_err(fail)?).map_err(fail)?;
    let spki = key.public_key_to_der().map_err(fail)?;
    let kid: String = data_encoding::HEXLOWER.encode(&Sha256::digest(&spki)[..8]);
    let private = key.private_key_to_pkcs8().map_err(fail)?;
    let sealed = deps.secrets.seal(&private).map_err(Error::Internal)?;
    db.add_signing_key(&SigningKey {
        kid: kid.clone(),
        algorithm: ALGORITHM.into(),
        public_key: STANDARD.encode(spki),
        sealed_private: sealed,
        created_at: now,
        retired_at: None,
    })
    .await?;
    Ok((kid, key))
}

/// The key to sign with now (made or rotated here when due), in the caller's transaction.
pub(crate) async fn signing(deps: &Deps, db: &TenantDb<'_>) -> Result<(String, PKey<Private>)> {
    let now = sportello_store::now_micros();
    let keys = db.signing_keys().await?;
    let live = keys
        .iter()
        .find(|k| k.retired_at.is_none() && now - k.created_at < ROTATE_DAYS * 86_400_000_000);
    match live {
        Some(k) => {
            let der = deps
                .secrets
                .open(&k.sealed_private)
                .map_err(Error::Internal)?;
            let key = PKey::private_key_from_pkcs8(&der)
                .map_err(|e| Error::Internal(format!("signing key {}: {e}", k.kid)))?;
            Ok((k.kid.clone(), key))
        }
        None => make(deps, db, now).await,
    }
}

/// An administrator retires the commune's key now: the next certificate is signed by a new one.
pub async fn rotate(deps: &Deps, actor: &Actor) -> Result<String> {
    crate::require(deps, actor, Action::Update).await?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    let (kid, _) = make(deps, &db, sportello_store::now_micros()).await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "signing_key_rotated",
        "records",
        serde_json::json!({"kid": kid}),
    )
    .await?;
    tx.commit().await?;
    Ok(kid)
}

/// The commune's public keys (none until its first certificate).
pub async fn published(deps: &Deps, commune: TenantId) -> Result<Published> {
    let c = deps.tenancy.by_id(commune).ok_or(Error::NotFound)?;
    let tx = deps.store.tenant_read(commune).await?;
    let keys = tx.db().signing_keys().await?;
    tx.commit().await?;
    Ok(Published {
        commune: commune.0,
        name: c.record.name.clone(),
        host: c.record.primary_host.clone(),
        keys: keys
            .into_iter()
            .map(|k| PublicKey {
                kid: k.kid,
                alg: k.algorithm,
                spki: k.public_key,
                created: day(k.created_at),
                retired: k.retired_at.map(day),
            })
            .collect(),
    })
}
