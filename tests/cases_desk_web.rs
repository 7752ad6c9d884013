//! The desk through the real server: a front desk files a report for a citizen present (the
//! same form pages, in the console), hands over the receipt; an intermediary uploads a
//! delegation (a forged form token refused in the multipart body); another commune's desk
//! reaches none of it.

use sportello_store::staff::Realm;
use sportello_tests::StatusCode;

use crate::actors::signed_in;
use crate::cases::{CALCI, PISA};

const HOST: &str = "pisa.localhost";

/// The path of a console address, without its query.
fn path_of(url: &str) -> String {
    let p = &url[url.find("/console").unwrap()..];
    p.split('?').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_front_desk_files_a_report_for_a_citizen_in_the_console() {
    let (app, _mail) = crate::identity::app_with_mail().await;
    let mut desk = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "desk@comune.pisa.it",
        "front_desk",
    )
    .await;
    let page = desk.get(&desk.url(HOST, "/console/sportello")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("href=\"/console/sportello\""),
        "the menu has the desk"
    );
    let csrf = page.input("csrf").unwrap();
    // Missing purpose: refused with the words by the field, what was typed kept.
    let refused = desk
        .post(
            &desk.url(HOST, "/console/sportello"),
            &[
                ("csrf", &csrf),
                ("commune", "50026"),
                ("service", "segnalazioni"),
                ("fiscal_code", "VRDGPP80A01G702C"),
                ("given_name", "Giuseppe"),
                ("family_name", "Verdi"),
                ("purpose", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("VRDGPP80A01G702C"));
    let fill = desk
        .post(
            &desk.url(HOST, "/console/sportello"),
            &[
                ("csrf", &csrf),
                ("commune", "50026"),
                ("service", "segnalazioni"),
                ("fiscal_code", "VRDGPP80A01G702C"),
                ("given_name", "Giuseppe"),
                ("family_name", "Verdi"),
                ("purpose", "Presente allo sportello, CI CA12345AB"),
            ],
        )
        .await;
    assert_eq!(fill.status, StatusCode::OK, "{}", fill.body);
    assert!(
        fill.url.contains("/console/sportello/bozze/50026/"),
        "{}",
        fill.url
    );
    assert!(fill.body.contains("id=\"for-whom\"") && fill.body.contains("VRDGPP80A01G702C"));
    let path = path_of(&fill.url);
    let base = desk.url(HOST, &path);
    let next = desk
        .post(
            &base,
            &[
                ("csrf", &csrf),
                ("_pagina", "0"),
                ("_azione", "avanti"),
                ("categoria", "strade"),
                ("oggetto", "Buca in Via Roma"),
                (
                    "descrizione",
                    "Una buca profonda davanti al civico 3, pericolosa.",
                ),
                ("luogo", "Via Roma 3"),
            ],
        )
        .await;
    assert!(next.url.contains("pagina=1"), "{} {}", next.url, next.body);
    let summary = desk
        .post(
            &base,
            &[
                ("csrf", &csrf),
                ("_pagina", "1"),
                ("_azione", "avanti"),
                ("email", "giuseppe@example.org"),
            ],
        )
        .await;
    assert!(summary.url.ends_with("/riepilogo"), "{}", summary.url);
    let draft = summary.input("_bozza").unwrap();
    let done = desk
        .post(
            &desk.url(HOST, &format!("{path}/invia")),
            &[("csrf", &csrf), ("_bozza", &draft)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.url.contains("/console/sportello/pratiche/50026/"),
        "{}",
        done.url
    );
    assert!(done.body.contains("CA12345AB"), "the purpose shows");
    let receipt_path = format!("{}/ricevuta", path_of(&done.url));
    let pdf = desk.get(&desk.url(HOST, &receipt_path)).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    // The desk's list has it, linking to the case.
    let list = desk.get(&desk.url(HOST, "/console/sportello")).await;
    let case_path = path_of(&done.url);
    assert!(
        list.body.contains(&format!("href=\"{case_path}\"")),
        "{}",
        list.body
    );

    // Calci's desk, on Calci's host, does not reach Pisa's draft or case.
    let mut calci = signed_in(
        &app,
        Realm::Commune(CALCI),
        "calci.localhost",
        "desk@comune.calci.pi.it",
        "front_desk",
    )
    .await;
    let theirs = calci
        .get(&calci.url("calci.localhost", &receipt_path))
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.body);
    // Nor with a commune that does not take its cases.
    let refused = calci
        .get(&calci.url("calci.localhost", "/console/sportello?comune=50026"))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_intermediary_uploads_a_delegation_and_a_forged_token_is_refused() {
    let (app, _mail) = crate::identity::app_with_mail().await;
    let mut caf = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "caf@cafpisa.it",
        "intermediary",
    )
    .await;
    let page = caf.get(&caf.url(HOST, "/console/deleghe")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    let csrf = page.input("csrf").unwrap();
    let until = (sportello_cases::today() + chrono::Duration::days(90)).to_string();
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let forged = caf
        .post_file(
            &caf.url(HOST, "/console/deleghe"),
            &[
                ("csrf", "forged"),
                ("fiscal_code", "VRDGPP80A01G702C"),
                ("client_name", "Giuseppe Verdi"),
                ("valid_until", &until),
            ],
            "delega.pdf",
            pdf,
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let bad = caf
        .post_file(
            &caf.url(HOST, "/console/deleghe"),
            &[
                ("csrf", &csrf),
                ("fiscal_code", "VRDGPP80A01G702C"),
                ("client_name", "Giuseppe Verdi"),
                ("valid_until", &until),
            ],
            "delega.pdf",
            b"GIF89a not a pdf",
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let ok = caf
        .post_file(
            &caf.url(HOST, "/console/deleghe"),
            &[
                ("csrf", &csrf),
                ("fiscal_code", "VRDGPP80A01G702C"),
                ("client_name", "Giuseppe Verdi"),
                ("valid_until", &until),
            ],
            "delega.pdf",
            pdf,
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let list = caf.get(&caf.url(HOST, "/console/deleghe")).await;
    assert!(list.body.contains("Giuseppe Verdi") && list.body.contains(&until));
    // The desk form now offers the delegation.
    let desk = caf.get(&caf.url(HOST, "/console/sportello")).await;
    assert!(desk.body.contains("name=\"delegation\""), "{}", desk.body);
}
