use super::*;

#[test]
fn the_starter_charter_is_valid() {
    let spec = CharterSpec::parse(STARTER_CHARTER, "starter").unwrap();
    assert!(spec.services.len() >= 8);
    assert!(spec.offices.iter().any(|o| o.id.as_str() == "urp"));
}

#[test]
fn errors_name_the_problem() {
    let bad = r#"
[commune]
istat_code = "050026"
[[offices]]
id = "anagrafe"
name = "Anagrafe"
building = "nowhere"
"#;
    let e = CommuneFile::parse(bad, "pisa.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("pisa.toml") && e.contains("unknown building"),
        "{e}"
    );
    let e = CommuneFile::parse("[commune]\nistat_code = \"5\"\n", "x.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("six digits"), "{e}");
    let e = CommuneFile::parse(
        "[commune]\nistat_code = \"050026\"\nflavour = 1\n",
        "x.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("unknown field"), "{e}");
}
