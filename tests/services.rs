//! The capabilities' services called directly, without a server: what a background worker or
//! the CLI would do. Each test builds the services' `Deps` from settings against a fresh
//! database (SQLite or PostgreSQL), acts as a staff member and reads the store afterwards.

use sportello_admin::{commune, federation, people, policy};
use sportello_authz::{Action, Object, Role};
use sportello_charter::edit;
use sportello_domain::TenantId;
use sportello_kernel::{Actor, Deps, Error, Secret, Settings, Why};
use sportello_store::staff::Realm;
use sportello_tests::{TestDb, apex, tenants_dir};

const PISA: TenantId = TenantId(50026);

struct Services {
    deps: Deps,
    _db: TestDb,
    outbox: tempfile::TempDir,
}

/// The services' bundle over the demo federation, as `sportello serve` builds it (no listener).
async fn services() -> Services {
    let db = TestDb::new().await;
    let store = db.app_store().await;
    store
        .federation()
        .sync_tenants_dir(&tenants_dir(), &apex())
        .await
        .unwrap();
    let outbox = tempfile::tempdir().unwrap();
    let settings = Settings {
        database_url: Secret::new(db.app_url.clone()),
        mail_outbox: outbox.path().display().to_string(),
        ..Settings::default()
    };
    let deps = Deps::load(&settings, store, "http://login.localhost:8080".into())
        .await
        .unwrap();
    Services {
        deps,
        _db: db,
        outbox,
    }
}

/// A Pisa staff member holding `role` (for one office when given), as the guard would admit.
async fn staff(s: &Services, email: &str, role: Role, office: Option<&str>) -> Actor {
    let realm = Realm::Commune(PISA);
    let (id, _) = sportello_identity::staff::invite_for_office(
        &s.deps.store,
        realm,
        email,
        email,
        role.key(),
        office,
    )
    .await
    .unwrap();
    s.deps.apply_policy_changes().await.unwrap();
    Actor {
        realm,
        staff_id: id,
        name: email.into(),
        email: email.into(),
        federation: false,
    }
}

async fn pisa_offices(s: &Services) -> Vec<sportello_store::charter::Office> {
    let tx = s.deps.store.tenant(PISA).await.unwrap();
    let offices = tx.db().offices().await.unwrap();
    tx.commit().await.unwrap();
    offices
}

async fn audit_actions(s: &Services) -> Vec<String> {
    let tx = s.deps.store.tenant(PISA).await.unwrap();
    let rows = tx.db().audit_log(100).await.unwrap();
    tx.commit().await.unwrap();
    rows.into_iter().map(|r| r.action).collect()
}

#[tokio::test]
async fn charter_offices_are_created_updated_and_scoped_without_a_server() {
    let s = services().await;
    let admin = staff(&s, "admin@pisa.example", Role::Admin, None).await;
    let id = edit::create_office(
        &s.deps,
        &admin,
        &edit::NewOffice {
            id: "sportello-unico".into(),
            name: "Sportello unico".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(id, "sportello-unico");
    // The registry moved on this node at once (the portal's charter cache keys on it).
    let version = s.deps.tenancy.by_id(PISA).unwrap().record.version;
    let change = edit::OfficeChange {
        name: "Sportello unico per l'edilizia".into(),
        name_en: String::new(),
        description: String::new(),
        description_en: String::new(),
        floor: String::new(),
        room: String::new(),
        directions: String::new(),
        phone: String::new(),
        email: String::new(),
        hours: "lun 08:30-12:30".into(),
        closures: String::new(),
        ..Default::default()
    };
    assert!(
        edit::update_office(&s.deps, &admin, &id, &change)
            .await
            .unwrap()
    );
    assert!(s.deps.tenancy.by_id(PISA).unwrap().record.version > version);
    let offices = pisa_offices(&s).await;
    let o = offices.iter().find(|o| o.id == id).unwrap();
    assert_eq!(o.name, "Sportello unico per l'edilizia");
    assert_eq!(o.hours.weekly.mon.len(), 1);
    let actions = audit_actions(&s).await;
    assert!(
        actions.contains(&"office_created".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"office_updated".to_string()),
        "{actions:?}"
    );

    // Bad hours: the service's own error, nothing written.
    let bad = edit::OfficeChange {
        hours: "lun 8.30-12.30".into(),
        name: "Altro nome".into(),
        ..change
    };
    let err = edit::update_office(&s.deps, &admin, &id, &bad)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    assert_eq!(
        pisa_offices(&s)
            .await
            .iter()
            .find(|o| o.id == id)
            .unwrap()
            .name,
        "Sportello unico per l'edilizia"
    );

    // An office head of the registry office works on that office only.
    let head = staff(&s, "capo@pisa.example", Role::OfficeHead, Some("anagrafe")).await;
    let scope =
        sportello_kernel::scope::office_scope(&s.deps, &head, Object::Offices, Action::Update)
            .await
            .unwrap();
    assert_eq!(scope, Some(vec!["anagrafe".to_string()]));
    let refused = edit::update_office(&s.deps, &head, &id, &unchanged_office(&s, &id).await)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::Refused("refused_not_your_office")),
        "{refused:?}"
    );
}

/// A valid change of office `id` (its current name, no hours).
async fn unchanged_office(s: &Services, id: &str) -> edit::OfficeChange {
    let name = pisa_offices(s)
        .await
        .into_iter()
        .find(|o| o.id == id)
        .unwrap()
        .name;
    edit::OfficeChange {
        name,
        name_en: String::new(),
        description: String::new(),
        description_en: String::new(),
        floor: String::new(),
        room: String::new(),
        directions: String::new(),
        phone: String::new(),
        email: String::new(),
        hours: String::new(),
        closures: String::new(),
        ..Default::default()
    }
}

#[tokio::test]
async fn admin_services_keep_an_administrator_and_apply_roles_at_once() {
    let s = services().await;
    let admin = staff(&s, "admin@pisa.example", Role::Admin, None).await;
    // The only administrator cannot leave the commune without one.
    let err = people::remove(&s.deps, &admin, &admin.staff_id, &confirmed())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    // A clerk invited by the administrator: the invitation goes to the mail outbox.
    let clerk_id = people::invite(
        &s.deps,
        &admin,
        &people::Invite {
            email: "impiegato@pisa.example".into(),
            name: "Impiegato".into(),
            role: Role::Clerk.key().into(),
            office: "anagrafe".into(),
        },
        "http://pisa.localhost:8080",
    )
    .await
    .unwrap();
    // What a delivery worker does next.
    let worker = sportello_notify::worker::Worker::new(&s.deps, s.deps.store.clone()).unwrap();
    assert_eq!(worker.round().await.unwrap(), 1);
    let mails: Vec<_> = std::fs::read_dir(s.outbox.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 1, "one invitation mail");
    // It says which commune and who invited: a person can tell a real invitation.
    let mail = mails[0].replace("=\r\n", "").replace("=\n", "");
    assert!(mail.contains("Comune di Pisa"), "{mail}");
    assert!(mail.contains(&admin.email), "{mail}");
    let clerk = Actor {
        realm: Realm::Commune(PISA),
        staff_id: clerk_id.clone(),
        name: "Impiegato".into(),
        email: "impiegato@pisa.example".into(),
        federation: false,
    };
    // The enforcer knows the new role without a poll.
    assert!(clerk.may(&s.deps, Object::Cases, Action::Read).await);
    assert!(!clerk.may(&s.deps, Object::Policies, Action::Update).await);
    // Nobody changes their own roles, and a clerk's rule set cannot lock administrators out.
    let own = people::change_role(
        &s.deps,
        &admin,
        &admin.staff_id,
        &people::RoleChange {
            role: Role::Clerk.key().into(),
            office: String::new(),
            op: "add".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(own, Error::Refused("refused_own_roles")),
        "{own:?}"
    );
    let locked_out = policy::save_rules(&s.deps, &admin, vec![])
        .await
        .unwrap_err();
    assert!(matches!(locked_out, Error::Invalid(_)), "{locked_out:?}");
    // Removing the clerk ends their access at once.
    people::remove(&s.deps, &admin, &clerk_id, &confirmed())
        .await
        .unwrap();
    assert!(!clerk.may(&s.deps, Object::Cases, Action::Read).await);
    let actions = audit_actions(&s).await;
    assert!(
        actions.contains(&"staff_invited".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"staff_removed".to_string()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn onboarding_a_commune_is_a_service_call() {
    let s = services().await;
    let ops = federation_staff(&s).await;
    let onboard = federation::Onboard {
        istat: "048017".into(), // Firenze
        host: String::new(),
        aliases: String::new(),
        default_language: "it".into(),
        color: String::new(),
        admin_email: "admin@firenze.example".into(),
        admin_name: "Amministratrice".into(),
    };
    let (id, host) = federation::onboard(&s.deps, &ops, &onboard, "")
        .await
        .unwrap();
    assert_eq!(id, TenantId(48017));
    assert!(host.as_str().ends_with(".localhost"), "{host:?}");
    // In the registry on this node at once, with the starter charter.
    let c = s.deps.tenancy.by_id(id).unwrap();
    assert_eq!(c.record.primary_host, host.as_str());
    let tx = s.deps.store.tenant(id).await.unwrap();
    assert!(!tx.db().services().await.unwrap().is_empty());
    tx.commit().await.unwrap();
    // Twice is refused, in the service's own words.
    let again = federation::onboard(&s.deps, &ops, &onboard, "")
        .await
        .unwrap_err();
    assert!(again.refuses("istat", Why::AlreadyOnboarded), "{again:?}");
}

#[tokio::test]
async fn an_office_head_stays_in_their_office_whatever_the_rules_let_the_role_do() {
    use sportello_authz::{Rule, template};
    let s = services().await;
    let admin = staff(&s, "admin@pisa.example", Role::Admin, None).await;
    // The commune lets office heads create and delete offices and manage staff.
    let mut rules = template::rules(template::CURRENT).unwrap();
    rules.retain(|r| {
        !(r.role == Role::OfficeHead && matches!(r.object, Object::Offices | Object::Staff))
    });
    rules.push(Rule::new(
        Role::OfficeHead,
        Object::Offices,
        &[Action::Read, Action::Create, Action::Update, Action::Delete],
    ));
    rules.push(Rule::new(
        Role::OfficeHead,
        Object::Staff,
        &[Action::Read, Action::Create, Action::Update, Action::Delete],
    ));
    policy::save_rules(&s.deps, &admin, rules).await.unwrap();
    let head = staff(&s, "capo@pisa.example", Role::OfficeHead, Some("anagrafe")).await;
    let urp_clerk = staff(&s, "urp@pisa.example", Role::Clerk, Some("urp")).await;
    let forbidden = |r: Result<_, Error>, what: &str| {
        assert!(matches!(r, Err(Error::Refused(_))), "{what}: {r:?}");
    };
    forbidden(
        edit::delete_office(&s.deps, &head, "urp", &confirmed())
            .await
            .map(|_| ()),
        "deleting another office",
    );
    forbidden(
        edit::create_office(
            &s.deps,
            &head,
            &edit::NewOffice {
                id: "nuovo".into(),
                name: "Nuovo".into(),
            },
        )
        .await
        .map(|_| ()),
        "creating an office",
    );
    let invite = |office: &str, role: Role| people::Invite {
        email: format!("{}-{office}@pisa.example", role.key()),
        name: "Nuova persona".into(),
        role: role.key().into(),
        office: office.into(),
    };
    let base = "http://pisa.localhost:8080";
    forbidden(
        people::invite(&s.deps, &head, &invite("urp", Role::Clerk), base)
            .await
            .map(|_| ()),
        "inviting for another office",
    );
    forbidden(
        people::invite(&s.deps, &head, &invite("", Role::OfficeHead), base)
            .await
            .map(|_| ()),
        "inviting a commune-wide office head",
    );
    let mine = people::invite(&s.deps, &head, &invite("anagrafe", Role::Clerk), base)
        .await
        .unwrap();
    forbidden(
        people::change_role(
            &s.deps,
            &head,
            &mine,
            &people::RoleChange {
                role: Role::OfficeHead.key().into(),
                office: String::new(),
                op: "add".into(),
            },
        )
        .await
        .map(|_| ()),
        "making someone a commune-wide office head",
    );
    forbidden(
        people::remove(&s.deps, &head, &urp_clerk.staff_id, &confirmed())
            .await
            .map(|_| ()),
        "removing someone of another office",
    );
    // Their own office's people and office remain theirs.
    people::remove(&s.deps, &head, &mine, &confirmed())
        .await
        .unwrap();
    // The other offices are untouched.
    let tx = s.deps.store.tenant(PISA).await.unwrap();
    assert!(tx.db().office_row("urp").await.unwrap().is_some());
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_service_is_routed_only_to_an_office_of_its_commune() {
    let s = services().await;
    let admin = staff(&s, "admin@pisa.example", Role::Admin, None).await;
    let change = edit::ServiceChange {
        title: "Certificato di residenza".into(),
        summary: "Il certificato".into(),
        audience: "citizens".into(),
        office: "ufficio-di-un-altro-comune".into(),
        online_level: "none".into(),
        channels: vec!["desk".into()],
        ..Default::default()
    };
    let err = edit::update_service(&s.deps, &admin, "certificato-residenza", &change)
        .await
        .unwrap_err();
    assert!(err.refuses("office", Why::UnknownOffice), "{err:?}");
}

#[tokio::test]
async fn the_console_accepts_the_legal_durations_the_loaders_accept() {
    let s = services().await;
    let admin = staff(&s, "admin@pisa.example", Role::Admin, None).await;
    // The demo's residence certificate is issued at once (0 days): saved unchanged, it stays so.
    let tx = s.deps.store.tenant(PISA).await.unwrap();
    let row = tx
        .db()
        .service_row("certificato-residenza")
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(row.max_days, Some(0));
    let mut change = edit::ServiceChange {
        title: row.title.clone(),
        summary: row.summary.clone(),
        audience: row.audience.clone(),
        office: row.office_id.clone().unwrap_or_default(),
        max_days: "0".into(),
        online_level: row.online_level.clone(),
        channels: vec!["desk".into()],
        ..Default::default()
    };
    edit::update_service(&s.deps, &admin, "certificato-residenza", &change)
        .await
        .unwrap();
    change.max_days = "3651".into();
    let err = edit::update_service(&s.deps, &admin, "certificato-residenza", &change)
        .await
        .unwrap_err();
    assert!(err.refuses("max_days", Why::DaysRange), "{err:?}");
    // A tenant file with the same out-of-range value is refused by the loader, naming it.
    let dir = sportello_tests::tenants_folder(&[(
        "pisa.toml",
        &crate::fixtures::commune_file("050026", "pisa.localhost", "durata")
            .replace("max_days = 30", "max_days = 3651"),
    )]);
    let err = s
        .deps
        .store
        .federation()
        .sync_tenants_dir(dir.path(), &apex())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("3650"), "{err}");
}

/// The federation's staff member `ops` (platform role), as the guard would admit them.
async fn federation_staff(s: &Services) -> Actor {
    let (id, _) = sportello_identity::staff::invite(
        &s.deps.store,
        Realm::Federation,
        "ops@federazione.example",
        "Ops",
        Role::Federation.key(),
    )
    .await
    .unwrap();
    s.deps.apply_policy_changes().await.unwrap();
    Actor {
        realm: Realm::Federation,
        staff_id: id,
        name: "Ops".into(),
        email: "ops@federazione.example".into(),
        federation: true,
    }
}

#[tokio::test]
async fn a_support_session_dies_with_its_grant_and_a_new_grant_does_not_revive_it() {
    let s = services().await;
    let admin = staff(&s, "admin@pisa.example", Role::Admin, None).await;
    let ops = federation_staff(&s).await;
    let grant = |reason: &str| commune::NewGrant {
        reason: reason.into(),
        hours: "2".into(),
    };
    let first = commune::grant_support(&s.deps, &admin, &grant("segnalazione 1"))
        .await
        .unwrap();
    let (host, code) = federation::support_entry(&s.deps, &ops, PISA)
        .await
        .unwrap();
    let token = federation::redeem_support(&s.deps, PISA, host.as_str(), &code, None)
        .await
        .unwrap();
    let hash = sportello_kernel::tokens::hash(&token);
    let open = || async {
        s.deps
            .store
            .identity()
            .support_session_hashes(PISA.0)
            .await
            .unwrap()
    };
    assert_eq!(open().await, vec![hash.clone()]);
    commune::revoke_support(&s.deps, &admin, PISA, &first)
        .await
        .unwrap();
    assert!(open().await.is_empty(), "the session ends with its grant");
    commune::grant_support(&s.deps, &admin, &grant("segnalazione 2"))
        .await
        .unwrap();
    assert!(open().await.is_empty(), "a new grant brings nothing back");
    // Every node learns it: the session is among the recorded revocations.
    let revoked = s.deps.store.identity().revocations_since(0).await.unwrap();
    assert!(revoked.iter().any(|r| r.0 == hash), "{revoked:?}");
}

/// The verifying agency's role (police, INPS, ASL) takes effect in the enforcer: it may verify
/// records, and nothing else of the commune.
#[tokio::test]
async fn a_verifier_may_verify_records_and_nothing_else() {
    let s = services().await;
    let v = staff(&s, "controlli@inps.example", Role::Verifier, None).await;
    assert!(v.may(&s.deps, Object::Records, Action::Verify).await);
    for (o, a) in [
        (Object::Records, Action::Read),
        (Object::Records, Action::Update),
        (Object::Offices, Action::Read),
        (Object::Services, Action::Update),
        (Object::Staff, Action::Read),
        (Object::Audit, Action::Read),
        (Object::Payments, Action::Read),
    ] {
        assert!(!v.may(&s.deps, o, a).await, "{o:?} {a:?}");
    }
    // A clerk of the same commune may not verify: the permission is the role's.
    let c = staff(&s, "impiegato@comune.pisa.it", Role::Clerk, None).await;
    assert!(!c.may(&s.deps, Object::Records, Action::Verify).await);
}

/// The commune tables that are not the charter (staff and their tokens, roles, audit, settings,
/// identity providers, support grants, citizens): what one commune writes is never read through
/// another's handle. On SQLite no row-level security backs a forgotten filter, so this is the
/// check there (PostgreSQL runs it too).
#[tokio::test]
async fn a_communes_own_tables_are_never_read_through_another_communes_handle() {
    let s = services().await;
    let calci = TenantId(50005);
    let now = sportello_store::now_micros();
    // Pisa writes one row in each.
    let a = staff(&s, "anna@comune.pisa.it", Role::Admin, None).await;
    let person = s
        .deps
        .store
        .identity()
        .person_from_idp(
            &sportello_store::identity::VerifiedIdentity {
                fiscal_code: "RSSMRA80A01G702C".into(),
                given_name: "Mario".into(),
                family_name: "Rossi".into(),
                email: None,
                mobile: None,
                date_of_birth: None,
                place_of_birth: None,
            },
            now,
        )
        .await
        .unwrap();
    let tx = s.deps.store.tenant(PISA).await.unwrap();
    let db = tx.db();
    db.set_settings(
        &sportello_store::authz::CommuneSettings {
            mail_from_name: Some("Comune di Pisa".into()),
            mail_reply_to: Some("urp@comune.pisa.it".into()),
            ..Default::default()
        },
        now,
    )
    .await
    .unwrap();
    db.insert_commune_idp(
        &sportello_store::staff::CommuneIdp {
            id: "toscana".into(),
            name: "Regione Toscana".into(),
            protocol: "oidc".into(),
            issuer: "https://idp.toscana.example".into(),
            client_id: "pisa".into(),
            client_secret: "v1.sealed".into(),
        },
        now,
    )
    .await
    .unwrap();
    db.grant_support("migrazione", &a.staff_id, now, now + 3_600_000_000)
        .await
        .unwrap();
    db.touch_citizen(&person.id, now).await.unwrap();
    sportello_kernel::audit::record(
        &db,
        &a,
        "settings_updated",
        "settings",
        serde_json::json!({}),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let read = |t: TenantId| {
        let store = s.deps.store.clone();
        let person = person.id.clone();
        async move {
            let tx = store.tenant(t).await.unwrap();
            let db = tx.db();
            let rows = (
                db.staff_db().list().await.unwrap().len(),
                db.staff_db()
                    .staff_by_email("anna@comune.pisa.it")
                    .await
                    .unwrap()
                    .is_some(),
                db.role_assignments().await.unwrap().len(),
                db.audit_log(100).await.unwrap().len(),
                db.settings().await.unwrap().mail_reply_to,
                db.commune_idps().await.unwrap().len(),
                db.support_grants().await.unwrap().len(),
                db.citizen_since(&person).await.unwrap().is_some(),
            );
            tx.commit().await.unwrap();
            rows
        }
    };
    // Positive control: Pisa sees each of its rows.
    let pisa = read(PISA).await;
    assert!(
        pisa.0 >= 1 && pisa.1 && pisa.2 >= 1 && pisa.3 >= 1,
        "{pisa:?}"
    );
    assert_eq!(pisa.4.as_deref(), Some("urp@comune.pisa.it"));
    assert!(pisa.5 == 1 && pisa.6 == 1 && pisa.7, "{pisa:?}");
    // Calci sees none of them.
    assert_eq!(read(calci).await, (0, false, 0, 0, None, 0, 0, false));
}

/// Marks an account as enrolled (second factor confirmed), as a first sign-in would.
async fn enrolled(s: &Services, a: &Actor) {
    let tx = s.deps.store.tenant(PISA).await.unwrap();
    let staff = tx.db().staff_db();
    staff.set_staff_totp(&a.staff_id, "v1.x").await.unwrap();
    assert!(staff.use_totp_step(&a.staff_id, 1, 1).await.unwrap());
    tx.commit().await.unwrap();
}

/// "The commune keeps an administrator who can sign in", on its own: the one removing is not
/// the one removed (so "nobody changes their own roles" cannot be what refuses), and may
/// otherwise remove administrators (the commune's rules let office heads manage staff and
/// rules).
#[tokio::test]
async fn the_last_administrator_who_can_sign_in_cannot_be_taken_away() {
    use sportello_authz::{Rule, template};
    let s = services().await;
    let admin = staff(&s, "admin@pisa.example", Role::Admin, None).await;
    enrolled(&s, &admin).await;
    let mut rules = template::rules(template::CURRENT).unwrap();
    rules.retain(|r| {
        !(r.role == Role::OfficeHead && matches!(r.object, Object::Staff | Object::Policies))
    });
    for o in [Object::Staff, Object::Policies] {
        rules.push(Rule::new(
            Role::OfficeHead,
            o,
            &[Action::Read, Action::Create, Action::Update, Action::Delete],
        ));
    }
    policy::save_rules(&s.deps, &admin, rules).await.unwrap();
    let head = staff(&s, "capo@pisa.example", Role::OfficeHead, None).await;
    let take_admin = people::RoleChange {
        role: Role::Admin.key().into(),
        office: String::new(),
        op: "remove".into(),
    };
    let last = |r: Result<bool, Error>| match r {
        Err(e) if e.refuses("role", Why::LastAdmin) || e.refuses("", Why::LastAdmin) => {}
        other => panic!("expected the last-administrator refusal: {other:?}"),
    };
    last(people::change_role(&s.deps, &head, &admin.staff_id, &take_admin).await);
    let r = people::remove(&s.deps, &head, &admin.staff_id, &confirmed()).await;
    last(r.map(|()| true));
    // An administrator invited but not enrolled cannot sign in: it does not count.
    let second = staff(&s, "secondo@pisa.example", Role::Admin, None).await;
    last(people::change_role(&s.deps, &head, &admin.staff_id, &take_admin).await);
    // Once the second one is enrolled, the first can go.
    enrolled(&s, &second).await;
    assert!(
        people::change_role(&s.deps, &head, &admin.staff_id, &take_admin)
            .await
            .unwrap()
    );
}

/// A destructive action confirmed, with its reason.
fn confirmed() -> sportello_kernel::input::Removal {
    sportello_kernel::input::Removal {
        reason: "a test".into(),
        confirm: Some("on".into()),
    }
}
