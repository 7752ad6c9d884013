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
use chrono::{DateTime, Duration, SubsecRound, Utc};
use openssl::asn1::{Asn1Integer, Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use openssl::x509::{X509, X509Extension, X509NameBuilder};
use samael::crypto::{
    AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider, ReduceMode,
};
use samael::metadata::{EntityDescriptor, EntityDescriptorType};
use samael::schema::{
    Assertion, AuthnContextClassRef, AuthnContextComparison, AuthnRequest, Issuer, NameIdPolicy,
    RequestedAuthnContext,
};
use samael::signature::{DigestAlgorithm, Signature};
use sportello_domain::AssuranceLevel;

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
    /// The signing certificates of the IDPSSODescriptor, DER. Never empty.
    pub signing_certs: Vec<Vec<u8>>,
    /// Where the metadata came from (file path or URL), for messages.
    pub source: String,
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
    pub async fn load(idps: &str, sp: SpConfig) -> Result<Saml, String> {
        let (key, key_der, cert_der) = load_sp_key(&sp)?;
        let mut list: Vec<IdpInfo> = Vec::new();
        for source in idps.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let xml = fetch_metadata(source).await?;
            for idp in parse_idp_metadata(&xml, source)? {
                if list.iter().any(|o| o.entity_id == idp.entity_id) {
                    return Err(format!(
                        "IdP metadata {source}: entityID {} is listed twice",
                        idp.entity_id
                    ));
                }
                list.push(idp);
            }
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
             <script>document.forms[0].submit()</script></body></html>",
            action = esc(destination),
            relay = esc(relay_state),
        );
        Ok((req.id, req.issue_instant, html))
    }

    /// The InResponseTo of a base64 SAMLResponse, read WITHOUT trusting it (to find our
    /// pending request); `None` if absent or unparsable, or if the document has a DOCTYPE.
    pub fn peek_in_response_to(saml_response_b64: &str) -> Option<String> {
        let xml = decode_response(saml_response_b64).ok()?;
        let root = xml::parse(&xml).ok()?;
        if root.ns != NS_P || root.name != "Response" {
            return None;
        }
        root.attr("InResponseTo")
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// Every check. CPU-bound and synchronous.
    pub fn validate(
        &self,
        saml_response_b64: &str,
        expected: &Expected<'_>,
    ) -> Result<Asserted, Rejected> {
        self.validate_at(saml_response_b64, expected, Utc::now())
    }

    /// [`Saml::validate`] with the clock given (`now`).
    pub(crate) fn validate_at(
        &self,
        saml_response_b64: &str,
        exp: &Expected<'_>,
        now: DateTime<Utc>,
    ) -> Result<Asserted, Rejected> {
        let skew = Duration::seconds(SKEW_SECONDS);
        let idp = self
            .idp(exp.idp_entity_id)
            .ok_or_else(|| invalid(format!("unknown IdP {}", exp.idp_entity_id)))?;
        let xml = decode_response(saml_response_b64)?;
        let root = xml::parse(&xml).map_err(|e| invalid(format!("malformed XML: {e}")))?;
        if root.ns != NS_P || root.name != "Response" {
            return Err(invalid("the root element is not a samlp:Response"));
        }

        // ---- Response attributes -------------------------------------------------------
        let response_id = root.attr("ID").unwrap_or("");
        if response_id.is_empty() {
            return Err(invalid("Response ID missing or empty")); // 8, 9
        }
        if root.attr("Version") != Some("2.0") {
            return Err(invalid("Response Version is not 2.0")); // 10
        }
        let r_ii = instant(root.attr("IssueInstant"), "Response IssueInstant")?; // 11-13
        let earliest = exp.issued_at - skew;
        if r_ii < earliest || r_ii > now + skew {
            return Err(invalid("Response IssueInstant out of range")); // 14, 15
        }
        if root.attr("InResponseTo").filter(|v| !v.is_empty()) != Some(exp.request_id) {
            return Err(invalid("Response InResponseTo does not match our request")); // 16-18
        }
        if root.attr("Destination") != Some(self.sp.acs_url.as_str()) {
            return Err(invalid("Response Destination is not our ACS URL")); // 19-21
        }

        // ---- Response Issuer -------------------------------------------------------------
        let iss = one(&root, NS_A, "Issuer", "Response Issuer")?; // 28
        if iss.text.trim() != idp.entity_id {
            return Err(invalid("Response Issuer is not the IdP")); // 27, 29
        }
        if iss.attr("Format").is_some_and(|f| f != ENTITY_FMT) {
            return Err(invalid("Response Issuer Format is not entity")); // 30 (31: absent is fine)
        }

        // ---- Status ----------------------------------------------------------------------
        let st = one(&root, NS_P, "Status", "Status")?; // 23
        let sc = one(st, NS_P, "StatusCode", "StatusCode")?; // 22
        let code = sc.attr("Value").unwrap_or("");
        if code != SUCCESS {
            if !TOP_STATUS.contains(&code) {
                return Err(invalid(format!("invalid StatusCode {code:?}"))); // 24, 26
            }
            let message = opt(st, NS_P, "StatusMessage", "StatusMessage")?
                .map(|m| m.text.trim().to_owned())
                .unwrap_or_default();
            let sub = sc
                .children
                .iter()
                .find(|c| c.ns == NS_P && c.name == "StatusCode")
                .and_then(|c| c.attr("Value"))
                .unwrap_or("");
            return Err(Rejected::IdpStatus {
                message: idp_status_message(&message, sub),
            }); // 104-111
        }

        // ---- structure / anti-XSW ----------------------------------------------------------
        let mut ids: Vec<&str> = Vec::new();
        let mut assertions = 0usize;
        let mut encrypted = false;
        let mut signatures = 0usize;
        root.walk(&mut |e| {
            if let Some(id) = e.attr("ID") {
                ids.push(id);
            }
            if e.name == "Assertion" {
                assertions += 1;
            }
            if e.name == "EncryptedAssertion" {
                encrypted = true;
            }
            if e.ns == NS_DS && e.name == "Signature" {
                signatures += 1;
            }
        });
        let n_ids = ids.len();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != n_ids {
            return Err(invalid("duplicate ID attributes"));
        }
        if encrypted {
            return Err(invalid("encrypted assertions are not supported"));
        }
        let direct: Vec<&xml::El> = root.kids(NS_A, "Assertion").collect();
        if assertions != 1 || direct.len() != 1 {
            return Err(invalid(
                "exactly one Assertion, child of the Response, is required",
            )); // 32, xsw*
        }
        let a = direct[0];
        let assertion_id = a.attr("ID").unwrap_or("");
        if assertion_id.is_empty() {
            return Err(invalid("Assertion ID missing or empty")); // 33, 34
        }
        let a_sig = one(a, NS_DS, "Signature", "Assertion Signature")?; // 2, 3
        let r_sig = opt(&root, NS_DS, "Signature", "Response Signature")?;
        if signatures != 1 + usize::from(r_sig.is_some()) {
            return Err(invalid("unexpected Signature elements"));
        }
        check_signature_shape(a_sig, a)?;
        if let Some(r_sig) = r_sig {
            check_signature_shape(r_sig, &root)?;
        }
        let mut comment_in_name_id = false;
        let mut comment = false;
        a.walk(&mut |e| {
            if e.comments {
                comment = true;
                if e.name == "NameID" {
                    comment_in_name_id = true;
                }
            }
        });
        if comment_in_name_id {
            return Err(invalid("comment inside NameID"));
        }
        if comment {
            return Err(invalid(
                "comment or processing instruction inside the Assertion",
            ));
        }

        // ---- signatures (samael + xmlsec, IdP metadata keys only) ---------------------------
        let (trusted, signed_itself) = verified_assertion(&xml, idp)?;
        if trusted.id != assertion_id {
            return Err(invalid(
                "the signed Assertion is not the Assertion of the Response",
            ));
        }
        if !signed_itself {
            // Only the Response was kept whole: the Assertion must still carry its own
            // (verified: xmlsec checked every signature) signature, pointing at it.
            let want_uri = format!("#{assertion_id}");
            let covered = trusted.signature.as_ref().is_some_and(|s| {
                s.signed_info.reference.len() == 1
                    && s.signed_info.reference[0].uri.as_deref() == Some(want_uri.as_str())
            });
            if !covered {
                return Err(invalid("the Assertion is not signed")); // 3
            }
        }

        // ---- Assertion -------------------------------------------------------------------
        if a.attr("Version") != Some("2.0") || trusted.version != "2.0" {
            return Err(invalid("Assertion Version is not 2.0")); // 35
        }
        let a_ii = instant(a.attr("IssueInstant"), "Assertion IssueInstant")?; // 36-38
        if a_ii < earliest
            || a_ii > now + skew
            || trusted.issue_instant < earliest
            || trusted.issue_instant > now + skew
        {
            return Err(invalid("Assertion IssueInstant out of range")); // 39, 40
        }
        let a_iss = one(a, NS_A, "Issuer", "Assertion Issuer")?; // 68
        if a_iss.text.trim() != idp.entity_id
            || trusted.issuer.value.as_deref().map(str::trim) != Some(idp.entity_id.as_str())
        {
            return Err(invalid("Assertion Issuer is not the IdP")); // 69
        }
        if a_iss.attr("Format") != Some(ENTITY_FMT)
            || trusted.issuer.format.as_deref() != Some(ENTITY_FMT)
        {
            return Err(invalid("Assertion Issuer Format must be entity")); // 70-72
        }

        let subj = one(a, NS_A, "Subject", "Subject")?; // 42
        let nid = one(subj, NS_A, "NameID", "NameID")?; // 41, 44
        if nid.text.trim().is_empty() {
            return Err(invalid("NameID empty")); // 43
        }
        if nid.attr("Format") != Some(TRANSIENT) {
            return Err(invalid("NameID Format must be transient")); // 45-47
        }
        if nid.attr("NameQualifier").is_none_or(str::is_empty) {
            return Err(invalid("NameID NameQualifier missing or empty")); // 48, 49
        }
        let scs: Vec<&xml::El> = subj.kids(NS_A, "SubjectConfirmation").collect();
        if scs.is_empty() {
            return Err(invalid("SubjectConfirmation missing")); // 52
        }
        for scn in &scs {
            if scn.attr("Method") != Some(BEARER) {
                return Err(invalid("SubjectConfirmation Method must be bearer")); // 53-55
            }
            let scd = one(
                scn,
                NS_A,
                "SubjectConfirmationData",
                "SubjectConfirmationData",
            )?; // 51, 56
            if scd.attr("Recipient") != Some(self.sp.acs_url.as_str()) {
                return Err(invalid("Recipient is not our ACS URL")); // 57-59
            }
            if scd.attr("InResponseTo").filter(|v| !v.is_empty()) != Some(exp.request_id) {
                return Err(invalid("SubjectConfirmationData InResponseTo mismatch")); // 60-62
            }
            if instant(
                scd.attr("NotOnOrAfter"),
                "SubjectConfirmationData NotOnOrAfter",
            )? <= now - skew
            {
                return Err(invalid("SubjectConfirmationData expired")); // 63-66
            }
        }
        // The same on the signed copy: values taken from there only.
        let t_subject = trusted
            .subject
            .as_ref()
            .ok_or_else(|| invalid("Subject missing"))?;
        let t_nid = t_subject
            .name_id
            .as_ref()
            .ok_or_else(|| invalid("NameID missing"))?;
        if t_nid.value.trim().is_empty() || t_nid.format.as_deref() != Some(TRANSIENT) {
            return Err(invalid("NameID empty or not transient"));
        }
        let t_scs = t_subject
            .subject_confirmations
            .as_deref()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid("SubjectConfirmation missing"))?;
        let mut latest = now;
        for c in t_scs {
            let data = c
                .subject_confirmation_data
                .as_ref()
                .ok_or_else(|| invalid("SubjectConfirmationData missing"))?;
            let noa = data
                .not_on_or_after
                .ok_or_else(|| invalid("SubjectConfirmationData NotOnOrAfter missing"))?;
            if c.method.as_deref() != Some(BEARER)
                || data.recipient.as_deref() != Some(self.sp.acs_url.as_str())
                || data.in_response_to.as_deref() != Some(exp.request_id)
                || noa <= now - skew
                || data.not_before.is_some_and(|nb| nb > now + skew)
            {
                return Err(invalid("SubjectConfirmation not valid for this request"));
            }
            latest = latest.max(noa);
        }

        let cond = one(a, NS_A, "Conditions", "Conditions")?; // 74
        let nb = instant(cond.attr("NotBefore"), "Conditions NotBefore")?; // 75-77
        if nb > now + skew {
            return Err(invalid("Conditions NotBefore in the future")); // 78
        }
        let noa = instant(cond.attr("NotOnOrAfter"), "Conditions NotOnOrAfter")?; // 79-81
        if noa <= now - skew {
            return Err(invalid("Conditions expired")); // 82
        }
        let ar = one(cond, NS_A, "AudienceRestriction", "AudienceRestriction")?; // 73, 84
        if !ar
            .kids(NS_A, "Audience")
            .any(|x| x.text.trim() == self.sp.entity_id)
        {
            return Err(invalid("Audience is not our entityID")); // 83, 85-87
        }
        let t_cond = trusted
            .conditions
            .as_ref()
            .ok_or_else(|| invalid("Conditions missing"))?;
        let (Some(t_nb), Some(t_noa)) = (t_cond.not_before, t_cond.not_on_or_after) else {
            return Err(invalid("Conditions NotBefore/NotOnOrAfter missing"));
        };
        let audience_ok = t_cond.audience_restrictions.as_deref().is_some_and(|ars| {
            !ars.is_empty()
                && ars
                    .iter()
                    .all(|r| r.audience.iter().any(|x| x.trim() == self.sp.entity_id))
        });
        if t_nb > now + skew || t_noa <= now - skew || !audience_ok {
            return Err(invalid("Conditions not valid for this SP now"));
        }
        latest = latest.max(t_noa);

        let ast = one(a, NS_A, "AuthnStatement", "AuthnStatement")?; // 89
        let actx = one(ast, NS_A, "AuthnContext", "AuthnContext")?; // 88
        let acr = one(actx, NS_A, "AuthnContextClassRef", "AuthnContextClassRef")?; // 90, 93
        let t_acr = match trusted.authn_statements.as_deref() {
            Some([only]) => only
                .authn_context
                .as_ref()
                .and_then(|c| c.value.as_ref())
                .and_then(|v| v.value.as_deref())
                .map(str::trim)
                .unwrap_or(""),
            _ => "",
        };
        if t_acr != acr.text.trim() {
            return Err(invalid("AuthnContextClassRef differs from the signed one"));
        }
        let level = AssuranceLevel::from_class_ref(t_acr)
            .ok_or_else(|| invalid("AuthnContextClassRef is not a SPID level"))?; // 92, 97
        if level.number() < exp.level.number().max(1) {
            return Err(invalid(format!(
                "SPID level {} is lower than the requested level {}",
                level.number(),
                exp.level.number().max(1)
            ))); // 94
        }

        for ats in a.kids(NS_A, "AttributeStatement") {
            let found: Vec<&xml::El> = ats.kids(NS_A, "Attribute").collect();
            if found.is_empty() {
                return Err(invalid("AttributeStatement without Attribute")); // 98
            }
            if found
                .iter()
                .any(|at| at.kids(NS_A, "AttributeValue").next().is_none())
            {
                return Err(invalid("Attribute without AttributeValue")); // 99
            }
        }
        let mut attributes = HashMap::new();
        for statement in trusted.attribute_statements.iter().flatten() {
            for attribute in &statement.attributes {
                let Some(name) = attribute.name.as_deref().map(str::trim) else {
                    continue;
                };
                let value = attribute
                    .values
                    .first()
                    .and_then(|v| v.value.as_deref())
                    .map(str::trim)
                    .unwrap_or("");
                if !name.is_empty() {
                    attributes
                        .entry(name.to_owned())
                        .or_insert_with(|| value.to_owned());
                }
            }
        }

        let session_index = trusted
            .authn_statements
            .as_deref()
            .and_then(|a| a.first())
            .and_then(|a| a.session_index.clone());
        Ok(Asserted {
            subject: SamlSubject {
                name_id: t_nid.value.trim().to_owned(),
                session_index,
            },
            assertion_id: trusted.id.clone(),
            idp_entity_id: idp.entity_id.clone(),
            level,
            not_on_or_after: latest + skew,
            attributes,
        })
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

/// The user-facing text for a non-success status (SPID ErrorCode nrNN in StatusMessage).
fn idp_status_message(message: &str, sub_status: &str) -> String {
    let code = spid_error_code(message);
    let known = match code {
        Some(19) => Some(
            "troppi tentativi con credenziali errate / too many attempts with wrong credentials",
        ),
        Some(20) => Some(
            "non hai credenziali del livello richiesto / you have no credentials of the required level",
        ),
        Some(21) => Some("tempo scaduto durante l'accesso / the sign-in timed out"),
        Some(22) => Some("hai annullato l'accesso / you cancelled the sign-in"),
        Some(23) => Some(
            "le tue credenziali sono sospese o revocate / your credentials are suspended or revoked",
        ),
        Some(25) => Some("hai annullato l'accesso / you cancelled the sign-in"),
        Some(30) => Some(
            "il tipo di identità non è accettato da questo servizio / this kind of identity is not accepted here",
        ),
        _ => None,
    };
    if let Some(text) = known {
        return format!("Accesso non riuscito: {text}");
    }
    let detail: String = message
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let detail = detail.trim();
    if !detail.is_empty() {
        format!(
            "Il gestore dell'identità ha rifiutato l'accesso / the identity provider refused the sign-in: {detail}"
        )
    } else if sub_status.ends_with(":AuthnFailed") {
        "Autenticazione non riuscita / authentication failed".to_owned()
    } else {
        "Il gestore dell'identità ha rifiutato l'accesso / the identity provider refused the sign-in"
            .to_owned()
    }
}

/// `ErrorCode nr22` → 22.
fn spid_error_code(message: &str) -> Option<u32> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("nr")?;
    let digits: String = lower[at + 2..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn check_relay_state(relay_state: &str) -> Result<(), String> {
    if relay_state.is_empty()
        || relay_state.len() > 80
        || !relay_state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("RelayState must be 1-80 URL-safe base64 characters".to_owned());
    }
    Ok(())
}

/// Base64 → UTF-8 XML, refusing oversize input and any DOCTYPE.
fn decode_response(b64: &str) -> Result<String, Rejected> {
    if b64.len() > MAX_RESPONSE_B64 {
        return Err(invalid("SAMLResponse too large"));
    }
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| invalid("SAMLResponse is not base64"))?;
    let xml = String::from_utf8(bytes).map_err(|_| invalid("SAMLResponse is not UTF-8"))?;
    let lower = xml.to_ascii_lowercase();
    if lower.contains("<!doctype") || lower.contains("<!entity") {
        return Err(invalid("DOCTYPE is not allowed"));
    }
    Ok(xml)
}

/// The Assertion from the signed content only (samael/xmlsec with the IdP metadata keys), and
/// whether the signed content is that Assertion itself (its own enveloped signature is then
/// not part of the signed content) rather than the whole Response.
fn verified_assertion(xml: &str, idp: &IdpInfo) -> Result<(Assertion, bool), Rejected> {
    let certs: Vec<CertificateDer> = idp
        .signing_certs
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    if certs.is_empty() {
        return Err(invalid("the IdP has no signing certificate"));
    }
    let reduced = Crypto::reduce_xml_to_signed_with_allowed_algorithms(
        xml,
        &certs,
        ReduceMode::ValidateAndMarkNoAncestors,
        Some(&ALLOWED_ALGORITHMS),
    )
    .map_err(|e| invalid(format!("signature not valid: {e}")))?;
    let root = xml::parse(&reduced).map_err(|e| invalid(format!("signed content: {e}")))?;
    if root.ns == NS_A && root.name == "Assertion" {
        reduced
            .parse::<Assertion>()
            .map(|a| (a, true))
            .map_err(|e| invalid(format!("signed Assertion unreadable: {e}")))
    } else if root.ns == NS_P && root.name == "Response" {
        reduced
            .parse::<samael::schema::Response>()
            .map_err(|e| invalid(format!("signed Response unreadable: {e}")))?
            .assertion
            .map(|a| (a, false))
            .ok_or_else(|| invalid("no signed Assertion"))
    } else {
        Err(invalid(
            "the signed content is neither a Response nor an Assertion",
        ))
    }
}

fn check_signature_shape(sig: &xml::El, owner: &xml::El) -> Result<(), Rejected> {
    let si = one(sig, NS_DS, "SignedInfo", "SignedInfo")?;
    let sm = one(si, NS_DS, "SignatureMethod", "SignatureMethod")?;
    if !OK_SIGNATURE_METHODS.contains(&sm.attr("Algorithm").unwrap_or("")) {
        return Err(invalid("signature algorithm not allowed (weak or unknown)"));
    }
    let refs: Vec<&xml::El> = si.kids(NS_DS, "Reference").collect();
    let want = format!("#{}", owner.attr("ID").unwrap_or("\u{0}"));
    if refs.len() != 1 || refs[0].attr("URI") != Some(want.as_str()) {
        return Err(invalid(
            "signature Reference does not point to its parent element",
        ));
    }
    let dm = one(refs[0], NS_DS, "DigestMethod", "DigestMethod")?;
    if !OK_DIGESTS.contains(&dm.attr("Algorithm").unwrap_or("")) {
        return Err(invalid("digest algorithm not allowed (weak or unknown)"));
    }
    if let Some(ts) = opt(refs[0], NS_DS, "Transforms", "Transforms")? {
        for t in &ts.children {
            if t.ns != NS_DS
                || t.name != "Transform"
                || !OK_TRANSFORMS.contains(&t.attr("Algorithm").unwrap_or(""))
                || !t.children.is_empty()
            {
                return Err(invalid("forbidden transform in signature"));
            }
        }
    }
    Ok(())
}

/// The single child `ns:name` of `parent` (error if missing or repeated).
fn one<'a>(parent: &'a xml::El, ns: &str, name: &str, what: &str) -> Result<&'a xml::El, Rejected> {
    opt(parent, ns, name, what)?.ok_or_else(|| invalid(format!("{what} missing")))
}

/// The optional single child `ns:name` of `parent` (error if repeated).
fn opt<'a>(
    parent: &'a xml::El,
    ns: &str,
    name: &str,
    what: &str,
) -> Result<Option<&'a xml::El>, Rejected> {
    let mut it = parent
        .children
        .iter()
        .filter(|c| c.ns == ns && c.name == name);
    let first = it.next();
    if it.next().is_some() {
        return Err(invalid(format!("more than one {what}")));
    }
    Ok(first)
}

/// A SAML instant: `YYYY-MM-DDThh:mm:ss[.fraction]Z`.
fn instant(value: Option<&str>, what: &str) -> Result<DateTime<Utc>, Rejected> {
    let v = value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid(format!("{what} missing")))?;
    let b = v.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && match &b[19..] {
            [b'Z'] => true,
            [b'.', frac @ .., b'Z'] => !frac.is_empty() && frac.iter().all(u8::is_ascii_digit),
            _ => false,
        };
    if !shape {
        return Err(invalid(format!("{what} has an invalid format")));
    }
    DateTime::parse_from_rfc3339(v)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| invalid(format!("{what} is not a valid instant")))
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

/// The SP key, its DER encoding and the certificate's DER encoding.
type SpKeys = (PKey<Private>, Vec<u8>, Vec<u8>);

fn load_sp_key(sp: &SpConfig) -> Result<SpKeys, String> {
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

async fn fetch_metadata(source: &str) -> Result<String, String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
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
fn parse_idp_metadata(xml: &str, source: &str) -> Result<Vec<IdpInfo>, String> {
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

fn idp_info(ed: &EntityDescriptor, source: &str) -> Result<IdpInfo, String> {
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
            X509::from_der(&der).map_err(|e| {
                format!("IdP metadata {source} ({entity_id}): bad signing certificate ({e})")
            })?;
            signing_certs.push(der);
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
    })
}

/// certificatePolicies: 1.3.76.16.6 ("agIDcert") and 1.3.76.16.4.2.1 ("cert_SP_Pub"), each
/// with a userNotice explicitText, DER-encoded as `openssl req` does with spid-cert.cnf.
fn spid_policies_der() -> Vec<u8> {
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

fn generate_keypair(
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

/// A small, strict XML reader for the checks on the raw Response (never for trusted values):
/// namespaces resolved, no DTD, no entities beyond the predefined ones, depth and size limits.
mod xml {
    const MAX_DEPTH: usize = 64;
    const MAX_ELEMENTS: usize = 20_000;
    const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

    /// An element.
    #[derive(Debug, Default)]
    pub(super) struct El {
        /// Namespace URI ("" when none).
        pub ns: String,
        /// Local name.
        pub name: String,
        /// Attributes as written (qualified names), namespace declarations excluded.
        pub attrs: Vec<(String, String)>,
        pub children: Vec<El>,
        /// The direct text content, entities decoded.
        pub text: String,
        /// A comment or processing instruction directly inside.
        pub comments: bool,
    }

    impl El {
        pub fn attr(&self, name: &str) -> Option<&str> {
            self.attrs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        }

        pub fn kids<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a El> {
            self.children
                .iter()
                .filter(move |c| c.ns == ns && c.name == name)
        }

        /// This element and all its descendants, in document order.
        pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a El)) {
            f(self);
            for c in &self.children {
                c.walk(f);
            }
        }
    }

    struct Frame {
        el: El,
        qname: String,
        decls: Vec<(String, String)>,
    }

    fn find(s: &str, from: usize, pat: &str) -> Result<usize, String> {
        s.get(from..)
            .and_then(|rest| rest.find(pat))
            .map(|p| from + p)
            .ok_or_else(|| format!("unterminated construct (expected {pat:?})"))
    }

    fn decode(t: &str) -> Result<String, String> {
        if !t.contains('&') {
            return Ok(t.to_owned());
        }
        let mut out = String::with_capacity(t.len());
        let mut rest = t;
        while let Some(p) = rest.find('&') {
            out.push_str(&rest[..p]);
            let after = &rest[p + 1..];
            let semi = after.find(';').ok_or("bad entity reference")?;
            let ent = &after[..semi];
            let c = match ent {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(h) = ent.strip_prefix("#x") {
                        u32::from_str_radix(h, 16).ok()
                    } else if let Some(d) = ent.strip_prefix('#') {
                        d.parse::<u32>().ok()
                    } else {
                        None
                    };
                    code.and_then(char::from_u32)
                        .ok_or_else(|| format!("unknown entity &{ent};"))?
                }
            };
            out.push(c);
            rest = &after[semi + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn resolve(prefix: &str, own: &[(String, String)], stack: &[Frame]) -> Result<String, String> {
        if prefix == "xml" {
            return Ok(XML_NS.to_owned());
        }
        let scopes = std::iter::once(own).chain(stack.iter().rev().map(|f| f.decls.as_slice()));
        for decls in scopes {
            if let Some((_, uri)) = decls.iter().find(|(p, _)| p == prefix) {
                return Ok(uri.clone());
            }
        }
        if prefix.is_empty() {
            Ok(String::new())
        } else {
            Err(format!("undeclared namespace prefix {prefix:?}"))
        }
    }

    fn attach(stack: &mut [Frame], root: &mut Option<El>, el: El) -> Result<(), String> {
        if let Some(top) = stack.last_mut() {
            top.el.children.push(el);
            Ok(())
        } else if root.is_none() {
            *root = Some(el);
            Ok(())
        } else {
            Err("more than one root element".to_owned())
        }
    }

    fn is_ws(b: u8) -> bool {
        matches!(b, b' ' | b'\t' | b'\r' | b'\n')
    }

    /// Parses a whole document.
    pub(super) fn parse(s: &str) -> Result<El, String> {
        let s = s.strip_prefix('\u{feff}').unwrap_or(s);
        let b = s.as_bytes();
        let mut i = 0usize;
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<El> = None;
        let mut count = 0usize;
        while i < b.len() {
            if b[i] != b'<' {
                let next = s[i..].find('<').map_or(b.len(), |p| i + p);
                let text = &s[i..next];
                match stack.last_mut() {
                    Some(top) => top.el.text.push_str(&decode(text)?),
                    None if text.trim().is_empty() => {}
                    None => return Err("text outside the root element".to_owned()),
                }
                i = next;
                continue;
            }
            let rest = &s[i..];
            if rest.starts_with("<!--") {
                let end = find(s, i + 4, "-->")?;
                if let Some(top) = stack.last_mut() {
                    top.el.comments = true;
                }
                i = end + 3;
            } else if rest.starts_with("<![CDATA[") {
                let end = find(s, i + 9, "]]>")?;
                let top = stack.last_mut().ok_or("CDATA outside the root element")?;
                top.el.text.push_str(&s[i + 9..end]);
                i = end + 3;
            } else if rest.starts_with("<?") {
                let end = find(s, i + 2, "?>")?;
                if let Some(top) = stack.last_mut() {
                    top.el.comments = true;
                }
                i = end + 2;
            } else if rest.starts_with("<!") {
                return Err("DOCTYPE and other declarations are not allowed".to_owned());
            } else if rest.starts_with("</") {
                let end = find(s, i + 2, ">")?;
                let name = s[i + 2..end].trim_end();
                let frame = stack.pop().ok_or("end tag without start tag")?;
                if frame.qname != name {
                    return Err(format!("mismatched end tag </{name}>"));
                }
                attach(&mut stack, &mut root, frame.el)?;
                i = end + 1;
            } else {
                i += 1;
                let start = i;
                while i < b.len() && !is_ws(b[i]) && b[i] != b'/' && b[i] != b'>' {
                    i += 1;
                }
                let qname = s[start..i].to_owned();
                if qname.is_empty() || qname.contains('<') {
                    return Err("bad element name".to_owned());
                }
                let mut raw: Vec<(String, String)> = Vec::new();
                let self_closing;
                loop {
                    while i < b.len() && is_ws(b[i]) {
                        i += 1;
                    }
                    match b.get(i) {
                        None => return Err("unterminated start tag".to_owned()),
                        Some(b'>') => {
                            i += 1;
                            self_closing = false;
                            break;
                        }
                        Some(b'/') => {
                            if b.get(i + 1) != Some(&b'>') {
                                return Err("bad start tag".to_owned());
                            }
                            i += 2;
                            self_closing = true;
                            break;
                        }
                        Some(_) => {}
                    }
                    let an_start = i;
                    while i < b.len() && !is_ws(b[i]) && !matches!(b[i], b'=' | b'>' | b'/' | b'<')
                    {
                        i += 1;
                    }
                    let an = s[an_start..i].to_owned();
                    while i < b.len() && is_ws(b[i]) {
                        i += 1;
                    }
                    if an.is_empty() || b.get(i) != Some(&b'=') {
                        return Err("bad attribute".to_owned());
                    }
                    i += 1;
                    while i < b.len() && is_ws(b[i]) {
                        i += 1;
                    }
                    let quote = match b.get(i) {
                        Some(q @ (b'"' | b'\'')) => *q as char,
                        _ => return Err("unquoted attribute value".to_owned()),
                    };
                    let vend = s[i + 1..]
                        .find(quote)
                        .map(|p| i + 1 + p)
                        .ok_or("unterminated attribute value")?;
                    let v = &s[i + 1..vend];
                    if v.contains('<') {
                        return Err("'<' in attribute value".to_owned());
                    }
                    if raw.iter().any(|(k, _)| *k == an) {
                        return Err(format!("duplicate attribute {an}"));
                    }
                    raw.push((an, decode(v)?));
                    i = vend + 1;
                    if i < b.len() && !is_ws(b[i]) && b[i] != b'>' && b[i] != b'/' {
                        return Err("missing space between attributes".to_owned());
                    }
                }
                let mut decls = Vec::new();
                let mut attrs = Vec::new();
                for (k, v) in raw {
                    if k == "xmlns" {
                        decls.push((String::new(), v));
                    } else if let Some(p) = k.strip_prefix("xmlns:") {
                        decls.push((p.to_owned(), v));
                    } else {
                        attrs.push((k, v));
                    }
                }
                let (prefix, local) = qname.split_once(':').unwrap_or(("", qname.as_str()));
                let ns = resolve(prefix, &decls, &stack)?;
                for (k, _) in &attrs {
                    if let Some((p, _)) = k.split_once(':') {
                        resolve(p, &decls, &stack)?;
                    }
                }
                count += 1;
                if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err("document too large or too deep".to_owned());
                }
                if root.is_some() && stack.is_empty() {
                    return Err("content after the root element".to_owned());
                }
                let el = El {
                    ns,
                    name: local.to_owned(),
                    attrs,
                    ..El::default()
                };
                if self_closing {
                    attach(&mut stack, &mut root, el)?;
                } else {
                    stack.push(Frame { el, qname, decls });
                }
            }
        }
        if !stack.is_empty() {
            return Err("unclosed element".to_owned());
        }
        root.ok_or_else(|| "no root element".to_owned())
    }
}

#[cfg(test)]
#[path = "../tests/saml.rs"]
mod tests;

#[path = "saml_slo.rs"]
mod slo;
pub use slo::{LogoutMessage, SamlSubject};
