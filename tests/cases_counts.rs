//! The offices' counts by state (`case_counts`) follow every change: submissions, taking in
//! charge, asking and answering, re-routing, outcomes, withdrawal; what the queue tabs show
//! without search equals what counting the cases gives, on both databases.

use sportello_authz::Role;
use sportello_cases::follow;
use sportello_cases::office::{self, Act};
use sportello_domain::AssuranceLevel;
use sportello_store::cases::{Queue, QueueFilter};

use crate::cases::{BASE, PISA, citizen, report, world};
use crate::cases_office::staff;

#[tokio::test]
async fn the_offices_counts_follow_every_change_of_state() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let head = staff(&w, PISA, "head@urp.it", Role::OfficeHead, Some("urp")).await;
    let mut ids = vec![];
    for i in 0..5 {
        ids.push(
            report(&w, &anna, "altro", &format!("Domanda {i}"))
                .await
                .unwrap()
                .case_id,
        );
    }
    let act = |id: &str, a: Act| {
        let (deps, head, id) = (&w.deps, &head, id.to_owned());
        async move { office::act(deps, head, &id, &a, BASE).await.unwrap() }
    };
    act(&ids[0], Act::Take).await;
    act(&ids[1], Act::Take).await;
    act(
        &ids[1],
        Act::Ask {
            text: "Serve un documento".into(),
        },
    )
    .await;
    follow::reply(&w.deps, PISA, &anna, &ids[1], "Eccolo", BASE)
        .await
        .unwrap();
    act(&ids[2], Act::Take).await;
    act(
        &ids[2],
        Act::Decide {
            accept: true,
            reason: "Accolta".into(),
        },
    )
    .await;
    act(
        &ids[3],
        Act::Reroute {
            office: "anagrafe".into(),
            reason: "Competenza".into(),
        },
    )
    .await;
    follow::withdraw(&w.deps, PISA, &anna, &ids[4], "Non serve più")
        .await
        .unwrap();
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    let db = tx.db();
    let mut fast = db.counts_by_status(&QueueFilter::default()).await.unwrap();
    // A filter that keeps every case takes the counting path.
    let mut slow = db
        .counts_by_status(&QueueFilter {
            from: Some("2000-01-01".into()),
            ..QueueFilter::default()
        })
        .await
        .unwrap();
    fast.retain(|(_, n)| *n != 0);
    fast.sort();
    slow.sort();
    assert_eq!(fast, slow);
    assert_eq!(
        slow,
        [
            ("accepted".to_owned(), 1),
            ("in_charge".to_owned(), 2),
            ("submitted".to_owned(), 1),
            ("withdrawn".to_owned(), 1)
        ]
    );
    // Per office: the re-routed case counts for the registry office now.
    let urp = db
        .counts_by_status(&QueueFilter {
            queue: Queue::All,
            offices: Some(vec!["anagrafe".into()]),
            ..QueueFilter::default()
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        urp.iter().filter(|(_, n)| *n != 0).collect::<Vec<_>>(),
        [&("submitted".to_owned(), 1)]
    );
}
