//! The public API against its own OpenAPI document: schemathesis (PyPI) generates requests from
//! the document — valid ones, invalid ones, other methods — and checks every answer against it
//! (status codes, response schemas, content types, 405 with `Allow`, invalid data refused,
//! valid data accepted). The document is the one the server serves.

use sportello_tests::{TestApp, spawn_app};

async fn schemathesis(app: &TestApp, host: &str, include: Option<&str>) {
    schemathesis_with(app, host, include, &[]).await
}

/// The same, with headers sent on every request (a staff API token), over the paths that start
/// with `include` (a prefix).
pub(crate) async fn schemathesis_with(
    app: &TestApp,
    host: &str,
    include: Option<&str>,
    headers: &[&str],
) {
    let (_, doc) = app.text(host, "/api/v1/openapi.json").await;
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("openapi.json");
    std::fs::write(&spec, doc).unwrap();
    let tool = sportello_tests::counterparts::dir().join(".venv/bin/st");
    let mut cmd = tokio::process::Command::new(&tool);
    cmd.arg("run")
        .arg(&spec)
        .args(["--url", &format!("http://{}", app.addr)])
        .args(["-H", &format!("Host: {host}:{}", app.port())])
        .args(["--checks", "all", "--max-examples", "40"])
        .args(["--no-color"])
        .current_dir(dir.path())
        .kill_on_drop(true);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(path) = include {
        cmd.args(["--include-path-regex", &format!("^{}", regex_escape(path))]);
    }
    let out = cmd
        .output()
        .await
        .expect("schemathesis (tests/counterparts/setup.sh)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{host}: schemathesis found disagreements:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("Tested: "), "{report}");
}

#[tokio::test]
async fn a_commune_api_agrees_with_its_document() {
    let app = spawn_app().await;
    schemathesis(&app, "pisa.localhost", None).await;
}

#[tokio::test]
async fn the_federation_api_agrees_with_its_document() {
    let app = spawn_app().await;
    schemathesis(&app, "localhost", Some("/api/v1/communes")).await;
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}
