//! `tenants sync`: idempotent, history-keeping, all or nothing.

use sportello_tests::{
    Options, StatusCode, TestDb, apex, eventually, spawn_app_with, tenants_dir, tenants_folder,
};

use crate::fixtures::*;

#[tokio::test]
async fn syncing_twice_changes_nothing() {
    let db = TestDb::new().await;
    let store = db.app_store().await;
    let fed = store.federation();
    let first = fed.sync_tenants_dir(&tenants_dir(), &apex()).await.unwrap();
    assert_eq!(first.files.len(), 11);
    assert!(first.files.iter().all(|(_, o)| o.created));
    let revision = fed.registry_revision().await.unwrap();
    let second = fed.sync_tenants_dir(&tenants_dir(), &apex()).await.unwrap();
    for (file, o) in &second.files {
        assert!(
            !o.created && !o.registry_changed && o.charter.is_empty(),
            "{file} changed on a second sync: {o:?}"
        );
    }
    assert_eq!(
        fed.registry_revision().await.unwrap(),
        revision,
        "an idempotent sync must not bump the registry"
    );
    assert_eq!(fed.commune_count().await.unwrap(), 11);
}

#[tokio::test]
async fn an_edit_updates_the_commune_and_keeps_the_old_version_in_history() {
    let text = commune_file("050003", "alfa.localhost", "alfa");
    let dir = tenants_folder(&[("alfa.toml", &text)]);
    let app = spawn_app_with(Options {
        tenants: Some(dir.path().to_owned()),
        ..Options::default()
    })
    .await;
    let fed = app.store.federation();
    let yesterday_ok = chrono::Utc::now().date_naive().to_string();
    // Warm the server's charter and page caches, so the changes below must invalidate them.
    assert_eq!(
        app.get("alfa.localhost", "/servizi/servizio-alfa")
            .await
            .status(),
        StatusCode::OK
    );
    let (_, first) = app
        .json("alfa.localhost", "/api/v1/services/servizio-alfa")
        .await;
    assert_eq!(first["summary"], "Sintesi alfa");
    // Let the clock move so the versions have distinct instants.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    std::fs::write(
        dir.path().join("alfa.toml"),
        text.replace("Sintesi alfa", "Sintesi nuova")
            .replace("cost_cents = 1600", "cost_cents = 0"),
    )
    .unwrap();
    let r = fed.sync_tenants_dir(dir.path(), &apex()).await.unwrap();
    assert_eq!(r.files[0].1.charter.updated, 1, "{:?}", r.files[0].1);
    // The running server sees the change at its next registry refresh, without a restart.
    let updated = eventually(|| async {
        app.json("alfa.localhost", "/api/v1/services/servizio-alfa")
            .await
            .1["summary"]
            == "Sintesi nuova"
    })
    .await;
    assert!(updated, "the running server still shows the old charter");
    let (_, now) = app
        .json("alfa.localhost", "/api/v1/services/servizio-alfa")
        .await;
    assert_eq!(now["summary"], "Sintesi nuova");
    assert_eq!(now["cost_cents"], 0);
    let tx = app
        .store
        .tenant(sportello_domain::TenantId(50003))
        .await
        .unwrap();
    assert_eq!(
        tx.db()
            .history_len("service", "servizio-alfa")
            .await
            .unwrap(),
        2
    );
    tx.commit().await.unwrap();
    // A time before the first sync has no version; the current one is at the end of today.
    let (status, _) = app
        .json(
            "alfa.localhost",
            "/api/v1/services/servizio-alfa?al=2000-01-01",
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, today) = app
        .json(
            "alfa.localhost",
            &format!("/api/v1/services/servizio-alfa?al={yesterday_ok}"),
        )
        .await;
    assert_eq!(today["summary"], "Sintesi nuova");
    // The old version is there with its interval: read it just before the change.
    let tx2 = app
        .store
        .tenant(sportello_domain::TenantId(50003))
        .await
        .unwrap();
    let now_us = chrono::Utc::now().timestamp_micros();
    let cur = tx2.db().service("servizio-alfa").await.unwrap().unwrap();
    let before = tx2
        .db()
        .service_as_of("servizio-alfa", cur.valid_from - 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.summary, "Sintesi alfa");
    assert_eq!(before.cost.cents(), 1600);
    assert!(cur.valid_from <= now_us);
    tx2.commit().await.unwrap();
    // Removing the service from the file removes it from the charter and closes its history.
    let without: String = text.split("[[services]]").next().unwrap().to_owned();
    std::fs::write(dir.path().join("alfa.toml"), without).unwrap();
    let r = fed.sync_tenants_dir(dir.path(), &apex()).await.unwrap();
    assert_eq!(r.files[0].1.charter.deleted, 1);
    let gone = eventually(|| async {
        app.get("alfa.localhost", "/servizi/servizio-alfa")
            .await
            .status()
            == StatusCode::NOT_FOUND
    })
    .await;
    assert!(gone, "the deleted service is still served");
}

#[tokio::test]
async fn a_bad_file_is_refused_with_its_name_and_nothing_is_written() {
    let db = TestDb::new().await;
    let store = db.app_store().await;
    let good = commune_file("050003", "alfa.localhost", "alfa");
    let cases = [
        (
            "unknown office",
            good.replace(
                "office = \"ufficio-alfa\"\nresponsible",
                "office = \"nope\"\nresponsible",
            ),
            "unknown office",
        ),
        (
            "bad hours",
            good.replace("mon = [\"00:00-23:59\"]", "mon = [\"12:00-08:00\"]"),
            "closes before it opens",
        ),
        (
            "bad level",
            good.replace(
                "online_level = \"substantial\"",
                "online_level = \"supreme\"",
            ),
            "supreme",
        ),
        ("not toml", "[commune\nistat".to_owned(), "bad.toml"),
        (
            "unknown istat",
            good.replace("050003", "999999"),
            "not in the ISTAT list",
        ),
    ];
    for (what, text, expect) in cases {
        let dir = tenants_folder(&[
            (
                "a-good.toml",
                &commune_file("050037", "bravo.localhost", "bravo"),
            ),
            ("bad.toml", &text),
        ]);
        let err = store
            .federation()
            .sync_tenants_dir(dir.path(), &apex())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(expect), "{what}: {err}");
        assert!(
            err.contains("bad.toml"),
            "{what}: the error should name the file: {err}"
        );
        assert_eq!(
            store.federation().commune_count().await.unwrap(),
            0,
            "{what}: the good file was half-imported"
        );
    }
    // Two communes claiming one host: refused, nothing written.
    let dir = tenants_folder(&[
        ("a.toml", &commune_file("050003", "same.localhost", "alfa")),
        ("b.toml", &commune_file("050037", "same.localhost", "bravo")),
    ]);
    let err = store
        .federation()
        .sync_tenants_dir(dir.path(), &apex())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("same.localhost"), "{err}");
    assert_eq!(store.federation().commune_count().await.unwrap(), 0);
}

/// The rollback itself: a file that passes every check of its own but whose host another
/// commune already holds in the database is refused inside the transaction, after an earlier
/// file of the same run was written: that one is undone too.
#[tokio::test]
async fn a_refusal_inside_the_transaction_undoes_the_files_written_before_it() {
    let db = TestDb::new().await;
    let store = db.app_store().await;
    let first = tenants_folder(&[(
        "alfa.toml",
        &commune_file("050003", "alfa.localhost", "alfa"),
    )]);
    store
        .federation()
        .sync_tenants_dir(first.path(), &apex())
        .await
        .unwrap();
    assert_eq!(store.federation().commune_count().await.unwrap(), 1);
    // "a-bravo" is written first; "b-charlie" then claims Alfa's host (Alfa's file is not in
    // this folder, so no check before the transaction can see the clash).
    let second = tenants_folder(&[
        (
            "a-bravo.toml",
            &commune_file("050037", "bravo.localhost", "bravo"),
        ),
        (
            "b-charlie.toml",
            &commune_file("050008", "alfa.localhost", "charlie"),
        ),
    ]);
    let err = store
        .federation()
        .sync_tenants_dir(second.path(), &apex())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("b-charlie.toml") && err.contains("alfa.localhost"),
        "{err}"
    );
    assert_eq!(
        store.federation().commune_count().await.unwrap(),
        1,
        "bravo, written before the refusal, was rolled back"
    );
}
