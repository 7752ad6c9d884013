//! Server-side sessions: stored in the database (any node can serve them, logout is real),
//! looked up by the SHA-256 of the cookie and kept in a per-node cache (30 s by default) so a
//! page costs no query most of the time. Ending a session deletes it and records a revocation;
//! every node polls the revocations (each second, with the registry) and drops those sessions
//! from its cache, so a logout on one node takes effect on all within about a second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sportello_domain::{AssuranceLevel, TenantId};
use sportello_store::identity::{Person, SessionRow};
use sportello_store::staff::Realm;
use sportello_store::{Store, StoreError, now_micros};

use crate::tokens;

/// Which kind of session a cookie stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// On the sign-in host: the single sign-on session every commune session comes from.
    Sso,
    /// A citizen on one commune's host.
    Citizen,
    /// An operator, clerk or administrator on one commune's host (console).
    Staff,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::Sso => "sso",
            Kind::Citizen => "citizen",
            Kind::Staff => "staff",
        }
    }
    fn parse(s: &str) -> Option<Kind> {
        match s {
            "sso" => Some(Kind::Sso),
            "citizen" => Some(Kind::Citizen),
            "staff" => Some(Kind::Staff),
            _ => None,
        }
    }
}

/// The staff member a staff session is for.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffMember {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
}

/// The signed-in session of this request.
#[derive(Debug, Clone)]
pub struct Current {
    pub token_hash: String,
    pub kind: Kind,
    pub sso_hash: Option<String>,
    pub commune: Option<TenantId>,
    pub person: Option<Person>,
    pub staff: Option<StaffMember>,
    pub level: AssuranceLevel,
    pub idp: String,
    pub mfa: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

impl Current {
    /// The name to show in the header.
    pub fn display_name(&self) -> String {
        if let Some(p) = &self.person {
            format!("{} {}", p.given_name, p.family_name)
        } else if let Some(s) = &self.staff {
            s.display_name.clone()
        } else {
            String::new()
        }
    }
}

/// Session lifetimes, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: i64,
    pub absolute: i64,
    pub staff_idle: i64,
}

pub struct Sessions {
    cache: Mutex<HashMap<String, (Arc<Current>, Instant)>>,
    cache_for: Duration,
    pub lifetimes: Lifetimes,
    /// `Secure` cookies with the `__Host-` prefix (everywhere but plain-http development).
    pub secure_cookies: bool,
}

/// What a new session is for.
pub struct NewSession<'a> {
    pub kind: Kind,
    pub sso_hash: Option<String>,
    pub commune: Option<TenantId>,
    pub person_id: Option<&'a str>,
    pub staff_id: Option<&'a str>,
    pub level: AssuranceLevel,
    pub idp: &'a str,
    pub mfa: bool,
    pub user_agent: Option<String>,
    /// For a commune session: the SSO session's end (a hand-off cannot outlive it).
    pub not_after: Option<i64>,
}

const MICROS: i64 = 1_000_000;
/// How often a session's last activity is written (seconds).
const TOUCH_EVERY: i64 = 120;

impl Sessions {
    pub fn new(lifetimes: Lifetimes, secure_cookies: bool) -> Self {
        Self::with_cache(lifetimes, secure_cookies, Duration::from_secs(30))
    }

    pub fn with_cache(lifetimes: Lifetimes, secure_cookies: bool, cache_for: Duration) -> Self {
        Self {
            cache: Mutex::new(HashMap::new()),
            cache_for,
            lifetimes,
            secure_cookies,
        }
    }

    /// The cookie name for a kind of session.
    pub fn cookie_name(&self, kind: Kind) -> &'static str {
        match (kind, self.secure_cookies) {
            (Kind::Sso, true) => "__Host-sportello_sso",
            (Kind::Sso, false) => "sportello_sso",
            (Kind::Citizen, true) => "__Host-sportello_sid",
            (Kind::Citizen, false) => "sportello_sid",
            (Kind::Staff, true) => "__Host-sportello_staff",
            (Kind::Staff, false) => "sportello_staff",
        }
    }

    /// Creates a session; returns the token for the cookie (only its hash is stored).
    pub async fn create(&self, store: &Store, n: NewSession<'_>) -> Result<String, StoreError> {
        let token = tokens::new_token();
        let now = now_micros();
        let mut expires_at = now + self.lifetimes.absolute * MICROS;
        if let Some(limit) = n.not_after {
            expires_at = expires_at.min(limit);
        }
        store
            .identity()
            .create_session(&SessionRow {
                token_hash: tokens::hash(&token),
                kind: n.kind.key().into(),
                sso_hash: n.sso_hash,
                commune_id: n.commune.map(|t| t.0),
                person_id: n.person_id.map(str::to_owned),
                staff_id: n.staff_id.map(str::to_owned),
                level: n.level.key().into(),
                idp: n.idp.into(),
                mfa: n.mfa,
                created_at: now,
                last_seen_at: now,
                expires_at,
                user_agent: n.user_agent.map(|u| u.chars().take(200).collect()),
            })
            .await?;
        Ok(token)
    }

    /// The live session for a cookie value, if any: checked against its kind, its commune, the
    /// absolute and the idle timeout. Stale sessions are deleted.
    pub async fn lookup(
        &self,
        store: &Store,
        token: &str,
        kind: Kind,
        commune: Option<TenantId>,
    ) -> Result<Option<Arc<Current>>, StoreError> {
        if token.is_empty() || token.len() > 100 {
            return Ok(None);
        }
        let h = tokens::hash(token);
        let now = now_micros();
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(&h).cloned())
            .filter(|(_, at)| at.elapsed() < self.cache_for)
            .map(|(c, _)| c);
        let current = match cached {
            Some(c) => c,
            None => match self.load(store, &h).await? {
                Some(c) => {
                    if let Ok(mut cache) = self.cache.lock() {
                        if cache.len() > 100_000 {
                            cache.clear();
                        }
                        cache.insert(h.clone(), (c.clone(), Instant::now()));
                    }
                    c
                }
                None => return Ok(None),
            },
        };
        // Commune sessions belong to their commune; an SSO session may carry the commune it is
        // limited to (signed in through that commune's own provider): callers check that scope.
        if current.kind != kind || (kind != Kind::Sso && current.commune != commune) {
            return Ok(None);
        }
        let idle = if kind == Kind::Staff {
            self.lifetimes.staff_idle
        } else {
            self.lifetimes.idle
        };
        if now >= current.expires_at || now - current.last_seen_at > idle * MICROS {
            self.forget(&h);
            store.identity().delete_session(&h).await?;
            return Ok(None);
        }
        // Keep the idle clock moving without a write per request (at most one per session every
        // few minutes; the idle timeout is half an hour). Activity on a commune counts for the
        // single sign-on session it came from, so the next commune needs no new sign-in.
        if now - current.last_seen_at > TOUCH_EVERY * MICROS {
            store.identity().touch_session(&h, now).await?;
            if let Some(sso) = &current.sso_hash {
                store.identity().touch_session(sso, now).await?;
                self.forget(sso);
            }
            let mut fresh = (*current).clone();
            fresh.last_seen_at = now;
            let fresh = Arc::new(fresh);
            if let Ok(mut cache) = self.cache.lock() {
                cache.insert(h, (fresh.clone(), Instant::now()));
            }
            return Ok(Some(fresh));
        }
        Ok(Some(current))
    }

    async fn load(&self, store: &Store, h: &str) -> Result<Option<Arc<Current>>, StoreError> {
        let Some(row) = store.identity().session(h).await? else {
            return Ok(None);
        };
        let Some(kind) = Kind::parse(&row.kind) else {
            return Ok(None);
        };
        let level = AssuranceLevel::parse(&row.level)
            .map_err(|e| StoreError::Corrupt(format!("session level: {e}")))?;
        let person = match &row.person_id {
            Some(p) => store.identity().person(p).await?,
            None => None,
        };
        let commune = row.commune_id.map(TenantId);
        let staff = match &row.staff_id {
            Some(id) => {
                // A commune's staff, the federation's (on the apex), or the federation's inside a
                // commune through a support grant (`f:<id>`).
                let (realm, account) = match (commune, id.strip_prefix("f:")) {
                    (Some(t), None) => (Realm::Commune(t), id.as_str()),
                    (_, Some(f)) => (Realm::Federation, f),
                    (None, None) => (Realm::Federation, id.as_str()),
                };
                let tx = store.staff(realm).await?;
                let s = tx.db().staff_by_id(account).await?;
                tx.commit().await?;
                match s {
                    Some(s) => Some(StaffMember {
                        id: if commune.is_some() && id.starts_with("f:") {
                            id.clone()
                        } else {
                            s.id
                        },
                        email: s.email,
                        display_name: s.display_name,
                        role: s.role,
                    }),
                    // The account is gone: so is the session.
                    None => return Ok(None),
                }
            }
            _ => None,
        };
        Ok(Some(Arc::new(Current {
            token_hash: row.token_hash,
            kind,
            sso_hash: row.sso_hash,
            commune,
            person,
            staff,
            level,
            idp: row.idp,
            mfa: row.mfa,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
        })))
    }

    /// Drops a session from this node's cache (after a logout or a change).
    pub fn forget(&self, token_hash: &str) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(token_hash);
        }
    }

    /// Ends a single sign-on session and every commune session handed out from it.
    pub async fn end_sso(&self, store: &Store, sso_hash: &str) -> Result<usize, StoreError> {
        let mut ended = store.identity().end_sso(sso_hash).await?;
        if !ended.iter().any(|h| h == sso_hash) {
            ended.push(sso_hash.to_owned());
        }
        store.identity().revoke(&ended, now_micros()).await?;
        for h in &ended {
            self.forget(h);
        }
        Ok(ended.len())
    }

    /// Ends one session.
    pub async fn end(&self, store: &Store, token_hash: &str) -> Result<(), StoreError> {
        store.identity().delete_session(token_hash).await?;
        store
            .identity()
            .revoke(&[token_hash.to_owned()], now_micros())
            .await?;
        self.forget(token_hash);
        Ok(())
    }

    /// Ends every session of a commune's staff account (removed, or its access taken back).
    /// Ends every federation support session open in `commune` (a grant was given back or
    /// revoked: what was opened under it must not come back with the next grant).
    pub async fn end_support(&self, store: &Store, commune: TenantId) -> Result<usize, StoreError> {
        let hashes = store.identity().support_session_hashes(commune.0).await?;
        for h in &hashes {
            self.end(store, h).await?;
        }
        Ok(hashes.len())
    }

    pub async fn end_staff(
        &self,
        store: &Store,
        commune: TenantId,
        staff_id: &str,
    ) -> Result<usize, StoreError> {
        let hashes = store
            .identity()
            .staff_session_hashes(commune.0, staff_id)
            .await?;
        for h in &hashes {
            self.end(store, h).await?;
        }
        Ok(hashes.len())
    }

    /// Drops from this node's cache the sessions other nodes ended; returns the new cursor.
    pub async fn apply_revocations(&self, store: &Store, since: i64) -> Result<i64, StoreError> {
        let revoked = store.identity().revocations_since(since).await?;
        let mut cursor = since;
        for (h, at) in revoked {
            self.forget(&h);
            cursor = cursor.max(at);
        }
        Ok(cursor)
    }

    /// Polls the revocations every `every` (from a few seconds back, so a revocation committed
    /// late is not missed).
    pub fn spawn_revocation_poller(self: &std::sync::Arc<Self>, store: Store, every: Duration) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut cursor = now_micros();
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match me.apply_revocations(&store, cursor - 5 * MICROS).await {
                    Ok(c) => cursor = cursor.max(c),
                    Err(e) => tracing::warn!(error = %e, "reading session revocations failed"),
                }
            }
        });
    }
}
