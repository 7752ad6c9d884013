//! The population registry through the services: the import (mistakes by line, all or
//! nothing, idempotent), records with their history (a change from its legal day, a
//! correction kept apart), certificates of every kind from known states (at a date across a
//! change of address and of family), their stamp checked by the verifier with the published
//! keys only, and every refusal a verifier owes: a forged stamp, another commune's key, an
//! expired certificate, a tampered PDF.

use chrono::{Duration, NaiveDate};
use sportello_authz::Role;
use sportello_domain::AssuranceLevel;
use sportello_domain::registry::RawFacts;
use sportello_kernel::{Actor, Error};
use sportello_population::certificates::{self, Request};
use sportello_population::import::{self, Outcome};
use sportello_population::records::{self, Entry};
use sportello_population::stamp::Refusal;
use sportello_population::{keys, position, verify};

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

async fn id_of(w: &World, commune: sportello_domain::TenantId, code: &str) -> i64 {
    let tx = w.deps.store.tenant_read(commune).await.unwrap();
    let id = tx.db().registry_id(code).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    id
}

fn req(kind: &str) -> Request {
    Request {
        kind: kind.into(),
        exemption: "school".into(),
        purpose: "iscrizione scolastica".into(),
        ..Request::default()
    }
}

async fn keys_of(w: &World, commune: sportello_domain::TenantId) -> Vec<keys::Published> {
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

fn text_of(pdf: &[u8]) -> String {
    sportello_kernel::pdf::text_of(pdf).join(" ")
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
async fn certificates_say_what_the_registry_held_on_the_day_asked() {
    let w = world().await;
    let a = pisa_registry(&w).await;
    let giulia_id = id_of(&w, PISA, "BNCGLI85M52G702M").await;
    let luca_id = id_of(&w, PISA, "VRDLCU83C10G702X").await;
    // On 2024-03-01 the family moves to Via Roma 5 (a new street) — first the street is known
    // through an import row of a newcomer — and on 2025-09-01 Luca leaves Giulia's family.
    let newcomer = [HEADER, "GLLSRA90A41G702Z;Galli;Sara;F;01/01/1990;G702;PISA;ITA;single;9;head;00200;Via Roma;1;;;;;S;2020-01-01"].join("\n");
    let newcomer = fix_check(&newcomer);
    assert!(matches!(
        import::import(&w.deps, &a, newcomer.as_bytes())
            .await
            .unwrap(),
        Outcome::Done { written: 1, .. }
    ));
    for id in [
        giulia_id,
        luca_id,
        id_of(&w, PISA, "VRDTMS15A01G702T").await,
    ] {
        let tx = w.deps.store.tenant_read(PISA).await.unwrap();
        let v = tx.db().registry_at(id, None).await.unwrap().unwrap();
        tx.commit().await.unwrap();
        let mut raw = v.facts.raw();
        raw.street = "00200".into();
        raw.number = "5".into();
        records::change(
            &w.deps,
            &a,
            id,
            &Entry {
                facts: raw,
                valid_from: "2024-03-01".into(),
                note: "cambio di indirizzo".into(),
            },
        )
        .await
        .unwrap();
    }
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let v = tx.db().registry_at(luca_id, None).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    let mut raw = v.facts.raw();
    raw.family = "12".into();
    raw.relation = "head".into();
    records::change(
        &w.deps,
        &a,
        luca_id,
        &Entry {
            facts: raw.clone(),
            valid_from: "2025-09-01".into(),
            note: String::new(),
        },
    )
    .await
    .unwrap();
    // A change dated before the state it follows is refused; so is one that changes nothing.
    assert!(matches!(
        records::change(&w.deps, &a, luca_id, &Entry { facts: raw.clone(), valid_from: "2025-01-01".into(), note: String::new() }).await,
        Err(Error::Invalid(p)) if p.0.iter().any(|p| p.field == "valid_from")
    ));
    assert!(matches!(
        records::change(
            &w.deps,
            &a,
            luca_id,
            &Entry {
                facts: raw,
                valid_from: "2026-01-01".into(),
                note: String::new()
            }
        )
        .await,
        Err(Error::Refused("refused_registry_unchanged"))
    ));

    let giulia = citizen(&w, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    // Today: Via Roma 5, a family of two.
    let now = certificates::for_citizen(&w.deps, PISA, &giulia, &req("family"))
        .await
        .unwrap();
    let t = text_of(&now.pdf);
    assert!(t.contains("VIA ROMA n. 5"), "{t}");
    assert!(
        t.contains("VERDI TOMMASO (figlio)") && !t.contains("VERDI LUCA"),
        "{t}"
    );
    assert!(
        t.contains(sportello_domain::registry::certificate::LEGEND_IT),
        "the legend of art. 40"
    );
    assert!(
        t.contains("Esente dall'imposta di bollo") && t.contains("art. 11 Tab. B DPR 642/1972"),
        "{t}"
    );
    // On 2023-06-30: the old address; on 2025-06-30: the new one with Luca still there.
    let mut at = req("family_at");
    at.at = "2023-06-30".into();
    let t = text_of(
        &certificates::for_citizen(&w.deps, PISA, &giulia, &at)
            .await
            .unwrap()
            .pdf,
    );
    assert!(
        t.contains("alla data del 30/06/2023")
            && t.contains("LUNGARNO PACINOTTI n. 43")
            && t.contains("VERDI LUCA (marito)"),
        "{t}"
    );
    at.at = "2025-06-30".into();
    let t = text_of(
        &certificates::for_citizen(&w.deps, PISA, &giulia, &at)
            .await
            .unwrap()
            .pdf,
    );
    assert!(
        t.contains("VIA ROMA n. 5") && t.contains("VERDI LUCA (marito)"),
        "{t}"
    );
    let mut r = req("residence_at");
    r.at = "2023-06-30".into();
    let t = text_of(
        &certificates::for_citizen(&w.deps, PISA, &giulia, &r)
            .await
            .unwrap()
            .pdf,
    );
    assert!(
        t.contains("CERTIFICATO STORICO DI RESIDENZA") && t.contains("LUNGARNO PACINOTTI n. 43"),
        "{t}"
    );
    // Before she lived here: not resident on that day.
    r.at = "2010-01-01".into();
    assert!(matches!(
        certificates::for_citizen(&w.deps, PISA, &giulia, &r).await,
        Err(Error::Refused("refused_certificate_not_resident"))
    ));
    // A day to come is not a past day.
    r.at = (crate::registry::today() + Duration::days(3)).to_string();
    assert!(matches!(
        certificates::for_citizen(&w.deps, PISA, &giulia, &r).await,
        Err(Error::Invalid(_))
    ));

    // The history keeps every state; the record page lists it.
    let rec = records::read(&w.deps, &a, luca_id, "verifica")
        .await
        .unwrap();
    let spans: Vec<(String, Option<String>)> = rec
        .history
        .iter()
        .map(|v| (v.valid_from.clone(), v.valid_to.clone()))
        .collect();
    assert_eq!(
        spans,
        [
            ("2015-01-01".into(), Some("2024-03-01".into())),
            ("2024-03-01".into(), Some("2025-09-01".into())),
            ("2025-09-01".into(), None)
        ]
    );
}

/// A fiscal code whose check character is recomputed (test data typed by hand).
fn fix_check(csv: &str) -> String {
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

fn cells_get(l: &str, i: usize) -> String {
    l.split(';').nth(i).unwrap_or("").to_owned()
}

pub fn today() -> NaiveDate {
    sportello_population::today()
}

#[tokio::test]
async fn every_kind_is_issued_or_refused_as_the_record_says() {
    let w = world().await;
    pisa_registry(&w).await;
    let mario = citizen(&w, PISA, "RSSMRA80A01G702C", AssuranceLevel::Substantial).await;
    let expect = [
        (
            "residence",
            "CERTIFICATO DI RESIDENZA",
            "risulta residente nel Comune di PISA in VIA SANTA MARIA n. 12 int. 3",
        ),
        (
            "family",
            "CERTIFICATO DI STATO DI FAMIGLIA",
            "- ROSSI MARIO (intestatario/a)",
        ),
        (
            "citizenship",
            "CERTIFICATO DI CITTADINANZA",
            "è in possesso della cittadinanza italiana",
        ),
        (
            "free_status",
            "CERTIFICATO DI STATO LIBERO",
            "è di stato libero: celibe",
        ),
        (
            "existence",
            "CERTIFICATO DI ESISTENZA IN VITA",
            "è vivente ed esistente in vita",
        ),
        (
            "combined",
            "CERTIFICATO CONTESTUALE",
            "stato civile: celibe",
        ),
        (
            "birth_extract",
            "ESTRATTO PER RIASSUNTO DELL'ATTO DI NASCITA",
            "risulta nato il 01/01/1980 nel Comune di PISA, sesso maschile",
        ),
    ];
    for (kind, title, line) in expect {
        let mut r = req(kind);
        r.exemption = String::new();
        let done = certificates::for_citizen(&w.deps, PISA, &mario, &r)
            .await
            .unwrap();
        let t = text_of(&done.pdf);
        assert!(t.contains(title) && t.contains(line), "{kind}: {t}");
        assert!(
            t.contains("ROSSI MARIO, nato il 01/01/1980 a PISA, C.F. RSSMRA80A01G702C"),
            "{kind}: {t}"
        );
        assert!(
            t.contains("Imposta di bollo di € 16,00 dovuta"),
            "{kind}: {t}"
        );
        assert!(t.contains(sportello_domain::registry::certificate::LEGEND_IT));
        assert!(
            !t.contains(sportello_domain::registry::certificate::LEGEND_DE),
            "Pisa is not bilingual"
        );
    }
    // Giulia is married: no free status certificate.
    let giulia = citizen(&w, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    assert!(matches!(
        certificates::for_citizen(&w.deps, PISA, &giulia, &req("free_status")).await,
        Err(Error::Refused("refused_certificate_not_free"))
    ));
    // Not at level 2: refused; an unknown exemption: refused by its field.
    let low = citizen(&w, PISA, "RSSMRA80A01G702C", AssuranceLevel::Low).await;
    assert!(matches!(
        certificates::for_citizen(&w.deps, PISA, &low, &req("residence")).await,
        Err(Error::Refused("refused_certificate_level"))
    ));
    let mut r = req("residence");
    r.exemption = "holidays".into();
    assert!(
        matches!(certificates::for_citizen(&w.deps, PISA, &mario, &r).await, Err(Error::Invalid(p)) if p.0[0].field == "exemption")
    );
    // Numbers run per commune per year, recorded with who asked and what was exempted.
    let list = certificates::mine(&w.deps, PISA, &mario).await.unwrap();
    assert_eq!(list.len(), 7);
    let mut numbers: Vec<i64> = list.iter().map(|c| c.number).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=7).collect::<Vec<_>>());
    assert!(
        list.iter().all(|c| c.stamp_duty_cents == 1600
            && c.exemption.is_none()
            && c.pdf_sha256.len() == 64)
    );
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
async fn the_stamp_is_verified_with_the_public_keys_and_every_forgery_is_refused() {
    let w = world().await;
    let pisa_admin = pisa_registry(&w).await;
    let giulia = citizen(&w, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    let done = certificates::for_citizen(&w.deps, PISA, &giulia, &req("residence"))
        .await
        .unwrap();
    let pisa_keys = keys_of(&w, PISA).await;
    let today = today();
    // The stamp's text, the address the code holds, and the PDF: authentic.
    let c = verify::check(&done.stamp, &pisa_keys, today).unwrap();
    assert_eq!(c.n, format!("{}/{}", done.year, done.number));
    assert!(c.l.iter().any(|l| l.contains("LUNGARNO PACINOTTI n. 43")));
    let qr_text = format!("http://pisa.localhost:8080/verifica?t={}", done.stamp);
    assert!(verify::check(&qr_text, &pisa_keys, today).is_ok());
    assert!(verify::check_pdf(&done.pdf, &pisa_keys, today).is_ok());
    let checked = verify::on_host(&w.deps, PISA, &done.stamp).await.unwrap();
    assert!(checked.verdict.is_ok() && checked.recorded);

    // A forged stamp: one letter of the content changed, or of the signature.
    let parts: Vec<&str> = done.stamp.split('.').collect();
    let flip = |s: &str| {
        let mut b = s.as_bytes().to_vec();
        b[10] = if b[10] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    let forged = format!("{}.{}.{}.{}", parts[0], parts[1], flip(parts[2]), parts[3]);
    assert!(matches!(
        verify::check(&forged, &pisa_keys, today),
        Err(Refusal::BadSignature | Refusal::Malformed)
    ));
    let forged = format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], flip(parts[3]));
    assert_eq!(
        verify::check(&forged, &pisa_keys, today).unwrap_err(),
        Refusal::BadSignature
    );
    assert_eq!(
        verify::check("SPT1.x.y", &pisa_keys, today).unwrap_err(),
        Refusal::Malformed
    );

    // Calci's key signing a content that claims Pisa: not a key of Pisa's.
    let calci_admin = admin(&w, CALCI, "anagrafe@comune.calci.pi.it").await;
    keys::rotate(&w.deps, &calci_admin).await.unwrap();
    let mut calci_keys = keys_of(&w, CALCI).await;
    assert_eq!(
        verify::check(&done.stamp, &calci_keys, today).unwrap_err(),
        Refusal::UnknownKey
    );
    // Even a file that lists Calci's key under Pisa's name does not make it Pisa's signature.
    calci_keys[0].commune = PISA.0;
    calci_keys[0].keys[0].kid = pisa_keys[0].keys[0].kid.clone();
    assert_eq!(
        verify::check(&done.stamp, &calci_keys, today).unwrap_err(),
        Refusal::BadSignature
    );
    // On Calci's verification page, Pisa's certificate is not Calci's.
    let on_calci = verify::on_host(&w.deps, CALCI, &done.stamp).await.unwrap();
    assert_eq!(on_calci.verdict.unwrap_err(), Refusal::UnknownKey);

    // Six months and a day later: authentic, but expired.
    let later = today + Duration::days(185);
    assert_eq!(
        verify::check(&done.stamp, &pisa_keys, later).unwrap_err(),
        Refusal::Expired
    );

    // A tampered PDF: another address in the text, the stamp untouched.
    let tampered = replace_bytes(
        &done.pdf,
        b"LUNGARNO PACINOTTI n. 43",
        b"LUNGARNO PACINOTTI n. 45",
    );
    assert_ne!(tampered, done.pdf);
    assert_eq!(
        verify::check_pdf(&tampered, &pisa_keys, today).unwrap_err(),
        Refusal::Altered
    );
    // A PDF without a stamp.
    let plain = sportello_kernel::pdf::render("x", &[]);
    assert_eq!(
        verify::check_pdf(&plain, &pisa_keys, today).unwrap_err(),
        Refusal::Malformed
    );

    // Rotation: the next certificate is signed by a new key; both verify with the keys published.
    let new_kid = keys::rotate(&w.deps, &pisa_admin).await.unwrap();
    let next = certificates::for_citizen(&w.deps, PISA, &giulia, &req("residence"))
        .await
        .unwrap();
    assert_eq!(next.stamp.split('.').nth(1), Some(new_kid.as_str()));
    let published = keys_of(&w, PISA).await;
    assert_eq!(published[0].keys.len(), 2);
    assert!(
        published[0]
            .keys
            .iter()
            .filter(|k| k.retired.is_some())
            .count()
            == 1
    );
    assert!(
        verify::check(&done.stamp, &published, today).is_ok()
            && verify::check(&next.stamp, &published, today).is_ok()
    );
    // Rotating needs the right: a front desk may not.
    let desk = staff(&w, PISA, "desk@comune.pisa.it", Role::FrontDesk, None).await;
    assert!(matches!(
        keys::rotate(&w.deps, &desk).await,
        Err(Error::Refused(_))
    ));
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
async fn bolzano_issues_bilingual_certificates() {
    let w = world().await;
    let bz = sportello_domain::TenantId(21008);
    let a = admin(&w, bz, "anagrafe@comune.bolzano.it").await;
    let csv = [HEADER, "RSSMRA80A01A952X;Rossi;Mario;M;01/01/1980;A952;BOLZANO;ITA;single;1;head;00010;Via Museo;1;;;;;S;2010-06-01"].join("\n");
    let csv = fix_check(&csv);
    assert!(matches!(
        import::import(&w.deps, &a, csv.as_bytes()).await.unwrap(),
        Outcome::Done { written: 1, .. }
    ));
    let code = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mario = citizen(&w, bz, &code, AssuranceLevel::Substantial).await;
    let t = text_of(
        &certificates::for_citizen(&w.deps, bz, &mario, &req("residence"))
            .await
            .unwrap()
            .pdf,
    );
    assert!(
        t.contains("CERTIFICATO DI RESIDENZA") && t.contains("ANSÄSSIGKEITSBESCHEINIGUNG"),
        "{t}"
    );
    assert!(
        t.contains(sportello_domain::registry::certificate::LEGEND_IT)
            && t.contains(sportello_domain::registry::certificate::LEGEND_DE)
    );
    assert!(t.contains("Stempelfrei"), "{t}");
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
