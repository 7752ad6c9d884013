//! The default policy of a commune, versioned. Onboarding applies the current version; a
//! commune keeps the version it was given until its administrators re-apply the template (or
//! change its rules, which gives it a rule set of its own).

use std::collections::BTreeMap;

use crate::model::{Action, Object, Role, Rule};

/// The version onboarding applies today.
pub const CURRENT: i32 = 1;

/// The rules of template `version` (`None` for a version this build does not know).
pub fn rules(version: i32) -> Option<Vec<Rule>> {
    match version {
        1 => Some(v1()),
        _ => None,
    }
}

/// Every template version this build knows (rule sets the enforcer holds at start-up).
pub const VERSIONS: &[i32] = &[1];

fn v1() -> Vec<Rule> {
    use Action::*;
    use Object::{
        Audit, Cases, Charter, Idps, Offices, Payments, Policies, Records, Services, Settings,
        Staff,
    };
    use Role::{Admin, CallCentre, Citizen, Clerk, FrontDesk, Intermediary, OfficeHead, Verifier};
    let r = Rule::new;
    vec![
        // A signed-in citizen: the charter, and their own cases and payments (rows are theirs:
        // the store scopes them to the person).
        r(Citizen, Services, &[Read]),
        r(Citizen, Cases, &[Create, Read]),
        r(Citizen, Payments, &[Create, Read]),
        // Front desk: acts for a citizen who is present.
        r(FrontDesk, Offices, &[Read]),
        r(FrontDesk, Services, &[Read]),
        r(FrontDesk, Cases, &[Create, Read, ActFor]),
        r(FrontDesk, Payments, &[Create, Read, ActFor]),
        r(FrontDesk, Records, &[Read, ActFor]),
        // Call centre: acts for a citizen on the phone; no payments taken.
        r(CallCentre, Offices, &[Read]),
        r(CallCentre, Services, &[Read]),
        r(CallCentre, Cases, &[Read, ActFor]),
        r(CallCentre, Payments, &[Read]),
        // Office clerk: the work of their offices.
        r(Clerk, Offices, &[Read]),
        r(Clerk, Services, &[Read]),
        r(Clerk, Cases, &[Read, Update]),
        r(Clerk, Payments, &[Read]),
        r(Clerk, Charter, &[Read]),
        // Office head: their offices' page, hours and services, and their clerks' work.
        r(OfficeHead, Offices, &[Read, Update]),
        r(OfficeHead, Services, &[Read, Create, Update]),
        r(OfficeHead, Cases, &[Read, Update]),
        r(OfficeHead, Payments, &[Read, Refund]),
        r(OfficeHead, Charter, &[Read, Update]),
        r(OfficeHead, Staff, &[Read]),
        // Commune administrator: the whole console.
        r(Admin, Offices, &[Read, Create, Update, Delete]),
        r(Admin, Services, &[Read, Create, Update, Delete]),
        r(Admin, Cases, &[Read]),
        // Update: the payment settings, issuing and cancelling notices (added with the payments
        // console; before it, payments had no page, so no commune relied on its absence).
        r(Admin, Payments, &[Read, Update, Refund]),
        r(Admin, Charter, &[Read, Update]),
        r(Admin, Settings, &[Read, Update]),
        r(Admin, Staff, &[Read, Create, Update, Delete]),
        r(Admin, Policies, &[Read, Update]),
        r(Admin, Audit, &[Read]),
        r(Admin, Idps, &[Read, Create, Delete]),
        r(Admin, Object::Support, &[Read, Create, Delete]),
        // The messages the commune sends (a new object joins the version every commune follows:
        // it takes no right away; a version changes when existing rights do).
        r(Admin, Object::Messages, &[Read, Create, Update, Delete]),
        // The population registry (added with the registry console: before it, records had no
        // page, so no commune relied on their absence). A commune gives its registry clerks
        // these rights through its own rules.
        r(Admin, Records, &[Read, Create, Update, ActFor]),
        // Intermediary (CAF, patronato, bank, employer): acts for clients who delegated it.
        r(Intermediary, Services, &[Read]),
        r(Intermediary, Cases, &[Create, Read, ActFor]),
        r(Intermediary, Payments, &[Create, Read, ActFor]),
        // Verifying agency (police, INPS, ASL): logged read-only checks.
        r(Verifier, Records, &[Verify]),
        // Federation support inside a commune that granted it, while the grant lasts.
        r(Role::Support, Offices, &[Read, Update]),
        r(Role::Support, Services, &[Read, Update]),
        r(Role::Support, Charter, &[Read, Update]),
        r(Role::Support, Settings, &[Read, Update]),
        r(Role::Support, Staff, &[Read]),
        r(Role::Support, Policies, &[Read]),
        r(Role::Support, Audit, &[Read]),
        r(Role::Support, Idps, &[Read]),
        r(Role::Support, Object::Support, &[Read]),
        r(Role::Support, Object::Messages, &[Read]),
    ]
}

/// The platform's own rules (domain `federation`): never a commune's data.
pub fn federation_rules() -> Vec<Rule> {
    vec![
        Rule::new(
            Role::Federation,
            Object::Communes,
            &[Action::Read, Action::Create, Action::Update],
        ),
        Rule::new(
            Role::Federation,
            Object::Support,
            &[Action::Read, Action::Delete],
        ),
    ]
}

/// Why a commune's rule set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    #[error("the platform role and the registry of communes are not part of a commune's policy")]
    PlatformRule,
    #[error(
        "administrators must keep reading and changing staff and policies, or nobody could undo the change"
    )]
    AdminLockout,
    #[error("{0} is given twice for the same role")]
    Duplicate(String),
}

/// Checks a commune's own rule set and returns it in canonical form (one rule per role and
/// object, no empty rule).
pub fn check_commune_rules(rules: Vec<Rule>) -> Result<Vec<Rule>, RuleSetError> {
    let mut by_key: BTreeMap<(Role, Object), Rule> = BTreeMap::new();
    for rule in rules {
        if rule.role == Role::Federation || rule.object == Object::Communes {
            return Err(RuleSetError::PlatformRule);
        }
        if rule.actions.is_empty() {
            continue;
        }
        if by_key.contains_key(&(rule.role, rule.object)) {
            return Err(RuleSetError::Duplicate(format!(
                "{}:{}",
                rule.role, rule.object
            )));
        }
        by_key.insert((rule.role, rule.object), rule);
    }
    for object in [Object::Staff, Object::Policies] {
        let ok = by_key.get(&(Role::Admin, object)).is_some_and(|r| {
            r.actions.contains(&Action::Read) && r.actions.contains(&Action::Update)
        });
        if !ok {
            return Err(RuleSetError::AdminLockout);
        }
    }
    Ok(by_key.into_values().collect())
}
