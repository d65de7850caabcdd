//! API tokens, roles, and when a request needs a token.
//!
//! A token is `hm_` followed by 64 hex characters of randomness; the store keeps only its
//! SHA-256 ([`hash_token`]). Roles: `admin` (everything), `operator` (read, execute,
//! cancel, pause, resume, retry, and a worker's calls), `viewer` (read, and validate a
//! definition, which stores nothing), and `worker`
//! (only an external worker's calls: poll, heartbeat, complete, fail; nothing else, not
//! even reading). A request presents its token as
//! `Authorization: Bearer <token>` (the scheme in any case); WebSocket routes also
//! accept `?token=` because browsers cannot set headers on them.
//!
//! When a token is needed ([`Auth::required`]) depends on [`Access`], which the binary
//! sets from the address it listens on:
//! - on loopback ([`Access::Loopback`]) and with `--insecure` beyond it
//!   ([`Access::Insecure`]), the API is open until the store has had a token, and
//!   needs one ever after, even once every token is deleted (the store remembers:
//!   `Tokens::had_tokens`);
//! - beyond loopback ([`Access::Network`]), it always needs one.
//!
//! Invariants: nothing about tokens is cached that a delete could outlive. Every
//! request that needs a token looks it up in the store (an indexed lookup), so a token
//! deleted by another process (`harmonia token delete --db`) is refused on the very
//! next request. The one thing remembered in memory is that the store has had a token,
//! which never becomes false again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use harmonia_storage::{Store, Timestamp, TokenRecord};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Only an external worker's calls (outside the order of the others: see
    /// [`Role::satisfies`]).
    Worker,
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
            Role::Worker => "worker",
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may do what `need` asks: `worker` only a worker's calls;
    /// the others in their order, with a worker's calls from `operator` up.
    pub fn satisfies(self, need: Need) -> bool {
        match (self, need) {
            (_, Need::Public) => true,
            (Role::Worker, Need::Work | Need::ReadWork) => true,
            (Role::Worker, _) => false,
            (r, Need::Work) => r >= Role::Operator,
            (r, Need::ReadWork) => r >= Role::Viewer,
            (r, n) => n.role().is_none_or(|least| r >= least),
        }
    }

    /// The role spelled `s`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "worker" => Some(Role::Worker),
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Who made a request: its token's name and role (set by the auth middleware when a
/// token was needed and checked; absent when the API is open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name.
    pub name: String,
    /// Its role.
    pub role: Role,
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: health, readiness, metrics, the API description and its page.
    Public,
    /// Reading (and `POST /api/workflows/validate`, which stores nothing): `viewer`
    /// and above.
    Read,
    /// Operating executions: `operator` and above.
    Operate,
    /// An external worker's calls (poll, heartbeat, complete, fail): `worker`, and
    /// `operator` and above.
    Work,
    /// Reading the workers' side (`GET /api/workers/queues`): `worker`, and `viewer`
    /// and above.
    ReadWork,
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
            Need::Work | Need::ReadWork => Some(Role::Worker),
            Need::Admin => Some(Role::Admin),
        }
    }

    /// What a request needs, from its method and path. `/mcp` needs `Read` whatever
    /// the method (every MCP call is a `POST`): each tool then checks its own need.
    /// `GET` needs `Read`, and so does `POST /api/workflows/validate`; the other
    /// `POST`s `Operate` (executions), `Work` (workers) or `Admin`.
    pub fn of(method: &axum::http::Method, path: &str) -> Need {
        if path == "/mcp" || path.starts_with("/mcp/") {
            return Need::Read;
        }
        let api = path.starts_with("/api/") || path == "/api" || path.starts_with("/ws/");
        // What this component is, for other components that hold no token yet.
        let discovery = path == "/api/discovery" || path == "/api/v1/discovery";
        if !api || discovery {
            return Need::Public;
        }
        let work = path.starts_with("/api/workers/") || path.starts_with("/api/v1/workers/");
        if matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD) {
            return if work { Need::ReadWork } else { Need::Read };
        }
        if *method == axum::http::Method::POST && work {
            return Need::Work;
        }
        // Checking a definition writes nothing: it reads the stored workflows, as a
        // `GET` does.
        let validate = path == "/api/workflows/validate" || path == "/api/v1/workflows/validate";
        if *method == axum::http::Method::POST && validate {
            return Need::Read;
        }
        // The assistant stores nothing (it spends a model's tokens: an operator's
        // call), except applying a patch, which stores a version (an admin's).
        let assist = path.starts_with("/api/assist/") || path.starts_with("/api/v1/assist/");
        if *method == axum::http::Method::POST && assist && !path.ends_with("/apply") {
            return Need::Operate;
        }
        let operate = [
            "/execute",
            "/cancel",
            "/pause",
            "/resume",
            "/retry",
            "/approve",
            "/reject",
            "/replay",
            "/backfill",
        ];
        // A person's decision on a held task (`.../tasks/{task}/skip|fail`).
        let decision =
            path.contains("/tasks/") && (path.ends_with("/skip") || path.ends_with("/fail"));
        let events = path == "/api/events" || path == "/api/v1/events";
        if *method == axum::http::Method::POST
            && (events || decision || operate.iter().any(|s| path.ends_with(s)))
        {
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

/// Who may use the API without a token, from where the server listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// Listening on a loopback address: open until the store has had a token, and
    /// then only to requests whose `Host` is a loopback name (no DNS rebinding).
    #[default]
    Loopback,
    /// Listening beyond loopback: every API request needs a token.
    Network,
    /// Listening beyond loopback with `--insecure`: open, whatever the `Host`, until
    /// the store has had a token; then every API request needs one.
    Insecure,
}

/// Decides whether requests need a token, and checks tokens, against the store.
pub struct Auth {
    store: Arc<dyn Store>,
    access: Access,
    /// The store has had a token (once true, true for good).
    had_tokens: AtomicBool,
}

impl Auth {
    /// Auth backed by `store`, for a server listening as `access` says.
    pub fn new(store: Arc<dyn Store>, access: Access) -> Auth {
        Auth {
            store,
            access,
            had_tokens: AtomicBool::new(false),
        }
    }

    /// How the server listens.
    pub fn access(&self) -> Access {
        self.access
    }

    /// Whether API requests need a token now (see the module doc).
    pub async fn required(&self) -> harmonia_storage::Result<bool> {
        if self.access == Access::Network || self.had_tokens.load(Ordering::Acquire) {
            return Ok(true);
        }
        let had = self.store.had_tokens().await?;
        if had {
            self.had_tokens.store(true, Ordering::Release);
        }
        Ok(had)
    }

    /// The role and name of a token, if it exists now.
    pub async fn check(&self, token: &str) -> harmonia_storage::Result<Option<(Role, String)>> {
        let found = self.store.token_by_hash(&hash_token(token)).await?;
        Ok(found.and_then(|t| Role::parse(&t.role).map(|r| (r, t.name))))
    }

    /// Whether any token exists (to tell a caller how to make one when none does).
    pub async fn any_token(&self) -> harmonia_storage::Result<bool> {
        Ok(!self.store.tokens().await?.is_empty())
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
        assert_eq!(Need::of(&Method::POST, "/mcp"), Need::Read);
        assert_eq!(Need::of(&Method::GET, "/mcp"), Need::Read);
        assert_eq!(
            Need::of(&Method::POST, "/api/workflows/etl/execute"),
            Need::Operate
        );
        assert_eq!(
            Need::of(&Method::POST, "/api/v1/executions/x/cancel"),
            Need::Operate
        );
        assert_eq!(
            Need::of(&Method::POST, "/api/executions/x/tasks/go/approve"),
            Need::Operate
        );
        assert_eq!(
            Need::of(&Method::POST, "/api/v1/executions/x/tasks/go/reject"),
            Need::Operate
        );
        assert_eq!(Need::of(&Method::POST, "/api/events"), Need::Operate);
        for decision in ["retry", "skip", "fail"] {
            let path = format!("/api/executions/x/tasks/go/{decision}");
            assert_eq!(Need::of(&Method::POST, &path), Need::Operate, "{path}");
        }
        for operate in ["/api/deliveries/3/replay", "/api/triggers/t.0/backfill"] {
            assert_eq!(Need::of(&Method::POST, operate), Need::Operate, "{operate}");
        }
        // A name is not a decision: only a task's path is.
        assert_eq!(Need::of(&Method::POST, "/api/workflows/fail"), Need::Admin);
        assert_eq!(Need::of(&Method::GET, "/api/events"), Need::Read);
        assert_eq!(Need::of(&Method::POST, "/api/workflows"), Need::Admin);
        // Validating writes nothing; a workflow named `validate` is still changed by
        // admins only.
        for path in ["/api/workflows/validate", "/api/v1/workflows/validate"] {
            assert_eq!(Need::of(&Method::POST, path), Need::Read, "{path}");
        }
        assert_eq!(
            Need::of(&Method::PUT, "/api/workflows/validate"),
            Need::Admin
        );
        assert_eq!(
            Need::of(&Method::DELETE, "/api/workflows/validate"),
            Need::Admin
        );
        assert_eq!(
            Need::of(&Method::POST, "/api/workflows/x/validate"),
            Need::Admin
        );
        assert_eq!(Need::of(&Method::GET, "/api/task-types/http"), Need::Read);
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
