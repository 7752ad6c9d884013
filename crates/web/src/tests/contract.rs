use super::*;

/// The served document is what the check reads: every operation, every query parameter with
/// its rules compiled (a pattern that did not compile would silently check nothing).
#[test]
fn the_document_is_read_whole() {
    let doc: Value = serde_json::from_str(crate::routes::api::OPENAPI).unwrap();
    let ops = read(crate::routes::api::OPENAPI);
    assert_eq!(ops.len(), doc["paths"].as_object().unwrap().len());
    let mut declared_patterns = 0;
    let mut compiled = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let op = ops.iter().find(|o| o.path.pattern() == Some(path)).unwrap();
        let params: Vec<&Value> = item["get"]["parameters"]
            .as_array()
            .map(|a| a.iter().filter(|p| p["in"] == "query").collect())
            .unwrap_or_default();
        assert_eq!(op.params.len(), params.len(), "{path}");
        for p in params {
            if p["schema"]["pattern"].is_string() {
                declared_patterns += 1;
            }
        }
        compiled += op.params.iter().filter(|p| p.pattern.is_some()).count();
    }
    assert!(declared_patterns >= 3, "{declared_patterns}");
    assert_eq!(compiled, declared_patterns, "every pattern compiles");
}

#[test]
fn dates_are_strictly_yyyy_mm_dd() {
    assert!(strict_date("2024-01-31").is_some());
    for bad in [
        "2024-1-1",
        "+2024-01-01",
        " 2024-01-01",
        "0000-01-01",
        "2024-02-30",
        "２０２４-01-01",
        "",
    ] {
        assert!(strict_date(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn each_rule_of_a_parameter_is_checked() {
    assert!(check("/api/v1/services", "lang=it").is_ok());
    assert!(check("/api/v1/services", "lang=de").is_ok());
    assert_eq!(check("/api/v1/services", "lang=xx"), Err("lang".into()));
    assert_eq!(
        check("/api/v1/services", "lang=it&lang=en"),
        Err("lang".into())
    );
    assert_eq!(
        check("/api/v1/communes", &format!("q={}", "à".repeat(201))),
        Err("q".into())
    );
    assert!(check("/api/v1/communes", &format!("q={}", "à".repeat(200))).is_ok());
    assert_eq!(check("/api/v1/search", "q=a%01b"), Err("q".into()));
    assert_eq!(
        check("/api/v1/services/certificato-residenza", "al=2024-1-1"),
        Err("al".into())
    );
    assert_eq!(
        check("/api/v1/services/certificato-residenza", "al="),
        Err("al".into())
    );
    // Parameters the document does not name are left alone.
    assert!(check("/api/v1/services", "utm_source=x").is_ok());
}
