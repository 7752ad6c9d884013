//! The stamp duty paid before a certificate, where the commune takes payments for services
//! (against the Stripe-compatible test server): asking checks everything first and issues the
//! 16 € notice to the person; the certificate is refused until it is paid, then collected once,
//! by that person only; an exemption gives it at once.

use sportello_authz::Role;
use sportello_domain::AssuranceLevel;
use sportello_kernel::Error;
use sportello_payments::{duty, online, settings};
use sportello_population::certificates::{self, duty::Asked};
use sportello_tests::stripe::FakeStripe;

use crate::cases::{PISA, citizen};
use crate::cases_office::staff;
use crate::payments_stripe::{WEBHOOK_SECRET, account, now, receive, stripe_world};
use crate::registry::{pisa_registry, req};

#[tokio::test]
async fn a_certificate_on_stamped_paper_is_given_once_its_duty_is_paid() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    pisa_registry(&w).await;
    let giulia = citizen(&w, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    let mut paper = req("residence");
    paper.exemption = String::new();
    // Without payments for services the duty is recorded as due and the certificate given.
    let first = certificates::duty::ask(&w.deps, PISA, &giulia, &paper)
        .await
        .unwrap();
    assert!(matches!(first, Asked::Issued(_)));
    let admin = staff(&w, PISA, "tributi@comune.pisa.it", Role::Admin, None).await;
    settings::save(
        &w.deps,
        &admin,
        &settings::SettingsForm {
            stripe_account: account(&fake).await,
            ..crate::payments::set_up_form(&["canteen", "service"])
        },
    )
    .await
    .unwrap();

    // A certificate that could not be given asks for nothing.
    let mut stranger = paper.clone();
    stranger.subject = "RSSMRA80A01G702C".into();
    assert!(matches!(
        certificates::duty::ask(&w.deps, PISA, &giulia, &stranger).await,
        Err(Error::Invalid(_))
    ));
    let Asked::ToPay { request, notice } = certificates::duty::ask(&w.deps, PISA, &giulia, &paper)
        .await
        .unwrap()
    else {
        panic!("the duty first");
    };
    // Asked again while unpaid (a second click): the same request and notice.
    let Asked::ToPay {
        request: r2,
        notice: n2,
    } = certificates::duty::ask(&w.deps, PISA, &giulia, &paper)
        .await
        .unwrap()
    else {
        panic!("the duty first");
    };
    assert_eq!((&r2, &n2), (&request, &notice));
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let n = duty::notice_of(&tx.db(), &request).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(n.notice_number, notice);
    assert_eq!(
        (n.amount_cents, n.fiscal_code.as_str()),
        (1_600, "BNCGLI85M52G702M")
    );
    assert!(n.reason.contains("Imposta di bollo"), "{}", n.reason);
    let due = sportello_payments::due::mine(&w.deps, PISA, &giulia)
        .await
        .unwrap()
        .unwrap();
    assert!(due.notices.iter().any(|x| x.number == notice));
    // Not paid: not given.
    assert!(matches!(
        certificates::duty::collect(&w.deps, PISA, &giulia, &request).await,
        Err(Error::Refused("refused_duty_unpaid"))
    ));
    let listed = certificates::duty::waiting(&w.deps, PISA, &giulia)
        .await
        .unwrap();
    assert_eq!((listed.len(), listed[0].paid), (1, false));

    online::pay::start(&w.deps, PISA, &giulia, std::slice::from_ref(&notice))
        .await
        .unwrap();
    let intent = fake.intent_ids().pop().unwrap();
    let e = fake.succeed(&intent);
    receive(&w.deps, &e, &[WEBHOOK_SECRET], now())
        .await
        .unwrap();
    assert!(
        certificates::duty::waiting(&w.deps, PISA, &giulia)
            .await
            .unwrap()[0]
            .paid
    );

    // Asked again once paid: it is there to collect, no second notice.
    assert!(matches!(
        certificates::duty::ask(&w.deps, PISA, &giulia, &paper).await,
        Err(Error::Refused("refused_duty_paid_collect"))
    ));
    // Someone else cannot collect it; Giulia can, once.
    let luca = citizen(&w, PISA, "VRDLCU83C10G702X", AssuranceLevel::Substantial).await;
    assert!(matches!(
        certificates::duty::collect(&w.deps, PISA, &luca, &request).await,
        Err(Error::NotFound)
    ));
    let issued = certificates::duty::collect(&w.deps, PISA, &giulia, &request)
        .await
        .unwrap();
    // It says the duty was paid, and by which notice.
    let text = crate::registry::text_of(&issued.pdf);
    assert!(
        text.contains("assolta") && text.contains(&notice) && !text.contains("dovuta"),
        "{text}"
    );
    // Collected again: the same file, no second certificate.
    let again = certificates::duty::collect(&w.deps, PISA, &giulia, &request)
        .await
        .unwrap();
    assert_eq!((again.number, &again.pdf), (issued.number, &issued.pdf));
    let rows = certificates::mine(&w.deps, PISA, &giulia).await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.number == issued.number && r.year == issued.year)
        .unwrap();
    assert_eq!(
        (row.stamp_duty_cents, row.exemption.as_deref()),
        (1_600, None)
    );
    let listed = certificates::duty::waiting(&w.deps, PISA, &giulia)
        .await
        .unwrap();
    assert_eq!(
        listed[0].request.certificate,
        Some(format!("{}/{}", issued.year, issued.number))
    );

    // With an exemption: at once, no notice.
    let exempt = certificates::duty::ask(&w.deps, PISA, &giulia, &req("residence"))
        .await
        .unwrap();
    assert!(matches!(exempt, Asked::Issued(_)));
    assert_eq!(
        certificates::duty::waiting(&w.deps, PISA, &giulia)
            .await
            .unwrap()
            .len(),
        1
    );
}
