//! Password hashing: Argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane), run
//! off the async workers. See the README's benchmark for what one hash costs here.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::{Algorithm, Argon2, Params, Version};

/// Memory in KiB, passes, lanes.
pub const PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);

fn argon() -> Result<Argon2<'static>, String> {
    let p = Params::new(PARAMS.0, PARAMS.1, PARAMS.2, None).map_err(|e| e.to_string())?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for `password`.
pub fn hash_blocking(password: &str) -> Result<String, String> {
    argon()?
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches `phc` (parameters are read from the PHC string).
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    argon().is_ok_and(|a| a.verify_password(password.as_bytes(), phc).is_ok())
}

/// At most this many hashes at once (each takes 19 MiB and a core for ~20 ms): a flood of
/// sign-ins or registrations queues instead of exhausting memory.
fn permits() -> &'static tokio::sync::Semaphore {
    static SEM: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SEM.get_or_init(|| tokio::sync::Semaphore::new(hash_bound()))
}

/// Hashes running now, and the most ever at once (tests read it: the bound must hold).
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Counts one hash running while alive.
struct Running;

impl Running {
    fn start() -> Self {
        let n = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(n, Ordering::SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The most hashes (or verifications) this process ever ran at once.
pub fn peak_concurrent_hashes() -> usize {
    PEAK.load(Ordering::SeqCst)
}

/// The bound: one hash per core.
pub fn hash_bound() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

pub async fn hash(password: String) -> Result<String, String> {
    let _permit = permits().acquire().await.map_err(|e| e.to_string())?;
    let _running = Running::start();
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| e.to_string())?
}

pub async fn verify(password: String, phc: String) -> bool {
    let Ok(_permit) = permits().acquire().await else {
        return false;
    };
    let _running = Running::start();
    tokio::task::spawn_blocking(move || verify_blocking(&password, &phc))
        .await
        .unwrap_or(false)
}

/// A hash of a random password, verified against when the account does not exist, so that a
/// wrong e-mail costs the same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking(&sportello_kernel::tokens::new_token()).unwrap_or_default())
}

#[cfg(test)]
#[path = "tests/password.rs"]
mod tests;

/// A new password as a form gives it (typed twice): refused on the `password` field for its
/// own faults, on `password_again` when the two differ.
pub fn check_new(password: &str, again: &str, email: &str) -> Result<(), sportello_kernel::Error> {
    use sportello_kernel::{Error, Why};
    sportello_domain::identity::check_new_password(password, email)
        .map_err(Error::parse("password"))?;
    if password != again {
        return Err(Error::invalid("password_again", Why::PasswordsDiffer));
    }
    Ok(())
}
