//! Tickets against the Stripe-compatible test server: a hundred buyers for the last ten seats
//! buy exactly ten; seats nobody pays for go back on sale; the tickets come by e-mail, each
//! with its code, and let one person in once; another commune does not see them.

use sea_orm::ConnectionTrait;
use sportello_authz::Role;
use sportello_kernel::{Actor, Error, Why};
use sportello_payments::online::sweep;
use sportello_payments::online::webhook::Received;
use sportello_payments::settings;
use sportello_payments::tickets::buy::{self, Buy};
use sportello_payments::tickets::entrance::{self, Admission};
use sportello_payments::tickets::offers::{self, OfferForm};
use sportello_tests::stripe::FakeStripe;

use crate::cases::{CALCI, PISA, World};
use crate::cases_office::staff;
use crate::payments_stripe::{WEBHOOK_SECRET, account, now, receive, stripe_world};

/// Pisa sells the Museo della Grafica (8,00 € a ticket, at most 20 an order), tomorrow at
/// 10:30 for `capacity` people; gives the administrator and the slot's id.
pub async fn museum(w: &World, fake: &FakeStripe, capacity: i32) -> (Actor, String) {
    let admin = staff(w, PISA, "musei@comune.pisa.it", Role::Admin, None).await;
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
    offers::save(
        &w.deps,
        &admin,
        &OfferForm {
            id: "museo-grafica".into(),
            title: "Museo della Grafica".into(),
            place: "Palazzo Lanfranchi, Lungarno Galilei 9".into(),
            price: "8".into(),
            max_per_order: "20".into(),
            active: true,
            editing: false,
        },
    )
    .await
    .unwrap();
    let tomorrow = sportello_payments::today().succ_opt().unwrap().to_string();
    offers::add_slot(
        &w.deps,
        &admin,
        "museo-grafica",
        &tomorrow,
        "10:30",
        &capacity.to_string(),
    )
    .await
    .unwrap();
    let v = offers::for_staff(&w.deps, &admin, "museo-grafica")
        .await
        .unwrap();
    (admin, v.slots[0].slot.id.clone())
}

pub fn buy(slot: &str, quantity: &str, email: &str) -> Buy {
    Buy {
        slot: slot.into(),
        quantity: quantity.into(),
        email: email.into(),
        name: String::new(),
    }
}

/// Stripe says the order's intent was paid, by its event.
async fn pay(w: &World, fake: &FakeStripe, order: &str) {
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let o = tx.db().ticket_order(order).await.unwrap().unwrap();
    let p = tx.db().payment(&o.payment_id).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    let e = fake.succeed(p.intent_id.as_deref().unwrap());
    assert_eq!(
        receive(&w.deps, &e, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "paid"))
    );
}

async fn taken(w: &World, slot: &str) -> i32 {
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let s = tx.db().ticket_slot(slot).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    s.taken
}

#[tokio::test]
async fn a_hundred_buyers_for_the_last_ten_seats_buy_exactly_ten() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (admin, slot) = museum(&w, &fake, 50).await;
    // Forty seats sold first, in two orders.
    for i in 0..2 {
        let (order, _) = buy::reserve(
            &w.deps,
            PISA,
            "museo-grafica",
            &buy(&slot, "20", &format!("gruppo{i}@example.org")),
        )
        .await
        .unwrap();
        pay(&w, &fake, &order).await;
    }
    // A hundred buyers at once for the ten left.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..100 {
        let (deps, slot) = (w.deps.clone(), slot.clone());
        set.spawn(async move {
            let b = buy(&slot, "1", &format!("turista{i}@example.org"));
            buy::reserve(&deps, PISA, "museo-grafica", &b).await
        });
    }
    let results = set.join_all().await;
    let orders: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|(o, _)| o.clone()))
        .collect();
    assert_eq!(
        orders.len(),
        10,
        "{:?}",
        results
            .iter()
            .filter(|r| r.is_err())
            .take(3)
            .collect::<Vec<_>>()
    );
    // The others are told how many are left, by the field: none.
    for r in results.iter().filter(|r| r.is_err()) {
        match r {
            Err(Error::Invalid(p)) => {
                assert!(p.has("quantity", Why::OutOfRange));
                assert_eq!(p.0[0].arg, "0");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(taken(&w, &slot).await, 50);
    for o in &orders {
        pay(&w, &fake, o).await;
    }
    let v = offers::for_staff(&w.deps, &admin, "museo-grafica")
        .await
        .unwrap();
    assert_eq!((v.slots[0].sold, v.slots[0].free), (50, 0));
    // Fifty tickets, one per seat; twelve messages, one per order.
    let owner = sportello_store::Store::connect(&w.db.admin_url)
        .await
        .unwrap();
    let count = |sql: &str| {
        let sql = sql.to_owned();
        let owner = &owner;
        async move {
            let r = owner
                .raw_connection()
                .query_one_raw(sea_orm::Statement::from_string(
                    owner.raw_connection().get_database_backend(),
                    sql,
                ))
                .await
                .unwrap()
                .unwrap();
            r.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(count("SELECT count(*) FROM tickets").await, 50);
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE template = 'tickets_bought'").await,
        12
    );
}

#[tokio::test]
async fn seats_nobody_pays_for_go_back_on_sale_and_a_wrong_order_is_refused_by_its_fields() {
    let fake = FakeStripe::start();
    let w = crate::payments_stripe::stripe_world_with(&fake, |s| {
        s.stripe.ticket_hold_seconds = 0;
    })
    .await;
    let (_, slot) = museum(&w, &fake, 2).await;
    // Wrong in every field: all named at once, nothing taken.
    let e = buy::reserve(
        &w.deps,
        PISA,
        "museo-grafica",
        &Buy {
            slot: "another".into(),
            quantity: "0".into(),
            email: "not an address".into(),
            name: "x".repeat(201),
        },
    )
    .await
    .unwrap_err();
    for (f, why) in [
        ("email", Why::EmailInvalid),
        ("name", Why::TooLong),
        ("quantity", Why::OutOfRange),
        ("slot", Why::NotOneOf),
    ] {
        assert!(e.refuses(f, why), "{f}: {e:?}");
    }
    assert_eq!(taken(&w, &slot).await, 0);
    // More than one order may take.
    let e = buy::reserve(
        &w.deps,
        PISA,
        "museo-grafica",
        &buy(&slot, "21", "a@example.org"),
    )
    .await
    .unwrap_err();
    assert!(e.refuses("quantity", Why::OutOfRange));
    // Two seats held by an order nobody pays: a third buyer is told none are left.
    let (held, key) = buy::reserve(
        &w.deps,
        PISA,
        "museo-grafica",
        &buy(&slot, "2", "a@example.org"),
    )
    .await
    .unwrap();
    let e = buy::reserve(
        &w.deps,
        PISA,
        "museo-grafica",
        &buy(&slot, "1", "b@example.org"),
    )
    .await
    .unwrap_err();
    assert!(e.refuses("quantity", Why::OutOfRange));
    // The order's page needs its key.
    assert!(matches!(
        buy::view(&w.deps, PISA, &held, "wrong").await,
        Err(Error::NotFound)
    ));
    let v = buy::view(&w.deps, PISA, &held, &key).await.unwrap();
    assert!(v.client_secret.is_some());
    assert_eq!(v.total.cents(), 1700);
    // The hold ends: the sweeper gives the payment up at Stripe, the seats go back.
    sweep::sweep(&w.deps).await.unwrap();
    assert_eq!(taken(&w, &slot).await, 0);
    let v = buy::view(&w.deps, PISA, &held, &key).await.unwrap();
    assert_eq!(
        (v.order.status.as_str(), v.client_secret),
        ("released", None)
    );
    let intent = fake.intent_ids().pop().unwrap();
    assert_eq!(fake.intent(&intent).unwrap().1["status"], "canceled");
    buy::reserve(
        &w.deps,
        PISA,
        "museo-grafica",
        &buy(&slot, "2", "b@example.org"),
    )
    .await
    .unwrap();
    assert_eq!(taken(&w, &slot).await, 2);
}

#[tokio::test]
async fn a_ticket_lets_one_person_in_once_and_only_at_its_communes_entrance() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (admin, slot) = museum(&w, &fake, 30).await;
    let (order, key) = buy::reserve(
        &w.deps,
        PISA,
        "museo-grafica",
        &buy(&slot, "2", "Visitor@Example.org"),
    )
    .await
    .unwrap();
    // Not paid yet: no tickets.
    assert!(
        buy::view(&w.deps, PISA, &order, &key)
            .await
            .unwrap()
            .tickets
            .is_empty()
    );
    pay(&w, &fake, &order).await;
    let v = buy::view(&w.deps, PISA, &order, &key).await.unwrap();
    assert_eq!(v.order.status, "paid");
    assert_eq!(v.tickets.len(), 2);
    assert!(v.receipt.is_some());
    let code = v.tickets[0].code.clone();
    // The message names each ticket's page.
    let owner = sportello_store::Store::connect(&w.db.admin_url)
        .await
        .unwrap();
    let row = owner
        .raw_connection()
        .query_one_raw(sea_orm::Statement::from_string(
            owner.raw_connection().get_database_backend(),
            "SELECT recipient, payload FROM messages WHERE template = 'tickets_bought'".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    let to: String = row.try_get("", "recipient").unwrap();
    assert_eq!(to, "visitor@example.org");
    let sealed: String = row.try_get("", "payload").unwrap();
    let payload = String::from_utf8(w.deps.secrets.open(&sealed).unwrap()).unwrap();
    for t in &v.tickets {
        assert!(
            payload.contains(&format!("/biglietti/biglietto/{}", t.code)),
            "{payload}"
        );
    }
    // At the entrance: typed as printed, let in once; the second time says when.
    let typed = sportello_payments::tickets::grouped_code(&code).to_lowercase();
    let door = entrance::look(&w.deps, &admin, &typed).await.unwrap();
    assert_eq!(door.offer.title, "Museo della Grafica");
    assert!(door.other_day);
    assert_eq!(
        entrance::admit(&w.deps, &admin, &typed).await.unwrap(),
        Admission::Admitted
    );
    assert!(matches!(
        entrance::admit(&w.deps, &admin, &code).await.unwrap(),
        Admission::AlreadyUsed(_)
    ));
    // The other ticket of the order is still good.
    assert_eq!(
        entrance::admit(&w.deps, &admin, &v.tickets[1].code)
            .await
            .unwrap(),
        Admission::Admitted
    );
    // Unknown codes, another commune's staff, an intermediary: nothing.
    assert!(matches!(
        entrance::admit(&w.deps, &admin, "AAAABBBBCCCCDDDD").await,
        Err(Error::NotFound)
    ));
    let calci = staff(&w, CALCI, "musei@comune.calci.pi.it", Role::Admin, None).await;
    assert!(matches!(
        entrance::look(&w.deps, &calci, &code).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        buy::view(&w.deps, CALCI, &order, &key).await,
        Err(Error::NotFound)
    ));
    let caf = staff(&w, PISA, "caf@example.org", Role::Intermediary, None).await;
    assert!(matches!(
        entrance::admit(&w.deps, &caf, &code).await,
        Err(Error::Refused("refused_role"))
    ));
    // A slot in the past is not offered.
    let yesterday = sportello_payments::today().pred_opt().unwrap().to_string();
    let e = offers::add_slot(&w.deps, &admin, "museo-grafica", &yesterday, "10:00", "10")
        .await
        .unwrap_err();
    assert!(e.refuses("day", Why::DateTooEarly));
}

#[tokio::test]
async fn a_refunded_order_lets_nobody_in_and_its_seats_go_back_on_sale() {
    let fake = FakeStripe::start();
    let w = stripe_world(&fake).await;
    let (admin, slot) = museum(&w, &fake, 10).await;
    let (order, key) = buy::reserve(
        &w.deps,
        PISA,
        "museo-grafica",
        &buy(&slot, "3", "v@example.org"),
    )
    .await
    .unwrap();
    pay(&w, &fake, &order).await;
    let v = buy::view(&w.deps, PISA, &order, &key).await.unwrap();
    assert_eq!(taken(&w, &slot).await, 3);
    // A part refunded (a goodwill gesture): the tickets stay good.
    let payment = v.order.payment_id.clone();
    sportello_payments::refunds::refund(
        &w.deps,
        &admin,
        &payment,
        &sportello_payments::refunds::Ask {
            amount: "1",
            reason: "Sala chiusa in parte",
            refund_fee: false,
        },
    )
    .await
    .unwrap();
    assert!(
        buy::view(&w.deps, PISA, &order, &key)
            .await
            .unwrap()
            .tickets
            .iter()
            .all(|t| t.voided_at.is_none())
    );
    // The rest of the tickets' price, under way at the bank: the tickets stay good meanwhile;
    // once Stripe says it went through, they are void and the seats free again.
    fake.hold_refunds();
    sportello_payments::refunds::refund(
        &w.deps,
        &admin,
        &payment,
        &sportello_payments::refunds::Ask {
            amount: "23",
            reason: "Evento annullato",
            refund_fee: true,
        },
    )
    .await
    .unwrap();
    let v = buy::view(&w.deps, PISA, &order, &key).await.unwrap();
    assert_eq!(v.order.status, "paid");
    assert_eq!(taken(&w, &slot).await, 3);
    let re = fake.refunds().pop().unwrap().1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = fake.settle_refund(&re, true);
    assert_eq!(
        receive(&w.deps, &done, &[WEBHOOK_SECRET], now()).await,
        Ok(Received::Applied(PISA, "refund_moved"))
    );
    let v = buy::view(&w.deps, PISA, &order, &key).await.unwrap();
    assert_eq!(v.order.status, "refunded");
    assert!(v.tickets.iter().all(|t| t.voided_at.is_some()));
    assert_eq!(taken(&w, &slot).await, 0);
    assert!(matches!(
        entrance::admit(&w.deps, &admin, &v.tickets[0].code).await,
        Err(Error::Refused("refused_ticket_void"))
    ));
    // A clerk reads the entrance but does not let people in.
    let clerk = staff(&w, PISA, "sala@comune.pisa.it", Role::Clerk, None).await;
    assert!(
        entrance::look(&w.deps, &clerk, &v.tickets[1].code)
            .await
            .is_ok()
    );
    assert!(matches!(
        entrance::admit(&w.deps, &clerk, &v.tickets[1].code).await,
        Err(Error::Refused("refused_role"))
    ));
}
