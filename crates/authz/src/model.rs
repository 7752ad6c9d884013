//! The words of every permission: who (a role), on what (an object of a commune) and how (an
//! action).

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A role. Staff roles are given per commune (optionally limited to some offices); `Citizen` is
/// what any signed-in citizen is; `Support` is federation staff inside a commune that granted
/// support access; `Federation` is platform scope (onboarding), never a commune's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    FrontDesk,
    CallCentre,
    Clerk,
    OfficeHead,
    Admin,
    Intermediary,
    Verifier,
    Support,
    Federation,
}

impl Role {
    /// Every role, in the order the console shows them.
    pub const ALL: [Role; 10] = [
        Role::Citizen,
        Role::FrontDesk,
        Role::CallCentre,
        Role::Clerk,
        Role::OfficeHead,
        Role::Admin,
        Role::Intermediary,
        Role::Verifier,
        Role::Support,
        Role::Federation,
    ];
    /// The roles a commune administrator can give to a staff account.
    pub const STAFF: [Role; 7] = [
        Role::FrontDesk,
        Role::CallCentre,
        Role::Clerk,
        Role::OfficeHead,
        Role::Admin,
        Role::Intermediary,
        Role::Verifier,
    ];
    /// The roles whose rules a commune's policy holds (not the platform role).
    pub const COMMUNE: [Role; 9] = [
        Role::Citizen,
        Role::FrontDesk,
        Role::CallCentre,
        Role::Clerk,
        Role::OfficeHead,
        Role::Admin,
        Role::Intermediary,
        Role::Verifier,
        Role::Support,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::FrontDesk => "front_desk",
            Role::CallCentre => "call_centre",
            Role::Clerk => "clerk",
            Role::OfficeHead => "office_head",
            Role::Admin => "admin",
            Role::Intermediary => "intermediary",
            Role::Verifier => "verifier",
            Role::Support => "support",
            Role::Federation => "federation",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == s.trim())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// What a permission is about. All but `Communes` belong to one commune.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Object {
    Offices,
    Services,
    Cases,
    Payments,
    Charter,
    Settings,
    Staff,
    Policies,
    Audit,
    Idps,
    Support,
    Records,
    /// The messages the commune sends: reading them, sending to subscribers (create),
    /// publishing and withdrawing kinds of event (update, delete).
    Messages,
    /// The federation's registry of communes (platform scope).
    Communes,
}

impl Object {
    pub const ALL: [Object; 14] = [
        Object::Offices,
        Object::Services,
        Object::Cases,
        Object::Payments,
        Object::Charter,
        Object::Settings,
        Object::Staff,
        Object::Policies,
        Object::Audit,
        Object::Idps,
        Object::Support,
        Object::Records,
        Object::Messages,
        Object::Communes,
    ];
    /// The objects of a commune (what its policy speaks of).
    pub const COMMUNE: [Object; 13] = [
        Object::Offices,
        Object::Services,
        Object::Cases,
        Object::Payments,
        Object::Charter,
        Object::Settings,
        Object::Staff,
        Object::Policies,
        Object::Audit,
        Object::Idps,
        Object::Support,
        Object::Records,
        Object::Messages,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Object::Offices => "offices",
            Object::Services => "services",
            Object::Cases => "cases",
            Object::Payments => "payments",
            Object::Charter => "charter",
            Object::Settings => "settings",
            Object::Staff => "staff",
            Object::Policies => "policies",
            Object::Audit => "audit",
            Object::Idps => "idps",
            Object::Support => "support",
            Object::Records => "records",
            Object::Messages => "messages",
            Object::Communes => "communes",
        }
    }

    pub fn parse(s: &str) -> Option<Object> {
        Object::ALL.into_iter().find(|o| o.key() == s.trim())
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// How. `ActFor` is acting on behalf of a citizen (front desk, call centre, intermediaries:
/// each act records who, for whom and why); `Verify` is a logged read-only check (police, INPS,
/// ASL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    ActFor,
    Verify,
    Refund,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Read,
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::ActFor,
        Action::Verify,
        Action::Refund,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::ActFor => "act_for",
            Action::Verify => "verify",
            Action::Refund => "refund",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.key() == s.trim())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// What one role may do on one object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Rule {
    pub role: Role,
    pub object: Object,
    pub actions: BTreeSet<Action>,
}

impl Rule {
    pub fn new(role: Role, object: Object, actions: &[Action]) -> Rule {
        Rule {
            role,
            object,
            actions: actions.iter().copied().collect(),
        }
    }

    /// The actions packed for the matcher: `|read|update|`.
    pub(crate) fn packed_actions(&self) -> String {
        let mut s = String::from("|");
        for a in &self.actions {
            s.push_str(a.key());
            s.push('|');
        }
        s
    }
}
