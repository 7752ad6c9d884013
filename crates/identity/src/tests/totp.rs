use super::*;

#[test]
fn rfc6238_sha1_vectors() {
    // RFC 6238 appendix B, SHA-1, secret "12345678901234567890"; codes are the last 6 digits.
    let secret = b"12345678901234567890";
    for (t, code) in [
        (59, 287_082),
        (1_111_111_109, 81_804),
        (1_111_111_111, 50_471),
        (1_234_567_890, 5_924),
        (2_000_000_000, 279_037),
        (20_000_000_000, 353_130),
    ] {
        assert_eq!(code_at(secret, step_of(t)), code, "t = {t}");
    }
}

#[test]
fn accepts_one_step_of_skew_only() {
    let secret = new_secret();
    let t = 1_700_000_000;
    let code = format!("{:06}", code_at(&secret, step_of(t)));
    assert_eq!(matching_step(&secret, &code, t), Some(step_of(t)));
    assert_eq!(matching_step(&secret, &code, t + 30), Some(step_of(t)));
    assert_eq!(matching_step(&secret, &code, t - 30), Some(step_of(t)));
    assert_eq!(matching_step(&secret, &code, t + 90), None);
    assert_eq!(matching_step(&secret, "12345", t), None);
    assert_eq!(matching_step(&secret, "abcdef", t), None);
}

#[test]
fn otpauth_uri_is_what_apps_read() {
    let uri = otpauth_uri(b"12345678901234567890", "Comune di Pisa", "anna@pisa.it");
    assert!(uri.starts_with("otpauth://totp/Comune+di+Pisa:anna%40pisa.it?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Comune+di+Pisa"), "{uri}");
}
