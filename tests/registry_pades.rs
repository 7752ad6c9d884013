//! The PAdES signature of a certificate's PDF, checked by a real reader: Debian's `pdfsig`
//! (poppler), trusting only a test CA (an NSS database made with `certutil`). The stamp still
//! verifies on the signed file; a changed byte breaks the signature for `pdfsig` and the stamp
//! for Sportello's verifier; without a CA configured there is no signature.

use std::path::Path;
use std::process::Command;

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, KeyUsage};
use openssl::x509::{X509, X509Builder, X509NameBuilder};
use sportello_domain::AssuranceLevel;
use sportello_population::{certificates, verify};

use crate::cases::{PISA, World, citizen, world, world_with};
use crate::registry::{keys_of, pisa_registry, req, today};

/// A self-signed test CA, written as PEM files in `dir`.
fn test_ca(dir: &Path) -> (X509, PKey<Private>) {
    let key = PKey::from_ec_key(
        EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap(),
    )
    .unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "Sportello Test CA")
        .unwrap();
    let name = name.build();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(3650).unwrap())
        .unwrap();
    b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
        .unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()
            .unwrap(),
    )
    .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    let cert = b.build();
    std::fs::write(dir.join("ca.pem"), cert.to_pem().unwrap()).unwrap();
    std::fs::write(dir.join("ca.key"), key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    (cert, key)
}

/// What `pdfsig` says of `pdf`, trusting the CA in `dir/ca.pem` only.
fn pdfsig(dir: &Path, pdf: &[u8]) -> String {
    let nss = dir.join("nss");
    if !nss.exists() {
        std::fs::create_dir_all(&nss).unwrap();
        let db = format!("sql:{}", nss.display());
        let run = |args: &[&str]| {
            let out = Command::new("certutil")
                .args(args)
                .output()
                .expect("certutil (Debian libnss3-tools: bash infra/system-deps.sh test)");
            assert!(out.status.success(), "certutil {args:?}: {out:?}");
        };
        run(&["-N", "-d", &db, "--empty-password"]);
        let ca = dir.join("ca.pem").display().to_string();
        run(&["-A", "-n", "test-ca", "-t", "CT,C,C", "-i", &ca, "-d", &db]);
    }
    let file = dir.join("certificate.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdfsig")
        .arg("-nssdir")
        .arg(format!("sql:{}", nss.display()))
        .arg(&file)
        .output()
        .expect("pdfsig (Debian poppler-utils)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn residence_certificate(w: &World) -> Vec<u8> {
    pisa_registry(w).await;
    let giulia = citizen(w, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    certificates::for_citizen(&w.deps, PISA, &giulia, &req("residence"))
        .await
        .unwrap()
        .pdf
}

#[tokio::test]
async fn a_certificate_carries_a_pades_signature_pdfsig_trusts_by_the_test_ca() {
    let dir = tempfile::tempdir().unwrap();
    test_ca(dir.path());
    let (cert, key) = (dir.path().join("ca.pem"), dir.path().join("ca.key"));
    let w = world_with(move |s| {
        s.certificate_ca_cert = cert.display().to_string();
        s.certificate_ca_key = key.display().to_string();
    })
    .await;
    let pdf = residence_certificate(&w).await;
    let said = pdfsig(dir.path(), &pdf);
    for wanted in [
        "Signer Certificate Common Name: Comune di Pisa",
        "Signature Type: ETSI.CAdES.detached",
        "Total document signed",
        "Signature Validation: Signature is Valid.",
        "Certificate Validation: Certificate is Trusted.",
    ] {
        assert!(said.contains(wanted), "{wanted:?} not in: {said}");
    }
    // The stamp verifies on the signed file as on any.
    let keys = keys_of(&w, PISA).await;
    assert!(verify::check_pdf(&pdf, &keys, today()).is_ok());
    // The key's certificate is issued once: the next certificate is signed by the same.
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let kid = tx.db().signing_keys().await.unwrap()[0].kid.clone();
    let first = tx
        .db()
        .signing_key_certificate(&kid)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    let giulia = citizen(&w, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    let again = certificates::for_citizen(&w.deps, PISA, &giulia, &req("citizenship"))
        .await
        .unwrap();
    assert!(pdfsig(dir.path(), &again.pdf).contains("Signature is Valid."));
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    assert_eq!(
        tx.db()
            .signing_key_certificate(&kid)
            .await
            .unwrap()
            .unwrap(),
        first
    );
    tx.commit().await.unwrap();

    // One letter changed where the stamp's text is (same length): pdfsig finds the signature
    // broken, and Sportello's verifier the stamp.
    let at = pdf.windows(9).position(|w| w == b"LUNGARNO ").unwrap();
    let mut changed = pdf.clone();
    changed[at] = b'M';
    let said = pdfsig(dir.path(), &changed);
    assert!(!said.contains("Signature is Valid."), "{said}");
    assert!(verify::check_pdf(&changed, &keys, today()).is_err());
}

#[tokio::test]
async fn without_a_ca_a_certificate_has_the_stamp_only() {
    let w = world().await;
    let pdf = residence_certificate(&w).await;
    assert!(sportello_kernel::pdf_signature::original(&pdf).is_none());
    assert!(!pdf.windows(9).any(|w| w == b"/ByteRang"));
    let keys = keys_of(&w, PISA).await;
    assert!(verify::check_pdf(&pdf, &keys, today()).is_ok());
}

#[tokio::test]
async fn a_file_signed_again_by_anyone_else_is_refused_and_a_wrong_ca_stops_the_start() {
    use openssl::cms::{CMSOptions, CmsContentInfo};
    let dir = tempfile::tempdir().unwrap();
    let (ca_cert, _) = test_ca(dir.path());
    let (cert, key) = (dir.path().join("ca.pem"), dir.path().join("ca.key"));
    let (c2, k2) = (cert.clone(), key.clone());
    let w = world_with(move |s| {
        s.certificate_ca_cert = c2.display().to_string();
        s.certificate_ca_key = k2.display().to_string();
    })
    .await;
    let pdf = residence_certificate(&w).await;
    let keys = keys_of(&w, PISA).await;
    assert!(verify::check_pdf(&pdf, &keys, today()).is_ok());
    // The stamped file inside, signed by another key (its own certificate, the same CA's name).
    let (inside, _) = sportello_kernel::pdf_signature::original(&pdf).unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let (other_cert, other_key) = test_ca(dir2.path());
    let forged = sportello_kernel::pdf_signature::sign(inside, "D:20261207100000Z", |covered| {
        CmsContentInfo::sign(
            Some(&other_cert),
            Some(&other_key),
            None,
            Some(covered),
            CMSOptions::DETACHED | CMSOptions::BINARY,
        )
        .ok()?
        .to_der()
        .ok()
    })
    .unwrap();
    assert_eq!(
        verify::check_pdf(&forged, &keys, today()).unwrap_err(),
        sportello_population::stamp::Refusal::Altered
    );
    // A CA whose key is not its certificate's: the server does not start.
    let mut s = sportello_kernel::Settings {
        certificate_ca_cert: cert.display().to_string(),
        certificate_ca_key: dir2.path().join("ca.key").display().to_string(),
        ..Default::default()
    };
    assert!(sportello_population::pades::check_ca(&s).is_err());
    s.certificate_ca_key = key.display().to_string();
    assert!(sportello_population::pades::check_ca(&s).is_ok());
    s.certificate_ca_key = String::new();
    assert!(sportello_population::pades::check_ca(&s).is_err());
    let _ = ca_cert;
}
