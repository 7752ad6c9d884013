//! Payments through the real server: the administrator sets payments up, issues a notice and
//! imports a CSV file from the console (a forged form token refused, a wrong file's lines named
//! on the page); the payer, signed in with an identity provider that vouches for their fiscal
//! code, finds the notice under "Da pagare" and downloads it; nobody else does.

use sportello_store::staff::Realm;
use sportello_tests::StatusCode;
use sportello_tests::counterparts::OidcProvider;

use crate::actors::signed_in;
use crate::payments::PISA_TAX_CODE;

const PISA: sportello_domain::TenantId = sportello_domain::TenantId(50026);
const CALCI: sportello_domain::TenantId = sportello_domain::TenantId(50003);
const HOST: &str = "pisa.localhost";
/// The test provider's person (tests/oidc.rs).
const MARIO: &str = "RSSMRA80A01G702C";

#[tokio::test]
async fn a_notice_goes_from_the_console_to_the_payers_area_and_no_further() {
    let (app, _op) = crate::oidc::setup_with(OidcProvider::start(), |_| {}).await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "admin@comune.pisa.it",
        "admin",
    )
    .await;
    let page = admin.get(&admin.url(HOST, "/console/pagamenti")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.input("csrf").unwrap();
    let saved = admin
        .post(
            &admin.url(HOST, "/console/pagamenti/impostazioni"),
            &[
                ("csrf", &csrf),
                ("tax_code", PISA_TAX_CODE),
                ("segregation", "3"),
                ("fee", "1,00"),
                ("kind:canteen", "on"),
                ("kind:fine", "on"),
                ("receipt_header", "Comune di Pisa"),
                ("stripe_account", ""),
            ],
        )
        .await;
    assert!(
        saved.url.contains("esito=salvato"),
        "{} {}",
        saved.url,
        saved.body
    );
    // A wrong notice: the form again, the words by the field.
    let wrong = admin
        .post(
            &admin.url(HOST, "/console/pagamenti/avvisi"),
            &[
                ("csrf", &csrf),
                ("reference", "M 1"),
                ("fiscal_code", MARIO),
                ("payer_name", "Mario Rossi"),
                ("kind", "canteen"),
                ("reason", "Mensa"),
                ("amount", "45,60"),
                ("due_on", "2030-10-31"),
                ("notified_on", ""),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    assert!(
        wrong.body.contains("aria-invalid=\"true\""),
        "{}",
        wrong.body
    );
    let made = admin
        .post(
            &admin.url(HOST, "/console/pagamenti/avvisi"),
            &[
                ("csrf", &csrf),
                ("reference", "M-1"),
                ("fiscal_code", MARIO),
                ("payer_name", "Mario Rossi"),
                ("kind", "canteen"),
                ("reason", "Mensa di ottobre"),
                ("amount", "45,60"),
                ("due_on", "2030-10-31"),
                ("notified_on", ""),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let number = made
        .url
        .split("/console/pagamenti/avvisi/")
        .nth(1)
        .and_then(|r| r.split('?').next())
        .unwrap()
        .to_owned();
    let grouped = sportello_domain::NoticeNumber::parse(&number)
        .unwrap()
        .grouped();
    assert!(made.body.contains(&grouped), "{}", made.body);
    assert!(made.body.contains("€ 45,60"), "{}", made.body);

    // The import: a forged token refused before the file is read; a wrong file's lines named.
    let import = admin.url(HOST, "/console/pagamenti/importa");
    let forged = admin
        .post_file(&import, &[("csrf", "nope")], "avvisi.csv", b"x")
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let file = "riferimento;codice_fiscale;nominativo;tipo;causale;importo;scadenza\n\
                M-2;RSSMRA80A01G702C;Mario Rossi;mensa;Mensa di novembre;45,60;30/11/2030\n\
                M-3;RSSMRA80A01G702C;Mario Rossi;mensa;Mensa di dicembre;gratis;31/12/2030\n";
    let refused = admin
        .post_file(&import, &[("csrf", &csrf)], "avvisi.csv", file.as_bytes())
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("Importazione rifiutata: 1 errori"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("<th scope=\"row\">\n          3"),
        "line 3 named: {}",
        refused.body
    );
    assert!(
        refused.body.contains("importo") && refused.body.contains("gratis"),
        "{}",
        refused.body
    );
    let fixed = file.replace("gratis", "45,60");
    let done = admin
        .post_file(&import, &[("csrf", &csrf)], "avvisi.csv", fixed.as_bytes())
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let list = admin
        .get(&admin.url(HOST, "/console/pagamenti?esito=importati&scritti=2&gia=0"))
        .await;
    assert!(list.body.contains("2 avvisi nuovi"), "{}", list.body);
    assert!(list.body.contains("Mensa di dicembre"), "{}", list.body);

    // The payer, signed in through the provider that vouches for the fiscal code.
    let mut mario = sportello_tests::browser::Browser::new(app.addr);
    crate::oidc::sign_in(&mut mario, HOST, "/area-personale/pagamenti").await;
    let due = mario
        .get(&mario.url(HOST, "/area-personale/pagamenti"))
        .await;
    assert_eq!(due.status, StatusCode::OK, "{}", due.body);
    assert!(due.body.contains(&grouped), "{}", due.body);
    assert!(due.body.contains("Mensa di dicembre"), "{}", due.body);
    let pdf = mario
        .get(&mario.url(HOST, &format!("/area-personale/pagamenti/{number}/avviso")))
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.body.starts_with("%PDF-1.4"));
    // The person area's link to it.
    let area = mario.get(&mario.url(HOST, "/area-personale")).await;
    assert!(
        area.body.contains("href=\"/area-personale/pagamenti\""),
        "{}",
        area.body
    );

    // Not signed in: to the sign-in, not the notice.
    let mut nobody = sportello_tests::browser::Browser::new(app.addr);
    let anon = nobody
        .get_once(&nobody.url(HOST, &format!("/area-personale/pagamenti/{number}/avviso")))
        .await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    // Calci's administrator, on Calci's console: no such notice.
    let mut calci = signed_in(
        &app,
        Realm::Commune(CALCI),
        "calci.localhost",
        "admin@comune.calci.pi.it",
        "admin",
    )
    .await;
    for path in [
        format!("/console/pagamenti/avvisi/{number}"),
        format!("/console/pagamenti/avvisi/{number}/pdf"),
    ] {
        let r = calci.get(&calci.url("calci.localhost", &path)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
    }
    let theirs = calci
        .get(&calci.url("calci.localhost", "/console/pagamenti"))
        .await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.body.contains(&grouped), "{}", theirs.body);
    // An intermediary of Pisa passes the guard (the template lets it read payments for its
    // clients) but never gets the commune's list.
    let mut caf = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "caf@example.org",
        "intermediary",
    )
    .await;
    for path in [
        "/console/pagamenti".to_owned(),
        format!("/console/pagamenti/avvisi/{number}/pdf"),
    ] {
        let r = caf.get(&caf.url(HOST, &path)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
}
