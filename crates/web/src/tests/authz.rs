use super::*;
use sportello_authz::Object;

fn declared_on(on_commune: bool, method: &str, path: &str) -> Option<Declared> {
    declared().iter().copied().find(|r| {
        r.method == method
            && r.path == path
            && match r.on {
                On::Both => true,
                On::Commune => on_commune,
                On::Federation => !on_commune,
            }
    })
}

/// Console and API routes come into being only through `Routes` (which wraps each in the
/// guard): no route module registers one with actix directly.
#[test]
fn console_and_api_routes_are_only_registered_through_the_declarations() {
    let mut dirs = vec![std::path::PathBuf::from(format!(
        "{}/src/routes",
        env!("CARGO_MANIFEST_DIR")
    ))];
    let mut files = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for needle in [
                ".route(\"/console",
                ".route(\"/api",
                "scope(\"/console",
                "scope(\"/api",
            ] {
                assert!(
                    !text.contains(needle),
                    "{}: registers `{needle}…` with actix directly; declare it through Routes",
                    path.display()
                );
            }
            files += 1;
        }
    }
    assert!(
        files >= 10,
        "only {files} route files read: the scan is broken"
    );
    assert!(declared().len() >= 50, "{} declarations", declared().len());
}

#[test]
fn declarations_are_unique_and_scoped() {
    let table = declared();
    for (i, a) in table.iter().enumerate() {
        for b in &table[i + 1..] {
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
    assert!(declared_on(true, "GET", "/console/comuni").is_none());
    assert!(declared_on(false, "GET", "/console/uffici").is_none());
    assert!(declared_on(true, "GET", "/console/nowhere").is_none());
    assert_eq!(
        declared_on(false, "GET", "/console").map(|d| d.need),
        Some(Need::Allow(Object::Communes, sportello_authz::Action::Read))
    );
    assert_eq!(
        declared_on(true, "GET", "/console").map(|d| d.need),
        Some(Need::Staff)
    );
}

/// The OpenAPI document describes exactly the declared API routes.
#[test]
fn the_openapi_document_lists_every_api_route_and_no_other() {
    let doc: serde_json::Value = serde_json::from_str(include_str!("../../openapi.json")).unwrap();
    let documented: std::collections::BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let declared: std::collections::BTreeSet<(String, String)> = declared()
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, declared);
}

#[test]
fn onboarding_applies_the_current_template() {
    assert_eq!(
        sportello_store::authz::ONBOARDING_POLICY_TEMPLATE,
        sportello_authz::template::CURRENT
    );
}
