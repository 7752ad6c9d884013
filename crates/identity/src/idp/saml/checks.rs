//! The pieces of the Response checks: decoding, the signed assertion, signature shape, strict
//! element and instant readers, the IdP's status in plain words, the RelayState rule.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use samael::crypto::{CertificateDer, Crypto, CryptoProvider, ReduceMode};
use samael::schema::Assertion;

use super::*;

/// The user-facing text for a non-success status (SPID ErrorCode nrNN in StatusMessage).
pub(super) fn idp_status_message(message: &str, sub_status: &str) -> String {
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
pub(super) fn spid_error_code(message: &str) -> Option<u32> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("nr")?;
    let digits: String = lower[at + 2..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

pub(super) fn check_relay_state(relay_state: &str) -> Result<(), String> {
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
pub(super) fn decode_response(b64: &str) -> Result<String, Rejected> {
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
pub(super) fn verified_assertion(xml: &str, idp: &IdpInfo) -> Result<(Assertion, bool), Rejected> {
    let certs: Vec<CertificateDer> = idp
        .usable_certs(Utc::now())
        .map_err(invalid)?
        .into_iter()
        .map(|c| CertificateDer::from(c.der.clone()))
        .collect();
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

pub(super) fn check_signature_shape(sig: &xml::El, owner: &xml::El) -> Result<(), Rejected> {
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
pub(super) fn one<'a>(
    parent: &'a xml::El,
    ns: &str,
    name: &str,
    what: &str,
) -> Result<&'a xml::El, Rejected> {
    opt(parent, ns, name, what)?.ok_or_else(|| invalid(format!("{what} missing")))
}

/// The optional single child `ns:name` of `parent` (error if repeated).
pub(super) fn opt<'a>(
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
pub(super) fn instant(value: Option<&str>, what: &str) -> Result<DateTime<Utc>, Rejected> {
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
