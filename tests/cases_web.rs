//! Cases through the real server: a citizen fills a form page by page (a refused page keeps
//! what was typed), submits it once (a second click makes no second case), follows it; a clerk
//! works it in the console; the status by code; nothing of it through another commune's host
//! or another person's session.

use sportello_store::staff::Realm;
use sportello_tests::StatusCode;

use crate::actors::signed_in;
use crate::cases::{CALCI, PISA};

const HOST: &str = "pisa.localhost";

#[tokio::test]
async fn a_citizen_files_a_report_and_the_office_answers_it() {
    let (app, mail) = crate::identity::app_with_mail().await;
    let (mut anna, _) = crate::identity::anna_at_pisa(&app, &mail).await;
    let mut bruno = crate::identity::bruno_at_pisa(&app, &mail, 2).await;
    // The service's start page leads to its form.
    let start = anna
        .get(&anna.url(HOST, "/servizi/segnalazioni/avvia"))
        .await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    assert!(
        start.url.contains("/pratiche/compila/segnalazioni"),
        "{}",
        start.url
    );
    assert!(start.body.contains("id=\"steps\""), "{}", start.body);
    let csrf = start.input("csrf").unwrap();
    let form = anna.url(HOST, "/pratiche/compila/segnalazioni");

    // A refused page: 400, the words by each field, what was typed still there.
    let refused = anna
        .post(
            &form,
            &[
                ("csrf", &csrf),
                ("_pagina", "0"),
                ("_azione", "avanti"),
                ("categoria", "strade"),
                ("oggetto", "Buca"),
                (
                    "descrizione",
                    "Una buca profonda davanti al civico 3, pericolosa per le bici.",
                ),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("f-oggetto-error") && refused.body.contains("f-luogo-error"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("pericolosa per le bici"),
        "typed text kept"
    );
    // Put right, then the second page, then the summary.
    let next = anna
        .post(
            &form,
            &[
                ("csrf", &csrf),
                ("_pagina", "0"),
                ("_azione", "avanti"),
                ("categoria", "strade"),
                ("oggetto", "Buca in Via Roma"),
                (
                    "descrizione",
                    "Una buca profonda davanti al civico 3, pericolosa per le bici.",
                ),
                ("luogo", "Via Roma 3"),
            ],
        )
        .await;
    assert!(next.url.contains("pagina=1"), "{}", next.url);
    assert!(
        next.body.contains("anna@example.org"),
        "the e-mail is prefilled: {}",
        next.body
    );
    let summary = anna
        .post(
            &form,
            &[
                ("csrf", &csrf),
                ("_pagina", "1"),
                ("_azione", "avanti"),
                ("email", "anna@example.org"),
            ],
        )
        .await;
    assert!(summary.url.ends_with("/riepilogo"), "{}", summary.url);
    assert!(
        summary.body.contains("Buca in Via Roma")
            && summary.body.contains("Strade, marciapiedi e segnaletica"),
        "{}",
        summary.body
    );
    let draft = summary.input("_bozza").unwrap();
    let send = anna.url(HOST, "/pratiche/compila/segnalazioni/invia");
    let done = anna
        .post(&send, &[("csrf", &csrf), ("_bozza", &draft)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.url.contains("inviata=1"), "{}", done.url);
    assert!(
        done.body.contains("id=\"submitted-protocol\""),
        "{}",
        done.body
    );
    let year = sportello_cases::today().format("%Y").to_string();
    assert!(
        done.body.contains(&format!("{year}/0000001")),
        "{}",
        done.body
    );
    // The same submission again (a second click): the same case, no second number.
    let again = anna
        .post(&send, &[("csrf", &csrf), ("_bozza", &draft)])
        .await;
    assert_eq!(again.url, done.url);
    let tx = app.store.tenant(PISA).await.unwrap();
    let all = sportello_store::cases::QueueFilter {
        queue: sportello_store::cases::Queue::All,
        limit: 10,
        ..Default::default()
    };
    assert_eq!(tx.db().queue_count(&all).await.unwrap(), 1, "one case");
    tx.commit().await.unwrap();
    let case_path = url::Url::parse(&done.url).unwrap().path().to_owned();
    assert!(
        case_path.starts_with("/area-personale/pratiche/"),
        "{case_path}"
    );
    // Routed by the topic to the mobility office, without Anna choosing it.
    assert!(
        done.body.contains("Mobilità") || done.body.contains("mobilit"),
        "{}",
        done.body
    );
    let code = html_text(&done.body, "id=\"case-code\">").unwrap();
    // The receipt: a PDF a real reader reads back, with the number, the code and the answers.
    let pdf = anna
        .get_once(&anna.url(HOST, &format!("{case_path}/ricevuta")))
        .await;
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    let text = pdf_text(&anna, &anna.url(HOST, &format!("{case_path}/ricevuta"))).await;
    for wanted in [
        format!("{year}/0000001"),
        code.clone(),
        "Comune di Pisa".into(),
        "Segnalazioni e richieste al Comune".into(),
        "Buca in Via Roma".into(),
        "Strade, marciapiedi e segnaletica".into(),
    ] {
        assert!(
            text.contains(&wanted),
            "{wanted} not in the receipt: {text}"
        );
    }

    // The status by protocol number and code, signed out: the state and nothing personal.
    let mut stranger = sportello_tests::browser::Browser::new(app.addr);
    let number = format!("{year}/1");
    let look = async |b: &mut sportello_tests::browser::Browser, host: &str, code: &str| {
        let csrf = b
            .get(&b.url(host, "/stato-pratica"))
            .await
            .input("csrf")
            .unwrap();
        b.post(
            &b.url(host, "/stato-pratica"),
            &[("csrf", &csrf), ("protocollo", &number), ("codice", code)],
        )
        .await
    };
    let status = look(&mut stranger, HOST, &code).await;
    assert!(
        status.body.contains("id=\"found-status\""),
        "{}",
        status.body
    );
    assert!(
        !status.body.contains("Rossi") && !status.body.contains("Buca"),
        "{}",
        status.body
    );
    let wrong = look(&mut stranger, HOST, "WRONG22222").await;
    assert!(
        wrong.body.contains("id=\"not-found\"") && !wrong.body.contains("found-status"),
        "{}",
        wrong.body
    );
    let elsewhere = look(&mut stranger, "calci.localhost", &code).await;
    assert!(
        elsewhere.body.contains("id=\"not-found\""),
        "{}",
        elsewhere.body
    );
    // Bruno, and Anna herself on Calci's host: no such case.
    let theirs = bruno.get_once(&bruno.url(HOST, &case_path)).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let list = bruno
        .get(&bruno.url(HOST, "/area-personale/pratiche"))
        .await;
    assert!(list.body.contains("id=\"no-cases\""), "{}", list.body);
    let on_calci = anna
        .get_once(&anna.url("calci.localhost", &case_path))
        .await;
    assert_ne!(on_calci.status, StatusCode::OK);
    assert!(!on_calci.body.contains("Buca"));
    let _ = CALCI;

    // A clerk of Pisa takes it in charge and asks for a photo.
    let mut clerk = signed_in(&app, Realm::Commune(PISA), HOST, "clerk@pisa.it", "clerk").await;
    let queue = clerk.get(&clerk.url(HOST, "/console/pratiche")).await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    assert!(
        queue.body.contains(&format!("{year}/0000001")),
        "{}",
        queue.body
    );
    let id = case_path.rsplit('/').next().unwrap();
    let console_case = clerk.url(HOST, &format!("/console/pratiche/{id}"));
    let page = clerk.get(&console_case).await;
    let ccsrf = page.input("csrf").unwrap();
    let taken = clerk
        .post(&console_case, &[("csrf", &ccsrf), ("azione", "prendi")])
        .await;
    assert!(taken.url.contains("esito=salvato"), "{}", taken.body);
    let empty = clerk
        .post(
            &console_case,
            &[("csrf", &ccsrf), ("azione", "chiedi"), ("text", "")],
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.body);
    clerk
        .post(
            &console_case,
            &[
                ("csrf", &ccsrf),
                ("azione", "chiedi"),
                ("text", "Ci mandi una foto della buca?"),
            ],
        )
        .await;

    // Anna reads the request and answers it.
    let mine = anna.get(&anna.url(HOST, &case_path)).await;
    assert!(
        mine.body.contains("Ci mandi una foto della buca?"),
        "{}",
        mine.body
    );
    assert!(mine.body.contains("sp-status-waiting"), "{}", mine.body);
    let acsrf = mine.input("csrf").unwrap();
    // The documents come with the answer: a PDF is taken, anything else refused by the field.
    let add = anna.url(HOST, &format!("{case_path}/allegati"));
    let exe = anna
        .post_file(
            &add,
            &[("csrf", &acsrf)],
            "foto.pdf",
            b"MZ\x90\x00 not a pdf",
        )
        .await;
    assert_eq!(exe.status, StatusCode::BAD_REQUEST, "{}", exe.body);
    assert!(exe.body.contains("case-file-error"), "{}", exe.body);
    let forged = anna
        .post_file(&add, &[("csrf", "forged")], "foto.pdf", b"%PDF-1.4 x")
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let added = anna
        .post_file(
            &add,
            &[("csrf", &acsrf)],
            "foto buca.pdf",
            b"%PDF-1.4\n%%EOF\n",
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let answered = anna
        .post(
            &anna.url(HOST, &format!("{case_path}/messaggio")),
            &[("csrf", &acsrf), ("text", "La buca è larga mezzo metro.")],
        )
        .await;
    assert!(answered.url.contains("inviato=1"), "{}", answered.body);
    // Withdrawing now is refused: the office has it.
    let w = anna
        .post(
            &anna.url(HOST, &format!("{case_path}/ritira")),
            &[("csrf", &acsrf), ("reason", "ci ho ripensato")],
        )
        .await;
    assert_eq!(w.status, StatusCode::FORBIDDEN, "{}", w.body);

    let seen = clerk.get(&console_case).await;
    assert!(
        seen.body.contains("foto buca.pdf"),
        "the office sees the document: {}",
        seen.body
    );
    // The clerk accepts; Anna sees the outcome.
    clerk
        .post(
            &console_case,
            &[
                ("csrf", &ccsrf),
                ("azione", "esito"),
                ("outcome", "accolta"),
                ("reason", ""),
            ],
        )
        .await;
    let closed = anna.get(&anna.url(HOST, &case_path)).await;
    assert!(
        closed.body.contains("sp-status-accepted"),
        "{}",
        closed.body
    );
    assert!(
        !closed.body.contains("id=\"reply-form\""),
        "a closed case takes no message"
    );
    // The rating, in two steps: the stars (a GET), then the question that fits them.
    let step = anna
        .get(&anna.url(HOST, &format!("{case_path}?stelle=2")))
        .await;
    assert!(
        step.body.contains("id=\"rate-form\"") && step.body.contains("value=\"unclear\""),
        "{}",
        step.body
    );
    let rcsrf = step.input("csrf").unwrap();
    let rate = anna.url(HOST, &format!("{case_path}/valuta"));
    let refused = anna
        .post(
            &rate,
            &[("csrf", &rcsrf), ("stars", "2"), ("answer", "clear")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("value=\"unclear\""),
        "back at the second step: {}",
        refused.body
    );
    let rated = anna
        .post(
            &rate,
            &[
                ("csrf", &rcsrf),
                ("stars", "2"),
                ("answer", "unclear"),
                ("details", "Non trovavo il campo via"),
            ],
        )
        .await;
    assert!(rated.body.contains("id=\"rated\""), "{}", rated.body);
    let card = stranger
        .get(&stranger.url(HOST, "/servizi/segnalazioni"))
        .await;
    assert!(
        card.body.contains("id=\"service-rating\"") && card.body.contains("2,0 / 5 (1 "),
        "{}",
        card.body
    );
    // A citizen's session opens no console page, and the clerk's no one else's commune.
    let denied = anna.get_once(&anna.url(HOST, "/console/pratiche")).await;
    assert_ne!(denied.status, StatusCode::OK);
    let calci = clerk
        .get_once(&clerk.url("calci.localhost", &format!("/console/pratiche/{id}")))
        .await;
    assert_ne!(calci.status, StatusCode::OK);
}

/// The text `pdftotext` (poppler) reads from the PDF at `url`.
pub(crate) async fn pdf_text(b: &sportello_tests::browser::Browser, url: &str) -> String {
    let (host, rest) = url.split_once("://").unwrap().1.split_once('/').unwrap();
    let host = host.split(':').next().unwrap();
    let cookies = b.cookie_header(host);
    let bytes = reqwest::Client::new()
        .get(format!("http://{}/{rest}", b.app()))
        .header("host", host)
        .header("cookie", cookies)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, installed by infra/system-deps.sh test)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The text of an element whose opening tag ends with `marker`.
fn html_text(body: &str, marker: &str) -> Option<String> {
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('<')? + start;
    Some(body[start..end].trim().to_owned())
}
