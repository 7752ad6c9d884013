//! The register's writing of a number (one statement on PostgreSQL, steps on SQLite): a number
//! longer than the format's digits is written whole and found by its words, registration times
//! follow numbers, the day is Italy's and the due day follows it.

use sportello_cases::follow;
use sportello_domain::{AssuranceLevel, Language};
use sportello_tests::is_postgres;

use crate::cases::{PISA, citizen, report, world, year};

#[tokio::test]
async fn numbers_past_their_digits_are_written_whole_and_times_follow_numbers() {
    use sea_orm::ConnectionTrait;
    let w = world().await;
    let owner = sportello_store::Store::connect(&w.db.admin_url)
        .await
        .unwrap();
    owner
        .raw_connection()
        .execute_unprepared(&format!(
            "INSERT INTO protocol_counters (tenant_id, year, last_number) VALUES ({}, {}, 9999998)",
            PISA.0,
            year()
        ))
        .await
        .unwrap();
    owner.close().await.ok();
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let mut seen = vec![];
    for (i, want) in ["9999999", "10000000", "10000001"].iter().enumerate() {
        let s = report(&w, &anna, "altro", &format!("Domanda {i}"))
            .await
            .unwrap();
        let text = format!("{}/{want}", year());
        let v = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
            .await
            .unwrap();
        assert_eq!(v.protocol, text, "on {}", db());
        // Found by its words, as a receipt prints them.
        let found =
            follow::status_by_code(&w.deps, PISA, &text, &v.code.clone().unwrap(), Language::It)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(found.protocol, text);
        let tx = w.deps.store.tenant(PISA).await.unwrap();
        let c = tx.db().case(&s.case_id).await.unwrap().unwrap();
        tx.commit().await.unwrap();
        assert_eq!(c.protocol_text.as_deref(), Some(text.as_str()));
        assert_eq!(
            c.submitted_on,
            sportello_cases::rome_day(c.submitted_at).to_string(),
            "the registration's day is Italy's on {}",
            db()
        );
        let on: chrono::NaiveDate = c.submitted_on.parse().unwrap();
        assert_eq!(
            c.due_on,
            (on + chrono::Duration::days(i64::from(c.max_days))).to_string()
        );
        seen.push((c.number.unwrap(), c.submitted_at));
    }
    assert!(
        seen.windows(2).all(|p| p[0].0 < p[1].0 && p[0].1 < p[1].1),
        "{seen:?}"
    );
}

fn db() -> &'static str {
    if is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}
