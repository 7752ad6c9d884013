//! The node's casbin enforcers: one per rule set, shared by every commune using it.
//!
//! Model (RBAC with domains; measured in ARCHITECTURE.md):
//! `r = sub, dom, obj, act; p = sub, obj, act; g = _, _, _;`
//! `m = r.obj == p.obj && actIn(r.act, p.act) && g(r.sub, p.sub, r.dom)`.
//!
//! - A policy rule's subject is a role *of a rule set*: `t1/admin` (template version 1, shared by
//!   every commune on it) or `c5026/admin` (the rules Pisa's administrators wrote). Each rule set
//!   is its own enforcer, so a check scans only the ~50 rules of its commune's set however many
//!   communes wrote their own. Actions are packed (`|read|update|`): one rule per role and object.
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
    /// One enforcer per rule set: `t1` (shared by every commune on template 1), `c<istat>` (a
    /// commune with rules of its own), `fed` (the platform). A check scans only its set's rules.
    enforcers: HashMap<String, Enforcer>,
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
    let mut v: Vec<Vec<String>> = rules
        .iter()
        .map(|r| {
            vec![
                role_name(set, r.role),
                r.object.key().to_owned(),
                r.packed_actions(),
            ]
        })
        .collect();
    v.sort();
    v.dedup();
    v
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

async fn new_enforcer(rules: Vec<Vec<String>>) -> Result<Enforcer, PolicyError> {
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
    if !rules.is_empty() {
        e.add_policies(rules).await?;
    }
    Ok(e)
}

impl Policies {
    /// Builds the enforcers from every commune's policy and the federation staff's roles.
    pub async fn load(
        communes: Vec<CommunePolicy>,
        federation_staff: &[String],
    ) -> Result<Policies, PolicyError> {
        let mut enforcers: HashMap<String, Enforcer> = HashMap::new();
        for v in template::VERSIONS {
            let set = format!("t{v}");
            let rules = template::rules(*v).unwrap_or_default();
            enforcers.insert(set.clone(), new_enforcer(p_rules(&set, &rules)).await?);
        }
        let mut fed = new_enforcer(p_rules(FEDERATION_SET, &template::federation_rules())).await?;
        let mut fed_links: Vec<Vec<String>> = federation_staff
            .iter()
            .map(|id| {
                vec![
                    format!("f:{id}"),
                    role_name(FEDERATION_SET, Role::Federation),
                    FEDERATION_DOMAIN.to_owned(),
                ]
            })
            .collect();
        fed_links.sort();
        fed_links.dedup();
        if !fed_links.is_empty() {
            fed.add_grouping_policies(fed_links).await?;
        }
        enforcers.insert(FEDERATION_SET.to_owned(), fed);
        let mut g_by_set: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        let mut sets = HashMap::new();
        let mut support_until = HashMap::new();
        let mut links = HashMap::new();
        for c in &communes {
            let set = set_key_of(c);
            match &c.custom {
                Some(rules) => {
                    enforcers.insert(set.clone(), new_enforcer(p_rules(&set, rules)).await?);
                }
                None if !enforcers.contains_key(&set) => {
                    return Err(PolicyError::UnknownTemplate(c.commune, c.template));
                }
                None => {}
            }
            let cg = g_rules(&set, c);
            g_by_set
                .entry(set.clone())
                .or_default()
                .extend(cg.iter().cloned());
            links.insert(c.commune, cg);
            sets.insert(c.commune, set);
            if let Some(until) = c.support_until {
                support_until.insert(c.commune, until);
            }
        }
        for (set, g) in g_by_set {
            if let Some(e) = enforcers.get_mut(&set)
                && !g.is_empty()
            {
                e.add_grouping_policies(g).await?;
            }
        }
        Ok(Policies {
            inner: RwLock::new(Inner {
                enforcers,
                sets,
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
        let (set, name, dom) = match (sub, commune) {
            (Subject::FederationStaff(id), None) => (
                FEDERATION_SET.to_owned(),
                format!("f:{id}"),
                FEDERATION_DOMAIN.to_owned(),
            ),
            (_, None) => return false,
            (Subject::Citizen, Some(c)) => {
                let set = inner.set_of(c);
                let name = role_name(&set, Role::Citizen);
                (set, name, c.0.to_string())
            }
            (Subject::Staff(id), Some(c)) => (inner.set_of(c), format!("s:{id}"), c.0.to_string()),
            (Subject::FederationStaff(_), Some(c)) => {
                if inner
                    .support_until
                    .get(&c)
                    .is_none_or(|until| *until <= now)
                {
                    return false;
                }
                let set = inner.set_of(c);
                let name = role_name(&set, Role::Support);
                (set, name, c.0.to_string())
            }
        };
        let Some(e) = inner.enforcers.get(&set) else {
            return false;
        };
        e.enforce((name.as_str(), dom.as_str(), obj.key(), act.key()))
            .unwrap_or(false)
    }

    /// Replaces what the enforcers know of one commune (after a change here or on another node).
    pub async fn replace_commune(&self, p: CommunePolicy) -> Result<(), PolicyError> {
        let new_set = set_key_of(&p);
        let mut inner = self.inner.write().await;
        if p.custom.is_none() && !inner.enforcers.contains_key(&new_set) {
            return Err(PolicyError::UnknownTemplate(p.commune, p.template));
        }
        let old_set = inner.set_of(p.commune);
        if let Some(old) = inner.links.remove(&p.commune)
            && !old.is_empty()
            && let Some(e) = inner.enforcers.get_mut(&old_set)
        {
            e.remove_grouping_policies(old).await?;
        }
        // A commune's own rule set is rebuilt whole (it holds only its rules and its staff).
        if old_set.starts_with('c') {
            inner.enforcers.remove(&old_set);
        }
        if let Some(rules) = &p.custom {
            let e = new_enforcer(p_rules(&new_set, rules)).await?;
            inner.enforcers.insert(new_set.clone(), e);
        }
        let g = g_rules(&new_set, &p);
        if !g.is_empty()
            && let Some(e) = inner.enforcers.get_mut(&new_set)
        {
            e.add_grouping_policies(g.clone()).await?;
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
        let Some(e) = inner.enforcers.get_mut(FEDERATION_SET) else {
            return Ok(());
        };
        let old: Vec<Vec<String>> = e.get_grouping_policy();
        if !old.is_empty() {
            e.remove_grouping_policies(old).await?;
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
            e.add_grouping_policies(new).await?;
        }
        Ok(())
    }

    /// The rules a commune uses now, by role (for the console's matrix).
    pub async fn rules_of(&self, commune: TenantId) -> BTreeMap<(Role, Object), Vec<Action>> {
        let inner = self.inner.read().await;
        let set = inner.set_of(commune);
        let prefix = format!("{set}/");
        let mut out = BTreeMap::new();
        let Some(e) = inner.enforcers.get(&set) else {
            return out;
        };
        for r in e.get_policy() {
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

    /// How many rule sets (enforcers), policy rules and grouping rules the node holds.
    pub async fn size(&self) -> (usize, usize, usize) {
        let inner = self.inner.read().await;
        let mut p = 0;
        let mut g = 0;
        for e in inner.enforcers.values() {
            p += e.get_policy().len();
            g += e.get_grouping_policy().len();
        }
        (inner.enforcers.len(), p, g)
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
