//! Real counterparts started by the tests: the OIDC provider (npm `oidc-provider`), the SAML IdP
//! (pysaml2) and the SMTP server (aiosmtpd), from `tests/counterparts/` (installed by its
//! `setup.sh`, which `tests/run.sh` runs). Each prints one JSON line when ready and exits when
//! its stdin closes, so a test that ends (or panics) leaves nothing running.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("counterparts")
}

pub fn python() -> PathBuf {
    dir().join(".venv/bin/python")
}

/// A running counterpart; killed when dropped.
pub struct Process {
    child: Child,
    _stdin: Option<ChildStdin>,
    pub ready: serde_json::Value,
    _log: tempfile::NamedTempFile,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts `program` and waits for its one "ready" line. A start that stalls (no line within
    /// a minute) or dies is tried once more, and the first attempt's log is printed: on two
    /// cores, with the whole suite starting servers and counterparts at once, a Node.js
    /// provider has twice been seen to print nothing for two minutes in a run where every other
    /// start took seconds. A counterpart that fails twice fails the test with both logs.
    pub fn start(program: &Path, args: &[&str]) -> Process {
        match Self::try_start(program, args) {
            Ok(p) => p,
            Err(first) => {
                eprintln!("{} did not start; trying again. {first}", program.display());
                Self::try_start(program, args).unwrap_or_else(|second| {
                    panic!(
                        "{} did not start, twice.\nfirst: {first}\nsecond: {second}",
                        program.display()
                    )
                })
            }
        }
    }

    fn try_start(program: &Path, args: &[&str]) -> Result<Process, String> {
        let log = tempfile::NamedTempFile::new().expect("log file");
        let began = std::time::Instant::now();
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("log"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "start {} {args:?}: {e} (run `bash tests/counterparts/setup.sh`)",
                    program.display()
                )
            });
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60));
        let ready = line
            .as_deref()
            .ok()
            .and_then(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok());
        match ready {
            Some(ready) => Ok(Process {
                child,
                _stdin: stdin,
                ready,
                _log: log,
            }),
            None => {
                let exited = child.try_wait().ok().flatten();
                let _ = child.kill();
                let _ = child.wait();
                let what = match (&line, exited) {
                    (Ok(l), _) if !l.is_empty() => format!("printed {l:?}"),
                    (_, Some(status)) => format!("exited ({status})"),
                    (Ok(_), None) => "closed its output".to_owned(),
                    (Err(_), None) => "printed nothing".to_owned(),
                };
                Err(format!(
                    "{what} after {:.1} s; its log:\n{}",
                    began.elapsed().as_secs_f64(),
                    std::fs::read_to_string(log.path()).unwrap_or_default()
                ))
            }
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self._log.path()).unwrap_or_default()
    }
}

/// The npm OIDC provider.
pub struct OidcProvider {
    pub process: Process,
    pub issuer: String,
    http: reqwest::Client,
}

impl OidcProvider {
    pub fn start() -> OidcProvider {
        Self::start_with(&[], None)
    }

    /// With extra arguments (e.g. `--tls-cert`/`--tls-key`), and the CA (PEM) its certificate
    /// chains to, for the test's own calls.
    pub fn start_with(args: &[&str], ca_pem: Option<&[u8]>) -> OidcProvider {
        let script = dir().join("oidc/provider.mjs");
        let mut all = vec![dir_str(&script)];
        all.extend_from_slice(args);
        let p = Process::start(Path::new("node"), &all);
        let issuer = p.ready["issuer"].as_str().expect("issuer").to_owned();
        let mut http = reqwest::Client::builder();
        if let Some(pem) = ca_pem {
            http = http.add_root_certificate(reqwest::Certificate::from_pem(pem).expect("ca"));
        }
        OidcProvider {
            process: p,
            issuer,
            http: http.build().expect("client"),
        }
    }

    /// `/__admin/health`: issuer, current key, JWKS fetches served.
    pub async fn health(&self) -> serde_json::Value {
        self.http
            .get(format!("{}/__admin/health", self.issuer))
            .send()
            .await
            .expect("health")
            .json()
            .await
            .expect("health json")
    }

    pub async fn admin(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let r = self
            .http
            .post(format!("{}/__admin/{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("admin call");
        assert!(r.status().is_success(), "admin {path}: {}", r.status());
        r.json().await.expect("admin json")
    }
}

/// The aiosmtpd mail sink: every message lands as a file in `dir`.
pub struct MailSink {
    pub process: Process,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl MailSink {
    pub fn start() -> MailSink {
        let dir = tempfile::tempdir().expect("mail dir");
        let p = Process::start(
            &python(),
            &[
                dir_str(&super::counterparts::dir().join("smtp/sink.py")),
                "--dir",
                dir.path().to_str().expect("path"),
            ],
        );
        let port = p.ready["port"].as_u64().expect("port") as u16;
        MailSink {
            process: p,
            port,
            dir,
        }
    }

    /// The messages received so far (raw), oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        files.sort();
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// Waits for the `n`-th message (1-based) and returns it, unfolded (quoted-printable soft
    /// breaks removed).
    pub async fn wait_for(&self, n: usize) -> String {
        for _ in 0..100 {
            let m = self.messages();
            if m.len() >= n {
                return m[n - 1]
                    .replace("=\r\n", "")
                    .replace("=\n", "")
                    .replace("=3D", "=");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("mail {n} never arrived; log:\n{}", self.process.log());
    }
}

fn dir_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The pysaml2 IdP.
pub struct SamlIdp {
    pub process: Process,
    pub metadata_url: String,
    pub entity_id: String,
    http: reqwest::Client,
}

impl SamlIdp {
    pub fn start() -> SamlIdp {
        Self::start_with(&[])
    }

    /// With extra arguments (e.g. `--expired-cert`).
    pub fn start_with(args: &[&str]) -> SamlIdp {
        let script = dir().join("saml/idp.py");
        let mut all = vec![dir_str(&script)];
        all.extend_from_slice(args);
        let p = Process::start(&python(), &all);
        SamlIdp {
            metadata_url: p.ready["metadata_url"]
                .as_str()
                .expect("metadata_url")
                .into(),
            entity_id: p.ready["entity_id"].as_str().expect("entity_id").into(),
            process: p,
            http: reqwest::Client::new(),
        }
    }

    fn base(&self) -> String {
        self.metadata_url.trim_end_matches("/metadata").to_owned()
    }

    pub async fn register_sp(&self, metadata_xml: String) {
        let r = self
            .http
            .post(format!("{}/__admin/sp", self.base()))
            .body(metadata_xml)
            .send()
            .await
            .expect("register sp");
        assert!(r.status().is_success(), "register sp: {}", r.status());
    }

    /// An IdP-initiated logout of the SP's last session: the URL to send the browser to.
    pub async fn logout(&self, sp: &str, mutation: Option<&str>) -> String {
        let r = self
            .http
            .post(format!("{}/__admin/logout", self.base()))
            .json(&serde_json::json!({"sp": sp, "mutation": mutation}))
            .send()
            .await
            .expect("idp logout");
        assert!(r.status().is_success(), "idp logout: {}", r.status());
        let v: serde_json::Value = r.json().await.expect("json");
        v["url"].as_str().expect("url").to_owned()
    }

    /// What the IdP has seen (logouts, logout responses).
    pub async fn state(&self) -> serde_json::Value {
        self.http
            .get(format!("{}/__admin/state", self.base()))
            .send()
            .await
            .expect("idp state")
            .json()
            .await
            .expect("json")
    }

    /// The identity, level and one-shot mutation of the next answers.
    pub async fn next(&self, user: serde_json::Value, level: Option<&str>, mutation: Option<&str>) {
        let r = self
            .http
            .post(format!("{}/__admin/next", self.base()))
            .json(&serde_json::json!({"user": user, "level": level, "mutation": mutation}))
            .send()
            .await
            .expect("idp next");
        assert!(r.status().is_success(), "idp next: {}", r.status());
    }
}
