//! The console's form editor on the real server: an administrator builds a service's form a
//! field at a time (a page, a choice, a field shown on a condition), moves and removes fields,
//! sees the citizen's view in the preview; each step a new version, a bad step refused with the
//! words by each field; a clerk reads but changes nothing; the citizen's form follows.

use sportello_store::staff::Realm;
use sportello_tests::StatusCode;

use crate::actors::signed_in;
use crate::cases::PISA;

const HOST: &str = "pisa.localhost";

async fn post(
    b: &mut sportello_tests::browser::Browser,
    url: &str,
    form: Vec<(String, String)>,
) -> sportello_tests::browser::Page {
    let refs: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    b.post(url, &refs).await
}

#[tokio::test]
async fn an_administrator_builds_a_form_and_citizens_get_it() {
    let (app, mail) = crate::identity::app_with_mail().await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "admin@comune.pisa.it",
        "admin",
    )
    .await;
    // A service offered online with no form yet (one
    // with the online channel and no form: the editor starts empty).
    let editor = admin.url(HOST, "/console/servizi/lampade-votive/modulo");
    let page = admin.get(&editor).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.input("csrf").unwrap();
    let add = |fields: Vec<(&'static str, String)>| {
        let mut v: Vec<(String, String)> = vec![
            ("csrf".into(), csrf.clone()),
            ("azione".into(), "aggiungi".into()),
        ];
        v.extend(fields.into_iter().map(|(k, x)| (k.to_owned(), x)));
        v
    };
    // A bad step: every mistake named, nothing stored.
    let bad = post(
        &mut admin,
        &editor,
        add(vec![
            ("version", "0".into()),
            ("page", "nuova".into()),
            ("new_page", "".into()),
            ("id", "Bad Id".into()),
            ("kind", "rocket".into()),
            ("label", "".into()),
        ]),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    for f in ["id", "kind", "label", "new_page"] {
        assert!(
            bad.body.contains(&format!("-{f}-error")),
            "{f}: {}",
            bad.body
        );
    }
    // A page with a choice, then a field shown only for one of its values.
    let ok = post(
        &mut admin,
        &editor,
        add(vec![
            ("version", "0".into()),
            ("page", "nuova".into()),
            ("new_page", "Richiesta".into()),
            ("id", "uso".into()),
            ("kind", "choice".into()),
            ("label", "Per quale uso".into()),
            ("required", "on".into()),
            ("options", "bollo|In bollo\nesente|Esente da bollo".into()),
        ]),
    )
    .await;
    assert!(ok.url.contains("esito=salvato"), "{} {}", ok.url, ok.body);
    let ok = post(
        &mut admin,
        &editor,
        add(vec![
            ("version", "1".into()),
            ("page", "0".into()),
            ("id", "motivo_esenzione".into()),
            ("kind", "text".into()),
            ("label", "Motivo dell'esenzione".into()),
            ("when_field", "uso".into()),
            ("when_value", "esente".into()),
        ]),
    )
    .await;
    assert!(ok.url.contains("esito=salvato"), "{}", ok.body);
    let ok = post(
        &mut admin,
        &editor,
        add(vec![
            ("version", "2".into()),
            ("page", "0".into()),
            ("id", "note".into()),
            ("kind", "long_text".into()),
            ("label", "Note".into()),
        ]),
    )
    .await;
    assert!(ok.url.contains("esito=salvato"));
    // Moved up; a field a condition names cannot go.
    let moved = post(
        &mut admin,
        &editor,
        vec![
            ("csrf".into(), csrf.clone()),
            ("azione".into(), "su".into()),
            ("version".into(), "3".into()),
            ("field".into(), "note".into()),
        ],
    )
    .await;
    assert!(moved.url.contains("esito=salvato"));
    let kept = post(
        &mut admin,
        &editor,
        vec![
            ("csrf".into(), csrf.clone()),
            ("azione".into(), "elimina".into()),
            ("version".into(), "4".into()),
            ("field".into(), "uso".into()),
        ],
    )
    .await;
    assert_eq!(kept.status, StatusCode::BAD_REQUEST);
    // A step taken on a page shown before someone else's step: refused, nothing lost.
    let stale = post(
        &mut admin,
        &editor,
        vec![
            ("csrf".into(), csrf.clone()),
            ("azione".into(), "giu".into()),
            ("version".into(), "3".into()),
            ("field".into(), "note".into()),
        ],
    )
    .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN, "{}", stale.body);
    let shown = admin.get(&editor).await;
    assert!(shown.body.contains("versione 4"), "{}", shown.body);
    let (a, b) = (
        shown
            .body
            .find("name=\"field\" value=\"motivo_esenzione\"")
            .unwrap(),
        shown.body.find("name=\"field\" value=\"note\"").unwrap(),
    );
    assert!(b < a, "note moved above motivo_esenzione");
    // The preview shows the conditional field with its condition in words, and sends nothing.
    let preview = admin
        .get(&admin.url(HOST, "/console/servizi/lampade-votive/modulo/anteprima"))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(
        preview.body.contains("id=\"preview-note\"")
            && preview.body.contains("<fieldset disabled>")
    );
    assert!(
        preview.body.contains("Motivo dell&#x27;esenzione")
            || preview.body.contains("Motivo dell'esenzione")
    );
    // A clerk reads the editor but cannot change it.
    let mut clerk = signed_in(
        &app,
        Realm::Commune(PISA),
        HOST,
        "clerk@comune.pisa.it",
        "clerk",
    )
    .await;
    let read = clerk.get(&editor).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(!read.body.contains("name=\"azione\" value=\"aggiungi\""));
    // A citizen now fills the new form in.
    let (mut anna, _) = crate::identity::anna_at_pisa(&app, &mail).await;
    let fill = anna
        .get(&anna.url(HOST, "/pratiche/compila/lampade-votive"))
        .await;
    assert_eq!(fill.status, StatusCode::OK, "{} {}", fill.url, fill.body);
    assert!(fill.body.contains("Per quale uso"), "{}", fill.body);
}
