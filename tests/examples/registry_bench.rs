//! The registry benchmark (run by `tests/bench/registry.sh`, which writes the README table),
//! against a fresh database of the tests (`SPORTELLO_TEST_DB=sqlite|postgres`), through the
//! services (no HTTP):
//!
//! - `import N`: a CSV export of N synthetic residents imported into Pisa (every row checked,
//!   one transaction), then the same file again (nothing new);
//! - `certificates N C`: N residence certificates issued at a desk, C at a time, to residents
//!   of a registry of 20,000 (the record read as of today, the PDF drawn, the stamp signed,
//!   the number taken and the certificate and the look recorded, one transaction each);
//! - `verify N`: N stamps checked with the published keys (signature and expiry, no database),
//!   and N checks of the verification page's service (the commune's keys and its record of
//!   certificates read from the database);
//! - `checks N PEOPLE COMMUNES`: PEOPLE residents over COMMUNES communes, then N checks by an
//!   agency's verifier of residents of one commune: p50/p99.
//!
//! Prints markdown rows.

use std::sync::Arc;
use std::time::Instant;

use sportello_authz::Role;
use sportello_domain::TenantId;
use sportello_kernel::{Actor, Deps, Secret, Settings};
use sportello_population::certificates::{self, Request};
use sportello_population::checks::{self, AgencyForm, Question};
use sportello_population::{demo, import, keys, verify};
use sportello_store::staff::Realm;
use sportello_tests::{TestDb, apex, tenants_dir};

const PISA: TenantId = TenantId(50026);
const HEADER: &str = "codice_fiscale;cognome;nome;sesso;data_nascita;luogo_nascita;comune_nascita;cittadinanza;stato_civile;famiglia;relazione;codice_via;via;civico;interno;documento_tipo;documento_numero;documento_scadenza;elettore;dal";

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn setup(
    all_communes: bool,
) -> (
    TestDb,
    Deps,
    tempfile::TempDir,
    Vec<sportello_store::istat::IstatRow>,
) {
    let db = TestDb::new().await;
    let store = db.app_store().await;
    let owner = sportello_store::Store::connect(&db.admin_url)
        .await
        .expect("owner");
    let rows =
        sportello_store::istat::parse_csv(sportello_store::istat::EMBEDDED_CSV).expect("istat");
    if all_communes {
        owner
            .federation()
            .import_istat(&rows, &apex(), |_| {})
            .await
            .expect("import");
    }
    owner
        .federation()
        .sync_tenants_dir(&tenants_dir(), &apex())
        .await
        .expect("sync");
    let files = tempfile::tempdir().expect("tmp");
    let settings = Settings {
        database_url: Secret::new(db.app_url.clone()),
        mail_outbox: files.path().display().to_string(),
        files_dir: files.path().join("f").display().to_string(),
        ..Settings::default()
    };
    let deps = Deps::load(&settings, store, "http://login.bench".into())
        .await
        .expect("deps");
    (db, deps, files, rows)
}

async fn staff(deps: &Deps, commune: TenantId, email: &str, role: Role) -> Actor {
    let realm = Realm::Commune(commune);
    let (id, _) = sportello_identity::staff::invite(&deps.store, realm, email, email, role.key())
        .await
        .expect("invite");
    deps.apply_policy_changes().await.expect("policies");
    Actor {
        realm,
        staff_id: id,
        name: email.into(),
        email: email.into(),
        federation: false,
    }
}

/// The residents as a CSV export.
fn csv_of(rows: &[import::Row]) -> String {
    let mut out = String::from(HEADER);
    for r in rows {
        let f = r.facts.raw();
        out.push_str(&format!(
            "\n{};{};{};{};{};{};{};{};{};{};{};{};{};{};{};{};{};{};{};{}",
            r.code.as_str(),
            f.last_name,
            f.first_name,
            f.sex,
            f.birth_date,
            f.birth_place,
            f.birth_place_name,
            f.citizenship,
            f.marital,
            f.family,
            f.relation,
            f.street,
            r.street_name,
            f.number,
            f.interior,
            f.doc_kind,
            f.doc_number,
            f.doc_expires,
            f.voter,
            r.since
        ));
    }
    out
}

async fn run_import(n: usize) {
    let (_db, deps, _files, _) = setup(false).await;
    let admin = staff(&deps, PISA, "bench@comune.pisa.it", Role::Admin).await;
    let rows = demo::residents(PISA, "G702", "Pisa", n, &[]);
    let csv = csv_of(&rows);
    let t = Instant::now();
    let out = import::import(&deps, &admin, csv.as_bytes())
        .await
        .expect("import");
    let first = t.elapsed().as_secs_f64();
    assert!(matches!(out, import::Outcome::Done { .. }), "{out:?}");
    let t = Instant::now();
    let again = import::import(&deps, &admin, csv.as_bytes())
        .await
        .expect("again");
    let second = t.elapsed().as_secs_f64();
    assert!(
        matches!(again, import::Outcome::Done { written: 0, .. }),
        "{again:?}"
    );
    let k = rows.len();
    println!(
        "| import of {k} people into one commune | {first:.1} s | {:.0} rows/s |",
        k as f64 / first
    );
    println!(
        "| the same file again (nothing new) | {second:.1} s | {:.0} rows/s |",
        k as f64 / second
    );
}

async fn run_certificates(n: usize, at_once: usize) {
    let (_db, deps, _files, _) = setup(false).await;
    let people = demo::residents(PISA, "G702", "Pisa", 20_000, &[]);
    demo::populate(&deps.store, PISA, "G702", "Pisa", 20_000, &[])
        .await
        .expect("populate");
    let desk = Arc::new(staff(&deps, PISA, "desk@comune.pisa.it", Role::FrontDesk).await);
    let deps = Arc::new(deps);
    let codes: Arc<Vec<String>> =
        Arc::new(people.iter().map(|r| r.code.as_str().to_owned()).collect());
    let t = Instant::now();
    let mut tasks = vec![];
    for w in 0..at_once {
        let (deps, desk, codes) = (deps.clone(), desk.clone(), codes.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = vec![];
            for i in (w..n).step_by(at_once) {
                let r = Request {
                    kind: "residence".into(),
                    subject: codes[(i * 7919) % codes.len()].clone(),
                    purpose: "banca".into(),
                    ..Request::default()
                };
                let s = Instant::now();
                certificates::for_person(&deps, &desk, "desk", &r)
                    .await
                    .expect("certificate");
                times.push(s.elapsed().as_secs_f64() * 1000.0);
            }
            times
        }));
    }
    let mut times = vec![];
    for task in tasks {
        times.extend(task.await.expect("task"));
    }
    let total = t.elapsed().as_secs_f64();
    println!(
        "| residence certificates (PDF, stamp, record), {at_once} at a time | {n} | {:.0}/s | {:.1} ms | {:.1} ms |",
        n as f64 / total,
        pct(&mut times, 0.5),
        pct(&mut times, 0.99)
    );
}

async fn run_verify(n: usize) {
    let (_db, deps, _files, _) = setup(false).await;
    demo::populate(&deps.store, PISA, "G702", "Pisa", 100, &[])
        .await
        .expect("populate");
    let desk = staff(&deps, PISA, "desk@comune.pisa.it", Role::FrontDesk).await;
    let people = demo::residents(PISA, "G702", "Pisa", 100, &[]);
    let r = Request {
        kind: "family".into(),
        subject: people[0].code.as_str().to_owned(),
        purpose: "banca".into(),
        ..Request::default()
    };
    let done = certificates::for_person(&deps, &desk, "desk", &r)
        .await
        .expect("certificate");
    let published = vec![keys::published(&deps, PISA).await.expect("keys")];
    let keyring = verify::Keyring::new(&published);
    let today = sportello_population::today();
    let t = Instant::now();
    for _ in 0..n {
        verify::check_with(&done.stamp, &keyring, today).expect("authentic");
    }
    let pure = t.elapsed().as_secs_f64();
    println!(
        "| a stamp checked with the published keys (signature, expiry), keys decoded once, one core | {n} | {:.0}/s | {:.3} ms | — |",
        n as f64 / pure,
        pure * 1000.0 / n as f64
    );
    // Every core at once (the page's check is CPU work once the keys are read).
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..cores {
            s.spawn(|| {
                for _ in 0..n {
                    verify::check_with(&done.stamp, &keyring, today).expect("authentic");
                }
            });
        }
    });
    let all = t.elapsed().as_secs_f64();
    println!(
        "| stamps checked, keys decoded once, {cores} threads | {} | {:.0}/s | — | — |",
        n * cores,
        (n * cores) as f64 / all
    );
    let t = Instant::now();
    for _ in 0..n {
        let c = verify::on_host(&deps, PISA, &done.stamp)
            .await
            .expect("page");
        assert!(c.verdict.is_ok() && c.recorded);
    }
    let page = t.elapsed().as_secs_f64();
    println!(
        "| the verification page's check (keys and record read from the database), one at a time | {n} | {:.0}/s | {:.3} ms | — |",
        n as f64 / page,
        page * 1000.0 / n as f64
    );
}

async fn run_checks(n: usize, people: usize, communes: usize) {
    let (_db, deps, _files, rows) = setup(true).await;
    let per = people / communes;
    let mut chosen: Vec<&sportello_store::istat::IstatRow> = vec![];
    chosen.extend(rows.iter().filter(|r| r.tenant_id() == PISA));
    chosen.extend(
        rows.iter()
            .filter(|r| r.tenant_id() != PISA)
            .take(communes - 1),
    );
    let t = Instant::now();
    let mut total = 0;
    for r in &chosen {
        total += demo::populate(
            &deps.store,
            r.tenant_id(),
            r.cadastral_code.as_str(),
            &r.name_it,
            per,
            &[],
        )
        .await
        .expect("populate");
    }
    eprintln!(
        "{total} people over {} communes in {:.0} s",
        chosen.len(),
        t.elapsed().as_secs_f64()
    );
    deps.store.refresh_statistics().await.ok();
    let admin = staff(&deps, PISA, "bench@comune.pisa.it", Role::Admin).await;
    checks::save_agency(
        &deps,
        &admin,
        &AgencyForm {
            id: "inps".into(),
            name: "INPS".into(),
            fields: ["name", "birth", "address", "family"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            purposes: "verifica ISEE".into(),
            per_minute: "10000".into(),
        },
    )
    .await
    .expect("agency");
    let v = staff(&deps, PISA, "bulk@inps.it", Role::Verifier).await;
    checks::link_member(&deps, &admin, "inps", "bulk@inps.it")
        .await
        .expect("link");
    let pisa = demo::residents(PISA, "G702", "Pisa", per, &[]);
    let mut times = vec![];
    for i in 0..n {
        let q = Question {
            fiscal_code: pisa[(i * 7919) % pisa.len()].code.as_str().to_owned(),
            purpose: "verifica ISEE".into(),
            reference: format!("ISEE-{i}"),
        };
        let s = Instant::now();
        let a = checks::check(&deps, &v, &q).await.expect("check");
        times.push(s.elapsed().as_secs_f64() * 1000.0);
        assert!(a.resident);
    }
    println!(
        "| agency checks (4 fields, logged), {total} people in the registry over {} communes | {n} | {:.2} ms | {:.2} ms |",
        chosen.len(),
        pct(&mut times, 0.5),
        pct(&mut times, 0.99)
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    match args.get(1).map(String::as_str) {
        Some("import") => run_import(num(2, 100_000)).await,
        Some("certificates") => run_certificates(num(2, 2000), num(3, 4)).await,
        Some("verify") => run_verify(num(2, 5000)).await,
        Some("checks") => run_checks(num(2, 2000), num(3, 3_000_000), num(4, 100)).await,
        _ => eprintln!(
            "usage: registry_bench import [N] | certificates [N] [AT_ONCE] | verify [N] | checks [N] [PEOPLE] [COMMUNES]"
        ),
    }
}
