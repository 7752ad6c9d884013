//! One casbin enforcer per node for every commune.
//!
//! Model (RBAC with domains; measured in ARCHITECTURE.md):
//! `r = sub, dom, obj, act; p = sub, obj, act; g = _, _, _;`
//! `m = r.obj == p.obj && actIn(r.act, p.act) && g(r.sub, p.sub, r.dom)`.
//!
//! - A policy rule's subject is a role *of a rule set*: `t1/admin` (template version 1, shared by
//!   every commune on it) or `c5026/admin` (the rules Pisa's administrators wrote). Actions are
//!   packed (`|read|update|`), so a role has one rule per object.
//! - Staff get roles per commune: `g(s:<staff id>, t1/clerk, 50026)`. A role given in Pisa opens
//!   nothing in Calci: the domain is part of the link.
//! - A citizen is checked as the role itself (`t1/citizen`): casbin links a name to itself.
//! - Federation staff hold `fed/federation` in the domain `federation`; inside a commune they
//!   are checked as its `support` role, and only while the commune's support grant lasts.

use std::collections::{BTreeMap, HashMap};

use casbin::function_map::{OperatorFunction, dynamic_to_str};
use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use sportello_domain::TenantId;
use tokio::sync::RwLock;

use crate::model::{Action, Object, Role, Rule};
use crate::template;

const MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.obj == p.obj && actIn(r.act, p.act) && g(r.sub, p.sub, r.dom)
"#;

/// The domain of platform-scope permissions.
const FEDERATION_DOMAIN: &str = "federation";
const FEDERATION_SET: &str = "fed";

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("casbin: {0}")]
    Casbin(#[from] casbin::Error),
    #[error("commune {0}: template version {1} is unknown to this build")]
    UnknownTemplate(TenantId, i32),
}

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// A signed-in citizen.
    Citizen,
    /// A staff account of the commune asked about.
    Staff(&'a str),
    /// A federation staff account.
    FederationStaff(&'a str),
}

/// Everything the enforcer needs to know about one commune.
#[derive(Debug, Clone, PartialEq)]
pub struct CommunePolicy {
    pub commune: TenantId,
    /// The template version its rules come from (when not customised).
    pub template: i32,
    /// Its own rules, when its administrators changed the template's.
    pub custom: Option<Vec<Rule>>,
    /// Staff roles: (staff account id, role).
    pub assignments: Vec<(String, Role)>,
    /// Until when (microseconds since the epoch) federation support may enter, if granted.
    pub support_until: Option<i64>,
}

struct Inner {
    enforcer: Enforcer,
    /// The rule set each commune uses (absent: the current template).
    sets: HashMap<TenantId, String>,
    support_until: HashMap<TenantId, i64>,
    /// Grouping rules per commune, to remove them on reload without scanning every domain.
    links: HashMap<TenantId, Vec<Vec<String>>>,
}

/// The node's policies. Checks take a read lock (many at once); changes a write lock.
pub struct Policies {
    inner: RwLock<Inner>,
}

fn set_key_of(p: &CommunePolicy) -> String {
    if p.custom.is_some() {
        format!("c{}", p.commune.0)
    } else {
        format!("t{}", p.template)
    }
}

fn role_name(set: &str, role: Role) -> String {
    format!("{set}/{}", role.key())
}

fn p_rules(set: &str, rules: &[Rule]) -> Vec<Vec<String>> {
    rules
        .iter()
        .map(|r| {
            vec![
                role_name(set, r.role),
                r.object.key().to_owned(),
                r.packed_actions(),
            ]
        })
        .collect()
}

fn g_rules(set: &str, p: &CommunePolicy) -> Vec<Vec<String>> {
    let dom = p.commune.0.to_string();
    let mut v: Vec<Vec<String>> = p
        .assignments
        .iter()
        .filter(|(_, role)| Role::STAFF.contains(role))
        .map(|(staff, role)| vec![format!("s:{staff}"), role_name(set, *role), dom.clone()])
        .collect();
    v.sort();
    v.dedup();
    v
}

async fn new_enforcer() -> Result<Enforcer, PolicyError> {
    let model = DefaultModel::from_str(MODEL).await?;
    let mut e = Enforcer::new(model, MemoryAdapter::default()).await?;
    // The adapter would keep a second copy of every rule: the database is the store.
    e.enable_auto_save(false);
    e.add_function(
        "actIn",
        OperatorFunction::Arg2(|act, packed| {
            let act = dynamic_to_str(&act);
            let packed = dynamic_to_str(&packed);
            packed.contains(&format!("|{act}|")).into()
        }),
    );
    Ok(e)
}

impl Policies {
    /// Builds the enforcer from every commune's policy and the federation staff's roles.
    pub async fn load(
        communes: Vec<CommunePolicy>,
        federation_staff: &[String],
    ) -> Result<Policies, PolicyError> {
        let mut e = new_enforcer().await?;
        let mut p: Vec<Vec<String>> = Vec::new();
        for v in template::VERSIONS {
            let rules = template::rules(*v).unwrap_or_default();
            p.extend(p_rules(&format!("t{v}"), &rules));
        }
        p.extend(p_rules(FEDERATION_SET, &template::federation_rules()));
        let mut g: Vec<Vec<String>> = Vec::new();
        let mut inner_sets = HashMap::new();
        let mut support_until = HashMap::new();
        let mut links = HashMap::new();
        for c in &communes {
            let set = set_key_of(c);
            match &c.custom {
                Some(rules) => p.extend(p_rules(&set, rules)),
                None if template::rules(c.template).is_none() => {
                    return Err(PolicyError::UnknownTemplate(c.commune, c.template));
                }
                None => {}
            }
            let cg = g_rules(&set, c);
            g.extend(cg.iter().cloned());
            links.insert(c.commune, cg);
            inner_sets.insert(c.commune, set);
            if let Some(until) = c.support_until {
                support_until.insert(c.commune, until);
            }
        }
        for id in federation_staff {
            g.push(vec![
                format!("f:{id}"),
                role_name(FEDERATION_SET, Role::Federation),
                FEDERATION_DOMAIN.to_owned(),
            ]);
        }
        p.sort();
        p.dedup();
        g.sort();
        g.dedup();
        if !p.is_empty() {
            e.add_policies(p).await?;
        }
        if !g.is_empty() {
            e.add_grouping_policies(g).await?;
        }
        Ok(Policies {
            inner: RwLock::new(Inner {
                enforcer: e,
                sets: inner_sets,
                support_until,
                links,
            }),
        })
    }

    /// Whether `sub` may do `act` on `obj` in `commune` (`None`: the federation's own scope).
    /// `now` (microseconds) decides whether a support grant still holds.
    pub async fn allows(
        &self,
        sub: Subject<'_>,
        commune: Option<TenantId>,
        obj: Object,
        act: Action,
        now: i64,
    ) -> bool {
        let inner = self.inner.read().await;
        let (name, dom) = match (sub, commune) {
            (Subject::FederationStaff(id), None) => {
                (format!("f:{id}"), FEDERATION_DOMAIN.to_owned())
            }
            (_, None) => return false,
            (Subject::Citizen, Some(c)) => {
                (role_name(&inner.set_of(c), Role::Citizen), c.0.to_string())
            }
            (Subject::Staff(id), Some(c)) => (format!("s:{id}"), c.0.to_string()),
            (Subject::FederationStaff(_), Some(c)) => {
                if inner
                    .support_until
                    .get(&c)
                    .is_none_or(|until| *until <= now)
                {
                    return false;
                }
                (role_name(&inner.set_of(c), Role::Support), c.0.to_string())
            }
        };
        inner
            .enforcer
            .enforce((name.as_str(), dom.as_str(), obj.key(), act.key()))
            .unwrap_or(false)
    }

    /// Replaces what the enforcer knows of one commune (after a change here or on another node).
    pub async fn replace_commune(&self, p: CommunePolicy) -> Result<(), PolicyError> {
        if p.custom.is_none() && template::rules(p.template).is_none() {
            return Err(PolicyError::UnknownTemplate(p.commune, p.template));
        }
        let mut inner = self.inner.write().await;
        let old_set = inner.set_of(p.commune);
        let new_set = set_key_of(&p);
        if let Some(old) = inner.links.remove(&p.commune)
            && !old.is_empty()
        {
            inner.enforcer.remove_grouping_policies(old).await?;
        }
        if old_set.starts_with('c') {
            let old_rules: Vec<Vec<String>> = inner
                .enforcer
                .get_policy()
                .into_iter()
                .filter(|r| {
                    r.first()
                        .is_some_and(|s| s.starts_with(&format!("{old_set}/")))
                })
                .collect();
            if !old_rules.is_empty() {
                inner.enforcer.remove_policies(old_rules).await?;
            }
        }
        if let Some(rules) = &p.custom {
            let mut rows = p_rules(&new_set, rules);
            rows.sort();
            rows.dedup();
            if !rows.is_empty() {
                inner.enforcer.add_policies(rows).await?;
            }
        }
        let g = g_rules(&new_set, &p);
        if !g.is_empty() {
            inner.enforcer.add_grouping_policies(g.clone()).await?;
        }
        inner.links.insert(p.commune, g);
        inner.sets.insert(p.commune, new_set);
        match p.support_until {
            Some(u) => inner.support_until.insert(p.commune, u),
            None => inner.support_until.remove(&p.commune),
        };
        Ok(())
    }

    /// Replaces the federation staff who hold the platform role.
    pub async fn replace_federation_staff(&self, ids: &[String]) -> Result<(), PolicyError> {
        let mut inner = self.inner.write().await;
        let role = role_name(FEDERATION_SET, Role::Federation);
        let old: Vec<Vec<String>> = inner
            .enforcer
            .get_filtered_grouping_policy(2, vec![FEDERATION_DOMAIN.to_owned()]);
        if !old.is_empty() {
            inner.enforcer.remove_grouping_policies(old).await?;
        }
        let mut new: Vec<Vec<String>> = ids
            .iter()
            .map(|id| {
                vec![
                    format!("f:{id}"),
                    role.clone(),
                    FEDERATION_DOMAIN.to_owned(),
                ]
            })
            .collect();
        new.sort();
        new.dedup();
        if !new.is_empty() {
            inner.enforcer.add_grouping_policies(new).await?;
        }
        Ok(())
    }

    /// The rules a commune uses now, by role (for the console's matrix).
    pub async fn rules_of(&self, commune: TenantId) -> BTreeMap<(Role, Object), Vec<Action>> {
        let inner = self.inner.read().await;
        let set = inner.set_of(commune);
        let prefix = format!("{set}/");
        let mut out = BTreeMap::new();
        for r in inner.enforcer.get_policy() {
            let (Some(sub), Some(obj), Some(acts)) = (r.first(), r.get(1), r.get(2)) else {
                continue;
            };
            let Some(role) = sub.strip_prefix(&prefix).and_then(Role::parse) else {
                continue;
            };
            let Some(object) = Object::parse(obj) else {
                continue;
            };
            let actions = acts.split('|').filter_map(Action::parse).collect();
            out.insert((role, object), actions);
        }
        out
    }

    /// How many policy and grouping rules the enforcer holds.
    pub async fn size(&self) -> (usize, usize) {
        let inner = self.inner.read().await;
        (
            inner.enforcer.get_policy().len(),
            inner.enforcer.get_grouping_policy().len(),
        )
    }
}

impl Inner {
    fn set_of(&self, c: TenantId) -> String {
        self.sets
            .get(&c)
            .cloned()
            .unwrap_or_else(|| format!("t{}", template::CURRENT))
    }
}
