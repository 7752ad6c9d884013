//! Tickets through the real server: the administrator puts an offer and a time on sale from
//! the console; a visitor with no account buys two from the commune's site (a wrong e-mail
//! address refused by its field), pays on the order's page (its key needed), gets the tickets
//! with their QR codes once Stripe's signed event comes; at the entrance the first scan lets
//! one in and the second says it was used; another commune's staff find nothing.

use sportello_store::staff::Realm;
use sportello_tests::StatusCode;
use sportello_tests::browser::Browser;
use sportello_tests::stripe::FakeStripe;

use crate::actors::signed_in;
use crate::payments::PISA_TAX_CODE;
use crate::payments_stripe::WEBHOOK_SECRET;

const PISA: sportello_domain::TenantId = sportello_domain::TenantId(50026);
const CALCI: sportello_domain::TenantId = sportello_domain::TenantId(50003);
const HOST: &str = "pisa.localhost";

#[tokio::test]
async fn a_visitor_buys_tickets_without_an_account_and_each_lets_one_in_once() {
    let fake = FakeStripe::start();
    let url = fake.url();
    let app = sportello_tests::spawn_app_with(sportello_tests::Options {
        settings: Box::new(move |s| crate::payments_stripe::stripe_settings(s, url)),
        ..Default::default()
    })
    .await;
    let acct = crate::payments_stripe::account(&fake).await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "admin@comune.pisa.it",
        "admin",
    )
    .await;
    let page = admin.get(&admin.url(HOST, "/console/biglietti")).await;
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
                ("receipt_header", "Comune di Pisa"),
                ("stripe_account", &acct),
            ],
        )
        .await;
    assert!(saved.url.contains("esito=salvato"), "{}", saved.body);
    let offer = admin
        .post(
            &admin.url(HOST, "/console/biglietti"),
            &[
                ("csrf", &csrf),
                ("id", "museo-grafica"),
                ("title", "Museo della Grafica"),
                ("place", "Palazzo Lanfranchi"),
                ("price", "8,00"),
                ("max_per_order", "6"),
                ("active", "on"),
            ],
        )
        .await;
    assert!(
        offer
            .url
            .contains("/console/biglietti/offerte/museo-grafica?esito=salvato"),
        "{}",
        offer.body
    );
    let tomorrow = (chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Rome)
        .date_naive()
        + chrono::Days::new(1))
    .to_string();
    let slot = admin
        .post(
            &admin.url(HOST, "/console/biglietti/offerte/museo-grafica/orari"),
            &[
                ("csrf", &csrf),
                ("day", &tomorrow),
                ("time", "10:30"),
                ("capacity", "30"),
            ],
        )
        .await;
    assert!(slot.url.contains("esito=salvato"), "{}", slot.body);
    assert!(slot.body.contains("10:30"), "{}", slot.body);
    // A visitor, no account.
    let mut visitor = Browser::new(app.addr);
    let list = visitor.get(&visitor.url(HOST, "/biglietti")).await;
    assert!(
        list.body.contains("href=\"/biglietti/museo-grafica\""),
        "{}",
        list.body
    );
    let offer = visitor
        .get(&visitor.url(HOST, "/biglietti/museo-grafica"))
        .await;
    assert_eq!(offer.status, StatusCode::OK);
    let slot_id = offer
        .body
        .split("name=\"slot\" id=\"slot-1\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let vcsrf = offer.input("csrf").unwrap();
    let wrong = visitor
        .post(
            &visitor.url(HOST, "/biglietti/museo-grafica"),
            &[
                ("csrf", &vcsrf),
                ("slot", &slot_id),
                ("quantity", "2"),
                ("email", "not-an-address"),
                ("name", ""),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    assert!(
        wrong.body.contains("aria-invalid=\"true\""),
        "{}",
        wrong.body
    );
    let bought = visitor
        .post(
            &visitor.url(HOST, "/biglietti/museo-grafica"),
            &[
                ("csrf", &vcsrf),
                ("slot", &slot_id),
                ("quantity", "2"),
                ("email", "visitor@example.org"),
                ("name", "Ann"),
            ],
        )
        .await;
    assert_eq!(bought.status, StatusCode::OK, "{}", bought.body);
    assert!(
        bought.url.contains("/biglietti/ordine/") && bought.url.contains("chiave="),
        "{}",
        bought.url
    );
    assert!(
        bought.body.contains(&format!("data-account=\"{acct}\"")),
        "{}",
        bought.body
    );
    assert!(bought.body.contains("€ 17,00"), "{}", bought.body);
    // Without its key the order is nobody's.
    let bare = bought.url.split('?').next().unwrap().to_owned();
    let nokey = visitor.get(&format!("{bare}?chiave=wrong")).await;
    assert_eq!(nokey.status, StatusCode::NOT_FOUND);
    // Stripe's signed event on the federation's endpoint pays it.
    let pi = fake.intent_ids().pop().unwrap();
    let ok = fake.succeed(&pi);
    let body = ok.to_string();
    let sig = FakeStripe::signature(&body, &[WEBHOOK_SECRET], chrono::Utc::now().timestamp());
    let r = app
        .client
        .post(format!("http://{}/stripe/webhook", app.addr))
        .header("host", "localhost")
        .header("stripe-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let paid = visitor.get(&bought.url).await;
    assert!(paid.body.contains("sp-status-paid"), "{}", paid.body);
    let codes: Vec<String> = paid
        .body
        .split("href=\"/biglietti/biglietto/")
        .skip(1)
        .filter_map(|r| r.split('"').next())
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 2, "{}", paid.body);
    let ticket = visitor
        .get(&visitor.url(HOST, &format!("/biglietti/biglietto/{}", codes[0])))
        .await;
    assert_eq!(ticket.status, StatusCode::OK);
    assert!(ticket.body.contains("<svg role=\"img\""), "{}", ticket.body);
    // The entrance: looked up, let in; the second time, already used.
    let look = admin
        .get(&admin.url(
            HOST,
            &format!("/console/biglietti/valida?codice={}", codes[0]),
        ))
        .await;
    assert_eq!(look.status, StatusCode::OK, "{}", look.body);
    assert!(look.body.contains("Museo della Grafica"));
    let first = admin
        .post(
            &admin.url(HOST, "/console/biglietti/valida"),
            &[("csrf", &csrf), ("codice", &codes[0])],
        )
        .await;
    assert!(
        first.url.contains("esito=ammesso"),
        "{} {}",
        first.url,
        first.body
    );
    let second = admin
        .post(
            &admin.url(HOST, "/console/biglietti/valida"),
            &[("csrf", &csrf), ("codice", &codes[0])],
        )
        .await;
    assert!(second.url.contains("esito=usato"), "{}", second.url);
    assert!(
        second.body.contains("Biglietto già usato"),
        "{}",
        second.body
    );
    let used = visitor
        .get(&visitor.url(HOST, &format!("/biglietti/biglietto/{}", codes[0])))
        .await;
    assert!(used.body.contains("id=\"ticket-used\""));
    // Calci's staff: no such ticket, no such order.
    let mut calci = signed_in(
        &app,
        Realm::Commune(CALCI),
        "calci.localhost",
        "admin@comune.calci.pi.it",
        "admin",
    )
    .await;
    let theirs = calci
        .get(&calci.url(
            "calci.localhost",
            &format!("/console/biglietti/valida?codice={}", codes[1]),
        ))
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let order_elsewhere = calci
        .get(&bought.url.replace(HOST, "calci.localhost"))
        .await;
    assert_eq!(order_elsewhere.status, StatusCode::NOT_FOUND);
}
