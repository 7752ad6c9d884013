//! The registry's rules found by attacking it: homonyms told apart by omocodia are never
//! confused at sign-in, a certificate about a family member never shows a household the
//! requester was not part of, a legal day has come, a desk says why, everyone a certificate
//! shows sees the look, a search is for someone, an agency's operator is a verifier, and a
//! certificate PDF with a changed code or anything added is refused offline.

use sportello_authz::Role;
use sportello_domain::AssuranceLevel;
use sportello_kernel::Error;
use sportello_population::certificates::{self, Request};
use sportello_population::checks::{self, AgencyForm};
use sportello_population::import::{self, Outcome};
use sportello_population::records::{self, Entry};
use sportello_population::stamp::Refusal;
use sportello_population::{keys, position, verify};

use crate::cases::{PISA, citizen, world};
use crate::cases_office::staff;
use crate::registry::{HEADER, pisa_registry, replace_bytes};

#[tokio::test]
async fn homonyms_told_apart_by_omocodia_are_never_confused() {
    let w = world().await;
    let a = pisa_registry(&w).await;
    // Mario's homonym (same name, day and place) was given the omocodic code.
    let homonym = [HEADER, "RSSMRA80A01G70NR;Rossi;Mario;M;01/01/1980;G702;PISA;ITA;married;30;head;00130;Via Santa Maria;20;;;;;S;2012-01-01"].join("\n");
    assert!(matches!(
        import::import(&w.deps, &a, homonym.as_bytes())
            .await
            .unwrap(),
        Outcome::Done { written: 1, .. }
    ));
    // Identity providers' codes arrive without omocodia: whoever signs in as RSSMRA80A01G702C
    // could be either, so neither record is shown.
    let mario = citizen(&w, PISA, "RSSMRA80A01G70NR", AssuranceLevel::Substantial).await;
    assert!(matches!(
        position::mine(&w.deps, PISA, &mario).await,
        Err(Error::Refused("refused_registry_ambiguous"))
    ));
    let r = Request {
        kind: "residence".into(),
        ..Request::default()
    };
    assert!(matches!(
        certificates::for_citizen(&w.deps, PISA, &mario, &r).await,
        Err(Error::Refused("refused_registry_ambiguous"))
    ));
    // The registry office finds each by the code as issued.
    assert_eq!(
        records::find(&w.deps, &a, "RSSMRA80A01G70NR")
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_family_certificate_shows_only_households_the_requester_belonged_to() {
    let w = world().await;
    let a = pisa_registry(&w).await;
    // Sara lived alone (family 9) from 2020; she joins Mario's family (8) in 2025.
    let sara = [HEADER, "GLLSRA90A41G702G;Galli;Sara;F;01/01/1990;G702;PISA;ITA;single;9;head;00200;Via Roma;1;;;;;S;2020-01-01"].join("\n");
    assert!(matches!(
        import::import(&w.deps, &a, sara.as_bytes()).await.unwrap(),
        Outcome::Done { written: 1, .. }
    ));
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let sara_id = tx
        .db()
        .registry_id("GLLSRA90A41G702G")
        .await
        .unwrap()
        .unwrap();
    let v = tx.db().registry_at(sara_id, None).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    let mut raw = v.facts.raw();
    raw.family = "8".into();
    raw.relation = "cohabitant".into();
    raw.street = "00130".into();
    raw.number = "12".into();
    raw.interior = "3".into();
    records::change(
        &w.deps,
        &a,
        sara_id,
        &Entry {
            facts: raw,
            valid_from: "2025-01-01".into(),
            note: String::new(),
        },
    )
    .await
    .unwrap();
    let mario = citizen(&w, PISA, "RSSMRA80A01G702C", AssuranceLevel::Substantial).await;
    // Today they are one family: Mario may have Sara's residence certificate.
    let mut r = Request {
        kind: "residence".into(),
        subject: "GLLSRA90A41G702G".into(),
        ..Request::default()
    };
    certificates::for_citizen(&w.deps, PISA, &mario, &r)
        .await
        .unwrap();
    // But not her family as it was in 2022, when he was not part of it.
    r.kind = "family_at".into();
    r.at = "2022-06-01".into();
    assert!(
        matches!(certificates::for_citizen(&w.deps, PISA, &mario, &r).await, Err(Error::Invalid(p)) if p.0[0].field == "subject")
    );
    // A family certificate today: Sara sees Mario's look, Mario sees his own certificate only.
    r.kind = "family".into();
    r.at = String::new();
    r.subject = String::new();
    r.purpose = "banca".into();
    certificates::for_citizen(&w.deps, PISA, &mario, &r)
        .await
        .unwrap();
    let sara_in = citizen(&w, PISA, "GLLSRA90A41G702G", AssuranceLevel::Substantial).await;
    let looks = position::mine(&w.deps, PISA, &sara_in)
        .await
        .unwrap()
        .unwrap()
        .accesses;
    assert!(
        looks
            .iter()
            .any(|l| l.what == "certificate:family" && l.purpose == "banca"),
        "{looks:?}"
    );
}

#[tokio::test]
async fn legal_days_have_come_desks_say_why_and_searches_name_someone() {
    let w = world().await;
    let a = pisa_registry(&w).await;
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let id = tx
        .db()
        .registry_id("RSSMRA80A01G702C")
        .await
        .unwrap()
        .unwrap();
    let v = tx.db().registry_at(id, None).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    let mut raw = v.facts.raw();
    raw.number = "99".into();
    let later = (sportello_population::today() + chrono::Duration::days(30)).to_string();
    assert!(
        matches!(records::change(&w.deps, &a, id, &Entry { facts: raw, valid_from: later.clone(), note: String::new() }).await,
        Err(Error::Invalid(p)) if p.0[0].field == "valid_from")
    );
    let future = [HEADER, &format!("GLLSRA90A41G702G;Galli;Sara;F;01/01/1990;G702;PISA;ITA;single;9;head;00200;Via Roma;1;;;;;S;{later}")].join("\n");
    let Outcome::Refused { errors, .. } = import::import(&w.deps, &a, future.as_bytes())
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(errors[0].column, "dal");
    let desk = staff(&w, PISA, "desk@comune.pisa.it", Role::FrontDesk, None).await;
    let r = Request {
        kind: "family".into(),
        subject: "RSSMRA80A01G702C".into(),
        ..Request::default()
    };
    assert!(
        matches!(certificates::for_person(&w.deps, &desk, "desk", &r).await, Err(Error::Invalid(p)) if p.0[0].field == "purpose")
    );
    assert!(records::find(&w.deps, &a, "%%").await.unwrap().is_empty());
    assert!(records::find(&w.deps, &a, "_ _").await.unwrap().is_empty());
    // An agency's operator must be a verifier.
    checks::save_agency(
        &w.deps,
        &a,
        &AgencyForm {
            id: "asl".into(),
            name: "ASL".into(),
            fields: vec!["name".into()],
            purposes: "esenzione".into(),
            per_minute: "10".into(),
        },
    )
    .await
    .unwrap();
    staff(&w, PISA, "clerk@comune.pisa.it", Role::Clerk, None).await;
    assert!(
        matches!(checks::link_member(&w.deps, &a, "asl", "clerk@comune.pisa.it").await, Err(Error::Invalid(p)) if p.0[0].field == "email")
    );
    checks::revoke_agency(&w.deps, &a, "asl").await.unwrap();
    let again = AgencyForm {
        id: "asl".into(),
        name: "ASL".into(),
        fields: vec!["name".into()],
        purposes: "esenzione".into(),
        per_minute: "10".into(),
    };
    assert!(matches!(
        checks::save_agency(&w.deps, &a, &again).await,
        Err(Error::Refused("refused_agency_revoked"))
    ));
}

#[tokio::test]
async fn a_pdf_with_another_code_or_anything_added_is_refused_offline() {
    let w = world().await;
    pisa_registry(&w).await;
    let giulia = citizen(&w, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    let r = Request {
        kind: "residence".into(),
        exemption: "school".into(),
        ..Request::default()
    };
    let done = certificates::for_citizen(&w.deps, PISA, &giulia, &r)
        .await
        .unwrap();
    let keys = vec![keys::published(&w.deps, PISA).await.unwrap()];
    let today = sportello_population::today();
    assert!(verify::check_pdf(&done.pdf, &keys, today).is_ok());
    // The code's address pointing elsewhere (same length), the stamp untouched.
    let phished = replace_bytes(
        &done.pdf,
        b"http://pisa.localhost",
        b"http://pisa.lacalhost",
    );
    assert_eq!(
        verify::check_pdf(&phished, &keys, today).unwrap_err(),
        Refusal::Altered
    );
    // A line no longer said: the exemption turned into the duty (same length would still show).
    let dutied = replace_bytes(
        &done.pdf,
        b"Esente dall'imposta di bollo",
        b"Esente dall'imposta di BOLLO",
    );
    assert_eq!(
        verify::check_pdf(&dutied, &keys, today).unwrap_err(),
        Refusal::Altered
    );
    // Text hidden after the end of the file.
    let mut hidden = done.pdf.clone();
    hidden.extend_from_slice(b"\n% (LUNGARNO PACINOTTI n. 45) Tj\n");
    assert_eq!(
        verify::check_pdf(&hidden, &keys, today).unwrap_err(),
        Refusal::Altered
    );
}

/// An intermediary gets a certificate about a client only while the client's delegation holds,
/// and about that client only; the look goes to the client's list as an intermediary's.
#[tokio::test]
async fn an_intermediary_certifies_a_client_only_by_a_delegation_in_force() {
    use sportello_cases::delegations::{self, NewDelegation};
    let w = world().await;
    pisa_registry(&w).await;
    let caf = staff(&w, PISA, "caf@cafpisa.it", Role::Intermediary, None).await;
    let ask = Request {
        kind: "family".into(),
        purpose: "pratica ISEE".into(),
        // A subject typed is not the client's: the delegation decides who.
        subject: "RSSMRA80A01G702C".into(),
        ..Request::default()
    };
    assert!(
        certificates::for_client(&w.deps, &caf, "nothing", &ask)
            .await
            .is_err()
    );
    let until = (sportello_cases::today() + chrono::Duration::days(30)).to_string();
    let d = delegations::add(
        &w.deps,
        &caf,
        &NewDelegation {
            fiscal_code: "BNCGLI85M52G702M",
            client_name: "Giulia Bianchi",
            valid_until: &until,
            document_name: "delega.pdf",
            document: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
        },
    )
    .await
    .unwrap();
    // Another intermediary cannot use it.
    let other = staff(&w, PISA, "patronato@pisa.it", Role::Intermediary, None).await;
    assert!(
        certificates::for_client(&w.deps, &other, &d.id, &ask)
            .await
            .is_err()
    );
    let done = certificates::for_client(&w.deps, &caf, &d.id, &ask)
        .await
        .unwrap();
    let text = crate::registry::text_of(&done.pdf);
    assert!(
        text.contains("BIANCHI GIULIA") && !text.contains("ROSSI MARIO"),
        "{text}"
    );
    let giulia = citizen(&w, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    let pos = position::mine(&w.deps, PISA, &giulia)
        .await
        .unwrap()
        .unwrap();
    assert!(
        pos.accesses
            .iter()
            .any(|a| a.capacity == "intermediary" && a.purpose == "pratica ISEE"),
        "{:?}",
        pos.accesses
    );
    // Revoked: no more.
    delegations::revoke(&w.deps, &caf, &d.id).await.unwrap();
    assert!(
        certificates::for_client(&w.deps, &caf, &d.id, &ask)
            .await
            .is_err()
    );
}
