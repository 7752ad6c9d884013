//! Subscriptions to events of interest: a commune publishes kinds of event, citizens subscribe
//! by e-mail and/or SMS (each channel proven and consented), staff allowed to send one send a
//! message to the subscribers through the outbox; other communes see nothing of it.

use sportello_domain::TenantId;
use sportello_store::outbox::Status;
use sportello_store::staff::Realm;
use sportello_tests::StatusCode;
use sportello_tests::sms_gateway::SmsGateway;

use crate::notify::{admin_of, code_in, configure_gateway, messages, settle};

const PISA: TenantId = TenantId(50026);

#[tokio::test]
async fn citizens_subscribe_to_notices_and_staff_send_to_them_through_the_outbox() {
    let (app, mail) = crate::identity::app_with_mail().await;
    let gw = SmsGateway::start("pisa-token").await;
    let mut admin = admin_of(&app, PISA, "pisa.localhost").await;
    configure_gateway(&mut admin, &gw, "report-secret-of-pisa").await;
    // Pisa publishes a kind of event; an id that is no slug is refused by its field.
    let page = admin
        .get(&admin.url("pisa.localhost", "/console/avvisi"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.input("csrf").unwrap();
    let topics = admin.url("pisa.localhost", "/console/avvisi");
    let bad = admin
        .post(
            &topics,
            &[
                ("id", "Lavori Stradali!"),
                ("name", "Lavori"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("-id-error\""), "{}", bad.body);
    let ok = admin
        .post(
            &topics,
            &[
                ("id", "lavori-stradali"),
                ("name", "Lavori stradali"),
                ("name_en", "Road works"),
                ("description", "Chiusure e deviazioni per cantieri."),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(ok.url.contains("esito=salvato"), "{}", ok.body);

    // Anna: no channel she has not proven and consented to.
    let (mut anna, p) = crate::identity::anna_at_pisa(&app, &mail).await;
    assert!(p.body.contains("Lavori stradali"), "{}", p.body);
    let acsrf = p.input("csrf").unwrap();
    let subscribe = anna.url("pisa.localhost", "/area-personale/avvisi");
    let refused = anna
        .post(
            &subscribe,
            &[("email:lavori-stradali", "yes"), ("csrf", &acsrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("tp-email-lavori-stradali-error"),
        "{}",
        refused.body
    );
    // Her confirmed account address with consent, and a mobile proven by SMS.
    let contacts = anna.url("pisa.localhost", "/area-personale/contatti");
    let saved = anna
        .post(
            &contacts,
            &[
                ("email", "anna@example.org"),
                ("email_consent", "yes"),
                ("mobile", "+39 347 555 0101"),
                ("sms_consent", "yes"),
                ("csrf", &acsrf),
            ],
        )
        .await;
    assert!(saved.url.ends_with("?verifica=1"), "{}", saved.body);
    let code = code_in(&gw.wait_for(1, 10).await[0].text);
    let verify = anna.url("pisa.localhost", "/area-personale/contatti/verifica");
    let proven = anna
        .post(&verify, &[("csrf", &acsrf), ("code", &code)])
        .await;
    assert!(proven.url.ends_with("?salvato=1"), "{}", proven.body);
    let subscribed = anna
        .post(
            &subscribe,
            &[
                ("email:lavori-stradali", "yes"),
                ("sms:lavori-stradali", "yes"),
                ("csrf", &acsrf),
            ],
        )
        .await;
    assert!(subscribed.url.ends_with("?avvisi=1"), "{}", subscribed.body);
    assert!(
        subscribed
            .body
            .contains("name=\"sms:lavori-stradali\" value=\"yes\" checked"),
        "{}",
        subscribed.body
    );

    // Calci: not its notices; no send to a kind it does not have.
    let (_, calci_area) = (
        (),
        anna.get(&anna.url("calci.localhost", "/area-personale"))
            .await,
    );
    assert!(!calci_area.body.contains("Lavori stradali"));
    let mut calci = admin_of(&app, TenantId(50003), "calci.localhost").await;
    let cpage = calci
        .get(&calci.url("calci.localhost", "/console/avvisi"))
        .await;
    assert!(!cpage.body.contains("lavori-stradali"));
    let ccsrf = cpage.input("csrf").unwrap();
    let foreign = calci
        .post(
            &calci.url("calci.localhost", "/console/avvisi/lavori-stradali/invia"),
            &[("text", "Prova"), ("csrf", &ccsrf)],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    // A clerk may not send to subscribers (the template gives it to administrators).
    let mut clerk = crate::actors::signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "impiegato@pisa.example",
        "clerk",
    )
    .await;
    let denied = clerk
        .get(&clerk.url("pisa.localhost", "/console/avvisi"))
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    // The administrator sends: an e-mail and an SMS to Anna, from Pisa, through the outbox.
    let send = admin.url("pisa.localhost", "/console/avvisi/lavori-stradali/invia");
    let sent = admin
        .post(
            &send,
            &[
                ("text", "Lunedì 14 via Roma chiusa per lavori."),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(sent.url.contains("esito=inviato"), "{}", sent.body);
    let sms = gw.wait_for(2, 10).await;
    assert_eq!(sms.len(), 2);
    assert_eq!(sms[1].to, "+393475550101");
    assert!(sms[1].text.contains("via Roma chiusa"), "{}", sms[1].text);
    let rows = settle(&app, PISA, 10, |r| {
        r.iter()
            .filter(|m| m.template == "topic_message")
            .all(|m| m.status == Status::Delivered || m.provider_id.is_some())
    })
    .await;
    let sent_rows: Vec<_> = rows
        .iter()
        .filter(|m| m.template == "topic_message")
        .collect();
    assert_eq!(sent_rows.len(), 2, "{sent_rows:?}");
    let m = mail
        .messages()
        .into_iter()
        .find(|m| m.contains("Lavori stradali"))
        .expect("the notice by mail");
    assert!(m.contains("To: anna@example.org"), "{m}");

    // Unsubscribed (no box ticked): the next send reaches nobody.
    let off = anna.post(&subscribe, &[("csrf", &acsrf)]).await;
    assert!(off.url.ends_with("?avvisi=1"), "{}", off.body);
    admin
        .post(&send, &[("text", "Riaperta."), ("csrf", &csrf)])
        .await;
    let later = messages(&app, PISA).await;
    assert_eq!(
        later
            .iter()
            .filter(|m| m.template == "topic_message")
            .count(),
        2
    );
    // At most ten sends an hour per commune.
    for _ in 0..8 {
        admin
            .post(&send, &[("text", "Ancora."), ("csrf", &csrf)])
            .await;
    }
    let limited = admin
        .post(&send, &[("text", "Troppi."), ("csrf", &csrf)])
        .await;
    assert_eq!(limited.status, StatusCode::FORBIDDEN, "{}", limited.body);
}
