//! Sign-in with a password account, single sign-on across communes, logout everywhere, step-up,
//! sessions and CSRF — against the real server, with mail through a real SMTP server (aiosmtpd).

use sportello_tests::browser::{Browser, Page};
use sportello_tests::counterparts::MailSink;
use sportello_tests::{Options, StatusCode, TestApp, spawn_app_with, tenants_folder};

use crate::fixtures::*;

const PASSWORD: &str = "la torre pende 1173";

pub(crate) async fn app_with_mail() -> (TestApp, MailSink) {
    app_with_mail_and(|_| {}).await
}

pub(crate) async fn app_with_mail_and(
    more: impl FnOnce(&mut sportello_web::Settings) + 'static,
) -> (TestApp, MailSink) {
    let mail = MailSink::start();
    let port = mail.port;
    let app = spawn_app_with(Options {
        settings: Box::new(move |s| {
            s.smtp_url = sportello_web::Secret::new(format!("smtp://127.0.0.1:{port}"));
            more(s);
        }),
        ..Options::default()
    })
    .await;
    (app, mail)
}

fn link_in(mail: &str, path: &str) -> String {
    let i = mail
        .find(path)
        .unwrap_or_else(|| panic!("no {path} link in:\n{mail}"));
    let start = mail[..i].rfind("http").expect("link start");
    let end = mail[i..]
        .find(|c: char| c.is_whitespace())
        .map_or(mail.len(), |e| i + e);
    mail[start..end].to_owned()
}

async fn session_count(app: &TestApp) -> i64 {
    app.store.identity().session_count().await.expect("count")
}

/// Fills in the registration form (without confirming the address).
async fn register(b: &mut Browser, email: &str) -> Page {
    register_named(b, email, "Anna").await
}

async fn register_named(b: &mut Browser, email: &str, given_name: &str) -> Page {
    let form = b.get(&b.url("login.localhost", "/registrati")).await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.input("csrf").expect("csrf field");
    b.post(
        &b.url("login.localhost", "/registrati"),
        &[
            ("given_name", given_name),
            ("family_name", "Bianchi"),
            ("email", email),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
            ("privacy", "yes"),
            ("csrf", &csrf),
        ],
    )
    .await
}

/// Registers, confirms the address through the mailed link, and returns the browser.
async fn registered(app: &TestApp, mail: &MailSink, email: &str) -> Browser {
    registered_as(app, mail, 1, email, "Anna").await
}

/// The same for the `nth` mail of the test and another first name.
async fn registered_as(
    app: &TestApp,
    mail: &MailSink,
    nth: usize,
    email: &str,
    given_name: &str,
) -> Browser {
    let mut b = Browser::new(app.addr);
    let done = register_named(&mut b, email, given_name).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let m = mail.wait_for(nth).await;
    assert!(m.contains(&format!("To: {email}")), "{m}");
    let link = link_in(&m, "/verifica?token=");
    let confirmed = b.get(&link).await;
    assert_eq!(confirmed.status, StatusCode::OK);
    // A confirmation link works once.
    assert_eq!(b.get(&link).await.status, StatusCode::FORBIDDEN);
    b
}

/// Anna registers, confirms, and signs in with her password at Pisa's personal area.
pub(crate) async fn anna_at_pisa(app: &TestApp, mail: &MailSink) -> (Browser, Page) {
    let mut b = registered(app, mail, "anna@example.org").await;
    let p = sign_in_with_password(
        &mut b,
        "pisa.localhost",
        "/area-personale",
        "anna@example.org",
        PASSWORD,
    )
    .await;
    (b, p)
}

/// A second person (the `nth` mail of the test) signed in at Pisa: whatever ends Anna's
/// sessions must leave Bruno's alone.
pub(crate) async fn bruno_at_pisa(app: &TestApp, mail: &MailSink, nth: usize) -> Browser {
    let mut b = registered_as(app, mail, nth, "bruno@example.org", "Bruno").await;
    let p = sign_in_with_password(
        &mut b,
        "pisa.localhost",
        "/area-personale",
        "bruno@example.org",
        PASSWORD,
    )
    .await;
    assert!(p.body.contains("Bruno Bianchi"), "{}", p.body);
    b
}

/// Whether this browser's session at Pisa ends within the node's session-cache refresh.
async fn ends_soon(app: &TestApp, b: &Browser) -> bool {
    sportello_tests::eventually(|| {
        let mut b = b.on_node(app.addr);
        async move { !still_in(&mut b).await }
    })
    .await
}

/// Whether this browser is still signed in at Pisa (its personal area opens).
async fn still_in(b: &mut Browser) -> bool {
    b.get_once(&b.url("pisa.localhost", "/area-personale"))
        .await
        .status
        == StatusCode::OK
}

/// From a commune's sign-in link through the password form, back to the commune.
async fn sign_in_with_password(
    b: &mut Browser,
    host: &str,
    next: &str,
    email: &str,
    pw: &str,
) -> Page {
    let page = b.get(&b.url(host, &format!("/accedi?next={next}"))).await;
    assert!(page.url.contains("login.localhost"), "{:?}", b.trail);
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.input("csrf").expect("csrf");
    b.post(
        &b.url("login.localhost", "/password"),
        &[("email", email), ("password", pw), ("csrf", &csrf)],
    )
    .await
}

#[tokio::test]
async fn password_account_signs_in_once_for_every_commune_and_signs_out_everywhere() {
    let (app, mail) = app_with_mail().await;
    let (mut b, home) = anna_at_pisa(&app, &mail).await;
    assert_eq!(home.status, StatusCode::OK, "{:?}", b.trail);
    assert!(
        home.url
            .starts_with(&b.url("pisa.localhost", "/area-personale")),
        "{}",
        home.url
    );
    assert!(home.body.contains("Anna Bianchi"));
    assert!(
        home.body.contains("id=\"session-level\">1<"),
        "password sign-in is level 1"
    );
    // The cookie is technical and scoped: HttpOnly, SameSite=Lax, host-only, path /.
    assert!(b.cookie("pisa.localhost", "sportello_sid").is_some());

    // Another commune: no prompt, straight in through a one-time code.
    let calci = b.get(&b.url("calci.localhost", "/area-personale")).await;
    assert_eq!(calci.status, StatusCode::OK, "{:?}", b.trail);
    assert!(calci.url.contains("calci.localhost"));
    assert!(calci.body.contains("Anna Bianchi"));
    // The trail is this navigation's redirects.
    let walked = &b.trail;
    assert!(
        walked.iter().any(|u| u.contains("/accedi/ritorno?code=")),
        "{walked:?}"
    );
    // On the sign-in host only the hand-off's redirect, never its sign-in page.
    let on_login: Vec<_> = walked
        .iter()
        .filter(|u| u.contains("login.localhost"))
        .collect();
    assert!(!on_login.is_empty(), "{walked:?}");
    assert!(
        on_login.iter().all(|u| u.contains("/autorizza")),
        "no sign-in page: {walked:?}"
    );
    // Both communes' sessions are listed in the personal area.
    assert!(
        calci.body.contains("Comune di Pisa") && calci.body.contains("Comune di Calci"),
        "{}",
        calci.body
    );
    // The header shows the person on cached public pages too.
    let (_, anon) = app.text("pisa.localhost", "/servizi").await;
    assert!(anon.contains("/accedi?next="));
    let mine = b.get(&b.url("pisa.localhost", "/servizi")).await;
    assert!(
        mine.body
            .contains("sp-user-link\" href=\"/area-personale\""),
        "personalised header"
    );

    // On the sign-in host itself, the way back: the commune used last, and the area there.
    let login = b.get(&b.url("login.localhost", "/")).await;
    let way = login.body.split("id=\"way-back\"").nth(1).unwrap_or("");
    let way = way.split("</p>").next().unwrap_or("");
    let calci_home = b.url("calci.localhost", "/");
    assert!(
        way.contains(&format!("href=\"{calci_home}\"")),
        "{}",
        login.body
    );
    assert!(way.contains("Comune di Calci"), "{way}");
    assert!(
        way.contains(&format!("href=\"{calci_home}area-personale\"")),
        "{way}"
    );

    // Sign out on Calci: every session of this sign-in ends, Pisa included, and nobody else's.
    let mut bruno = bruno_at_pisa(&app, &mail, 2).await;
    let bruno_sessions = session_count(&app).await - 3;
    assert_eq!(bruno_sessions, 2, "Bruno's SSO and Pisa sessions");
    let csrf = calci.input("csrf").expect("csrf");
    let out = b
        .post(&b.url("calci.localhost", "/esci"), &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, StatusCode::OK);
    // The page that says so shows nobody signed in.
    assert!(
        !out.body.contains("href=\"/area-personale\""),
        "{}",
        out.body
    );
    assert!(!out.body.contains("Anna"), "{}", out.body);
    assert!(out.body.contains("href=\"/accedi?next=/\""), "{}", out.body);
    assert_eq!(session_count(&app).await, bruno_sessions, "Anna's only");
    // The per-node session cache forgets within a refresh.
    assert!(ends_soon(&app, &b).await, "signed out of Pisa too");
    assert!(still_in(&mut bruno).await, "Bruno is still signed in");
    let again = b.get(&b.url("login.localhost", "/")).await;
    assert!(
        again.body.contains("name=\"password\""),
        "sign-in host asks again"
    );
}

#[tokio::test]
async fn wrong_passwords_lock_the_account_and_unverified_accounts_cannot_sign_in() {
    let (app, mail) = app_with_mail().await;
    let mut b = registered(&app, &mail, "anna@example.org").await;
    for _ in 0..5 {
        let p = sign_in_with_password(
            &mut b,
            "pisa.localhost",
            "/",
            "anna@example.org",
            "wrong password 123",
        )
        .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN);
        assert!(p.body.contains("non sono corretti"));
    }
    let p =
        sign_in_with_password(&mut b, "pisa.localhost", "/", "anna@example.org", PASSWORD).await;
    assert_eq!(
        p.status,
        StatusCode::FORBIDDEN,
        "locked even with the right password"
    );
    assert!(p.body.contains("bloccato"));
    // An unknown address gets the same answer as a wrong password.
    let p = sign_in_with_password(
        &mut b,
        "pisa.localhost",
        "/",
        "nobody@example.org",
        PASSWORD,
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("non sono corretti"));
    assert_eq!(session_count(&app).await, 0);

    // Registering without confirming the address: no sign-in.
    let mut c = Browser::new(app.addr);
    register(&mut c, "bo@example.org").await;
    let p = sign_in_with_password(&mut c, "pisa.localhost", "/", "bo@example.org", PASSWORD).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("Conferma prima il tuo indirizzo"));
    assert_eq!(session_count(&app).await, 0);
}

#[tokio::test]
async fn password_reset_by_mail_ends_old_sessions() {
    let (app, mail) = app_with_mail().await;
    let (_b, p) = anna_at_pisa(&app, &mail).await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(session_count(&app).await, 2);
    let mut bruno = bruno_at_pisa(&app, &mail, 2).await;

    let mut other = Browser::new(app.addr);
    let form = other.get(&other.url("login.localhost", "/recupero")).await;
    let csrf = form.input("csrf").expect("csrf");
    let sent = other
        .post(
            &other.url("login.localhost", "/recupero"),
            &[("email", "anna@example.org"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK);
    let link = link_in(&mail.wait_for(3).await, "/reimposta?token=");
    let form = other.get(&link).await;
    let token = form.input("token").expect("token");
    let csrf = form.input("csrf").expect("csrf");
    let weak = other
        .post(
            &other.url("login.localhost", "/reimposta"),
            &[
                ("token", &token),
                ("password", "short"),
                ("password_again", "short"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    let new_pw = "un'altra password lunga";
    let done = other
        .post(
            &other.url("login.localhost", "/reimposta"),
            &[
                ("token", &token),
                ("password", new_pw),
                ("password_again", new_pw),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        session_count(&app).await,
        2,
        "Anna's old sessions ended, Bruno's kept"
    );
    assert!(still_in(&mut bruno).await);
    let p = sign_in_with_password(
        &mut other,
        "pisa.localhost",
        "/area-personale",
        "anna@example.org",
        PASSWORD,
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "old password refused");
    let p = sign_in_with_password(
        &mut other,
        "pisa.localhost",
        "/area-personale",
        "anna@example.org",
        new_pw,
    )
    .await;
    assert_eq!(p.status, StatusCode::OK);
}

#[tokio::test]
async fn forms_without_the_csrf_token_or_from_another_origin_are_refused() {
    let (app, mail) = app_with_mail().await;
    let mut b = registered(&app, &mail, "anna@example.org").await;
    let page = b.get(&b.url("pisa.localhost", "/accedi")).await;
    let csrf = page.input("csrf").expect("csrf");
    let login = b.url("login.localhost", "/password");
    let no_token = b
        .post(
            &login,
            &[
                ("email", "anna@example.org"),
                ("password", PASSWORD),
                ("csrf", ""),
            ],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert!(
        no_token.body.contains("Il modulo è scaduto"),
        "refusals in the page's language"
    );
    let english = b
        .post(
            &format!("{login}?lang=en"),
            &[
                ("email", "anna@example.org"),
                ("password", PASSWORD),
                ("csrf", ""),
            ],
        )
        .await;
    assert_eq!(english.status, StatusCode::FORBIDDEN);
    assert!(
        english.body.contains("This form has expired"),
        "{}",
        english.body
    );
    let cross = b
        .post_cross_site(
            &login,
            &[
                ("email", "anna@example.org"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
            "http://evil.example",
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let other_browser = Browser::new(app.addr);
    let mut other_browser = other_browser;
    let stolen = other_browser
        .post(
            &login,
            &[
                ("email", "anna@example.org"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        stolen.status,
        StatusCode::FORBIDDEN,
        "a token without its cookie"
    );
    assert_eq!(session_count(&app).await, 0);
}

/// What a commune's `/accedi` gives this browser: its hand-off state (also set as the cookie).
const STATE: &str = "state-of-this-browser-0123456789";

#[tokio::test]
async fn handoff_codes_are_single_use_bound_to_their_host_and_browser_and_short_lived() {
    let (app, mail) = app_with_mail().await;
    let mut b = registered(&app, &mail, "anna@example.org").await;
    sign_in_with_password(&mut b, "pisa.localhost", "/", "anna@example.org", PASSWORD).await;
    // Ask the sign-in host for a code for Calci (as Calci's /accedi would), without following.
    let ask = format!("/autorizza?host=calci.localhost&next=/area-personale&state={STATE}");
    b.set_cookie("calci.localhost", "sportello_handoff", STATE);
    let r = b.get_once(&b.url("login.localhost", &ask)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let loc = r.headers["location"].to_str().unwrap().to_owned();
    assert!(
        loc.starts_with(&b.url("calci.localhost", "/accedi/ritorno?code=")),
        "{loc}"
    );
    assert!(
        !loc.contains(STATE),
        "the state never travels back in the URL"
    );
    let code = loc.split("code=").nth(1).unwrap().to_owned();
    // Used on another host, even with the right cookie there: refused (and used up).
    let mut thief = Browser::new(app.addr);
    thief.set_cookie("vecchiano.localhost", "sportello_handoff", STATE);
    let wrong_host = thief
        .get(&thief.url(
            "vecchiano.localhost",
            &format!("/accedi/ritorno?code={code}"),
        ))
        .await;
    assert_eq!(wrong_host.status, StatusCode::FORBIDDEN);
    assert_eq!(
        b.get(&loc).await.status,
        StatusCode::FORBIDDEN,
        "a code dies at first use"
    );
    // A fresh one works once, and only in the browser holding the state.
    b.set_cookie("calci.localhost", "sportello_handoff", STATE);
    let r = b.get_once(&b.url("login.localhost", &ask)).await;
    let loc = r.headers["location"].to_str().unwrap().to_owned();
    let mut other = Browser::new(app.addr);
    assert_eq!(
        other.get(&loc).await.status,
        StatusCode::FORBIDDEN,
        "no state cookie"
    );
    let asked_at = sportello_store::now_micros();
    let r = b.get_once(&b.url("login.localhost", &ask)).await;
    let loc = r.headers["location"].to_str().unwrap().to_owned();
    // It lives 60 seconds.
    let code = loc.split("code=").nth(1).unwrap().to_owned();
    let expires = app
        .rows(&format!(
            "SELECT CAST(expires_at AS TEXT) FROM handoff_codes WHERE code_hash = '{}'",
            sportello_kernel::tokens::hash(&code)
        ))
        .await;
    let lifetime = expires[0][0].parse::<i64>().unwrap() - asked_at;
    assert!(
        (59_000_000..=61_000_000).contains(&lifetime),
        "{lifetime} µs"
    );
    assert_eq!(b.get(&loc).await.status, StatusCode::OK);
    // Used: refused even with the state cookie back in place (not for lack of it).
    b.set_cookie("calci.localhost", "sportello_handoff", STATE);
    assert_eq!(b.get(&loc).await.status, StatusCode::FORBIDDEN);
    // Without a state the sign-in host refuses to hand over.
    let no_state = b
        .get_once(&b.url("login.localhost", "/autorizza?host=calci.localhost&next=/"))
        .await;
    assert_eq!(no_state.status, StatusCode::BAD_REQUEST);
    // Expired codes are refused.
    let sso =
        sportello_kernel::tokens::hash(&b.cookie("login.localhost", "sportello_sso").unwrap());
    app.store
        .identity()
        .create_handoff(
            &sportello_kernel::tokens::hash("old-code"),
            &sso,
            "calci.localhost",
            "/",
            &sportello_kernel::tokens::hash(STATE),
            sportello_store::now_micros() - 1,
        )
        .await
        .unwrap();
    thief.set_cookie("calci.localhost", "sportello_handoff", STATE);
    let expired = thief
        .get(&thief.url("calci.localhost", "/accedi/ritorno?code=old-code"))
        .await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    // The sign-in host only hands over to communes of the federation (no open redirect).
    let evil = b
        .get_once(&b.url(
            "login.localhost",
            &format!("/autorizza?host=evil.example&next=/&state={STATE}"),
        ))
        .await;
    assert_eq!(evil.status, StatusCode::BAD_REQUEST);
    let evil_next = thief
        .get_once(&thief.url("pisa.localhost", "/accedi?next=//evil.example/"))
        .await;
    let loc = evil_next.headers["location"].to_str().unwrap();
    assert!(loc.contains("next=%2F&"), "{loc}");
}

#[tokio::test]
async fn nobody_can_push_their_own_sign_in_into_another_browser() {
    let (app, mail) = app_with_mail().await;
    // The victim is signed in at Pisa.
    let (mut victim, p) = anna_at_pisa(&app, &mail).await;
    assert!(p.body.contains("Anna Bianchi"));
    // The attacker, signed in with an account of their own, asks for a code for Pisa with a
    // state of their own, and makes the victim's browser open it.
    let mut attacker = registered_as(&app, &mail, 2, "mallory@example.org", "Mallory").await;
    sign_in_with_password(
        &mut attacker,
        "calci.localhost",
        "/",
        "mallory@example.org",
        PASSWORD,
    )
    .await;
    attacker.set_cookie("pisa.localhost", "sportello_handoff", STATE);
    let r = attacker
        .get_once(&attacker.url(
            "login.localhost",
            &format!("/autorizza?host=pisa.localhost&next=/area-personale&state={STATE}"),
        ))
        .await;
    let planted = r.headers["location"].to_str().unwrap().to_owned();
    // Even while the victim has a sign-in of their own under way (their own state cookie).
    victim.set_cookie(
        "pisa.localhost",
        "sportello_handoff",
        "victims-own-state-0123456789",
    );
    let p = victim.get(&planted).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // The victim is still themselves at Pisa.
    let me = victim
        .get(&victim.url("pisa.localhost", "/area-personale"))
        .await;
    assert!(
        me.body.contains("Anna Bianchi") && !me.body.contains("Mallory"),
        "{}",
        me.body
    );
}

#[tokio::test]
async fn a_service_needing_spid_level_2_asks_to_step_up_and_never_lets_level_1_in() {
    let (app, mail) = app_with_mail().await;
    let mut b = registered(&app, &mail, "anna@example.org").await;
    sign_in_with_password(&mut b, "pisa.localhost", "/", "anna@example.org", PASSWORD).await;
    // A level-1 service: in.
    let low = b
        .get(&b.url("pisa.localhost", "/servizi/lampade-votive/avvia"))
        .await;
    assert_eq!(low.status, StatusCode::OK, "{:?}", b.trail);
    assert!(low.body.contains("Anna Bianchi"));
    // A level-2 service: sent to the sign-in host, told why, no password form.
    let high = b
        .get(&b.url("pisa.localhost", "/servizi/certificato-residenza/avvia"))
        .await;
    assert!(high.url.contains("login.localhost"), "{:?}", b.trail);
    assert!(high.body.contains("SPID livello 2"), "{}", high.body);
    assert!(!high.body.contains("name=\"password\""));
    // Posting the password anyway does not get level 2.
    let csrf = b
        .cookie("login.localhost", "sportello_csrf")
        .expect("csrf cookie");
    let forced = b
        .post(
            &b.url("login.localhost", "/password"),
            &[
                ("email", "anna@example.org"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(forced.status, StatusCode::FORBIDDEN);
    let direct = b
        .get_once(&b.url("pisa.localhost", "/servizi/certificato-residenza/avvia"))
        .await;
    assert_eq!(direct.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn idle_sessions_expire_and_cookies_are_technical() {
    // Sessions re-read from the database every second (the default is 30 s).
    let (app, mail) = app_with_mail_and(|s| s.session_cache_seconds = 1).await;
    let mut b = registered(&app, &mail, "anna@example.org").await;
    let page = b
        .get(&b.url("pisa.localhost", "/accedi?next=/area-personale"))
        .await;
    let csrf = page.input("csrf").unwrap();
    // Look at the Set-Cookie of the password step itself.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("http://{}/password", app.addr))
        .header("host", format!("login.localhost:{}", app.port()))
        .header(
            "cookie",
            format!(
                "sportello_csrf={}; sportello_flow={}",
                b.cookie("login.localhost", "sportello_csrf").unwrap(),
                b.cookie("login.localhost", "sportello_flow").unwrap()
            ),
        )
        .form(&[
            ("email", "anna@example.org"),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("sportello_sso="))
        .expect("sso cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain="), "host-only: {cookie}");
    // Signed in at Pisa, then idle for 31 minutes: signed out.
    let p = sign_in_with_password(
        &mut b,
        "pisa.localhost",
        "/area-personale",
        "anna@example.org",
        PASSWORD,
    )
    .await;
    assert_eq!(p.status, StatusCode::OK);
    use sea_orm::ConnectionTrait;
    let past = sportello_store::now_micros() - 31 * 60 * 1_000_000;
    app.store
        .raw_connection()
        .execute_unprepared(&format!("UPDATE sessions SET last_seen_at = {past}"))
        .await
        .unwrap();
    // Once the node's session cache has read the session again.
    assert!(ends_soon(&app, &b).await, "idle timeout");
}

/// The absolute limit: every session of a sign-in ends 8 hours after it (the SSO session's
/// lifetime, which the commune sessions handed out never outlive), however busy it is.
#[tokio::test]
async fn sessions_end_8_hours_after_sign_in_even_when_in_use() {
    let (app, mail) = app_with_mail_and(|s| s.session_cache_seconds = 1).await;
    let (mut b, p) = anna_at_pisa(&app, &mail).await;
    assert_eq!(p.status, StatusCode::OK);
    let rows = app
        .rows("SELECT kind, CAST(created_at AS TEXT), CAST(expires_at AS TEXT) FROM sessions")
        .await;
    let eight_hours = 8 * 3600 * 1_000_000_i64;
    let sso_end: i64 = rows.iter().find(|r| r[0] == "sso").unwrap()[2]
        .parse()
        .unwrap();
    for r in &rows {
        let (created, expires): (i64, i64) = (r[1].parse().unwrap(), r[2].parse().unwrap());
        match r[0].as_str() {
            "sso" => assert_eq!(expires - created, eight_hours),
            _ => assert_eq!(expires, sso_end, "{r:?}: not beyond the sign-in's end"),
        }
    }
    // Eight hours later, in use a second ago: over.
    use sea_orm::ConnectionTrait;
    let now = sportello_store::now_micros();
    app.store
        .raw_connection()
        .execute_unprepared(&format!(
            "UPDATE sessions SET created_at = {}, expires_at = {}, last_seen_at = {now}",
            now - eight_hours - 1,
            now - 1
        ))
        .await
        .unwrap();
    assert!(ends_soon(&app, &b).await, "absolute timeout");
    assert!(!still_in(&mut b).await);
}

#[tokio::test]
async fn a_commune_on_its_own_domain_gets_the_single_sign_on_too() {
    let mail = MailSink::start();
    let port = mail.port;
    let dir = tenants_folder(&[
        (
            "pisa.toml",
            &commune_file("050026", "pisa.localhost", "alfa"),
        ),
        (
            "calci.toml",
            &commune_file("050003", "www.comune-calci.example", "beta"),
        ),
    ]);
    let app = spawn_app_with(Options {
        tenants: Some(dir.path().to_owned()),
        settings: Box::new(move |s| {
            s.smtp_url = sportello_web::Secret::new(format!("smtp://127.0.0.1:{port}"));
        }),
        ..Options::default()
    })
    .await;
    let (mut b, p) = anna_at_pisa(&app, &mail).await;
    assert_eq!(p.status, StatusCode::OK);
    let other = b
        .get(&b.url("www.comune-calci.example", "/area-personale"))
        .await;
    assert_eq!(other.status, StatusCode::OK, "{:?}", b.trail);
    assert!(other.url.contains("www.comune-calci.example"));
    assert!(other.body.contains("Anna Bianchi"));
    // The session cookie lives on that domain only.
    assert!(
        b.cookie("www.comune-calci.example", "sportello_sid")
            .is_some()
    );
}

#[tokio::test]
async fn notification_contacts_are_validated_and_kept_with_consent() {
    let (app, mail) = app_with_mail().await;
    let (mut b, p) = anna_at_pisa(&app, &mail).await;
    // The account's address is offered before any is chosen.
    assert!(
        p.body
            .contains("id=\"c-email\" name=\"email\" value=\"anna@example.org\""),
        "{}",
        p.body
    );
    let csrf = p.input("csrf").unwrap();
    let url = b.url("pisa.localhost", "/area-personale/contatti");
    let bad = b
        .post(
            &url,
            &[
                ("csrf", &csrf),
                ("email", "anna@example.org"),
                ("mobile", "12ab"),
                ("sms_consent", "yes"),
            ],
        )
        .await;
    // The same page again: what was typed kept, the reason by the field in Italian, and a
    // summary at the top linking to it.
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"c-mobile-error\""), "{}", bad.body);
    assert!(
        bad.body.contains("Scrivi un numero di cellulare"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("<a href=\"#c-mobile\">"), "{}", bad.body);
    assert!(
        bad.body.contains("name=\"mobile\" value=\"12ab\""),
        "{}",
        bad.body
    );
    assert!(
        bad.body
            .contains("name=\"sms_consent\" value=\"yes\" checked"),
        "{}",
        bad.body
    );
    assert!(
        !bad.body.contains("c-email-error"),
        "the good field has no error"
    );
    let no_number = b
        .post(
            &url,
            &[
                ("csrf", &csrf),
                ("email", ""),
                ("mobile", ""),
                ("sms_consent", "yes"),
            ],
        )
        .await;
    assert_eq!(
        no_number.status,
        StatusCode::BAD_REQUEST,
        "consent without a number"
    );
    let person = app
        .store
        .identity()
        .local_account_by_email("anna@example.org")
        .await
        .unwrap()
        .unwrap()
        .person_id;
    let before = app.store.identity().person(&person).await.unwrap().unwrap();
    assert_eq!(
        before.contact_mobile, None,
        "nothing saved by a refused form"
    );
    let ok = b
        .post(
            &url,
            &[
                ("csrf", &csrf),
                ("email", "Anna.B@Example.org"),
                ("mobile", "333 123 4567"),
                ("sms_consent", "yes"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", b.trail);
    // A new address: saved, and a code sent to prove it (see the test after this one).
    assert!(ok.url.ends_with("/area-personale?verifica=1"), "{}", ok.url);
    assert!(ok.body.contains("id=\"notice\""));
    assert!(
        ok.body.contains("value=\"+393331234567\""),
        "normalised number shown"
    );
    let after = app.store.identity().person(&person).await.unwrap().unwrap();
    assert_eq!(after.contact_email.as_deref(), Some("anna.b@example.org"));
    assert!(after.sms_consent && !after.email_consent);
    // The contacts are the person's: the same in another commune of the federation.
    let calci = b.get(&b.url("calci.localhost", "/area-personale")).await;
    assert!(calci.url.contains("calci.localhost"), "{:?}", b.trail);
    assert!(
        calci
            .body
            .contains("name=\"mobile\" value=\"+393331234567\""),
        "{}",
        calci.body
    );
    // Without a session the form is refused.
    let mut anon = Browser::new(app.addr);
    let p = anon.get(&anon.url("pisa.localhost", "/")).await;
    assert_eq!(p.status, StatusCode::OK);
    let c = anon.cookie("pisa.localhost", "sportello_csrf");
    assert!(c.is_none(), "no cookie set on a public page");
}

#[tokio::test]
async fn a_sign_out_on_one_node_ends_the_sessions_on_every_node() {
    let (app, mail) = app_with_mail().await;
    let node_b = app.another_node().await;
    let mut a = registered(&app, &mail, "anna@example.org").await;
    let p = sign_in_with_password(
        &mut a,
        "pisa.localhost",
        "/area-personale",
        "anna@example.org",
        PASSWORD,
    )
    .await;
    assert_eq!(p.status, StatusCode::OK);
    // The same browser, served by the other node: signed in there too (it has cached the session).
    let mut b = a.on_node(node_b);
    assert_eq!(
        b.get_once(&b.url("pisa.localhost", "/area-personale"))
            .await
            .status,
        StatusCode::OK
    );
    // Signing out on node A…
    let csrf = p.input("csrf").unwrap();
    a.post(&a.url("pisa.localhost", "/esci"), &[("csrf", &csrf)])
        .await;
    // …reaches node B's cache within a refresh, long before its 30 s cache time (the browser
    // on node B still sends the old cookie, as a stolen copy would).
    assert!(b.cookie("pisa.localhost", "sportello_sid").is_some());
    let gone = sportello_tests::eventually(|| {
        let mut b = b.on_node(node_b);
        async move {
            b.get_once(&b.url("pisa.localhost", "/area-personale"))
                .await
                .status
                == StatusCode::SEE_OTHER
        }
    })
    .await;
    assert!(gone, "node B still honours a session ended on node A");
    assert_eq!(
        b.get_once(&b.url("pisa.localhost", "/area-personale"))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sign_in_events_are_counted_in_the_metrics_and_expired_rows_are_purged() {
    let (app, mail) = app_with_mail().await;
    let (_b, p) = anna_at_pisa(&app, &mail).await;
    assert_eq!(p.status, StatusCode::OK);
    let mut other = Browser::new(app.addr);
    sign_in_with_password(
        &mut other,
        "pisa.localhost",
        "/",
        "nobody@example.org",
        PASSWORD,
    )
    .await;
    let (_, metrics) = app.text("localhost", "/metrics").await;
    assert!(
        metrics.contains(r#"sportello_auth_events_total{event="sign_in",idp="password"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"sportello_auth_events_total{event="handoff",idp="password"} 1"#));
    // Expired sessions, codes and revocations are deleted by the purge; live ones stay.
    let id = app.store.identity();
    let now = sportello_store::now_micros();
    id.create_handoff("h-old", "sso", "pisa.localhost", "/", "st", now - 1)
        .await
        .unwrap();
    id.create_handoff(
        "h-new",
        "sso",
        "pisa.localhost",
        "/",
        "st",
        now + 60_000_000,
    )
    .await
    .unwrap();
    id.revoke(&["r-old".into()], now - 2 * 3_600_000_000)
        .await
        .unwrap();
    let sessions_before = session_count(&app).await;
    let purged = id.purge_expired(now).await.unwrap();
    assert_eq!(purged, 2, "the old code and the old revocation");
    assert!(
        id.take_handoff("h-new", "pisa.localhost", "st", now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        id.take_handoff("h-old", "pisa.localhost", "st", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        id.revocations_since(0)
            .await
            .unwrap()
            .iter()
            .all(|(h, _)| h != "r-old")
    );
    assert_eq!(
        session_count(&app).await,
        sessions_before,
        "live sessions kept"
    );
}

#[tokio::test]
async fn parallel_guesses_cannot_get_past_the_lockout() {
    let (app, mail) = app_with_mail().await;
    let _ = registered(&app, &mail, "anna@example.org").await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let addr = app.addr;
        tasks.push(tokio::spawn(async move {
            let mut b = Browser::new(addr);
            let page = b.get(&b.url("login.localhost", "/")).await;
            let csrf = page.input("csrf").expect("csrf");
            let guess = format!("wrong guess number {i}");
            b.post(
                &b.url("login.localhost", "/password"),
                &[
                    ("email", "anna@example.org"),
                    ("password", &guess),
                    ("csrf", &csrf),
                ],
            )
            .await
            .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::FORBIDDEN);
    }
    let person = app
        .store
        .identity()
        .local_account_by_email("anna@example.org")
        .await
        .unwrap()
        .unwrap()
        .person_id;
    let log = app
        .store
        .identity()
        .audit_log(Some(&person), 100)
        .await
        .unwrap();
    let failed = log.iter().filter(|e| e.event == "sign_in_failed").count();
    let locked = log.iter().filter(|e| e.event == "sign_in_locked").count();
    assert_eq!((failed, locked), (5, 7), "only five guesses were checked");
}

/// The six digits of the verification code in a mail (its subject says them).
fn code_in(mail: &str) -> String {
    let i = mail
        .find("codice di verifica ")
        .unwrap_or_else(|| panic!("no code in:\n{mail}"))
        + "codice di verifica ".len();
    mail[i..i + 6].to_owned()
}

#[tokio::test]
async fn a_new_contact_address_is_used_only_once_proven_by_a_mailed_code() {
    let (app, mail) = app_with_mail().await;
    let (mut b, p) = anna_at_pisa(&app, &mail).await;
    let csrf = p.input("csrf").unwrap();
    let url = b.url("pisa.localhost", "/area-personale/contatti");
    let verify = b.url("pisa.localhost", "/area-personale/contatti/verifica");
    let save = |email: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("email", email.to_owned()),
            ("mobile", String::new()),
        ]
    };
    // The account's own confirmed address: proven already, no code.
    let own = save("anna@example.org");
    let own: Vec<(&str, &str)> = own.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = b.post(&url, &own).await;
    assert!(
        saved.url.ends_with("/area-personale?salvato=1"),
        "{}",
        saved.body
    );
    assert!(!saved.body.contains("id=\"email-unverified\""));
    // A new address: a code goes to it, and the page says it is not used yet.
    let new = save("anna.lavoro@example.org");
    let new: Vec<(&str, &str)> = new.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = b.post(&url, &new).await;
    assert!(
        saved.url.ends_with("/area-personale?verifica=1"),
        "{}",
        saved.body
    );
    assert!(
        saved.body.contains("id=\"email-unverified\""),
        "{}",
        saved.body
    );
    let m = mail.wait_for(2).await;
    assert!(m.contains("anna.lavoro@example.org"), "{m}");
    let code = code_in(&m);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = b.post(&verify, &[("csrf", &csrf), ("code", wrong)]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("id=\"verify-code-error\""),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("name=\"email\" value=\"anna.lavoro@example.org\"")
    );
    let proven = b.post(&verify, &[("csrf", &csrf), ("code", &code)]).await;
    assert!(
        proven.url.ends_with("/area-personale?salvato=1"),
        "{}",
        proven.body
    );
    assert!(
        !proven.body.contains("id=\"email-unverified\""),
        "{}",
        proven.body
    );
    // Another new address: a new code; a third at once, while that one waits: no mail
    // within the minute, and nothing changed.
    let other = save("anna.casa@example.org");
    let other: Vec<(&str, &str)> = other.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sent = b.post(&url, &other).await;
    assert!(sent.url.ends_with("verifica=1"), "{}", sent.body);
    let third = save("anna.mare@example.org");
    let third: Vec<(&str, &str)> = third.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let wait = b.post(&url, &third).await;
    assert_eq!(wait.status, StatusCode::FORBIDDEN, "{}", wait.body);
    assert!(wait.body.contains("aspetta un minuto"), "{}", wait.body);
    let pid = person_of(&app).await;
    let kept = app.store.identity().person(&pid).await.unwrap().unwrap();
    assert_eq!(kept.contact_email.as_deref(), Some("anna.casa@example.org"));
    // The first code proved its own address only.
    let old = b.post(&verify, &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!(old.status, StatusCode::BAD_REQUEST);
}

async fn person_of(app: &TestApp) -> String {
    app.store
        .identity()
        .local_account_by_email("anna@example.org")
        .await
        .unwrap()
        .unwrap()
        .person_id
}

#[tokio::test]
async fn a_contact_code_stops_working_after_a_few_wrong_guesses() {
    let (app, mail) = app_with_mail().await;
    let (mut b, p) = anna_at_pisa(&app, &mail).await;
    let csrf = p.input("csrf").unwrap();
    let saved = b
        .post(
            &b.url("pisa.localhost", "/area-personale/contatti"),
            &[
                ("csrf", csrf.as_str()),
                ("email", "anna.lavoro@example.org"),
                ("mobile", ""),
            ],
        )
        .await;
    assert!(saved.url.ends_with("verifica=1"), "{}", saved.body);
    let code = code_in(&mail.wait_for(2).await);
    let verify = b.url("pisa.localhost", "/area-personale/contatti/verifica");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let r = b.post(&verify, &[("csrf", &csrf), ("code", wrong)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    // The right code, too late: the code was dropped after the fifth wrong guess.
    let late = b.post(&verify, &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST, "{}", late.body);
    assert!(late.body.contains("id=\"email-unverified\""));
}
