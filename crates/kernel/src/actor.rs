//! Who a service acts for: a staff member the web guard admitted to a route.

use sportello_authz::{Action, Object, Subject};
use sportello_domain::TenantId;
use sportello_store::staff::Realm;

use crate::{Deps, Error, Result};

/// A staff member (of a commune, or of the federation — inside a commune only through a
/// support grant).
#[derive(Debug, Clone)]
pub struct Actor {
    pub realm: Realm,
    /// The staff account id (a federation account's for federation staff, also as support).
    pub staff_id: String,
    pub name: String,
    pub email: String,
    /// Federation staff (on the apex, or inside a commune through a support grant).
    pub federation: bool,
}

impl Actor {
    /// How the audit log names the actor.
    pub fn audit_name(&self) -> String {
        if self.federation {
            format!("federation:{}", self.staff_id)
        } else {
            format!("staff:{}", self.staff_id)
        }
    }

    pub fn subject(&self) -> Subject<'_> {
        if self.federation {
            Subject::FederationStaff(&self.staff_id)
        } else {
            Subject::Staff(&self.staff_id)
        }
    }

    /// The commune the actor works in (every commune console action has one).
    pub fn commune(&self) -> Result<TenantId> {
        self.realm.commune().ok_or(Error::NeedsCommune)
    }

    /// Whether the enforcer allows this actor `act` on `obj` here (for what a page offers, and
    /// for the finer limits services check themselves).
    pub async fn may(&self, deps: &Deps, obj: Object, act: Action) -> bool {
        deps.policies
            .allows(
                self.subject(),
                self.realm.commune(),
                obj,
                act,
                sportello_store::now_micros(),
            )
            .await
    }
}
