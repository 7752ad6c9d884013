//! The change of residence on the cases: a citizen files Pisa's form (its people checked line by
//! line as typed), the registry office registers it from the day it was made (the people move,
//! the family they leave gets a new head, a newcomer is registered), the police check confirms
//! it or a rejection puts the registry back, and 45 days of silence accept it by law.

use chrono::{Duration, NaiveDate};
use sportello_authz::Role;
use sportello_cases::draft::{self, Step};
use sportello_cases::filer::Filer;
use sportello_cases::office::{self, Act};
use sportello_cases::{follow, submit};
use sportello_domain::registry::Relation;
use sportello_domain::registry::residence::{self, SERVICE};
use sportello_domain::{AssuranceLevel, Language, Why};
use sportello_kernel::session::Current;
use sportello_kernel::{Actor, Error};
use sportello_population::{position, records, residence as moves};
use sportello_store::population::Version;

use crate::cases::{BASE, CALCI, PISA, World, citizen, raw, world};
use crate::cases_office::staff;
use crate::registry::{admin, id_of, pisa_registry};

const GIULIA: &str = "BNCGLI85M52G702M";
const LUCA: &str = "VRDLCU83C10G702X";
const TOMMASO: &str = "VRDTMS15A01G702T";
const MARIO: &str = "RSSMRA80A01G702C";
const SARA: &str = "GLLSRA90A41G702G";

/// The registry office's clerk: the registry's rights (admin) and the office's cases.
async fn registrar(w: &World) -> Actor {
    let a = pisa_registry(w).await;
    let tx = w.deps.store.tenant(PISA).await.unwrap();
    tx.db()
        .assign_role(&a.staff_id, Role::Clerk.key(), Some("anagrafe"), "test", 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    w.deps.apply_policy_changes().await.unwrap();
    a
}

/// Fills and files the declaration page by page; a refused page is the error.
async fn declare(
    w: &World,
    who: &Current,
    pages: [&[(&str, &str)]; 3],
) -> Result<submit::Submitted, Error> {
    let f = Filer::citizen(who).unwrap();
    let d = draft::open(&w.deps, PISA, &f, SERVICE, None).await?;
    for (i, p) in pages.iter().enumerate() {
        draft::save(&w.deps, PISA, &f, SERVICE, i, &raw(p), Step::Next).await?;
    }
    submit::submit(&w.deps, PISA, &f, SERVICE, &d.draft_id, Language::It, BASE).await
}

async fn now_of(w: &World, code: &str) -> Version {
    let id = id_of(w, PISA, code).await;
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let v = tx.db().registry_at(id, None).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    v
}

async fn on_day(w: &World, code: &str, day: NaiveDate) -> Version {
    let id = id_of(w, PISA, code).await;
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let v = tx
        .db()
        .registry_at(id, Some(&day.to_string()))
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    v
}

async fn status_of(w: &World, who: &Current, case: &str) -> String {
    follow::one(&w.deps, PISA, who, case, Language::It)
        .await
        .unwrap()
        .status
}

const FROM_HERE: &[(&str, &str)] = &[("provenienza", "stesso_comune")];

#[tokio::test]
async fn a_move_within_the_commune_is_registered_from_its_day_and_confirmed() {
    let w = world().await;
    let clerk = registrar(&w).await;
    let luca = citizen(&w, PISA, LUCA, AssuranceLevel::Substantial).await;
    // Luca and Tommaso leave Giulia's family for a new one of their own.
    let people = format!("{LUCA}; Verdi; Luca; intestatario\n{TOMMASO}; Verdi; Tommaso; figlio");
    let home: &[(&str, &str)] = &[
        ("via", "via  santa MARIA"),
        ("civico", "14"),
        ("famiglia", "nuova"),
    ];
    let s = declare(&w, &luca, [FROM_HERE, home, &[("componenti", &people)]])
        .await
        .unwrap();
    let v = moves::view(&w.deps, &clerk, &s.case_id).await.unwrap();
    assert_eq!(v.street_code.as_deref(), Some("00130"), "matched by name");
    assert!(v.people.iter().all(|p| p.now.is_some()), "both resident");
    assert!(v.problems.is_empty());
    let (filed, _) = moves::waiting(&w.deps, &clerk).await.unwrap();
    assert!(filed.iter().any(|l| l.id == s.case_id));

    moves::register(&w.deps, &clerk, &s.case_id, "00130", BASE)
        .await
        .unwrap();
    let today = sportello_population::today();
    let l = now_of(&w, LUCA).await;
    let t = now_of(&w, TOMMASO).await;
    assert_eq!(
        (l.facts.street.as_str(), l.facts.number.as_str()),
        ("00130", "14")
    );
    assert_eq!(l.facts.relation, Relation::Head);
    assert_eq!(t.facts.family, l.facts.family);
    assert_eq!(t.facts.relation, Relation::Child);
    assert_eq!(
        l.valid_from,
        today.to_string(),
        "from the day of the declaration"
    );
    // Yesterday the registry still said Lungarno Pacinotti, in Giulia's family.
    let before = on_day(&w, LUCA, today - Duration::days(1)).await;
    assert_eq!(before.facts.street, "00120");
    assert_ne!(before.facts.family, l.facts.family);
    // Giulia's household sheet now has her alone, still its head.
    let g = now_of(&w, GIULIA).await;
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let left = tx.db().registry_family(g.facts.family, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].facts.relation, Relation::Head);
    // The citizen follows it: in charge, told the registration and the check's last day.
    assert_eq!(status_of(&w, &luca, &s.case_id).await, "in_charge");
    let case = follow::one(&w.deps, PISA, &luca, &s.case_id, Language::It)
        .await
        .unwrap();
    let told = serde_json::to_string(&case.events).unwrap();
    let check = residence::check_by(today).format("%d/%m/%Y").to_string();
    assert!(told.contains(&check), "{told}");
    // Registering again changes nothing.
    moves::register(&w.deps, &clerk, &s.case_id, "00130", BASE)
        .await
        .unwrap();
    assert_eq!(now_of(&w, LUCA).await.version, l.version);

    moves::confirm(&w.deps, &clerk, &s.case_id, BASE)
        .await
        .unwrap();
    assert_eq!(status_of(&w, &luca, &s.case_id).await, "accepted");
    assert!(matches!(
        moves::confirm(&w.deps, &clerk, &s.case_id, BASE).await,
        Err(Error::Refused(_))
    ));
}

#[tokio::test]
async fn the_head_leaving_gives_the_family_a_new_head_and_a_rejection_puts_all_back() {
    let w = world().await;
    let clerk = registrar(&w).await;
    let giulia = citizen(&w, PISA, GIULIA, AssuranceLevel::Substantial).await;
    let before = [
        now_of(&w, GIULIA).await,
        now_of(&w, LUCA).await,
        now_of(&w, TOMMASO).await,
    ];
    let home: &[(&str, &str)] = &[
        ("via", "Via Santa Maria"),
        ("civico", "20"),
        ("famiglia", "nuova"),
    ];
    let s = declare(
        &w,
        &giulia,
        [
            FROM_HERE,
            home,
            &[(
                "componenti",
                &format!("{GIULIA}; Bianchi; Giulia; intestatario"),
            )],
        ],
    )
    .await
    .unwrap();
    moves::register(&w.deps, &clerk, &s.case_id, "00130", BASE)
        .await
        .unwrap();
    // Luca, the eldest left, heads the family; Tommaso stays his child.
    let l = now_of(&w, LUCA).await;
    assert_eq!(l.facts.relation, Relation::Head);
    assert_eq!(now_of(&w, TOMMASO).await.facts.relation, Relation::Child);
    assert_eq!(l.facts.family, before[1].facts.family);

    // The police found she does not live there: back as it was, the history kept.
    assert!(matches!(
        moves::reject(&w.deps, &clerk, &s.case_id, " ", BASE).await,
        Err(Error::Invalid(p)) if p.has("reason", Why::Required)
    ));
    moves::reject(
        &w.deps,
        &clerk,
        &s.case_id,
        "Non dimora all'indirizzo",
        BASE,
    )
    .await
    .unwrap();
    for (code, was) in [GIULIA, LUCA, TOMMASO].iter().zip(&before) {
        let now = now_of(&w, code).await;
        assert_eq!(now.facts, was.facts, "{code} restored");
    }
    let id = id_of(&w, PISA, GIULIA).await;
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let history = tx.db().registry_history(id).await.unwrap();
    tx.commit().await.unwrap();
    assert!(history.iter().any(|v| v.cause == "correction"));
    assert!(
        history
            .iter()
            .any(|v| v.superseded_at.is_some() && v.facts.number == "20")
    );
    assert_eq!(status_of(&w, &giulia, &s.case_id).await, "rejected");
}

#[tokio::test]
async fn a_newcomer_joins_a_family_and_silence_accepts_it_after_45_days() {
    let w = world().await;
    let clerk = registrar(&w).await;
    let sara = citizen(&w, PISA, SARA, AssuranceLevel::Substantial).await;
    let from: &[(&str, &str)] = &[
        ("provenienza", "altro_comune"),
        ("comune_provenienza", "Lucca"),
    ];
    let join: &[(&str, &str)] = &[
        ("via", "Via Santa Maria"),
        ("civico", "12"),
        ("famiglia", "esistente"),
        ("intestatario", MARIO),
    ];
    // Without her citizenship and civil status she cannot be registered: nothing is written.
    let short = declare(
        &w,
        &sara,
        [
            from,
            join,
            &[("componenti", &format!("{SARA}; Galli; Sara; convivente"))],
        ],
    )
    .await
    .unwrap();
    assert!(matches!(
        moves::register(&w.deps, &clerk, &short.case_id, "", BASE).await,
        Err(Error::Invalid(p)) if p.has("componenti", Why::MoverLine)
    ));
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    assert_eq!(tx.db().registry_id(SARA).await.unwrap(), None);
    assert_eq!(tx.db().residence_move(&short.case_id).await.unwrap(), None);
    tx.commit().await.unwrap();
    moves::reject(&w.deps, &clerk, &short.case_id, "Dati incompleti", BASE)
        .await
        .unwrap();

    let line = format!("{SARA}; Galli; Sara; convivente; ita; nubile");
    let s = declare(&w, &sara, [from, join, &[("componenti", &line)]])
        .await
        .unwrap();
    moves::register(&w.deps, &clerk, &s.case_id, "", BASE)
        .await
        .unwrap();
    let v = now_of(&w, SARA).await;
    let m = now_of(&w, MARIO).await;
    assert_eq!(v.facts.family, m.facts.family);
    assert_eq!(v.facts.relation, Relation::Cohabitant);
    assert_eq!(
        (v.facts.street.as_str(), v.facts.interior.as_str()),
        ("00130", "3")
    );
    assert_eq!(
        v.facts.birth_date,
        NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()
    );
    assert_eq!(v.facts.birth_place_name, "PISA (PI)");
    assert_eq!(v.facts.citizenship, "ITA");
    assert_eq!(v.cause, "registration");
    // Her position page shows her new family.
    let pos = position::mine(&w.deps, PISA, &sara).await.unwrap().unwrap();
    assert_eq!(pos.family.len(), 2);

    // The ordinary case page neither pauses nor moves a declaration (only its procedure does).
    for act in [
        Act::Ask {
            text: "Ci invii il contratto di locazione?".into(),
        },
        Act::Reroute {
            office: "urp".into(),
            reason: "non è nostra".into(),
        },
    ] {
        assert!(matches!(
            office::act(&w.deps, &clerk, &s.case_id, &act, BASE).await,
            Err(Error::Refused("refused_case_procedure"))
        ));
    }
    // Within the 45 days nothing happens; after them the law accepts it.
    let today = sportello_population::today();
    let check = residence::check_by(today);
    assert_eq!(moves::tacit(&w.deps, PISA, check, BASE).await.unwrap(), 0);
    assert_eq!(status_of(&w, &sara, &s.case_id).await, "in_charge");
    assert_eq!(
        moves::tacit(&w.deps, PISA, check + Duration::days(1), BASE)
            .await
            .unwrap(),
        1
    );
    assert_eq!(status_of(&w, &sara, &s.case_id).await, "accepted");
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    let done = tx.db().residence_move(&s.case_id).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (done.state.as_str(), done.decided_by.as_deref()),
        ("confirmed", Some("law"))
    );

    // Mario emigrates: Sara's family is her alone, and Mario's own page shows no family here.
    let mut gone = m.facts.raw();
    gone.status = "emigrated".into();
    let mid = id_of(&w, PISA, MARIO).await;
    let entry = records::Entry {
        facts: gone,
        valid_from: today.to_string(),
        note: "Emigrato a Lucca".into(),
    };
    records::change(&w.deps, &clerk, mid, &entry).await.unwrap();
    let pos = position::mine(&w.deps, PISA, &sara).await.unwrap().unwrap();
    assert_eq!(pos.family.len(), 1);
    let mario = citizen(&w, PISA, MARIO, AssuranceLevel::Substantial).await;
    let pos = position::mine(&w.deps, PISA, &mario)
        .await
        .unwrap()
        .unwrap();
    assert!(pos.family.is_empty(), "{:?}", pos.family);
}

#[tokio::test]
async fn the_people_are_checked_as_typed_and_the_deadlines_are_working_days() {
    let w = world().await;
    let _clerk = registrar(&w).await;
    let luca = citizen(&w, PISA, LUCA, AssuranceLevel::Substantial).await;
    let home: &[(&str, &str)] = &[
        ("via", "Via Santa Maria"),
        ("civico", "1"),
        ("famiglia", "nuova"),
    ];
    let refused = |text: &str| {
        let text = text.to_owned();
        let w = &w;
        let luca = &luca;
        async move {
            match declare(w, luca, [FROM_HERE, home, &[("componenti", &text)]]).await {
                Err(Error::Invalid(p)) => {
                    p.0.into_iter().map(|x| (x.why, x.arg)).collect::<Vec<_>>()
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    };
    let two = format!("{LUCA}; Verdi; Luca; intestatario\n{TOMMASO}; Verdi; Tommaso");
    assert_eq!(refused(&two).await, vec![(Why::MoverLine, "2".into())]);
    let twice = format!("{LUCA}; Verdi; Luca; intestatario\n{LUCA}; Verdi; Luca; figlio");
    assert_eq!(refused(&twice).await, vec![(Why::MoverTwice, "2".into())]);
    let heads =
        format!("{LUCA}; Verdi; Luca; intestatario\n{TOMMASO}; Verdi; Tommaso; intestatario");
    assert_eq!(refused(&heads).await, vec![(Why::FamilyHead, "2".into())]);
    let bad_code = "VRDLCU83C10G702Y; Verdi; Luca; intestatario".to_owned();
    assert_eq!(refused(&bad_code).await, vec![(Why::MoverLine, "1".into())]);
    // Two working days: filed on Friday 24 April 2026, the next Monday is 27, Tuesday 28 (25
    // April, Liberation Day, falls on the Saturday).
    let fri = NaiveDate::from_ymd_opt(2026, 4, 24).unwrap();
    assert_eq!(
        residence::register_by(fri),
        NaiveDate::from_ymd_opt(2026, 4, 28).unwrap()
    );
    // Thursday 31 December: Friday 1 January is a holiday, so Monday 4 and Tuesday 5.
    let eve = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
    assert_eq!(
        residence::register_by(eve),
        NaiveDate::from_ymd_opt(2027, 1, 5).unwrap()
    );
    assert_eq!(
        residence::check_by(fri),
        NaiveDate::from_ymd_opt(2026, 6, 8).unwrap()
    );
}

#[tokio::test]
async fn declarations_are_the_registry_office_s_and_pisa_s_alone() {
    let w = world().await;
    let clerk = registrar(&w).await;
    let luca = citizen(&w, PISA, LUCA, AssuranceLevel::Substantial).await;
    let home: &[(&str, &str)] = &[
        ("via", "Via Santa Maria"),
        ("civico", "1"),
        ("famiglia", "nuova"),
    ];
    let s = declare(
        &w,
        &luca,
        [
            FROM_HERE,
            home,
            &[("componenti", &format!("{LUCA}; Verdi; Luca; intestatario"))],
        ],
    )
    .await
    .unwrap();
    // Calci's administrator, a Pisa admin without the registry office's cases, a clerk of
    // another office: none of them sees or acts on it.
    let calci = admin(&w, CALCI, "admin@comune.calci.pi.it").await;
    let no_office = admin(&w, PISA, "altro@comune.pisa.it").await;
    let urp = staff(&w, PISA, "urp@comune.pisa.it", Role::Clerk, Some("urp")).await;
    for who in [&calci, &no_office, &urp] {
        assert!(moves::view(&w.deps, who, &s.case_id).await.is_err());
        assert!(
            moves::register(&w.deps, who, &s.case_id, "00130", BASE)
                .await
                .is_err()
        );
        assert!(
            moves::reject(&w.deps, who, &s.case_id, "no", BASE)
                .await
                .is_err()
        );
    }
    // A declaration for someone else, or naming someone as they are not on the registry,
    // moves nobody.
    for (line, why) in [
        (
            format!("{GIULIA}; Bianchi; Giulia; intestatario"),
            Why::NotOneOf,
        ),
        (format!("{LUCA}; Rossi; Luca; intestatario"), Why::MoverLine),
    ] {
        let d = declare(&w, &luca, [FROM_HERE, home, &[("componenti", &line)]])
            .await
            .unwrap();
        let r = moves::register(&w.deps, &clerk, &d.case_id, "00130", BASE).await;
        assert!(
            matches!(&r, Err(Error::Invalid(p)) if p.has("componenti", why)),
            "{line}: {r:?}"
        );
    }
    assert_eq!(now_of(&w, GIULIA).await.facts.number, "43");
    // The ordinary case page cannot decide a declaration: the registry would not follow.
    let decide = Act::Decide {
        accept: true,
        reason: String::new(),
    };
    assert!(matches!(
        office::act(&w.deps, &clerk, &s.case_id, &decide, BASE).await,
        Err(Error::Refused("refused_case_procedure"))
    ));
    let luca_before = now_of(&w, LUCA).await;
    assert_eq!(luca_before.facts.number, "43", "nothing moved");
    // Another service's case is not a declaration.
    let other = crate::cases::report(&w, &luca, "altro", "Orari della biblioteca")
        .await
        .unwrap();
    assert!(matches!(
        moves::view(&w.deps, &clerk, &other.case_id).await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn coming_from_a_member_commune_its_registry_records_the_emigration_and_a_rejection_undoes_it()
 {
    let w = world().await;
    let clerk = registrar(&w).await;
    // Sara lives in Calci with her mother, Sara the head of their family.
    let calci = admin(&w, CALCI, "anagrafe@comune.calci.pi.it").await;
    let csv = crate::registry::fix_check(&[
        crate::registry::HEADER,
        "GLLSRA90A41G702G;Galli;Sara;F;01/01/1990;G702;PISA;ITA;single;1;head;00010;Via Roma;1;;;;;S;2015-01-01",
        "GLLNNA60A41G702Z;Galli;Anna;F;01/01/1960;G702;PISA;ITA;widowed;1;parent;00010;Via Roma;1;;;;;S;2015-01-01",
        "RSSLGU70A01G702Z;Rossi;Luigi;M;01/01/1970;G702;PISA;ITA;single;2;head;00010;Via Roma;3;;;;;S;2015-01-01",
    ]
    .join("\n"));
    sportello_population::import::import(&w.deps, &calci, csv.as_bytes())
        .await
        .unwrap();
    let in_calci = |code: String| {
        let w = &w;
        async move {
            let id = id_of(w, CALCI, &code).await;
            let tx = w.deps.store.tenant_read(CALCI).await.unwrap();
            let v = tx.db().registry_at(id, None).await.unwrap();
            tx.commit().await.unwrap();
            v
        }
    };
    let anna_code = csv
        .lines()
        .nth(2)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let sara = citizen(&w, PISA, SARA, AssuranceLevel::Substantial).await;
    let from: &[(&str, &str)] = &[
        ("provenienza", "altro_comune"),
        ("comune_provenienza", "calci"),
    ];
    let join: &[(&str, &str)] = &[
        ("via", "Via Santa Maria"),
        ("civico", "12"),
        ("famiglia", "esistente"),
        ("intestatario", MARIO),
    ];
    // Sara also lists Luigi, who lives in Calci but not in her family: Pisa registers him as a
    // newcomer, but Calci's record of a stranger is never touched by her declaration.
    let luigi = csv
        .lines()
        .nth(3)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let line = format!(
        "{SARA}; Galli; Sara; convivente; ITA; nubile\n{luigi}; Rossi; Luigi; convivente; ITA; celibe"
    );
    let s = declare(&w, &sara, [from, join, &[("componenti", &line)]])
        .await
        .unwrap();
    moves::register(&w.deps, &clerk, &s.case_id, "", BASE)
        .await
        .unwrap();
    let stranger = in_calci(luigi.clone()).await.unwrap();
    assert_eq!(
        stranger.facts.status,
        sportello_domain::registry::Status::Resident
    );
    assert_eq!(stranger.version, 1);
    // Calci: Sara emigrated from the day of the declaration, her mother heads the family.
    let today = sportello_population::today().to_string();
    let gone = in_calci(SARA.into()).await.unwrap();
    assert_eq!(
        gone.facts.status,
        sportello_domain::registry::Status::Emigrated
    );
    assert_eq!(gone.valid_from, today);
    assert!(gone.note.contains("Pisa"), "{}", gone.note);
    assert_eq!(
        in_calci(anna_code.clone()).await.unwrap().facts.relation,
        Relation::Head
    );

    // Rejected: both registries as they were.
    moves::reject(
        &w.deps,
        &clerk,
        &s.case_id,
        "Non dimora all'indirizzo",
        BASE,
    )
    .await
    .unwrap();
    let back = in_calci(SARA.into()).await.unwrap();
    assert_eq!(
        back.facts.status,
        sportello_domain::registry::Status::Resident
    );
    assert_eq!(back.facts.relation, Relation::Head);
    assert_eq!(
        in_calci(anna_code.clone()).await.unwrap().facts.relation,
        Relation::Parent
    );
    let id = id_of(&w, PISA, SARA).await;
    let tx = w.deps.store.tenant_read(PISA).await.unwrap();
    assert!(
        tx.db().registry_at(id, None).await.unwrap().is_none(),
        "not on Pisa's registry"
    );
    tx.commit().await.unwrap();
}
