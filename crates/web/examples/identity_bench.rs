//! Identity benchmark helper (used by `tests/bench/identity.sh`):
//!
//! - `argon2 <n>`: the cost of one password hash and one verification with the chosen parameters;
//! - `prepare <database url> <sessions> <cookie file>`: a person with one single sign-on session
//!   and `<sessions>` citizen sessions at Pisa; writes the citizen cookies (one a line) and prints
//!   the SSO cookie;
//! - `handoff <port> <sso cookie> <n>`: times `n` single sign-on hand-offs to Calci (the sign-in
//!   host's redirect with a one-time code, then the code's redemption on Calci) over loopback,
//!   printing p50 and p99 in milliseconds.

use std::error::Error;
use std::time::Instant;

use sportello_domain::{AssuranceLevel, TenantId};
use sportello_identity::password;
use sportello_kernel::session::{Kind, Lifetimes, NewSession, Sessions};
use sportello_store::Store;
use sportello_store::identity::VerifiedIdentity;

/// The hand-off state a commune's `/accedi` would have set in the browser.
const STATE: &str = "bench-state-0123456789abcdef";

type Res<T> = Result<T, Box<dyn Error>>;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// The `i`-th command-line argument, or a usage error.
fn arg(args: &[String], i: usize) -> Res<&str> {
    args.get(i).map(String::as_str).ok_or_else(|| USAGE.into())
}

const USAGE: &str = "usage: identity_bench argon2 N | prepare DB N FILE | handoff PORT SSO N";

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("argon2") => {
            let n: usize = arg(&args, 2)?.parse()?;
            let t = Instant::now();
            let mut h = String::new();
            for _ in 0..n {
                h = password::hash_blocking("la torre pende 1173")?;
            }
            let hash_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
            let t = Instant::now();
            for _ in 0..n {
                if !password::verify_blocking("la torre pende 1173", &h) {
                    return Err("verification failed".into());
                }
            }
            let verify_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
            println!("{hash_ms:.1} {verify_ms:.1}");
        }
        Some("prepare") => {
            let store = Store::connect(arg(&args, 2)?).await?;
            let n: usize = arg(&args, 3)?.parse()?;
            let person = store
                .identity()
                .person_from_idp(
                    &VerifiedIdentity {
                        fiscal_code: "RSSMRA80A01G702C".into(),
                        given_name: "Mario".into(),
                        family_name: "Rossi".into(),
                        email: None,
                        mobile: None,
                        date_of_birth: None,
                        place_of_birth: None,
                    },
                    sportello_store::now_micros(),
                )
                .await?;
            let sessions = Sessions::new(
                Lifetimes {
                    idle: 3600,
                    absolute: 8 * 3600,
                    staff_idle: 900,
                },
                false,
            );
            let new = |kind, commune| NewSession {
                kind,
                sso_hash: None,
                commune,
                person_id: Some(&person.id),
                staff_id: None,
                level: AssuranceLevel::Substantial,
                idp: "bench",
                mfa: false,
                user_agent: None,
                not_after: None,
            };
            let sso = sessions.create(&store, new(Kind::Sso, None)).await?;
            let mut cookies = String::new();
            for _ in 0..n {
                let mut s = new(Kind::Citizen, Some(TenantId(50026)));
                s.sso_hash = Some(sportello_kernel::tokens::hash(&sso));
                cookies.push_str(&sessions.create(&store, s).await?);
                cookies.push('\n');
            }
            std::fs::write(arg(&args, 4)?, cookies)?;
            println!("{sso}");
        }
        Some("handoff") => {
            let port: u16 = arg(&args, 2)?.parse()?;
            let sso = arg(&args, 3)?;
            let n: usize = arg(&args, 4)?.parse()?;
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?;
            let mut times = Vec::with_capacity(n);
            for i in 0..n + 20 {
                let t = Instant::now();
                let r = http
                    .get(format!(
                        "http://127.0.0.1:{port}/autorizza?host=calci.localhost&next=/&state={STATE}"
                    ))
                    .header("host", format!("login.localhost:{port}"))
                    .header("cookie", format!("sportello_sso={sso}"))
                    .send()
                    .await?;
                if r.status() != 303 {
                    return Err(format!("/autorizza answered {}", r.status()).into());
                }
                let loc = r
                    .headers()
                    .get("location")
                    .ok_or("no Location")?
                    .to_str()?
                    .to_owned();
                let path = &loc[loc.find("/accedi").ok_or("no hand-off in Location")?..];
                let r = http
                    .get(format!("http://127.0.0.1:{port}{path}"))
                    .header("host", format!("calci.localhost:{port}"))
                    .header("cookie", format!("sportello_handoff={STATE}"))
                    .send()
                    .await?;
                if r.status() != 303 {
                    return Err(format!("hand-off answered {}", r.status()).into());
                }
                if i >= 20 {
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
            println!("{:.2} {:.2}", pct(&mut times, 0.5), pct(&mut times, 0.99));
        }
        _ => return Err(USAGE.into()),
    }
    Ok(())
}
