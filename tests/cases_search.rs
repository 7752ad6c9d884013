//! The offices' search by name: every word typed begins a word of the applicant's name, in any
//! order, whatever the accents and case (the rarest word a range of `case_names`); another
//! office's clerk finds none of them; text that folds to nothing finds nothing; and the words
//! of cases filed before the table existed are found after the upgrade.

use sportello_authz::Role;
use sportello_cases::office::{self, QueueQuery};
use sportello_domain::AssuranceLevel;
use sportello_kernel::session::Current;
use sportello_store::cases::Queue;
use sportello_store::identity::VerifiedIdentity;
use sportello_tests::TestDb;

use crate::cases::{PISA, World, person_signed_in, report, world};
use crate::cases_office::staff;

async fn named(w: &World, cf: &str, given: &str, family: &str) -> Current {
    let who = VerifiedIdentity {
        fiscal_code: cf.into(),
        given_name: given.into(),
        family_name: family.into(),
        email: None,
        mobile: None,
        date_of_birth: None,
        place_of_birth: None,
    };
    person_signed_in(&w.deps, PISA, &who, AssuranceLevel::Substantial).await
}

#[tokio::test]
async fn a_search_finds_the_words_a_name_begins_with_in_any_order() {
    let w = world().await;
    for (cf, given, family) in [
        ("RSSMRA85T10A562S", "Mario", "Rossi"),
        ("VRDGPP80A01G702C", "Anna", "Rossini"),
        ("BNCLRA90M41G702E", "Maria Teresa", "D'Angelo"),
        ("NREFNC75C12B390U", "Zoë", "Zzàp"),
    ] {
        let who = named(&w, cf, given, family).await;
        report(&w, &who, "altro", "Una domanda").await.unwrap();
    }
    let clerk = staff(&w, PISA, "clerk@urp.it", Role::Clerk, Some("urp")).await;
    let elsewhere = staff(&w, PISA, "clerk@anagrafe.it", Role::Clerk, Some("anagrafe")).await;
    let found = |who: &sportello_kernel::Actor, s: &str| {
        let (deps, who, s) = (&w.deps, who.clone(), s.to_owned());
        async move {
            let page = office::queue(
                deps,
                &who,
                &QueueQuery {
                    queue: Queue::All,
                    search: Some(s.clone()),
                    ..QueueQuery::default()
                },
            )
            .await
            .unwrap();
            let all = page
                .counts
                .iter()
                .find(|(q, _)| *q == "tutte")
                .map(|(_, n)| *n);
            let mut names: Vec<String> = page.lines.into_iter().map(|l| l.applicant_name).collect();
            names.sort();
            assert_eq!(
                all,
                Some(names.len() as i64),
                "the count follows the search: {s}"
            );
            names
        }
    };
    assert_eq!(found(&clerk, "ross").await, ["Anna Rossini", "Mario Rossi"]);
    assert_eq!(found(&clerk, "ROSSIN").await, ["Anna Rossini"]);
    assert_eq!(found(&clerk, "rossi mario").await, ["Mario Rossi"]);
    assert_eq!(found(&clerk, "d'angelo").await, ["Maria Teresa D'Angelo"]);
    assert_eq!(found(&clerk, "angelo ter").await, ["Maria Teresa D'Angelo"]);
    assert_eq!(found(&clerk, "zoe zza").await, ["Zoë Zzàp"]);
    assert_eq!(found(&clerk, "zz").await, ["Zoë Zzàp"]);
    // The middle of a word is not its beginning; a word nobody has finds nobody.
    assert!(found(&clerk, "ossi").await.is_empty());
    assert!(found(&clerk, "mario bianchi").await.is_empty());
    // Text with nothing to fold to finds nobody (not everybody).
    assert!(found(&clerk, "Ελένη").await.is_empty());
    assert!(found(&clerk, "%_\\").await.is_empty());
    // Another office of the commune reads none of them.
    assert!(found(&elsewhere, "ross").await.is_empty());
}

#[tokio::test]
async fn the_upgrade_writes_the_words_of_the_names_already_there() {
    use sea_orm::ConnectionTrait;
    use sportello_migrations::{Migrator, MigratorTrait};
    let db = TestDb::unmigrated().await;
    let owner = sportello_store::Store::connect(&db.admin_url)
        .await
        .unwrap();
    let conn = owner.raw_connection();
    Migrator::up(conn, Some(14)).await.unwrap();
    for (id, search) in [("c1", "mario rossi"), ("c2", "anna maria  rossi")] {
        conn.execute_unprepared(&format!(
            "INSERT INTO cases (tenant_id, id, year, number, idempotency_key, person_id, fiscal_code, \
             applicant_name, applicant_search, service_id, form_version, office_id, status, answers, level, \
             idp, lang, code_hash, max_days, submitted_at, submitted_on, due_on, paused_days, last_event, updated_at) \
             VALUES ({}, '{id}', 2026, {n}, 'k-{id}', 'p', NULL, 'x', '{search}', 's', 1, 'urp', 'submitted', '{{}}', \
             2, 'spid', 'it', 'h', 30, 0, '2026-01-01', '2026-02-01', 0, 0, 0)",
            PISA.0,
            n = if id == "c1" { 1 } else { 2 },
        ))
        .await
        .unwrap();
    }
    Migrator::up(conn, None).await.unwrap();
    let mut rows: Vec<(String, String)> = vec![];
    for r in conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT word, case_id FROM case_names ORDER BY case_id, word".to_owned(),
        ))
        .await
        .unwrap()
    {
        rows.push((
            r.try_get("", "word").unwrap(),
            r.try_get("", "case_id").unwrap(),
        ));
    }
    let want: Vec<(String, String)> = [
        ("mario", "c1"),
        ("rossi", "c1"),
        ("anna", "c2"),
        ("maria", "c2"),
        ("rossi", "c2"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(rows, want);
}
