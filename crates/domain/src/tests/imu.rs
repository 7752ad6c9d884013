//! IMU: the rules of L. 160/2019 art. 1 c. 738-783 checked one by one, then worked examples
//! published by communes and the Ministry (cited by each test).

use chrono::NaiveDate;

use super::*;

fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, day)
}

fn building(cat: &str, income_cents: i64) -> Asset {
    Asset::Building {
        category: Category::parse(cat).unwrap(),
        income_cents,
    }
}

fn held(asset: Asset, share: u32, (months, first): (u8, u8)) -> Holding {
    Holding {
        asset,
        share,
        months,
        months_first_half: first,
        main_dwelling: false,
        residents: 1,
        rural: false,
        exempt: false,
    }
}

fn whole_year(asset: Asset) -> Holding {
    held(asset, 10_000, (12, 6))
}

#[test]
fn categories_read_as_written_and_carry_the_laws_multipliers() {
    for (s, m) in [
        ("A/2", 160),
        ("a2", 160),
        (" C/6 ", 160),
        ("A/10", 80),
        ("D/5", 80),
        ("B/1", 140),
        ("C/3", 140),
        ("C/1", 55),
        ("D/1", 65),
        ("D/10", 65),
    ] {
        assert_eq!(Category::parse(s).unwrap().multiplier(), m, "{s}");
    }
    for s in ["", "A", "A/12", "E/1", "Z/1", "A/-1", "A/٣"] {
        assert!(Category::parse(s).is_err(), "{s:?}");
    }
    assert_eq!(Category::parse("a/08").unwrap().to_string(), "A/8");
}

#[test]
fn a_month_counts_for_more_than_half_its_days_and_the_buyer_keeps_a_split_month() {
    // Held the whole year.
    assert_eq!(months(2026, None, None), (12, 6));
    // Bought on 16 March (31 days: 16 held, more than half): March counts.
    assert_eq!(months(2026, d(2026, 3, 16), None), (10, 4));
    // Bought on 17 March: 15 days of 31, not more than half.
    assert_eq!(months(2026, d(2026, 3, 17), None), (9, 3));
    // April has 30 days: bought on the 16th, 15 days each: the buyer's month.
    assert_eq!(months(2026, d(2026, 4, 16), None), (9, 3));
    // ... and not the seller's (sold on 16 April: held 1-15).
    assert_eq!(months(2026, None, d(2026, 4, 16)), (3, 3));
    // Sold on 17 April: held 16 days of 30.
    assert_eq!(months(2026, None, d(2026, 4, 17)), (4, 4));
    // February 2028 (29 days): bought on the 15th holds 15 days, more than half.
    assert_eq!(months(2028, d(2028, 2, 15), None).0, 11);
    // Bought and sold within the year; a year outside the possession: nothing.
    assert_eq!(months(2026, d(2026, 2, 1), d(2026, 9, 1)), (7, 5));
    assert_eq!(months(2026, d(2027, 1, 1), None), (0, 0));
}

#[test]
fn the_f24_rounds_each_line_to_the_euro_down_to_49_cents_up_from_50() {
    assert_eq!(f24_euros(44_949), 4); // 4,49 €
    assert_eq!(f24_euros(45_000), 5); // 4,50 €
    assert_eq!(f24_euros(44_950), 5); // 4,4950 € is 4,50 € to the cent
    assert_eq!(f24_euros(0), 0);
}

#[test]
fn a_second_home_pays_the_other_buildings_rate_half_in_june() {
    // A/2, cadastral income 500,00 €: 500 × 1,05 × 160 = 84.000 €; at 10,6 ‰: 890,40 €.
    let rates = Rates {
        other_buildings: 1_060,
        ..Rates::BASE
    };
    let a = assess(&[whole_year(building("A/2", 50_000))], &rates, &rates);
    assert_eq!(a.holdings[0].base_cents, 8_400_000);
    assert_eq!(a.year_cents, 89_040);
    assert_eq!(
        a.lines,
        vec![F24Line {
            code: code::OTHER_BUILDINGS,
            june_euros: 445,
            december_euros: 445
        }]
    );
}

#[test]
fn a_main_dwelling_is_exempt_unless_of_luxury_and_its_appurtenances_follow_it() {
    let home = |cat: &str| Holding {
        main_dwelling: true,
        ..whole_year(building(cat, 100_000))
    };
    let garage = Holding {
        main_dwelling: true,
        ..whole_year(building("C/6", 10_000))
    };
    let plain = assess(&[home("A/3"), garage], &Rates::BASE, &Rates::BASE);
    assert!(plain.holdings.iter().all(|o| o.exempt));
    assert_eq!(plain.year_cents, 0);
    assert!(plain.lines.is_empty());
    // A/8, 1.000 € of income: 168.000 € at 5 ‰ = 840 €; the garage 16.800 € at 5 ‰ = 84 €;
    // less 200 €: 724 €, code 3912.
    let lux = assess(&[home("A/8"), garage], &Rates::BASE, &Rates::BASE);
    assert_eq!(lux.year_cents, 72_400);
    assert_eq!(lux.detraction_cents, 20_000);
    assert_eq!(
        lux.lines,
        vec![F24Line {
            code: code::MAIN_DWELLING,
            june_euros: 362,
            december_euros: 362
        }]
    );
    // Half owned, six months, its only resident: the detraction is the resident's whole, for
    // the months (c. 749; Comune di Bologna, https://imu.comune.bologna.it/?q=node%2F349: split
    // "in parti uguali" among the owners who live there, whatever their shares).
    let half = Holding {
        share: 5_000,
        months: 6,
        months_first_half: 6,
        ..home("A/8")
    };
    let h = assess(&[half], &Rates::BASE, &Rates::BASE);
    // 168.000 × 5 ‰ × 50 % × 6/12 = 210 €; less 200 × 6/12 = 100 €: 110 €.
    assert_eq!(h.year_cents, 11_000);
    // Two owners living there: 100 € each for the year, 50 € for six months: 160 €.
    let shared = Holding {
        residents: 2,
        ..half
    };
    assert_eq!(
        assess(&[shared], &Rates::BASE, &Rates::BASE).year_cents,
        16_000
    );
    // The detraction never makes the tax negative: a small A/1 pays nothing, not less.
    let tiny = Holding {
        asset: building("A/1", 5_000),
        ..home("A/1")
    };
    let t = assess(&[tiny], &Rates::BASE, &Rates::BASE);
    // 8.400 € × 5 ‰ = 42 € < 200 €: nothing, 42 € of detraction taken.
    assert_eq!((t.year_cents, t.detraction_cents), (0, 4_200));
    // A second garage is not an appurtenance: taxed as another building (16.800 € × 8,6 ‰ =
    // 144,48 €), the first stays exempt with the A/3.
    let two = assess(&[home("A/3"), garage, garage], &Rates::BASE, &Rates::BASE);
    assert_eq!(two.year_cents, 14_448);
    assert_eq!(two.lines[0].code, code::OTHER_BUILDINGS);
    // A shop cannot be a main dwelling: flagged or not, it pays the other buildings' rate.
    let shop = Holding {
        main_dwelling: true,
        ..whole_year(building("C/1", 100_000))
    };
    let s = assess(&[shop], &Rates::BASE, &Rates::BASE);
    assert_eq!(s.lines[0].code, code::OTHER_BUILDINGS);
}

#[test]
fn group_d_pays_the_state_its_share_and_the_commune_the_rest() {
    // D/1, income 10.000 €: 10.000 × 1,05 × 65 = 682.500 €; at 10,6 ‰: 7.234,50 €, of which
    // 7,6 ‰ to the State (5.187,00 €) and 3 ‰ to the commune (2.047,50 €).
    let rates = Rates {
        group_d: 1_060,
        ..Rates::BASE
    };
    let a = assess(&[whole_year(building("D/1", 1_000_000))], &rates, &rates);
    assert_eq!(a.year_cents, 723_450);
    assert_eq!(
        a.lines,
        vec![
            F24Line {
                code: code::GROUP_D_STATE,
                june_euros: 2_594,
                december_euros: 2_593
            },
            F24Line {
                code: code::GROUP_D_COMMUNE,
                june_euros: 1_024,
                december_euros: 1_024
            },
        ]
    );
}

#[test]
fn land_is_taxed_on_its_revalued_income_or_its_market_value() {
    // Agricultural land, reddito dominicale 300,00 €: × 1,25 × 135 = 50.625 €; at 7,6 ‰:
    // 384,75 €.
    let a = assess(
        &[whole_year(Asset::AgriculturalLand {
            income_cents: 30_000,
        })],
        &Rates::BASE,
        &Rates::BASE,
    );
    assert_eq!(a.holdings[0].base_cents, 5_062_500);
    assert_eq!(a.year_cents, 38_475);
    assert_eq!(a.lines[0].code, code::AGRICULTURAL_LAND);
    // Declared exempt (a farmer's own land): nothing.
    let e = Holding {
        exempt: true,
        ..whole_year(Asset::AgriculturalLand {
            income_cents: 30_000,
        })
    };
    assert_eq!(assess(&[e], &Rates::BASE, &Rates::BASE).year_cents, 0);
    // Buildable land worth 100.000 € at 8,6 ‰: 860 €.
    let b = assess(
        &[whole_year(Asset::BuildableLand {
            value_cents: 10_000_000,
        })],
        &Rates::BASE,
        &Rates::BASE,
    );
    assert_eq!(
        (b.year_cents, b.lines[0].code),
        (86_000, code::BUILDABLE_LAND)
    );
}

#[test]
fn june_uses_last_years_rates_for_the_first_half_and_december_settles_the_rest() {
    let last = Rates {
        other_buildings: 860,
        ..Rates::BASE
    };
    let this = Rates {
        other_buildings: 1_060,
        ..Rates::BASE
    };
    // 84.000 € base: June 84.000 × 8,6 ‰ / 2 = 361,20 € → 361; the year 890,40 €: December
    // 890,40 − 361 = 529,40 € → 529.
    let a = assess(&[whole_year(building("A/2", 50_000))], &this, &last);
    assert_eq!(
        (a.lines[0].june_euros, a.lines[0].december_euros),
        (361, 529)
    );
    // Bought in September: nothing in June, all in December (4 months: 296,80 €).
    let late = held(
        building("A/2", 50_000),
        10_000,
        months(2026, d(2026, 9, 1), None),
    );
    let a = assess(&[late], &this, &last);
    assert_eq!((a.lines[0].june_euros, a.lines[0].december_euros), (0, 297));
}

#[test]
fn a_year_below_the_communes_minimum_is_not_paid() {
    // A C/2 store room with 20 € of income: 3.360 € base at 8,6 ‰ = 28,90 €; under a 30 €
    // minimum nothing is paid.
    let rates = Rates {
        minimum_cents: 3_000,
        ..Rates::BASE
    };
    let a = assess(&[whole_year(building("C/2", 2_000))], &rates, &rates);
    assert_eq!(a.year_cents, 2_890);
    assert!(a.below_minimum && a.lines.is_empty());
}

/// Comune di Fidenza, "Domande frequenti" on IMU
/// (https://www.comune.fidenza.pr.it/domande-frequenti/page/9/): "rogito stipulato il 4
/// aprile: il venditore paga per 3 mesi, il compratore paga per 9 mesi"; 17 October: 10 and 2;
/// 15 May (31 days): 4 and 8; 15 November (30 days): 10 and 2. And Il Sole 24 Ore
/// (https://www.ilsole24ore.com/art/imu-cassa-16-giugno-tutto-quello-che-bisogna-sapere-9-domande-e-risposte-AEht4XeB):
/// bought on 10 April, "posseduta dall'acquirente per tre mesi (aprile, maggio, giugno)" in
/// the first half; on 16 April, "in caso di parità … l'imposta per quel mese è dovuta
/// dall'acquirente".
#[test]
fn fidenzas_and_il_sole_24_ores_sales_split_the_year_as_published() {
    for (m, day, seller, buyer) in [
        (4, 4, 3, 9),
        (10, 17, 10, 2),
        (5, 15, 4, 8),
        (11, 15, 10, 2),
    ] {
        let on = d(2026, m, day);
        assert_eq!(months(2026, None, on).0, seller, "seller, {day}/{m}");
        assert_eq!(months(2026, on, None).0, buyer, "buyer, {day}/{m}");
    }
    assert_eq!(months(2026, d(2026, 4, 10), None).1, 3);
    assert_eq!(months(2026, d(2026, 4, 16), None), (9, 3));
    assert_eq!(months(2026, None, d(2026, 4, 16)), (3, 3));
}

/// Comune di Bologna, "Come si calcola l'IMU" (https://imu.comune.bologna.it/?q=node%2F386):
/// "IMPOSTA DOVUTA = Base Imponibile X Aliquota / 100 X Percentuale di possesso X Mesi di
/// possesso / 12"; "se il totale da versare è pari ad 75,49€ si arrotondano ad 75,00€; se il
/// totale da versare è pari ad 75,50€ si arrotondano ad 76,00€". Comune di Lissone
/// (https://comune.lissone.mb.it/IMU-2020-IMPOSTA-MUNICIPALE-PROPRIA-COME-SI-CALCOLA): rounding
/// per defect below 49 cents, and no payment under 12 € a year.
#[test]
fn bolognas_formula_and_rounding_and_lissones_minimum() {
    assert_eq!(f24_euros(754_900), 75);
    assert_eq!(f24_euros(755_000), 76);
    // The formula with a share and months: a C/1 shop, income 1.200,00 €, 60 % held for 8
    // months, at 10,6 ‰: 1.200 × 1,05 × 55 = 69.300 € × 1,06 / 100 × 60 % × 8 / 12 =
    // 293,832 € → 293,83 €.
    let shop = held(building("C/1", 120_000), 6_000, (8, 2));
    let rates = Rates {
        other_buildings: 1_060,
        ..Rates::BASE
    };
    let a = assess(&[shop], &rates, &rates);
    assert_eq!(a.holdings[0].base_cents, 6_930_000);
    assert_eq!(a.year_cents, 29_383);
    assert_eq!(Rates::BASE.minimum_cents, 1_200);
}

/// Comune di Barga, "Come si calcola l'IMU"
/// (https://www.comune.barga.lu.it/domande-frequenti/come-si-calcola-limu): an A/2 with a
/// cadastral income of 721,75 €, "Rendita rivalutata: 721,75 € + (721,75 x 5%) = 757,84 €",
/// then × 160. The page prints 121.256,40 €, a slip: 757,84 × 160 is 121.254,40 €, and without
/// rounding the revalued income (the law rounds only what is paid) 121.254,00 €, which is the
/// base here.
#[test]
fn bargas_flat_has_the_base_its_numbers_give() {
    let a = assess(
        &[whole_year(building("A/2", 72_175))],
        &Rates::BASE,
        &Rates::BASE,
    );
    assert_eq!(a.holdings[0].base_cents, 12_125_400);
}
