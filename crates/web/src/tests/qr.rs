#[test]
fn an_inline_labelled_svg() {
    let s = super::svg(
        "otpauth://totp/Sportello:a%40b.it?secret=JBSWY3DPEHPK3PXP",
        200,
        "QR <x>",
    )
    .unwrap();
    assert!(
        s.starts_with("<svg role=\"img\" aria-label=\"QR &lt;x&gt;\""),
        "{s}"
    );
    assert!(s.contains("<path") || s.contains("<rect"));
    assert!(super::svg(&"x".repeat(5000), 200, "too long").is_none());
}
