//! Onboarding from ISTAT's list: all 7,896 communes, idempotent, all or nothing, live at once.

use sportello_domain::TenantId;
use sportello_store::istat::{EMBEDDED_CSV, parse_csv};
use sportello_tests::{Options, StatusCode, apex, spawn_app_with, tenants_dir};

#[tokio::test]
async fn all_of_italy_is_onboarded_once_and_served_without_a_restart() {
    // The demo federation first, server running; then the national import behind its back.
    let app = spawn_app_with(Options {
        tenants: Some(tenants_dir()),
        ..Options::default()
    })
    .await;
    assert_eq!(
        app.get("agli.localhost", "/").await.status(),
        StatusCode::NOT_FOUND
    );
    let rows = parse_csv(EMBEDDED_CSV).unwrap();
    let fed = app.store.federation();
    let mut last = 0;
    let report = fed
        .import_istat(&rows, &apex(), |n| last = n)
        .await
        .unwrap();
    assert_eq!(last, 7896);
    assert_eq!(report.created, 7896 - 11);
    assert_eq!(report.created + report.updated + report.skipped, 7896);
    assert_eq!(fed.commune_count().await.unwrap(), 7896);
    // A second run changes nothing.
    let again = fed.import_istat(&rows, &apex(), |_| {}).await.unwrap();
    assert_eq!((again.created, again.updated, again.skipped), (0, 0, 7896));
    // The demo communes keep their own charter; a new one has the starter charter and its host.
    let tx = app.store.tenant(TenantId(50026)).await.unwrap();
    assert!(tx.db().services().await.unwrap().len() >= 15);
    drop(tx);
    let mut status = StatusCode::NOT_FOUND;
    for _ in 0..100 {
        status = app.get("aglie.localhost", "/").await.status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        status,
        StatusCode::OK,
        "Agliè should be live without a restart"
    );
    let (_, offices) = app.json("aglie.localhost", "/api/v1/offices").await;
    assert_eq!(offices["offices"][0]["id"], "urp");
    // Homonyms get the province: Castro (BG) and Castro (LE).
    let (_, j) = app.json("localhost", "/api/v1/communes?q=castro").await;
    let urls: Vec<&str> = j["communes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "Castro")
        .map(|c| c["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert!(
        urls.iter().any(|u| u.contains("castro-bg.localhost"))
            && urls.iter().any(|u| u.contains("castro-le.localhost")),
        "{urls:?}"
    );
}

#[tokio::test]
async fn a_conflicting_row_aborts_the_whole_import_naming_its_line() {
    let app = spawn_app_with(Options {
        tenants: Some(tenants_dir()),
        ..Options::default()
    })
    .await;
    let fed = app.store.federation();
    // Calci's derived host is taken by another commune already (here: Pisa claims it as an alias).
    use sea_orm::ConnectionTrait;
    app.store
        .raw_connection()
        .execute_unprepared("INSERT INTO commune_hosts (host, commune_id, is_primary) VALUES ('bientina.localhost', 50026, false)")
        .await
        .unwrap();
    let csv = "istat_code,name_it,name_other_language,region,province_code,province_name,cadastral_code\n\
               001001,Agliè,,Piemonte,TO,Torino,A074\n\
               050001,Bientina,,Toscana,PI,Pisa,A864\n";
    let rows = parse_csv(csv).unwrap();
    let err = fed
        .import_istat(&rows, &apex(), |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 3") && err.contains("bientina.localhost"),
        "{err}"
    );
    assert_eq!(
        fed.commune_count().await.unwrap(),
        11,
        "nothing may be imported"
    );
}

/// The rollback itself: a failure only the database can raise (a trigger refuses Bientina's
/// starter offices) comes after Agliè was written in the same transaction: Agliè is undone too.
#[tokio::test]
async fn a_failure_inside_the_import_transaction_undoes_every_commune_written_before_it() {
    let app = spawn_app_with(Options {
        tenants: Some(tenants_dir()),
        ..Options::default()
    })
    .await;
    use sea_orm::ConnectionTrait;
    let owner = sportello_store::Store::connect(&app.db.admin_url)
        .await
        .unwrap();
    let ddl: &[&str] = if sportello_tests::is_postgres() {
        &[
            "CREATE FUNCTION refuse_bientina() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
            "CREATE TRIGGER refuse_bientina BEFORE INSERT ON offices FOR EACH ROW \
             WHEN (NEW.tenant_id = 50001) EXECUTE FUNCTION refuse_bientina()",
        ]
    } else {
        &["CREATE TRIGGER refuse_bientina BEFORE INSERT ON offices \
           WHEN NEW.tenant_id = 50001 BEGIN SELECT RAISE(ABORT, 'injected failure'); END"]
    };
    for sql in ddl {
        owner
            .raw_connection()
            .execute_unprepared(sql)
            .await
            .unwrap();
    }
    let csv = "istat_code,name_it,name_other_language,region,province_code,province_name,cadastral_code\n\
               001001,Agliè,,Piemonte,TO,Torino,A074\n\
               050001,Bientina,,Toscana,PI,Pisa,A864\n";
    let fed = app.store.federation();
    let err = fed
        .import_istat(&parse_csv(csv).unwrap(), &apex(), |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("injected failure"), "{err}");
    assert_eq!(fed.commune_count().await.unwrap(), 11, "Agliè rolled back");
    let (status, _) = app.text("aglie.localhost", "/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
