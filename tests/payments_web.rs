//! Payments through the real server: the administrator sets payments up, issues a notice and
//! imports a CSV file from the console (a forged form token refused, a wrong file's lines named
//! on the page); the payer, signed in with an identity provider that vouches for their fiscal
//! code, finds the notice under "Da pagare" and downloads it; nobody else does.

use sportello_store::staff::Realm;
use sportello_tests::StatusCode;
use sportello_tests::counterparts::OidcProvider;

use sportello_tests::stripe::FakeStripe;

use crate::actors::signed_in;
use crate::payments::PISA_TAX_CODE;
use crate::payments_stripe::WEBHOOK_SECRET;

const PISA: sportello_domain::TenantId = sportello_domain::TenantId(50026);
const CALCI: sportello_domain::TenantId = sportello_domain::TenantId(50003);
const HOST: &str = "pisa.localhost";
/// The test provider's person (tests/oidc.rs).
const MARIO: &str = "RSSMRA80A01G702C";

#[tokio::test]
async fn a_notice_goes_from_the_console_to_the_payers_area_and_no_further() {
    let fake = FakeStripe::start();
    let stripe_url = fake.url();
    let (app, _op) = crate::oidc::setup_with(OidcProvider::start(), move |s| {
        crate::payments_stripe::stripe_settings(s, stripe_url);
        // The server's own sweeper, which runs the nightly comparison (due at any hour here).
        s.stripe.sweep_every_ms = 200;
        s.stripe.reconcile_at_hour = 0;
    })
    .await;
    let acct = crate::payments_stripe::account(&fake).await;
    // Stripe corrected the account's balance yesterday (an adjustment): the server's nightly
    // comparison of yesterday flags it.
    let adjustment = fake.adjust(&acct, -1500);
    let yesterday = sportello_payments::today() - chrono::Duration::days(1);
    let noon = sportello_payments::reconcile::bounds(yesterday).0 + 43_200;
    fake.edit_movement(adjustment["source"].as_str().unwrap(), |t| {
        t["created"] = serde_json::json!(noon)
    });
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
                ("stripe_account", &acct),
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
    // Paying two notices online: the fee said first, a payment made, its page with the card
    // form (Stripe.js allowed on that page only), the notices still open until Stripe says.
    assert!(due.body.contains("name=\"avviso\""), "{}", due.body);
    assert!(
        due.body.contains("€ 1,00"),
        "the fee is said before paying: {}",
        due.body
    );
    let dcsrf = due.input("csrf").unwrap();
    let second = {
        let tx = app.store.tenant_read(PISA).await.unwrap();
        let n = tx
            .db()
            .notices_by_reference(&["M-2".to_owned()])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        n[0].notice_number.clone()
    };
    let none = mario
        .post(
            &mario.url(HOST, "/area-personale/pagamenti/paga"),
            &[("csrf", &dcsrf)],
        )
        .await;
    assert!(none.body.contains("id=\"choose\""), "{}", none.body);
    let paying = mario
        .post(
            &mario.url(HOST, "/area-personale/pagamenti/paga"),
            &[("csrf", &dcsrf), ("avviso", &number), ("avviso", &second)],
        )
        .await;
    assert_eq!(paying.status, StatusCode::OK, "{}", paying.body);
    assert!(
        paying.url.contains("/area-personale/pagamenti/pagamento/"),
        "{}",
        paying.url
    );
    assert!(
        paying.body.contains("€ 92,20"),
        "45,60 + 45,60 + 1,00: {}",
        paying.body
    );
    assert!(
        paying.body.contains("id=\"payment-element\""),
        "{}",
        paying.body
    );
    let csp = paying.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self' http://127.0.0.1:9"),
        "{csp}"
    );
    assert!(
        !due.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("127.0.0.1:9")
    );
    // Back from Stripe before paying: still to pay.
    let back = mario
        .get(&format!("{}?payment_intent=pi_whatever", paying.url))
        .await;
    assert!(back.body.contains("sp-status-pending"), "{}", back.body);
    // Stripe's event on the federation's endpoint: a forged one refused, the true one taken.
    let intent = fake
        .seen()
        .iter()
        .filter(|s| s.path == "/v1/payment_intents")
        .count();
    assert_eq!(intent, 1);
    let pi = fake.events().len();
    assert_eq!(pi, 0);
    let pi_id = fake.intent_ids().pop().unwrap();
    let ok = fake.succeed(&pi_id);
    let hook = format!("http://{}/stripe/webhook", app.addr);
    let t = chrono::Utc::now().timestamp();
    let body = ok.to_string();
    let to_apex = |sig: String, body: String| {
        let client = app.client.clone();
        let hook = hook.clone();
        async move {
            client
                .post(&hook)
                .header("host", "localhost")
                .header("stripe-signature", sig)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let forged = to_apex(
        FakeStripe::signature(&body, &["whsec_forged"], t),
        body.clone(),
    )
    .await;
    assert_eq!(forged.as_u16(), 400);
    let taken = to_apex(
        FakeStripe::signature(&body, &[WEBHOOK_SECRET], t),
        body.clone(),
    )
    .await;
    assert_eq!(taken.as_u16(), 200);
    let paid = mario
        .get(&mario.url(HOST, "/area-personale/pagamenti"))
        .await;
    assert!(paid.body.contains("sp-status-paid"), "{}", paid.body);
    // The payment in the person's list, with its receipt to download.
    assert!(paid.body.contains("id=\"my-payments\""), "{}", paid.body);
    let receipt_link = paid
        .body
        .split("href=\"")
        .find(|h| h.contains("/ricevuta\""))
        .and_then(|h| h.split('"').next())
        .unwrap()
        .to_owned();
    let receipt = mario.get(&mario.url(HOST, &receipt_link)).await;
    assert_eq!(receipt.status, StatusCode::OK);
    assert_eq!(receipt.headers["content-type"], "application/pdf");
    // The console's list of online payments: this one, paid, with its receipt number.
    let made = admin
        .get(&admin.url(HOST, "/console/pagamenti/pagamenti?stato=succeeded"))
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert!(
        made.body.contains(&pi_id) && made.body.contains("1/"),
        "{}",
        made.body
    );
    // The payment's page, its refund form; a refund without a reason is refused by the
    // field, one with it is given and listed.
    let payment_path = made
        .body
        .split("href=\"/console/pagamenti/pagamenti/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(|id| format!("/console/pagamenti/pagamenti/{id}"))
        .unwrap();
    let one = admin.get(&admin.url(HOST, &payment_path)).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert!(one.body.contains("/rimborsa\""), "{}", one.body);
    let refund = admin.url(HOST, &format!("{payment_path}/rimborsa"));
    let no_reason = admin
        .post(&refund, &[("csrf", &csrf), ("amount", "5"), ("reason", "")])
        .await;
    assert_eq!(
        no_reason.status,
        StatusCode::BAD_REQUEST,
        "{}",
        no_reason.body
    );
    assert!(no_reason.body.contains("aria-invalid=\"true\""));
    let given = admin
        .post(
            &refund,
            &[
                ("csrf", &csrf),
                ("amount", "5,00"),
                ("reason", "Pasto non consumato"),
            ],
        )
        .await;
    assert!(
        given.url.contains("esito=rimborsato"),
        "{} {}",
        given.url,
        given.body
    );
    assert!(given.body.contains("Pasto non consumato") && given.body.contains("€ 5,00"));
    // The day's reconciliation agrees with Stripe, and exports it.
    let rec = admin
        .get(&admin.url(HOST, "/console/pagamenti/riconciliazione?giorno="))
        .await;
    assert_eq!(rec.status, StatusCode::OK, "{}", rec.body);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Rome)
        .date_naive();
    let csv = admin
        .get(&admin.url(
            HOST,
            &format!("/console/pagamenti/riconciliazione/csv?giorno={today}"),
        ))
        .await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        csv.body.contains(";ok;payment;") && csv.body.contains(";ok;refund;"),
        "{}",
        csv.body
    );
    // The server compared yesterday by itself (the nightly run), and the page lists it.
    let yesterday = (today - chrono::Duration::days(1))
        .format("%d/%m/%Y")
        .to_string();
    let mut listed = false;
    for _ in 0..50 {
        let rec = admin
            .get(&admin.url(HOST, "/console/pagamenti/riconciliazione"))
            .await;
        let body = sportello_tests::browser::html_unescape(&rec.body);
        let nightly = body.find("Confronti notturni").map_or("", |i| &body[i..]);
        let link = format!(
            "href=\"/console/pagamenti/riconciliazione?giorno={}\"",
            today - chrono::Duration::days(1)
        );
        if nightly.contains(&yesterday) && nightly.contains(&link) && nightly.contains("Fatto") {
            listed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(listed, "yesterday's nightly comparison is not listed");
    // The payments page says the comparison wants looking at, and links to it.
    let page = admin.get(&admin.url(HOST, "/console/pagamenti")).await;
    let body = sportello_tests::browser::html_unescape(&page.body);
    assert!(
        body.contains("Riconciliazione da verificare")
            && body.contains(&format!(
                "Il confronto notturno del {yesterday} con Stripe ha segnalato 1 righe"
            ))
            && body.contains(&format!(
                "/console/pagamenti/riconciliazione?giorno={}",
                today - chrono::Duration::days(1)
            )),
        "{body}"
    );
    let bad_day = admin
        .get(&admin.url(HOST, "/console/pagamenti/riconciliazione?giorno=2026-02-30"))
        .await;
    assert_eq!(bad_day.status, StatusCode::NOT_FOUND);
    // A clerk reads the payment, without the refund form; a forged refund post is refused.
    let mut clerk = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "clerk@comune.pisa.it",
        "clerk",
    )
    .await;
    let seen = clerk.get(&clerk.url(HOST, &payment_path)).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert!(!seen.body.contains("/rimborsa\""));
    let ccsrf = seen.input("csrf").unwrap();
    let forged = clerk
        .post(
            &clerk.url(HOST, &format!("{payment_path}/rimborsa")),
            &[("csrf", &ccsrf), ("amount", "1"), ("reason", "x")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Not on a commune's host.
    let elsewhere = app
        .client
        .post(&hook)
        .header("host", HOST)
        .header(
            "stripe-signature",
            FakeStripe::signature(&body, &[WEBHOOK_SECRET], t),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status().as_u16(), 404);
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
        payment_path.clone(),
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
