use super::*;

#[test]
fn a_notice_number_is_aux_3_segregation_local_and_mod_93_check_digits() {
    // Check digits computed apart: (3 · 10^15 + segregation · 10^13 + local) mod 93.
    for (seg, local, want) in [
        (1, 1, "301000000000000144"),
        (12, 1_234_567_890_123, "312123456789012384"),
        (99, 9_999_999_999_999, "399999999999999903"),
        (0, 0, "300000000000000003"),
    ] {
        let n = NoticeNumber::new(seg, local).unwrap();
        assert_eq!(n.as_str(), want);
        assert_eq!(n.segregation(), seg);
        assert_eq!(n.iuv(), &want[1..]);
        assert_eq!(NoticeNumber::parse(want).unwrap(), n);
        assert_eq!(NoticeNumber::parse(&n.grouped()).unwrap(), n);
    }
    assert_eq!(
        NoticeNumber::new(1, 1).unwrap().grouped(),
        "3010 0000 0000 0001 44"
    );
}

#[test]
fn wrong_notice_numbers_are_refused() {
    for bad in [
        "",
        "30100000000000014",   // seventeen digits
        "3010000000000001440", // nineteen
        "301000000000000145",  // check digits wrong
        "001000000000000144",  // aux digit 0
        "30100000000000014a",
        "３０１０００００００００００００１４４", // full-width digits
    ] {
        let e = NoticeNumber::parse(bad).unwrap_err();
        assert_eq!(e.why, Why::NoticeNumberInvalid, "{bad}");
    }
    assert!(NoticeNumber::new(100, 1).is_err());
    assert!(NoticeNumber::new(1, 10_000_000_000_000).is_err());
}

#[test]
fn the_qr_text_names_notice_creditor_and_cents() {
    let n = NoticeNumber::new(1, 1).unwrap();
    assert_eq!(
        n.qr_text("00341520508", Money::from_cents(1_650)).unwrap(),
        "PAGOPA|002|301000000000000144|00341520508|1650"
    );
    assert!(n.qr_text("0034152050", Money::from_cents(1)).is_err());
    assert!(n.qr_text("0034152050X", Money::from_cents(1)).is_err());
    assert!(n.qr_text("00341520508", Money::ZERO).is_err());
}
