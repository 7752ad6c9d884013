//! The languages of the charter: English one click away, untranslated text marked Italian, and
//! German beside the Italian in the communes of the province of Bolzano/Bozen.

use sportello_store::staff::Realm;
use sportello_tests::browser::Browser;
use sportello_tests::{StatusCode, spawn_app};

const BOLZANO: sportello_domain::TenantId = sportello_domain::TenantId(21008);

#[tokio::test]
async fn english_is_one_click_away_and_remembered() {
    let app = spawn_app().await;
    let r = app
        .get("pisa.localhost", "/servizi/certificato-residenza?lang=en")
        .await;
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("lang=en")
    );
    let body = r.text().await.unwrap();
    assert!(body.contains("lang=\"en\""));
    assert!(body.contains("Certificate of residence"));
    let r = app
        .get_with("pisa.localhost", "/servizi", &[("cookie", "lang=en")])
        .await;
    assert!(r.text().await.unwrap().contains("lang=\"en\""));
    let (_, it) = app.text("pisa.localhost", "/servizi").await;
    assert!(it.contains("lang=\"it\""));
}

/// On an English page, every text that has no English version yet is marked as Italian
/// (WCAG 3.1.2); translated texts and Italian pages carry no mark.
#[tokio::test]
async fn untranslated_content_on_english_pages_is_marked_italian() {
    let app = spawn_app().await;
    let mut admin = crate::actors::signed_in(
        &app,
        Realm::Commune(sportello_domain::TenantId(50026)),
        "pisa.localhost",
        "admin@pisa.example",
        "admin",
    )
    .await;
    let page = admin
        .get(&admin.url("pisa.localhost", "/console/servizi"))
        .await;
    let csrf = page.input("csrf").unwrap();
    let created = admin
        .post(
            &admin.url("pisa.localhost", "/console/servizi"),
            &[
                ("id", "prova-lingua"),
                ("title", "Servizio di prova"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(created.url.contains("prova-lingua"), "{}", created.body);
    let mut b = Browser::new(app.addr);
    let en = b
        .get(&b.url("pisa.localhost", "/servizi/prova-lingua?lang=en"))
        .await;
    assert!(
        en.body
            .contains("<h1 class=\"sp-page-title\" lang=\"it\">Servizio di prova</h1>"),
        "{}",
        en.body
    );
    let translated = b
        .get(&b.url("pisa.localhost", "/servizi/certificato-residenza?lang=en"))
        .await;
    assert!(
        translated.body.contains("<h1 class=\"sp-page-title\">"),
        "{}",
        translated.body
    );
    // Its description has an English version: shown, unmarked.
    assert!(
        translated
            .body
            .contains("<p class=\"sp-prewrap\">Anyone may request the certificate"),
        "{}",
        translated.body
    );
    // Another one has none yet: the Italian, marked.
    let italian = b
        .get(&b.url(
            "pisa.localhost",
            "/servizi/certificato-stato-famiglia?lang=en",
        ))
        .await;
    assert!(
        italian
            .body
            .contains("<p class=\"sp-prewrap\" lang=\"it\">"),
        "{}",
        italian.body
    );
    let list = b.get(&b.url("pisa.localhost", "/servizi?lang=en")).await;
    assert!(
        list.body
            .contains("class=\"sp-stretched\" lang=\"it\">Servizio di prova</a>")
    );
    let it = b
        .get(&b.url("pisa.localhost", "/servizi/certificato-residenza?lang=it"))
        .await;
    let main = it.body.split("<main").nth(1).unwrap_or("");
    assert!(
        !main.contains(" lang=\"it\""),
        "no marks on an Italian page"
    );
}

/// Bolzano/Bozen's charter speaks German beside Italian on every page, marked `lang="de"`, on
/// Italian and English pages alike; its console edits the German; Pisa, where German is not
/// official, has neither.
#[tokio::test]
async fn bolzano_shows_and_edits_its_charter_in_german_too() {
    let app = spawn_app().await;
    let mut b = Browser::new(app.addr);
    for lang in ["it", "en"] {
        let card = b
            .get(&b.url(
                "bolzano.localhost",
                &format!("/servizi/certificato-residenza?lang={lang}"),
            ))
            .await;
        assert_eq!(card.status, StatusCode::OK);
        for text in [
            "<p class=\"sp-de-title\" lang=\"de\">Wohnsitzbescheinigung</p>",
            "<p class=\"lead\" lang=\"de\">Bescheinigt die Gemeinde",
            "<p class=\"sp-prewrap\" lang=\"de\">Die Bescheinigung kann jede Person",
        ] {
            assert!(card.body.contains(text), "{lang}: {text}\n{}", card.body);
        }
    }
    let office = b.get(&b.url("bolzano.localhost", "/uffici/anagrafe")).await;
    assert!(
        office
            .body
            .contains("<p class=\"sp-de-title\" lang=\"de\">Meldeamt</p>"),
        "{}",
        office.body
    );
    let list = b.get(&b.url("bolzano.localhost", "/servizi")).await;
    assert!(
        list.body
            .contains("<p class=\"sp-de\" lang=\"de\">Wohnsitzbescheinigung</p>"),
        "{}",
        list.body
    );
    // German words find the service.
    let (_, found) = app
        .json(
            "bolzano.localhost",
            "/api/v1/search?q=Wohnsitzbescheinigung",
        )
        .await;
    assert_eq!(
        found["services"][0]["id"], "certificato-residenza",
        "{found}"
    );
    assert_eq!(found["services"][0]["title_de"], "Wohnsitzbescheinigung");

    // Pisa: no German anywhere, and no German fields in its console.
    let pisa = b
        .get(&b.url("pisa.localhost", "/servizi/certificato-residenza"))
        .await;
    assert!(!pisa.body.contains("lang=\"de\""));
    let mut pisa_admin = crate::actors::signed_in(
        &app,
        Realm::Commune(sportello_domain::TenantId(50026)),
        "pisa.localhost",
        "admin@pisa.example",
        "admin",
    )
    .await;
    let form = pisa_admin
        .get(&pisa_admin.url("pisa.localhost", "/console/servizi/certificato-residenza"))
        .await;
    assert!(form.body.contains("name=\"title_en\""), "{}", form.body);
    assert!(!form.body.contains("name=\"title_de\""));

    // Bolzano's administrator edits the German; the public page follows at once.
    let mut admin = crate::actors::signed_in(
        &app,
        Realm::Commune(BOLZANO),
        "bolzano.localhost",
        "admin@bolzano.example",
        "admin",
    )
    .await;
    let url = admin.url("bolzano.localhost", "/console/servizi/accesso-atti");
    let form = admin.get(&url).await;
    assert_eq!(
        form.input("title_de").as_deref(),
        Some("Zugang zu Verwaltungsunterlagen")
    );
    let csrf = form.input("csrf").unwrap();
    let saved = admin
        .post(
            &url,
            &[
                ("title", "Accesso agli atti"),
                ("title_de", "Akteneinsicht"),
                ("summary", "Richiesta di visione o copia di documenti."),
                (
                    "summary_de",
                    "Antrag auf Einsicht oder Abschrift von Unterlagen.",
                ),
                ("audience", "citizens"),
                ("online_level", "none"),
                ("channel:desk", "on"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(saved.url.contains("esito=salvato"), "{}", saved.body);
    let card = b
        .get(&b.url("bolzano.localhost", "/servizi/accesso-atti"))
        .await;
    assert!(
        card.body
            .contains("<p class=\"sp-de-title\" lang=\"de\">Akteneinsicht</p>"),
        "{}",
        card.body
    );
    // An emptied German text is no longer shown (the description was left out of the form).
    assert!(!card.body.contains("<p class=\"sp-prewrap\" lang=\"de\">"));
}
