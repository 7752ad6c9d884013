//! Files attached to a case: the field's limits (count, size, types judged by content), names
//! cleaned, SHA-256 kept with the case; downloads only by the case's citizen and its office,
//! as attachments; the same through the real server with a multipart post.

use sportello_authz::Role;
use sportello_cases::draft::{self, Step};
use sportello_cases::{files, office, submit};
use sportello_domain::{AssuranceLevel, Language, Why};
use sportello_kernel::{Actor, Error};
use sportello_store::staff::Realm;
use sportello_tests::StatusCode;

use crate::cases::{BASE, PISA, citizen, raw, world};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
];

fn why(e: Error, field: &str) -> Option<Why> {
    match e {
        Error::Invalid(p) => p.0.into_iter().find(|x| x.field == field).map(|x| x.why),
        _ => None,
    }
}

#[tokio::test]
async fn files_meet_their_fields_limits_and_follow_the_case() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Substantial).await;
    let svc = "contrassegno-disabili";
    let f = draft::open(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        svc,
        None,
    )
    .await
    .unwrap();
    let attach = |field: &'static str, name: &'static str, bytes: Vec<u8>| {
        let (deps, anna) = (&w.deps, &anna);
        async move {
            files::attach(
                deps,
                PISA,
                &sportello_cases::filer::Filer::citizen(anna).unwrap(),
                svc,
                field,
                name,
                &bytes,
            )
            .await
        }
    };
    // The type is the content's: a PNG named .pdf, an executable, are refused.
    let e = attach("certificato_asl", "certificato.pdf", PNG.to_vec())
        .await
        .unwrap_err();
    assert_eq!(why(e, "certificato_asl"), Some(Why::FileType));
    let e = attach(
        "certificato_asl",
        "certificato.pdf",
        b"MZ\x90\x00rest".to_vec(),
    )
    .await
    .unwrap_err();
    assert_eq!(why(e, "certificato_asl"), Some(Why::FileType));
    // Too large: the photo takes 2 MB at most.
    let mut big = PNG.to_vec();
    big.resize(2 * 1024 * 1024 + 1, 0);
    assert_eq!(
        why(attach("foto", "foto.png", big).await.unwrap_err(), "foto"),
        Some(Why::FileTooLarge)
    );
    // Empty, or a field that is no file field, or none at all.
    assert_eq!(
        why(
            attach("foto", "foto.png", vec![]).await.unwrap_err(),
            "foto"
        ),
        Some(Why::Required)
    );
    assert!(matches!(
        attach("tipo", "x.pdf", PDF.to_vec()).await,
        Err(Error::NotFound)
    ));
    // A name with a path keeps only its last part.
    let cert = attach(
        "certificato_asl",
        "../../etc/certificato ASL.pdf",
        PDF.to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(cert.name, "certificato ASL.pdf");
    assert_eq!(
        cert.sha256,
        data_encoding::HEXLOWER.encode(&openssl::sha::sha256(PDF))
    );
    // One certificate only: a second is refused, nothing kept of it.
    let e = attach("certificato_asl", "altro.pdf", PDF.to_vec())
        .await
        .unwrap_err();
    assert_eq!(why(e, "certificato_asl"), Some(Why::TooManyFiles));
    assert_eq!(
        files::of_draft(
            &w.deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
            svc
        )
        .await
        .unwrap()
        .len(),
        1
    );
    attach("foto", "foto.png", PNG.to_vec()).await.unwrap();

    // The other fields, then the case: its files come with it, hashes and all.
    let first = raw(&[("per_chi", "me"), ("tipo", "permanente")]);
    assert_eq!(
        draft::save(
            &w.deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
            svc,
            0,
            &first,
            Step::Next
        )
        .await
        .unwrap(),
        None
    );
    let s = submit::submit(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        svc,
        &f.draft_id,
        Language::It,
        BASE,
    )
    .await
    .unwrap();
    let case = sportello_cases::follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(case.files.len(), 2);
    let c = case
        .files
        .iter()
        .find(|x| x.field == "certificato_asl")
        .unwrap();
    assert_eq!(c.sha256, cert.sha256);
    let d = files::citizen_download(&w.deps, PISA, &anna, &s.case_id, &c.id)
        .await
        .unwrap();
    assert_eq!(d.bytes, PDF);
    assert_eq!(d.media_type, "application/pdf");

    // Nobody else: another person, another office's clerk, another commune.
    let bruno = citizen(&w, PISA, "BRNBRN80A01G702X", AssuranceLevel::Substantial).await;
    assert!(matches!(
        files::citizen_download(&w.deps, PISA, &bruno, &s.case_id, &c.id).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        files::citizen_download(&w.deps, crate::cases::CALCI, &anna, &s.case_id, &c.id).await,
        Err(Error::NotFound)
    ));
    let staff = |email: &'static str, office: &'static str| {
        let deps = &w.deps;
        async move {
            let (id, _) = sportello_identity::staff::invite_for_office(
                &deps.store,
                Realm::Commune(PISA),
                email,
                email,
                Role::Clerk.key(),
                Some(office),
            )
            .await
            .unwrap();
            deps.apply_policy_changes().await.unwrap();
            Actor {
                realm: Realm::Commune(PISA),
                staff_id: id,
                name: email.into(),
                email: email.into(),
                federation: false,
            }
        }
    };
    let registry = staff("clerk@anagrafe.it", "anagrafe").await;
    assert!(matches!(
        files::staff_download(&w.deps, &registry, &s.case_id, &c.id).await,
        Err(Error::NotFound)
    ));
    let mobility = staff("clerk@mobilita.it", "mobilita").await;
    assert_eq!(
        files::staff_download(&w.deps, &mobility, &s.case_id, &c.id)
            .await
            .unwrap()
            .bytes,
        PDF
    );
    let seen = office::case(&w.deps, &mobility, &s.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(seen.files.len(), 2);
}

#[tokio::test]
async fn a_file_goes_up_as_a_multipart_post_and_comes_down_as_an_attachment() {
    let (app, _op) =
        crate::oidc::setup_with(sportello_tests::counterparts::OidcProvider::start(), |_| {}).await;
    let mut mario = sportello_tests::browser::Browser::new(app.addr);
    crate::oidc::sign_in(&mut mario, "pisa.localhost", "/servizi/permesso-ztl/avvia").await;
    let host = "pisa.localhost";
    let form = mario
        .get(&mario.url(host, "/pratiche/compila/permesso-ztl"))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.input("csrf").unwrap();
    let go = mario.url(host, "/pratiche/compila/permesso-ztl");
    let p1 = mario
        .post(
            &go,
            &[
                ("csrf", &csrf),
                ("_pagina", "0"),
                ("_azione", "avanti"),
                ("categoria", "residente"),
                ("indirizzo", "Via San Martino 20"),
            ],
        )
        .await;
    assert!(
        p1.body.contains("enctype=\"multipart/form-data\""),
        "{}",
        p1.body
    );
    let upload = mario.url(host, "/pratiche/compila/permesso-ztl/allegati/libretto");
    // Without the form token: refused before anything is kept.
    let forged = mario
        .post_file(&upload, &[("csrf", "nope")], "libretto.pdf", PDF)
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    // A type the field does not take: the form again, the words by the field.
    let wrong = mario
        .post_file(
            &upload,
            &[("csrf", &csrf)],
            "libretto.pdf",
            b"<html><script>alert(1)</script>",
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    assert!(wrong.body.contains("f-libretto-error"), "{}", wrong.body);
    let ok = mario
        .post_file(&upload, &[("csrf", &csrf)], "libretto auto.pdf", PDF)
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let decorrenza = (sportello_cases::today() + chrono::Duration::days(3)).to_string();
    let p2 = mario
        .post(
            &go,
            &[
                ("csrf", &csrf),
                ("_pagina", "1"),
                ("_azione", "avanti"),
                ("targa", "AB123CD"),
                ("decorrenza", &decorrenza),
                ("dichiarazione", "on"),
            ],
        )
        .await;
    assert!(p2.url.ends_with("/riepilogo"), "{} {}", p2.url, p2.body);
    assert!(p2.body.contains("libretto auto.pdf"), "{}", p2.body);
    let draft = p2.input("_bozza").unwrap();
    let done = mario
        .post(
            &mario.url(host, "/pratiche/compila/permesso-ztl/invia"),
            &[("csrf", &csrf), ("_bozza", &draft)],
        )
        .await;
    assert!(done.body.contains("id=\"case-files\""), "{}", done.body);
    assert!(
        done.body
            .contains(&data_encoding::HEXLOWER.encode(&openssl::sha::sha256(PDF))),
        "the hash is shown"
    );
    assert!(done.body.contains("id=\"signature\""), "{}", done.body);
    let case_path = url::Url::parse(&done.url).unwrap().path().to_owned();
    let receipt =
        crate::cases_web::pdf_text(&mario, &mario.url(host, &format!("{case_path}/ricevuta")))
            .await;
    let hash = data_encoding::HEXLOWER.encode(&openssl::sha::sha256(PDF));
    assert!(receipt.contains(&format!("SHA-256 {hash}")), "{receipt}");
    assert!(
        receipt.contains("istanza firmata"),
        "signed at level 2: {receipt}"
    );
    let start = done.body.find("/allegati/").unwrap();
    let href_start = done.body[..start].rfind('"').unwrap() + 1;
    let href_end = start + done.body[start..].find('"').unwrap();
    let href = &done.body[href_start..href_end];
    let file = mario.get_once(&mario.url(host, href)).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.headers["content-type"], "application/pdf");
    assert!(
        file.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(file.headers["x-content-type-options"], "nosniff");
    // Not through another commune's host, not for a stranger.
    let there = mario.get_once(&mario.url("calci.localhost", href)).await;
    assert_ne!(there.status, StatusCode::OK);
    let mut stranger = sportello_tests::browser::Browser::new(app.addr);
    let theirs = stranger.get_once(&stranger.url(host, href)).await;
    assert_ne!(theirs.status, StatusCode::OK);
    assert!(!theirs.body.contains("%PDF"));
}
