//! The population registry through the services: the import (mistakes by line, all or
//! nothing, idempotent), records with their history (a change from its legal day, a
//! correction kept apart), a family member's certificate and the looks shown to the person,
//! a desk's certificate, the demo's residents. Certificates and their stamp are in
//! `registry_certificates.rs`; the shared fixtures are here.

use chrono::NaiveDate;
use sportello_authz::Role;
use sportello_domain::AssuranceLevel;
use sportello_domain::registry::RawFacts;
use sportello_kernel::{Actor, Error};
use sportello_population::certificates::{self, Request};
use sportello_population::import::{self, Outcome};
use sportello_population::records::{self, Entry};
use sportello_population::{keys, position};

use crate::cases::{CALCI, PISA, World, citizen, world};
use crate::cases_office::staff;

pub const HEADER: &str = "codice_fiscale;cognome;nome;sesso;data_nascita;luogo_nascita;comune_nascita;cittadinanza;stato_civile;famiglia;relazione;codice_via;via;civico;interno;documento_tipo;documento_numero;documento_scadenza;elettore;dal";

/// Giulia's family of Pisa: Giulia (head), her husband, their son; and Mario alone.
pub fn family_csv() -> String {
    [
        HEADER,
        "BNCGLI85M52G702M;Bianchi;Giulia;F;12/08/1985;G702;PISA;ITA;married;7;head;00120;Lungarno Pacinotti;43;;identity_card;CA12345AA;2031-05-01;S;2015-01-01",
        "VRDLCU83C10G702X;Verdi;Luca;M;10/03/1983;G702;PISA;ITA;married;7;spouse;00120;Lungarno Pacinotti;43;;;;;S;2015-01-01",
        "VRDTMS15A01G702T;Verdi;Tommaso;M;01/01/2015;G702;PISA;ITA;single;7;child;00120;Lungarno Pacinotti;43;;;;;N;2015-01-01",
        "RSSMRA80A01G702C;Rossi;Mario;M;01/01/1980;G702;PISA;ITA;single;8;head;00130;Via Santa Maria;12;3;;;;S;2010-06-01",
    ]
    .join("\n")
}

pub async fn admin(w: &World, commune: sportello_domain::TenantId, email: &str) -> Actor {
    staff(w, commune, email, Role::Admin, None).await
}

/// Pisa with Giulia's family and Mario, imported.
pub async fn pisa_registry(w: &World) -> Actor {
    let a = admin(w, PISA, "anagrafe@comune.pisa.it").await;
    let out = import::import(&w.deps, &a, family_csv().as_bytes())
        .await
        .unwrap();
    assert_eq!(
        out,
        Outcome::Done {
            written: 4,
            already: 0
        }
    );
    a
}

pub(crate) async fn id_of(w: &World, commune: sportello_domain::TenantId, code: &str) -> i64 {
    let tx = w.deps.store.tenant_read(commune).await.unwrap();
    let id = tx.db().registry_id(code).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    id
}

pub(crate) fn req(kind: &str) -> Request {
    Request {
        kind: kind.into(),
        exemption: "school".into(),
        purpose: "iscrizione scolastica".into(),
        ..Request::default()
    }
}

pub(crate) async fn keys_of(
    w: &World,
    commune: sportello_domain::TenantId,
) -> Vec<keys::Published> {
    vec![keys::published(&w.deps, commune).await.unwrap()]
}

/// `h` with every `from` replaced by `to` (same length: the PDF's offsets stay right).
pub fn replace_bytes(h: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = h.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
    out
}

pub(crate) fn text_of(pdf: &[u8]) -> String {
    sportello_kernel::pdf::text_of(pdf).join(" ")
}

/// A fiscal code whose check character is recomputed (test data typed by hand).
pub(crate) fn fix_check(csv: &str) -> String {
    csv.lines()
        .map(|l| {
            let mut cells: Vec<String> = l.split(';').map(str::to_owned).collect();
            if let Some(c) = cells.first_mut()
                && c.len() == 16
                && c != "codice_fiscale"
            {
                let d = NaiveDate::parse_from_str(&cells_get(l, 4), "%d/%m/%Y").unwrap();
                let sex = if cells_get(l, 3) == "F" {
                    sportello_domain::Sex::Female
                } else {
                    sportello_domain::Sex::Male
                };
                *c = sportello_domain::FiscalCode::compute(
                    &cells_get(l, 1),
                    &cells_get(l, 2),
                    sex,
                    d,
                    &cells_get(l, 5),
                )
                .unwrap()
                .as_str()
                .to_owned();
            }
            cells.join(";")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn cells_get(l: &str, i: usize) -> String {
    l.split(';').nth(i).unwrap_or("").to_owned()
}

pub fn today() -> NaiveDate {
    sportello_population::today()
}

#[tokio::test]
async fn an_import_names_its_mistakes_by_line_and_writes_all_or_nothing_once() {
    let w = world().await;
    let a = admin(&w, PISA, "anagrafe@comune.pisa.it").await;
    // Line 3: a fiscal code not agreeing with the birth day; line 4: a month 13; line 5: two
    // heads of family 7.
    let bad = [
        HEADER,
        "BNCGLI85M52G702M;Bianchi;Giulia;F;12/08/1985;G702;PISA;ITA;married;7;head;00120;Lungarno Pacinotti;43;;;;;S;2015-01-01",
        "VRDLCU83C10G702X;Verdi;Luca;M;11/03/1983;G702;PISA;ITA;married;7;spouse;00120;Lungarno Pacinotti;43;;;;;S;2015-01-01",
        "VRDTMS15A01G702T;Verdi;Tommaso;M;01/13/2015;G702;PISA;ITA;single;7;child;00120;Lungarno Pacinotti;43;;;;;N;2015-01-01",
        "RSSMRA80A01G702C;Rossi;Mario;M;01/01/1980;G702;PISA;ITA;single;7;head;00130;Via Santa Maria;12;3;;;;S;2010-06-01",
    ]
    .join("\n");
    let Outcome::Refused { errors, total } =
        import::import(&w.deps, &a, bad.as_bytes()).await.unwrap()
    else {
        panic!("a file with mistakes was written");
    };
    let lines: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        lines,
        [(3, "codice_fiscale"), (4, "data_nascita"), (5, "relazione")],
        "{errors:?}"
    );
    assert_eq!(total, 3);
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    assert_eq!(
        tx.db().registry_count().await.unwrap(),
        0,
        "nothing written"
    );
    tx.commit().await.unwrap();

    // A missing column is named on line 1.
    let Outcome::Refused { errors, .. } =
        import::import(&w.deps, &a, b"codice_fiscale;cognome\nX;Y")
            .await
            .unwrap()
    else {
        panic!()
    };
    assert!(errors.iter().all(|e| e.line == 1) && errors.iter().any(|e| e.column == "dal"));

    // The right file once, then again: nothing new.
    assert_eq!(
        import::import(&w.deps, &a, family_csv().as_bytes())
            .await
            .unwrap(),
        Outcome::Done {
            written: 4,
            already: 0
        }
    );
    assert_eq!(
        import::import(&w.deps, &a, family_csv().as_bytes())
            .await
            .unwrap(),
        Outcome::Done {
            written: 0,
            already: 4
        }
    );
    // The same person with other facts is a conflict named by its line, not an overwrite.
    let changed = family_csv().replace("Via Santa Maria;12;3", "Via Santa Maria;14;3");
    let Outcome::Refused { errors, .. } = import::import(&w.deps, &a, changed.as_bytes())
        .await
        .unwrap()
    else {
        panic!("a changed person was overwritten by an import")
    };
    assert_eq!(
        (errors[0].line, errors[0].column.as_str()),
        (5, "codice_fiscale")
    );

    // Calci's administrator sees none of it; a front desk may not import.
    let calci = admin(&w, CALCI, "anagrafe@comune.calci.pi.it").await;
    assert!(
        records::find(&w.deps, &calci, "BNCGLI85M52G702M")
            .await
            .unwrap()
            .is_empty()
    );
    let giulia = id_of(&w, PISA, "BNCGLI85M52G702M").await;
    assert!(matches!(
        records::read(&w.deps, &calci, giulia, "controllo").await,
        Err(Error::NotFound)
    ));
    let desk = staff(&w, PISA, "desk@comune.pisa.it", Role::FrontDesk, None).await;
    assert!(matches!(
        import::import(&w.deps, &desk, family_csv().as_bytes()).await,
        Err(Error::Refused(_))
    ));
}

#[tokio::test]
async fn a_family_member_may_be_certified_and_the_look_is_shown_to_them() {
    let w = world().await;
    let a = pisa_registry(&w).await;
    let giulia = citizen(&w, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    let mut r = req("residence");
    r.subject = "VRDLCU83C10G702X".into();
    let done = certificates::for_citizen(&w.deps, PISA, &giulia, &r)
        .await
        .unwrap();
    assert!(text_of(&done.pdf).contains("VERDI LUCA, nato il 10/03/1983"));
    // Mario is not of her family: the same answer as for someone unknown.
    r.subject = "RSSMRA80A01G702C".into();
    let refused = certificates::for_citizen(&w.deps, PISA, &giulia, &r).await;
    assert!(matches!(refused, Err(Error::Invalid(p)) if p.0[0].field == "subject"));
    // Luca sees Giulia's look, and a clerk's, each with its purpose; Giulia sees none on hers.
    let luca_id = id_of(&w, PISA, "VRDLCU83C10G702X").await;
    records::read(&w.deps, &a, luca_id, "pratica edilizia 2026/55")
        .await
        .unwrap();
    let luca = citizen(&w, PISA, "VRDLCU83C10G702X", AssuranceLevel::Substantial).await;
    let pos = position::mine(&w.deps, PISA, &luca).await.unwrap().unwrap();
    let looks: Vec<(&str, &str)> = pos
        .accesses
        .iter()
        .map(|a| (a.capacity.as_str(), a.purpose.as_str()))
        .collect();
    assert_eq!(
        looks,
        [
            ("clerk", "pratica edilizia 2026/55"),
            ("family", "iscrizione scolastica")
        ]
    );
    let mine = position::mine(&w.deps, PISA, &giulia)
        .await
        .unwrap()
        .unwrap();
    assert!(mine.accesses.is_empty());
    assert_eq!(mine.family.len(), 3);
    assert_eq!(
        mine.document_days,
        Some((NaiveDate::from_ymd_opt(2031, 5, 1).unwrap() - today()).num_days())
    );
    // A clerk must say why before reading.
    assert!(matches!(
        records::read(&w.deps, &a, luca_id, "  ").await,
        Err(Error::Invalid(_))
    ));
    // Someone Calci's registry does not hold has no position there.
    assert!(
        position::mine(&w.deps, CALCI, &giulia)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_desk_issues_for_the_person_present_and_a_correction_keeps_the_old_version() {
    let w = world().await;
    let a = pisa_registry(&w).await;
    let desk = staff(&w, PISA, "desk@comune.pisa.it", Role::FrontDesk, None).await;
    let mut r = req("citizenship");
    r.subject = "RSSMRA80A01G702C".into();
    let done = certificates::for_person(&w.deps, &desk, "kiosk", &r)
        .await
        .unwrap();
    assert!(text_of(&done.pdf).contains("cittadinanza italiana"));
    let mario_id = id_of(&w, PISA, "RSSMRA80A01G702C").await;
    let mario = citizen(&w, PISA, "RSSMRA80A01G702C", AssuranceLevel::Substantial).await;
    let pos = position::mine(&w.deps, PISA, &mario)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pos.accesses[0].capacity, "kiosk");
    assert_eq!(pos.accesses[0].what, "certificate:citizenship");
    // A clerk without the right to act for people cannot.
    let clerk = staff(&w, PISA, "clerk@comune.pisa.it", Role::Clerk, None).await;
    assert!(matches!(
        certificates::for_person(&w.deps, &clerk, "desk", &r).await,
        Err(Error::Refused(_))
    ));

    // A correction of the house number: the same days, the wrong version kept and marked.
    let rec = records::read(&w.deps, &a, mario_id, "rettifica")
        .await
        .unwrap();
    let mut raw: RawFacts = rec.current.facts.raw();
    raw.number = "21".into();
    assert!(
        matches!(
            records::correct(
                &w.deps,
                &a,
                mario_id,
                rec.current.version,
                &Entry {
                    facts: raw.clone(),
                    ..Entry::default()
                }
            )
            .await,
            Err(Error::Invalid(_))
        ),
        "a correction says why"
    );
    records::correct(
        &w.deps,
        &a,
        mario_id,
        rec.current.version,
        &Entry {
            facts: raw.clone(),
            note: "errore di trascrizione".into(),
            ..Entry::default()
        },
    )
    .await
    .unwrap();
    let rec = records::read(&w.deps, &a, mario_id, "verifica")
        .await
        .unwrap();
    assert_eq!(rec.history.len(), 2);
    assert!(rec.history[0].superseded_at.is_some() && rec.history[0].facts.number == "12");
    assert_eq!(
        (
            rec.current.facts.number.as_str(),
            rec.current.cause.as_str(),
            rec.current.valid_from.as_str()
        ),
        ("21", "correction", "2010-06-01")
    );
    // The old version cannot be corrected again.
    assert!(matches!(
        records::correct(
            &w.deps,
            &a,
            mario_id,
            rec.history[0].version,
            &Entry {
                facts: raw,
                note: "x".into(),
                ..Entry::default()
            }
        )
        .await,
        Err(Error::NotFound)
    ));
    // A street not on the commune's list is refused by its field.
    let mut bad = rec.current.facts.raw();
    bad.street = "99999".into();
    assert!(
        matches!(records::change(&w.deps, &a, mario_id, &Entry { facts: bad, valid_from: "2026-01-01".into(), note: String::new() }).await,
        Err(Error::Invalid(p)) if p.0[0].field == "street")
    );
}

#[tokio::test]
async fn the_demo_residents_are_the_same_every_time_and_hold_the_demo_people() {
    let w = world().await;
    let known = vec![sportello_population::demo::Known {
        fiscal_code: "BNCGLI85M52G702M".into(),
        first_name: "Giulia".into(),
        last_name: "Bianchi".into(),
        birth_date: NaiveDate::from_ymd_opt(1985, 8, 12).unwrap(),
        address: "Lungarno Pacinotti 43, 56126 Pisa".into(),
    }];
    let a = sportello_population::demo::residents(PISA, "G702", "Pisa", 500, &known);
    let b = sportello_population::demo::residents(PISA, "G702", "Pisa", 500, &known);
    assert_eq!(a.len(), b.len());
    assert!(
        a.iter()
            .zip(&b)
            .all(|(x, y)| x.code == y.code && x.facts == y.facts)
    );
    assert!(a.len() >= 500);
    assert!(
        a.iter().all(|r| r.facts.matches(&r.code)),
        "every fiscal code agrees with its person"
    );
    let written =
        sportello_population::demo::populate(&w.deps.store, PISA, "G702", "Pisa", 500, &known)
            .await
            .unwrap();
    assert_eq!(written as usize, a.len());
    assert_eq!(
        sportello_population::demo::populate(&w.deps.store, PISA, "G702", "Pisa", 500, &known)
            .await
            .unwrap(),
        0,
        "once"
    );
    let giulia = citizen(&w, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    let pos = position::mine(&w.deps, PISA, &giulia)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pos.street, "LUNGARNO PACINOTTI");
    assert_eq!(pos.family.len(), 3);
    let sizes = a.iter().fold(
        std::collections::HashMap::<i64, usize>::new(),
        |mut m, r| {
            *m.entry(r.facts.family).or_default() += 1;
            m
        },
    );
    assert!(sizes.values().all(|n| (1..=6).contains(n)));
    assert!(sizes.values().any(|n| *n == 1) && sizes.values().any(|n| *n >= 5));
}
