//! The identity card's expiry told to its holder through the outbox: six months ahead, once per
//! card, only to a holder the portal can reach, only by the commune that holds the record.

use chrono::{Duration, NaiveDate};
use sportello_domain::AssuranceLevel;
use sportello_population::reminders::{Pass, remind};

use crate::cases::{BASE, CALCI, PISA, citizen, world};
use crate::registry::pisa_registry;

#[tokio::test]
async fn a_card_six_months_from_expiry_is_told_once_to_its_holder() {
    let w = world().await;
    pisa_registry(&w).await;
    // Giulia's card (CA12345AA) expires on 1 May 2031; she has used the portal.
    let giulia = citizen(&w, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    let expires = NaiveDate::from_ymd_opt(2031, 5, 1).unwrap();
    // Seven months ahead: not yet.
    let early = expires - Duration::days(210);
    assert_eq!(
        remind(&w.deps, PISA, early, BASE).await.unwrap(),
        Pass::default()
    );
    let due = expires - Duration::days(100);
    assert_eq!(
        remind(&w.deps, CALCI, due, BASE).await.unwrap(),
        Pass::default(),
        "Calci's registry does not hold her"
    );
    assert_eq!(
        remind(&w.deps, PISA, due, BASE).await.unwrap(),
        Pass {
            told: 1,
            unreachable: 0
        }
    );
    // Once per card: the next pass, and the day after, tell nobody.
    assert_eq!(
        remind(&w.deps, PISA, due, BASE).await.unwrap(),
        Pass::default()
    );
    assert_eq!(
        remind(&w.deps, PISA, due + Duration::days(1), BASE)
            .await
            .unwrap(),
        Pass::default()
    );
    let pid = giulia.person.unwrap().id;
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    let msgs = tx
        .db()
        .messages(&sportello_store::outbox::MessageFilter {
            person_id: Some(pid),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let told: Vec<_> = msgs
        .iter()
        .filter(|m| m.subject.contains("carta d'identità scade il 01/05/2031"))
        .collect();
    assert_eq!(told.len(), 1, "{msgs:?}");
}

#[tokio::test]
async fn a_holder_the_portal_cannot_reach_is_recorded_not_told_and_an_expired_card_is_left() {
    let w = world().await;
    pisa_registry(&w).await;
    let expires = NaiveDate::from_ymd_opt(2031, 5, 1).unwrap();
    // Giulia never signed in: nobody to write to; the card is recorded as looked at.
    assert_eq!(
        remind(&w.deps, PISA, expires - Duration::days(30), BASE)
            .await
            .unwrap(),
        Pass {
            told: 0,
            unreachable: 1
        }
    );
    // Past its expiry a card is no longer "near" it.
    let w2 = world().await;
    pisa_registry(&w2).await;
    citizen(&w2, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    assert_eq!(
        remind(&w2.deps, PISA, expires + Duration::days(1), BASE)
            .await
            .unwrap(),
        Pass::default()
    );
}

#[tokio::test]
async fn a_homonym_told_apart_by_omocodia_is_never_written_to_for_the_other() {
    let w = world().await;
    let a = pisa_registry(&w).await;
    // Another Mario Rossi, born the same day in Pisa: his code differs by omocodia only, and
    // his card expires soon. The Mario who uses the portal must not get his reminder.
    let other = format!(
        "{}\nRSSMRA80A01G70NR;Rossi;Mario;M;01/01/1980;G702;PISA;ITA;single;20;head;00130;Via Santa Maria;99;;identity_card;CB99999ZZ;2031-05-01;S;2012-01-01",
        crate::registry::HEADER
    );
    sportello_population::import::import(&w.deps, &a, other.as_bytes())
        .await
        .unwrap();
    let mario = citizen(&w, PISA, "RSSMRA80A01G702C", AssuranceLevel::Substantial).await;
    let expires = NaiveDate::from_ymd_opt(2031, 5, 1).unwrap();
    // Giulia's card and the other Mario's: neither can be told (Giulia never signed in).
    assert_eq!(
        remind(&w.deps, PISA, expires - Duration::days(30), BASE)
            .await
            .unwrap(),
        Pass {
            told: 0,
            unreachable: 2
        }
    );
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    let msgs = tx
        .db()
        .messages(&sportello_store::outbox::MessageFilter {
            person_id: Some(mario.person.unwrap().id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(msgs.is_empty(), "{msgs:?}");
}
