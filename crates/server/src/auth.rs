//! API tokens and roles.
//!
//! A token is `hm_` followed by 64 hex characters of randomness; the store keeps only its
//! SHA-256 ([`hash_token`]). Roles: `admin` (everything), `operator` (read, execute,
//! cancel, pause, resume, retry), `viewer` (read). A request presents its token as
//! `Authorization: Bearer <token>`; WebSocket routes also accept `?token=` because
//! browsers cannot set headers on them.
//!
//! Auth is on as soon as one token exists (checked at most every two seconds, so a
//! token created with `harmonia token create` on the server's database takes effect
//! without a restart). Without any token, the server only starts bound to a loopback
//! address, unless `--insecure` says otherwise (see `serve`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use harmonia_storage::{Store, Timestamp, TokenRecord};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read.
    Viewer,
    /// Read and operate executions.
    Operator,
    /// Everything.
    Admin,
}

impl Role {
    /// The role's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// The role spelled `s`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: health, readiness, metrics, the API description and its page.
    Public,
    /// Reading: `viewer` and above.
    Read,
    /// Operating executions: `operator` and above.
    Operate,
    /// Changing definitions and tokens: `admin`.
    Admin,
}

impl Need {
    /// The least role that satisfies this need.
    pub fn role(self) -> Option<Role> {
        match self {
            Need::Public => None,
            Need::Read => Some(Role::Viewer),
            Need::Operate => Some(Role::Operator),
            Need::Admin => Some(Role::Admin),
        }
    }

    /// What a request needs, from its method and path.
    pub fn of(method: &axum::http::Method, path: &str) -> Need {
        let api = path.starts_with("/api/") || path == "/api" || path.starts_with("/ws/");
        if !api {
            return Need::Public;
        }
        if matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD) {
            return Need::Read;
        }
        let operate = ["/execute", "/cancel", "/pause", "/resume", "/retry"];
        if *method == axum::http::Method::POST && operate.iter().any(|s| path.ends_with(s)) {
            Need::Operate
        } else {
            Need::Admin
        }
    }
}

/// The hex SHA-256 of a token, as stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("hm_{}", hex::encode(bytes))
}

/// Creates and stores a token; returns it (the only time it is shown) and its record.
pub async fn create_token(
    store: &dyn Store,
    name: &str,
    role: Role,
) -> harmonia_storage::Result<(String, TokenRecord)> {
    let token = new_token();
    let record = TokenRecord {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.to_string(),
        role: role.as_str().to_string(),
        hash: hash_token(&token),
        created_at: Timestamp::now(),
    };
    store.put_token(&record).await?;
    Ok((token, record))
}

/// Checks tokens against the store, with a short cache.
pub struct Auth {
    store: Arc<dyn Store>,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    enabled: Option<(bool, Instant)>,
    tokens: HashMap<String, (Option<(Role, String)>, Instant)>,
}

const TTL: Duration = Duration::from_secs(2);

impl Auth {
    /// Auth backed by `store`.
    pub fn new(store: Arc<dyn Store>) -> Auth {
        Auth {
            store,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// Whether any token exists (auth is on).
    pub async fn enabled(&self) -> harmonia_storage::Result<bool> {
        let mut cache = self.cache.lock().await;
        if let Some((on, at)) = cache.enabled
            && at.elapsed() < TTL
        {
            return Ok(on);
        }
        let on = !self.store.tokens().await?.is_empty();
        cache.enabled = Some((on, Instant::now()));
        Ok(on)
    }

    /// The role and name of a token, if it is valid.
    pub async fn check(&self, token: &str) -> harmonia_storage::Result<Option<(Role, String)>> {
        let hash = hash_token(token);
        let mut cache = self.cache.lock().await;
        if let Some((found, at)) = cache.tokens.get(&hash)
            && at.elapsed() < TTL
        {
            return Ok(found.clone());
        }
        let found = self
            .store
            .token_by_hash(&hash)
            .await?
            .and_then(|t| Role::parse(&t.role).map(|r| (r, t.name)));
        if cache.tokens.len() > 10_000 {
            cache.tokens.clear();
        }
        cache.tokens.insert(hash, (found.clone(), Instant::now()));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Method;

    use super::*;

    #[test]
    fn routes_need_what_they_do() {
        assert_eq!(Need::of(&Method::GET, "/health"), Need::Public);
        assert_eq!(Need::of(&Method::GET, "/metrics"), Need::Public);
        assert_eq!(Need::of(&Method::GET, "/api/workflows"), Need::Read);
        assert_eq!(Need::of(&Method::GET, "/ws/executions/x"), Need::Read);
        assert_eq!(
            Need::of(&Method::POST, "/api/workflows/etl/execute"),
            Need::Operate
        );
        assert_eq!(
            Need::of(&Method::POST, "/api/v1/executions/x/cancel"),
            Need::Operate
        );
        assert_eq!(Need::of(&Method::POST, "/api/workflows"), Need::Admin);
        assert_eq!(Need::of(&Method::DELETE, "/api/workflows/etl"), Need::Admin);
        assert_eq!(
            Need::of(&Method::POST, "/api/templates/t/instantiate"),
            Need::Admin
        );
    }

    #[test]
    fn roles_are_ordered_and_tokens_hash() {
        assert!(Role::Admin > Role::Operator && Role::Operator > Role::Viewer);
        let t = new_token();
        assert!(t.starts_with("hm_") && t.len() == 67);
        assert_eq!(hash_token(&t).len(), 64);
        assert_ne!(hash_token(&t), hash_token(&new_token()));
    }
}
