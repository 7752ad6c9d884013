//! Who fills in and files a form: the person, signed in at the service's level; or staff for
//! them (a front desk for someone present, the call centre for someone on the phone, an
//! intermediary for a client who delegated it). Staff keep their own draft for the person
//! (never the person's own), and the case records who filed it, as what, from which commune's
//! desk and why: the audit log and the citizen's case show it.

use sportello_domain::{AssuranceLevel, TenantId};
use sportello_kernel::session::Current;
use sportello_kernel::{Actor, Error, Result};
use sportello_store::cases::Filed;
use sportello_store::identity::Person;

use crate::forms::ServiceForm;

/// As what staff file for someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FiledAs {
    /// At a desk, the person present and identified by a document.
    FrontDesk,
    /// On the phone: identified by what they say, so only services that ask no more than a
    /// first-level sign-in.
    CallCentre,
    /// A CAF, a patronato: for a client whose delegation holds.
    Intermediary,
}

impl FiledAs {
    pub fn key(self) -> &'static str {
        match self {
            Self::FrontDesk => "front_desk",
            Self::CallCentre => "call_centre",
            Self::Intermediary => "intermediary",
        }
    }
}

/// Staff filing for a person.
#[derive(Debug, Clone)]
pub struct Desk {
    pub staff: Actor,
    pub as_: FiledAs,
    /// The commune whose desk this is (the case's own, or a partner's for "any desk").
    pub from: TenantId,
    pub purpose: String,
    pub delegation_id: Option<String>,
}

/// Who fills in a form, and for whom.
#[derive(Debug, Clone)]
pub struct Filer {
    /// The person the case is for (its applicant).
    pub person: Person,
    /// How the person was identified: the sign-in's level and provider, or the desk's.
    pub level: AssuranceLevel,
    pub idp: String,
    pub desk: Option<Desk>,
}

impl Filer {
    /// The signed-in person, for themselves.
    pub fn citizen(who: &Current) -> Result<Self> {
        Ok(Self {
            person: who.person.clone().ok_or(Error::Refused("session_ended"))?,
            level: who.level,
            idp: who.idp.clone(),
            desk: None,
        })
    }

    /// Whose draft it is: `""` the person's own, `staff:<id>` a desk's.
    pub fn key(&self) -> String {
        self.desk
            .as_ref()
            .map_or_else(String::new, |d| d.staff.audit_name())
    }

    /// The history's and audit log's name for who acts, and their name.
    pub fn actor(&self) -> (String, String) {
        match &self.desk {
            None => (
                format!("citizen:{}", self.person.id),
                format!("{} {}", self.person.given_name, self.person.family_name),
            ),
            Some(d) => (d.staff.audit_name(), d.staff.name.clone()),
        }
    }

    /// Whether the request counts as signed (CAD art. 65: SPID/CIE at level 2 or more). A desk's
    /// filing is signed on paper at the desk, not here.
    pub fn signed(&self) -> bool {
        self.desk.is_none() && self.level >= AssuranceLevel::Substantial && self.idp != "password"
    }

    /// Whether this filer may fill in this service's form: the person at the service's level;
    /// the call centre only where a first-level sign-in would do.
    pub(crate) fn may_fill(&self, form: &ServiceForm) -> Result<()> {
        match self.desk.as_ref().map(|d| d.as_) {
            None if self.level < form.service.online_level => {
                Err(Error::Refused("refused_level_too_low"))
            }
            Some(FiledAs::CallCentre) if form.service.online_level > AssuranceLevel::Low => {
                Err(Error::Refused("refused_call_centre_level"))
            }
            _ => Ok(()),
        }
    }

    /// What the case records of its filing by staff.
    pub(crate) fn filed(&self) -> Option<Filed> {
        self.desk.as_ref().map(|d| Filed {
            by: d.staff.audit_name(),
            by_name: d.staff.name.clone(),
            as_: d.as_.key().to_owned(),
            from: d.from.0,
            purpose: d.purpose.clone(),
            delegation_id: d.delegation_id.clone(),
        })
    }
}
