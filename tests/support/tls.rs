//! A throw-away certificate authority and a server certificate it signs for `127.0.0.1`: for a
//! counterpart served over TLS by a private CA.

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509, X509NameBuilder};

/// PEM files in a temporary directory: `ca.pem`, `server.pem`, `server.key`.
pub struct TestCa {
    pub dir: tempfile::TempDir,
    pub ca_pem: Vec<u8>,
}

impl TestCa {
    pub fn path(&self, file: &str) -> String {
        self.dir
            .path()
            .join(file)
            .to_str()
            .expect("path")
            .to_owned()
    }
}

fn key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).expect("rsa")).expect("key")
}

fn cert(cn: &str, key: &PKey<Private>, issuer: Option<(&X509, &PKey<Private>)>, ca: bool) -> X509 {
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", cn).expect("cn");
    let name = name.build();
    let mut b = X509::builder().expect("builder");
    b.set_version(2).expect("version");
    let mut serial = BigNum::new().expect("bn");
    serial.rand(64, MsbOption::MAYBE_ZERO, false).expect("rand");
    b.set_serial_number(&serial.to_asn1_integer().expect("serial"))
        .expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_issuer_name(issuer.map_or(&name, |(c, _)| c.subject_name()))
        .expect("issuer");
    b.set_pubkey(key).expect("pubkey");
    b.set_not_before(&Asn1Time::days_from_now(0).expect("t"))
        .expect("nb");
    b.set_not_after(&Asn1Time::days_from_now(2).expect("t"))
        .expect("na");
    if ca {
        b.append_extension(BasicConstraints::new().critical().ca().build().expect("bc"))
            .expect("bc");
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .expect("ku"),
        )
        .expect("ku");
    } else {
        let ctx = b.x509v3_context(issuer.map(|(c, _)| c.as_ref()), None);
        let san = SubjectAlternativeName::new()
            .ip("127.0.0.1")
            .build(&ctx)
            .expect("san");
        b.append_extension(san).expect("san");
    }
    b.sign(issuer.map_or(key, |(_, k)| k), MessageDigest::sha256())
        .expect("sign");
    b.build()
}

/// A new CA and a server certificate for 127.0.0.1 signed by it.
pub fn test_ca() -> TestCa {
    let dir = tempfile::tempdir().expect("dir");
    let ca_key = key();
    let ca = cert("Sportello test CA", &ca_key, None, true);
    let server_key = key();
    let server = cert("127.0.0.1", &server_key, Some((&ca, &ca_key)), false);
    let ca_pem = ca.to_pem().expect("pem");
    let write = |f: &str, b: &[u8]| std::fs::write(dir.path().join(f), b).expect("write");
    write("ca.pem", &ca_pem);
    write("server.pem", &server.to_pem().expect("pem"));
    write(
        "server.key",
        &server_key.private_key_to_pem_pkcs8().expect("pem"),
    );
    TestCa { dir, ca_pem }
}
