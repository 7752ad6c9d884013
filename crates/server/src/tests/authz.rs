use super::*;

/// Every `.route(` registered by the console and API modules must be in [`ROUTES`]: a route
/// added without a declared permission fails here (and answers 404 in the running server).
#[test]
fn every_console_and_api_route_is_declared() {
    let files = [
        ("console.rs", ""),
        ("console_commune.rs", ""),
        ("console_federation.rs", ""),
        ("api.rs", "/api/v1"),
    ];
    let mut seen = 0;
    for (file, prefix) in files {
        let path = format!("{}/src/routes/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        for chunk in text.split(".route(\"").skip(1) {
            let route = &chunk[..chunk.find('"').unwrap()];
            let rest = &chunk[..chunk
                .find(')')
                .unwrap_or(chunk.len())
                .max(80)
                .min(chunk.len())];
            let method = if rest.contains("web::post()") {
                "POST"
            } else if rest.contains("web::get()") {
                "GET"
            } else {
                panic!("{file}: route {route}: method not recognised");
            };
            let full = format!("{prefix}{route}");
            let found = declared(true, method, &full).or_else(|| declared(false, method, &full));
            assert!(
                found.is_some(),
                "{file}: {method} {full} has no declared permission"
            );
            seen += 1;
        }
    }
    assert!(seen >= 40, "only {seen} routes found: the scan is broken");
}

#[test]
fn declarations_are_unique_and_scoped() {
    for (i, a) in ROUTES.iter().enumerate() {
        for b in &ROUTES[i + 1..] {
            let overlap = a.on == b.on || a.on == On::Both || b.on == On::Both;
            assert!(
                !(a.method == b.method && a.path == b.path && overlap),
                "{} {} declared twice",
                a.method,
                a.path
            );
        }
        // The federation's registry only on the apex; a commune's objects only on communes.
        if let Need::Allow(Object::Communes, _) = a.need {
            assert_eq!(a.on, On::Federation, "{}", a.path);
        }
    }
    assert!(declared(true, "GET", "/console/comuni").is_none());
    assert!(declared(false, "GET", "/console/uffici").is_none());
    assert!(declared(true, "GET", "/console/nowhere").is_none());
}

#[test]
fn onboarding_applies_the_current_template() {
    assert_eq!(
        sportello_store::authz::ONBOARDING_POLICY_TEMPLATE,
        sportello_authz::template::CURRENT
    );
}
