//! Whether a stamp, or a certificate's PDF, is authentic and still valid: with the communes'
//! public keys only (the verification page uses its commune's; the command line a file of them).

use chrono::NaiveDate;
use sportello_domain::TenantId;
use sportello_kernel::{Deps, Result};

use crate::keys::Published;
use crate::stamp::{self, Content, Refusal};

/// Communes' published keys, decoded once (decoding a key costs more than checking a
/// signature with it).
pub struct Keyring {
    keys: Vec<(i64, String, openssl::ec::EcKey<openssl::pkey::Public>)>,
}

impl Keyring {
    /// The usable keys of the files given (a key that does not decode is left out).
    pub fn new(published: &[Published]) -> Keyring {
        Keyring {
            keys: published
                .iter()
                .flat_map(|p| p.keys.iter().map(move |k| (p.commune, k)))
                .filter_map(|(c, k)| Some((c, k.kid.clone(), k.key()?.ec_key().ok()?)))
                .collect(),
        }
    }
}

/// Checks a stamp's text (or the address holding it) against the published keys, on `today`.
pub fn check(
    text: &str,
    keys: &[Published],
    today: NaiveDate,
) -> std::result::Result<Content, Refusal> {
    check_with(text, &Keyring::new(keys), today)
}

/// The same with a keyring already decoded.
pub fn check_with(
    text: &str,
    keys: &Keyring,
    today: NaiveDate,
) -> std::result::Result<Content, Refusal> {
    let opened = stamp::open(text)?;
    let (_, _, key) = keys
        .keys
        .iter()
        .find(|(c, kid, _)| *c == opened.content.c && *kid == opened.kid)
        .ok_or(Refusal::UnknownKey)?;
    if !opened.signed_by_ec(key) {
        return Err(Refusal::BadSignature);
    }
    let last =
        NaiveDate::parse_from_str(&opened.content.x, "%Y-%m-%d").map_err(|_| Refusal::Malformed)?;
    if today > last {
        return Err(Refusal::Expired);
    }
    Ok(opened.content)
}

/// Checks a certificate's PDF: it must be a file exactly as the commune writes them (nothing
/// added, hidden or compressed), its stamp authentic and valid, its pages showing exactly the
/// text the stamp certifies (its digest), and every page's 2D code the stamp's own, pointing at
/// the commune's verification page.
pub fn check_pdf(
    pdf: &[u8],
    keys: &[Published],
    today: NaiveDate,
) -> std::result::Result<Content, Refusal> {
    if sportello_kernel::pdf::info_value(pdf, "SportelloStamp").is_none() {
        return Err(Refusal::Malformed);
    }
    let read = sportello_kernel::stamped_pdf::read(pdf).ok_or(Refusal::Altered)?;
    let content = check(&read.stamp, keys, today)?;
    let code_ok = read
        .code
        .strip_suffix(&read.stamp)
        .and_then(|u| u.strip_suffix("/verifica?t="))
        .is_some_and(|origin| {
            let host = origin.split("://").nth(1).unwrap_or("");
            host.split(':').next() == Some(content.h.as_str())
        });
    if content.d != read.digest || !read.code_on_every_page || !code_ok {
        return Err(Refusal::Altered);
    }
    // A signed file: its PAdES signature is the commune's, with the stamp's key, over every
    // byte (a file signed again by anyone else is not as the commune wrote it).
    if let Some((_, sig)) = sportello_kernel::pdf_signature::original(pdf) {
        let kid = read.stamp.split('.').nth(1).unwrap_or("");
        let key = keys
            .iter()
            .filter(|p| p.commune == content.c)
            .flat_map(|p| p.keys.iter())
            .find(|k| k.kid == kid)
            .and_then(|k| k.key());
        if !key.is_some_and(|k| crate::pades::signed_by(&sig, &k)) {
            return Err(Refusal::Altered);
        }
    }
    Ok(content)
}

/// What the verification page says.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Checked {
    pub verdict: std::result::Result<Content, Refusal>,
    /// Whether the commune's record of issued certificates holds it (an authentic stamp whose
    /// certificate is not recorded would mean a key was misused).
    pub recorded: bool,
}

/// The verification page of a commune's host: its own keys, its own record.
pub async fn on_host(deps: &Deps, commune: TenantId, text: &str) -> Result<Checked> {
    let keys = crate::keys::published(deps, commune).await?;
    let verdict = check(text, std::slice::from_ref(&keys), crate::today());
    let mut recorded = false;
    if let Ok(c) = &verdict
        && let Some((y, n)) = c.n.split_once('/')
        && let (Ok(y), Ok(n)) = (y.parse::<i32>(), n.parse::<i64>())
    {
        let tx = deps.store.tenant_read(commune).await?;
        recorded = tx
            .db()
            .certificate(y, n)
            .await?
            .is_some_and(|r| r.kind == c.k);
        tx.commit().await?;
    }
    Ok(Checked { verdict, recorded })
}
