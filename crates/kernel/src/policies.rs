//! The node's policies: loaded from the store at start-up, a change made here applied before
//! the response, changes made elsewhere replayed from the numbered `policy_changes` every poll.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sportello_authz::{CommunePolicy, Policies, Role, Rule, template};
use sportello_domain::TenantId;
use sportello_store::Store;
use sportello_store::authz::StoredPolicy;

use crate::Error;

/// A commune's policy for the enforcer, from its rows.
pub fn commune_policy(
    commune: TenantId,
    stored: Option<&StoredPolicy>,
    assignments: impl IntoIterator<Item = (String, String)>,
    support_until: Option<i64>,
) -> CommunePolicy {
    let (template_version, custom) = match stored {
        Some(s) => (
            s.template_version,
            s.custom_rules.as_deref().map(|j| {
                serde_json::from_str::<Vec<Rule>>(j).unwrap_or_else(|e| {
                    // Rules this build cannot read (a newer node wrote them): nothing is allowed
                    // rather than the template's, which may allow more than the commune chose.
                    tracing::error!(commune = commune.0, error = %e, "unreadable commune rules: denying all");
                    Vec::new()
                })
            }),
        ),
        None => (template::CURRENT, None),
    };
    let custom = match custom {
        None if template::rules(template_version).is_none() => {
            tracing::error!(
                commune = commune.0,
                template_version,
                "template version unknown to this build: denying all"
            );
            Some(Vec::new())
        }
        c => c,
    };
    CommunePolicy {
        commune,
        template: template_version,
        custom,
        assignments: assignments
            .into_iter()
            .filter_map(|(s, r)| Role::parse(&r).map(|r| (s, r)))
            .collect(),
        support_until,
    }
}

/// Builds the node's enforcer from the database; returns it with the revision it reflects.
pub async fn load(store: &Store) -> Result<(Policies, i64), String> {
    let now = sportello_store::now_micros();
    let snap = store
        .federation()
        .policy_snapshot(now)
        .await
        .map_err(|e| format!("reading policies: {e}"))?;
    let mut stored: std::collections::HashMap<i64, StoredPolicy> =
        snap.policies.into_iter().collect();
    let mut by_commune: std::collections::HashMap<i64, Vec<(String, String)>> =
        std::collections::HashMap::new();
    for (c, s, r) in snap.assignments {
        by_commune.entry(c).or_default().push((s, r));
    }
    let support: std::collections::HashMap<i64, i64> = snap.support.into_iter().collect();
    let communes = snap
        .communes
        .iter()
        .map(|c| {
            commune_policy(
                TenantId(*c),
                stored.remove(c).as_ref(),
                by_commune.remove(c).unwrap_or_default(),
                support.get(c).copied(),
            )
        })
        .collect();
    let p = Policies::load(communes, &snap.federation_staff)
        .await
        .map_err(|e| format!("loading policies: {e}"))?;
    Ok((p, snap.revision))
}

/// Reads one commune's policy rows and gives them to the enforcer.
pub async fn reload_commune(
    store: &Store,
    policies: &Policies,
    commune: TenantId,
) -> Result<(), Error> {
    let now = sportello_store::now_micros();
    let tx = store.tenant(commune).await?;
    let db = tx.db();
    let stored = db.policy().await?;
    let assignments = db
        .role_assignments()
        .await?
        .into_iter()
        .map(|a| (a.staff_id, a.role));
    let until = db.support_until(now).await?;
    let p = commune_policy(commune, stored.as_ref(), assignments, until);
    tx.commit().await?;
    policies
        .replace_commune(p)
        .await
        .map_err(|e| Error::Upstream(e.to_string()))
}

/// Reloads the federation staff's platform role.
pub async fn reload_federation(store: &Store, policies: &Policies) -> Result<(), Error> {
    let ids = store.federation().federation_staff_ids().await?;
    policies
        .replace_federation_staff(&ids)
        .await
        .map_err(|e| Error::Upstream(e.to_string()))
}

/// The revision this node's enforcer reflects, and the poller that moves it.
pub struct PolicySync {
    pub revision: AtomicI64,
    /// One catch-up at a time (the poller and a console write may both run one): a reload that
    /// read the database earlier must never be applied after one that read it later.
    pub running: tokio::sync::Mutex<()>,
}

impl PolicySync {
    pub fn new(revision: i64) -> PolicySync {
        PolicySync {
            revision: AtomicI64::new(revision),
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Applies every change numbered after the node's revision (this node's own ones too: a
    /// reload is idempotent). A commune that cannot be reloaded is logged and left for a restart
    /// to retry; the others still move on.
    pub async fn catch_up(&self, store: &Store, policies: &Policies) -> Result<usize, Error> {
        let _one = self.running.lock().await;
        let from = self.revision.load(Ordering::Acquire);
        let changes = store.federation().policy_changes_since(from).await?;
        let Some(last) = changes.last().map(|c| c.0) else {
            return Ok(0);
        };
        let communes: BTreeSet<Option<i64>> = changes.iter().map(|c| c.1).collect();
        for c in &communes {
            let done = match c {
                Some(c) => reload_commune(store, policies, TenantId(*c)).await,
                None => reload_federation(store, policies).await,
            };
            if let Err(e) = done {
                match e {
                    // The database is unreachable: try the whole batch again next tick.
                    Error::Store(_) => return Err(e),
                    e => tracing::error!(commune = ?c, error = %e, "policy reload failed"),
                }
            }
        }
        self.revision.fetch_max(last, Ordering::AcqRel);
        Ok(communes.len())
    }

    pub fn spawn(self: &Arc<Self>, store: Store, policies: Arc<Policies>, every: Duration) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = me.catch_up(&store, &policies).await {
                    tracing::warn!(error = %e, "applying policy changes failed");
                }
            }
        });
    }
}
