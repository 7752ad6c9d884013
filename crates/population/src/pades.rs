//! The PAdES signature of a certificate's PDF (`ETSI.CAdES.detached`, the CMS with the ESS
//! signing-certificate-v2 attribute; OpenSSL also adds a signing-time attribute, which PAdES
//! baseline B would rather see only in the dictionary's `/M`, so this is not claimed baseline B), made with the commune's signing key — the same
//! P-256 key as the stamp's — and an X.509 certificate the deployment's CA issues for that key
//! (`certificate_ca_cert` / `certificate_ca_key`; in production a qualified provider's CA). The
//! key's certificate is issued once and kept beside the key; a certificate issued by another CA
//! (the CA changed) is issued again. Without a CA configured, certificates carry the stamp only.

use chrono::{DateTime, Utc};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::hash::MessageDigest;
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::pkey::{PKey, PKeyRef, Private, Public};
use openssl::stack::Stack;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509, X509Builder, X509NameBuilder};
use sportello_kernel::{Deps, Error, Result};
use sportello_store::TenantDb;

/// OpenSSL 3's `CMS_CADES`: the signer's certificate bound into the signed attributes (ESS
/// signing-certificate-v2), as CAdES asks. Not among the `openssl` crate's named options.
const CMS_CADES: u32 = 0x0010_0000;
/// A key signs for `keys::ROTATE_DAYS` and its certificates last six months after: its X.509
/// certificate covers both, with room.
const CERTIFICATE_DAYS: u32 = 300;

struct Ca {
    cert: X509,
    key: PKey<Private>,
}

fn internal(what: &str) -> impl Fn(openssl::error::ErrorStack) -> Error + '_ {
    move |e| Error::Internal(format!("{what}: {e}"))
}

fn ca(deps: &Deps) -> Result<Option<Ca>> {
    load_ca(&deps.settings).map_err(Error::Internal)
}

fn load_ca(s: &sportello_kernel::Settings) -> std::result::Result<Option<Ca>, String> {
    if s.certificate_ca_cert.is_empty() && s.certificate_ca_key.is_empty() {
        return Ok(None);
    }
    if s.certificate_ca_cert.is_empty() || s.certificate_ca_key.is_empty() {
        return Err("certificate_ca_cert and certificate_ca_key go together".into());
    }
    let read =
        |path: &str, what: &str| std::fs::read(path).map_err(|e| format!("{what} {path}: {e}"));
    let cert = X509::from_pem(&read(&s.certificate_ca_cert, "certificate_ca_cert")?)
        .map_err(|e| format!("certificate_ca_cert: {e}"))?;
    let key = PKey::private_key_from_pem(&read(&s.certificate_ca_key, "certificate_ca_key")?)
        .map_err(|e| format!("certificate_ca_key: {e}"))?;
    Ok(Some(Ca { cert, key }))
}

/// At start-up: the CA configured is usable — both files read, the key the certificate's, the
/// certificate in force (a mistake here stops the server, not every certificate later).
pub fn check_ca(s: &sportello_kernel::Settings) -> std::result::Result<(), String> {
    let Some(ca) = load_ca(s)? else {
        return Ok(());
    };
    let public = ca
        .cert
        .public_key()
        .map_err(|e| format!("certificate_ca_cert: {e}"))?;
    if !public.public_eq(&ca.key) {
        return Err("certificate_ca_key is not the key of certificate_ca_cert".into());
    }
    let now = Asn1Time::days_from_now(0).map_err(|e| e.to_string())?;
    if ca.cert.not_after() < now || ca.cert.not_before() > now {
        return Err("certificate_ca_cert is not in force".into());
    }
    Ok(())
}

/// Who signs: the key's certificate and the CA's (sent along in the CMS).
pub(crate) struct Signer {
    cert: X509,
    ca: X509,
}

fn issue(
    ca: &Ca,
    key: &PKey<Private>,
    commune: &str,
) -> std::result::Result<X509, openssl::error::ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("C", "IT")?;
    name.append_entry_by_text("O", commune)?;
    name.append_entry_by_text("CN", commune)?;
    let name = name.build();
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(ca.cert.subject_name())?;
    b.set_pubkey(key)?;
    // A day back: a reader whose clock is a little behind still finds it valid.
    let now = chrono::Utc::now().timestamp();
    let (from, to) = (
        Asn1Time::from_unix(now - 86_400)?,
        Asn1Time::days_from_now(CERTIFICATE_DAYS)?,
    );
    b.set_not_before(&from)?;
    b.set_not_after(&to)?;
    b.append_extension(BasicConstraints::new().critical().build()?)?;
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .non_repudiation()
            .build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(Some(&ca.cert), None))?;
    b.append_extension(ski)?;
    // Its issuer's key named when the CA names its own (every real CA does).
    if ca.cert.subject_key_id().is_some() {
        let aki = AuthorityKeyIdentifier::new()
            .keyid(false)
            .build(&b.x509v3_context(Some(&ca.cert), None))?;
        b.append_extension(aki)?;
    }
    b.sign(&ca.key, MessageDigest::sha256())?;
    Ok(b.build())
}

/// The signer for the key `kid`, or `None` without a CA.
pub(crate) async fn signer(
    deps: &Deps,
    db: &TenantDb<'_>,
    kid: &str,
    key: &PKey<Private>,
    commune: &str,
) -> Result<Option<Signer>> {
    let Some(ca) = ca(deps)? else {
        return Ok(None);
    };
    let ca_key = ca.cert.public_key().map_err(internal("ca"))?;
    if let Some(pem) = db.signing_key_certificate(kid).await?
        && let Ok(cert) = X509::from_pem(pem.as_bytes())
        && cert.verify(&ca_key).unwrap_or(false)
    {
        return Ok(Some(Signer { cert, ca: ca.cert }));
    }
    let cert = issue(&ca, key, &format!("Comune di {commune}")).map_err(internal("issue"))?;
    let pem = cert.to_pem().map_err(internal("pem"))?;
    db.set_signing_key_certificate(kid, &String::from_utf8_lossy(&pem))
        .await?;
    Ok(Some(Signer { cert, ca: ca.cert }))
}

/// Whether a signed file's CMS signs the bytes it covers with `key` (the stamp's): the
/// signature checked, not the certificate's chain (the stamp's key is what Sportello trusts).
pub(crate) fn signed_by(
    sig: &sportello_kernel::pdf_signature::Signature,
    key: &PKeyRef<Public>,
) -> bool {
    // The CMS without the zeros that pad the room kept for it.
    let der = &sig.cms;
    let len = match (der.first(), der.get(1)) {
        (Some(0x30), Some(&l)) if l < 0x80 => 2 + usize::from(l),
        (Some(0x30), Some(&l)) if (0x81..=0x84).contains(&l) => {
            let n = usize::from(l - 0x80);
            let Some(bytes) = der.get(2..2 + n) else {
                return false;
            };
            2 + n + bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b))
        }
        _ => return false,
    };
    let Some(der) = der.get(..len) else {
        return false;
    };
    let check = || -> std::result::Result<bool, openssl::error::ErrorStack> {
        let p7 = Pkcs7::from_der(der)?;
        let none = Stack::new()?;
        let signers = p7.signers(&none, Pkcs7Flags::empty())?;
        if signers.len() != 1 || !signers[0].public_key()?.public_eq(key) {
            return Ok(false);
        }
        let store = X509StoreBuilder::new()?.build();
        p7.verify(
            &none,
            &store,
            Some(&sig.covered),
            None,
            Pkcs7Flags::NOVERIFY | Pkcs7Flags::BINARY,
        )?;
        Ok(true)
    };
    check().unwrap_or(false)
}

/// `pdf` with its PAdES signature; `None` if the signature could not be made.
pub(crate) fn sign(
    s: &Signer,
    key: &PKey<Private>,
    pdf: &[u8],
    now: DateTime<Utc>,
) -> Option<Vec<u8>> {
    let m = format!("D:{}Z", now.format("%Y%m%d%H%M%S"));
    let mut chain = Stack::new().ok()?;
    chain.push(s.ca.clone()).ok()?;
    sportello_kernel::pdf_signature::sign(pdf, &m, |covered| {
        let flags =
            CMSOptions::DETACHED | CMSOptions::BINARY | CMSOptions::from_bits_retain(CMS_CADES);
        CmsContentInfo::sign(Some(&s.cert), Some(key), Some(&chain), Some(covered), flags)
            .ok()?
            .to_der()
            .ok()
    })
}
