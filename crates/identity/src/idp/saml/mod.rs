//! SAML 2.0 Service Provider for SPID-style identity providers, on top of `samael` (xmlsec).
//!
//! What this module does, and what it leaves to `samael`:
//! - `samael`/xmlsec verifies every XML signature in a Response with the certificates of the
//!   IdP metadata only (the `KeyInfo` of the message is ignored), refuses algorithms outside
//!   rsa/ecdsa-sha256/384/512 with sha256+ digests, refuses duplicate or malformed `ID`s, and
//!   reduces the document to the signed content (`ReduceMode::ValidateAndMarkNoAncestors`).
//! - This module then reads the Assertion from that reduced document, checks that it is the
//!   Assertion of the raw Response (same `ID`) and that it carries its own signature pointing at
//!   that `ID`, and runs every SPID check (the port of the reference mock SP that passes the
//!   264 checks of `spid-sp-test` 1.2.18; test numbers in comments).

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, SubsecRound, Utc};
use openssl::pkey::{PKey, Private};
use samael::crypto::{AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider};
use samael::schema::{
    AuthnContextClassRef, AuthnContextComparison, AuthnRequest, Issuer, NameIdPolicy,
    RequestedAuthnContext,
};
use samael::signature::{DigestAlgorithm, Signature};
use sportello_domain::AssuranceLevel;

mod checks;
mod metadata;
mod response;
mod xml;

use checks::*;

/// The one script Sportello sends: the HTTP-POST binding's page submits its form by itself.
pub const AUTO_SUBMIT: &str = "document.forms[0].submit()";
/// That page's Content-Security-Policy: only [`AUTO_SUBMIT`] may run (its SHA-256), nothing may
/// be loaded, nobody may frame it. No `form-action`: the form goes to the identity provider.
pub const AUTO_SUBMIT_CSP: &str = "default-src 'none'; \
    script-src 'sha256-ePniVEkSivX/c7XWBGafqh8tSpiRrKiqYeqbG7N1TOE='; base-uri 'none'; \
    frame-ancestors 'none'";
use metadata::*;

const NS_P: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const NS_A: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const ENTITY_FMT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// The top-level status codes of SAML core §3.2.2.2.
const TOP_STATUS: [&str; 4] = [
    SUCCESS,
    "urn:oasis:names:tc:SAML:2.0:status:Requester",
    "urn:oasis:names:tc:SAML:2.0:status:Responder",
    "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch",
];
const OK_TRANSFORMS: [&str; 3] = [
    "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
];
const OK_SIGNATURE_METHODS: [&str; 6] = [
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
];
const OK_DIGESTS: [&str; 3] = [
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
];
const ALLOWED_ALGORITHMS: [AllowedSignatureAlgorithm; 6] = [
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];
/// The SPID attributes the SP asks for (AttributeConsumingService index 0).
const REQUESTED_ATTRIBUTES: [&str; 7] = [
    "fiscalNumber",
    "name",
    "familyName",
    "email",
    "mobilePhone",
    "dateOfBirth",
    "placeOfBirth",
];
/// Tolerated clock difference with the IdP.
const SKEW_SECONDS: i64 = 60;
/// Largest SAMLResponse accepted (base64 characters).
const MAX_RESPONSE_B64: usize = 2 * 1024 * 1024;
/// Largest IdP metadata document accepted (bytes).
const MAX_METADATA: usize = 8 * 1024 * 1024;

/// The entries of a comma-separated setting, trimmed, empty ones left out.
fn comma_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|e| !e.is_empty())
}

/// The Service Provider's own settings.
#[derive(Clone)]
pub struct SpConfig {
    /// The SP entityID, also the URL of its metadata, e.g. `http://login.localhost:8080/saml/metadata`.
    pub entity_id: String,
    /// The AssertionConsumerService URL (`<base>/saml/acs`).
    pub acs_url: String,
    /// The SingleLogoutService URL (`<base>/saml/slo`).
    pub slo_url: String,
    /// The federation's name, e.g. "Sportello".
    pub org_name: String,
    /// The federation's web site, e.g. `http://localhost:8080`.
    pub org_url: String,
    /// The IPA code of the public body.
    pub ipa_code: String,
    /// The technical contact address.
    pub contact_email: String,
    /// RSA private key, PEM.
    pub key_pem: String,
    /// Certificate, PEM.
    pub cert_pem: String,
}

impl fmt::Debug for SpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpConfig")
            .field("entity_id", &self.entity_id)
            .field("acs_url", &self.acs_url)
            .field("slo_url", &self.slo_url)
            .field("org_name", &self.org_name)
            .field("org_url", &self.org_url)
            .field("ipa_code", &self.ipa_code)
            .field("contact_email", &self.contact_email)
            .field("key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// One trusted identity provider, from its metadata.
#[derive(Debug, Clone)]
pub struct IdpInfo {
    /// The IdP entityID (the Issuer of its Responses).
    pub entity_id: String,
    /// OrganizationDisplayName (Italian first) or the entityID.
    pub name: String,
    /// SingleSignOnService location for the HTTP-Redirect binding.
    pub sso_redirect: Option<String>,
    /// SingleSignOnService location for the HTTP-POST binding.
    pub sso_post: Option<String>,
    /// SingleLogoutService location for the HTTP-Redirect binding.
    pub slo_redirect: Option<String>,
    /// The signing certificates of the IDPSSODescriptor. Never empty.
    pub signing_certs: Vec<SigningCert>,
    /// Where the metadata came from (file path or URL), for messages.
    pub source: String,
    /// Signatures by a certificate outside its validity are accepted (setting
    /// `saml_idps_accept_expired`: a test IdP known to publish a stale certificate).
    pub accept_expired: bool,
}

/// One signing certificate of an IdP's metadata.
#[derive(Debug, Clone)]
pub struct SigningCert {
    pub der: Vec<u8>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// SHA-256 of the DER, hex: names the certificate in logs and metrics.
    pub sha256: String,
}

impl SigningCert {
    /// Whole days until it expires, rounded down (expired an hour ago: -1).
    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        (self.not_after - now).num_seconds().div_euclid(86_400)
    }
}

impl IdpInfo {
    /// The certificates a signature may be verified with now: those within their validity
    /// (all of them for an IdP whose expired certificates are accepted by setting). Err: none is,
    /// with the reason.
    pub fn usable_certs(&self, now: DateTime<Utc>) -> Result<Vec<&SigningCert>, String> {
        let usable: Vec<&SigningCert> = self
            .signing_certs
            .iter()
            .filter(|c| self.accept_expired || (c.not_before <= now && now <= c.not_after))
            .collect();
        if !usable.is_empty() {
            return Ok(usable);
        }
        let c = self.signing_certs.iter().max_by_key(|c| c.not_after);
        Err(match c {
            Some(c) if c.not_after < now => format!(
                "the identity provider's signing certificate expired on {}",
                c.not_after.format("%Y-%m-%d")
            ),
            Some(c) => format!(
                "the identity provider's signing certificate is not valid before {}",
                c.not_before.format("%Y-%m-%d")
            ),
            None => "the identity provider has no signing certificate".into(),
        })
    }
}

/// The Service Provider: its configuration, its key and the trusted IdPs.
pub struct Saml {
    /// The SP settings.
    pub sp: SpConfig,
    /// The trusted identity providers.
    pub idps: Vec<IdpInfo>,
    key: PKey<Private>,
    key_der: Vec<u8>,
    cert_der: Vec<u8>,
}

impl fmt::Debug for Saml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Saml")
            .field("sp", &self.sp)
            .field("idps", &self.idps)
            .finish_non_exhaustive()
    }
}

/// What the pending AuthnRequest says the Response must match.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The ID of our AuthnRequest.
    pub request_id: &'a str,
    /// When our AuthnRequest was issued.
    pub issued_at: DateTime<Utc>,
    /// The level requested (Comparison="minimum": a higher level is fine).
    pub level: AssuranceLevel,
    /// The IdP the request was sent to.
    pub idp_entity_id: &'a str,
}

/// A verified sign-in.
#[derive(Debug, Clone)]
pub struct Asserted {
    /// The Assertion ID (for the replay cache).
    pub assertion_id: String,
    /// The IdP that signed it.
    pub idp_entity_id: String,
    /// The level the IdP asserted (at least the requested one).
    pub level: AssuranceLevel,
    /// Until when the Assertion could be accepted (latest NotOnOrAfter plus the clock skew):
    /// keep its ID in the replay cache until then.
    pub not_on_or_after: DateTime<Utc>,
    /// Who the IdP says signed in (NameID and SessionIndex), for Single Logout.
    pub subject: SamlSubject,
    /// SPID attributes by name (fiscalNumber, name, familyName, email, mobilePhone,
    /// dateOfBirth, placeOfBirth, ...), first value of each, trimmed.
    pub attributes: HashMap<String, String>,
}

/// Why a Response was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// The IdP answered with a non-success status: `message` is for the user, in plain words.
    IdpStatus { message: String },
    /// A response we must not accept; `reason` for the log and the error page.
    Invalid { reason: String },
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::IdpStatus { message } => write!(f, "{message}"),
            Rejected::Invalid { reason } => write!(f, "invalid SAML response: {reason}"),
        }
    }
}

fn invalid(reason: impl Into<String>) -> Rejected {
    Rejected::Invalid {
        reason: reason.into(),
    }
}

impl Saml {
    /// `idps`: comma-separated metadata sources (file paths or http(s) URLs). Refuses (Err)
    /// metadata without an IDPSSODescriptor signing certificate, or with a parse error, naming
    /// the source. An `EntitiesDescriptor` gives one IdP per `EntityDescriptor` with an
    /// IDPSSODescriptor.
    ///
    /// `accept_expired`: entityIDs whose signing certificates are used outside their validity
    /// (each one logged as a warning); any other IdP's certificate outside its validity verifies
    /// nothing. `roots`: extra certificate authorities for metadata fetched over https.
    pub async fn load(
        idps: &str,
        sp: SpConfig,
        accept_expired: &str,
        roots: &[reqwest::Certificate],
    ) -> Result<Saml, String> {
        let accept_expired: Vec<&str> = comma_list(accept_expired).collect();
        let (key, key_der, cert_der) = load_sp_key(&sp)?;
        let mut list: Vec<IdpInfo> = Vec::new();
        for source in comma_list(idps) {
            let xml = fetch_metadata(source, roots).await?;
            for mut idp in parse_idp_metadata(&xml, source)? {
                idp.accept_expired = accept_expired.contains(&idp.entity_id.as_str());
                if list.iter().any(|o| o.entity_id == idp.entity_id) {
                    return Err(format!(
                        "IdP metadata {source}: entityID {} is listed twice",
                        idp.entity_id
                    ));
                }
                list.push(idp);
            }
        }
        if let Some(e) = accept_expired
            .iter()
            .find(|e| !list.iter().any(|i| i.entity_id == **e))
        {
            return Err(format!(
                "saml_idps_accept_expired: {e} is not the entityID of a configured IdP"
            ));
        }
        Ok(Saml {
            sp,
            idps: list,
            key,
            key_der,
            cert_der,
        })
    }

    /// Development/tests when no key is configured: a fresh RSA-3072 key and a self-signed
    /// certificate per the SPID public-sector profile (Avviso SPID n.29 v3). Returns
    /// `(key_pem, cert_pem)`.
    pub fn generate_sp_keypair(
        entity_id: &str,
        org_name: &str,
        ipa_code: &str,
    ) -> Result<(String, String), String> {
        generate_keypair(entity_id, org_name, ipa_code)
            .map_err(|e| format!("cannot generate the SAML key pair: {e}"))
    }

    /// The IdP with this entityID.
    pub fn idp(&self, entity_id: &str) -> Option<&IdpInfo> {
        self.idps.iter().find(|i| i.entity_id == entity_id)
    }

    /// The signed SP metadata XML (SPID public-sector profile).
    pub fn metadata_xml(&self) -> Result<String, String> {
        let template = self.metadata_template();
        Crypto::sign_xml(template, &self.key_der)
            .map_err(|e| format!("cannot sign the SP metadata: {e}"))
    }

    /// A signed AuthnRequest for the HTTP-Redirect binding: (request ID, issue instant, the
    /// full redirect URL with SAMLRequest, RelayState, SigAlg and Signature).
    pub fn redirect_request(
        &self,
        idp: &IdpInfo,
        level: AssuranceLevel,
        relay_state: &str,
    ) -> Result<(String, DateTime<Utc>, String), String> {
        check_relay_state(relay_state)?;
        let destination = idp.sso_redirect.as_deref().ok_or_else(|| {
            format!(
                "IdP {} has no HTTP-Redirect SingleSignOnService",
                idp.entity_id
            )
        })?;
        let req = self.authn_request(destination, level);
        let url = req
            .signed_redirect(relay_state, &self.key)
            .map_err(|e| format!("cannot sign the AuthnRequest: {e}"))?
            .ok_or_else(|| "the AuthnRequest has no Destination".to_owned())?;
        Ok((req.id, req.issue_instant, url.to_string()))
    }

    /// The same request for the HTTP-POST binding: (ID, instant, an HTML page with a form that
    /// submits itself to the IdP). The signature is enveloped in the request.
    pub fn post_request(
        &self,
        idp: &IdpInfo,
        level: AssuranceLevel,
        relay_state: &str,
    ) -> Result<(String, DateTime<Utc>, String), String> {
        check_relay_state(relay_state)?;
        let destination = idp
            .sso_post
            .as_deref()
            .ok_or_else(|| format!("IdP {} has no HTTP-POST SingleSignOnService", idp.entity_id))?;
        let mut req = self.authn_request(destination, level);
        let mut signature =
            Signature::template(&req.id, &CertificateDer::from(self.cert_der.clone()));
        for reference in &mut signature.signed_info.reference {
            reference.digest_method.algorithm = DigestAlgorithm::Sha256;
        }
        req.signature = Some(signature);
        let signed = req
            .to_signed_xml(&self.key_der)
            .map_err(|e| format!("cannot sign the AuthnRequest: {e}"))?;
        let b64 = base64::engine::general_purpose::STANDARD.encode(signed.as_bytes());
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"it\"><head><meta charset=\"utf-8\"><title>SPID</title></head>\
             <body><form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"SAMLRequest\" value=\"{b64}\">\
             <input type=\"hidden\" name=\"RelayState\" value=\"{relay}\">\
             <noscript><p>Premi il pulsante per proseguire / Press the button to continue.</p></noscript>\
             <button type=\"submit\">Prosegui / Continue</button></form>\
             <script>{AUTO_SUBMIT}</script></body></html>",
            action = esc(destination),
            relay = esc(relay_state),
        );
        Ok((req.id, req.issue_instant, html))
    }

    /// The InResponseTo of a base64 SAMLResponse, read WITHOUT trusting it (to find our
    /// pending request). Err, with the real reason (too large, not base64, a DOCTYPE, not XML,
    /// not a Response, no InResponseTo), otherwise.
    pub fn peek_in_response_to(saml_response_b64: &str) -> Result<String, Rejected> {
        let xml = decode_response(saml_response_b64)?;
        // The parser's message may quote the input: not repeated (it reaches the audit log).
        let root = xml::parse(&xml).map_err(|_| invalid("the answer is not well-formed XML"))?;
        if root.ns != NS_P || root.name != "Response" {
            return Err(invalid("the document is not a SAML Response"));
        }
        root.attr("InResponseTo")
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| invalid("the answer does not refer to a sign-in started here"))
    }

    fn authn_request(&self, destination: &str, level: AssuranceLevel) -> AuthnRequest {
        let entity_id = self.sp.entity_id.clone();
        AuthnRequest {
            id: format!("_{}", uuid::Uuid::new_v4().simple()),
            version: "2.0".to_owned(),
            issue_instant: Utc::now().trunc_subsecs(3),
            destination: Some(destination.to_owned()),
            force_authn: (level.number() >= AssuranceLevel::Substantial.number()).then_some(true),
            protocol_binding: Some(HTTP_POST.to_owned()),
            assertion_consumer_service_url: Some(self.sp.acs_url.clone()),
            attribute_consuming_service_index: Some(0),
            issuer: Some(Issuer {
                value: Some(entity_id.clone()),
                name_qualifier: Some(entity_id),
                format: Some(ENTITY_FMT.to_owned()),
                ..Issuer::default()
            }),
            name_id_policy: Some(NameIdPolicy {
                format: Some(TRANSIENT.to_owned()),
                allow_create: None,
                sp_name_qualifier: None,
            }),
            requested_authn_context: Some(RequestedAuthnContext {
                comparison: Some(AuthnContextComparison::Minimum),
                authn_context_class_refs: Some(vec![AuthnContextClassRef {
                    value: Some(level.class_ref().to_owned()),
                }]),
                authn_context_decl_refs: None,
            }),
            ..AuthnRequest::default()
        }
    }

    fn metadata_template(&self) -> String {
        let sp = &self.sp;
        let cert = base64::engine::general_purpose::STANDARD.encode(&self.cert_der);
        let attrs: String = REQUESTED_ATTRIBUTES
            .iter()
            .map(|a| {
                format!(
                    "\n      <md:RequestedAttribute Name=\"{a}\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:basic\"/>"
                )
            })
            .collect();
        format!(
            r##"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:spid="https://spid.gov.it/saml-extensions" entityID="{entity}" ID="_sp_metadata"><ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_sp_metadata"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="true" WantAssertionsSigned="true">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleLogoutService Binding="{redirect}" Location="{slo}"/>
    <md:NameIDFormat>{transient}</md:NameIDFormat>
    <md:AssertionConsumerService index="0" isDefault="true" Binding="{post}" Location="{acs}"/>
    <md:AttributeConsumingService index="0">
      <md:ServiceName xml:lang="it">{org}</md:ServiceName>{attrs}
    </md:AttributeConsumingService>
  </md:SPSSODescriptor>
  <md:Organization>
    <md:OrganizationName xml:lang="it">{org}</md:OrganizationName>
    <md:OrganizationDisplayName xml:lang="it">{org}</md:OrganizationDisplayName>
    <md:OrganizationURL xml:lang="it">{org_url}</md:OrganizationURL>
  </md:Organization>
  <md:ContactPerson contactType="other">
    <md:Extensions>
      <spid:IPACode>{ipa}</spid:IPACode>
      <spid:Public/>
    </md:Extensions>
    <md:EmailAddress>{email}</md:EmailAddress>
  </md:ContactPerson>
</md:EntityDescriptor>
"##,
            entity = esc(&sp.entity_id),
            post = HTTP_POST,
            redirect = HTTP_REDIRECT,
            transient = TRANSIENT,
            slo = esc(&sp.slo_url),
            acs = esc(&sp.acs_url),
            org = esc(&sp.org_name),
            org_url = esc(&sp.org_url),
            ipa = esc(&sp.ipa_code),
            email = esc(&sp.contact_email),
        )
    }
}

/// XML escaping for text and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[path = "../../tests/saml.rs"]
mod tests;

#[path = "../saml_slo.rs"]
mod slo;
pub use slo::{LogoutMessage, SamlSubject};
