//! Every form answers a mistake with the same form: the values kept, the reason by each field
//! in the person's language, a summary at the top linking to each field; destructive actions
//! ask for a confirmation and a reason that goes to the audit log.

use sportello_domain::TenantId;
use sportello_store::staff::Realm;
use sportello_tests::browser::Page;
use sportello_tests::{StatusCode, spawn_app};

use crate::actors::signed_in;

const PISA: TenantId = TenantId(50026);

/// The summary's links, in order.
fn summary_links(p: &Page) -> Vec<String> {
    let Some(start) = p.body.find("id=\"error-summary\"") else {
        return vec![];
    };
    let end = p.body[start..]
        .find("</div>")
        .map_or(p.body.len(), |e| start + e);
    p.body[start..end]
        .split("<a href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_refused_console_form_comes_back_with_the_values_and_the_reasons_by_the_fields() {
    let app = spawn_app().await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "admin@pisa.example",
        "admin",
    )
    .await;
    let url = admin.url("pisa.localhost", "/console/uffici/anagrafe");
    let page = admin.get(&url).await;
    let csrf = page.input("csrf").unwrap();
    let sent = [
        ("name", ""),
        ("description", "Un testo lungo che non deve andare perso"),
        ("hours", "lun 8.30-12.30"),
        ("closures", ""),
        ("email", "non-un-indirizzo"),
        ("phone", "050 910111"),
        ("csrf", csrf.as_str()),
    ];
    let bad = admin.post(&url, &sent).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    // Every mistake at once, in the form's order, each linking to its field.
    assert_eq!(
        summary_links(&bad),
        ["#s1-name", "#s1-email", "#s1-hours"],
        "{}",
        bad.body
    );
    // The reasons, by the fields, in Italian; the summary takes the focus.
    assert!(
        bad.body
            .contains("id=\"s1-name-error\">Compila questo campo.")
    );
    assert!(
        bad.body.contains(
            "id=\"s1-hours-error\">«8.30-12.30» non è un orario nella forma 08:30-12:30."
        ),
        "{}",
        bad.body
    );
    assert!(
        bad.body
            .contains("id=\"s1-email-error\">Scrivi un indirizzo e-mail")
    );
    assert!(
        bad.body
            .contains("tabindex=\"-1\" autofocus id=\"error-summary\"")
    );
    assert!(bad.body.contains("aria-invalid=\"true\""));
    // What was typed is there to correct, not to type again.
    assert!(
        bad.body
            .contains(">Un testo lungo che non deve andare perso</textarea>")
    );
    assert!(bad.body.contains(">lun 8.30-12.30</textarea>"));
    assert!(bad.body.contains("value=\"non-un-indirizzo\""));
    assert!(bad.body.contains("value=\"050 910111\""));
    // Nothing was written.
    let again = admin.get(&url).await;
    assert!(
        !again
            .body
            .contains("Un testo lungo che non deve andare perso")
    );
    // In English for a person reading English.
    admin.set_cookie("pisa.localhost", "lang", "en");
    let en = admin.post(&url, &sent).await;
    assert_eq!(en.status, StatusCode::BAD_REQUEST);
    assert!(en.body.contains("There is a problem"), "{}", en.body);
    assert!(
        en.body
            .contains("“8.30-12.30” is not a time range like 08:30-12:30.")
    );
}

#[tokio::test]
async fn registration_shows_every_mistake_at_once_and_never_sends_a_password_back() {
    let app = spawn_app().await;
    let mut b = sportello_tests::browser::Browser::new(app.addr);
    let url = b.url("login.localhost", "/registrati");
    let form = b.get(&url).await;
    // The consent box links to the notice it asks the person to have read.
    assert!(form.body.contains("/privacy\">"), "{}", form.body);
    let csrf = form.input("csrf").unwrap();
    let bad = b
        .post(
            &url,
            &[
                ("given_name", ""),
                ("family_name", "Bianchi"),
                ("email", "anna@"),
                ("password", "corta"),
                ("password_again", "corta"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        summary_links(&bad),
        ["#given_name", "#email", "#password", "#privacy"],
        "{}",
        bad.body
    );
    assert!(
        bad.body
            .contains("La password deve avere almeno 12 caratteri.")
    );
    assert!(bad.body.contains("Per registrarti conferma di aver letto"));
    assert!(bad.body.contains("value=\"Bianchi\""));
    assert!(bad.body.contains("value=\"anna@\""));
    assert!(!bad.body.contains("corta"), "a password is never sent back");
    // Two different passwords: said on the second field.
    let differ = b
        .post(
            &url,
            &[
                ("given_name", "Anna"),
                ("family_name", "Bianchi"),
                ("email", "anna@example.org"),
                ("password", "la torre pende 1173"),
                ("password_again", "la torre pende 1174"),
                ("privacy", "yes"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        summary_links(&differ),
        ["#password_again"],
        "{}",
        differ.body
    );
    assert!(
        differ
            .body
            .contains("name=\"privacy\" value=\"yes\" checked")
    );
}

#[tokio::test]
async fn destructive_actions_ask_for_a_confirmation_and_a_reason_that_is_audited() {
    let app = spawn_app().await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "admin@pisa.example",
        "admin",
    )
    .await;
    let page = admin
        .get(&admin.url("pisa.localhost", "/console/uffici"))
        .await;
    let csrf = page.input("csrf").unwrap();
    let created = admin
        .post(
            &admin.url("pisa.localhost", "/console/uffici"),
            &[
                ("id", "ufficio-prova"),
                ("name", "Ufficio prova"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(created.url.contains("ufficio-prova"), "{}", created.body);
    let delete = admin.url("pisa.localhost", "/console/uffici/ufficio-prova/elimina");
    let asked = admin.post(&delete, &[("csrf", &csrf)]).await;
    assert_eq!(asked.status, StatusCode::BAD_REQUEST);
    let reason_field = summary_links(&asked);
    assert_eq!(reason_field.len(), 2, "{}", asked.body);
    assert!(reason_field[0].ends_with("-reason") && reason_field[1].ends_with("-confirm"));
    assert!(asked.body.contains("Spunta la conferma per procedere."));
    let tx = app.store.tenant(PISA).await.unwrap();
    assert!(tx.db().office_row("ufficio-prova").await.unwrap().is_some());
    drop(tx);
    let done = admin
        .post(
            &delete,
            &[
                ("reason", "ufficio accorpato all'URP"),
                ("confirm", "on"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(done.url.contains("esito=eliminato"), "{}", done.body);
    // (Read through the commune's own transaction: on PostgreSQL row-level security hides
    // every commune's rows from a connection that names none.)
    let tx = app.store.tenant(PISA).await.unwrap();
    let logged = tx.db().audit_log(50).await.unwrap();
    drop(tx);
    assert!(
        logged.iter().any(|e| e.action == "office_deleted"
            && e.detail.contains("ufficio accorpato all'URP")),
        "{logged:?}"
    );
    // Nobody is offered the removal of their own account or roles (the service refuses them
    // anyway); another person's page offers both.
    let staff = admin
        .get(&admin.url("pisa.localhost", "/console/personale"))
        .await;
    let own_link = staff
        .body
        .split("href=\"/console/personale/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let own = admin
        .get(&admin.url("pisa.localhost", &format!("/console/personale/{own_link}")))
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.contains("admin@pisa.example"), "{}", own.body);
    assert!(!own.body.contains("/elimina\""), "{}", own.body);
    assert!(!own.body.contains("/ruoli\""), "{}", own.body);
    let (other, _) = sportello_identity::staff::invite(
        &app.store,
        Realm::Commune(PISA),
        "clerk@pisa.example",
        "Carla Clerk",
        "clerk",
    )
    .await
    .unwrap();
    let theirs = admin
        .get(&admin.url("pisa.localhost", &format!("/console/personale/{other}")))
        .await;
    assert!(
        theirs
            .body
            .contains(&format!("/console/personale/{other}/elimina\""))
    );
    assert!(
        theirs
            .body
            .contains(&format!("/console/personale/{other}/ruoli\""))
    );
}

/// The console speaks in words: permissions grouped by area with action names and the roles
/// explained, the history naming who changed what, roles naming their office.
#[tokio::test]
async fn the_console_shows_words_not_codes() {
    let app = spawn_app().await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "admin@pisa.example",
        "admin",
    )
    .await;
    let perms = admin
        .get(&admin.url("pisa.localhost", "/console/permessi"))
        .await;
    assert_eq!(perms.status, StatusCode::OK);
    for words in [
        "Consultare",
        "Rimborsare",
        "Pagamenti",
        "Impiegato d&#x27;ufficio",
        "Lavora le pratiche",
    ] {
        assert!(perms.body.contains(words), "{words}");
    }
    for code in [">read<", ">act_for<", ">refund<", "· offices"] {
        assert!(!perms.body.contains(code), "{code} shown");
    }
    // A save names its author in the office's history.
    let url = admin.url("pisa.localhost", "/console/uffici/anagrafe");
    let page = admin.get(&url).await;
    let csrf = page.input("csrf").unwrap();
    let name = page.input("name").unwrap();
    let saved = admin
        .post(
            &url,
            &[
                ("name", name.as_str()),
                ("description", "Nuova descrizione"),
                ("csrf", csrf.as_str()),
            ],
        )
        .await;
    assert!(saved.url.contains("esito=salvato"), "{}", saved.body);
    let history = saved.body.rsplit("<table").next().unwrap_or("");
    assert!(history.contains("admin@pisa.example"), "{}", saved.body);
    assert!(!saved.body.contains("staff:"), "{}", saved.body);
}

/// Opening hours typed as rows of times (a weekday per row, a second slot, closures with a
/// date and a reason), the text lines still accepted; a mistake comes back in the rows.
#[tokio::test]
async fn opening_hours_are_edited_as_rows_of_times() {
    let app = spawn_app().await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "admin@pisa.example",
        "admin",
    )
    .await;
    let url = admin.url("pisa.localhost", "/console/uffici/anagrafe");
    let page = admin.get(&url).await;
    assert!(
        page.body
            .contains("type=\"time\" class=\"form-control\" name=\"week:mon:1:from\"")
    );
    let csrf = page.input("csrf").unwrap();
    let name = page.input("name").unwrap();
    let hours_was = page.input("hours_was").unwrap();
    let closures_was = page.input("closures_was").unwrap();
    let form = |tue_to: &'static str| {
        vec![
            ("name", name.clone()),
            ("week:mon:1:from", "09:00".to_owned()),
            ("week:mon:1:to", "12:30".to_owned()),
            ("week:mon:2:from", "".to_owned()),
            ("week:mon:2:to", "".to_owned()),
            ("week:tue:1:from", "14:00".to_owned()),
            ("week:tue:1:to", tue_to.to_owned()),
            ("week:thu:2:from", "15:00".to_owned()),
            ("week:thu:2:to", "17:30".to_owned()),
            ("closure:1:date", "2026-12-24".to_owned()),
            ("closure:1:hours", "".to_owned()),
            ("closure:1:note", "Vigilia di Natale".to_owned()),
            ("closure:2:date", "".to_owned()),
            ("closure:2:hours", "".to_owned()),
            ("closure:2:note", "".to_owned()),
            ("hours", hours_was.clone()),
            ("hours_was", hours_was.clone()),
            ("closures", closures_was.clone()),
            ("closures_was", closures_was.clone()),
            ("csrf", csrf.clone()),
        ]
    };
    // Tuesday closing before it opens: the rows come back with what was typed.
    let bad = form("10:00");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = admin.post(&url, &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("id=\"s1-week\""), "{}", refused.body);
    assert!(refused.body.contains("«14:00-10:00»"), "{}", refused.body);
    assert!(
        refused
            .body
            .contains("name=\"week:tue:1:to\" value=\"10:00\""),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("name=\"closure:1:note\" value=\"Vigilia di Natale\"")
    );
    let good = form("18:00");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = admin.post(&url, &good).await;
    assert!(saved.url.contains("esito=salvato"), "{}", saved.body);
    let tx = app.store.tenant(PISA).await.unwrap();
    let office = tx.db().office("anagrafe").await.unwrap().unwrap();
    drop(tx);
    assert_eq!(
        office.hours.weekly.to_lines(),
        "lun 09:00-12:30\nmar 14:00-18:00\ngio 15:00-17:30\n"
    );
    assert_eq!(office.hours.closures.len(), 1);
    assert_eq!(
        office.hours.closures[0].note.as_deref(),
        Some("Vigilia di Natale")
    );
    // The text lines still work for whoever prefers them: changed, they win.
    let page = admin.get(&url).await;
    let csrf = page.input("csrf").unwrap();
    let was = page.input("hours_was").unwrap();
    let text = admin
        .post(
            &url,
            &[
                ("name", name.as_str()),
                ("week:mon:1:from", "09:00"),
                ("week:mon:1:to", "12:30"),
                ("hours", "ven 08:00-13:00"),
                ("hours_was", was.as_str()),
                ("csrf", csrf.as_str()),
            ],
        )
        .await;
    assert!(text.url.contains("esito=salvato"), "{}", text.body);
    let tx = app.store.tenant(PISA).await.unwrap();
    let office = tx.db().office("anagrafe").await.unwrap().unwrap();
    assert_eq!(office.hours.weekly.to_lines(), "ven 08:00-13:00\n");
}

/// A refused save of the permissions comes back with the boxes as they were ticked, the reason
/// in words; a refused button beside a form does not fill that form.
#[tokio::test]
async fn refused_permissions_keep_the_ticks_and_a_button_does_not_fill_a_form() {
    let app = spawn_app().await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "admin@pisa.example",
        "admin",
    )
    .await;
    let url = admin.url("pisa.localhost", "/console/permessi");
    let page = admin.get(&url).await;
    let csrf = page.input("csrf").unwrap();
    // Only one box: the clerk deletes offices; the administrators lose the permissions.
    let refused = admin
        .post(&url, &[("p:clerk:offices:delete", "on"), ("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("gli amministratori"),
        "{}",
        refused.body
    );
    assert!(
        !refused.body.contains("administrators must"),
        "no English inside Italian"
    );
    assert!(
        refused
            .body
            .contains("name=\"p:clerk:offices:delete\" value=\"on\" checked"),
        "the tick sent is kept"
    );
    assert!(
        !refused
            .body
            .contains("name=\"p:admin:policies:update\" value=\"on\" checked"),
        "the tick removed stays removed"
    );
    // A refused "take the role away" button: the "give a role" form stays as it was.
    let (clerk, _) = sportello_identity::staff::invite(
        &app.store,
        Realm::Commune(PISA),
        "clerk@pisa.example",
        "Carla Clerk",
        "clerk",
    )
    .await
    .unwrap();
    let bad = admin
        .post(
            &admin.url(
                "pisa.localhost",
                &format!("/console/personale/{clerk}/ruoli"),
            ),
            &[
                ("role", "admin"),
                ("office", "fantasma"),
                ("op", "remove"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(
        !bad.body.contains("<option value=\"admin\" selected>"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("id=\"error-summary\""));
}
