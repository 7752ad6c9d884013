//! SAML Single Logout over the HTTP-Redirect binding: the LogoutRequest we send when a citizen
//! signs out, the LogoutResponse we send when the IdP ends a session, and the verification of
//! what the IdP sends us (its signature over the query string, by its metadata keys only).

use std::io::{Read, Write};

use base64::Engine as _;
use openssl::hash::MessageDigest;
use openssl::sign::{Signer, Verifier};
use openssl::x509::X509;
use serde::{Deserialize, Serialize};

use super::{IdpInfo, Saml, esc};

const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";

/// Who the IdP signed in: what a LogoutRequest names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlSubject {
    pub name_id: String,
    pub session_index: Option<String>,
}

/// A verified message from an IdP's SingleLogoutService.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutMessage {
    /// The IdP ends a session: end ours, then answer `request_id`.
    Request {
        idp_entity_id: String,
        request_id: String,
        name_id: String,
        relay_state: Option<String>,
    },
    /// The IdP's answer to our LogoutRequest.
    Response {
        idp_entity_id: String,
        in_response_to: String,
        success: bool,
    },
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn deflate_b64(xml: &str) -> Result<String, String> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(xml.as_bytes()).map_err(|e| e.to_string())?;
    let raw = e.finish().map_err(|e| e.to_string())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(raw))
}

fn inflate_b64(b64: &str) -> Result<String, String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| "not base64".to_owned())?;
    let mut out = String::new();
    flate2::read::DeflateDecoder::new(&raw[..])
        .take(256 * 1024)
        .read_to_string(&mut out)
        .map_err(|_| "not a deflated message".to_owned())?;
    Ok(out)
}

/// The value of the first attribute `name="…"` of element `element` (prefix-agnostic), from a
/// document already known to have no DOCTYPE.
fn attr(xml: &str, element: &str, name: &str) -> Option<String> {
    let start = xml
        .find(&format!(":{element} "))
        .or_else(|| xml.find(&format!("<{element} ")))?;
    let tag_end = xml[start..].find('>')? + start;
    let tag = &xml[start..tag_end];
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = tag[i..].find('"')? + i;
    Some(tag[i..j].to_owned())
}

/// The text of the first element `element` (prefix-agnostic).
fn text(xml: &str, element: &str) -> Option<String> {
    let open = xml
        .find(&format!(":{element}"))
        .or_else(|| xml.find(&format!("<{element}")))?;
    let start = xml[open..].find('>')? + open + 1;
    let end = xml[start..].find('<')? + start;
    let t = xml[start..end].trim();
    (!t.is_empty()).then(|| {
        t.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    })
}

impl Saml {
    fn signed_redirect(
        &self,
        destination: &str,
        param: &str,
        xml: &str,
        relay_state: &str,
    ) -> Result<String, String> {
        let mut query = format!("{param}={}", enc(&deflate_b64(xml)?));
        if !relay_state.is_empty() {
            query.push_str(&format!("&RelayState={}", enc(relay_state)));
        }
        query.push_str(&format!("&SigAlg={}", enc(RSA_SHA256)));
        let mut signer =
            Signer::new(MessageDigest::sha256(), &self.key).map_err(|e| e.to_string())?;
        signer.update(query.as_bytes()).map_err(|e| e.to_string())?;
        let sig = signer.sign_to_vec().map_err(|e| e.to_string())?;
        let sig = base64::engine::general_purpose::STANDARD.encode(sig);
        let sep = if destination.contains('?') { '&' } else { '?' };
        Ok(format!("{destination}{sep}{query}&Signature={}", enc(&sig)))
    }

    fn issuer_xml(&self) -> String {
        format!(
            "<saml:Issuer Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:entity\" \
             NameQualifier=\"{sp}\">{sp}</saml:Issuer>",
            sp = esc(&self.sp.entity_id)
        )
    }

    /// A signed LogoutRequest for the IdP's SingleLogoutService (HTTP-Redirect): `(ID, URL)`,
    /// or `None` if the IdP has no such service.
    pub fn logout_request(
        &self,
        idp: &IdpInfo,
        subject: &SamlSubject,
        relay_state: &str,
    ) -> Result<Option<(String, String)>, String> {
        let Some(dest) = idp.slo_redirect.as_deref() else {
            return Ok(None);
        };
        let id = format!("_{}", uuid::Uuid::new_v4().simple());
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        let session_index = subject
            .session_index
            .as_deref()
            .map(|s| format!("<samlp:SessionIndex>{}</samlp:SessionIndex>", esc(s)))
            .unwrap_or_default();
        let xml = format!(
            "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" \
             IssueInstant=\"{now}\" Destination=\"{dest}\">{issuer}\
             <saml:NameID Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:transient\" \
             NameQualifier=\"{idp_id}\">{name_id}</saml:NameID>{session_index}</samlp:LogoutRequest>",
            dest = esc(dest),
            issuer = self.issuer_xml(),
            idp_id = esc(&idp.entity_id),
            name_id = esc(&subject.name_id),
        );
        let url = self.signed_redirect(dest, "SAMLRequest", &xml, relay_state)?;
        Ok(Some((id, url)))
    }

    /// Our signed LogoutResponse to an IdP's LogoutRequest (HTTP-Redirect).
    pub fn logout_response(
        &self,
        idp: &IdpInfo,
        in_response_to: &str,
        success: bool,
        relay_state: &str,
    ) -> Result<Option<String>, String> {
        let Some(dest) = idp.slo_redirect.as_deref() else {
            return Ok(None);
        };
        let xml = format!(
            "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_{id}\" \
             InResponseTo=\"{irt}\" Version=\"2.0\" IssueInstant=\"{now}\" \
             Destination=\"{dest}\">{issuer}<samlp:Status><samlp:StatusCode Value=\"{status}\"/>\
             </samlp:Status></samlp:LogoutResponse>",
            id = uuid::Uuid::new_v4().simple(),
            irt = esc(in_response_to),
            now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
            dest = esc(dest),
            issuer = self.issuer_xml(),
            status = if success { SUCCESS } else { RESPONDER },
        );
        self.signed_redirect(dest, "SAMLResponse", &xml, relay_state)
            .map(Some)
    }

    /// Verifies a message that came to our SingleLogoutService by HTTP-Redirect: its raw query
    /// string must carry `SAMLRequest` or `SAMLResponse`, `SigAlg` (RSA-SHA256) and a `Signature`
    /// by the issuing IdP's metadata key over the parameters exactly as sent.
    pub fn verify_logout(&self, raw_query: &str) -> Result<LogoutMessage, String> {
        let mut parts: Vec<(&str, &str)> = Vec::new();
        for pair in raw_query.split('&') {
            if let Some((k, v)) = pair.split_once('=') {
                parts.push((k, v));
            }
        }
        let raw = |k: &str| parts.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        let decoded = |v: &str| -> Result<String, String> {
            url::form_urlencoded::parse(format!("x={v}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .ok_or_else(|| "bad encoding".to_owned())
        };
        let (param, value) = match (raw("SAMLRequest"), raw("SAMLResponse")) {
            (Some(v), None) => ("SAMLRequest", v),
            (None, Some(v)) => ("SAMLResponse", v),
            _ => return Err("expected one SAMLRequest or SAMLResponse".into()),
        };
        let sig_alg = raw("SigAlg").ok_or("the message is not signed")?;
        let signature = raw("Signature").ok_or("the message is not signed")?;
        if decoded(sig_alg)? != RSA_SHA256 {
            return Err("signature algorithm not accepted".into());
        }
        let xml = inflate_b64(&decoded(value)?)?;
        if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
            return Err("DOCTYPE not allowed".into());
        }
        let issuer = text(&xml, "Issuer").ok_or("no Issuer")?;
        let idp = self
            .idps
            .iter()
            .find(|i| i.entity_id == issuer)
            .ok_or("unknown identity provider")?;
        let mut signed = format!("{param}={value}");
        if let Some(r) = raw("RelayState") {
            signed.push_str(&format!("&RelayState={r}"));
        }
        signed.push_str(&format!("&SigAlg={sig_alg}"));
        let sig = base64::engine::general_purpose::STANDARD
            .decode(decoded(signature)?.trim())
            .map_err(|_| "bad signature encoding")?;
        let verified = idp.usable_certs(chrono::Utc::now())?.iter().any(|c| {
            X509::from_der(&c.der)
                .and_then(|c| c.public_key())
                .and_then(|k| {
                    let mut v = Verifier::new(MessageDigest::sha256(), &k)?;
                    v.update(signed.as_bytes())?;
                    v.verify(&sig)
                })
                .unwrap_or(false)
        });
        if !verified {
            return Err("the signature is not the identity provider's".into());
        }
        let relay_state = raw("RelayState").map(decoded).transpose()?;
        let destination_ok = |dest: Option<String>| dest.is_some_and(|d| d == self.sp.slo_url);
        if param == "SAMLRequest" {
            if !xml.contains("LogoutRequest") {
                return Err("not a LogoutRequest".into());
            }
            if !destination_ok(attr(&xml, "LogoutRequest", "Destination")) {
                return Err("wrong Destination".into());
            }
            Ok(LogoutMessage::Request {
                idp_entity_id: idp.entity_id.clone(),
                request_id: attr(&xml, "LogoutRequest", "ID").ok_or("no ID")?,
                name_id: text(&xml, "NameID").ok_or("no NameID")?,
                relay_state,
            })
        } else {
            if !xml.contains("LogoutResponse") {
                return Err("not a LogoutResponse".into());
            }
            if !destination_ok(attr(&xml, "LogoutResponse", "Destination")) {
                return Err("wrong Destination".into());
            }
            let status = attr(&xml, "StatusCode", "Value").unwrap_or_default();
            Ok(LogoutMessage::Response {
                idp_entity_id: idp.entity_id.clone(),
                in_response_to: attr(&xml, "LogoutResponse", "InResponseTo")
                    .ok_or("no InResponseTo")?,
                success: status == SUCCESS,
            })
        }
    }
}
