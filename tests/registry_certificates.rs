//! Certificates through the services: every kind from known registry states (at a date
//! across a change of address and of family), exemptions, bilingual certificates in the
//! province of Bolzano, and the stamp checked by the verifier with the published keys only —
//! with every refusal a verifier owes: a forged stamp, another commune's key, an expired
//! certificate, a tampered PDF.

use chrono::Duration;
use sportello_authz::Role;
use sportello_domain::AssuranceLevel;
use sportello_kernel::Error;
use sportello_population::certificates;
use sportello_population::import::{self, Outcome};
use sportello_population::records::{self, Entry};
use sportello_population::stamp::Refusal;
use sportello_population::{keys, verify};

use crate::cases::{CALCI, PISA, citizen, world};
use crate::cases_office::staff;
use crate::registry::{
    HEADER, admin, fix_check, id_of, keys_of, pisa_registry, replace_bytes, req, text_of, today,
};

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
