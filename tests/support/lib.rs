//! The test harness: the real server on port 0 against a fresh database.
//!
//! `SPORTELLO_TEST_DB=sqlite` (default) gives each test its own SQLite file; `postgres` gives each
//! test its own PostgreSQL database (`SPORTELLO_TEST_PG_ADMIN`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`), migrated by the superuser and served as the
//! `sportello_app` role, so row-level security is in force as in production.

pub mod browser;
pub mod counterparts;
pub mod sms_gateway;
pub mod stripe;
pub mod tls;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use sportello_domain::Host;
use sportello_store::Store;
use sportello_web::{Secret, Settings};

pub use reqwest::StatusCode;

/// The apex host of tests.
pub const APEX: &str = "localhost";

/// The repository's `tenants/` folder: the demo federation.
pub fn tenants_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tenants")
}

pub fn is_postgres() -> bool {
    std::env::var("SPORTELLO_TEST_DB").is_ok_and(|v| v == "postgres")
}

/// A fresh, migrated, empty database, and the URLs to reach it.
pub struct TestDb {
    /// As the application connects (on PostgreSQL: the `sportello_app` role, RLS in force).
    pub app_url: String,
    /// As the schema owner / superuser (on SQLite the same file).
    pub admin_url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        if is_postgres() {
            Self::postgres().await
        } else {
            Self::sqlite().await
        }
    }

    /// A fresh PostgreSQL database whatever `SPORTELLO_TEST_DB` says (for PostgreSQL-only tests).
    pub async fn postgres() -> TestDb {
        Self::postgres_with(true).await
    }

    /// The same, left as created: no migration applied.
    pub async fn postgres_unmigrated() -> TestDb {
        Self::postgres_with(false).await
    }

    async fn postgres_with(migrate: bool) -> TestDb {
        {
            let admin = std::env::var("SPORTELLO_TEST_PG_ADMIN")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!("sportello_t_{}", uuid::Uuid::new_v4().simple());
            let server = Store::connect(&admin)
                .await
                .expect("connect to the PostgreSQL admin database");
            use sea_orm::ConnectionTrait;
            server
                .raw_connection()
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            server.close().await.ok();
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_owned())
                .expect("admin URL has a database");
            let admin_url = format!("{base}/{name}");
            let owner = Store::connect(&admin_url).await.expect("connect as owner");
            if migrate {
                owner.migrate().await.expect("migrate");
            }
            owner.close().await.ok();
            // The same server, as the application role.
            let host_part = base
                .split_once('@')
                .map(|(_, h)| h.to_owned())
                .unwrap_or_else(|| base.trim_start_matches("postgres://").to_owned());
            let app_url = format!(
                "postgres://{}@{host_part}/{name}",
                sportello_store::APP_ROLE
            );
            TestDb {
                app_url,
                admin_url,
                _dir: None,
            }
        }
    }

    pub async fn sqlite() -> TestDb {
        Self::sqlite_with(true).await
    }

    /// A fresh database of the kind `SPORTELLO_TEST_DB` says, no migration applied (a test
    /// applies them step by step).
    pub async fn unmigrated() -> TestDb {
        if is_postgres() {
            Self::postgres_with(false).await
        } else {
            Self::sqlite_with(false).await
        }
    }

    async fn sqlite_with(migrate: bool) -> TestDb {
        {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("sportello.db").display()
            );
            let s = Store::connect(&url).await.expect("connect sqlite");
            if migrate {
                s.migrate().await.expect("migrate");
            }
            s.close().await.ok();
            TestDb {
                app_url: url.clone(),
                admin_url: url,
                _dir: Some(dir),
            }
        }
    }

    pub async fn app_store(&self) -> Store {
        Store::connect(&self.app_url).await.expect("connect as app")
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    /// The application's store (as the server connects).
    pub store: Store,
    pub client: reqwest::Client,
    _outbox: tempfile::TempDir,
}

pub fn apex() -> Host {
    Host::parse("localhost").expect("apex")
}

pub struct Options {
    pub tenants: Option<PathBuf>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Changes to the settings (identity providers, mail).
    pub settings: Box<dyn FnOnce(&mut Settings)>,
    /// Bind this listener instead of a fresh one (tests that must know the port first).
    pub listener: Option<TcpListener>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            tenants: Some(tenants_dir()),
            trusted_proxies: vec![],
            settings: Box::new(|_| {}),
            listener: None,
        }
    }
}

/// Starts the server with the demo federation.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(opts: Options) -> TestApp {
    if std::env::var("SPORTELLO_TEST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info,sqlx=warn")
            .with_test_writer()
            .try_init();
    }
    let db = TestDb::new().await;
    let store = db.app_store().await;
    if let Some(dir) = &opts.tenants {
        store
            .federation()
            .sync_tenants_dir(dir, &apex())
            .await
            .expect("sync tenants");
    }
    let outbox = tempfile::tempdir().expect("outbox");
    let mut settings = Settings {
        database_url: Secret::new(db.app_url.clone()),
        bind: "127.0.0.1:0".into(),
        trusted_proxies: opts.trusted_proxies,
        registry_refresh_ms: 100,
        policy_refresh_ms: 100,
        workers: 1,
        mail_outbox: outbox.path().display().to_string(),
        files_dir: outbox.path().join("files").display().to_string(),
        login_attempts_per_minute: 1000,
        ..Settings::default()
    };
    // The tests' SMS gateway listens on this machine.
    settings.delivery.private_gateways = true;
    (opts.settings)(&mut settings);
    let listener = opts
        .listener
        .unwrap_or_else(|| TcpListener::bind("127.0.0.1:0").expect("bind port 0"));
    let running = sportello_web::start(&settings, store.clone(), listener)
        .await
        .expect("start server");
    tokio::spawn(running.server);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        addr: running.addr,
        db,
        store,
        client,
        _outbox: outbox,
    }
}

impl TestApp {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Another node of the same deployment: a second server on the same database.
    pub async fn another_node(&self) -> SocketAddr {
        let mut settings = Settings {
            database_url: Secret::new(self.db.app_url.clone()),
            registry_refresh_ms: 100,
            policy_refresh_ms: 100,
            workers: 1,
            mail_outbox: self._outbox.path().display().to_string(),
            files_dir: self._outbox.path().join("files").display().to_string(),
            ..Settings::default()
        };
        settings.delivery.private_gateways = true;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
        let store = self.db.app_store().await;
        let running = sportello_web::start(&settings, store, listener)
            .await
            .expect("start second node");
        tokio::spawn(running.server);
        running.addr
    }

    /// GET `path` with `Host: <host>:<port>`.
    pub async fn get(&self, host: &str, path: &str) -> reqwest::Response {
        self.get_with(host, path, &[]).await
    }

    pub async fn get_with(
        &self,
        host: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self
            .client
            .get(format!("http://{}{path}", self.addr))
            .header("host", format!("{host}:{}", self.port()));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request")
    }

    /// GET and return status and body text.
    pub async fn text(&self, host: &str, path: &str) -> (StatusCode, String) {
        let r = self.get(host, path).await;
        let s = r.status();
        (s, r.text().await.expect("body"))
    }

    /// Every row of a read-only SQL query, each column as text (NULL: empty).
    pub async fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        use sea_orm::{ConnectionTrait, Statement};
        let conn = self.store.raw_connection();
        let result = conn
            .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
            .await
            .expect("query");
        result
            .iter()
            .map(|r| {
                (0..)
                    .map_while(|i| r.try_get_by_index::<Option<String>>(i).ok())
                    .map(Option::unwrap_or_default)
                    .collect()
            })
            .collect()
    }

    /// The details of the sign-in audit log's `event` entries, newest first.
    pub async fn audit_details(&self, event: &str) -> Vec<String> {
        let log = self
            .store
            .identity()
            .audit_log(None, 1000)
            .await
            .expect("audit log");
        log.into_iter()
            .filter(|e| e.event == event)
            .map(|e| e.detail.unwrap_or_default())
            .collect()
    }

    pub async fn json(&self, host: &str, path: &str) -> (StatusCode, serde_json::Value) {
        let r = self.get(host, path).await;
        let s = r.status();
        (s, r.json().await.expect("json body"))
    }
}

/// Writes commune files into a fresh folder (for tests that need their own federation).
pub fn tenants_folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write tenant file");
    }
    dir
}

/// Polls `check` until it holds (at most ~5 s): for changes that reach the server with the next
/// registry refresh. Returns whether it held.
pub async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// `stored` is `plain` sealed with the server's key: it opens to exactly `plain` with that key,
/// and nowhere in it (nor in its base64-decoded bytes) is the plaintext; a prefix check alone
/// would pass `v1.` + base64(plaintext).
pub fn assert_sealed(stored: &str, plain: &[u8]) {
    use base64::Engine as _;
    let key = Settings::default()
        .secret_key()
        .expect("dev key")
        .to_owned();
    let secrets = sportello_kernel::secretbox::SecretBox::from_base64(&key).expect("key");
    assert_eq!(secrets.open(stored).expect("opens with the key"), plain);
    let body = stored.strip_prefix("v1.").expect("versioned");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64");
    assert!(
        !raw.windows(plain.len()).any(|w| w == plain),
        "plaintext inside the sealed bytes"
    );
    assert!(!stored.contains(&*String::from_utf8_lossy(plain)));
    // Sealing again gives another text (fresh nonce), opening to the same.
    let again = secrets.seal(plain).expect("seal");
    assert_ne!(again, stored);
    assert_eq!(secrets.open(&again).expect("opens"), plain);
}
