//! Checks by agencies: a verifier of an agency sees only the fields of its agreement, declares
//! one of its purposes and a case reference, is counted per minute, and is logged where the
//! person sees it; a revoked agreement, an account of no agency, another role, and another
//! commune's agency get nothing of Pisa's registry; the same check over the JSON API with the
//! verifier's API token, which works on its own commune's host only.

use serde_json::{Value, json};
use sportello_authz::Role;
use sportello_domain::AssuranceLevel;
use sportello_kernel::Error;
use sportello_population::checks::{self, AgencyForm, Question};
use sportello_population::position;
use sportello_store::staff::Realm;
use sportello_tests::StatusCode;

use crate::cases::{CALCI, PISA, citizen, world};
use crate::cases_office::staff;
use crate::registry::{admin, pisa_registry};

fn police() -> AgencyForm {
    AgencyForm {
        id: "polizia-locale".into(),
        name: "Polizia locale di Pisa".into(),
        fields: vec!["name".into(), "address".into()],
        purposes: "accertamento di residenza\nnotifica di atti".into(),
        per_minute: "3".into(),
    }
}

fn question(code: &str) -> Question {
    Question {
        fiscal_code: code.into(),
        purpose: "accertamento di residenza".into(),
        reference: "VERB-2026-118".into(),
    }
}

#[tokio::test]
async fn a_verifier_sees_its_agreement_only_and_every_check_is_logged() {
    let w = world().await;
    let a = pisa_registry(&w).await;
    checks::save_agency(&w.deps, &a, &police()).await.unwrap();
    let v = staff(&w, PISA, "agente@polizia.pisa.it", Role::Verifier, None).await;
    // Not yet linked to the agency: nothing.
    assert!(matches!(
        checks::check(&w.deps, &v, &question("BNCGLI85M52G702M")).await,
        Err(Error::Refused("refused_no_agency"))
    ));
    checks::link_member(&w.deps, &a, "polizia-locale", "agente@polizia.pisa.it")
        .await
        .unwrap();
    let ans = checks::check(&w.deps, &v, &question("BNCGLI85M52G702M"))
        .await
        .unwrap();
    assert!(ans.resident);
    assert_eq!(ans.fields.keys().collect::<Vec<_>>(), ["address", "name"]);
    assert_eq!(ans.fields["address"]["street"], "LUNGARNO PACINOTTI");
    assert_eq!(ans.fields["name"]["last_name"], "BIANCHI");
    // A purpose outside the agreement, no reference, a code that is none: each refused by field.
    let mut q = question("BNCGLI85M52G702M");
    q.purpose = "curiosità".into();
    q.reference = " ".into();
    let Err(Error::Invalid(p)) = checks::check(&w.deps, &v, &q).await else {
        panic!()
    };
    let fields: Vec<&str> = p.0.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["purpose", "reference"]);
    // Someone the registry does not hold: not resident, no field.
    let nobody = checks::check(&w.deps, &v, &question("RSSMRA85T10A562S"))
        .await
        .unwrap();
    assert!(!nobody.resident && nobody.fields.is_empty());
    // Giulia sees the agency's look, its purpose and its reference.
    let giulia = citizen(&w, PISA, "BNCGLI85M52G702M", AssuranceLevel::Substantial).await;
    let pos = position::mine(&w.deps, PISA, &giulia)
        .await
        .unwrap()
        .unwrap();
    let look = &pos.accesses[0];
    assert_eq!(
        (
            look.capacity.as_str(),
            look.purpose.as_str(),
            look.reference.as_str()
        ),
        ("verifier", "accertamento di residenza", "VERB-2026-118")
    );
    assert!(look.who_name.starts_with("Polizia locale di Pisa"));
    assert_eq!(look.what, "address,name");
    // Three checks a minute: a fourth within the same minute is refused (two minutes' worth of
    // tries at most, so a minute's turn cannot hide it).
    let mut refused = false;
    for _ in 0..7 {
        if let Err(Error::Refused("refused_too_many_checks")) =
            checks::check(&w.deps, &v, &question("VRDLCU83C10G702X")).await
        {
            refused = true;
            break;
        }
    }
    assert!(refused, "the agreement's rate was not enforced");
    // An administrator is no verifier; a revoked agreement answers nothing.
    assert!(matches!(
        checks::check(&w.deps, &a, &question("BNCGLI85M52G702M")).await,
        Err(Error::Refused("refused_role"))
    ));
    checks::revoke_agency(&w.deps, &a, "polizia-locale")
        .await
        .unwrap();
    assert!(matches!(
        checks::check(&w.deps, &v, &question("BNCGLI85M52G702M")).await,
        Err(Error::Refused("refused_no_agency"))
    ));
    // A front desk may not write agreements.
    let desk = staff(&w, PISA, "desk@comune.pisa.it", Role::FrontDesk, None).await;
    assert!(matches!(
        checks::save_agency(&w.deps, &desk, &police()).await,
        Err(Error::Refused(_))
    ));
}

#[tokio::test]
async fn calcis_agencies_reach_nothing_of_pisa() {
    let w = world().await;
    pisa_registry(&w).await;
    let calci = admin(&w, CALCI, "anagrafe@comune.calci.pi.it").await;
    checks::save_agency(&w.deps, &calci, &police())
        .await
        .unwrap();
    let v = staff(&w, CALCI, "agente@polizia.calci.it", Role::Verifier, None).await;
    checks::link_member(&w.deps, &calci, "polizia-locale", "agente@polizia.calci.it")
        .await
        .unwrap();
    let ans = checks::check(&w.deps, &v, &question("BNCGLI85M52G702M"))
        .await
        .unwrap();
    assert!(
        !ans.resident && ans.fields.is_empty(),
        "Pisa's resident seen from Calci: {ans:?}"
    );
    // Nor can Calci link Pisa's verifier to its agency: the account is not Calci's.
    staff(&w, PISA, "agente@polizia.pisa.it", Role::Verifier, None).await;
    assert!(matches!(
        checks::link_member(&w.deps, &calci, "polizia-locale", "agente@polizia.pisa.it").await,
        Err(Error::Invalid(_))
    ));
}

async fn api(
    app: &sportello_tests::TestApp,
    host: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let res = app
        .client
        .post(format!("http://{}/api/v1/registry/checks", app.addr))
        .header("host", format!("{host}:{}", app.port()))
        .header("authorization", format!("Bearer {token}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_api_answers_a_verifiers_token_on_its_communes_host_only() {
    let app = sportello_tests::spawn_app().await;
    let known = vec![sportello_population::demo::Known {
        fiscal_code: "BNCGLI85M52G702M".into(),
        first_name: "Giulia".into(),
        last_name: "Bianchi".into(),
        birth_date: chrono::NaiveDate::from_ymd_opt(1985, 8, 12).unwrap(),
        address: "Lungarno Pacinotti 43, 56126 Pisa".into(),
    }];
    sportello_population::demo::populate(&app.store, PISA, "G702", "Pisa", 50, &known)
        .await
        .unwrap();
    let mut adm = crate::actors::signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "registro.admin@comune.pisa.it",
        "admin",
    )
    .await;
    let page = adm
        .get(&adm.url("pisa.localhost", "/console/anagrafe"))
        .await;
    let csrf = page.input("csrf").unwrap();
    let saved = adm
        .post(
            &adm.url("pisa.localhost", "/console/anagrafe/enti"),
            &[
                ("csrf", &csrf),
                ("id", "inps-pisa"),
                ("name", "INPS Pisa"),
                ("field:birth", "on"),
                ("field:family", "on"),
                ("purposes", "verifica ISEE"),
                ("per_minute", "100"),
            ],
        )
        .await;
    assert!(saved.url.contains("esito=salvato"), "{}", saved.body);
    let mut verifier = crate::actors::signed_in(
        &app,
        Realm::Commune(PISA),
        "pisa.localhost",
        "bulk@inps.it",
        "verifier",
    )
    .await;
    let linked = adm
        .post(
            &adm.url("pisa.localhost", "/console/anagrafe/enti/membri"),
            &[
                ("csrf", &csrf),
                ("agency", "inps-pisa"),
                ("email", "bulk@inps.it"),
            ],
        )
        .await;
    assert!(linked.url.contains("esito=salvato"), "{}", linked.body);
    // The verifier's console page answers too.
    let form = verifier
        .get(&verifier.url("pisa.localhost", "/console/verifiche"))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("INPS Pisa"), "{}", form.body);
    let token = crate::cases_api::token_of(&mut verifier, "pisa.localhost").await;

    let (status, ans) = api(&app, "pisa.localhost", &token, json!({"fiscal_code": "BNCGLI85M52G702M", "purpose": "verifica ISEE", "reference": "ISEE-77"})).await;
    assert_eq!(status, StatusCode::OK, "{ans}");
    assert_eq!(ans["resident"], true);
    assert_eq!(ans["fields"]["birth"]["date"], "1985-08-12");
    assert_eq!(ans["fields"]["family"].as_array().unwrap().len(), 3);
    assert!(
        ans["fields"].get("name").is_none() && ans["fields"].get("address").is_none(),
        "{ans}"
    );
    let (status, ans) = api(
        &app,
        "pisa.localhost",
        &token,
        json!({"fiscal_code": "BNCGLI85M52G702M", "purpose": "altro", "reference": "X"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{ans}");
    let (status, _) = api(&app, "pisa.localhost", &token, json!({"fiscal_code": 5})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The token is Pisa's: on Calci's host it is nobody.
    let (status, _) = api(
        &app,
        "calci.localhost",
        &token,
        json!({"fiscal_code": "BNCGLI85M52G702M", "purpose": "verifica ISEE", "reference": "X"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The administrator's own token is no verifier's.
    let admin_token = crate::cases_api::token_of(&mut adm, "pisa.localhost").await;
    let (status, _) = api(
        &app,
        "pisa.localhost",
        &admin_token,
        json!({"fiscal_code": "BNCGLI85M52G702M", "purpose": "verifica ISEE", "reference": "X"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
