//! The cases benchmark (run by `tests/bench/cases.sh`, which writes the README table), against a
//! fresh database of the tests (`SPORTELLO_TEST_DB=sqlite|postgres`), through the services (no
//! HTTP: the cost of a case, not of the web layer):
//!
//! - `submit N C`: into Pisa alone, then spread over 50 communes (each with a form for its
//!   "accesso-atti"): N submissions arriving at the issue's aimed rate (300/s, 500/s), latency
//!   p50/p99 from when each was due; then N more, C at a time, for the most it does;
//! - `read`: 1,000,000 cases (100,000 in Pisa's URP, the rest over 50 communes), the planner's
//!   statistics as a node keeps them, then an office queue page (each tab in turn, with the six
//!   counts) and a search by name for a clerk, "my cases" of a citizen with 20 cases, and the
//!   status by protocol number and code: p50/p99 over 300 runs each.
//!
//! Prints markdown rows.

use std::time::Instant;

use sportello_authz::Role;
use sportello_cases::draft::{self, Step};
use sportello_cases::office::{self, QueueQuery};
use sportello_domain::form::Raw;
use sportello_domain::{AssuranceLevel, Language, TenantId};
use sportello_kernel::session::{Current, Kind};
use sportello_kernel::{Actor, Deps, Secret, Settings};
use sportello_store::cases::Queue;
use sportello_store::identity::VerifiedIdentity;
use sportello_store::staff::Realm;
use sportello_tests::{TestDb, apex, is_postgres, tenants_dir};

const PISA: TenantId = TenantId(50026);
const BASE: &str = "http://bench.localhost";

const FORM: &str = r#"{"pages":[{"id":"richiesta","title":"Richiesta","fields":[
 {"id":"oggetto","kind":"text","label":"Oggetto","required":true},
 {"id":"documenti","kind":"long_text","label":"Documenti","required":true,"min_len":10},
 {"id":"modalita","kind":"choice","label":"Modalità","required":true,
  "options":[{"value":"visione","label":"Visione"},{"value":"copia","label":"Copia"}]}]}]}"#;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn setup() -> (TestDb, Deps, tempfile::TempDir, Vec<TenantId>) {
    let db = TestDb::new().await;
    let store = db.app_store().await;
    let owner = sportello_store::Store::connect(&db.admin_url)
        .await
        .expect("owner");
    let rows =
        sportello_store::istat::parse_csv(sportello_store::istat::EMBEDDED_CSV).expect("istat");
    owner
        .federation()
        .import_istat(&rows, &apex(), |_| {})
        .await
        .expect("import");
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
    // Fifty communes with a form: Pisa's own, and 49 onboarded ones on their starter charter.
    let mut communes = vec![PISA];
    communes.extend(
        rows.iter()
            .map(|r| r.tenant_id())
            .filter(|t| *t != PISA)
            .take(49),
    );
    for c in &communes {
        let tx = deps.store.tenant(*c).await.expect("tx");
        tx.db()
            .save_form("accesso-atti", FORM, "bench", 0)
            .await
            .expect("form");
        tx.commit().await.expect("commit");
    }
    (db, deps, files, communes)
}

async fn person(deps: &Deps, i: usize, commune: TenantId) -> Current {
    let p = deps
        .store
        .identity()
        .person_from_idp(
            &VerifiedIdentity {
                fiscal_code: format!("BNCPRS80A01G{i:04}"),
                given_name: "Bench".into(),
                family_name: format!("Persona {i}"),
                // An address from the identity provider: every submission writes its message.
                email: Some(format!("persona{i}@bench.example")),
                mobile: None,
                date_of_birth: None,
                place_of_birth: None,
            },
            0,
        )
        .await
        .expect("person");
    Current {
        token_hash: String::new(),
        kind: Kind::Citizen,
        sso_hash: None,
        commune: Some(commune),
        person: Some(p),
        staff: None,
        level: AssuranceLevel::Substantial,
        idp: "spid".into(),
        mfa: false,
        created_at: 0,
        last_seen_at: 0,
        expires_at: i64::MAX,
    }
}

fn answers() -> Raw {
    let mut r = Raw::new();
    r.insert("oggetto".into(), vec!["Richiesta di accesso".into()]);
    r.insert(
        "documenti".into(),
        vec!["Delibera di Giunta n. 12 del 2026".into()],
    );
    r.insert("modalita".into(), vec!["copia".into()]);
    r
}

/// Drafts ready to submit: (commune, person, draft id), round robin over `communes`.
async fn drafts(
    deps: &Deps,
    n: usize,
    communes: &[TenantId],
    offset: usize,
) -> Vec<(TenantId, Current, String)> {
    let mut out = vec![];
    for i in 0..n {
        let c = communes[i % communes.len()];
        let who = person(deps, offset + i, c).await;
        let f = draft::open(
            deps,
            c,
            &sportello_cases::filer::Filer::citizen(&who).unwrap(),
            "accesso-atti",
            None,
        )
        .await
        .expect("open");
        draft::save(
            deps,
            c,
            &sportello_cases::filer::Filer::citizen(&who).unwrap(),
            "accesso-atti",
            0,
            &answers(),
            Step::Next,
        )
        .await
        .expect("save");
        out.push((c, who, f.draft_id));
    }
    out
}

async fn submit_one(deps: &Deps, c: TenantId, who: &Current, draft_id: &str) {
    sportello_cases::submit::submit(
        deps,
        c,
        &sportello_cases::filer::Filer::citizen(who).unwrap(),
        "accesso-atti",
        draft_id,
        Language::It,
        BASE,
    )
    .await
    .expect("submit");
}

/// Submissions a second over the whole run, and each one's time (ms).
async fn rate_and_times(
    mut tasks: tokio::task::JoinSet<f64>,
    n: usize,
    started: Instant,
) -> (f64, Vec<f64>) {
    let mut lat = vec![];
    while let Some(r) = tasks.join_next().await {
        lat.push(r.expect("task"));
    }
    (n as f64 / started.elapsed().as_secs_f64(), lat)
}

async fn submit_all(
    deps: std::sync::Arc<Deps>,
    ready: Vec<(TenantId, Current, String)>,
    at_once: usize,
) -> (f64, Vec<f64>) {
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(at_once));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let n = ready.len();
    for (c, who, d) in ready {
        let permit = sem.clone().acquire_owned().await.expect("permit");
        let deps = deps.clone();
        tasks.spawn(async move {
            let t = Instant::now();
            submit_one(&deps, c, &who, &d).await;
            drop(permit);
            t.elapsed().as_secs_f64() * 1000.0
        });
    }
    rate_and_times(tasks, n, started).await
}

/// Submissions arriving at `rate` a second whether or not the earlier ones are done (an open
/// load, as citizens arrive): each one's time counts from when it was due to start, so a
/// backlog shows in the latency instead of slowing the arrivals.
async fn submit_paced(
    deps: std::sync::Arc<Deps>,
    ready: Vec<(TenantId, Current, String)>,
    rate: f64,
) -> (f64, Vec<f64>) {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let n = ready.len();
    for (i, (c, who, d)) in ready.into_iter().enumerate() {
        let due = started + std::time::Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let deps = deps.clone();
        tasks.spawn(async move {
            submit_one(&deps, c, &who, &d).await;
            due.elapsed().as_secs_f64() * 1000.0
        });
    }
    rate_and_times(tasks, n, started).await
}

async fn run_submit(n: usize, at_once: usize) {
    let (_db, deps, _files, communes) = setup().await;
    let deps = std::sync::Arc::new(deps);
    let mut offset = 0;
    // Each: where, the offered rate (the issue's aim), then as fast as it goes.
    for (into, list, aim) in [
        ("one commune", &[PISA][..], 300.0),
        ("50 communes", &communes[..], 500.0),
    ] {
        let ready = drafts(&deps, n, list, offset).await;
        offset += n;
        let (rate, mut lat) = submit_paced(deps.clone(), ready, aim).await;
        println!(
            "| {into} | {n} | arriving at {aim:.0}/s | {rate:.0}/s | {:.1} ms | {:.1} ms |",
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99)
        );
        let ready = drafts(&deps, n, list, offset).await;
        offset += n;
        let (rate, mut lat) = submit_all(deps.clone(), ready, at_once).await;
        println!(
            "| {into} | {n} | {at_once} at a time (the most it does) | {rate:.0}/s | {:.1} ms | {:.1} ms |",
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99)
        );
    }
}

/// Bulk rows for the read measures: `n` cases in `commune`, office `office`, numbered after
/// `from`, statuses cycling, as the schema owner (one statement per 10,000).
async fn bulk(owner: &sportello_store::Store, commune: i64, office: &str, from: i64, n: i64) {
    use sea_orm::ConnectionTrait;
    let mut done = 0;
    while done < n {
        let k = (n - done).min(10_000);
        let sql = format!(
            "WITH RECURSIVE seq(i) AS (SELECT {start} UNION ALL SELECT i + 1 FROM seq WHERE i < {end}) \
             INSERT INTO cases (tenant_id, id, year, number, idempotency_key, person_id, fiscal_code, applicant_name, \
             applicant_search, service_id, form_version, office_id, status, answers, level, idp, lang, code_hash, max_days, \
             submitted_at, submitted_on, due_on, paused_days, paused_since, taken_at, taken_by, assigned_to, closed_at, \
             last_event, updated_at) \
             SELECT {commune}, 'bulk-' || {commune} || '-' || i, 2026, i, 'key-' || {commune} || '-' || i, 'p-' || (i % 5000), \
             'CF' || i, 'Persona ' || i, 'persona ' || i, 'accesso-atti', 1, '{office}', \
             CASE i % 5 WHEN 0 THEN 'submitted' WHEN 1 THEN 'in_charge' WHEN 2 THEN 'waiting' WHEN 3 THEN 'accepted' ELSE 'rejected' END, \
             '{{}}', 2, 'spid', 'it', 'nohash', 30, 1700000000000000 + CAST(i AS BIGINT) * 1000000, '2026-01-01', '2026-02-01', 0, NULL, NULL, NULL, \
             CASE i % 7 WHEN 0 THEN 'someone' ELSE NULL END, NULL, 0, 0 FROM seq",
            start = from + done + 1,
            end = from + done + k,
        );
        owner
            .raw_connection()
            .execute_unprepared(&sql)
            .await
            .expect("bulk insert");
        // The names' words, as the store writes them with each case ("persona", the number).
        let words = format!(
            "WITH RECURSIVE seq(i) AS (SELECT {start} UNION ALL SELECT i + 1 FROM seq WHERE i < {end}) \
             INSERT INTO case_names (tenant_id, word, case_id) \
             SELECT {commune}, 'persona', 'bulk-' || {commune} || '-' || i FROM seq \
             UNION ALL SELECT {commune}, CAST(i AS TEXT), 'bulk-' || {commune} || '-' || i FROM seq",
            start = from + done + 1,
            end = from + done + k,
        );
        owner
            .raw_connection()
            .execute_unprepared(&words)
            .await
            .expect("bulk words");
        done += k;
    }
}

async fn timed<F, Fut>(runs: usize, mut f: F) -> (f64, f64)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut lat = vec![];
    for i in 0..runs {
        let t = Instant::now();
        f(i).await;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (pct(&mut lat, 0.5), pct(&mut lat, 0.99))
}

async fn run_read() {
    let (db, deps, _files, communes) = setup().await;
    let owner = sportello_store::Store::connect(&db.admin_url)
        .await
        .expect("owner");
    {
        use sea_orm::ConnectionTrait;
        if !is_postgres() {
            // Bulk rows skip the triggers' cost only; the table is what it is.
            let _ = owner
                .raw_connection()
                .execute_unprepared("PRAGMA synchronous = OFF")
                .await;
        }
    }
    let started = Instant::now();
    bulk(&owner, PISA.0, "urp", 1_000, 100_000).await;
    for c in communes.iter().skip(1) {
        bulk(&owner, c.0, "urp", 0, 900_000 / 49).await;
    }
    {
        // The offices' counts, as the store keeps them for cases it writes itself.
        use sea_orm::ConnectionTrait;
        owner
            .raw_connection()
            .execute_unprepared(
                "INSERT INTO case_counts (tenant_id, office_id, status, n) \
                 SELECT tenant_id, office_id, status, COUNT(*) FROM cases WHERE id LIKE 'bulk-%' \
                 GROUP BY tenant_id, office_id, status \
                 ON CONFLICT (tenant_id, office_id, status) DO UPDATE SET n = case_counts.n + excluded.n",
            )
            .await
            .expect("counts");
    }
    let loaded = started.elapsed().as_secs_f64();
    // The planner's statistics as a running node keeps them (PostgreSQL: autovacuum's
    // ANALYZE; SQLite: the node's hourly `PRAGMA optimize`).
    let analysed = Instant::now();
    if is_postgres() {
        use sea_orm::ConnectionTrait;
        owner
            .raw_connection()
            .execute_unprepared("ANALYZE")
            .await
            .expect("analyze");
    } else {
        deps.store.refresh_statistics().await.expect("statistics");
    }
    let analysed = analysed.elapsed().as_secs_f64();
    // A real citizen with 20 real cases in Pisa (their own answers, numbers, codes).
    let who = person(&deps, 9_999, PISA).await;
    let mut mine = vec![];
    for _ in 0..20 {
        let f = draft::open(
            &deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&who).unwrap(),
            "accesso-atti",
            None,
        )
        .await
        .expect("open");
        draft::save(
            &deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&who).unwrap(),
            "accesso-atti",
            0,
            &answers(),
            Step::Next,
        )
        .await
        .expect("save");
        let s = sportello_cases::submit::submit(
            &deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&who).unwrap(),
            "accesso-atti",
            &f.draft_id,
            Language::It,
            BASE,
        )
        .await
        .expect("submit");
        mine.push(s);
    }
    let codes: Vec<(String, String)> = {
        let mut v = vec![];
        for s in &mine {
            let c = sportello_cases::follow::one(&deps, PISA, &who, &s.case_id, Language::It)
                .await
                .expect("one");
            v.push((s.protocol.to_string(), c.code.unwrap_or_default()));
        }
        v
    };
    let (id, _) = sportello_identity::staff::invite_for_office(
        &deps.store,
        Realm::Commune(PISA),
        "clerk@bench.example",
        "clerk@bench.example",
        Role::Clerk.key(),
        Some("urp"),
    )
    .await
    .expect("clerk");
    deps.apply_policy_changes().await.expect("policies");
    let clerk = Actor {
        realm: Realm::Commune(PISA),
        staff_id: id,
        name: "clerk".into(),
        email: "clerk@bench.example".into(),
        federation: false,
    };
    let runs = 300;
    let (q50, q99) = timed(runs, |i| {
        let (deps, clerk) = (&deps, &clerk);
        async move {
            let q = QueueQuery {
                queue: [
                    Queue::New,
                    Queue::Mine,
                    Queue::Waiting,
                    Queue::Deadline,
                    Queue::Closed,
                    Queue::All,
                ][i % 6],
                page: (i / 6 % 5) as u64,
                ..QueueQuery::default()
            };
            let p = office::queue(deps, clerk, &q).await.expect("queue");
            assert!(!p.lines.is_empty() || q.queue == Queue::Mine);
        }
    })
    .await;
    let (s50, s99) = timed(runs, |i| {
        let (deps, clerk) = (&deps, &clerk);
        async move {
            let q = QueueQuery {
                queue: Queue::All,
                search: Some(format!("Persona {}", 1_000 + i * 7)),
                ..QueueQuery::default()
            };
            office::queue(deps, clerk, &q).await.expect("search");
        }
    })
    .await;
    let (m50, m99) = timed(runs, |_| {
        let (deps, who) = (&deps, &who);
        async move {
            let l = sportello_cases::follow::mine(deps, PISA, who, Language::It)
                .await
                .expect("mine");
            assert_eq!(l.len(), 20);
        }
    })
    .await;
    let (c50, c99) = timed(runs, |i| {
        let (deps, codes) = (&deps, &codes);
        async move {
            let (p, c) = &codes[i % codes.len()];
            let s = sportello_cases::follow::status_by_code(deps, PISA, p, c, Language::It)
                .await
                .expect("status");
            assert!(s.is_some());
        }
    })
    .await;
    println!("| writing the 1,000,000 cases (bulk SQL, as the schema owner) | {loaded:.0} s | |");
    println!(
        "| the planner's statistics after that ({}) | {analysed:.1} s | |",
        if is_postgres() {
            "ANALYZE"
        } else {
            "the node's PRAGMA optimize"
        }
    );
    println!(
        "| office queue page (each of the six tabs in turn, pages 1 to 5: 25 lines and the six tabs' counts; 100,000 cases in the office) | {q50:.1} ms | {q99:.1} ms |"
    );
    println!(
        "| office search by name, two words (same office, all its cases) | {s50:.1} ms | {s99:.1} ms |"
    );
    println!("| my cases (20 of 1,000,020) | {m50:.1} ms | {m99:.1} ms |");
    println!("| status by protocol number and code | {c50:.2} ms | {c99:.2} ms |");
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("submit") => {
            let n = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
            let c = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(32);
            run_submit(n, c).await;
        }
        Some("read") => run_read().await,
        _ => eprintln!("usage: cases_bench submit [N] [AT_ONCE] | read"),
    }
}
