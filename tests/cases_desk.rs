//! Cases filed for someone, through the services: a front desk for a person present, the call
//! centre (people already known, first-level services only), intermediaries under a delegation
//! that holds, "any desk" of a partner commune where the commune allows it, and the commune's
//! protocol number format. Each act is in the audit log with `on_behalf_of` and `purpose`.

use sportello_authz::Role;
use sportello_cases::desk::{self, StartRequest};
use sportello_cases::filer::Filer;
use sportello_cases::settings::{self, SettingsForm};
use sportello_cases::{draft, follow, lookup, office, submit};
use sportello_domain::{AssuranceLevel, Language, TenantId, Why};
use sportello_kernel::{Actor, Error};

use crate::cases::{BASE, PISA, World, citizen, raw, world, year};
use crate::cases_office::staff;

pub(crate) const NEW_CF: &str = "VRDGPP80A01G702C";
pub(crate) const BOLZANO: TenantId = TenantId(21008);

pub(crate) fn start(target: TenantId, cf: &str, family: &str) -> StartRequest {
    StartRequest {
        target,
        service_id: "segnalazioni".into(),
        fiscal_code: cf.into(),
        given_name: "Giuseppe".into(),
        family_name: family.into(),
        purpose: "Presente allo sportello, carta d'identità CA12345AB".into(),
        delegation_id: None,
    }
}

/// Fills in the report form as `filer` and files it in `commune`.
pub(crate) async fn fill_and_file(
    w: &World,
    commune: TenantId,
    filer: &Filer,
) -> Result<submit::Submitted, Error> {
    let f = draft::open(&w.deps, commune, filer, "segnalazioni", None).await?;
    let first = raw(&[
        ("categoria", "strade"),
        ("oggetto", "Lampione spento"),
        (
            "descrizione",
            "Da una settimana il lampione davanti al civico è spento.",
        ),
        ("luogo", "Via Santa Maria 12"),
    ]);
    draft::save(
        &w.deps,
        commune,
        filer,
        "segnalazioni",
        0,
        &first,
        draft::Step::Next,
    )
    .await?;
    draft::save(
        &w.deps,
        commune,
        filer,
        "segnalazioni",
        1,
        &raw(&[("email", "giuseppe@example.org")]),
        draft::Step::Next,
    )
    .await?;
    submit::submit(
        &w.deps,
        commune,
        filer,
        "segnalazioni",
        &f.draft_id,
        Language::It,
        BASE,
    )
    .await
}

pub(crate) async fn desk_files(
    w: &World,
    actor: &Actor,
    req: &StartRequest,
) -> Result<submit::Submitted, Error> {
    let id = desk::start(&w.deps, actor, req).await?;
    let (filer, service) = desk::resume(&w.deps, actor, req.target, &id).await?;
    assert_eq!(service, "segnalazioni");
    fill_and_file(w, req.target, &filer).await
}

pub(crate) async fn audit(w: &World, c: TenantId) -> Vec<sportello_store::authz::AuditEntry> {
    let tx = w.deps.store.tenant(c).await.unwrap();
    let log = tx.db().audit_log(100).await.unwrap();
    tx.commit().await.unwrap();
    log
}

#[tokio::test]
async fn a_front_desk_files_for_a_person_present_and_the_person_sees_who_and_why() {
    let w = world().await;
    let desk_op = staff(&w, PISA, "desk@comune.pisa.it", Role::FrontDesk, None).await;
    let s = desk_files(&w, &desk_op, &start(PISA, NEW_CF, "Verdi"))
        .await
        .unwrap();
    assert_eq!(s.protocol.year, year());

    // The person, made known by the desk, finds the case in their own list once signed in.
    let giuseppe = citizen(&w, PISA, NEW_CF, AssuranceLevel::Substantial).await;
    let mine = follow::mine(&w.deps, PISA, &giuseppe, Language::It)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    let v = follow::one(&w.deps, PISA, &giuseppe, &s.case_id, Language::It)
        .await
        .unwrap();
    let filed = v.filed.expect("the case says it was filed for the person");
    assert_eq!(filed.by_name, "desk@comune.pisa.it");
    assert_eq!(filed.as_, "front_desk");
    assert_eq!(filed.from, "Pisa");
    assert!(filed.purpose.contains("CA12345AB"));
    assert!(
        !v.signed,
        "a desk's filing is not the online signed request"
    );
    assert!(v.events[0].actor_name == "desk@comune.pisa.it" && !v.events[0].by_citizen);

    // The audit log has the act with whom for and why.
    let log = audit(&w, PISA).await;
    let e = log.iter().find(|e| e.action == "case_filed_for").unwrap();
    assert_eq!(e.on_behalf_of.as_deref(), Some(NEW_CF));
    assert!(e.purpose.as_deref().unwrap().contains("CA12345AB"));
    assert_eq!(e.object, format!("case:{}", s.case_id));

    // The desk's draft was the desk's: the person's own drafts never held it.
    assert!(
        draft::mine(&w.deps, PISA, &giuseppe, Language::It)
            .await
            .unwrap()
            .is_empty()
    );
    // The desk lists it and hands over the receipt, with the code for the status page.
    let filed = desk::filed_by_me(&w.deps, &desk_op, Language::It)
        .await
        .unwrap();
    assert_eq!(filed.len(), 1);
    let (_, pdf) =
        sportello_cases::receipt::filed(&w.deps, &desk_op, PISA, &s.case_id, Language::It, BASE)
            .await
            .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    // A colleague at another desk does not see it.
    let other = staff(&w, PISA, "desk2@comune.pisa.it", Role::FrontDesk, None).await;
    assert!(
        desk::filed_by_me(&w.deps, &other, Language::It)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        desk::filed_case(&w.deps, &other, PISA, &s.case_id, Language::It).await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn a_desk_draft_and_the_persons_own_draft_are_apart() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Substantial).await;
    let own = draft::open(
        &w.deps,
        PISA,
        &Filer::citizen(&anna).unwrap(),
        "segnalazioni",
        None,
    )
    .await
    .unwrap();
    let desk_op = staff(&w, PISA, "desk@comune.pisa.it", Role::FrontDesk, None).await;
    let id = desk::start(
        &w.deps,
        &desk_op,
        &start(PISA, "RSSMRA85T10A562S", "Rossi RSSMRA85T10A562S"),
    )
    .await
    .unwrap();
    assert_ne!(id, own.draft_id);
    // The desk's form holds what the desk said (names, fiscal code), never the person's stored
    // contacts: the person's own draft has their address, the desk's has none.
    let (filer, _) = desk::resume(&w.deps, &desk_op, PISA, &id).await.unwrap();
    let theirs = draft::open(&w.deps, PISA, &filer, "segnalazioni", None)
        .await
        .unwrap();
    assert!(
        own.raw
            .values()
            .flatten()
            .any(|v| v.contains("@example.org"))
    );
    assert!(
        !theirs.raw.values().flatten().any(|v| v.contains('@')),
        "{:?}",
        theirs.raw
    );
    // Another desk cannot resume it; the person's draft is not a desk's.
    let other = staff(&w, PISA, "desk2@comune.pisa.it", Role::FrontDesk, None).await;
    assert!(matches!(
        desk::resume(&w.deps, &other, PISA, &id).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        desk::resume(&w.deps, &desk_op, PISA, &own.draft_id).await,
        Err(Error::NotFound)
    ));
    // A known person's family name must match: a slip of the fiscal code files for nobody.
    let e = desk::start(
        &w.deps,
        &desk_op,
        &start(PISA, "RSSMRA85T10A562S", "Bianchi"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, Error::Invalid(p) if p.0[0].field == "family_name"),
        "{e:?}"
    );
    // Bad input: every field named, nothing kept.
    let mut bad = start(PISA, "RSSMRA85T10A562X", "");
    bad.purpose = " ".into();
    let Error::Invalid(p) = desk::start(&w.deps, &desk_op, &bad).await.unwrap_err() else {
        panic!("refused as input");
    };
    let fields: Vec<&str> = p.0.iter().map(|x| x.field.as_str()).collect();
    assert_eq!(fields, ["fiscal_code", "family_name", "purpose"]);
}

#[tokio::test]
async fn the_call_centre_files_only_for_known_people_and_first_level_services() {
    let w = world().await;
    let cc = staff(&w, PISA, "cc@comune.pisa.it", Role::CallCentre, None).await;
    // Someone never seen: a phone call does not make a person known.
    assert!(matches!(
        desk::start(&w.deps, &cc, &start(PISA, NEW_CF, "Verdi")).await,
        Err(Error::Refused("refused_person_unknown"))
    ));
    // Nor does a desk having made them known: only an identity provider's word counts.
    let desk_op = staff(&w, PISA, "desk@comune.pisa.it", Role::FrontDesk, None).await;
    desk::start(&w.deps, &desk_op, &start(PISA, NEW_CF, "Verdi"))
        .await
        .unwrap();
    assert!(matches!(
        desk::start(&w.deps, &cc, &start(PISA, NEW_CF, "Verdi")).await,
        Err(Error::Refused("refused_person_unknown"))
    ));
    let _signed_in_since = citizen(&w, PISA, NEW_CF, AssuranceLevel::Low).await;
    assert!(
        desk::start(&w.deps, &cc, &start(PISA, NEW_CF, "Rossi VRDGPP80A01G702C"))
            .await
            .is_ok()
    );
    let _anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let mut req = start(PISA, "RSSMRA85T10A562S", "Rossi RSSMRA85T10A562S");
    req.service_id = "accesso-atti".into();
    assert!(matches!(
        desk::start(&w.deps, &cc, &req).await,
        Err(Error::Refused("refused_call_centre_level"))
    ));
    let s = desk_files(
        &w,
        &cc,
        &start(PISA, "RSSMRA85T10A562S", "rossi rssmra85t10a562s"),
    )
    .await
    .unwrap();
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    let c = tx.db().case(&s.case_id).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(c.filed.unwrap().as_, "call_centre");
    // A clerk is no desk; and desks read no office queue.
    let clerk = staff(&w, PISA, "clerk@urp.it", Role::Clerk, Some("mobilita")).await;
    assert!(matches!(
        desk::start(&w.deps, &clerk, &start(PISA, NEW_CF, "Verdi")).await,
        Err(Error::Refused("refused_not_acting_for"))
    ));
    let all = office::QueueQuery {
        queue: sportello_store::cases::Queue::All,
        ..Default::default()
    };
    assert!(
        office::queue(&w.deps, &cc, &all)
            .await
            .unwrap()
            .lines
            .is_empty()
    );
    assert_eq!(
        office::queue(&w.deps, &clerk, &all)
            .await
            .unwrap()
            .lines
            .len(),
        1
    );
}

#[tokio::test]
async fn a_desk_looks_up_a_citizens_cases_and_the_look_is_on_each_case() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let s = crate::cases::report(&w, &anna, "altro", "Orari")
        .await
        .unwrap();
    let cc = staff(&w, PISA, "cc@comune.pisa.it", Role::CallCentre, None).await;
    let l = lookup::citizen_cases(
        &w.deps,
        &cc,
        "RSSMRA85T10A562S",
        "Rossi RSSMRA85T10A562S",
        "Telefonata del 6/12, chiede lo stato",
        Language::It,
    )
    .await
    .unwrap();
    assert_eq!(l.cases.len(), 1);
    assert_eq!(l.cases[0].id, s.case_id);
    // Looked at again the same day: one entry in the history, two in the audit log.
    lookup::citizen_cases(
        &w.deps,
        &cc,
        "RSSMRA85T10A562S",
        "Rossi RSSMRA85T10A562S",
        "Telefonata del 6/12, richiama",
        Language::It,
    )
    .await
    .unwrap();
    // The wrong family name: nothing, as for an unknown code.
    let none = lookup::citizen_cases(
        &w.deps,
        &cc,
        "RSSMRA85T10A562S",
        "Bianchi",
        "x",
        Language::It,
    )
    .await
    .unwrap();
    assert!(none.cases.is_empty());
    // The citizen sees the look, with its purpose; the log has it.
    let v = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(v.events.iter().filter(|e| e.kind == "consulted").count(), 1);
    let seen = v.events.iter().find(|e| e.kind == "consulted").unwrap();
    assert_eq!(seen.text, "Telefonata del 6/12, chiede lo stato");
    let log = audit(&w, PISA).await;
    assert!(log.iter().filter(|e| e.action == "cases_read_for").count() >= 2);
    assert!(log.iter().any(|e| e.action == "cases_read_for"
        && e.on_behalf_of.as_deref() == Some("RSSMRA85T10A562S")
        && e.purpose.as_deref() == Some("Telefonata del 6/12, chiede lo stato")));
    // No purpose, no look.
    let e = lookup::citizen_cases(&w.deps, &cc, "RSSMRA85T10A562S", "Rossi", "", Language::It)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)));
}

#[tokio::test]
async fn a_commune_writes_its_protocol_numbers_its_own_way() {
    let w = world().await;
    let admin = staff(&w, PISA, "admin@comune.pisa.it", Role::Admin, None).await;
    let e = settings::save(
        &w.deps,
        &admin,
        &SettingsForm {
            protocol_format: "{anno}{numero}".into(),
            desk: "none".into(),
            partners: String::new(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, Error::Invalid(p) if p.0[0].why == Why::ProtocolFormat),
        "{e:?}"
    );
    let v = settings::save(
        &w.deps,
        &admin,
        &SettingsForm {
            protocol_format: "PG/{anno}/{numero:8}".into(),
            desk: "none".into(),
            partners: String::new(),
        },
    )
    .await
    .unwrap();
    assert_eq!(v.example, format!("PG/{}/00000123", year()));
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let s = crate::cases::report(&w, &anna, "altro", "Orari")
        .await
        .unwrap();
    let text = format!("PG/{}/{:08}", year(), s.protocol.number);
    let v = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(v.protocol, text);
    // The status page and the office's search read it as written (and as year/number).
    let code = v.code.unwrap();
    let found = follow::status_by_code(&w.deps, PISA, &text.to_lowercase(), &code, Language::It)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.protocol, text);
    let clerk = staff(&w, PISA, "clerk@urp.it", Role::Clerk, Some("urp")).await;
    let q = office::QueueQuery {
        queue: sportello_store::cases::Queue::All,
        search: Some(text.clone()),
        ..Default::default()
    };
    let page = office::queue(&w.deps, &clerk, &q).await.unwrap();
    assert_eq!(page.lines.len(), 1);
    assert_eq!(page.lines[0].protocol, text);
    // The format changes again: the receipt printed before still finds its case, by its
    // words and in the office's search.
    settings::save(
        &w.deps,
        &admin,
        &SettingsForm {
            protocol_format: "{numero:9}-{anno}".into(),
            desk: "none".into(),
            partners: String::new(),
        },
    )
    .await
    .unwrap();
    assert!(
        follow::status_by_code(&w.deps, PISA, &text, &code, Language::It)
            .await
            .unwrap()
            .is_some()
    );
    let page = office::queue(&w.deps, &clerk, &q).await.unwrap();
    assert_eq!(page.lines.len(), 1);
}
