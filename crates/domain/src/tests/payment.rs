use super::*;

fn raw() -> RawNotice {
    RawNotice {
        reference: "MENSA-2026/0001".into(),
        fiscal_code: "VRDGPP80A01G702C".into(),
        payer_name: "  Mario   Rossi ".into(),
        kind: "mensa".into(),
        reason: "Mensa scolastica, ottobre 2026".into(),
        amount: "45,60".into(),
        due_on: "31/10/2026".into(),
        notified_on: String::new(),
    }
}

#[test]
fn a_notice_parses_from_a_communes_words() {
    let n = NoticeInput::parse(&raw()).unwrap();
    assert_eq!(n.reference, "MENSA-2026/0001");
    assert_eq!(n.fiscal_code.as_str(), "VRDGPP80A01G702C");
    assert_eq!(n.payer_name, "Mario Rossi");
    assert_eq!(n.kind, PaymentKind::Canteen);
    assert_eq!(n.amount, Money::from_cents(4560));
    assert_eq!(n.due_on, NaiveDate::from_ymd_opt(2026, 10, 31).unwrap());
    assert_eq!(n.reduction, None);
}

#[test]
fn every_wrong_field_is_named_at_once() {
    let r = RawNotice {
        reference: "a b".into(),
        fiscal_code: "VRDGPP80A01G702X".into(),
        payer_name: String::new(),
        kind: "gelato".into(),
        reason: "x".repeat(REASON_MAX + 1),
        amount: "0".into(),
        due_on: "31/02/2026".into(),
        notified_on: "ieri".into(),
    };
    let errs = NoticeInput::parse(&r).unwrap_err();
    let fields: Vec<_> = errs.iter().map(|(f, e)| (*f, e.why)).collect();
    assert_eq!(
        fields,
        vec![
            ("reference", Why::PatternMismatch),
            ("fiscal_code", Why::FiscalCodeInvalid),
            ("payer_name", Why::Required),
            ("kind", Why::NotOneOf),
            ("reason", Why::TooLong),
            ("amount", Why::AmountInvalid),
            ("due_on", Why::DateInvalid),
            ("notified_on", Why::DateInvalid),
        ]
    );
    let too_much = RawNotice {
        amount: "1000000,01".into(),
        ..raw()
    };
    assert_eq!(NoticeInput::parse(&too_much).unwrap_err()[0].0, "amount");
    let negative = RawNotice {
        amount: "-5".into(),
        ..raw()
    };
    assert_eq!(NoticeInput::parse(&negative).unwrap_err()[0].0, "amount");
}

#[test]
fn a_road_fine_is_30_percent_less_within_five_days_of_notification() {
    // Art. 202 c. 1 CdS: 42,00 € (art. 7, the usual parking fine) paid within five days of
    // notification is 29,40 €.
    let fine = RawNotice {
        kind: "multa".into(),
        amount: "42".into(),
        notified_on: "2026-12-01".into(),
        due_on: "2027-01-30".into(),
        ..raw()
    };
    let n = NoticeInput::parse(&fine).unwrap();
    assert_eq!(
        n.reduction,
        Some(Reduction {
            amount: Money::from_cents(2940),
            until: NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(),
        })
    );
    // Half a cent rounds up: 0,05 € · 0,7 = 0,035 → 0,04.
    let r = fine_reduction(
        Money::from_cents(5),
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    );
    assert_eq!(r.amount, Money::from_cents(4));
    // Other kinds get no reduction even with a notification day.
    let canteen = RawNotice {
        notified_on: "2026-10-01".into(),
        ..raw()
    };
    assert_eq!(NoticeInput::parse(&canteen).unwrap().reduction, None);
    // Notified after the due day: refused.
    let late = RawNotice {
        notified_on: "2027-02-01".into(),
        ..fine
    };
    assert_eq!(NoticeInput::parse(&late).unwrap_err()[0].0, "notified_on");
}

#[test]
fn kinds_parse_by_key_and_by_italian_name() {
    for k in PaymentKind::ALL {
        assert_eq!(PaymentKind::parse(k.key()).unwrap(), k);
    }
    assert_eq!(PaymentKind::parse(" Multa ").unwrap(), PaymentKind::Fine);
    assert_eq!(PaymentKind::parse("LAMPADE").unwrap(), PaymentKind::Lamp);
    assert!(PaymentKind::parse("").is_err());
}

#[test]
fn a_bodys_tax_code_has_its_check_digit() {
    // Comune di Pisa, Comune di Milano, Comune di Roma (Roma Capitale): published tax codes.
    for ok in ["00341620508", "01199250158", "02438750586"] {
        assert_eq!(parse_body_tax_code(ok).unwrap(), ok);
    }
    for bad in ["00341620507", "0034162050", "0034162050a", ""] {
        assert!(parse_body_tax_code(bad).is_err(), "{bad}");
    }
}
