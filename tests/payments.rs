//! Payments, through the services (no server): a commune's payment settings, notices written
//! one by one and imported from CSV (all or nothing, mistakes named by line, idempotent by the
//! commune's reference), the payer's "to pay" list, cancellation, who may do what, one commune
//! never reaching another's notices, and the printable notice whose QR code reads back.

use sportello_authz::Role;
use sportello_domain::{AssuranceLevel, NoticeNumber, RawNotice, Why};
use sportello_kernel::{Actor, Error};
use sportello_payments::import::{Outcome, RowError};
use sportello_payments::{document, due, import, notices, settings};
use sportello_store::payments::{NoticeFilter, NoticeStatus};

use crate::cases::{CALCI, PISA, World, citizen, world};
use crate::cases_office::staff;

pub const PISA_TAX_CODE: &str = "00341620508";
const ANNA: &str = "VRDGPP80A01G702C";
const BRUNO: &str = "BNCLRA90M41G702E";

pub fn set_up_form(kinds: &[&str]) -> settings::SettingsForm {
    settings::SettingsForm {
        tax_code: PISA_TAX_CODE.into(),
        segregation: "12".into(),
        fee: "1,00".into(),
        kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
        receipt_header: "Comune di Pisa — Servizi finanziari".into(),
        stripe_account: "acct_1PisaTest".into(),
    }
}

pub async fn admin(w: &World, commune: sportello_domain::TenantId, email: &str) -> Actor {
    staff(w, commune, email, Role::Admin, None).await
}

fn canteen(reference: &str, cf: &str, amount: &str) -> RawNotice {
    RawNotice {
        reference: reference.into(),
        fiscal_code: cf.into(),
        payer_name: "Giuseppe Verdi".into(),
        kind: "mensa".into(),
        reason: "Mensa scolastica, ottobre 2026".into(),
        amount: amount.into(),
        due_on: "2030-10-31".into(),
        notified_on: String::new(),
    }
}

fn invalid(e: Error) -> sportello_kernel::Problems {
    match e {
        Error::Invalid(p) => p,
        other => panic!("not a refused field: {other:?}"),
    }
}

#[tokio::test]
async fn a_commune_sets_up_payments_then_issues_notices_numbered_by_pagopa_rules() {
    let w = world().await;
    let a = admin(&w, PISA, "ragioneria@comune.pisa.it").await;
    // No tax code yet: no notice (its QR code would lack the creditor).
    let e = notices::create(&w.deps, &a, &canteen("M-1", ANNA, "45,60"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Refused("refused_payments_not_set_up")),
        "{e:?}"
    );
    // Every wrong setting named at once; nothing saved.
    let bad = settings::SettingsForm {
        tax_code: "00341620507".into(),
        segregation: "100".into(),
        fee: "20".into(),
        kinds: vec!["gelati".into()],
        receipt_header: String::new(),
        stripe_account: "acct_../x".into(),
    };
    let p = invalid(settings::save(&w.deps, &a, &bad).await.unwrap_err());
    assert!(p.has("tax_code", Why::FiscalCodeInvalid), "{p}");
    assert!(p.has("segregation", Why::OutOfRange), "{p}");
    assert!(p.has("fee", Why::OutOfRange), "{p}");
    assert!(p.has("kinds", Why::NotOneOf), "{p}");
    assert!(p.has("stripe_account", Why::PatternMismatch), "{p}");
    assert_eq!(settings::get(&w.deps, &a).await.unwrap().tax_code, None);
    settings::save(&w.deps, &a, &set_up_form(&["canteen", "fine"]))
        .await
        .unwrap();
    let s = settings::get(&w.deps, &a).await.unwrap();
    assert_eq!(s.tax_code.as_deref(), Some(PISA_TAX_CODE));
    assert_eq!((s.segregation, s.fee_cents), (12, 100));
    assert_eq!(s.kinds, "fine,canteen");
    assert_eq!(s.stripe_account.as_deref(), Some("acct_1PisaTest"));

    let first = notices::create(&w.deps, &a, &canteen("M-1", ANNA, "45,60"))
        .await
        .unwrap();
    let second = notices::create(&w.deps, &a, &canteen("M-2", ANNA, "12"))
        .await
        .unwrap();
    // Aux digit 3, segregation 12, the commune's own numbers 1 and 2, the check digits.
    assert_eq!(first, NoticeNumber::new(12, 1).unwrap().as_str());
    assert_eq!(second, NoticeNumber::new(12, 2).unwrap().as_str());
    // The same notice again: the same number, nothing new.
    let again = notices::create(&w.deps, &a, &canteen("M-1", ANNA, "45,60"))
        .await
        .unwrap();
    assert_eq!(again, first);
    // Another notice under a reference in use: refused.
    let p = invalid(
        notices::create(&w.deps, &a, &canteen("M-1", ANNA, "45,61"))
            .await
            .unwrap_err(),
    );
    assert!(p.has("reference", Why::IdTaken), "{p}");
    // A kind the commune does not collect: refused.
    let lamp = RawNotice {
        kind: "lampade".into(),
        ..canteen("L-1", ANNA, "10")
    };
    let p = invalid(notices::create(&w.deps, &a, &lamp).await.unwrap_err());
    assert!(p.has("kind", Why::NotOneOf), "{p}");
    let all = notices::list(&w.deps, &a, &NoticeFilter::default(), None)
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].notice_number, second, "newest first");
    assert_eq!(all[1].amount_cents, 4560);
    assert_eq!(all[1].created_by, a.audit_name());
}

#[tokio::test]
async fn the_payer_sees_their_notices_with_the_fines_reduction_and_nobody_elses() {
    let w = world().await;
    let a = admin(&w, PISA, "ragioneria@comune.pisa.it").await;
    settings::save(&w.deps, &a, &set_up_form(&["canteen", "fine"]))
        .await
        .unwrap();
    let today = sportello_payments::today();
    let fine = RawNotice {
        reference: "CDS-2026-77".into(),
        kind: "multa".into(),
        reason: "Verbale 77/2026, art. 7 CdS".into(),
        amount: "42,00".into(),
        notified_on: today.to_string(),
        due_on: (today + chrono::Duration::days(60)).to_string(),
        ..canteen("x", ANNA, "1")
    };
    let fine_no = notices::create(&w.deps, &a, &fine).await.unwrap();
    let canteen_no = notices::create(&w.deps, &a, &canteen("M-1", ANNA, "45,60"))
        .await
        .unwrap();
    notices::create(&w.deps, &a, &canteen("M-2", BRUNO, "30"))
        .await
        .unwrap();

    let anna = citizen(&w, PISA, ANNA, AssuranceLevel::Substantial).await;
    let mine = due::mine(&w.deps, PISA, &anna)
        .await
        .unwrap()
        .unwrap()
        .notices;
    let numbers: Vec<&str> = mine.iter().map(|n| n.number.as_str()).collect();
    // Soonest due first: the fine (60 days) before the canteen (2030).
    assert_eq!(numbers, vec![fine_no.as_str(), canteen_no.as_str()]);
    let f = &mine[0];
    assert_eq!(f.amount.cents(), 4200);
    assert_eq!(f.reduced.as_ref().map(|(m, _)| m.cents()), Some(2940));
    assert_eq!(
        f.reduced.as_ref().map(|(_, u)| u.clone()),
        Some((today + chrono::Duration::days(5)).to_string())
    );
    assert_eq!(f.to_pay_today.cents(), 2940, "within five days, 30 % less");
    assert_eq!(mine[1].to_pay_today.cents(), 4560);
    // Bruno sees his own only; Anna's notice is not his to open.
    let bruno = citizen(&w, PISA, BRUNO, AssuranceLevel::Substantial).await;
    let his = due::mine(&w.deps, PISA, &bruno)
        .await
        .unwrap()
        .unwrap()
        .notices;
    assert_eq!(his.len(), 1);
    assert!(matches!(
        due::my_notice(&w.deps, PISA, &bruno, &fine_no).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        document::for_citizen(
            &w.deps,
            PISA,
            &bruno,
            &fine_no,
            sportello_domain::Language::It
        )
        .await,
        Err(Error::NotFound)
    ));
    // In Calci, Anna has nothing: Pisa's notices stay in Pisa.
    let anna_calci = citizen(&w, CALCI, ANNA, AssuranceLevel::Substantial).await;
    assert!(
        due::mine(&w.deps, CALCI, &anna_calci)
            .await
            .unwrap()
            .unwrap()
            .notices
            .is_empty()
    );
    assert!(matches!(
        due::my_notice(&w.deps, CALCI, &anna_calci, &fine_no).await,
        Err(Error::NotFound)
    ));
    // A person whose fiscal code no identity provider vouched for: no list at all.
    let mut local = anna.clone();
    if let Some(p) = local.person.as_mut() {
        p.fiscal_code = None;
    }
    assert!(due::mine(&w.deps, PISA, &local).await.unwrap().is_none());
    assert!(matches!(
        due::my_notice(&w.deps, PISA, &local, &fine_no).await,
        Err(Error::NotFound)
    ));
}

const GOOD: &str = "riferimento;codice_fiscale;nominativo;tipo;causale;importo;scadenza\n\
    MENSA-1;VRDGPP80A01G702C;Giuseppe Verdi;mensa;Mensa, ottobre;45,60;31/10/2030\n\
    MENSA-2;BNCLRA90M41G702E;Laura Bianchi;mensa;Mensa, ottobre;30,40;31/10/2030\n\
    MENSA-3;NREFNC75C12B390U;Franco Neri;mensa;\"Mensa; ottobre\";12;2030-10-31\n";

#[tokio::test]
async fn an_import_is_all_or_nothing_names_each_mistakes_line_and_is_idempotent() {
    let w = world().await;
    let a = admin(&w, PISA, "ragioneria@comune.pisa.it").await;
    settings::save(&w.deps, &a, &set_up_form(&["canteen"]))
        .await
        .unwrap();
    let count = || async {
        notices::list(&w.deps, &a, &NoticeFilter::default(), None)
            .await
            .unwrap()
            .len()
    };
    // Two wrong rows among good ones: both named by line and column; nothing written.
    let bad = format!(
        "{GOOD}MENSA-4;VRDGPP80A01G702X;Giuseppe Verdi;mensa;Mensa;45,60;31/10/2030\n\
         MENSA-5;BNCLRA90M41G702E;Laura Bianchi;lampade;Mensa;dieci;31/10/2030\n\
         MENSA-1;NREFNC75C12B390U;Franco Neri;mensa;Mensa;12;2030-10-31\n"
    );
    let Outcome::Refused { errors, total } =
        import::import(&w.deps, &a, bad.as_bytes()).await.unwrap()
    else {
        panic!("a file with mistakes was imported");
    };
    let at = |e: &RowError| (e.line, e.column.clone(), e.why);
    let got: Vec<_> = errors.iter().map(at).collect();
    assert_eq!(
        got,
        vec![
            (5, "codice_fiscale".to_owned(), Why::FiscalCodeInvalid),
            (6, "importo".to_owned(), Why::AmountInvalid),
            (7, "riferimento".to_owned(), Why::IdTaken),
        ],
        "{errors:?}"
    );
    assert_eq!(total, 3);
    assert_eq!(count().await, 0, "all or nothing");
    // A kind the commune does not collect is a mistake of its line too.
    let lamp = GOOD.replace(
        "MENSA-3;NREFNC75C12B390U;Franco Neri;mensa",
        "MENSA-3;NREFNC75C12B390U;Franco Neri;lampade",
    );
    let Outcome::Refused { errors, .. } =
        import::import(&w.deps, &a, lamp.as_bytes()).await.unwrap()
    else {
        panic!("a kind not collected was imported");
    };
    assert_eq!(
        errors.iter().map(at).collect::<Vec<_>>(),
        vec![(4, "tipo".to_owned(), Why::NotOneOf)]
    );
    assert_eq!(count().await, 0);

    assert_eq!(
        import::import(&w.deps, &a, GOOD.as_bytes()).await.unwrap(),
        Outcome::Done {
            written: 3,
            already: 0
        }
    );
    // The same file again: nothing new.
    assert_eq!(
        import::import(&w.deps, &a, GOOD.as_bytes()).await.unwrap(),
        Outcome::Done {
            written: 0,
            already: 3
        }
    );
    let list = notices::list(&w.deps, &a, &NoticeFilter::default(), None)
        .await
        .unwrap();
    assert_eq!(list.len(), 3);
    let mut numbers: Vec<String> = list.iter().map(|n| n.notice_number.clone()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 3, "every notice its own number");
    for n in &numbers {
        assert_eq!(NoticeNumber::parse(n).unwrap().segregation(), 12);
    }
    let m3 = list.iter().find(|n| n.reference == "MENSA-3").unwrap();
    assert_eq!(
        m3.reason, "Mensa; ottobre",
        "a quoted separator stays in its field"
    );
    assert_eq!(m3.amount_cents, 1200);
    // One row changed (same reference, another amount) beside a new one: the conflict named,
    // the new one not written either.
    let changed = GOOD.replace("30,40", "31,40")
        + "MENSA-9;GLLMRA70E55L378I;Maria Galli;mensa;Mensa, ottobre;20;31/10/2030\n";
    let Outcome::Refused { errors, .. } = import::import(&w.deps, &a, changed.as_bytes())
        .await
        .unwrap()
    else {
        panic!("a changed notice was imported");
    };
    assert_eq!(
        errors.iter().map(at).collect::<Vec<_>>(),
        vec![(3, "riferimento".to_owned(), Why::IdTaken)]
    );
    assert_eq!(count().await, 3);
    // English headers, commas, Windows-1252 (a spreadsheet's "Save as CSV"): read as meant.
    let mut cp1252 = b"reference,fiscal_code,payer_name,kind,reason,amount,due_on\r\n".to_vec();
    cp1252.extend_from_slice(b"RETTA-1,FRRLCU88H10G702S,Luca D\x92Ferr\xe0ri,canteen,Retta \x80 \x93ottobre\x94,\"7,50\",2030-11-30\r\n");
    assert_eq!(
        import::import(&w.deps, &a, &cp1252).await.unwrap(),
        Outcome::Done {
            written: 1,
            already: 0
        }
    );
    let r = notices::list(
        &w.deps,
        &a,
        &NoticeFilter {
            exact: Some("RETTA-1".into()),
            ..NoticeFilter::default()
        },
        None,
    )
    .await
    .unwrap();
    assert_eq!(r[0].payer_name, "Luca D’Ferràri");
    assert_eq!(r[0].reason, "Retta € “ottobre”");
    assert_eq!(r[0].amount_cents, 750);
    // A file without a needed column: said on line 1, nothing read.
    let Outcome::Refused { errors, .. } =
        import::import(&w.deps, &a, b"riferimento;importo\nX;1\n")
            .await
            .unwrap()
    else {
        panic!("a file without columns was imported");
    };
    assert!(errors.iter().all(|e| e.line == 1 && e.why == Why::Required));
    assert!(errors.iter().any(|e| e.column == "codice_fiscale"));
    // An empty file: refused, not "0 imported".
    assert!(matches!(
        import::import(&w.deps, &a, GOOD.lines().next().unwrap().as_bytes())
            .await
            .unwrap(),
        Outcome::Refused { .. }
    ));
}

#[tokio::test]
async fn only_whoever_manages_payments_cancels_and_only_an_open_notice() {
    let w = world().await;
    let a = admin(&w, PISA, "ragioneria@comune.pisa.it").await;
    settings::save(&w.deps, &a, &set_up_form(&["canteen"]))
        .await
        .unwrap();
    let n = notices::create(&w.deps, &a, &canteen("M-1", ANNA, "45,60"))
        .await
        .unwrap();
    // A clerk reads payments but neither issues, cancels nor changes settings.
    let clerk = staff(&w, PISA, "impiegato@comune.pisa.it", Role::Clerk, None).await;
    assert_eq!(
        notices::one(&w.deps, &clerk, &n)
            .await
            .unwrap()
            .notice_number,
        n
    );
    for e in [
        notices::create(&w.deps, &clerk, &canteen("M-2", ANNA, "1"))
            .await
            .unwrap_err(),
        notices::cancel(&w.deps, &clerk, &n, "errore")
            .await
            .unwrap_err(),
        settings::save(&w.deps, &clerk, &set_up_form(&[]))
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(e, Error::Refused("refused_role")), "{e:?}");
    }
    assert!(matches!(
        import::import(&w.deps, &clerk, GOOD.as_bytes()).await,
        Err(Error::Refused("refused_role"))
    ));
    // An intermediary (a CAF) holds `payments` read for its clients only: never the list.
    let caf = staff(&w, PISA, "caf@example.org", Role::Intermediary, None).await;
    for e in [
        notices::list(&w.deps, &caf, &NoticeFilter::default(), None)
            .await
            .unwrap_err(),
        notices::one(&w.deps, &caf, &n).await.unwrap_err(),
        document::for_staff(&w.deps, &caf, &n, sportello_domain::Language::It)
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(e, Error::Refused("refused_role")), "{e:?}");
    }
    let p = invalid(notices::cancel(&w.deps, &a, &n, "  ").await.unwrap_err());
    assert!(p.has("reason", Why::Required));
    notices::cancel(&w.deps, &a, &n, "Iscrizione ritirata")
        .await
        .unwrap();
    let c = notices::one(&w.deps, &a, &n).await.unwrap();
    assert_eq!(c.status, NoticeStatus::Cancelled);
    assert_eq!(c.cancel_reason.as_deref(), Some("Iscrizione ritirata"));
    assert!(matches!(
        notices::cancel(&w.deps, &a, &n, "di nuovo").await,
        Err(Error::Refused("refused_notice_not_open"))
    ));
    // The audit log has both acts.
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    let log = tx.db().audit_log(20).await.unwrap();
    tx.commit().await.unwrap();
    let acts: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert!(
        acts.contains(&"notice_created") && acts.contains(&"notice_cancelled"),
        "{acts:?}"
    );
}

#[tokio::test]
async fn another_communes_administrator_reaches_none_of_pisas_notices() {
    let w = world().await;
    let a = admin(&w, PISA, "ragioneria@comune.pisa.it").await;
    settings::save(&w.deps, &a, &set_up_form(&["canteen"]))
        .await
        .unwrap();
    let n = notices::create(&w.deps, &a, &canteen("M-1", ANNA, "45,60"))
        .await
        .unwrap();
    let calci = admin(&w, CALCI, "admin@comune.calci.pi.it").await;
    assert!(
        notices::list(&w.deps, &calci, &NoticeFilter::default(), None)
            .await
            .unwrap()
            .is_empty()
    );
    let by_code = NoticeFilter {
        exact: Some(ANNA.into()),
        ..NoticeFilter::default()
    };
    assert!(
        notices::list(&w.deps, &calci, &by_code, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        notices::one(&w.deps, &calci, &n).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        notices::cancel(&w.deps, &calci, &n, "x").await,
        Err(Error::NotFound)
    ));
    assert!(
        settings::get(&w.deps, &calci)
            .await
            .unwrap()
            .tax_code
            .is_none()
    );
    // Pisa's Stripe account cannot be Calci's too (events find a commune by its account).
    let p = invalid(
        settings::save(
            &w.deps,
            &calci,
            &settings::SettingsForm {
                tax_code: "80001610502".into(),
                ..set_up_form(&["canteen"])
            },
        )
        .await
        .unwrap_err(),
    );
    assert!(p.has("stripe_account", Why::IdTaken), "{p}");
    // Calci's own settings and import touch Calci only.
    settings::save(
        &w.deps,
        &calci,
        &settings::SettingsForm {
            tax_code: "80001610502".into(),
            stripe_account: "acct_1CalciTest".into(),
            ..set_up_form(&["canteen"])
        },
    )
    .await
    .unwrap();
    assert_eq!(
        import::import(&w.deps, &calci, GOOD.as_bytes())
            .await
            .unwrap(),
        Outcome::Done {
            written: 3,
            already: 0
        },
        "Pisa's reference MENSA-1 is no conflict in Calci"
    );
    assert_eq!(
        notices::one(&w.deps, &a, &n).await.unwrap().amount_cents,
        4560
    );
    assert_eq!(
        notices::list(&w.deps, &a, &NoticeFilter::default(), None)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Runs a program; its standard output.
fn run(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (bash infra/system-deps.sh test installs it)"));
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn the_printed_notices_qr_code_reads_back_as_pagopas_string() {
    let w = world().await;
    let a = admin(&w, PISA, "ragioneria@comune.pisa.it").await;
    settings::save(&w.deps, &a, &set_up_form(&["canteen", "fine"]))
        .await
        .unwrap();
    let n = notices::create(&w.deps, &a, &canteen("M-1", ANNA, "1234,56"))
        .await
        .unwrap();
    let pdf = document::for_staff(&w.deps, &a, &n, sportello_domain::Language::It)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("avviso.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let text = run("pdftotext", &[file.to_str().unwrap(), "-"]);
    assert!(text.contains("Avviso di pagamento"), "{text}");
    assert!(
        text.contains("Comune di Pisa") || text.contains("Pisa"),
        "{text}"
    );
    assert!(
        text.contains(&NoticeNumber::parse(&n).unwrap().grouped()),
        "{text}"
    );
    assert!(text.contains("€ 1.234,56"), "{text}");
    let png = dir.path().join("page");
    run(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-png",
            "-singlefile",
            file.to_str().unwrap(),
            png.to_str().unwrap(),
        ],
    );
    let decoded = run(
        "zbarimg",
        &["--raw", "-q", dir.path().join("page.png").to_str().unwrap()],
    );
    assert_eq!(
        decoded.trim(),
        format!("PAGOPA|002|{n}|{PISA_TAX_CODE}|123456")
    );
    // The payer downloads the same notice from their area.
    let anna = citizen(&w, PISA, ANNA, AssuranceLevel::Substantial).await;
    let mine = document::for_citizen(&w.deps, PISA, &anna, &n, sportello_domain::Language::It)
        .await
        .unwrap();
    assert_eq!(mine, pdf);
}
