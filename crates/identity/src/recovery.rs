//! Recovery codes for staff: issued once, when the authenticator is enrolled, shown once, and
//! each good for one sign-in in place of the authenticator's code (a lost phone). Kept as
//! hashes among the staff's one-time tokens (purpose `recovery`), so a copy of the database
//! holds none of them.

use rand::Rng;
use sportello_kernel::tokens;
use sportello_kernel::{Deps, Result};
use sportello_store::now_micros;
use sportello_store::staff::Realm;

/// How many codes an enrolment issues.
pub const COUNT: usize = 10;
/// They keep (a staff account outlives most phones).
const YEARS: i64 = 10;
const PURPOSE: &str = "recovery";
/// Letters and digits that cannot be mistaken for each other when copied by hand.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A new code: 12 characters (about 59 bits) in groups of four, `xxxx-xxxx-xxxx`.
fn new_code() -> String {
    let mut rng = rand::rng();
    let mut out = String::with_capacity(14);
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    out
}

/// A code as typed: case, spaces and dashes do not matter.
fn normalised(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether what was typed looks like a recovery code (not a six-digit authenticator code).
pub fn looks_like_one(code: &str) -> bool {
    normalised(code).len() == 12
}

/// Issues a fresh set (the old ones stop working) and returns them, in clear, to show once.
pub async fn issue(deps: &Deps, realm: Realm, staff_id: &str) -> Result<Vec<String>> {
    let codes: Vec<String> = (0..COUNT).map(|_| new_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| tokens::hash(&normalised(c))).collect();
    let until = now_micros() + YEARS * 366 * 86_400 * 1_000_000;
    let tx = deps.store.staff(realm).await?;
    tx.db()
        .replace_staff_tokens(staff_id, PURPOSE, &hashes, until)
        .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Spends a code of this person: true the first time, never again.
pub async fn spend(deps: &Deps, realm: Realm, staff_id: &str, code: &str) -> Result<bool> {
    let tx = deps.store.staff(realm).await?;
    let ok = tx
        .db()
        .take_staff_token(
            &tokens::hash(&normalised(code)),
            PURPOSE,
            staff_id,
            now_micros(),
        )
        .await?;
    tx.commit().await?;
    Ok(ok)
}

/// How many codes a person has left.
pub async fn left(deps: &Deps, realm: Realm, staff_id: &str) -> Result<i64> {
    let tx = deps.store.staff(realm).await?;
    let n = tx
        .db()
        .staff_tokens_left(staff_id, PURPOSE, now_micros())
        .await?;
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
#[path = "tests/recovery.rs"]
mod tests;
