//! Who may do what: the permission matrix of every console and API route × every role × own
//! commune / foreign commune / anonymous, written out as a table; policy changes and role
//! revocations taking effect on the next request.

use crate::actors::{allowed, signed_in};
use sportello_store::staff::Realm;
use sportello_tests::browser::Browser;
use sportello_tests::{StatusCode, spawn_app};

const PISA: sportello_domain::TenantId = sportello_domain::TenantId(50026);
const CALCI: sportello_domain::TenantId = sportello_domain::TenantId(50003);

const ALL_STAFF: &[&str] = &[
    "admin",
    "office_head",
    "clerk",
    "front_desk",
    "call_centre",
    "intermediary",
    "verifier",
];
const READ_OFFICES: &[&str] = &["admin", "office_head", "clerk", "front_desk", "call_centre"];
const READ_SERVICES: &[&str] = &[
    "admin",
    "office_head",
    "clerk",
    "front_desk",
    "call_centre",
    "intermediary",
];
const ADMIN: &[&str] = &["admin"];
const READ_CASES: &[&str] = &[
    "admin",
    "office_head",
    "clerk",
    "front_desk",
    "call_centre",
    "intermediary",
];
const WORK_CASES: &[&str] = &["office_head", "clerk"];
/// Acting for citizens; the office head holds a front desk role too in the matrix's run.
const ACT_FOR: &[&str] = &["office_head", "front_desk", "call_centre", "intermediary"];
const ADMIN_HEAD: &[&str] = &["admin", "office_head"];
const NOBODY: &[&str] = &[];
/// The registry: read by administrators and front desks (the office head holds a front desk
/// role too in the matrix's run); written by administrators.
const READ_RECORDS: &[&str] = &["admin", "office_head", "front_desk"];
const EVERYONE: &[&str] = &[
    "admin",
    "office_head",
    "clerk",
    "front_desk",
    "call_centre",
    "intermediary",
    "verifier",
    "anonymous",
    "foreign",
];

/// The commune console's routes: method, path, who may (besides, for `EVERYONE`, anonymous
/// visitors and another commune's staff). The office head is head of `anagrafe` only (what that
/// limits is checked after the guard: see below); `{me}` is the requester's own account.
#[rustfmt::skip]
const COMMUNE_MATRIX: &[(&str, &str, &[&str])] = &[
    ("GET", "/console", ALL_STAFF),
    // The door: open to everyone.
    ("GET", "/console/accedi", EVERYONE),
    ("POST", "/console/accedi", EVERYONE),
    ("GET", "/console/codice", EVERYONE),
    ("POST", "/console/codice", EVERYONE),
    ("GET", "/console/invito", EVERYONE),
    ("POST", "/console/invito", EVERYONE),
    ("POST", "/console/invito/codice", EVERYONE),
    ("GET", "/console/supporto/ingresso", EVERYONE),
    ("GET", "/console/uffici", READ_OFFICES),
    ("POST", "/console/uffici", ADMIN),
    ("GET", "/console/uffici/anagrafe", READ_OFFICES),
    ("POST", "/console/uffici/anagrafe", ADMIN_HEAD),
    ("POST", "/console/uffici/anagrafe/pubblica", ADMIN_HEAD),
    ("POST", "/console/uffici/anagrafe/elimina", ADMIN),
    ("GET", "/console/servizi", READ_SERVICES),
    ("POST", "/console/servizi", ADMIN_HEAD),
    ("GET", "/console/servizi/certificato-residenza", READ_SERVICES),
    ("POST", "/console/servizi/certificato-residenza", ADMIN_HEAD),
    ("GET", "/console/servizi/certificato-residenza/modulo", READ_SERVICES),
    ("POST", "/console/servizi/certificato-residenza/modulo", ADMIN_HEAD),
    ("GET", "/console/servizi/certificato-residenza/modulo/anteprima", READ_SERVICES),
    ("GET", "/console/personale", ADMIN_HEAD),
    ("POST", "/console/personale", ADMIN),
    ("GET", "/console/personale/{me}", ADMIN_HEAD),
    ("POST", "/console/personale/{me}/ruoli", ADMIN),
    ("POST", "/console/personale/{me}/elimina", ADMIN),
    ("GET", "/console/permessi", ADMIN),
    ("POST", "/console/permessi", ADMIN),
    ("POST", "/console/permessi/modello", ADMIN),
    ("GET", "/console/impostazioni", ADMIN),
    ("POST", "/console/impostazioni", ADMIN),
    ("GET", "/console/identita", ADMIN),
    ("POST", "/console/identita", ADMIN),
    ("POST", "/console/identita/nothing/elimina", ADMIN),
    ("GET", "/console/pratiche", READ_CASES),
    ("GET", "/console/pratiche/nothing", READ_CASES),
    ("POST", "/console/pratiche/nothing", WORK_CASES),
    ("POST", "/console/pratiche/nothing/documento", WORK_CASES),
    ("GET", "/console/pratiche/nothing/allegati/nothing", READ_CASES),
    ("GET", "/console/accesso-api", ALL_STAFF),
    ("POST", "/console/accesso-api", ALL_STAFF),
    ("POST", "/console/accesso-api/revoca", ALL_STAFF),
    // Payments: read by the roles the template gives it (the service then refuses the
    // commune's list to an intermediary: payments_web), managed by the administrator.
    ("GET", "/console/pagamenti", READ_CASES),
    ("GET", "/console/pagamenti/pagamenti", READ_CASES),
    ("GET", "/console/pagamenti/pagamenti/nothing", READ_CASES),
    // Refunds: the roles holding `refund` (the service then refuses an office's head: refunds).
    ("POST", "/console/pagamenti/pagamenti/nothing/rimborsa", ADMIN_HEAD),
    ("GET", "/console/pagamenti/riconciliazione", READ_CASES),
    ("GET", "/console/pagamenti/riconciliazione/csv", READ_CASES),
    // Tickets: offers read by the payments' readers, written by the administrator; the
    // entrance open to the same readers (the service then refuses an intermediary).
    ("GET", "/console/pagamenti/servizi", READ_CASES),
    ("POST", "/console/pagamenti/servizi/certificato-residenza", ADMIN),
    ("GET", "/console/imu", READ_CASES),
    ("POST", "/console/imu", ADMIN),
    ("GET", "/console/biglietti", READ_CASES),
    ("POST", "/console/biglietti", ADMIN),
    ("GET", "/console/biglietti/offerte/nothing", READ_CASES),
    ("POST", "/console/biglietti/offerte/nothing/orari", ADMIN),
    ("GET", "/console/biglietti/valida", READ_CASES),
    ("POST", "/console/biglietti/valida", READ_CASES),
    // Buying tickets: anyone.
    ("GET", "/biglietti", EVERYONE),
    ("GET", "/biglietti/nothing", EVERYONE),
    ("POST", "/biglietti/nothing", EVERYONE),
    ("GET", "/biglietti/ordine/nothing", EVERYONE),
    ("GET", "/biglietti/biglietto/nothing", EVERYONE),
    ("POST", "/console/pagamenti/impostazioni", ADMIN),
    ("POST", "/console/pagamenti/avvisi", ADMIN),
    ("POST", "/console/pagamenti/importa", ADMIN),
    ("GET", "/console/anagrafe", READ_RECORDS),
    ("POST", "/console/anagrafe/importa", ADMIN),
    ("POST", "/console/anagrafe/persone", ADMIN),
    ("GET", "/console/anagrafe/persone/1", READ_RECORDS),
    ("POST", "/console/anagrafe/persone/1/variazione", ADMIN),
    ("POST", "/console/anagrafe/persone/1/rettifica", ADMIN),
    ("POST", "/console/anagrafe/chiavi", ADMIN),
    ("POST", "/console/anagrafe/certificati", READ_RECORDS),
    ("POST", "/console/anagrafe/enti", ADMIN),
    ("POST", "/console/anagrafe/enti/membri", ADMIN),
    ("POST", "/console/anagrafe/enti/nothing/revoca", ADMIN),
    ("GET", "/console/anagrafe/residenze", ADMIN),
    ("GET", "/console/anagrafe/residenze/nothing", ADMIN),
    ("POST", "/console/anagrafe/residenze/nothing/registra", ADMIN),
    ("POST", "/console/anagrafe/residenze/nothing/conferma", ADMIN),
    ("POST", "/console/anagrafe/residenze/nothing/rigetta", ADMIN),
    ("GET", "/console/verifiche", &["verifier"]),
    ("POST", "/console/verifiche", &["verifier"]),
    ("POST", "/api/v1/registry/checks", &["verifier"]),
    ("GET", "/console/pagamenti/avvisi/nothing", READ_CASES),
    ("GET", "/console/pagamenti/avvisi/nothing/pdf", READ_CASES),
    ("POST", "/console/pagamenti/avvisi/nothing/annulla", ADMIN),
    ("GET", "/console/pratiche-impostazioni", ADMIN),
    ("POST", "/console/pratiche-impostazioni", ADMIN),
    ("GET", "/console/sportello", ACT_FOR),
    ("POST", "/console/sportello", ACT_FOR),
    ("POST", "/console/sportello/cittadino", ACT_FOR),
    ("GET", "/console/sportello/bozze/50026/nothing", ACT_FOR),
    ("POST", "/console/sportello/bozze/50026/nothing", ACT_FOR),
    ("GET", "/console/sportello/bozze/50026/nothing/riepilogo", ACT_FOR),
    ("POST", "/console/sportello/bozze/50026/nothing/invia", ACT_FOR),
    ("POST", "/console/sportello/bozze/50026/nothing/elimina", ACT_FOR),
    ("POST", "/console/sportello/bozze/50026/nothing/allegati/nothing", ACT_FOR),
    ("POST", "/console/sportello/bozze/50026/nothing/allegati/nothing/elimina", ACT_FOR),
    ("GET", "/console/sportello/pratiche/50026/nothing", ACT_FOR),
    ("GET", "/console/sportello/pratiche/50026/nothing/ricevuta", ACT_FOR),
    ("GET", "/console/deleghe", ACT_FOR),
    ("POST", "/console/deleghe", ACT_FOR),
    ("POST", "/console/deleghe/certificato", ACT_FOR),
    ("POST", "/console/deleghe/nothing/revoca", ACT_FOR),
    ("GET", "/console/deleghe/nothing/documento", ACT_FOR),
    ("GET", "/console/registro", ADMIN),
    ("GET", "/console/messaggi", ADMIN),
    ("POST", "/console/messaggi/sms", ADMIN),
    ("GET", "/console/avvisi", ADMIN),
    ("POST", "/console/avvisi", ADMIN),
    ("POST", "/console/avvisi/lavori/invia", ADMIN),
    ("POST", "/console/avvisi/lavori/elimina", ADMIN),
    ("POST", "/console/pubblica", ADMIN),
    ("GET", "/console/supporto", ADMIN),
    ("POST", "/console/supporto", ADMIN),
    ("POST", "/console/supporto/nothing/revoca", ADMIN),
    // Federation routes do not exist on a commune's host.
    ("GET", "/console/comuni", NOBODY),
    ("POST", "/console/comuni", NOBODY),
    ("GET", "/console/assistenza", NOBODY),
    // The public API.
    ("GET", "/api/v1/openapi.json", EVERYONE),
    // Cases in the API: the citizen's own (the handler answers 401 to staff), the back office.
    ("GET", "/api/v1/cases", EVERYONE),
    ("GET", "/api/v1/cases/nothing", EVERYONE),
    ("GET", "/api/v1/office/cases", READ_CASES),
    ("GET", "/api/v1/office/cases/nothing", READ_CASES),
    ("POST", "/api/v1/office/cases/nothing/actions", WORK_CASES),
    ("GET", "/api/v1/services", EVERYONE),
    ("GET", "/api/v1/services/certificato-residenza", EVERYONE),
    ("GET", "/api/v1/services/certificato-residenza/jsonld", EVERYONE),
    ("GET", "/api/v1/offices", EVERYONE),
    ("GET", "/api/v1/offices/anagrafe", EVERYONE),
    ("GET", "/api/v1/staff", EVERYONE),
    ("GET", "/api/v1/search?q=anagrafe", EVERYONE),
    ("GET", "/api/v1/communes", EVERYONE),
    // Signing out last (it ends the session).
    ("POST", "/console/esci", EVERYONE),
];

/// The federation console (apex host): federation staff; everyone else only at the door and the
/// public API ("commune": a Pisa administrator's session cookie replayed on the apex).
const FED: &[&str] = &["federation"];
const ALL_ON_APEX: &[&str] = &["federation", "anonymous", "commune"];
#[rustfmt::skip]
const FEDERATION_MATRIX: &[(&str, &str, &[&str])] = &[
    ("GET", "/console", FED),
    ("GET", "/console/accedi", ALL_ON_APEX),
    ("GET", "/api/v1/communes", ALL_ON_APEX),
    ("GET", "/console/comuni?q=calci", FED),
    ("GET", "/console/comuni/nuovo?istat=050001", FED),
    ("POST", "/console/comuni", FED),
    ("GET", "/console/comuni/050003/stato", FED),
    ("POST", "/console/comuni/050003/stato", FED),
    ("GET", "/console/assistenza", FED),
    // Passes the guard (then the entry is refused: Pisa granted no support access).
    ("POST", "/console/assistenza/050026/entra", FED),
    ("POST", "/console/assistenza/050026/nothing/revoca", FED),
    // A commune's pages do not exist on the apex.
    ("GET", "/console/uffici", &[]),
    ("GET", "/console/permessi", &[]),
];

async fn request(
    b: &mut Browser,
    host: &str,
    method: &str,
    path: &str,
) -> sportello_tests::browser::Page {
    if method == "GET" {
        // Not following redirects: the guard's redirect to the door is the answer.
        return b.get_once(&b.url(host, path)).await;
    }
    // A POST carries this browser's CSRF token and no other field: an allowed request then
    // fails on its input (400) or does something harmless; a denied one is refused first.
    let door = b.get(&b.url(host, "/console/accedi")).await;
    let csrf = door.input("csrf").unwrap_or_default();
    b.post(&b.url(host, path), &[("csrf", &csrf)]).await
}

fn matches(pattern: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (a, b): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    a.len() == b.len() && a.iter().zip(&b).all(|(p, s)| p.starts_with('{') || p == s)
}

/// The tables cover every declared route of each host: a route added to the server without a
/// row here fails.
#[test]
fn the_matrix_covers_every_declared_route() {
    use sportello_web::authz::{On, declared};
    for r in declared() {
        if r.on != On::Federation {
            assert!(
                COMMUNE_MATRIX
                    .iter()
                    .any(|(m, p, _)| *m == r.method && matches(r.path, p)),
                "commune host: {} {} has no row in COMMUNE_MATRIX",
                r.method,
                r.path
            );
        }
        if r.on == On::Federation {
            assert!(
                FEDERATION_MATRIX
                    .iter()
                    .any(|(m, p, _)| *m == r.method && matches(r.path, p)),
                "apex: {} {} has no row in FEDERATION_MATRIX",
                r.method,
                r.path
            );
        }
    }
}

#[tokio::test]
async fn permission_matrix_of_every_route_role_and_commune() {
    let app = spawn_app().await;
    // Pisa's staff, one per role; the office head only for the registry office.
    let mut pisa = Vec::new();
    for role in ALL_STAFF {
        let b = signed_in(
            &app,
            Realm::Commune(PISA),
            "pisa.localhost",
            &format!("{role}@comune.pisa.it"),
            role,
        )
        .await;
        pisa.push((role.to_string(), b));
    }
    // Narrow the office head to `anagrafe` (the invitation gave the role commune-wide).
    {
        let tx = app.store.tenant(PISA).await.unwrap();
        let db = tx.db();
        let head = db
            .staff_db()
            .staff_by_email("office_head@comune.pisa.it")
            .await
            .unwrap()
            .unwrap();
        assert!(
            db.unassign_role(&head.id, "office_head", None)
                .await
                .unwrap()
        );
        assert!(
            db.assign_role(&head.id, "office_head", Some("anagrafe"), "test", 0)
                .await
                .unwrap()
        );
        db.note_policy_change(0).await.unwrap();
        tx.commit().await.unwrap();
    }
    // Calci's administrator, whose session cookie is then replayed on Pisa's host.
    let calci = signed_in(
        &app,
        Realm::Commune(CALCI),
        "calci.localhost",
        "admin@comune.calci.pi.it",
        "admin",
    )
    .await;
    let calci_cookie = calci.cookie("calci.localhost", "sportello_staff").unwrap();
    let mut foreign = Browser::new(app.addr);
    foreign.set_cookie("pisa.localhost", "sportello_staff", &calci_cookie);
    let mut anonymous = Browser::new(app.addr);
    // The office head works on their office only: a valid edit of another office is refused,
    // also when they hold another, commune-wide role that does not edit offices.
    {
        let tx = app.store.tenant(PISA).await.unwrap();
        let db = tx.db();
        let head = db
            .staff_db()
            .staff_by_email("office_head@comune.pisa.it")
            .await
            .unwrap()
            .unwrap();
        assert!(
            db.assign_role(&head.id, "front_desk", None, "test", 0)
                .await
                .unwrap()
        );
        db.note_policy_change(0).await.unwrap();
        tx.commit().await.unwrap();
    }
    let head = &mut pisa.iter_mut().find(|(r, _)| r == "office_head").unwrap().1;
    let csrf = head
        .get(&head.url("pisa.localhost", "/console/uffici"))
        .await
        .input("csrf")
        .unwrap();
    let form = [
        ("name", "Ufficio Relazioni con il Pubblico"),
        ("hours", "lun 09:00-12:00"),
        ("csrf", csrf.as_str()),
    ];
    let other = head
        .post(&head.url("pisa.localhost", "/console/uffici/urp"), &form)
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.body);
    let form = [
        ("name", "Anagrafe"),
        ("hours", "lun 08:30-12:30"),
        ("csrf", csrf.as_str()),
    ];
    let own = head
        .post(
            &head.url("pisa.localhost", "/console/uffici/anagrafe"),
            &form,
        )
        .await;
    assert!(own.url.contains("esito="), "{} {}", own.status, own.body);
    // Pisa's administrator's cookie, for replaying on the apex (before the matrix signs out).
    let pisa_cookie = pisa[0]
        .1
        .cookie("pisa.localhost", "sportello_staff")
        .unwrap();
    let mut checked = 0;
    for (method, path, who) in COMMUNE_MATRIX {
        for (role, b) in pisa.iter_mut() {
            // `{me}`: the requester's own account (removing oneself is refused: 400 when allowed).
            let me = {
                let tx = app.store.tenant(PISA).await.unwrap();
                let acc = tx
                    .db()
                    .staff_db()
                    .staff_by_email(&format!("{role}@comune.pisa.it"))
                    .await
                    .unwrap()
                    .unwrap();
                acc.id
            };
            let path = &path.replace("{me}", &me);
            let p = request(b, "pisa.localhost", method, path).await;
            let expect = who.contains(&role.as_str());
            assert_eq!(
                allowed(&p),
                expect,
                "{role} {method} {path}: {} {}",
                p.status,
                p.url
            );
            checked += 1;
        }
        for (name, b) in [("anonymous", &mut anonymous), ("foreign", &mut foreign)] {
            let path = &path.replace("{me}", "someone");
            let p = request(b, "pisa.localhost", method, path).await;
            assert_eq!(
                allowed(&p),
                who.contains(&name),
                "{name} {method} {path}: {} {}",
                p.status,
                p.url
            );
            checked += 1;
        }
    }
    // The federation console: federation staff yes; anonymous, and Pisa's admin's cookie
    // replayed on the apex, no.
    let mut fed = signed_in(
        &app,
        Realm::Federation,
        "localhost",
        "ops@federazione.example",
        "federation",
    )
    .await;
    let mut pisa_on_apex = Browser::new(app.addr);
    pisa_on_apex.set_cookie("localhost", "sportello_staff", &pisa_cookie);
    let mut anonymous = Browser::new(app.addr);
    for (method, path, who) in FEDERATION_MATRIX {
        for (name, b) in [
            ("federation", &mut fed),
            ("anonymous", &mut anonymous),
            ("commune", &mut pisa_on_apex),
        ] {
            let p = request(b, "localhost", method, path).await;
            assert_eq!(
                allowed(&p),
                who.contains(&name),
                "{name} {method} {path}: {} {}",
                p.status,
                p.url
            );
            checked += 1;
        }
    }
    // Federation staff never enter a commune without its grant.
    let entry = request(
        &mut fed,
        "localhost",
        "POST",
        "/console/assistenza/050026/entra",
    )
    .await;
    assert_eq!(entry.status, StatusCode::FORBIDDEN, "{}", entry.body);
    assert_eq!(
        checked,
        COMMUNE_MATRIX.len() * 9 + FEDERATION_MATRIX.len() * 3
    );
}

#[tokio::test]
async fn a_policy_change_and_a_revoked_role_take_effect_on_the_next_request() {
    let app = spawn_app().await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "admin@comune.pisa.it",
        "admin",
    )
    .await;
    let mut clerk = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "clerk@comune.pisa.it",
        "clerk",
    )
    .await;
    assert!(!allowed(
        &clerk
            .get(&clerk.url("pisa.localhost", "/console/registro"))
            .await
    ));
    // The administrator ticks "clerk may read the audit log" on top of the current rules.
    let page = admin
        .get(&admin.url("pisa.localhost", "/console/permessi"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.input("csrf").unwrap();
    let mut fields: Vec<(String, String)> = page
        .body
        .split("name=\"p:")
        .skip(1)
        .filter(|chunk| chunk.split('>').next().unwrap_or("").contains("checked"))
        .map(|chunk| {
            (
                format!("p:{}", chunk.split('"').next().unwrap()),
                "on".to_owned(),
            )
        })
        .collect();
    assert!(fields.len() > 40, "{}", fields.len());
    fields.push(("p:clerk:audit:read".into(), "on".into()));
    // …and to manage staff (a commune may): still no way to make an administrator.
    for a in ["read", "create", "update"] {
        fields.push((format!("p:clerk:staff:{a}"), "on".into()));
    }
    fields.push(("csrf".into(), csrf.clone()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let saved = admin
        .post(&admin.url("pisa.localhost", "/console/permessi"), &pairs)
        .await;
    assert!(
        saved.url.contains("esito=salvato"),
        "{} {}",
        saved.status,
        saved.body
    );
    // The audit log says it in words: the action's label, the person's name, a date in words,
    // details as "field: value" — no codes, no raw JSON.
    let log = admin
        .get(&admin.url("pisa.localhost", "/console/registro"))
        .await;
    assert!(log.body.contains("Permessi cambiati"), "{}", log.body);
    assert!(!log.body.contains("policy_changed"), "{}", log.body);
    assert!(
        !log.body.contains("{&quot;") && !log.body.contains("{\""),
        "raw JSON"
    );
    assert!(
        !log.body.contains("(staff:"),
        "the actor by name, not by code"
    );
    assert!(allowed(
        &clerk
            .get(&clerk.url("pisa.localhost", "/console/registro"))
            .await
    ));
    // The lockout guard, posted to: the same rules without the administrators' right to change
    // them are refused, and nothing changes.
    let csrf = saved.input("csrf").unwrap();
    let lockout: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| k != "p:admin:policies:update" && k != "csrf")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([("csrf", csrf.as_str())])
        .collect();
    assert!(
        fields.iter().any(|(k, _)| k == "p:admin:policies:update"),
        "the current rules give it"
    );
    let refused = admin
        .post(&admin.url("pisa.localhost", "/console/permessi"), &lockout)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(allowed(
        &admin
            .get(&admin.url("pisa.localhost", "/console/permessi"))
            .await
    ));
    let after = admin
        .get(&admin.url("pisa.localhost", "/console/permessi"))
        .await;
    assert!(
        after
            .body
            .split("name=\"p:admin:policies:update\"")
            .nth(1)
            .is_some_and(|rest| rest.split('>').next().unwrap_or("").contains("checked")),
        "the administrators keep the right to change the rules"
    );
    // The change is in the audit log (in words, checked above).
    let log = admin
        .get(&admin.url("pisa.localhost", "/console/registro"))
        .await;
    assert!(log.body.contains("Permessi cambiati"));
    let c_csrf = clerk
        .get(&clerk.url("pisa.localhost", "/console/personale"))
        .await
        .input("csrf")
        .unwrap();
    let admin_invite = clerk
        .post(
            &clerk.url("pisa.localhost", "/console/personale"),
            &[
                ("email", "boss@comune.pisa.it"),
                ("name", "Boss"),
                ("role", "admin"),
                ("office", ""),
                ("csrf", &c_csrf),
            ],
        )
        .await;
    assert_eq!(
        admin_invite.status,
        StatusCode::FORBIDDEN,
        "{}",
        admin_invite.body
    );
    let clerk_invite = clerk
        .post(
            &clerk.url("pisa.localhost", "/console/personale"),
            &[
                ("email", "nuovo@comune.pisa.it"),
                ("name", "Nuovo"),
                ("role", "clerk"),
                ("office", "anagrafe"),
                ("csrf", &c_csrf),
            ],
        )
        .await;
    assert!(
        clerk_invite.url.contains("esito=invitato"),
        "{}",
        clerk_invite.body
    );
    let own_id = {
        let tx = app.store.tenant(PISA).await.unwrap();
        tx.db()
            .staff_db()
            .staff_by_email("clerk@comune.pisa.it")
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let own = clerk
        .post(
            &clerk.url(
                "pisa.localhost",
                &format!("/console/personale/{own_id}/ruoli"),
            ),
            &[
                ("role", "office_head"),
                ("office", ""),
                ("op", "add"),
                ("csrf", &c_csrf),
            ],
        )
        .await;
    assert_eq!(
        own.status,
        StatusCode::FORBIDDEN,
        "nobody changes their own roles"
    );
    // Taking the clerk's role back ends the access at once.
    let tx = app.store.tenant(PISA).await.unwrap();
    let clerk_id = tx
        .db()
        .staff_db()
        .staff_by_email("clerk@comune.pisa.it")
        .await
        .unwrap()
        .unwrap()
        .id;
    drop(tx);
    let staff_page = admin
        .get(&admin.url("pisa.localhost", "/console/personale"))
        .await;
    let csrf = staff_page.input("csrf").unwrap();
    let taken = admin
        .post(
            &admin.url(
                "pisa.localhost",
                &format!("/console/personale/{clerk_id}/ruoli"),
            ),
            &[
                ("role", "clerk"),
                ("office", ""),
                ("op", "remove"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(taken.url.contains("esito=salvato"), "{}", taken.body);
    assert!(!allowed(
        &clerk
            .get(&clerk.url("pisa.localhost", "/console/registro"))
            .await
    ));
    assert!(!allowed(
        &clerk
            .get(&clerk.url("pisa.localhost", "/console/uffici"))
            .await
    ));
    // Nobody takes their own administrator role (the last-administrator rule is proved on its
    // own in services::the_last_administrator_who_can_sign_in_cannot_be_taken_away).
    let admin_id = {
        let tx = app.store.tenant(PISA).await.unwrap();
        tx.db()
            .staff_db()
            .staff_by_email("admin@comune.pisa.it")
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let last = admin
        .post(
            &admin.url(
                "pisa.localhost",
                &format!("/console/personale/{admin_id}/ruoli"),
            ),
            &[
                ("role", "admin"),
                ("office", ""),
                ("op", "remove"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        last.status,
        StatusCode::FORBIDDEN,
        "nobody changes their own roles"
    );
}

#[tokio::test]
async fn another_node_sees_a_role_change_within_a_poll() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    let mut clerk = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "clerk@comune.pisa.it",
        "clerk",
    )
    .await;
    let mut on_other = clerk.on_node(other);
    // The other node learns of the clerk's role by its own poll, too.
    let mut admitted = false;
    for _ in 0..50 {
        if allowed(
            &on_other
                .get(&on_other.url("pisa.localhost", "/console/uffici"))
                .await,
        ) {
            admitted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        admitted,
        "the other node never applied the invitation's role"
    );
    let tx = app.store.tenant(PISA).await.unwrap();
    let db = tx.db();
    let id = db
        .staff_db()
        .staff_by_email("clerk@comune.pisa.it")
        .await
        .unwrap()
        .unwrap()
        .id;
    db.unassign_role(&id, "clerk", None).await.unwrap();
    db.note_policy_change(0).await.unwrap();
    tx.commit().await.unwrap();
    let mut denied = false;
    for _ in 0..50 {
        if !allowed(
            &on_other
                .get(&on_other.url("pisa.localhost", "/console/uffici"))
                .await,
        ) {
            denied = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(denied, "the other node never applied the change");
    let _ = &mut clerk;
}

#[tokio::test]
async fn an_administrator_edits_the_charter_and_citizens_see_it() {
    let app = spawn_app().await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "admin@comune.pisa.it",
        "admin",
    )
    .await;
    let page = admin
        .get(&admin.url("pisa.localhost", "/console/uffici"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.input("csrf").unwrap();
    let created = admin
        .post(
            &admin.url("pisa.localhost", "/console/uffici"),
            &[
                ("id", "ufficio-cultura"),
                ("name", "Ufficio Cultura"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(
        created.url.contains("/console/uffici/ufficio-cultura"),
        "{}",
        created.body
    );
    let saved = admin
        .post(
            &admin.url("pisa.localhost", "/console/uffici/ufficio-cultura"),
            &[
                ("name", "Ufficio Cultura"),
                ("hours", "lun 09:00-12:00\ngio 15:00-17:00"),
                ("closures", "2026-12-24 Vigilia"),
                ("email", "cultura@comune.pisa.it"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(saved.url.contains("esito=salvato"), "{}", saved.body);
    // Bad input: a clear error, nothing written.
    let bad = admin
        .post(
            &admin.url("pisa.localhost", "/console/uffici/ufficio-cultura"),
            &[
                ("name", "X"),
                ("hours", "lunedi tutto il giorno"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let created = admin
        .post(
            &admin.url("pisa.localhost", "/console/servizi"),
            &[
                ("id", "contributi-cultura"),
                ("title", "Contributi per la cultura"),
                ("office", "ufficio-cultura"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(
        created.url.contains("/console/servizi/contributi-cultura"),
        "{}",
        created.body
    );
    // A new office is a draft: citizens do not see it, nor the service naming it, until it is
    // published.
    let mut citizen = Browser::new(app.addr);
    let draft = citizen
        .get(&citizen.url("pisa.localhost", "/uffici/ufficio-cultura"))
        .await;
    assert_eq!(draft.status, StatusCode::NOT_FOUND);
    let (_, offices) = app.json("pisa.localhost", "/api/v1/offices").await;
    assert!(
        !offices.to_string().contains("ufficio-cultura"),
        "{offices}"
    );
    let (_, found) = app.json("pisa.localhost", "/api/v1/search?q=cultura").await;
    assert!(
        found["offices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["id"] != "ufficio-cultura"),
        "{found}"
    );
    let published = admin
        .post(
            &admin.url("pisa.localhost", "/console/uffici/ufficio-cultura/pubblica"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(
        published.url.contains("esito=pubblicato"),
        "{}",
        published.body
    );
    let office = citizen
        .get(&citizen.url("pisa.localhost", "/uffici/ufficio-cultura"))
        .await;
    assert_eq!(office.status, StatusCode::OK);
    assert!(office.body.contains("Ufficio Cultura"));
    assert!(!office.body.contains("X</h1>"));
    let service = citizen
        .get(&citizen.url("pisa.localhost", "/servizi/contributi-cultura"))
        .await;
    assert_eq!(service.status, StatusCode::OK);
    assert!(service.body.contains("Contributi per la cultura"));
    // With history, and nothing of it on Calci.
    let tx = app.store.tenant(PISA).await.unwrap();
    assert_eq!(
        tx.db()
            .history("office", "ufficio-cultura")
            .await
            .unwrap()
            .len(),
        3
    );
    drop(tx);
    let calci = citizen
        .get(&citizen.url("calci.localhost", "/uffici/ufficio-cultura"))
        .await;
    assert_eq!(calci.status, StatusCode::NOT_FOUND);
    // Branding and languages: Pisa offers Italian only, in green.
    let before = citizen
        .get(&citizen.url("pisa.localhost", "/?lang=en"))
        .await;
    assert!(before.body.contains("<html lang=\"en\""));
    let saved = admin
        .post(
            &admin.url("pisa.localhost", "/console/impostazioni"),
            &[
                ("color", "#00aa55"),
                ("default_language", "it"),
                ("lang:it", "on"),
                ("mail_from_name", "Comune di Pisa – Sportello"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(saved.url.contains("esito=salvato"), "{}", saved.body);
    let mut fresh = Browser::new(app.addr);
    let home = fresh.get(&fresh.url("pisa.localhost", "/?lang=en")).await;
    assert!(
        home.body.contains("<html lang=\"it\""),
        "English is no longer offered"
    );
    assert!(!home.body.contains("hreflang=\"en\""));
    assert!(home.body.contains("--commune-color: #00aa55"));
    // A colour that is not one is refused, and nothing changes.
    let bad = admin
        .post(
            &admin.url("pisa.localhost", "/console/impostazioni"),
            &[
                ("color", "green"),
                ("default_language", "it"),
                ("lang:en", "on"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let home = fresh.get(&fresh.url("pisa.localhost", "/?lang=en")).await;
    assert!(home.body.contains("<html lang=\"it\""));
}

#[tokio::test]
async fn federation_support_enters_only_while_the_commune_grants_it() {
    let app = spawn_app().await;
    let mut admin = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "admin@comune.pisa.it",
        "admin",
    )
    .await;
    let mut fed = signed_in(
        &app,
        Realm::Federation,
        "localhost",
        "ops@federazione.example",
        "federation",
    )
    .await;
    // No grant: the federation console refuses the entry.
    let door = fed.get(&fed.url("localhost", "/console/assistenza")).await;
    assert_eq!(door.status, StatusCode::OK);
    let csrf = door.input("csrf").unwrap();
    let refused = fed
        .post(
            &fed.url("localhost", "/console/assistenza/050026/entra"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Pisa's administrator grants two hours.
    let page = admin
        .get(&admin.url("pisa.localhost", "/console/supporto"))
        .await;
    let a_csrf = page.input("csrf").unwrap();
    let granted = admin
        .post(
            &admin.url("pisa.localhost", "/console/supporto"),
            &[("reason", "ticket 4711"), ("hours", "2"), ("csrf", &a_csrf)],
        )
        .await;
    assert!(granted.url.contains("esito=salvato"), "{}", granted.body);
    // Out-of-range durations are refused.
    let long = admin
        .post(
            &admin.url("pisa.localhost", "/console/supporto"),
            &[("reason", "x"), ("hours", "500"), ("csrf", &a_csrf)],
        )
        .await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    // The federation console lists it; entering opens Pisa's console as support.
    let list = fed.get(&fed.url("localhost", "/console/assistenza")).await;
    assert!(list.body.contains("ticket 4711"));
    let entered = fed
        .post(
            &fed.url("localhost", "/console/assistenza/050026/entra"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(
        entered
            .url
            .starts_with(&fed.url("pisa.localhost", "/console")),
        "{:?}",
        fed.trail
    );
    assert_eq!(entered.status, StatusCode::OK, "{}", entered.body);
    // What the support role may: read and fix the charter; not staff changes, not policies.
    assert!(allowed(
        &fed.get(&fed.url("pisa.localhost", "/console/uffici")).await
    ));
    assert!(allowed(
        &fed.get(&fed.url("pisa.localhost", "/console/permessi"))
            .await
    ));
    let s_csrf = fed
        .get(&fed.url("pisa.localhost", "/console/uffici"))
        .await
        .input("csrf")
        .unwrap();
    let invite = fed
        .post(
            &fed.url("pisa.localhost", "/console/personale"),
            &[
                ("email", "x@example.it"),
                ("name", "X"),
                ("role", "admin"),
                ("csrf", &s_csrf),
            ],
        )
        .await;
    assert_eq!(invite.status, StatusCode::FORBIDDEN);
    // Not Calci: its code is refused, and no grant exists there.
    let calci = fed
        .post(
            &fed.url("localhost", "/console/assistenza/050003/entra"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(calci.status, StatusCode::FORBIDDEN);
    // Pisa's audit log shows the support session.
    let log = admin
        .get(&admin.url("pisa.localhost", "/console/registro"))
        .await;
    assert!(
        log.body
            .contains("Sessione di assistenza della federazione aperta")
    );
    assert!(
        log.body.contains("Accesso all&#x27;assistenza concesso")
            || log.body.contains("Accesso all'assistenza concesso")
    );
    // Revoked: the next request is refused.
    let grants = admin
        .get(&admin.url("pisa.localhost", "/console/supporto"))
        .await;
    let revoke = grants
        .body
        .split("action=\"/console/supporto/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let done = admin
        .post(
            &admin.url("pisa.localhost", &format!("/console/supporto/{revoke}")),
            &[("csrf", &a_csrf)],
        )
        .await;
    assert!(done.url.contains("esito=salvato"), "{}", done.body);
    // The support session ended with its grant: the next request goes back to the door.
    for path in ["/console/uffici", "/console"] {
        let p = fed.get(&fed.url("pisa.localhost", path)).await;
        assert!(
            p.url.contains("/console/accedi"),
            "{path}: {} {:?}",
            p.url,
            fed.trail
        );
    }
}

#[tokio::test]
async fn federation_staff_onboard_a_commune_its_administrator_publishes() {
    let app = spawn_app().await;
    let mut fed = signed_in(
        &app,
        Realm::Federation,
        "localhost",
        "ops@federazione.example",
        "federation",
    )
    .await;
    let search = fed
        .get(&fed.url("localhost", "/console/comuni?q=buti"))
        .await;
    assert!(
        search.body.contains("/console/comuni/nuovo?istat=050002"),
        "{}",
        search.body
    );
    let form = fed
        .get(&fed.url("localhost", "/console/comuni/nuovo?istat=050002"))
        .await;
    let csrf = form.input("csrf").unwrap();
    // The federation's own hosts cannot be a commune's; an invalid e-mail is refused; nothing is
    // created by either.
    for (host, email) in [
        ("login.localhost", "sindaco@comune.buti.pi.it"),
        ("localhost", "sindaco@comune.buti.pi.it"),
        ("buti.localhost", "not-an-address"),
    ] {
        let refused = fed
            .post(
                &fed.url("localhost", "/console/comuni"),
                &[
                    ("istat", "050002"),
                    ("host", host),
                    ("aliases", ""),
                    ("default_language", "it"),
                    ("color", "#aa0000"),
                    ("admin_email", email),
                    ("admin_name", "Sindaco"),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{host} {email}");
    }
    let mut citizen = Browser::new(app.addr);
    assert_eq!(
        citizen
            .get(&citizen.url("buti.localhost", "/"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let done = fed
        .post(
            &fed.url("localhost", "/console/comuni"),
            &[
                ("istat", "050002"),
                ("host", "buti.localhost"),
                ("aliases", "www.comune.buti.example"),
                ("default_language", "it"),
                ("color", "#aa0000"),
                ("admin_email", "sindaco@comune.buti.pi.it"),
                ("admin_name", "Sindaco"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(done.url.contains("esito=creato"), "{}", done.body);
    // The list shows the new commune (its row and its actions), not just the search box.
    assert!(
        done.body.contains("/console/comuni/050002/stato"),
        "{}",
        done.body
    );
    // Listed among the communes being prepared.
    assert!(done.body.contains("In preparazione (1)"), "{}", done.body);
    // Being prepared: citizens find a page that says so, its staff the console.
    let draft = citizen
        .get(&citizen.url("buti.localhost", "/servizi"))
        .await;
    assert_eq!(draft.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        draft.body.contains("Portale in preparazione"),
        "{}",
        draft.body
    );
    let (_, found) = app.json("localhost", "/api/v1/communes?q=buti").await;
    assert_eq!(
        found["matched"], 0,
        "not offered on the federation portal: {found}"
    );
    // Publishing is the commune's administrators' decision: the federation cannot resume it
    // into the public (nor suspend and resume it past them).
    for status in ["active", "suspended"] {
        let r = fed
            .post(
                &fed.url("localhost", "/console/comuni/050002/stato"),
                &[
                    ("status", status),
                    ("reason", "prova"),
                    ("confirm", "on"),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{status}: {}", r.body);
    }
    let mut buti_admin = crate::actors::signed_in(
        &app,
        Realm::Commune(sportello_domain::TenantId(50002)),
        "buti.localhost",
        "vicesindaco@comune.buti.pi.it",
        "admin",
    )
    .await;
    let console = buti_admin
        .get(&buti_admin.url("buti.localhost", "/console"))
        .await;
    assert!(
        console.body.contains("Il portale non è ancora pubblico"),
        "{}",
        console.body
    );
    let b_csrf = console.input("csrf").unwrap();
    let published = buti_admin
        .post(
            &buti_admin.url("buti.localhost", "/console/pubblica"),
            &[("csrf", &b_csrf)],
        )
        .await;
    assert!(
        published.url.contains("esito=pubblicato"),
        "{}",
        published.body
    );
    // Published by its administrator: live with the starter charter; the alias redirects;
    // twice is refused.
    let home = citizen.get(&citizen.url("buti.localhost", "/")).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Buti"));
    let services = citizen
        .get(&citizen.url("buti.localhost", "/servizi"))
        .await;
    assert!(services.body.matches("href=\"/servizi/").count() > 3);
    let alias = citizen
        .get_once(&citizen.url("www.comune.buti.example", "/servizi"))
        .await;
    assert_eq!(alias.status, StatusCode::MOVED_PERMANENTLY);
    let again = fed
        .post(
            &fed.url("localhost", "/console/comuni"),
            &[
                ("istat", "050002"),
                ("default_language", "it"),
                ("admin_email", "x@comune.buti.pi.it"),
                ("admin_name", "X"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    // On the template, with its first administrator invited (the account exists, with the role).
    let tx = app
        .store
        .tenant(sportello_domain::TenantId(50002))
        .await
        .unwrap();
    let policy = tx.db().policy().await.unwrap().unwrap();
    assert_eq!(policy.template_version, sportello_authz::template::CURRENT);
    let admin = tx
        .db()
        .staff_db()
        .staff_by_email("sindaco@comune.buti.pi.it")
        .await
        .unwrap()
        .unwrap();
    let roles = tx.db().role_assignments().await.unwrap();
    assert!(
        roles
            .iter()
            .any(|r| r.staff_id == admin.id && r.role == "admin")
    );
    drop(tx);
    // Suspended: 503 for citizens; resumed: back.
    let home = fed.get(&fed.url("localhost", "/console?q=buti")).await;
    let csrf = home.input("csrf").unwrap();
    let s = fed
        .post(
            &fed.url("localhost", "/console/comuni/050002/stato"),
            &[("status", "suspended"), ("csrf", &csrf)],
        )
        .await;
    // Not without a reason and a confirmation: the form again, asking for both.
    assert_eq!(s.status, StatusCode::BAD_REQUEST);
    assert!(s.body.contains("id=\"s1-reason-error\""), "{}", s.body);
    assert!(s.body.contains("id=\"s1-confirm-error\""), "{}", s.body);
    let s = fed
        .post(
            &fed.url("localhost", "/console/comuni/050002/stato"),
            &[
                ("status", "suspended"),
                ("reason", "richiesta del sindaco"),
                ("confirm", "on"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert!(s.url.contains("esito=salvato"), "{}", s.body);
    // "Being prepared" is where onboarding starts, not a state to send a commune back to.
    let back = fed
        .post(
            &fed.url("localhost", "/console/comuni/050002/stato"),
            &[("status", "draft"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(back.status, StatusCode::BAD_REQUEST, "{}", back.body);
    let logged = app
        .rows("SELECT detail FROM federation_audit WHERE action = 'commune_status'")
        .await;
    assert!(
        logged
            .iter()
            .any(|r| r[0].contains("richiesta del sindaco")),
        "{logged:?}"
    );
    assert_eq!(
        citizen
            .get(&citizen.url("buti.localhost", "/"))
            .await
            .status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // Listed apart, not among the active communes.
    let list = fed.get(&fed.url("localhost", "/console?q=buti")).await;
    let (active, suspended) = list
        .body
        .split_once("Comuni sospesi (1)")
        .expect("a table of suspended communes");
    assert!(active.contains("Comuni attivi (0)"), "{}", list.body);
    assert!(suspended.contains("/console/comuni/050002/stato"));
    fed.post(
        &fed.url("localhost", "/console/comuni/050002/stato"),
        &[("status", "active"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        citizen
            .get(&citizen.url("buti.localhost", "/"))
            .await
            .status,
        StatusCode::OK
    );
}

/// The guard decides on the route the router matched, so a percent-encoded spelling of a
/// console route (which the router decodes) gets exactly the verdict of the route itself — for
/// an anonymous visitor and for a clerk, on every declared GET route of the commune host.
#[tokio::test]
async fn encoded_spellings_of_a_console_route_get_the_route_s_own_verdict() {
    use sportello_web::authz::{On, declared};
    let app = spawn_app().await;
    let mut clerk = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "clerk@comune.pisa.it",
        "clerk",
    )
    .await;
    let mut anonymous = Browser::new(app.addr);
    // `/console/uffici/{id}` → `/%63onsole/%75ffici/%78`: every segment's first letter encoded.
    let encode = |path: &str| -> String {
        path.split('/')
            .map(|seg| match seg.chars().next() {
                Some(c) if c.is_ascii_alphabetic() => format!("%{:02X}{}", c as u8, &seg[1..]),
                _ => seg.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut checked = 0;
    for r in declared()
        .iter()
        .filter(|r| r.method == "GET" && r.on != On::Federation && r.path.starts_with("/console"))
    {
        let path = r.path.replace("{id}", "x");
        for b in [&mut anonymous, &mut clerk] {
            let plain = b.get_once(&b.url("pisa.localhost", &path)).await;
            let encoded = b.get_once(&b.url("pisa.localhost", &encode(&path))).await;
            assert_eq!(
                (encoded.status, encoded.headers.get("x-sportello-denied")),
                (plain.status, plain.headers.get("x-sportello-denied")),
                "{path} spelled {}",
                encode(&path)
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
}

/// The guard's refusals are the product's pages (in the visitor's language) and keep their
/// mark; the sign-in host has no console at all.
#[tokio::test]
async fn guard_refusals_are_pages_and_the_sign_in_host_has_no_console() {
    let app = spawn_app().await;
    let mut clerk = signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "clerk@comune.pisa.it",
        "clerk",
    )
    .await;
    let refused = clerk
        .get_once(&clerk.url("pisa.localhost", "/console/permessi"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused
            .headers
            .get("x-sportello-denied")
            .map(|v| v.to_str().unwrap()),
        Some("not-permitted")
    );
    assert!(
        refused.body.contains("Accesso non consentito"),
        "{}",
        refused.body
    );
    // A federation route on a commune's host: not here, as a page.
    let elsewhere = clerk
        .get_once(&clerk.url("pisa.localhost", "/console/comuni"))
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert!(elsewhere.body.contains("<html"), "{}", elsewhere.body);
    // The sign-in host: every console page that needs someone is not there.
    let mut b = Browser::new(app.addr);
    for path in ["/console", "/console/permessi", "/console/comuni"] {
        let p = b.get_once(&b.url("login.localhost", path)).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            p.headers
                .get("x-sportello-denied")
                .map(|v| v.to_str().unwrap()),
            Some("undeclared"),
            "{path}"
        );
    }
}
