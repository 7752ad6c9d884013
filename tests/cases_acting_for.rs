//! Cases filed for someone, further: intermediaries under a delegation that holds, and "any
//! desk" of a partner commune where the commune allows it (and nothing more).

use sportello_authz::Role;
use sportello_cases::desk;
use sportello_cases::settings::{self, SettingsForm};
use sportello_cases::{delegations, office};
use sportello_domain::{AssuranceLevel, Language, Why};
use sportello_kernel::Error;

use crate::cases::{BASE, CALCI, PISA, citizen, world};
use crate::cases_desk::{BOLZANO, NEW_CF, audit, desk_files, start};
use crate::cases_office::staff;

#[tokio::test]
async fn an_intermediary_files_and_sees_a_clients_cases_only_while_the_delegation_holds() {
    let w = world().await;
    let caf = staff(&w, PISA, "caf@cafpisa.it", Role::Intermediary, None).await;
    // No delegation: refused.
    let e = desk::start(&w.deps, &caf, &start(PISA, NEW_CF, "Verdi"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Invalid(p) if p.0[0].why == Why::DelegationMissing),
        "{e:?}"
    );
    let today = sportello_cases::today();
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    // A delegation that ended yesterday, or a document that is no PDF, is refused.
    let yesterday = (today - chrono::Duration::days(1)).to_string();
    let bad = delegations::add(
        &w.deps,
        &caf,
        &delegations::NewDelegation {
            fiscal_code: NEW_CF,
            client_name: "Giuseppe Verdi",
            valid_until: &yesterday,
            document_name: "delega.exe",
            document: b"MZ\x90\x00not a pdf",
        },
    )
    .await
    .unwrap_err();
    let Error::Invalid(p) = bad else { panic!() };
    assert_eq!(
        p.0.iter().map(|x| x.field.as_str()).collect::<Vec<_>>(),
        ["valid_until", "document"]
    );
    let until = (today + chrono::Duration::days(30)).to_string();
    let d = delegations::add(
        &w.deps,
        &caf,
        &delegations::NewDelegation {
            fiscal_code: NEW_CF,
            client_name: "Giuseppe Verdi",
            valid_until: &until,
            document_name: "delega.pdf",
            document: pdf,
        },
    )
    .await
    .unwrap();
    assert!(d.in_force);
    // The delegation of one client does not cover another.
    let mut other = start(PISA, "BNCLRA90M41G702E", "Bianchi");
    other.delegation_id = Some(d.id.clone());
    assert!(matches!(
        desk::start(&w.deps, &caf, &other).await,
        Err(Error::Invalid(_))
    ));
    let mut req = start(PISA, NEW_CF, "Verdi");
    req.delegation_id = Some(d.id.clone());
    let s = desk_files(&w, &caf, &req).await.unwrap();
    assert_eq!(
        desk::filed_by_me(&w.deps, &caf, Language::It)
            .await
            .unwrap()
            .len(),
        1
    );
    // Another intermediary's delegation is not this one's to use.
    let caf2 = staff(&w, PISA, "caf@altro.it", Role::Intermediary, None).await;
    let mut stolen = start(PISA, NEW_CF, "Verdi");
    stolen.delegation_id = Some(d.id.clone());
    assert!(matches!(
        desk::start(&w.deps, &caf2, &stolen).await,
        Err(Error::Invalid(_))
    ));
    // An intermediary reads no office queue.
    let all = office::QueueQuery {
        queue: sportello_store::cases::Queue::All,
        ..Default::default()
    };
    assert!(
        office::queue(&w.deps, &caf, &all)
            .await
            .unwrap()
            .lines
            .is_empty()
    );
    // Revoked: the case is out of the intermediary's sight, and no new draft can start.
    delegations::revoke(&w.deps, &caf, &d.id).await.unwrap();
    assert!(
        desk::filed_by_me(&w.deps, &caf, Language::It)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        desk::filed_case(&w.deps, &caf, PISA, &s.case_id, Language::It).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        desk::start(&w.deps, &caf, &req).await,
        Err(Error::Invalid(_))
    ));
    let log = audit(&w, PISA).await;
    assert!(log.iter().any(|e| e.action == "delegation_added"));
    assert!(log.iter().any(|e| e.action == "delegation_revoked"));
}

#[tokio::test]
async fn any_desk_files_for_a_partner_commune_only_where_it_allows_and_nothing_more() {
    let w = world().await;
    let calci_desk = staff(&w, CALCI, "desk@comune.calci.pi.it", Role::FrontDesk, None).await;
    // Off by default.
    assert!(matches!(
        desk::start(&w.deps, &calci_desk, &start(PISA, NEW_CF, "Verdi")).await,
        Err(Error::Refused("refused_not_partner"))
    ));
    assert_eq!(
        desk::PartnerDesk::targets(&w.deps, CALCI)
            .await
            .unwrap()
            .len(),
        1,
        "only Calci itself"
    );
    // Pisa allows Calci's desks.
    let pisa_admin = staff(&w, PISA, "admin@comune.pisa.it", Role::Admin, None).await;
    settings::save(
        &w.deps,
        &pisa_admin,
        &SettingsForm {
            protocol_format: String::new(),
            desk: "some".into(),
            partners: "050003".into(),
        },
    )
    .await
    .unwrap();
    let s = desk_files(&w, &calci_desk, &start(PISA, NEW_CF, "Verdi"))
        .await
        .unwrap();
    // The case is Pisa's from the first moment: in Pisa's tenant, none in Calci's.
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    let c = tx.db().case(&s.case_id).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(c.filed.as_ref().unwrap().from, CALCI.0);
    let tx = w.deps.store.tenant(CALCI).await.unwrap();
    assert!(tx.db().case(&s.case_id).await.unwrap().is_none());
    tx.commit().await.unwrap();
    // Both logs record it.
    assert!(
        audit(&w, PISA)
            .await
            .iter()
            .any(|e| e.action == "case_filed_for"
                && e.actor_name == "desk@comune.calci.pi.it"
                && e.on_behalf_of.as_deref() == Some(NEW_CF))
    );
    assert!(
        audit(&w, CALCI)
            .await
            .iter()
            .any(|e| e.action == "case_filed_for_partner"
                && e.object == format!("commune:{}/case:{}", PISA.0, s.case_id))
    );
    // The desk sees what it filed, and its receipt; nothing else of Pisa's.
    let filed = desk::filed_by_me(&w.deps, &calci_desk, Language::It)
        .await
        .unwrap();
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0].commune, PISA.0);
    assert!(
        sportello_cases::receipt::filed(&w.deps, &calci_desk, PISA, &s.case_id, Language::It, BASE)
            .await
            .is_ok()
    );
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let hers = crate::cases::report(&w, &anna, "altro", "Orari")
        .await
        .unwrap();
    assert!(matches!(
        desk::filed_case(&w.deps, &calci_desk, PISA, &hers.case_id, Language::It).await,
        Err(Error::NotFound)
    ));
    assert!(
        office::queue(&w.deps, &calci_desk, &office::QueueQuery::default())
            .await
            .unwrap()
            .lines
            .is_empty()
    );
    // Calci's call centre is no front desk; Bolzano is no partner.
    let calci_cc = staff(&w, CALCI, "cc@comune.calci.pi.it", Role::CallCentre, None).await;
    let _known = citizen(&w, PISA, "BNCLRA90M41G702E", AssuranceLevel::Low).await;
    assert!(matches!(
        desk::start(
            &w.deps,
            &calci_cc,
            &start(PISA, "BNCLRA90M41G702E", "Rossi BNCLRA90M41G702E")
        )
        .await,
        Err(Error::Refused("refused_not_partner"))
    ));
    let bz_desk = staff(&w, BOLZANO, "desk@comune.bolzano.it", Role::FrontDesk, None).await;
    assert!(matches!(
        desk::start(&w.deps, &bz_desk, &start(PISA, NEW_CF, "Verdi")).await,
        Err(Error::Refused("refused_not_partner"))
    ));
    // A draft begun while allowed cannot be resumed once Pisa withdraws its consent.
    let id = desk::start(
        &w.deps,
        &calci_desk,
        &start(PISA, "BNCLRA90M41G702E", "Rossi BNCLRA90M41G702E"),
    )
    .await
    .unwrap();
    settings::save(
        &w.deps,
        &pisa_admin,
        &SettingsForm {
            protocol_format: String::new(),
            desk: "none".into(),
            partners: String::new(),
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        desk::resume(&w.deps, &calci_desk, PISA, &id).await,
        Err(Error::Refused("refused_not_partner"))
    ));
    // What it filed stays in its list.
    assert_eq!(
        desk::filed_by_me(&w.deps, &calci_desk, Language::It)
            .await
            .unwrap()
            .len(),
        1
    );
}
