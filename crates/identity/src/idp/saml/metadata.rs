//! The service provider's key and certificate (loaded, or generated for development with the
//! SPID extensions), and the identity providers' metadata (fetched, parsed, refused without a
//! signing certificate).

use base64::Engine as _;
use openssl::asn1::{Asn1Integer, Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use openssl::x509::{X509, X509Extension, X509NameBuilder};
use samael::metadata::{EntityDescriptor, EntityDescriptorType};

use super::*;

/// The SP key, its DER encoding and the certificate's DER encoding.
pub(super) type SpKeys = (PKey<Private>, Vec<u8>, Vec<u8>);

pub(super) fn load_sp_key(sp: &SpConfig) -> Result<SpKeys, String> {
    let key = PKey::private_key_from_pem(sp.key_pem.as_bytes())
        .map_err(|e| format!("SAML SP key: not a PEM private key ({e})"))?;
    let cert = X509::from_pem(sp.cert_pem.as_bytes())
        .map_err(|e| format!("SAML SP certificate: not a PEM certificate ({e})"))?;
    let public = cert
        .public_key()
        .map_err(|e| format!("SAML SP certificate: no public key ({e})"))?;
    if !key.public_eq(&public) {
        return Err("SAML SP key and certificate do not match".to_owned());
    }
    if key.rsa().is_err() {
        return Err("SAML SP key: an RSA key is required".to_owned());
    }
    let key_der = key
        .private_key_to_der()
        .map_err(|e| format!("SAML SP key: {e}"))?;
    let cert_der = cert
        .to_der()
        .map_err(|e| format!("SAML SP certificate: {e}"))?;
    Ok((key, key_der, cert_der))
}

pub(super) async fn fetch_metadata(
    source: &str,
    roots: &[reqwest::Certificate],
) -> Result<String, String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let client = crate::idp::trusting(
            reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)),
            roots,
        )
        .build()
        .map_err(|e| format!("IdP metadata {source}: {e}"))?;
        let resp = client
            .get(source)
            .send()
            .await
            .map_err(|e| format!("IdP metadata {source}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("IdP metadata {source}: HTTP {}", resp.status()));
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("IdP metadata {source}: {e}"))?;
        if body.len() > MAX_METADATA {
            return Err(format!("IdP metadata {source}: too large"));
        }
        String::from_utf8(body.to_vec()).map_err(|_| format!("IdP metadata {source}: not UTF-8"))
    } else {
        let path = source.strip_prefix("file://").unwrap_or(source);
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| format!("IdP metadata {source}: {e}"))?;
        if text.len() > MAX_METADATA {
            return Err(format!("IdP metadata {source}: too large"));
        }
        Ok(text)
    }
}

/// The IdPs described by one metadata document.
pub(super) fn parse_idp_metadata(xml: &str, source: &str) -> Result<Vec<IdpInfo>, String> {
    let lower = xml.to_ascii_lowercase();
    if lower.contains("<!doctype") || lower.contains("<!entity") {
        return Err(format!("IdP metadata {source}: DOCTYPE is not allowed"));
    }
    let doc: EntityDescriptorType = xml
        .parse()
        .map_err(|e| format!("IdP metadata {source}: cannot parse ({e})"))?;
    let mut out = Vec::new();
    for ed in doc.iter() {
        if ed.idp_sso_descriptors.as_ref().is_none_or(Vec::is_empty) {
            continue;
        }
        out.push(idp_info(ed, source)?);
    }
    if out.is_empty() {
        return Err(format!("IdP metadata {source}: no IDPSSODescriptor"));
    }
    Ok(out)
}

pub(super) fn idp_info(ed: &EntityDescriptor, source: &str) -> Result<IdpInfo, String> {
    let entity_id = ed
        .entity_id
        .clone()
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| format!("IdP metadata {source}: entityID missing"))?;
    let descriptors = ed.idp_sso_descriptors.as_deref().unwrap_or_default();
    let mut signing: Vec<&samael::metadata::KeyDescriptor> = descriptors
        .iter()
        .flat_map(|d| &d.key_descriptors)
        .filter(|k| k.key_use.as_deref() == Some("signing"))
        .collect();
    if signing.is_empty() {
        // Same fallback as samael: keys without `use` serve both purposes.
        signing = descriptors
            .iter()
            .flat_map(|d| &d.key_descriptors)
            .filter(|k| k.key_use.as_deref().is_none_or(str::is_empty))
            .collect();
    }
    let mut signing_certs = Vec::new();
    for k in signing {
        for c in k.key_info.x509_data.iter().flat_map(|x| &x.certificates) {
            let compact: String = c.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            if compact.is_empty() {
                continue;
            }
            let der = base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|_| {
                    format!("IdP metadata {source} ({entity_id}): bad certificate base64")
                })?;
            let bad =
                |e| format!("IdP metadata {source} ({entity_id}): bad signing certificate ({e})");
            let x509 = X509::from_der(&der).map_err(bad)?;
            let not_before = asn1_to_utc(x509.not_before()).map_err(bad)?;
            let not_after = asn1_to_utc(x509.not_after()).map_err(bad)?;
            let sha256 = openssl::hash::hash(MessageDigest::sha256(), &der)
                .map_err(bad)?
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            signing_certs.push(SigningCert {
                der,
                not_before,
                not_after,
                sha256,
            });
        }
    }
    if signing_certs.is_empty() {
        return Err(format!(
            "IdP metadata {source} ({entity_id}): no signing certificate in the IDPSSODescriptor"
        ));
    }
    let sso = |binding: &str| {
        descriptors
            .iter()
            .flat_map(|d| &d.single_sign_on_services)
            .find(|s| s.binding == binding)
            .map(|s| s.location.clone())
    };
    let sso_redirect = sso(HTTP_REDIRECT);
    let sso_post = sso(HTTP_POST);
    let slo_redirect = descriptors
        .iter()
        .flat_map(|d| &d.single_logout_services)
        .find(|s| s.binding == HTTP_REDIRECT)
        .map(|s| s.location.clone());
    if sso_redirect.is_none() && sso_post.is_none() {
        return Err(format!(
            "IdP metadata {source} ({entity_id}): no HTTP-Redirect or HTTP-POST SingleSignOnService"
        ));
    }
    let name = ed
        .organization
        .as_ref()
        .and_then(|o| o.organization_display_names.as_ref())
        .and_then(|names| {
            names
                .iter()
                .find(|n| n.lang.as_deref() == Some("it"))
                .or_else(|| names.first())
        })
        .map(|n| n.value.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| entity_id.clone());
    Ok(IdpInfo {
        entity_id,
        name,
        sso_redirect,
        sso_post,
        slo_redirect,
        signing_certs,
        source: source.to_owned(),
        accept_expired: false,
    })
}

/// An ASN.1 time as UTC.
fn asn1_to_utc(
    t: &openssl::asn1::Asn1TimeRef,
) -> Result<DateTime<Utc>, openssl::error::ErrorStack> {
    let diff = Asn1Time::from_unix(0)?.diff(t)?;
    let secs = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    Ok(DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MIN_UTC))
}

/// certificatePolicies: 1.3.76.16.6 ("agIDcert") and 1.3.76.16.4.2.1 ("cert_SP_Pub"), each
/// with a userNotice explicitText, DER-encoded as `openssl req` does with spid-cert.cnf.
pub(super) fn spid_policies_der() -> Vec<u8> {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        // Every piece here is shorter than 128 bytes: short-form length.
        let mut v = vec![tag, content.len() as u8];
        v.extend_from_slice(content);
        v
    }
    const USER_NOTICE: [u8; 8] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x02, 0x02];
    let policy = |oid: &[u8], text: &str| {
        let notice = tlv(0x30, &tlv(0x1a, text.as_bytes()));
        let qualifier = tlv(0x30, &[tlv(0x06, &USER_NOTICE), notice].concat());
        let qualifiers = tlv(0x30, &qualifier);
        tlv(0x30, &[tlv(0x06, oid), qualifiers].concat())
    };
    let agid = policy(&[0x2b, 0x4c, 0x10, 0x06], "agIDcert");
    let spid = policy(&[0x2b, 0x4c, 0x10, 0x04, 0x02, 0x01], "cert_SP_Pub");
    tlv(0x30, &[agid, spid].concat())
}

pub(super) fn generate_keypair(
    entity_id: &str,
    org_name: &str,
    ipa_code: &str,
) -> Result<(String, String), openssl::error::ErrorStack> {
    let rsa = Rsa::generate(3072)?;
    let key = PKey::from_rsa(rsa)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("O", org_name)?;
    name.append_entry_by_text("CN", org_name)?;
    name.append_entry_by_text("2.5.4.83", entity_id)?;
    name.append_entry_by_text("2.5.4.97", &format!("PA:IT-{ipa_code}"))?;
    name.append_entry_by_text("C", "IT")?;
    name.append_entry_by_text("L", org_name)?;
    let name = name.build();

    let mut builder = X509::builder()?;
    builder.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(159, MsbOption::MAYBE_ZERO, false)?;
    let serial: Asn1Integer = serial.to_asn1_integer()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_pubkey(&key)?;
    builder.set_not_before(Asn1Time::days_from_now(0)?.as_ref())?;
    builder.set_not_after(Asn1Time::days_from_now(730)?.as_ref())?;
    builder.append_extension(BasicConstraints::new().build()?)?;
    builder.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .non_repudiation()
            .build()?,
    )?;
    let policies = Asn1OctetString::new_from_bytes(&spid_policies_der())?;
    let oid = Asn1Object::from_str("2.5.29.32")?;
    builder.append_extension(X509Extension::new_from_der(&oid, false, &policies)?)?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
    builder.append_extension(ski)?;
    builder.sign(&key, MessageDigest::sha256())?;
    let cert = builder.build();

    let key_pem = String::from_utf8_lossy(&key.private_key_to_pem_pkcs8()?).into_owned();
    let cert_pem = String::from_utf8_lossy(&cert.to_pem()?).into_owned();
    Ok((key_pem, cert_pem))
}
