use super::*;

#[test]
fn only_secure_addresses_with_a_host() {
    let ok = WebAddress::parse(" https://www.prenotazionicie.interno.it/cittadino ").unwrap();
    assert_eq!(
        ok.as_str(),
        "https://www.prenotazionicie.interno.it/cittadino"
    );
    assert_eq!(ok.host(), "www.prenotazionicie.interno.it");
    for bad in [
        "http://example.org",
        "javascript:alert(1)",
        "https://",
        "https:///x",
        "https://localhost",
        "https://a.example/ x",
        "example.org",
        "https://a.example/\"onmouseover",
        "https://www.prenotazionicie.interno.it:x@evil.example/",
        "https://evil.example\\@good.example/",
    ] {
        let e = WebAddress::parse(bad).unwrap_err();
        assert_eq!(e.why, Why::AddressNeeded, "{bad}");
    }
}
