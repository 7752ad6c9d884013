//! IMU through the services and the real server: the administrator publishes a year's rates
//! (bounds of the law refused by field); anyone works out a year's tax on the commune's site
//! (the F24 lines, June at last year's rates); a signed-in person keeps properties and a
//! position per year, marks an instalment paid; another person, another commune see nothing.

use sportello_authz::Role;
use sportello_domain::AssuranceLevel;
use sportello_kernel::{Error, Why};
use sportello_payments::imu::calculator::PropertyInput;
use sportello_payments::imu::position;
use sportello_payments::imu::rates::{self, RatesForm};
use sportello_store::staff::Realm;
use sportello_tests::StatusCode;
use sportello_tests::browser::Browser;

use crate::actors::signed_in;
use crate::cases::{CALCI, PISA, citizen, world};
use crate::cases_office::staff;

pub fn rates_form(year: &str, other: &str) -> RatesForm {
    RatesForm {
        year: year.into(),
        main_dwelling: "6".into(),
        detraction: "200".into(),
        other_buildings: other.into(),
        group_d: "10,6".into(),
        rural: "1".into(),
        buildable_land: "10,6".into(),
        agricultural_land: "7,6".into(),
        minimum: "12".into(),
    }
}

fn flat(amount: &str) -> PropertyInput {
    PropertyInput {
        label: "Appartamento al mare".into(),
        kind: "building".into(),
        category: "A/2".into(),
        amount: amount.into(),
        share: "100".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn rates_within_the_law_and_a_persons_position_kept_per_year() {
    let w = world().await;
    let admin = staff(&w, PISA, "tributi@comune.pisa.it", Role::Admin, None).await;
    // Out of the law's bounds, all named at once; nothing written.
    let e = rates::save(
        &w.deps,
        &admin,
        &RatesForm {
            main_dwelling: "7".into(),
            group_d: "5".into(),
            rural: "abc".into(),
            ..rates_form("1999", "10,6")
        },
    )
    .await
    .unwrap_err();
    for (f, why) in [
        ("year", Why::OutOfRange),
        ("main_dwelling", Why::OutOfRange),
        ("group_d", Why::OutOfRange),
        ("rural", Why::NumberInvalid),
    ] {
        assert!(e.refuses(f, why), "{f}: {e:?}");
    }
    assert!(rates::all(&w.deps, PISA).await.unwrap().is_empty());
    // 2025 at 8,6 ‰ and 2026 at 10,6 ‰ for other buildings.
    rates::save(&w.deps, &admin, &rates_form("2025", "8,6"))
        .await
        .unwrap();
    rates::save(&w.deps, &admin, &rates_form("2026", "10,6"))
        .await
        .unwrap();
    // A clerk does not publish rates.
    let clerk = staff(&w, PISA, "sportello@comune.pisa.it", Role::Clerk, None).await;
    assert!(matches!(
        rates::save(&w.deps, &clerk, &rates_form("2027", "10,6")).await,
        Err(Error::Refused("refused_role"))
    ));
    // Anna keeps her flat (500 € of income) and works out 2026: 84.000 € base; June at 2025's
    // 8,6 ‰ for six months: 361,20 € → 361; the year 890,40 €; December 529.
    let anna = citizen(&w, PISA, "VRDNNA80A41G702X", AssuranceLevel::Substantial).await;
    let bad = position::add(
        &w.deps,
        PISA,
        &anna,
        &PropertyInput {
            category: "Z/9".into(),
            ..flat("500")
        },
    )
    .await
    .unwrap_err();
    assert!(bad.refuses("category", Why::NotOneOf));
    // A shop is no main dwelling; two main dwellings are one too many.
    let shop = PropertyInput {
        category: "C/1".into(),
        main_dwelling: true,
        ..flat("900")
    };
    let e = position::add(&w.deps, PISA, &anna, &shop)
        .await
        .unwrap_err();
    assert!(e.refuses("main", Why::MainDwellingOnly), "{e:?}");
    let home = PropertyInput {
        main_dwelling: true,
        ..flat("700")
    };
    let e = sportello_payments::imu::calculator::read_all(&[home.clone(), home]).unwrap_err();
    assert!(e.refuses("p2_main", Why::OneMainDwelling), "{e:?}");
    position::add(&w.deps, PISA, &anna, &flat("500,00"))
        .await
        .unwrap();
    let c = position::calculate(&w.deps, PISA, &anna, 2026)
        .await
        .unwrap();
    assert_eq!(c.assessment.year_cents, 89_040);
    assert!(c.june_on_last_year);
    assert_eq!(
        (
            c.assessment.lines[0].june_euros,
            c.assessment.lines[0].december_euros
        ),
        (361, 529)
    );
    // A year the commune published no rates for: said so.
    assert!(matches!(
        position::calculate(&w.deps, PISA, &anna, 2030).await,
        Err(Error::Refused("refused_imu_no_rates"))
    ));
    // The June instalment noted paid; a day to come is refused.
    position::mark_paid(&w.deps, PISA, &anna, 2026, true, "2026-06-16")
        .await
        .unwrap();
    let e = position::mark_paid(&w.deps, PISA, &anna, 2026, false, "2999-12-16")
        .await
        .unwrap_err();
    assert!(e.refuses("paid_on", Why::DateTooLate));
    let (props, positions) = position::mine(&w.deps, PISA, &anna).await.unwrap();
    assert_eq!(props.len(), 1);
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].june_paid_on.as_deref(), Some("2026-06-16"));
    assert_eq!(
        (positions[0].june_euros, positions[0].december_euros),
        (361, 529)
    );
    // Calculating again keeps the paid mark.
    position::calculate(&w.deps, PISA, &anna, 2026)
        .await
        .unwrap();
    let (_, positions) = position::mine(&w.deps, PISA, &anna).await.unwrap();
    assert_eq!(positions[0].june_paid_on.as_deref(), Some("2026-06-16"));
    // Another person sees none of it and cannot remove Anna's flat; in Calci Anna has nothing.
    let bruno = citizen(&w, PISA, "BNCLRA90M41G702E", AssuranceLevel::Substantial).await;
    let (p, q) = position::mine(&w.deps, PISA, &bruno).await.unwrap();
    assert!(p.is_empty() && q.is_empty());
    assert!(matches!(
        position::remove(&w.deps, PISA, &bruno, &props[0].id).await,
        Err(Error::NotFound)
    ));
    let (p, q) = position::mine(&w.deps, CALCI, &anna).await.unwrap();
    assert!(p.is_empty() && q.is_empty());
    position::remove(&w.deps, PISA, &anna, &props[0].id)
        .await
        .unwrap();
}

#[tokio::test]
async fn anyone_works_out_the_years_imu_on_the_communes_site() {
    let app = sportello_tests::spawn_app().await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "admin@comune.pisa.it",
        "admin",
    )
    .await;
    let page = admin
        .get(&admin.url("pisa.localhost", "/console/imu"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.input("csrf").unwrap();
    let f = rates_form("2026", "10,6");
    let saved = admin
        .post(
            &admin.url("pisa.localhost", "/console/imu"),
            &[
                ("csrf", csrf.as_str()),
                ("year", &f.year),
                ("main_dwelling", &f.main_dwelling),
                ("detraction", &f.detraction),
                ("other_buildings", &f.other_buildings),
                ("group_d", &f.group_d),
                ("rural", &f.rural),
                ("buildable_land", &f.buildable_land),
                ("agricultural_land", &f.agricultural_land),
                ("minimum", &f.minimum),
            ],
        )
        .await;
    assert!(saved.url.contains("esito=salvato"), "{}", saved.body);
    let mut visitor = Browser::new(app.addr);
    let calc = visitor.get(&visitor.url("pisa.localhost", "/imu")).await;
    assert_eq!(calc.status, StatusCode::OK);
    assert!(calc.body.contains("10,6 ‰"), "{}", calc.body);
    let vcsrf = calc.input("csrf").unwrap();
    // A wrong category: the field says so.
    let wrong = visitor
        .post(
            &visitor.url("pisa.localhost", "/imu"),
            &[
                ("csrf", vcsrf.as_str()),
                ("anno", "2026"),
                ("p1_kind", "building"),
                ("p1_category", "Q/1"),
                ("p1_amount", "500"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    assert!(wrong.body.contains("aria-invalid=\"true\""));
    // A D/1 of 10.000 € of income: 682.500 € at 10,6 ‰ = 7.234,50 €; the State's 7,6 ‰ on
    // 3925 and the commune's 3 ‰ on 3930, half each in June (no 2025 rates: this year's).
    let done = visitor
        .post(
            &visitor.url("pisa.localhost", "/imu"),
            &[
                ("csrf", vcsrf.as_str()),
                ("anno", "2026"),
                ("p1_kind", "building"),
                ("p1_category", "D/1"),
                ("p1_amount", "10.000,00".replace('.', "").as_str()),
                ("p1_share", "100"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("€ 7.234,50"), "{}", done.body);
    assert!(done.body.contains("3925") && done.body.contains("3930"));
    assert!(
        done.body.contains("€ 2.594,00") && done.body.contains("€ 1.024,00"),
        "{}",
        done.body
    );
    // Calci published nothing: its page says so.
    let calci = visitor.get(&visitor.url("calci.localhost", "/imu")).await;
    assert!(calci.body.contains("id=\"imu-no-rates\""));
    // The personal page needs a sign-in.
    let mine = visitor
        .get_once(&visitor.url("pisa.localhost", "/area-personale/imu"))
        .await;
    assert_eq!(mine.status, StatusCode::SEE_OTHER);
}
