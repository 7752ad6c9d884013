//! The digital stamp's text: a certificate's essential content and the commune's signature
//! over it, short enough for a 2D code.
//!
//! `SPT1.<kid>.<content>.<signature>`: the content is JSON, deflated, in base64url; the
//! signature is ECDSA P-256 with SHA-256 over `SPT1.<kid>.<content>` as the 64 bytes r‖s, in
//! base64url. The key is found by `kid` among the commune's published keys.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::pkey::{PKey, Private, Public};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "SPT1";

/// What a certificate certifies, as the stamp carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// The commune (ISTAT code as a number) and its host.
    pub c: i64,
    pub h: String,
    /// The certificate's number: `2026/17`.
    pub n: String,
    /// Its kind's key.
    pub k: String,
    /// Issued and last valid day, `YYYY-MM-DD`.
    pub i: String,
    pub x: String,
    /// The essential lines, as printed on the certificate.
    pub l: Vec<String>,
    /// SHA-256 (hex) of everything its pages show as text (`kernel::stamped_pdf`): the PDF
    /// checked offline must show exactly that.
    pub d: String,
}

/// Why a stamp was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Refusal {
    /// Not a stamp's text at all.
    Malformed,
    /// No key of this commune has that id.
    UnknownKey,
    /// The signature does not match the content.
    BadSignature,
    /// Authentic, but past its last valid day.
    Expired,
    /// Authentic, but the PDF does not show what the stamp certifies.
    Altered,
}

impl Refusal {
    pub fn key(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::UnknownKey => "unknown_key",
            Refusal::BadSignature => "bad_signature",
            Refusal::Expired => "expired",
            Refusal::Altered => "altered",
        }
    }
}

/// A stamp's text taken apart (not yet checked).
#[derive(Debug, Clone)]
pub struct Opened {
    pub kid: String,
    pub content: Content,
    signed: String,
    signature: Vec<u8>,
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(vec![], flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}

/// The most bytes a stamp's content inflates to (a family of many, with margin).
const CONTENT_MAX: u64 = 16 * 1024;

fn inflate(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![];
    flate2::read::DeflateDecoder::new(bytes)
        .take(CONTENT_MAX + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() as u64 <= CONTENT_MAX).then_some(out)
}

/// Signs `content` with the commune's key: the stamp's text.
pub fn seal(content: &Content, kid: &str, key: &PKey<Private>) -> Result<String, String> {
    let json = serde_json::to_vec(content).map_err(|e| e.to_string())?;
    let signed = format!("{PREFIX}.{kid}.{}", URL_SAFE_NO_PAD.encode(deflate(&json)));
    let ec = key.ec_key().map_err(|e| e.to_string())?;
    let sig = EcdsaSig::sign(&Sha256::digest(signed.as_bytes()), &ec).map_err(|e| e.to_string())?;
    let mut raw = sig.r().to_vec_padded(32).map_err(|e| e.to_string())?;
    raw.extend(sig.s().to_vec_padded(32).map_err(|e| e.to_string())?);
    Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(raw)))
}

/// Takes a stamp's text apart: the bare text, or the verification address holding it (`…?t=`).
pub fn open(text: &str) -> Result<Opened, Refusal> {
    let t = text.trim();
    let t = t.rsplit_once("t=").map_or(t, |(_, v)| v);
    let t = t.split(['&', '#']).next().unwrap_or(t);
    let parts: Vec<&str> = t.split('.').collect();
    let [prefix, kid, content, sig] = parts[..] else {
        return Err(Refusal::Malformed);
    };
    if prefix != PREFIX
        || kid.is_empty()
        || kid.len() > 32
        || !kid.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(Refusal::Malformed);
    }
    let json = URL_SAFE_NO_PAD
        .decode(content)
        .ok()
        .and_then(|b| inflate(&b))
        .ok_or(Refusal::Malformed)?;
    let content: Content = serde_json::from_slice(&json).map_err(|_| Refusal::Malformed)?;
    let signature = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| Refusal::Malformed)?;
    if signature.len() != 64 {
        return Err(Refusal::Malformed);
    }
    Ok(Opened {
        kid: kid.to_owned(),
        content,
        signed: format!("{prefix}.{kid}.{content}", content = parts[2]),
        signature,
    })
}

impl Opened {
    /// Whether the signature is the key's over the content.
    pub fn signed_by(&self, key: &PKey<Public>) -> bool {
        key.ec_key().is_ok_and(|ec| self.signed_by_ec(&ec))
    }

    /// The same with the key's curve point already taken out (a keyring keeps it so).
    pub fn signed_by_ec(&self, ec: &openssl::ec::EcKeyRef<Public>) -> bool {
        let (r, s) = self.signature.split_at(32);
        let (Ok(r), Ok(s)) = (BigNum::from_slice(r), BigNum::from_slice(s)) else {
            return false;
        };
        let Ok(sig) = EcdsaSig::from_private_components(r, s) else {
            return false;
        };
        sig.verify(&Sha256::digest(self.signed.as_bytes()), ec)
            .unwrap_or(false)
    }
}
