//! The registry's commands: the demo's synthetic residents, and verifying a certificate
//! offline with the communes' public keys only.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sportello_population::keys::Published;
use sportello_population::{demo, verify};
use sportello_store::Store;

/// How many synthetic residents the demo gives Pisa, and every other demo commune.
const PISA_RESIDENTS: usize = 3000;
const OTHER_RESIDENTS: usize = 300;

/// Fills each demo commune's registry once (the demo identity provider's people included).
pub async fn demo_residents(store: &Store) -> Result<()> {
    for c in store.federation().load_registry().await? {
        let known: Vec<demo::Known> = sportello_identity::idp::demo::PEOPLE
            .iter()
            .filter(|p| p.commune_istat == c.istat_code)
            .filter_map(|p| {
                Some(demo::Known {
                    fiscal_code: p.fiscal_code.into(),
                    first_name: p.given_name.into(),
                    last_name: p.family_name.into(),
                    birth_date: chrono::NaiveDate::parse_from_str(p.date_of_birth, "%Y-%m-%d")
                        .ok()?,
                    address: p.address.into(),
                })
            })
            .collect();
        let count = if c.istat_code == "050026" {
            PISA_RESIDENTS
        } else {
            OTHER_RESIDENTS
        };
        let written = demo::populate(store, c.id, &c.cadastral_code, &c.name, count, &known)
            .await
            .with_context(|| format!("demo residents of {}", c.name))?;
        if written > 0 {
            println!("{}: {written} demo residents", c.name);
        }
    }
    Ok(())
}

/// `sportello certificates verify`: a certificate's PDF, or its stamp's text (or the address
/// read from its code), checked against key files as the communes publish them.
pub fn verify(what: &str, key_files: &[PathBuf], on: Option<&str>) -> Result<()> {
    let mut keys: Vec<Published> = vec![];
    for f in key_files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        keys.push(
            serde_json::from_str(&text)
                .with_context(|| format!("{}: not a commune's published keys", f.display()))?,
        );
    }
    if keys.is_empty() {
        bail!("no keys: pass --keys FILE (a commune's /.well-known/timbro-digitale.json)");
    }
    let today = match on {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").context("--on: YYYY-MM-DD")?,
        None => sportello_population::today(),
    };
    let path = Path::new(what);
    let verdict = if path.is_file() {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        if bytes.starts_with(b"%PDF") {
            verify::check_pdf(&bytes, &keys, today)
        } else {
            verify::check(&String::from_utf8_lossy(&bytes), &keys, today)
        }
    } else {
        verify::check(what, &keys, today)
    };
    match verdict {
        Ok(c) => {
            println!(
                "authentic: certificate {} of commune {} ({}), kind {}",
                c.n, c.c, c.h, c.k
            );
            println!("issued {}, valid until {}", c.i, c.x);
            for l in &c.l {
                println!("  {l}");
            }
            Ok(())
        }
        Err(why) => bail!("not verified: {}", why.key()),
    }
}
