use std::collections::BTreeSet;

use sportello_domain::TenantId;

use crate::template::{self, RuleSetError};
use crate::{Action, CommunePolicy, Object, Policies, Role, Rule, Subject};

const PISA: TenantId = TenantId(50026);
const CALCI: TenantId = TenantId(50001);
const NOW: i64 = 1_000_000;

fn commune(c: TenantId, staff: &[(&str, Role)]) -> CommunePolicy {
    CommunePolicy {
        commune: c,
        template: template::CURRENT,
        custom: None,
        assignments: staff.iter().map(|(s, r)| (s.to_string(), *r)).collect(),
        support_until: None,
    }
}

async fn two_communes() -> Policies {
    let result = Policies::load(
        vec![
            commune(PISA, &[("anna", Role::Admin), ("bruno", Role::Clerk)]),
            commune(CALCI, &[("carla", Role::Admin)]),
        ],
        &["fede".to_owned()],
    )
    .await;
    match result {
        Ok(p) => p,
        Err(e) => panic!("load: {e}"),
    }
}

#[tokio::test]
async fn roles_are_scoped_to_their_commune() {
    let p = two_communes().await;
    let anna = Subject::Staff("anna");
    assert!(
        p.allows(anna, Some(PISA), Object::Staff, Action::Create, NOW)
            .await
    );
    assert!(
        !p.allows(anna, Some(CALCI), Object::Staff, Action::Read, NOW)
            .await
    );
    assert!(
        !p.allows(anna, None, Object::Communes, Action::Read, NOW)
            .await
    );
    let bruno = Subject::Staff("bruno");
    assert!(
        p.allows(bruno, Some(PISA), Object::Cases, Action::Update, NOW)
            .await
    );
    assert!(
        !p.allows(bruno, Some(PISA), Object::Staff, Action::Read, NOW)
            .await
    );
    assert!(
        !p.allows(bruno, Some(PISA), Object::Policies, Action::Update, NOW)
            .await
    );
    // An unknown staff member has nothing anywhere.
    let nobody = Subject::Staff("nobody");
    assert!(
        !p.allows(nobody, Some(PISA), Object::Services, Action::Read, NOW)
            .await
    );
}

#[tokio::test]
async fn citizens_and_federation_staff() {
    let p = two_communes().await;
    assert!(
        p.allows(
            Subject::Citizen,
            Some(PISA),
            Object::Cases,
            Action::Create,
            NOW
        )
        .await
    );
    assert!(
        !p.allows(
            Subject::Citizen,
            Some(PISA),
            Object::Staff,
            Action::Read,
            NOW
        )
        .await
    );
    assert!(
        !p.allows(Subject::Citizen, None, Object::Communes, Action::Read, NOW)
            .await
    );
    let fede = Subject::FederationStaff("fede");
    assert!(
        p.allows(fede, None, Object::Communes, Action::Create, NOW)
            .await
    );
    // Never a commune's data without a grant…
    assert!(
        !p.allows(fede, Some(PISA), Object::Offices, Action::Read, NOW)
            .await
    );
    let mut pisa = commune(PISA, &[("anna", Role::Admin)]);
    pisa.support_until = Some(NOW + 10);
    assert!(p.replace_commune(pisa).await.is_ok());
    // …and while it lasts, only what the support role may do.
    assert!(
        p.allows(fede, Some(PISA), Object::Offices, Action::Read, NOW)
            .await
    );
    assert!(
        !p.allows(fede, Some(PISA), Object::Cases, Action::Read, NOW)
            .await
    );
    assert!(
        !p.allows(fede, Some(PISA), Object::Offices, Action::Read, NOW + 10)
            .await
    );
    assert!(
        !p.allows(fede, Some(CALCI), Object::Offices, Action::Read, NOW)
            .await
    );
    // Someone else's platform role: none.
    let other = Subject::FederationStaff("other");
    assert!(
        !p.allows(other, None, Object::Communes, Action::Read, NOW)
            .await
    );
}

#[tokio::test]
async fn revoking_a_role_and_custom_rules_take_effect_at_once() {
    let p = two_communes().await;
    let bruno = Subject::Staff("bruno");
    assert!(
        p.allows(bruno, Some(PISA), Object::Cases, Action::Read, NOW)
            .await
    );
    assert!(
        p.replace_commune(commune(PISA, &[("anna", Role::Admin)]))
            .await
            .is_ok()
    );
    assert!(
        !p.allows(bruno, Some(PISA), Object::Cases, Action::Read, NOW)
            .await
    );
    // Pisa lets clerks read the audit log; Calci keeps the template.
    let mut rules = template::rules(1).unwrap_or_default();
    rules.push(Rule::new(Role::Clerk, Object::Audit, &[Action::Read]));
    let rules = match template::check_commune_rules(rules) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    let mut pisa = commune(PISA, &[("anna", Role::Admin), ("bruno", Role::Clerk)]);
    pisa.custom = Some(rules);
    assert!(p.replace_commune(pisa.clone()).await.is_ok());
    assert!(
        p.allows(bruno, Some(PISA), Object::Audit, Action::Read, NOW)
            .await
    );
    let calci = commune(CALCI, &[("bruno", Role::Clerk)]);
    assert!(p.replace_commune(calci).await.is_ok());
    assert!(
        !p.allows(bruno, Some(CALCI), Object::Audit, Action::Read, NOW)
            .await
    );
    assert_eq!(
        p.rules_of(PISA).await.get(&(Role::Clerk, Object::Audit)),
        Some(&vec![Action::Read])
    );
    assert_eq!(
        p.rules_of(CALCI).await.get(&(Role::Clerk, Object::Audit)),
        None
    );
    // Back to the template: the custom set is gone.
    let before = p.size().await.0;
    pisa.custom = None;
    assert!(p.replace_commune(pisa).await.is_ok());
    assert!(
        !p.allows(bruno, Some(PISA), Object::Audit, Action::Read, NOW)
            .await
    );
    assert!(p.size().await.0 < before);
}

#[tokio::test]
async fn federation_staff_list_is_replaced() {
    let p = two_communes().await;
    assert!(
        p.replace_federation_staff(&["gino".to_owned()])
            .await
            .is_ok()
    );
    let fede = Subject::FederationStaff("fede");
    let gino = Subject::FederationStaff("gino");
    assert!(
        !p.allows(fede, None, Object::Communes, Action::Read, NOW)
            .await
    );
    assert!(
        p.allows(gino, None, Object::Communes, Action::Read, NOW)
            .await
    );
}

#[test]
fn commune_rule_sets_are_checked() {
    let base = template::rules(1).unwrap_or_default();
    let mut platform = base.clone();
    platform.push(Rule::new(
        Role::Federation,
        Object::Offices,
        &[Action::Read],
    ));
    assert_eq!(
        template::check_commune_rules(platform),
        Err(RuleSetError::PlatformRule)
    );
    let lockout: Vec<Rule> = base
        .iter()
        .filter(|r| !(r.role == Role::Admin && r.object == Object::Policies))
        .cloned()
        .collect();
    assert_eq!(
        template::check_commune_rules(lockout),
        Err(RuleSetError::AdminLockout)
    );
    let mut twice = base.clone();
    twice.push(Rule::new(Role::Admin, Object::Offices, &[Action::Read]));
    assert!(matches!(
        template::check_commune_rules(twice),
        Err(RuleSetError::Duplicate(_))
    ));
    // Empty rules vanish; the template itself passes.
    let mut empty = base.clone();
    empty.push(Rule {
        role: Role::Verifier,
        object: Object::Audit,
        actions: BTreeSet::new(),
    });
    assert_eq!(
        template::check_commune_rules(empty).map(|r| r.len()),
        Ok(base.len())
    );
}

#[test]
fn keys_round_trip() {
    for r in Role::ALL {
        assert_eq!(Role::parse(r.key()), Some(r));
    }
    for o in Object::ALL {
        assert_eq!(Object::parse(o.key()), Some(o));
    }
    for a in Action::ALL {
        assert_eq!(Action::parse(a.key()), Some(a));
    }
    assert_eq!(Role::parse("root"), None);
}
