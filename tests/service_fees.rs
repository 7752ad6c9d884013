//! Paying for a service as the last step of its case, against the Stripe-compatible test
//! server: a service paid after is submitted at once and waits for its payment (the notice in
//! "Da pagare", with the stamp duty unless an exemption the commune offers is declared); a
//! service paid before is refused until its fee is paid, then submitted; another person cannot
//! pay on someone's draft.

use sea_orm::ConnectionTrait;
use sportello_authz::Role;
use sportello_cases::draft::{self, Step};
use sportello_cases::filer::Filer;
use sportello_cases::{follow, submit};
use sportello_domain::{AssuranceLevel, Language};
use sportello_kernel::session::Current;
use sportello_kernel::{Error, Why};
use sportello_payments::fees::{self, FeeForm};
use sportello_payments::online::webhook::Received;
use sportello_payments::settings;
use sportello_tests::stripe::FakeStripe;

use crate::cases::{PISA, World, citizen, raw};
use crate::cases_office::staff;
use crate::payments_stripe::{WEBHOOK_SECRET, account, now, receive, stripe_world};

const BASE: &str = "http://pisa.localhost:8080";

/// Pisa takes payments for services; "segnalazioni" costs 10,00 € and is paid `mode`, with
/// the stamp duty and two exemptions.
async fn set_up(w: &World, fake: &FakeStripe, mode: &str) {
    let admin = staff(w, PISA, "tributi@comune.pisa.it", Role::Admin, None).await;
    settings::save(
        &w.deps,
        &admin,
        &settings::SettingsForm {
            stripe_account: account(fake).await,
            ..crate::payments::set_up_form(&["canteen"])
        },
    )
    .await
    .unwrap();
    let owner = sportello_store::Store::connect(&w.db.admin_url)
        .await
        .unwrap();
    owner
        .raw_connection()
        .execute_unprepared("UPDATE services SET cost_cents = 1000 WHERE id = 'segnalazioni'")
        .await
        .unwrap();
    let form = FeeForm {
        mode: mode.into(),
        stamp_duty: true,
        exemptions: "Organizzazione del Terzo settore\nAtti per minori".into(),
    };
    // The "services" kind is off: said so, nothing saved.
    assert!(matches!(
        fees::save(&w.deps, &admin, "segnalazioni", &form).await,
        Err(Error::Refused("refused_service_kind_off"))
    ));
    settings::save(
        &w.deps,
        &admin,
        &settings::SettingsForm {
            stripe_account: account(fake).await,
            ..crate::payments::set_up_form(&["canteen", "service"])
        },
    )
    .await
    .unwrap();
    fees::save(&w.deps, &admin, "segnalazioni", &form)
        .await
        .unwrap();
}

/// A report's draft filled to its summary; its id.
async fn filled(w: &World, who: &Current) -> String {
    let filer = Filer::citizen(who).unwrap();
    let f = draft::open(&w.deps, PISA, &filer, "segnalazioni", None)
        .await
        .unwrap();
    let first = raw(&[
        ("categoria", "altro"),
        ("oggetto", "Lampione spento"),
        (
            "descrizione",
            "Da una settimana il lampione davanti al civico è spento.",
        ),
        ("luogo", "Via Santa Maria 12"),
    ]);
    draft::save(&w.deps, PISA, &filer, "segnalazioni", 0, &first, Step::Next)
        .await
        .unwrap();
    draft::save(
        &w.deps,
        PISA,
        &filer,
        "segnalazioni",
        1,
        &raw(&[("email", "anna@example.org")]),
        Step::Next,
    )
    .await
    .unwrap();
    f.draft_id
}

async fn send(
    w: &World,
    who: &Current,
    draft: &str,
    exemption: Option<&str>,
) -> Result<submit::Submitted, Error> {
    submit::submit_with(
        &w.deps,
        PISA,
        &Filer::citizen(who).unwrap(),
        "segnalazioni",
        draft,
        Language::It,
        BASE,
        exemption,
    )
    .await
}

async fn fee_notice(w: &World, draft: &str) -> sportello_store::payments::Notice {
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let n = fees::notice_of(&tx.db(), draft).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    n
}

/// Stripe says the person's latest payment went through.
async fn pay_latest(w: &World, fake: &FakeStripe) {
    let intent = fake.intent_ids().pop().unwrap();
    let e = fake.succeed(&intent);
    assert_eq!(
        receive(&w.deps, &e, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "paid"))
    );
}

#[tokio::test]
async fn a_service_paid_after_is_submitted_at_once_and_waits_for_its_fee() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    set_up(&w, &fake, "after").await;
    let anna = citizen(&w, PISA, "VRDGPP80A01G702C", AssuranceLevel::Substantial).await;
    let d = filled(&w, &anna).await;
    // An exemption the commune does not offer: refused, nothing filed.
    let e = send(&w, &anna, &d, Some("Inventata")).await.unwrap_err();
    assert!(e.refuses("esenzione", Why::NotOneOf), "{e:?}");
    {
        let tx = w.deps.store.tenant_read(PISA).await.unwrap();
        assert!(tx.db().case_by_key(&d).await.unwrap().is_none());
        assert!(fees::notice_of(&tx.db(), &d).await.unwrap().is_none());
        tx.commit().await.unwrap();
    }
    // Submitted: 10,00 € and the 16,00 € stamp duty asked, in "Da pagare".
    let s = send(&w, &anna, &d, None).await.unwrap();
    let n = fee_notice(&w, &d).await;
    assert_eq!((n.amount_cents, n.kind.as_str()), (2_600, "service"));
    assert_eq!(n.fiscal_code, "VRDGPP80A01G702C");
    assert!(n.reason.contains("imposta di bollo"), "{}", n.reason);
    let due = sportello_payments::due::mine(&w.deps, PISA, &anna)
        .await
        .unwrap()
        .unwrap();
    assert!(due.notices.iter().any(|x| x.number == n.notice_number));
    let v = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(v.fee.as_ref().unwrap().status, "open");
    assert!(v.events.iter().any(|e| e.kind == "fee_due"));
    // Paid online: the case says so.
    sportello_payments::online::pay::start(
        &w.deps,
        PISA,
        &anna,
        std::slice::from_ref(&n.notice_number),
    )
    .await
    .unwrap();
    pay_latest(&w, &fake).await;
    let v = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(v.fee.unwrap().status, "paid");
    // Submitting again finds the case, and asks nothing twice.
    let again = send(&w, &anna, &d, None).await.unwrap();
    assert!(again.repeated);
    // Bruno declares an exemption the commune offers: no stamp duty.
    let bruno = citizen(&w, PISA, "BNCLRA90M41G702E", AssuranceLevel::Substantial).await;
    let d2 = filled(&w, &bruno).await;
    send(&w, &bruno, &d2, Some("Atti per minori"))
        .await
        .unwrap();
    let n2 = fee_notice(&w, &d2).await;
    assert_eq!(n2.amount_cents, 1_000);
    assert!(
        n2.reason.contains("esente, Atti per minori"),
        "{}",
        n2.reason
    );
}

#[tokio::test]
async fn a_service_paid_before_is_refused_until_its_fee_is_paid() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    set_up(&w, &fake, "before").await;
    let anna = citizen(&w, PISA, "VRDGPP80A01G702C", AssuranceLevel::Substantial).await;
    let d = filled(&w, &anna).await;
    assert!(matches!(
        send(&w, &anna, &d, None).await,
        Err(Error::Refused("refused_pay_first"))
    ));
    // Someone else cannot pay on Anna's draft.
    let bruno = citizen(&w, PISA, "BNCLRA90M41G702E", AssuranceLevel::Substantial).await;
    assert!(matches!(
        fees::pay_first(&w.deps, PISA, &bruno, "segnalazioni", &d, None).await,
        Err(Error::NotFound)
    ));
    // Anna declares an exemption and pays 10,00 €; until Stripe says so, still refused, and
    // the draft cannot be thrown away while it is being paid.
    let pay = fees::pay_first(
        &w.deps,
        PISA,
        &anna,
        "segnalazioni",
        &d,
        Some("Atti per minori"),
    )
    .await
    .unwrap();
    assert_eq!(fee_notice(&w, &d).await.amount_cents, 1_000);
    assert!(matches!(
        send(&w, &anna, &d, None).await,
        Err(Error::Refused("refused_pay_first"))
    ));
    assert!(matches!(
        draft::discard(
            &w.deps,
            PISA,
            &Filer::citizen(&anna).unwrap(),
            "segnalazioni"
        )
        .await,
        Err(Error::Refused("refused_fee_paid_keep"))
    ));
    // Asked again: the same payment.
    assert_eq!(
        fees::pay_first(&w.deps, PISA, &anna, "segnalazioni", &d, None)
            .await
            .unwrap(),
        pay
    );
    pay_latest(&w, &fake).await;
    // Submitted (the summary no longer asks the exemption): the case records what was paid.
    let s = send(&w, &anna, &d, None).await.unwrap();
    let v = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap();
    let fee = v.fee.clone().unwrap();
    assert_eq!((fee.status.as_str(), fee.cents), ("paid", 1_000));
    assert!(
        fee.reason.contains("esente, Atti per minori"),
        "{}",
        fee.reason
    );
    assert!(v.events.iter().any(|e| e.kind == "fee_paid"));
    // Bruno's draft: an open fee goes with it when he throws it away.
    let d2 = filled(&w, &bruno).await;
    {
        let tx = w.deps.store.tenant(PISA).await.unwrap();
        let service = tx.db().service("segnalazioni").await.unwrap().unwrap();
        let q = fees::quote(&tx.db(), &service).await.unwrap().unwrap();
        fees::issue(
            &tx.db(),
            &service,
            &q,
            Some("BNCLRA90M41G702E"),
            "Clara Bianchi",
            &d2,
            None,
            "test",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    draft::discard(
        &w.deps,
        PISA,
        &Filer::citizen(&bruno).unwrap(),
        "segnalazioni",
    )
    .await
    .unwrap();
    assert_eq!(
        fee_notice(&w, &d2).await.status,
        sportello_store::payments::NoticeStatus::Cancelled
    );
}
