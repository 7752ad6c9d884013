//! Authorization benchmark helper (driven by `tests/bench/authz.sh`), against a database where
//! every ISTAT commune is onboarded:
//!   authz_bench seed <db-url> <staff per commune> <custom communes>
//!   authz_bench measure <db-url> <checks> <poll-ms> <changes>
//! `seed` gives each commune `<staff>` staff accounts with template roles (admin, office head,
//! clerk, front desk, call centre, …) and `<custom>` communes rules of their own. `measure`
//! prints, one per line: load ms (median of 3), enforcer memory MiB, rule sets, rules, links,
//! check p50 µs,
//! check p99 µs, propagation p50 ms, propagation p99 ms.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use sportello_authz::{Action, Object, Subject};
use sportello_domain::TenantId;
use sportello_kernel::policies::{PolicySync, load};
use sportello_store::Store;

type R<T> = Result<T, Box<dyn std::error::Error>>;

const ROLES: [&str; 7] = [
    "admin",
    "office_head",
    "clerk",
    "front_desk",
    "call_centre",
    "intermediary",
    "verifier",
];

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<f64>().ok())
        })
        .map(|pages| pages * 4096.0 / 1_048_576.0)
        .unwrap_or(0.0)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or(0.0)
}

async fn communes(store: &Store) -> R<Vec<i64>> {
    Ok(store
        .federation()
        .load_registry()
        .await?
        .into_iter()
        .map(|c| c.id.0)
        .collect())
}

async fn seed(url: &str, per: usize, custom: usize) -> R<()> {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    let store = Store::connect(url).await?;
    let ids = communes(&store).await?;
    let conn = store.raw_connection();
    let backend = conn.get_database_backend();
    let txn = conn.begin().await?;
    for chunk in ids.chunks(200) {
        let mut accounts = Vec::new();
        let mut roles = Vec::new();
        for c in chunk {
            for i in 0..per {
                let id = format!("b{c}x{i}");
                accounts.push(format!(
                    "({c}, '{id}', '{id}@bench.example', 'Bench {i}', '{r}', NULL, NULL, NULL, NULL, NULL, 0, NULL, 0)",
                    r = ROLES[i % ROLES.len()]
                ));
                roles.push(format!(
                    "({c}, '{id}', '{r}', '', 'bench', 0)",
                    r = ROLES[i % ROLES.len()]
                ));
            }
        }
        txn.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO staff_accounts (tenant_id, id, email, display_name, role, fiscal_code, \
                 password_hash, totp_secret, totp_confirmed_at, totp_last_step, failed_attempts, \
                 locked_until, created_at) VALUES {}",
                accounts.join(", ")
            ),
        ))
        .await?;
        txn.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO role_assignments (tenant_id, staff_id, role, office_id, granted_by, \
                 granted_at) VALUES {}",
                roles.join(", ")
            ),
        ))
        .await?;
    }
    // A few communes with rules of their own: the template plus "clerks read the audit log".
    let mut rules = sportello_authz::template::rules(1).unwrap_or_default();
    rules.push(sportello_authz::Rule::new(
        sportello_authz::Role::Clerk,
        Object::Audit,
        &[Action::Read],
    ));
    let json = serde_json::to_string(&rules)?.replace('\'', "''");
    for c in ids.iter().take(custom) {
        txn.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO commune_policies (tenant_id, template_version, custom_rules, \
                 updated_at, updated_by) VALUES ({c}, 1, '{json}', 0, 'bench') \
                 ON CONFLICT (tenant_id) DO UPDATE SET custom_rules = excluded.custom_rules"
            ),
        ))
        .await?;
    }
    txn.commit().await?;
    println!("{} communes, {} staff", ids.len(), ids.len() * per);
    Ok(())
}

async fn measure(url: &str, checks: usize, poll_ms: u64, changes: usize) -> R<()> {
    let store = Store::connect(url).await?;
    let ids = communes(&store).await?;
    // Load: median of three.
    // Memory: what the first load adds to the process (later loads reuse freed pages).
    let before = rss_mib();
    let t = Instant::now();
    let (first, _) = load(&store).await.map_err(|e| e.to_string())?;
    let mut loads = vec![t.elapsed().as_secs_f64() * 1000.0];
    let grown = rss_mib() - before;
    drop(first);
    let mut kept = None;
    for _ in 0..2 {
        let t = Instant::now();
        let loaded = load(&store).await.map_err(|e| e.to_string())?;
        loads.push(t.elapsed().as_secs_f64() * 1000.0);
        drop(kept.take());
        kept = Some(loaded);
    }
    let (policies, revision) = kept.ok_or("no load")?;
    let (sets, rules, links) = policies.size().await;
    // Checks: random commune, random staff of it, random object and action.
    let per = {
        let tx = store.tenant(TenantId(ids[0])).await?;
        let n = tx.db().role_assignments().await?.len();
        tx.commit().await?;
        n.max(1)
    };
    let mut rng = rand::rng();
    let mut lat = Vec::with_capacity(checks);
    let mut allowed = 0usize;
    for _ in 0..checks {
        let c = ids[rng.random_range(0..ids.len())];
        let staff = format!("b{c}x{}", rng.random_range(0..per));
        let obj = Object::COMMUNE[rng.random_range(0..Object::COMMUNE.len())];
        let act = Action::ALL[rng.random_range(0..Action::ALL.len())];
        let t = Instant::now();
        let ok = policies
            .allows(Subject::Staff(&staff), Some(TenantId(c)), obj, act, 0)
            .await;
        lat.push(t.elapsed().as_secs_f64() * 1e6);
        allowed += usize::from(ok);
    }
    if allowed == 0 || allowed == checks {
        return Err("checks all allowed or all denied: the seed is wrong".into());
    }
    // Propagation: another node (its own enforcer, polling like a server) sees a role taken
    // back and given again by this one.
    let other = Arc::new(policies);
    let sync = Arc::new(PolicySync::new(revision));
    sync.spawn(store.clone(), other.clone(), Duration::from_millis(poll_ms));
    let mut prop = Vec::new();
    // Each round: take a clerk's role back on "this node" and time until the other enforces
    // it; give it back and wait for that too (unmeasured); then pause a random part of the
    // poll interval, so the changes fall anywhere in it.
    for _ in 0..changes {
        let c = TenantId(ids[rng.random_range(0..ids.len())]);
        let staff = format!("b{}x2", c.0);
        for give in [false, true] {
            let tx = store.tenant(c).await?;
            if give {
                tx.db()
                    .assign_role(&staff, "clerk", None, "bench", 0)
                    .await?;
            } else {
                tx.db().unassign_role(&staff, "clerk", None).await?;
            }
            tx.db().note_policy_change(0).await?;
            tx.commit().await?;
            let t = Instant::now();
            loop {
                let now = other
                    .allows(
                        Subject::Staff(&staff),
                        Some(c),
                        Object::Cases,
                        Action::Update,
                        0,
                    )
                    .await;
                if now == give {
                    break;
                }
                if t.elapsed() > Duration::from_secs(10) {
                    return Err("the change never arrived".into());
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            if !give {
                prop.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..poll_ms.max(1)))).await;
    }
    println!("{:.0}", pct(&mut loads, 0.5));
    println!("{grown:.0}");
    println!("{sets}");
    println!("{rules}");
    println!("{links}");
    println!("{:.1}", pct(&mut lat, 0.5));
    println!("{:.1}", pct(&mut lat, 0.99));
    println!("{:.0}", pct(&mut prop, 0.5));
    println!("{:.0}", pct(&mut prop, 0.99));
    Ok(())
}

#[tokio::main]
async fn main() -> R<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .ok_or_else(|| format!("argument {i} missing"))
    };
    match arg(1)?.as_str() {
        "seed" => seed(&arg(2)?, arg(3)?.parse()?, arg(4)?.parse()?).await,
        "measure" => {
            measure(
                &arg(2)?,
                arg(3)?.parse()?,
                arg(4)?.parse()?,
                arg(5)?.parse()?,
            )
            .await
        }
        other => Err(format!("unknown command {other}").into()),
    }
}
