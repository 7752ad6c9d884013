//! Data of commune A never appears through commune B's host: by id, by listing, by search, on
//! every charter page and API endpoint.

use sportello_tests::{Options, StatusCode, TestApp, spawn_app_with, tenants_folder};

use crate::fixtures::*;

async fn two_communes() -> (TestApp, tempfile::TempDir) {
    let dir = tenants_folder(&[
        (
            "alfa.toml",
            &commune_file("050003", "alfa.localhost", "zafferanoalfa"),
        ),
        (
            "bravo.toml",
            &commune_file("050037", "bravo.localhost", "rosmarinobravo"),
        ),
    ]);
    let app = spawn_app_with(Options {
        tenants: Some(dir.path().to_owned()),
        ..Options::default()
    })
    .await;
    (app, dir)
}

/// Every charter endpoint, with A's ids where an id is taken.
fn endpoints(marker: &str) -> Vec<String> {
    vec![
        "/".into(),
        "/servizi".into(),
        "/servizi?evento=family".into(),
        format!("/servizi/servizio-{marker}"),
        format!("/servizi/servizio-{marker}?al=2999-01-01"),
        "/uffici".into(),
        format!("/uffici/ufficio-{marker}"),
        "/personale".into(),
        format!("/cerca?q={marker}"),
        "/api/v1/services".into(),
        format!("/api/v1/services/servizio-{marker}"),
        format!("/api/v1/services/servizio-{marker}/jsonld"),
        "/api/v1/offices".into(),
        format!("/api/v1/offices/ufficio-{marker}"),
        "/api/v1/staff".into(),
        format!("/api/v1/search?q={marker}"),
        format!("/api/v1/search?q=Servizio"),
    ]
}

/// Texts that only the commune's own records hold (ids may echo back in a URL; these cannot).
fn data_phrases(marker: &str) -> Vec<String> {
    [
        "Servizio",
        "Service",
        "Sintesi",
        "Descrizione",
        "Ufficio",
        "Palazzo",
        "Persona",
        "Responsabile",
        "Documento",
        "Via",
    ]
    .iter()
    .map(|w| format!("{w} {marker}"))
    .collect()
}

#[tokio::test]
async fn commune_data_never_crosses_to_another_commune() {
    let (app, _dir) = two_communes().await;
    for (own_host, own, other) in [
        ("alfa.localhost", "zafferanoalfa", "rosmarinobravo"),
        ("bravo.localhost", "rosmarinobravo", "zafferanoalfa"),
    ] {
        // Positive control: each commune sees its own data on every endpoint that lists it.
        for path in endpoints(own) {
            let (status, body) = app.text(own_host, &path).await;
            assert_eq!(status, StatusCode::OK, "{own_host}{path}");
            if path != "/" && !path.contains("evento") {
                assert!(
                    data_phrases(own).iter().any(|p| body.contains(p.as_str())),
                    "{own_host}{path} should show its own data"
                );
            }
        }
        // The other commune's ids, listings and search terms, through this host.
        for path in endpoints(other) {
            let (status, body) = app.text(own_host, &path).await;
            for phrase in data_phrases(other) {
                assert!(
                    !body.contains(phrase.as_str()),
                    "{own_host}{path} leaked {phrase:?} (status {status})"
                );
            }
            let by_id = path.contains(&format!("-{other}"));
            if by_id {
                assert_eq!(
                    status,
                    StatusCode::NOT_FOUND,
                    "{own_host}{path} should not find another commune's record"
                );
            }
        }
    }
}
