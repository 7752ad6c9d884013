//! Cases, the office's side, through the services: queues limited to the clerk's offices,
//! taking in charge, asking the citizen (the deadline pauses) and their answer (it resumes),
//! the outcome, withdrawal rules, re-routing by an office head, and nothing across communes.

use sportello_authz::Role;
use sportello_cases::follow;
use sportello_cases::office::{self, Act, QueueQuery};
use sportello_domain::{AssuranceLevel, Language, Why};
use sportello_kernel::{Actor, Error};
use sportello_store::cases::Queue;
use sportello_store::staff::Realm;

use crate::cases::{BASE, CALCI, PISA, World, citizen, report, world};

pub(crate) async fn staff(
    w: &World,
    commune: sportello_domain::TenantId,
    email: &str,
    role: Role,
    office: Option<&str>,
) -> Actor {
    let realm = Realm::Commune(commune);
    let (id, _) = sportello_identity::staff::invite_for_office(
        &w.deps.store,
        realm,
        email,
        email,
        role.key(),
        office,
    )
    .await
    .unwrap();
    w.deps.apply_policy_changes().await.unwrap();
    Actor {
        realm,
        staff_id: id,
        name: email.into(),
        email: email.into(),
        federation: false,
    }
}

fn q(queue: Queue) -> QueueQuery {
    QueueQuery {
        queue,
        ..QueueQuery::default()
    }
}

#[tokio::test]
async fn a_clerk_works_a_case_from_new_to_outcome() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let s = report(&w, &anna, "altro", "Orari della biblioteca")
        .await
        .unwrap();
    let clerk = staff(&w, PISA, "clerk@urp.it", Role::Clerk, Some("urp")).await;
    let other = staff(&w, PISA, "clerk@anagrafe.it", Role::Clerk, Some("anagrafe")).await;

    // The URP clerk sees it among the new ones; the registry office's clerk sees nothing.
    let page = office::queue(&w.deps, &clerk, &q(Queue::New))
        .await
        .unwrap();
    assert_eq!(page.lines.len(), 1);
    assert_eq!(page.lines[0].protocol, s.protocol.to_string());
    assert!(
        office::queue(&w.deps, &other, &q(Queue::All))
            .await
            .unwrap()
            .lines
            .is_empty()
    );
    assert!(matches!(
        office::case(&w.deps, &other, &s.case_id, Language::It).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        office::act(&w.deps, &other, &s.case_id, &Act::Take, BASE).await,
        Err(Error::NotFound)
    ));
    // Found by protocol number, fiscal code and name.
    for search in [
        s.protocol.to_string(),
        "RSSMRA85T10A562S".into(),
        "rossi".into(),
    ] {
        let found = office::queue(
            &w.deps,
            &clerk,
            &QueueQuery {
                queue: Queue::All,
                search: Some(search.clone()),
                ..QueueQuery::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(found.lines.len(), 1, "{search}");
    }

    // Asking before taking in charge, or deciding, is refused.
    let ask = Act::Ask {
        text: "Serve una foto del lampione.".into(),
    };
    assert!(matches!(
        office::act(&w.deps, &clerk, &s.case_id, &ask, BASE).await,
        Err(Error::Refused("refused_take_first"))
    ));
    office::act(&w.deps, &clerk, &s.case_id, &Act::Take, BASE)
        .await
        .unwrap();
    assert!(matches!(
        office::act(&w.deps, &clerk, &s.case_id, &Act::Take, BASE).await,
        Err(Error::Refused("refused_already_taken"))
    ));
    let mine = office::queue(&w.deps, &clerk, &q(Queue::Mine))
        .await
        .unwrap();
    assert_eq!(mine.lines.len(), 1);
    // Once taken in charge, the citizen can no longer withdraw it.
    assert!(matches!(
        follow::withdraw(&w.deps, PISA, &anna, &s.case_id, "Non serve più").await,
        Err(Error::Refused("refused_withdraw_taken"))
    ));

    // An internal note: the office sees it, the citizen does not.
    office::act(
        &w.deps,
        &clerk,
        &s.case_id,
        &Act::Note {
            text: "Sentire il settore lavori.".into(),
        },
        BASE,
    )
    .await
    .unwrap();
    office::act(&w.deps, &clerk, &s.case_id, &ask, BASE)
        .await
        .unwrap();
    let seen = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(seen.status, "waiting");
    assert!(seen.deadline.unwrap().paused);
    assert!(
        seen.events.iter().all(|e| e.kind != "note"),
        "notes stay in the office"
    );
    assert!(
        seen.events
            .iter()
            .any(|e| e.kind == "asked" && e.text.contains("foto"))
    );
    let office_view = office::case(&w.deps, &clerk, &s.case_id, Language::It)
        .await
        .unwrap();
    assert!(office_view.events.iter().any(|e| e.kind == "note"));
    assert_eq!(
        office::queue(&w.deps, &clerk, &q(Queue::Waiting))
            .await
            .unwrap()
            .lines
            .len(),
        1
    );

    // The citizen answers: the case is back with the office, the deadline runs again.
    let e = follow::reply(&w.deps, PISA, &anna, &s.case_id, "  ", BASE)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(p) if p.has("text", Why::Required)));
    follow::reply(
        &w.deps,
        PISA,
        &anna,
        &s.case_id,
        "Ecco la foto: il lampione è il terzo.",
        BASE,
    )
    .await
    .unwrap();
    let back = office::case(&w.deps, &clerk, &s.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(back.status, "in_charge");
    let d = back.deadline.unwrap();
    assert!(!d.paused);
    assert_eq!(
        d.days_left, 30,
        "asked and answered the same day: no day added"
    );

    // A rejection needs its reason; then the case is closed to everyone.
    let e = office::act(
        &w.deps,
        &clerk,
        &s.case_id,
        &Act::Decide {
            accept: false,
            reason: " ".into(),
        },
        BASE,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Invalid(p) if p.has("reason", Why::Required)));
    office::act(
        &w.deps,
        &clerk,
        &s.case_id,
        &Act::Decide {
            accept: true,
            reason: String::new(),
        },
        BASE,
    )
    .await
    .unwrap();
    let done = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(done.status, "accepted");
    assert!(done.closed && done.deadline.is_none());
    assert!(matches!(
        office::act(
            &w.deps,
            &clerk,
            &s.case_id,
            &Act::Message {
                text: "ciao".into()
            },
            BASE
        )
        .await,
        Err(Error::Refused("refused_case_closed"))
    ));
    assert!(matches!(
        follow::reply(&w.deps, PISA, &anna, &s.case_id, "grazie", BASE).await,
        Err(Error::Refused("refused_case_closed"))
    ));
    assert_eq!(
        office::queue(&w.deps, &clerk, &q(Queue::Closed))
            .await
            .unwrap()
            .lines
            .len(),
        1
    );
    let kinds: Vec<String> = office::case(&w.deps, &clerk, &s.case_id, Language::It)
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "submitted",
            "taken",
            "note",
            "asked",
            "answered",
            "accepted"
        ]
    );
}

#[tokio::test]
async fn a_citizen_withdraws_before_the_office_takes_it() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let s = report(&w, &anna, "altro", "Orari della biblioteca")
        .await
        .unwrap();
    let e = follow::withdraw(&w.deps, PISA, &anna, &s.case_id, "")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(p) if p.has("reason", Why::Required)));
    follow::withdraw(&w.deps, PISA, &anna, &s.case_id, "Risolto da solo")
        .await
        .unwrap();
    let c = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(c.status, "withdrawn");
    assert!(!c.can_withdraw);
}

#[tokio::test]
async fn only_an_office_head_reroutes_and_only_to_a_real_office() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let s = report(&w, &anna, "altro", "Buca in Via Roma")
        .await
        .unwrap();
    let clerk = staff(&w, PISA, "clerk@urp.it", Role::Clerk, Some("urp")).await;
    let head = staff(&w, PISA, "head@urp.it", Role::OfficeHead, Some("urp")).await;
    let to = |office: &str| Act::Reroute {
        office: office.into(),
        reason: "È una buca: la segue la mobilità.".into(),
    };
    assert!(matches!(
        office::act(&w.deps, &clerk, &s.case_id, &to("mobilita"), BASE).await,
        Err(Error::Refused("refused_office_head_only"))
    ));
    let e = office::act(&w.deps, &head, &s.case_id, &to("nessuno"), BASE)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(p) if p.has("office", Why::UnknownOffice)));
    office::act(&w.deps, &head, &s.case_id, &to("mobilita"), BASE)
        .await
        .unwrap();
    // Now it is the mobility office's: the URP head no longer sees it, their clerk does.
    assert!(matches!(
        office::case(&w.deps, &head, &s.case_id, Language::It).await,
        Err(Error::NotFound)
    ));
    let mobility = staff(&w, PISA, "clerk@mobilita.it", Role::Clerk, Some("mobilita")).await;
    let c = office::case(&w.deps, &mobility, &s.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(c.office_id, "mobilita");
    assert_eq!(c.status, "submitted");
    assert!(!c.deadline.unwrap().paused, "the pause ended with the move");
    assert!(c.events.iter().any(|e| e.kind == "rerouted"));
    assert_eq!(
        office::queue(&w.deps, &mobility, &q(Queue::New))
            .await
            .unwrap()
            .lines
            .len(),
        1
    );
    // The citizen sees the case, not the hop.
    let seen = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap();
    assert!(seen.events.iter().all(|e| e.kind != "rerouted"));
    // Assigning to a colleague of another office is refused.
    let e = office::act(
        &w.deps,
        &mobility,
        &s.case_id,
        &Act::Assign {
            staff_id: clerk.staff_id.clone(),
        },
        BASE,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Invalid(p) if p.has("staff_id", Why::NotOneOf)));
    let colleague = staff(
        &w,
        PISA,
        "clerk2@mobilita.it",
        Role::Clerk,
        Some("mobilita"),
    )
    .await;
    office::act(
        &w.deps,
        &mobility,
        &s.case_id,
        &Act::Assign {
            staff_id: colleague.staff_id.clone(),
        },
        BASE,
    )
    .await
    .unwrap();
    let theirs = office::queue(&w.deps, &colleague, &q(Queue::Mine))
        .await
        .unwrap();
    assert_eq!(theirs.lines.len(), 1);
}

#[tokio::test]
async fn another_communes_staff_reach_nothing() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let s = report(&w, &anna, "altro", "Orari della biblioteca")
        .await
        .unwrap();
    let calci_admin = staff(&w, CALCI, "admin@calci.it", Role::Admin, None).await;
    assert!(
        office::queue(&w.deps, &calci_admin, &q(Queue::All))
            .await
            .unwrap()
            .lines
            .is_empty()
    );
    assert!(matches!(
        office::case(&w.deps, &calci_admin, &s.case_id, Language::It).await,
        Err(Error::NotFound)
    ));
    let search = QueueQuery {
        queue: Queue::All,
        search: Some(s.protocol.to_string()),
        ..QueueQuery::default()
    };
    assert!(
        office::queue(&w.deps, &calci_admin, &search)
            .await
            .unwrap()
            .lines
            .is_empty()
    );
    // By name: Pisa's administrator (the whole commune) finds it, Calci's does not.
    let by_name = QueueQuery {
        queue: Queue::All,
        search: Some("rossi".into()),
        ..QueueQuery::default()
    };
    let pisa_admin = staff(&w, PISA, "admin@pisa.it", Role::Admin, None).await;
    let found = office::queue(&w.deps, &pisa_admin, &by_name).await.unwrap();
    assert_eq!(found.lines.len(), 1);
    assert!(
        office::queue(&w.deps, &calci_admin, &by_name)
            .await
            .unwrap()
            .lines
            .is_empty()
    );
}
