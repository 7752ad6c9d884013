#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read as _;
use std::sync::OnceLock;

use super::*;
use chrono::Duration;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509Builder, X509NameBuilder};
use samael::crypto::UrlVerifier;
use samael::metadata::EntityDescriptor;

const SP_ENTITY: &str = "http://login.localhost:8080/saml/metadata";
const ACS: &str = "http://login.localhost:8080/saml/acs";
const IDP_ENTITY: &str = "https://idp.example.it";
const IDP_SSO: &str = "https://idp.example.it/samlsso";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An RSA key and a plain self-signed certificate (for the test IdP).
fn idp_keypair() -> (PKey<Private>, X509) {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "idp.example.it").unwrap();
    let name = name.build();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(Asn1Time::days_from_now(0).unwrap().as_ref())
        .unwrap();
    b.set_not_after(Asn1Time::days_from_now(30).unwrap().as_ref())
        .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    (key, b.build())
}

struct Fixture {
    saml: Saml,
    idp_key: PKey<Private>,
    other_key: PKey<Private>,
}

fn idp_metadata(cert: Option<&X509>) -> String {
    let key = cert.map_or(String::new(), |c| {
        format!(
            r#"<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#,
            b64(&c.to_der().unwrap())
        )
    });
    format!(
        r#"<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{IDP_ENTITY}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">
    {key}
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{IDP_SSO}"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{IDP_SSO}"/>
  </md:IDPSSODescriptor>
  <md:Organization>
    <md:OrganizationName xml:lang="it">IdP di prova</md:OrganizationName>
    <md:OrganizationDisplayName xml:lang="it">IdP di prova</md:OrganizationDisplayName>
    <md:OrganizationURL xml:lang="it">https://idp.example.it</md:OrganizationURL>
  </md:Organization>
</md:EntityDescriptor>"#
    )
}

fn write_temp(name: &str, text: &str) -> String {
    let path =
        std::env::temp_dir().join(format!("sportello-saml-test-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn sp_config() -> SpConfig {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    let (key_pem, cert_pem) = KEYS
        .get_or_init(|| Saml::generate_sp_keypair(SP_ENTITY, "Sportello", "c_x000").unwrap())
        .clone();
    SpConfig {
        entity_id: SP_ENTITY.into(),
        acs_url: ACS.into(),
        slo_url: "http://login.localhost:8080/saml/slo".into(),
        org_name: "Sportello".into(),
        org_url: "http://localhost:8080".into(),
        ipa_code: "c_x000".into(),
        contact_email: "protocollo@comune.esempio.it".into(),
        key_pem,
        cert_pem,
    }
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (idp_key, idp_cert) = idp_keypair();
        let (other_key, _) = idp_keypair();
        let path = write_temp("idp.xml", &idp_metadata(Some(&idp_cert)));
        let saml = block_on(Saml::load(&path, sp_config(), "", &[])).unwrap();
        Fixture {
            saml,
            idp_key,
            other_key,
        }
    })
}

const REQ_ID: &str = "_0123456789abcdef0123456789abcdef";

fn expected(issued_at: DateTime<Utc>, level: AssuranceLevel) -> Expected<'static> {
    Expected {
        request_id: REQ_ID,
        issued_at,
        level,
        idp_entity_id: IDP_ENTITY,
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The pieces of a test Response, all valid by default.
#[derive(Clone)]
struct R {
    instant: String,
    not_on_or_after: String,
    destination: String,
    audience: String,
    recipient: String,
    in_response_to: String,
    acr: String,
    name_id: String,
    digest: &'static str,
    method: &'static str,
    signed: bool,
    status: String,
    extra_assertion: bool,
}

fn good(now: DateTime<Utc>) -> R {
    R {
        instant: ts(now),
        not_on_or_after: ts(now + Duration::minutes(5)),
        destination: ACS.into(),
        audience: SP_ENTITY.into(),
        recipient: ACS.into(),
        in_response_to: REQ_ID.into(),
        acr: "https://www.spid.gov.it/SpidL2".into(),
        name_id: "\n  that-transient-opaque-value\n".into(),
        digest: "http://www.w3.org/2001/04/xmlenc#sha256",
        method: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        signed: true,
        status: r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#.into(),
        extra_assertion: false,
    }
}

fn assertion(r: &R, id: &str, with_sig: bool) -> String {
    let sig = if with_sig {
        format!(
            r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="{method}"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="{digest}"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo></ds:Signature>"##,
            method = r.method,
            digest = r.digest,
        )
    } else {
        String::new()
    };
    format!(
        r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{id}" Version="2.0" IssueInstant="{ii}"><saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{IDP_ENTITY}</saml:Issuer>{sig}<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient" NameQualifier="{IDP_ENTITY}">{nid}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="{irt}" NotOnOrAfter="{noa}" Recipient="{rcpt}"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{ii}" NotOnOrAfter="{noa}"><saml:AudienceRestriction><saml:Audience>{aud}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="{ii}"><saml:AuthnContext><saml:AuthnContextClassRef>{acr}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="fiscalNumber"><saml:AttributeValue xsi:type="xs:string">TINIT-RSSMRA80A01H501U</saml:AttributeValue></saml:Attribute><saml:Attribute Name="name"><saml:AttributeValue xsi:type="xs:string">Mario</saml:AttributeValue></saml:Attribute><saml:Attribute Name="familyName"><saml:AttributeValue xsi:type="xs:string">Rossi</saml:AttributeValue></saml:Attribute><saml:Attribute Name="email"><saml:AttributeValue xsi:type="xs:string">mario.rossi@example.it</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>"#,
        ii = r.instant,
        nid = r.name_id,
        irt = r.in_response_to,
        noa = r.not_on_or_after,
        rcpt = r.recipient,
        aud = r.audience,
        acr = r.acr,
    )
}

fn response_xml(r: &R) -> String {
    let extra = if r.extra_assertion {
        assertion(r, "_assertion2", false)
    } else {
        String::new()
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_response1" Version="2.0" IssueInstant="{ii}" Destination="{dest}" InResponseTo="{irt}"><saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{IDP_ENTITY}</saml:Issuer>{status}{a}{extra}</samlp:Response>"#,
        ii = r.instant,
        dest = r.destination,
        irt = r.in_response_to,
        status = r.status,
        a = assertion(r, "_assertion1", r.signed),
    )
}

fn sign(xml: &str, key: &PKey<Private>) -> String {
    Crypto::sign_xml(xml, &key.private_key_to_der().unwrap()).unwrap()
}

fn encode(xml: &str) -> String {
    b64(xml.as_bytes())
}

fn build(r: &R) -> String {
    let f = fixture();
    let xml = response_xml(r);
    if r.signed {
        sign(&xml, &f.idp_key)
    } else {
        xml
    }
}

fn check(xml: &str, level: AssuranceLevel, now: DateTime<Utc>) -> Result<Asserted, Rejected> {
    fixture()
        .saml
        .validate_at(&encode(xml), &expected(now, level), now)
}

fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Rejected>, what: &str) {
    match result {
        Err(Rejected::Invalid { reason }) => eprintln!("{what}: rejected ({reason})"),
        other => panic!("{what}: expected Invalid, got {other:?}"),
    }
}

#[test]
fn metadata_is_signed_and_parses() {
    let f = fixture();
    let md = f.saml.metadata_xml().unwrap();
    let parsed: EntityDescriptor = md.parse().unwrap();
    assert_eq!(parsed.entity_id.as_deref(), Some(SP_ENTITY));
    let sp = parsed.sp_sso_descriptors.as_ref().unwrap();
    assert_eq!(sp[0].assertion_consumer_services[0].location, ACS);
    let cert = CertificateDer::from(f.saml.cert_der.clone());
    Crypto::verify_signed_xml(&md, &cert, Some("ID")).unwrap();
    for needle in [
        r#"AuthnRequestsSigned="true""#,
        r#"WantAssertionsSigned="true""#,
        "<spid:Public/>",
        "<spid:IPACode>c_x000</spid:IPACode>",
        r#"index="0" isDefault="true""#,
        "SingleLogoutService",
        r#"Name="placeOfBirth""#,
        "xmlenc#sha256",
    ] {
        assert!(md.contains(needle), "{needle} missing in {md}");
    }
    // The signature is the first child of EntityDescriptor.
    let root = xml::parse(&md).unwrap();
    assert_eq!(root.children[0].name, "Signature");
    // Tampering breaks it.
    let tampered = md.replace(
        "Sportello</md:OrganizationName>",
        "Altro</md:OrganizationName>",
    );
    assert!(Crypto::verify_signed_xml(&tampered, &cert, Some("ID")).is_err());
}

#[test]
fn generated_certificate_follows_the_spid_profile() {
    let cfg = sp_config();
    let cert = X509::from_pem(cfg.cert_pem.as_bytes()).unwrap();
    let text = String::from_utf8(cert.to_text().unwrap()).unwrap();
    for needle in [
        "CA:FALSE",
        "Digital Signature, Non Repudiation",
        "1.3.76.16.6",
        "1.3.76.16.4.2.1",
        "agIDcert",
        "cert_SP_Pub",
        "organizationIdentifier=PA:IT-c_x000",
        "2.5.4.83=http:",
        "3072 bit",
    ] {
        assert!(text.contains(needle), "{needle} missing in\n{text}");
    }
}

#[test]
fn redirect_request_is_signed_and_spid_shaped() {
    let f = fixture();
    let idp = f.saml.idp(IDP_ENTITY).unwrap();
    assert_eq!(idp.name, "IdP di prova");
    let (id, instant, url) = f
        .saml
        .redirect_request(idp, AssuranceLevel::Substantial, "abc_DEF-123")
        .unwrap();
    assert!(id.starts_with('_'));
    assert!(instant <= Utc::now());
    let url = url::Url::parse(&url).unwrap();
    assert!(url.as_str().starts_with(IDP_SSO));
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["RelayState"], "abc_DEF-123");
    assert_eq!(
        q["SigAlg"],
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    );
    assert!(!q["Signature"].is_empty());
    let verifier = UrlVerifier::from_x509(&CertificateDer::from(f.saml.cert_der.clone())).unwrap();
    assert!(verifier.verify_signed_request_url(&url).unwrap());

    let deflated = base64::engine::general_purpose::STANDARD
        .decode(&q["SAMLRequest"])
        .unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(&deflated[..])
        .read_to_string(&mut xml)
        .unwrap();
    let root = xml::parse(&xml).unwrap();
    assert_eq!(root.name, "AuthnRequest");
    assert_eq!(root.attr("ID"), Some(id.as_str()));
    assert_eq!(root.attr("Version"), Some("2.0"));
    assert_eq!(root.attr("Destination"), Some(IDP_SSO));
    assert_eq!(root.attr("ForceAuthn"), Some("true"));
    assert_eq!(root.attr("AttributeConsumingServiceIndex"), Some("0"));
    assert_eq!(root.attr("AssertionConsumerServiceURL"), Some(ACS));
    assert_eq!(root.attr("ProtocolBinding"), Some(HTTP_POST));
    assert_eq!(root.attr("IsPassive"), None);
    let iss = root.kids(NS_A, "Issuer").next().unwrap();
    assert_eq!(iss.text, SP_ENTITY);
    assert_eq!(iss.attr("NameQualifier"), Some(SP_ENTITY));
    assert_eq!(iss.attr("Format"), Some(ENTITY_FMT));
    let pol = root.kids(NS_P, "NameIDPolicy").next().unwrap();
    assert_eq!(pol.attr("Format"), Some(TRANSIENT));
    assert_eq!(pol.attr("AllowCreate"), None);
    let rac = root.kids(NS_P, "RequestedAuthnContext").next().unwrap();
    assert_eq!(rac.attr("Comparison"), Some("minimum"));
    let cr = rac.kids(NS_A, "AuthnContextClassRef").next().unwrap();
    assert_eq!(cr.text.trim(), "https://www.spid.gov.it/SpidL2");
    assert!(root.kids(NS_DS, "Signature").next().is_none());

    // Level 1: no ForceAuthn.
    let (_, _, url) = f
        .saml
        .redirect_request(idp, AssuranceLevel::Low, "abc")
        .unwrap();
    let url = url::Url::parse(&url).unwrap();
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(&q["SAMLRequest"])
        .unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(&deflated[..])
        .read_to_string(&mut xml)
        .unwrap();
    assert!(!xml.contains("ForceAuthn"));
    assert!(xml.contains("https://www.spid.gov.it/SpidL1"));

    // RelayState must be plain.
    assert!(
        f.saml
            .redirect_request(idp, AssuranceLevel::Low, "")
            .is_err()
    );
    assert!(
        f.saml
            .redirect_request(idp, AssuranceLevel::Low, "a*b")
            .is_err()
    );
}

#[test]
fn post_request_has_enveloped_signature() {
    let f = fixture();
    let idp = f.saml.idp(IDP_ENTITY).unwrap();
    let (id, _, html) = f
        .saml
        .post_request(idp, AssuranceLevel::High, "relay123")
        .unwrap();
    assert!(html.contains(&format!(r#"<form method="post" action="{IDP_SSO}">"#)));
    assert!(html.contains(r#"name="RelayState" value="relay123""#));
    assert!(html.contains("document.forms[0].submit()"));
    let marker = r#"name="SAMLRequest" value=""#;
    let start = html.find(marker).unwrap() + marker.len();
    let end = start + html[start..].find('"').unwrap();
    let xml = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&html[start..end])
            .unwrap(),
    )
    .unwrap();
    let cert = CertificateDer::from(f.saml.cert_der.clone());
    Crypto::verify_signed_xml(&xml, &cert, Some("ID")).unwrap();
    let root = xml::parse(&xml).unwrap();
    assert_eq!(root.attr("ID"), Some(id.as_str()));
    assert_eq!(root.children[0].name, "Issuer");
    assert_eq!(root.children[1].name, "Signature");
    assert!(xml.contains("http://www.w3.org/2001/04/xmlenc#sha256"));
    assert!(xml.contains("https://www.spid.gov.it/SpidL3"));
    assert!(!xml.contains("xmldsig#sha1"));
}

#[test]
fn load_refuses_metadata_without_signing_certificate() {
    let path = write_temp("nocert.xml", &idp_metadata(None));
    let err = block_on(Saml::load(&path, sp_config(), "", &[])).unwrap_err();
    assert!(err.contains("no signing certificate"), "{err}");
    assert!(err.contains(&path), "{err}");
    let path = write_temp("broken.xml", "<md:EntityDescriptor");
    let err = block_on(Saml::load(&path, sp_config(), "", &[])).unwrap_err();
    assert!(err.contains(&path), "{err}");
}

#[test]
fn good_response_is_accepted() {
    let now = Utc::now().trunc_subsecs(3);
    let xml = build(&good(now));
    let ok = check(&xml, AssuranceLevel::Substantial, now).unwrap();
    assert_eq!(ok.assertion_id, "_assertion1");
    assert_eq!(ok.idp_entity_id, IDP_ENTITY);
    assert_eq!(ok.level, AssuranceLevel::Substantial);
    assert_eq!(ok.attributes["fiscalNumber"], "TINIT-RSSMRA80A01H501U");
    assert_eq!(ok.attributes["familyName"], "Rossi");
    assert!(ok.not_on_or_after >= now + Duration::minutes(5));
    assert_eq!(
        Saml::peek_in_response_to(&encode(&xml)).ok().as_deref(),
        Some(REQ_ID)
    );
    // A higher level than requested is fine; 6 fractional digits too (test 110).
    let mut r = good(now);
    r.acr = "https://www.spid.gov.it/SpidL3".into();
    r.instant = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let ok = check(&build(&r), AssuranceLevel::Substantial, now).unwrap();
    assert_eq!(ok.level, AssuranceLevel::High);
    // A few seconds later is still fine.
    check(
        &xml,
        AssuranceLevel::Substantial,
        now + Duration::seconds(30),
    )
    .unwrap();
}

#[test]
fn bad_responses_are_rejected() {
    let f = fixture();
    let now = Utc::now().trunc_subsecs(3);
    let lvl = AssuranceLevel::Substantial;
    let with = |edit: &dyn Fn(&mut R)| {
        let mut r = good(now);
        edit(&mut r);
        build(&r)
    };

    assert_invalid(check(&with(&|r| r.signed = false), lvl, now), "unsigned");
    assert_invalid(
        check(&sign(&response_xml(&good(now)), &f.other_key), lvl, now),
        "signed by another key",
    );
    assert_invalid(
        check(
            &with(&|r| r.destination = "https://evil.example/acs".into()),
            lvl,
            now,
        ),
        "wrong Destination",
    );
    assert_invalid(
        check(
            &with(&|r| r.audience = "https://other-sp.example".into()),
            lvl,
            now,
        ),
        "wrong Audience",
    );
    assert_invalid(
        check(
            &with(&|r| r.recipient = "https://evil.example/acs".into()),
            lvl,
            now,
        ),
        "wrong Recipient",
    );
    assert_invalid(
        check(&with(&|r| r.in_response_to = "_other".into()), lvl, now),
        "wrong InResponseTo",
    );
    assert_invalid(
        check(
            &with(&|r| r.acr = "https://www.spid.gov.it/SpidL1".into()),
            lvl,
            now,
        ),
        "lower level",
    );
    assert_invalid(
        check(
            &with(&|r| r.acr = "urn:oasis:names:tc:SAML:2.0:ac:classes:SpidL2".into()),
            lvl,
            now,
        ),
        "old-style class ref",
    );
    assert_invalid(
        check(
            &with(&|r| {
                r.digest = "http://www.w3.org/2000/09/xmldsig#sha1";
                r.method = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
            }),
            lvl,
            now,
        ),
        "SHA-1",
    );
    assert_invalid(
        check(
            &with(&|r| r.name_id = "that-transient<!-- x -->-opaque-value".into()),
            lvl,
            now,
        ),
        "comment in NameID (signed)",
    );
    let good_xml = build(&good(now));
    assert_invalid(
        check(
            &good_xml.replace("that-transient-opaque", "that-transient<!---->-opaque"),
            lvl,
            now,
        ),
        "comment in NameID (added after signing)",
    );
    let doctype = good_xml.replacen(
        "<samlp:Response",
        "<!DOCTYPE samlp:Response [<!ENTITY x \"y\">]><samlp:Response",
        1,
    );
    assert_invalid(check(&doctype, lvl, now), "DOCTYPE");
    match Saml::peek_in_response_to(&encode(&doctype)) {
        Err(Rejected::Invalid { reason }) => assert!(reason.contains("DOCTYPE"), "{reason}"),
        other => panic!("DOCTYPE peeked: {other:?}"),
    }
    assert_invalid(
        check(&with(&|r| r.extra_assertion = true), lvl, now),
        "two assertions",
    );
    assert_invalid(
        check(
            &good_xml.replace(
                r#"Version="2.0" IssueInstant"#,
                r#"Version="1.0" IssueInstant"#,
            ),
            lvl,
            now,
        ),
        "bad Version",
    );
    // Before the request (our request was issued 2 minutes after the response instant).
    assert_invalid(
        f.saml.validate_at(
            &encode(&good_xml),
            &expected(now + Duration::minutes(2), lvl),
            now + Duration::minutes(2),
        ),
        "issued before the request",
    );
    // In the future.
    assert_invalid(
        f.saml.validate_at(
            &encode(&good_xml),
            &expected(now - Duration::minutes(10), lvl),
            now - Duration::minutes(5),
        ),
        "issued in the future",
    );
    // Expired.
    assert_invalid(
        f.saml.validate_at(
            &encode(&good_xml),
            &expected(now, lvl),
            now + Duration::minutes(7),
        ),
        "expired",
    );
    // Tampered after signing.
    assert_invalid(
        check(&good_xml.replace("Rossi", "Bianchi"), lvl, now),
        "tampered attribute",
    );
    // Signature wrapping: a forged unsigned assertion moved in front, the signed one hidden.
    let forged = good_xml.replacen(
        "<saml:Assertion ",
        &format!(
            "{}<saml:Assertion ",
            assertion(&good(now), "_forged", false).replace("Rossi", "Bianchi")
        ),
        1,
    );
    assert_invalid(check(&forged, lvl, now), "signature wrapping");
    // Unknown IdP.
    assert_invalid(
        f.saml.validate_at(
            &encode(&good_xml),
            &Expected {
                idp_entity_id: "https://other-idp.example",
                ..expected(now, lvl)
            },
            now,
        ),
        "unknown IdP",
    );
}

/// The structure step refuses every wrapping it can see (one Assertion, child of the Response);
/// behind it, the signature step refuses on its own an Assertion that is not the signed one.
#[test]
fn the_signed_assertion_must_be_the_responses_own() {
    let f = fixture();
    let now = Utc::now();
    let lvl = AssuranceLevel::Substantial;
    let good_xml = build(&good(now));
    let wrapped = good_xml.replacen(
        "<saml:Assertion ",
        &format!(
            "{}<saml:Assertion ",
            assertion(&good(now), "_forged", false).replace("Rossi", "Bianchi")
        ),
        1,
    );
    let root = super::xml::parse(&wrapped).unwrap();
    let mut direct = root.kids(NS_A, "Assertion");
    let (forged, genuine) = (direct.next().unwrap(), direct.next().unwrap());
    assert_eq!(forged.attr("ID"), Some("_forged"));
    let exp = expected(now, lvl);
    let idp = f.saml.idp(IDP_ENTITY).unwrap();
    let c = super::response::Check::new(&f.saml, &exp, idp, now);
    match c.signatures(&wrapped, forged) {
        Err(Rejected::Invalid { reason }) => {
            assert!(
                reason.contains("not the Assertion of the Response"),
                "{reason}"
            )
        }
        other => panic!("the forged assertion passed the signature step: {other:?}"),
    }
    // Control: the genuine one passes this step.
    assert!(c.signatures(&wrapped, genuine).is_ok());
}

#[test]
fn idp_errors_are_reported_in_plain_words() {
    let now = Utc::now().trunc_subsecs(3);
    let mut r = good(now);
    r.signed = false;
    r.status = r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></samlp:StatusCode><samlp:StatusMessage>ErrorCode nr22</samlp:StatusMessage></samlp:Status>"#.into();
    let xml = response_xml(&r);
    match check(&xml, AssuranceLevel::Substantial, now) {
        Err(Rejected::IdpStatus { message }) => {
            assert!(message.contains("hai annullato l'accesso"), "{message}");
            assert!(message.contains("you cancelled the sign-in"), "{message}");
        }
        other => panic!("expected IdpStatus, got {other:?}"),
    }
    // An invalid status code is not an IdP message.
    let bad = xml.replace("status:Responder\"", "status:Whatever\"");
    assert_invalid(
        check(&bad, AssuranceLevel::Substantial, now),
        "bad StatusCode",
    );
    assert_eq!(spid_error_code("ErrorCode nr19"), Some(19));
    assert_eq!(spid_error_code("nothing"), None);
}

#[test]
fn xml_reader_is_strict() {
    assert!(xml::parse("<a><b></a>").is_err());
    assert!(xml::parse("<a x='1' x='2'/>").is_err());
    assert!(xml::parse("<p:a/>").is_err());
    assert!(xml::parse("<a>&ext;</a>").is_err());
    assert!(xml::parse("<!DOCTYPE a><a/>").is_err());
    assert!(xml::parse("<a/><b/>").is_err());
    let el =
        xml::parse("<?xml version='1.0'?><a xmlns='urn:x' v=\"&lt;&#65;\">t<!--c-->u</a>").unwrap();
    assert_eq!(el.ns, "urn:x");
    assert_eq!(el.attr("v"), Some("<A"));
    assert_eq!(el.text, "tu");
    assert!(el.comments);
}

#[test]
fn response_and_assertion_both_signed_is_accepted() {
    let f = fixture();
    let now = Utc::now().trunc_subsecs(3);
    // Sign the Assertion first, then add the Response signature (found first by xmlsec) and sign it.
    let signed_assertion = build(&good(now));
    let template = r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_response1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>"##;
    let issuer_end = signed_assertion.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
    let both = format!(
        "{}{template}{}",
        &signed_assertion[..issuer_end],
        &signed_assertion[issuer_end..]
    );
    let both = sign(&both, &f.idp_key);
    let ok = check(&both, AssuranceLevel::Substantial, now).unwrap();
    assert_eq!(ok.assertion_id, "_assertion1");

    // Response signed, Assertion unsigned: refused (test 3).
    let mut r = good(now);
    r.signed = false;
    let unsigned = response_xml(&r);
    let issuer_end = unsigned.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
    let only_response = sign(
        &format!(
            "{}{template}{}",
            &unsigned[..issuer_end],
            &unsigned[issuer_end..]
        ),
        &f.idp_key,
    );
    assert_invalid(
        check(&only_response, AssuranceLevel::Substantial, now),
        "only the Response signed",
    );
}

/// The POST binding page's policy lets exactly its own script run.
#[test]
fn the_auto_submit_script_is_the_one_its_policy_allows() {
    use sha2::{Digest, Sha256};
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(AUTO_SUBMIT));
    assert!(
        AUTO_SUBMIT_CSP.contains(&format!("'sha256-{hash}'")),
        "{AUTO_SUBMIT_CSP}"
    );
}

/// XML forbids NUL and most control characters, literally or as character references: the
/// reader refuses them before anything (the request id, an attribute) reaches the database.
#[test]
fn the_xml_reader_refuses_characters_xml_forbids() {
    for bad in [
        "<a x=\"&#0;\"/>",
        "<a x=\"&#x1;\"/>",
        "<a>&#xFFFE;</a>",
        "<a>\u{0}</a>",
        "<a x=\"\u{1b}\"/>",
    ] {
        assert!(xml::parse(bad).is_err(), "{bad:?}");
    }
    assert!(xml::parse("<a x=\"&#9;&#10;&#x20;\">ok</a>").is_ok());
}
