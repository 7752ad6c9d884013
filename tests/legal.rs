//! The legal pages every Italian municipal site must have: in every footer, per commune (the
//! controller of its citizens' data), filled from its settings; the federation's on its hosts.

use sportello_domain::TenantId;
use sportello_store::staff::Realm;
use sportello_tests::browser::Browser;
use sportello_tests::{StatusCode, spawn_app};

use crate::actors::signed_in;
use crate::identity::{anna_at_pisa, app_with_mail};

const PISA: TenantId = TenantId(50026);
const LINKS: [&str; 4] = ["/privacy", "/note-legali", "/cookie", "/accessibilita"];

#[tokio::test]
async fn every_footer_links_the_legal_pages_and_each_speaks_for_its_host() {
    let app = spawn_app().await;
    let mut b = Browser::new(app.addr);
    for (host, path) in [
        ("pisa.localhost", "/"),
        ("pisa.localhost", "/servizi/certificato-residenza"),
        ("pisa.localhost", "/nessuna-pagina"),
        ("localhost", "/"),
        ("login.localhost", "/registrati"),
        ("pisa.localhost", "/console/accedi"),
    ] {
        let p = b.get(&b.url(host, path)).await;
        let footer = p.body.split("id=\"legal-links\"").nth(1).unwrap_or("");
        for l in LINKS {
            assert!(
                footer.contains(&format!("href=\"{l}\"")),
                "{host}{path}: {l}"
            );
        }
        // Every page says what it is to search engines, and names its language versions by
        // absolute address.
        assert!(
            p.body.contains("<meta name=\"description\" content=\""),
            "{host}{path}"
        );
    }
    let home = b.get(&b.url("pisa.localhost", "/")).await;
    let origin = b.url("pisa.localhost", "");
    assert!(
        home.body
            .contains(&format!("hreflang=\"en\" href=\"{origin}/?lang=en\"")),
        "{}",
        home.body
    );
    // Each legal page on each kind of host.
    for host in [
        "pisa.localhost",
        "calci.localhost",
        "localhost",
        "login.localhost",
    ] {
        for l in LINKS {
            let p = b.get(&b.url(host, l)).await;
            assert_eq!(p.status, StatusCode::OK, "{host}{l}");
        }
    }
    let pisa = b.get(&b.url("pisa.localhost", "/privacy")).await;
    assert!(pisa.body.contains("Titolare del trattamento"));
    assert!(pisa.body.contains("<strong>Comune di Pisa</strong>"));
    assert!(pisa.body.contains("comune.pisa@postacert.toscana.it"));
    let calci = b.get(&b.url("calci.localhost", "/privacy")).await;
    assert!(calci.body.contains("<strong>Comune di Calci</strong>"));
    assert!(!calci.body.contains("Comune di Pisa"));
    let apex = b.get(&b.url("localhost", "/privacy")).await;
    assert!(
        !apex.body.contains("<strong>Comune di"),
        "the federation speaks for itself"
    );
}

#[tokio::test]
async fn a_commune_fills_in_its_data_protection_officer_notes_and_statement() {
    let app = spawn_app().await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "admin@pisa.example",
        "admin",
    )
    .await;
    let url = admin.url("pisa.localhost", "/console/impostazioni");
    let page = admin.get(&url).await;
    let csrf = page.input("csrf").unwrap();
    let color = page.input("color").unwrap();
    let mut form = vec![
        ("color", color.as_str()),
        ("default_language", "it"),
        ("lang:it", "on"),
        ("lang:en", "on"),
        ("dpo_name", ""),
        ("dpo_email", "dpo@comune.pisa.it"),
        (
            "accessibility_url",
            "https://form.agid.gov.it/view/pisa-2026",
        ),
        (
            "privacy_notes",
            "Le immagini delle telecamere si conservano per 7 giorni.",
        ),
        ("csrf", csrf.as_str()),
    ];
    // A bad address is refused by its field, nothing saved.
    form[6].1 = "form.agid.gov.it";
    let bad = admin.post(&url, &form).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("-accessibility_url-error\""),
        "{}",
        bad.body
    );
    form[6].1 = "https://form.agid.gov.it/view/pisa-2026";
    // Not over plain http either.
    form[6].1 = "http://form.agid.gov.it/view/pisa-2026";
    let bad = admin.post(&url, &form).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    form[6].1 = "https://form.agid.gov.it/view/pisa-2026";
    // Without the officer's name first: nothing printed for it (never "None").
    let saved = admin.post(&url, &form).await;
    assert!(saved.url.contains("esito=salvato"), "{}", saved.body);
    let mut anon = Browser::new(app.addr);
    let no_name = anon.get(&anon.url("pisa.localhost", "/privacy")).await;
    assert!(
        no_name
            .body
            .contains("id=\"dpo\"> <a href=\"mailto:dpo@comune.pisa.it\""),
        "{}",
        no_name.body
    );
    assert!(!no_name.body.contains("None"));
    form[4].1 = "Avv. Paola Verdi";
    let saved = admin.post(&url, &form).await;
    assert!(saved.url.contains("esito=salvato"), "{}", saved.body);
    let mut b = Browser::new(app.addr);
    let privacy = b.get(&b.url("pisa.localhost", "/privacy")).await;
    assert!(
        privacy.body.contains("mailto:dpo@comune.pisa.it"),
        "{}",
        privacy.body
    );
    assert!(privacy.body.contains("Avv. Paola Verdi"));
    assert!(privacy.body.contains("si conservano per 7 giorni"));
    // In English the commune's own Italian words are marked as Italian (WCAG 3.1.2).
    let en = b.get(&b.url("pisa.localhost", "/privacy?lang=en")).await;
    assert!(en.body.contains("<h2 class=\"h4\">Controller</h2>"));
    assert!(
        en.body.contains("id=\"commune-notes\" lang=\"it\""),
        "{}",
        en.body
    );
    let statement = b.get(&b.url("pisa.localhost", "/accessibilita")).await;
    assert!(
        statement
            .body
            .contains("id=\"statement\" href=\"https://form.agid.gov.it/view/pisa-2026\"")
    );
    // Another commune's pages say nothing of Pisa's.
    let calci = b.get(&b.url("calci.localhost", "/privacy")).await;
    assert!(!calci.body.contains("dpo@comune.pisa.it"));
    let calci = b.get(&b.url("calci.localhost", "/accessibilita")).await;
    assert!(calci.body.contains("id=\"statement-pending\""));
}

#[tokio::test]
async fn the_cookie_page_lists_every_cookie_the_portal_sets() {
    let (app, mail) = app_with_mail().await;
    let (mut b, _) = anna_at_pisa(&app, &mail).await;
    let p = b.get(&b.url("pisa.localhost", "/servizi?lang=en")).await;
    assert_eq!(p.status, StatusCode::OK);
    let names = b.cookie_names();
    assert!(names.len() >= 4, "{names:?}");
    let page = b.get(&b.url("pisa.localhost", "/cookie")).await;
    for n in names {
        let bare = n.trim_start_matches("__Host-");
        assert!(
            page.body.contains(&format!("<code>{bare}</code>")),
            "{n} is set but not listed"
        );
    }
}
