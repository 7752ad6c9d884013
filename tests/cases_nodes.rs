//! Cases across server processes: submissions fired at once at two nodes on one PostgreSQL
//! (one node on SQLite) get numbers 1..n of this year with no gap, none burnt by submissions
//! made to fail inside their transaction; and a node killed with SIGKILL under a stream of
//! submissions loses none it confirmed. Each node is this test binary run as a helper process
//! (`cases_node_process`), serving from the same database as the test.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use sportello_domain::AssuranceLevel;
use sportello_kernel::session::{Kind, NewSession};
use sportello_kernel::{Secret, Settings};
use sportello_tests::browser::Browser;
use sportello_tests::{StatusCode, TestApp, is_postgres, spawn_app_with};

use crate::cases::{PISA, raw};

/// A node: the helper process and the address it serves on.
struct Node {
    child: Child,
    addr: std::net::SocketAddr,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn node(app: &TestApp, files: &std::path::Path) -> Node {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "cases_nodes::cases_node_process",
            "--ignored",
            "--nocapture",
        ])
        .env("SPORTELLO_TEST_NODE_DB", &app.db.app_url)
        .env("SPORTELLO_TEST_NODE_FILES", files)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    let addr = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("the node stopped before listening: {:?}", child.wait());
        };
        if let Some(a) = line.strip_prefix("node listening on ") {
            break a.trim().parse().unwrap();
        }
    };
    // Keep reading (and dropping) what it prints, so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Node { child, addr }
}

/// The body of a node process.
#[tokio::test]
#[ignore = "a helper process: run by the tests of this module"]
async fn cases_node_process() {
    let (Ok(url), Ok(files)) = (
        std::env::var("SPORTELLO_TEST_NODE_DB"),
        std::env::var("SPORTELLO_TEST_NODE_FILES"),
    ) else {
        return;
    };
    let settings = Settings {
        database_url: Secret::new(url.clone()),
        workers: 0,
        registry_refresh_ms: 100,
        policy_refresh_ms: 100,
        files_dir: files.clone(),
        mail_outbox: files,
        ..Settings::default()
    };
    let store = sportello_store::Store::connect(&url).await.unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let running = sportello_web::start(&settings, store, listener)
        .await
        .unwrap();
    println!("node listening on {}", running.addr);
    let _ = running.server.await;
}

/// A citizen with a report ready to send: their browser (session cookie, form token) and the
/// draft's id.
struct Ready {
    browser: Browser,
    csrf: String,
    draft: String,
}

/// `n` citizens, each with a finished report draft (every tenth marked to fail if `fail`), and
/// a session on Pisa's site.
async fn ready(app: &TestApp, n: usize, fail: bool) -> Vec<Ready> {
    let deps = crate::notify::deps_for(app).await;
    let mut out = vec![];
    for i in 0..n {
        let who = crate::cases::citizen_of(
            &deps,
            PISA,
            &format!("NODPRS80A01G{i:03}Z"),
            AssuranceLevel::Low,
        )
        .await;
        let f = sportello_cases::draft::open(
            &deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&who).unwrap(),
            "segnalazioni",
            None,
        )
        .await
        .unwrap();
        let subject = if fail && i % 10 == 3 {
            format!("FAIL numero {i}")
        } else {
            format!("Segnalazione {i}")
        };
        let page = raw(&[
            ("categoria", "altro"),
            ("oggetto", &subject),
            ("descrizione", "Descrizione abbastanza lunga del problema."),
        ]);
        sportello_cases::draft::save(
            &deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&who).unwrap(),
            "segnalazioni",
            0,
            &page,
            sportello_cases::draft::Step::Next,
        )
        .await
        .unwrap();
        sportello_cases::draft::save(
            &deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&who).unwrap(),
            "segnalazioni",
            1,
            &raw(&[("email", "x@example.org")]),
            sportello_cases::draft::Step::Next,
        )
        .await
        .unwrap();
        let token = deps
            .sessions
            .create(
                &deps.store,
                NewSession {
                    kind: Kind::Citizen,
                    sso_hash: None,
                    commune: Some(PISA),
                    person_id: who.person.as_ref().map(|p| p.id.as_str()),
                    staff_id: None,
                    level: AssuranceLevel::Low,
                    idp: "password",
                    mfa: false,
                    user_agent: None,
                    not_after: None,
                },
            )
            .await
            .unwrap();
        let mut browser = Browser::new(app.addr);
        browser.set_cookie(
            "pisa.localhost",
            deps.sessions.cookie_name(Kind::Citizen),
            &token,
        );
        let summary = browser
            .get(&browser.url("pisa.localhost", "/pratiche/compila/segnalazioni/riepilogo"))
            .await;
        assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
        out.push(Ready {
            csrf: summary.input("csrf").unwrap(),
            draft: summary.input("_bozza").unwrap(),
            browser,
        });
        assert_eq!(f.draft_id, out.last().unwrap().draft);
    }
    out
}

/// Sends a ready submission to `node`: the case id if it was confirmed (the redirect to it).
async fn send(r: Ready, node: std::net::SocketAddr) -> Option<String> {
    let mut b = r.browser.on_node(node);
    let url = b.url("pisa.localhost", "/pratiche/compila/segnalazioni/invia");
    let page = b
        .post_once(&url, &[("csrf", &r.csrf), ("_bozza", &r.draft)])
        .await?;
    let to = page.headers.get("location")?.to_str().ok()?.to_owned();
    (page.status == StatusCode::SEE_OTHER && to.contains("inviata=1")).then(|| {
        to.split('/')
            .next_back()
            .unwrap_or("")
            .split('?')
            .next()
            .unwrap_or("")
            .to_owned()
    })
}

/// Every case of Pisa: its id and number.
async fn numbered(app: &TestApp) -> Vec<(String, Option<i64>)> {
    let tx = app.store.tenant(PISA).await.unwrap();
    let all = tx
        .db()
        .queue(&sportello_store::cases::QueueFilter {
            queue: sportello_store::cases::Queue::All,
            limit: 200,
            ..Default::default()
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    all.into_iter().map(|c| (c.id, c.number)).collect()
}

async fn app() -> TestApp {
    spawn_app_with(sportello_tests::Options {
        settings: Box::new(|s| s.workers = 0),
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn submissions_to_two_nodes_at_once_get_one_number_each_with_no_gap() {
    let app = app().await;
    crate::cases::fail_marked_submissions(&app.db).await;
    let files = tempfile::tempdir().unwrap();
    // The citizens ready first (on SQLite a node starting beside 1,600 writes could wait past
    // its busy timeout for the lock its start-up read takes).
    let all = ready(&app, 200, true).await;
    // Two server processes on PostgreSQL; SQLite is one process's database.
    let nodes: Vec<Node> = if is_postgres() {
        vec![node(&app, files.path()), node(&app, files.path())]
    } else {
        vec![node(&app, files.path())]
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (i, r) in all.into_iter().enumerate() {
        let at = nodes[i % nodes.len()].addr;
        tasks.spawn(send(r, at));
    }
    let mut confirmed = 0;
    while let Some(r) = tasks.join_next().await {
        confirmed += usize::from(r.unwrap().is_some());
    }
    assert_eq!(
        confirmed, 180,
        "the 20 made to fail were not confirmed, the others were"
    );
    let mut numbers: Vec<i64> = numbered(&app)
        .await
        .into_iter()
        .filter_map(|(_, n)| n)
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=180).collect::<Vec<i64>>());
}

#[tokio::test]
async fn a_node_killed_mid_stream_loses_no_confirmed_submission() {
    let app = app().await;
    let files = tempfile::tempdir().unwrap();
    let all = ready(&app, 120, false).await;
    let mut n = node(&app, files.path());
    let addr = n.addr;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // A steady stream: eight in flight at a time.
    let stream = tokio::spawn(async move {
        let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
        let mut tasks = tokio::task::JoinSet::new();
        for r in all {
            let permit = sem.clone().acquire_owned().await.unwrap();
            let tx = tx.clone();
            tasks.spawn(async move {
                let got = send(r, addr).await;
                drop(permit);
                if let Some(id) = got {
                    let _ = tx.send(id);
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    });
    // Kill the node once forty were confirmed.
    let mut confirmed = vec![];
    while confirmed.len() < 40 {
        confirmed.push(
            rx.recv()
                .await
                .expect("confirmations stopped before the kill"),
        );
    }
    n.child.kill().unwrap();
    n.child.wait().unwrap();
    stream.await.unwrap();
    while let Ok(id) = rx.try_recv() {
        confirmed.push(id);
    }
    let stored = numbered(&app).await;
    assert!(
        confirmed.len() < 120,
        "the kill landed before the end ({})",
        confirmed.len()
    );
    for id in &confirmed {
        let found = stored.iter().find(|(s, _)| s == id);
        assert!(
            matches!(found, Some((_, Some(_)))),
            "confirmed case {id} is not stored with its number"
        );
    }
    let mut numbers: Vec<i64> = stored.iter().filter_map(|(_, n)| *n).collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=numbers.len() as i64).collect::<Vec<_>>(),
        "numbers stay gap-free"
    );
    assert_eq!(stored.len(), numbers.len(), "no case without its number");
}
