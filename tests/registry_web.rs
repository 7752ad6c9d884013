//! The registry through the real server: the registry office imports from the console (a
//! forged form token refused, a wrong file's lines named), reads a record only after saying
//! why; the person, signed in at SPID level 2 through a real OIDC provider, sees their position
//! and that look, downloads a certificate at once, and anyone checks its stamp on the commune's
//! verification page (another commune's page refuses it), with the keys the commune publishes.

use sportello_store::staff::Realm;
use sportello_tests::StatusCode;
use sportello_tests::counterparts::OidcProvider;

use crate::actors::signed_in;
use crate::registry::{HEADER, family_csv};

const PISA: sportello_domain::TenantId = sportello_domain::TenantId(50026);
const CALCI: sportello_domain::TenantId = sportello_domain::TenantId(50003);
const HOST: &str = "pisa.localhost";

#[tokio::test]
async fn from_the_import_to_a_certificate_verified_on_the_communes_page() {
    let (app, _op) = crate::oidc::setup_with(OidcProvider::start(), |_| {}).await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "registro.admin@comune.pisa.it",
        "admin",
    )
    .await;
    let page = admin.get(&admin.url(HOST, "/console/anagrafe")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.input("csrf").unwrap();
    let import = admin.url(HOST, "/console/anagrafe/importa");
    let forged = admin
        .post_file(
            &import,
            &[("csrf", "nope")],
            "anagrafe.csv",
            family_csv().as_bytes(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let wrong = format!(
        "{HEADER}\nRSSMRA80A01G702C;Rossi;Mario;M;01/01/1980;G702;PISA;ITA;sposato;8;head;00130;Via Santa Maria;12;3;;;;S;2010-06-01\n"
    );
    let refused = admin
        .post_file(
            &import,
            &[("csrf", &csrf)],
            "anagrafe.csv",
            wrong.as_bytes(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("Importazione rifiutata: 1 errori")
            && refused.body.contains("stato_civile")
            && refused.body.contains("sposato"),
        "{}",
        refused.body
    );
    let done = admin
        .post_file(
            &import,
            &[("csrf", &csrf)],
            "anagrafe.csv",
            family_csv().as_bytes(),
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    // Found by surname; the record opens only with a purpose.
    let found = admin
        .get(&admin.url(HOST, "/console/anagrafe?q=ross"))
        .await;
    let href = found
        .body
        .split("/console/anagrafe/persone/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let ask = admin
        .get(&admin.url(HOST, &format!("/console/anagrafe/persone/{href}")))
        .await;
    assert!(
        ask.body.contains("name=\"scopo\"") && !ask.body.contains("RSSMRA80A01G702C"),
        "{}",
        ask.body
    );
    let rec = admin
        .get(&admin.url(
            HOST,
            &format!("/console/anagrafe/persone/{href}?scopo=controllo%20TARI"),
        ))
        .await;
    assert_eq!(rec.status, StatusCode::OK, "{}", rec.body);
    assert!(
        rec.body.contains("RSSMRA80A01G702C") && rec.body.contains("VIA SANTA MARIA"),
        "{}",
        rec.body
    );
    // Calci's administrator finds no such person at that number.
    let mut calci = signed_in(
        &app,
        Realm::Commune(CALCI),
        "calci.localhost",
        "registro.admin@comune.calci.pi.it",
        "admin",
    )
    .await;
    let theirs = calci
        .get(&calci.url(
            "calci.localhost",
            &format!("/console/anagrafe/persone/{href}?scopo=x"),
        ))
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.body);

    // Mario signs in at level 2 and sees his position, with the office's look and its purpose.
    let mut mario = sportello_tests::browser::Browser::new(app.addr);
    crate::oidc::sign_in(&mut mario, HOST, "/area-personale/anagrafe").await;
    let mine = mario
        .get(&mario.url(HOST, "/area-personale/anagrafe"))
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert!(
        mine.body.contains("VIA SANTA MARIA 12 int. 3"),
        "{}",
        mine.body
    );
    assert!(
        mine.body.contains("controllo TARI") && mine.body.contains("Ufficio anagrafe"),
        "{}",
        mine.body
    );
    // A certificate at once; a wrong date refused on the page, by its field.
    let csrf = mine.input("csrf").unwrap();
    let post = mario.url(HOST, "/area-personale/anagrafe/certificati");
    let bad = mario
        .post(
            &post,
            &[
                ("csrf", &csrf),
                ("kind", "residence_at"),
                ("subject", ""),
                ("at", "31/02/2020"),
                ("purpose", ""),
                ("exemption", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("aria-invalid=\"true\""), "{}", bad.body);
    let pdf = mario
        .post(
            &post,
            &[
                ("csrf", &csrf),
                ("kind", "residence"),
                ("subject", ""),
                ("at", ""),
                ("purpose", "banca"),
                ("exemption", ""),
            ],
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.body);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    let stamp = sportello_kernel::pdf::info_value(pdf.body.as_bytes(), "SportelloStamp").unwrap();
    let listed = mario
        .get(&mario.url(HOST, "/area-personale/anagrafe"))
        .await;
    assert!(
        listed.body.contains("id=\"my-certificates\""),
        "{}",
        listed.body
    );

    // Anyone verifies it on Pisa's page, without signing in; Calci's page refuses it.
    let mut anyone = sportello_tests::browser::Browser::new(app.addr);
    let ok = anyone
        .get(&anyone.url(HOST, &format!("/verifica?t={stamp}")))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(
        ok.body.contains("data-verdict=\"authentic\"")
            && ok.body.contains("VIA SANTA MARIA n. 12 int. 3"),
        "{}",
        ok.body
    );
    assert!(
        !ok.body.contains("BNCGLI85M52G702M"),
        "nothing beyond the certificate"
    );
    let other = anyone
        .get(&anyone.url("calci.localhost", &format!("/verifica?t={stamp}")))
        .await;
    assert!(
        other.body.contains("data-verdict=\"refused\"")
            && other.body.contains("chiave di questo Comune"),
        "{}",
        other.body
    );
    let mut forged = stamp.clone();
    forged.pop();
    forged.push(if stamp.ends_with('A') { 'B' } else { 'A' });
    let bad = anyone
        .get(&anyone.url(HOST, &format!("/verifica?t={forged}")))
        .await;
    assert!(
        bad.body.contains("data-verdict=\"refused\""),
        "{}",
        bad.body
    );
    let blank = anyone.get(&anyone.url(HOST, "/verifica")).await;
    assert!(
        blank.status == StatusCode::OK && !blank.body.contains("data-verdict"),
        "{}",
        blank.body
    );

    // The published keys verify it offline.
    let keys = anyone
        .get(&anyone.url(HOST, sportello_population::keys::WELL_KNOWN))
        .await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.body);
    let published: sportello_population::keys::Published =
        serde_json::from_str(&keys.body).unwrap();
    assert_eq!(published.commune, PISA.0);
    assert!(
        sportello_population::verify::check(&stamp, &[published], sportello_population::today())
            .is_ok()
    );
}

/// Mario, signed in at level 2, declares his move on Pisa's form (a line that is no person is
/// refused on its page, by its number); the registry office finds it in the console, registers
/// it, and his position page shows the new address.
#[tokio::test]
async fn a_declaration_of_residence_from_the_form_to_the_registry() {
    let (app, _op) = crate::oidc::setup_with(OidcProvider::start(), |_| {}).await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "residenze@comune.pisa.it",
        "admin",
    )
    .await;
    let page = admin.get(&admin.url(HOST, "/console/anagrafe")).await;
    let csrf = page.input("csrf").unwrap();
    let imported = admin
        .post_file(
            &admin.url(HOST, "/console/anagrafe/importa"),
            &[("csrf", &csrf)],
            "anagrafe.csv",
            family_csv().as_bytes(),
        )
        .await;
    assert_eq!(imported.status, StatusCode::SEE_OTHER, "{}", imported.body);
    // The administrator also works the registry office's cases.
    let tx = app.store.tenant(PISA).await.unwrap();
    let staff_id = tx
        .db()
        .role_assignments()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.role == "admin")
        .unwrap()
        .staff_id;
    tx.db()
        .assign_role(&staff_id, "clerk", Some("anagrafe"), "test", 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut mario = sportello_tests::browser::Browser::new(app.addr);
    crate::oidc::sign_in(&mut mario, HOST, "/area-personale").await;
    let start = mario
        .get(&mario.url(HOST, "/servizi/cambio-residenza/avvia"))
        .await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    let csrf = start.input("csrf").unwrap();
    let form = mario.url(HOST, "/pratiche/compila/cambio-residenza");
    let page = |n: &'static str, extra: Vec<(&'static str, String)>| {
        let mut f = vec![
            ("csrf", csrf.clone()),
            ("_pagina", n.to_owned()),
            ("_azione", "avanti".to_owned()),
        ];
        f.extend(extra);
        f
    };
    let post = async |b: &mut sportello_tests::browser::Browser, f: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post(&form, &pairs).await
    };
    post(
        &mut mario,
        page("0", vec![("provenienza", "stesso_comune".into())]),
    )
    .await;
    post(
        &mut mario,
        page(
            "1",
            vec![
                ("via", "Via Santa Maria".into()),
                ("civico", "30".into()),
                ("famiglia", "nuova".into()),
            ],
        ),
    )
    .await;
    let refused = post(
        &mut mario,
        page(
            "2",
            vec![("componenti", "RSSMRA80A01G702C; Rossi; Mario".into())],
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("Riga 1:"), "{}", refused.body);
    let summary = post(
        &mut mario,
        page(
            "2",
            vec![(
                "componenti",
                "RSSMRA80A01G702C; Rossi; Mario; intestatario".into(),
            )],
        ),
    )
    .await;
    assert!(summary.url.ends_with("/riepilogo"), "{}", summary.url);
    let draft = summary.input("_bozza").unwrap();
    let done = mario
        .post(
            &mario.url(HOST, "/pratiche/compila/cambio-residenza/invia"),
            &[("csrf", &csrf), ("_bozza", &draft)],
        )
        .await;
    assert!(done.url.contains("inviata=1"), "{}", done.url);
    let case_id = url::Url::parse(&done.url)
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();

    let list = admin
        .get(&admin.url(HOST, "/console/anagrafe/residenze"))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains(&case_id), "{}", list.body);
    let one = admin.url(HOST, &format!("/console/anagrafe/residenze/{case_id}"));
    let shown = admin.get(&one).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(
        shown.body.contains("ROSSI MARIO") && shown.body.contains("Già residente"),
        "{}",
        shown.body
    );
    let csrf = shown.input("csrf").unwrap();
    let registered = admin
        .post(
            &format!("{one}/registra"),
            &[("csrf", csrf.as_str()), ("street", "00130")],
        )
        .await;
    assert!(
        registered.url.contains("esito=salvato"),
        "{}",
        registered.body
    );
    assert!(
        registered.body.contains("Registrata, in verifica"),
        "{}",
        registered.body
    );
    // Calci's host knows no such declaration.
    let calci = admin
        .get_once(&admin.url(
            "calci.localhost",
            &format!("/console/anagrafe/residenze/{case_id}"),
        ))
        .await;
    assert_ne!(calci.status, StatusCode::OK);

    let pos = mario
        .get(&mario.url(HOST, "/area-personale/anagrafe"))
        .await;
    assert!(pos.body.contains("VIA SANTA MARIA 30"), "{}", pos.body);
    let _ = CALCI;
}
