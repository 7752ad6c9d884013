//! Every route, from the server's own table: another method gets 405 with `Allow`; every form
//! refuses a token that is not this browser's (CSRF), whoever sends it.

use sportello_store::staff::Realm;
use sportello_tests::browser::Browser;
use sportello_tests::{StatusCode, TestApp, spawn_app};

use crate::actors::{allowed, signed_in};

const FORM_EXPIRED: &str = "Il modulo è scaduto o non arriva da questo sito";

/// A concrete path for a route pattern (`{id}` → `x`).
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The hosts of the test federation, with their kind's bit (`sportello_web::on`).
const HOSTS: [(&str, u8); 3] = [
    ("pisa.localhost", 1),
    ("localhost", 2),
    ("login.localhost", 4),
];

/// Every routed path: the methods it answers on each kind of host.
fn table() -> Vec<(String, Vec<(&'static str, u8)>)> {
    sportello_web::registered_routes(false)
        .expect("a server was started")
        .all()
        .map(|(p, m)| (p.to_owned(), m.to_vec()))
        .collect()
}

async fn send(app: &TestApp, method: &str, host: &str, path: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("http://{}{path}", app.addr),
        )
        .header("host", format!("{host}:{}", app.port()))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_route_answers_other_methods_with_405_and_allow() {
    let app = spawn_app().await;
    // A worker has built its routes once it has answered.
    app.text("localhost", "/healthz").await;
    let routes = table();
    assert!(routes.len() > 60, "{}", routes.len());
    for (pattern, methods) in &routes {
        let path = concrete(pattern);
        for (host, bit) in HOSTS {
            // What this kind of host serves on this path.
            let mut expected: Vec<&str> = methods
                .iter()
                .filter(|(_, h)| h & bit != 0)
                .map(|(m, _)| *m)
                .collect();
            // Methods no host answers on this path (a method another kind of host answers is
            // routed to the handler, which says 404 there itself).
            let anywhere = |m: &str| methods.iter().any(|(x, _)| *x == m);
            let other = if anywhere("POST") && !anywhere("GET") {
                vec!["GET", "PUT", "DELETE"]
            } else if anywhere("POST") {
                vec!["PUT", "PATCH"]
            } else {
                vec!["POST", "DELETE", "OPTIONS"]
            };
            if expected.contains(&"GET") {
                expected.push("HEAD");
            }
            for method in other {
                let r = send(&app, method, host, &path).await;
                if expected.is_empty() {
                    // Another kind of host's route: not there, and no hint that it is elsewhere.
                    assert_eq!(
                        r.status(),
                        StatusCode::NOT_FOUND,
                        "{method} {path} on {host}"
                    );
                    assert!(
                        !r.headers().contains_key("allow"),
                        "{method} {path} on {host}"
                    );
                    continue;
                }
                assert_eq!(
                    r.status(),
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} on {host}"
                );
                let allow = r.headers()["allow"].to_str().unwrap().to_owned();
                let mut got: Vec<&str> = allow.split(", ").collect();
                got.sort();
                let mut want = expected.clone();
                want.sort();
                assert_eq!(got, want, "{method} {path} on {host}");
                assert!(r.headers().contains_key("x-request-id"));
                let body = r.text().await.unwrap();
                if path.starts_with("/api/") {
                    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(v["error"]["status"], 405, "{body}");
                    assert!(v["error"]["request_id"].is_string(), "{body}");
                } else {
                    assert!(body.contains("id=\"request-id\""), "{path}: {body}");
                }
            }
        }
    }
    // A path that exists for no method stays a 404.
    let r = send(&app, "DELETE", "pisa.localhost", "/nowhere").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!r.headers().contains_key("allow"));
}

/// An administrator of Pisa, signed in on its console.
async fn pisa_admin(app: &TestApp, email: &str) -> Browser {
    let pisa = sportello_domain::TenantId(50026);
    signed_in(app, Realm::Commune(pisa), "pisa.localhost", email, "admin").await
}

/// A form field and its cookie, drawn by another browser: a valid pair, for someone else.
async fn someone_elses_pair(app: &TestApp, host: &str) -> (String, String) {
    let mut b = Browser::new(app.addr);
    let form = if host == "login.localhost" {
        "/registrati"
    } else {
        "/console/accedi"
    };
    let page = b.get(&b.url(host, form)).await;
    let field = page.input("csrf").expect("a form");
    let cookie = b.cookie(host, "sportello_csrf").expect("csrf cookie");
    (cookie, field)
}

/// Every form, posted by a browser that holds a session on its host (a citizen on a commune's
/// pages and the sign-in host, an administrator on the commune's console, federation staff on
/// the apex). A browser with no session at all has nothing to bind a form to but its own cookie:
/// there the `Origin` check stands alone (`forms_without_the_csrf_token_or_from_another_origin_are_refused`).
#[tokio::test]
async fn every_form_refuses_a_token_drawn_for_another_browser() {
    let (app, mail) = crate::identity::app_with_mail().await;
    let (anna, _) = crate::identity::anna_at_pisa(&app, &mail).await;
    let admin = pisa_admin(&app, "admin@comune.pisa.it").await;
    // Working a case is a clerk's (an administrator reads cases, does not decide them).
    let clerk = signed_in(
        &app,
        Realm::Commune(sportello_domain::TenantId(50026)),
        "pisa.localhost",
        "clerk@comune.pisa.it",
        "clerk",
    )
    .await;
    // Filing for citizens is a desk's.
    let desk = signed_in(
        &app,
        Realm::Commune(sportello_domain::TenantId(50026)),
        "pisa.localhost",
        "desk@comune.pisa.it",
        "front_desk",
    )
    .await;
    // Checking the registry is a verifier's.
    let verifier = signed_in(
        &app,
        Realm::Commune(sportello_domain::TenantId(50026)),
        "pisa.localhost",
        "verifier@comune.pisa.it",
        "verifier",
    )
    .await;
    let fed = signed_in(
        &app,
        Realm::Federation,
        "localhost",
        "ops@federazione.example",
        "federation",
    )
    .await;
    let mut tried = 0;
    for (pattern, methods) in table() {
        // The SAML binding's answer comes from the identity provider's page, cross-site by
        // design: its signature and pending request protect it, not a form token.
        let Some((_, on)) = methods.iter().find(|(m, _)| *m == "POST") else {
            continue;
        };
        // Likewise an SMS gateway's delivery report: a machine's post, proven by the
        // commune's secret (tests/notify.rs), with no browser or form involved.
        // And Stripe's events: signed over the raw body (tests/payments_stripe.rs).
        if pattern == "/saml/acs" || pattern == "/sms/esiti" || pattern == "/stripe/webhook" {
            continue;
        }
        // A file's upload is multipart/form-data, which this form-encoded probe cannot be: its
        // token is checked in the multipart body (tests/cases_files.rs and tests/payments_web.rs post
        // a forged one).
        // The API's acts take JSON only, which a form of another site cannot send
        // (tests/cases_api.rs posts a form to one).
        if pattern.starts_with("/api/") {
            continue;
        }
        if pattern.ends_with("/allegati/{field}")
            || pattern == "/area-personale/pratiche/{id}/allegati"
            || pattern == "/console/deleghe"
            || pattern == "/console/pratiche/{id}/documento"
            || pattern == "/console/pagamenti/importa"
            || pattern == "/console/anagrafe/importa"
        {
            continue;
        }
        let path = concrete(&pattern);
        let hosts: Vec<&str> = HOSTS
            .iter()
            .filter(|(_, bit)| on & bit != 0)
            .map(|(h, _)| *h)
            .collect();
        for host in &hosts {
            let browser = match (*host, pattern.starts_with("/console")) {
                ("localhost", _) => &fed,
                (_, true) if pattern.starts_with("/console/pratiche/") => &clerk,
                (_, true) if pattern.starts_with("/console/verifiche") => &verifier,
                (_, true)
                    if pattern.starts_with("/console/sportello")
                        || pattern.starts_with("/console/deleghe") =>
                {
                    &desk
                }
                (_, true) => &admin,
                _ => &anna,
            };
            // Positive control: this browser's own form token passes the check (the answer is
            // then the handler's: a missing field, a redirect…). Sign-outs are left out: they
            // would end the session the other posts need.
            if !path.ends_with("/esci") {
                let mut own = browser.on_node(app.addr);
                let page = own.get(&own.url(host, "/")).await;
                let mine = page
                    .input("csrf")
                    .or_else(|| own.cookie(host, "sportello_csrf").map(|_| String::new()));
                let mine = match mine {
                    Some(f) if !f.is_empty() => f,
                    _ => {
                        let door = if pattern.starts_with("/console") {
                            "/console"
                        } else if *host == "login.localhost" {
                            "/registrati"
                        } else {
                            "/area-personale"
                        };
                        own.get(&own.url(host, door)).await.input("csrf").unwrap()
                    }
                };
                let r = own.post(&own.url(host, &path), &[("csrf", &mine)]).await;
                assert!(
                    !r.body.contains(FORM_EXPIRED),
                    "{path} on {host}: the browser's own token refused"
                );
            }
            // The pair someone else holds, planted in this browser: the double-submit check
            // alone would accept it.
            let mut b = browser.on_node(app.addr);
            let (cookie, field) = someone_elses_pair(&app, host).await;
            b.set_cookie(host, "sportello_csrf", &cookie);
            let r = b.post(&b.url(host, &path), &[("csrf", &field)]).await;
            assert!(allowed(&r), "{path} on {host}: the guard refused first");
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} on {host}");
            assert!(
                r.body.contains(FORM_EXPIRED),
                "{path} on {host}: {}",
                r.body
            );
            tried += 1;
        }
    }
    assert!(tried > 25, "{tried} forms tried");
}

#[tokio::test]
async fn a_form_outlives_neither_the_session_it_was_drawn_for_nor_another_browser() {
    let app = spawn_app().await;
    let mut admin = pisa_admin(&app, "admin@comune.pisa.it").await;
    // A sign-out form drawn for the admin's session works for it, not in another browser
    // holding the same cookies but another session.
    let page = admin.get(&admin.url("pisa.localhost", "/console")).await;
    let mine = page.input("csrf").unwrap();
    let mut other = pisa_admin(&app, "other@comune.pisa.it").await;
    let my_cookie = admin.cookie("pisa.localhost", "sportello_csrf").unwrap();
    other.set_cookie("pisa.localhost", "sportello_csrf", &my_cookie);
    let r = other
        .post(
            &other.url("pisa.localhost", "/console/esci"),
            &[("csrf", &mine)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains(FORM_EXPIRED));
    assert!(allowed(
        &other
            .get_once(&other.url("pisa.localhost", "/console"))
            .await
    ));
    // The admin's own form signs the admin out.
    let r = admin
        .post(
            &admin.url("pisa.localhost", "/console/esci"),
            &[("csrf", &mine)],
        )
        .await;
    assert!(r.status.is_success(), "{}", r.status);
    let after = admin
        .get_once(&admin.url("pisa.localhost", "/console"))
        .await;
    assert!(!allowed(&after), "signed out");
}
