//! Cases, citizen's side, through the services (no server): forms from the tenant files,
//! drafts, submission with its protocol number (gap-free under concurrency, none burnt by a
//! failed submission), idempotent double submit, routing by answers, status by code.

use sportello_cases::draft::{self, Step};
use sportello_cases::{follow, submit};
use sportello_domain::form::Raw;
use sportello_domain::{AssuranceLevel, Language, TenantId, Why};
use sportello_kernel::session::{Current, Kind};
use sportello_kernel::{Deps, Error, Secret, Settings};
use sportello_store::identity::VerifiedIdentity;
use sportello_tests::{TestDb, apex, is_postgres, tenants_dir};

pub const PISA: TenantId = TenantId(50026);
pub const CALCI: TenantId = TenantId(50003);
pub const BASE: &str = "http://pisa.localhost:8080";

pub struct World {
    pub deps: Deps,
    pub db: TestDb,
    _outbox: tempfile::TempDir,
}

/// The services over the demo federation (forms included), as `sportello serve` builds them.
pub async fn world() -> World {
    world_with(|_| {}).await
}

/// The same with settings of the test's own (Stripe's test server, say).
pub async fn world_with(more: impl FnOnce(&mut Settings)) -> World {
    let db = TestDb::new().await;
    let store = db.app_store().await;
    store
        .federation()
        .sync_tenants_dir(&tenants_dir(), &apex())
        .await
        .unwrap();
    let outbox = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        database_url: Secret::new(db.app_url.clone()),
        mail_outbox: outbox.path().display().to_string(),
        files_dir: outbox.path().join("files").display().to_string(),
        ..Settings::default()
    };
    more(&mut settings);
    let deps = Deps::load(&settings, store, "http://login.localhost:8080".into())
        .await
        .unwrap();
    World {
        deps,
        db,
        _outbox: outbox,
    }
}

/// A citizen signed in at `level` in `commune`, as the session middleware hands them over.
pub async fn citizen(w: &World, commune: TenantId, cf: &str, level: AssuranceLevel) -> Current {
    citizen_of(&w.deps, commune, cf, level).await
}

/// The same with the services' bundle of a running app.
pub async fn citizen_of(
    deps: &Deps,
    commune: TenantId,
    cf: &str,
    level: AssuranceLevel,
) -> Current {
    let who = VerifiedIdentity {
        fiscal_code: cf.into(),
        given_name: "Anna".into(),
        family_name: format!("Rossi {cf}"),
        email: Some(format!("{}@example.org", cf.to_lowercase())),
        mobile: None,
        date_of_birth: Some("1985-12-10".into()),
        place_of_birth: Some("Pisa".into()),
    };
    person_signed_in(deps, commune, &who, level).await
}

/// The person an identity provider vouched for as `who`, signed in at `commune` at `level`.
pub async fn person_signed_in(
    deps: &Deps,
    commune: TenantId,
    who: &VerifiedIdentity,
    level: AssuranceLevel,
) -> Current {
    let p = deps
        .store
        .identity()
        .person_from_idp(who, sportello_store::now_micros())
        .await
        .unwrap();
    Current {
        token_hash: "test".into(),
        kind: Kind::Citizen,
        sso_hash: None,
        commune: Some(commune),
        person: Some(p),
        staff: None,
        level,
        idp: "demo-spid".into(),
        mfa: false,
        created_at: 0,
        last_seen_at: 0,
        expires_at: i64::MAX,
    }
}

pub fn raw(pairs: &[(&str, &str)]) -> Raw {
    let mut r = Raw::new();
    for (k, v) in pairs {
        r.entry((*k).to_owned()).or_default().push((*v).to_owned());
    }
    r
}

/// Files a report ("segnalazioni") about `topic` with `subject`: the whole path a citizen takes.
pub async fn report(
    w: &World,
    who: &Current,
    topic: &str,
    subject: &str,
) -> Result<submit::Submitted, Error> {
    let f = draft::open(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(who).unwrap(),
        "segnalazioni",
        None,
    )
    .await?;
    let first = raw(&[
        ("categoria", topic),
        ("oggetto", subject),
        (
            "descrizione",
            "Da una settimana il lampione davanti al civico è spento.",
        ),
        ("luogo", "Via Santa Maria 12"),
    ]);
    draft::save(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(who).unwrap(),
        "segnalazioni",
        0,
        &first,
        Step::Next,
    )
    .await?;
    draft::save(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(who).unwrap(),
        "segnalazioni",
        1,
        &raw(&[("email", "anna@example.org")]),
        Step::Next,
    )
    .await?;
    submit::submit(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(who).unwrap(),
        "segnalazioni",
        &f.draft_id,
        Language::It,
        BASE,
    )
    .await
}

pub fn year() -> i32 {
    sportello_cases::today()
        .format("%Y")
        .to_string()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_demo_forms_are_stored_once_and_versioned_on_change() {
    let w = world().await;
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    let forms = tx.db().latest_forms().await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(forms.len(), 9, "nine Pisa services have a form");
    assert!(forms.iter().all(|f| f.version == 1));
    // Synced again unchanged: no new version.
    w.deps
        .store
        .federation()
        .sync_tenants_dir(&tenants_dir(), &apex())
        .await
        .unwrap();
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    assert_eq!(
        tx.db()
            .form("permesso-ztl", None)
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
    tx.commit().await.unwrap();
    // A label changed in the file: a new version, the old one kept for the cases filed with it.
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(tenants_dir()).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let text = if path.file_name().is_some_and(|n| n == "pisa.toml") {
                text.replace("label = \"Targa del veicolo\"", "label = \"Targa\"")
            } else {
                text
            };
            std::fs::write(dir.path().join(path.file_name().unwrap()), text).unwrap();
        }
    }
    w.deps
        .store
        .federation()
        .sync_tenants_dir(dir.path(), &apex())
        .await
        .unwrap();
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    let versions = tx.db().form_versions("permesso-ztl").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    assert!(
        versions[0].definition.contains("\"Targa\"")
            && versions[1].definition.contains("Targa del veicolo")
    );
}

#[tokio::test]
async fn a_form_is_filled_page_by_page_and_nothing_typed_is_lost() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Substantial).await;
    let f = draft::open(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        "accesso-atti",
        None,
    )
    .await
    .unwrap();
    // Prefilled from the identity.
    assert_eq!(f.raw["codice_fiscale"], vec!["RSSMRA85T10A562S".to_owned()]);
    assert_eq!(f.raw["nome"], vec!["Anna".to_owned()]);
    assert_eq!(f.page, 0);
    // A refused page names every field and keeps what was typed.
    let typed = raw(&[
        ("nome", "Anna"),
        ("cognome", ""),
        ("codice_fiscale", "RSSMRA85T10A562X"),
        ("titolo", "interessato"),
    ]);
    let e = draft::save(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        "accesso-atti",
        0,
        &typed,
        Step::Next,
    )
    .await
    .unwrap_err();
    let Error::Invalid(p) = e else {
        panic!("{e:?}")
    };
    assert!(p.has("cognome", Why::Required) && p.has("codice_fiscale", Why::FiscalCodeInvalid));
    // Signed out and back days later: the draft is where it was, with the wrong code as typed.
    let again = draft::open(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        "accesso-atti",
        None,
    )
    .await
    .unwrap();
    assert_eq!(again.draft_id, f.draft_id);
    assert_eq!(
        again.raw["codice_fiscale"],
        vec!["RSSMRA85T10A562X".to_owned()]
    );
    let fixed = raw(&[
        ("nome", "Anna"),
        ("cognome", "Rossi"),
        ("codice_fiscale", "RSSMRA85T10A562S"),
        ("titolo", "interessato"),
    ]);
    let next = draft::save(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        "accesso-atti",
        0,
        &fixed,
        Step::Next,
    )
    .await
    .unwrap();
    assert_eq!(next, Some(1));
    // Civic access asks no reason; documentary access does (a condition on the same page).
    let civic = raw(&[
        ("tipo_accesso", "civico"),
        ("documenti", "Delibera di Giunta n. 12 del 2026"),
        ("modalita", "copia_digitale"),
    ]);
    assert_eq!(
        draft::save(
            &w.deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
            "accesso-atti",
            1,
            &civic,
            Step::Next
        )
        .await
        .unwrap(),
        None
    );
    let mut documentary = civic.clone();
    documentary.insert("tipo_accesso".into(), vec!["documentale".into()]);
    let e = draft::save(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        "accesso-atti",
        1,
        &documentary,
        Step::Next,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Invalid(p) if p.has("motivazione", Why::Required)));
    // "Save" keeps an unfinished page without judging it.
    assert_eq!(
        draft::save(
            &w.deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
            "accesso-atti",
            1,
            &documentary,
            Step::Save
        )
        .await
        .unwrap(),
        Some(1)
    );
    // Submitting with a page still wrong is refused, field by field.
    let e = submit::submit(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        "accesso-atti",
        &f.draft_id,
        Language::It,
        BASE,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Invalid(p) if p.has("motivazione", Why::Required)));
}

#[tokio::test]
async fn below_the_services_level_nothing_opens() {
    let w = world().await;
    let weak = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let e = draft::open(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&weak).unwrap(),
        "accesso-atti",
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, Error::Refused("refused_level_too_low")),
        "{e:?}"
    );
    // A service without a form (its online channel is ANPR's) has no draft here.
    let strong = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Substantial).await;
    let e = draft::open(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&strong).unwrap(),
        "certificato-residenza",
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::NotFound));
}

#[tokio::test]
async fn a_submission_gets_a_protocol_number_once_and_routes_by_its_answers() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let f = draft::open(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        "segnalazioni",
        None,
    )
    .await
    .unwrap();
    let s = report(&w, &anna, "traffico", "Auto in sosta sul marciapiede")
        .await
        .unwrap();
    assert_eq!(s.protocol.year, year());
    assert_eq!(s.protocol.number, 1);
    assert!(s.protocol.to_string().ends_with("/0000001"));
    assert!(!s.repeated);
    // The draft is gone with its submission: a late save of it (another tab) brings nothing back.
    let late = draft::save(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        "segnalazioni",
        1,
        &raw(&[("email", "x@example.org")]),
        Step::Save,
    )
    .await;
    assert!(matches!(late, Err(Error::NotFound)), "{late:?}");
    // The same draft submitted again (a double click, a retry): the same case.
    let again = submit::submit(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        "segnalazioni",
        &f.draft_id,
        Language::It,
        BASE,
    )
    .await
    .unwrap();
    assert_eq!(
        (again.case_id.as_str(), again.protocol, again.repeated),
        (s.case_id.as_str(), s.protocol, true)
    );
    let mine = follow::mine(&w.deps, PISA, &anna, Language::It)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "one case, not two");
    let case = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(case.office_id, "polizia-municipale", "routed by the topic");
    assert_eq!(case.status, "submitted");
    assert!(case.can_withdraw);
    assert_eq!(case.events.len(), 1);
    assert_eq!(case.events[0].kind, "submitted");
    let d = case.deadline.unwrap();
    assert_eq!(d.days_left, 30);
    // Another topic goes to the service's own office.
    let other = report(&w, &anna, "altro", "Orari della biblioteca")
        .await
        .unwrap();
    assert_eq!(other.protocol.number, 2);
    let c = follow::one(&w.deps, PISA, &anna, &other.case_id, Language::It)
        .await
        .unwrap();
    assert_eq!(c.office_id, "urp");
    // The citizen was told, in the same transaction as the case.
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    let msgs = tx
        .db()
        .messages(&sportello_store::outbox::MessageFilter {
            person_id: Some(anna.person.as_ref().unwrap().id.clone()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        msgs.iter()
            .filter(|m| m.subject.contains(&s.protocol.to_string()))
            .count(),
        1,
        "{msgs:?}"
    );
}

#[tokio::test]
async fn the_status_by_code_shows_the_state_and_nothing_else() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let s = report(&w, &anna, "altro", "Orari della biblioteca")
        .await
        .unwrap();
    let code = follow::one(&w.deps, PISA, &anna, &s.case_id, Language::It)
        .await
        .unwrap()
        .code
        .unwrap();
    let p = s.protocol.to_string();
    let found = follow::status_by_code(&w.deps, PISA, &p, &code.to_lowercase(), Language::It)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.status, "submitted");
    assert_eq!(found.protocol, p);
    let shown = serde_json::to_string(&found).unwrap();
    assert!(
        !shown.contains("Rossi") && !shown.contains("RSSMRA"),
        "{shown}"
    );
    for (number, c) in [
        (p.as_str(), "WRONGCODE2"),
        ("2026/9999", code.as_str()),
        ("nonsense", code.as_str()),
        (p.as_str(), ""),
    ] {
        assert!(
            follow::status_by_code(&w.deps, PISA, number, c, Language::It)
                .await
                .unwrap()
                .is_none(),
            "{number} {c}"
        );
    }
    // Another commune's site knows nothing of it.
    assert!(
        follow::status_by_code(&w.deps, CALCI, &p, &code, Language::It)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn someone_elses_case_or_another_communes_is_not_there() {
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let s = report(&w, &anna, "altro", "Orari della biblioteca")
        .await
        .unwrap();
    let bruno = citizen(&w, PISA, "BRNBRN80A01G702X", AssuranceLevel::Low).await;
    assert!(matches!(
        follow::one(&w.deps, PISA, &bruno, &s.case_id, Language::It).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        follow::withdraw(&w.deps, PISA, &bruno, &s.case_id, "mio").await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        follow::reply(&w.deps, PISA, &bruno, &s.case_id, "ciao", BASE).await,
        Err(Error::NotFound)
    ));
    assert!(
        follow::mine(&w.deps, PISA, &bruno, Language::It)
            .await
            .unwrap()
            .is_empty()
    );
    // Anna herself, on Calci's site.
    assert!(matches!(
        follow::one(&w.deps, CALCI, &anna, &s.case_id, Language::It).await,
        Err(Error::NotFound)
    ));
    assert!(
        follow::mine(&w.deps, CALCI, &anna, Language::It)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Makes every submission whose answers hold `FAIL` fail inside its transaction, after it took
/// its number (a fault injected with the database's own trigger, as the schema owner).
pub async fn fail_marked_submissions(db: &TestDb) {
    use sea_orm::ConnectionTrait;
    let owner = sportello_store::Store::connect(&db.admin_url)
        .await
        .unwrap();
    let sql: &[&str] = if is_postgres() {
        &[
            "CREATE FUNCTION fail_marked() RETURNS trigger AS $$ BEGIN \
             IF NEW.number IS NOT NULL AND NEW.answers LIKE '%FAIL%' THEN RAISE EXCEPTION 'injected'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER fail_marked BEFORE UPDATE ON cases FOR EACH ROW EXECUTE FUNCTION fail_marked()",
        ]
    } else {
        &[
            "CREATE TRIGGER fail_marked BEFORE UPDATE OF number ON cases \
           WHEN NEW.number IS NOT NULL AND NEW.answers LIKE '%FAIL%' \
           BEGIN SELECT RAISE(ABORT, 'injected'); END",
        ]
    };
    for s in sql {
        owner.raw_connection().execute_unprepared(s).await.unwrap();
    }
    owner.close().await.ok();
}

#[tokio::test]
async fn two_hundred_concurrent_submissions_get_numbers_one_to_n_with_none_burnt() {
    let w = world().await;
    fail_marked_submissions(&w.db).await;
    let mut people = vec![];
    for i in 0..200 {
        let cf = format!("TSTPRS80A01G{i:03}Z");
        let who = citizen(&w, PISA, &cf, AssuranceLevel::Low).await;
        // Every draft ready first, so the submissions themselves race.
        let f = draft::open(
            &w.deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&who).unwrap(),
            "segnalazioni",
            None,
        )
        .await
        .unwrap();
        let subject = if i % 10 == 3 {
            format!("FAIL numero {i}")
        } else {
            format!("Segnalazione {i}")
        };
        let first = raw(&[
            ("categoria", "altro"),
            ("oggetto", &subject),
            ("descrizione", "Descrizione abbastanza lunga del problema."),
        ]);
        draft::save(
            &w.deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&who).unwrap(),
            "segnalazioni",
            0,
            &first,
            Step::Next,
        )
        .await
        .unwrap();
        draft::save(
            &w.deps,
            PISA,
            &sportello_cases::filer::Filer::citizen(&who).unwrap(),
            "segnalazioni",
            1,
            &raw(&[("email", "x@example.org")]),
            Step::Next,
        )
        .await
        .unwrap();
        people.push((who, f.draft_id));
    }
    let shared = std::sync::Arc::new(w.deps);
    let mut tasks = tokio::task::JoinSet::new();
    for (who, draft_id) in people {
        let deps = shared.clone();
        tasks.spawn(async move {
            submit::submit(
                &deps,
                PISA,
                &sportello_cases::filer::Filer::citizen(&who).unwrap(),
                "segnalazioni",
                &draft_id,
                Language::It,
                BASE,
            )
            .await
        });
    }
    let (mut ok, mut failed) = (vec![], 0);
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(s) => ok.push(s.protocol.number),
            Err(_) => failed += 1,
        }
    }
    assert_eq!(failed, 20, "one in ten was made to fail");
    ok.sort_unstable();
    assert_eq!(
        ok,
        (1..=180).collect::<Vec<i64>>(),
        "numbers 1..180, no gap, none twice"
    );
    // What the database holds agrees: every committed case numbered, none without.
    let tx = shared.store.tenant(PISA).await.unwrap();
    let all = tx
        .db()
        .queue(&sportello_store::cases::QueueFilter {
            queue: sportello_store::cases::Queue::All,
            limit: 200,
            ..Default::default()
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(all.len(), 180);
    assert!(
        all.iter()
            .all(|c| c.year == Some(year()) && c.number.is_some())
    );
}

#[tokio::test]
async fn the_history_of_a_case_cannot_be_rewritten() {
    use sea_orm::ConnectionTrait;
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    report(&w, &anna, "altro", "Orari della biblioteca")
        .await
        .unwrap();
    let app = w.db.app_store().await;
    let conn = app.raw_connection();
    if is_postgres() {
        conn.execute_unprepared("SELECT set_config('sportello.tenant_id', '50026', false)")
            .await
            .unwrap();
    }
    for sql in [
        "UPDATE case_events SET body = '{}'",
        "DELETE FROM case_events",
    ] {
        assert!(
            conn.execute_unprepared(sql).await.is_err(),
            "{sql} was allowed"
        );
    }
}

#[tokio::test]
async fn a_draft_is_kept_a_year_its_person_told_a_month_before() {
    use sportello_cases::expiry::{Pass, expire};
    const DAY: i64 = 86_400_000_000;
    let w = world().await;
    let anna = citizen(&w, PISA, "RSSMRA85T10A562S", AssuranceLevel::Low).await;
    let f = draft::open(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        "segnalazioni",
        None,
    )
    .await
    .unwrap();
    let pid = anna.person.as_ref().unwrap().id.clone();
    let touched = sportello_store::now_micros();
    // Six months on: nothing happens.
    assert_eq!(
        expire(&w.deps, PISA, touched + 180 * DAY, BASE)
            .await
            .unwrap(),
        Pass::default()
    );
    // Eleven months on: the person is told, once, whichever node passes first.
    let told = touched + 336 * DAY;
    assert_eq!(
        expire(&w.deps, PISA, told, BASE).await.unwrap(),
        Pass {
            noticed: 1,
            deleted: 0
        }
    );
    assert_eq!(
        expire(&w.deps, PISA, told + DAY, BASE).await.unwrap(),
        Pass::default()
    );
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    let msgs = tx
        .db()
        .messages(&sportello_store::outbox::MessageFilter {
            person_id: Some(pid.clone()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        msgs.iter()
            .filter(|m| m.subject.contains("sarà eliminata"))
            .count(),
        1,
        "{msgs:?}"
    );
    // A year on, but told only 29 days before: still kept.
    assert_eq!(
        expire(&w.deps, PISA, told + 29 * DAY, BASE).await.unwrap(),
        Pass::default()
    );
    // Told over a month before and a year untouched: gone.
    assert_eq!(
        expire(&w.deps, PISA, told + 31 * DAY, BASE).await.unwrap(),
        Pass {
            noticed: 0,
            deleted: 1
        }
    );
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    assert!(
        tx.db()
            .draft_of(&pid, "segnalazioni", "")
            .await
            .unwrap()
            .is_none()
    );
    tx.commit().await.unwrap();
    // Starting again makes a new draft.
    let again = draft::open(
        &w.deps,
        PISA,
        &sportello_cases::filer::Filer::citizen(&anna).unwrap(),
        "segnalazioni",
        None,
    )
    .await
    .unwrap();
    assert_ne!(again.draft_id, f.draft_id);
}
