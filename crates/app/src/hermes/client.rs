//! The Hermes wire protocol, one call per method: register, heartbeat, unregister and
//! query. Field names are Hermes' own: answers in camelCase are read, and snake_case
//! too.
//!
//! Invariant: a token never appears in an error message; every call is bounded by
//! [`TIMEOUT`].

use std::time::Duration;

use serde_json::{Value, json};

/// How long one call to Hermes may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Why a call to Hermes failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HermesError {
    /// Hermes no longer knows the registration (401 or 404): register again.
    #[error("Hermes no longer knows this registration (HTTP {0})")]
    Expired(u16),
    /// Hermes could not be reached, or answered something else.
    #[error("{0}")]
    Failed(String),
}

/// What a registration gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The id Hermes gave.
    pub component_id: String,
    /// The token heartbeats and the unregistration carry.
    pub token: String,
}

/// A component Hermes knows.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovered {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its base URL.
    pub endpoint: String,
    /// What it can do.
    pub capabilities: Vec<String>,
    /// Whether Hermes thinks it is alive.
    pub healthy: bool,
    /// The path of its MCP-style API, when its metadata says.
    pub mcp_prefix: Option<String>,
}

/// A client of one Hermes.
#[derive(Debug, Clone)]
pub struct Client {
    base: reqwest::Url,
    http: reqwest::Client,
}

impl Client {
    /// A client of the Hermes at `base`.
    pub fn new(base: reqwest::Url, http: reqwest::Client) -> Client {
        Client { base, http }
    }

    /// Its base URL.
    pub fn base(&self) -> &reqwest::Url {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_str().trim_end_matches('/'))
    }

    /// `POST /api/register` with `payload`.
    pub async fn register(&self, payload: &Value) -> Result<Registered, HermesError> {
        let answer = self
            .send(self.http.post(self.url("/api/register")).json(payload))
            .await?;
        if answer.get("success").and_then(Value::as_bool) == Some(false) {
            let why = text(&answer, &["message", "error"]).unwrap_or_default();
            return Err(HermesError::Failed(format!(
                "Hermes refused the registration: {why}"
            )));
        }
        let component_id = text(&answer, &["componentId", "component_id"]);
        let token = text(&answer, &["token"]);
        match (component_id, token) {
            (Some(component_id), Some(token)) => Ok(Registered {
                component_id,
                token,
            }),
            _ => Err(HermesError::Failed(
                "Hermes answered the registration without `componentId` and `token`".into(),
            )),
        }
    }

    /// `POST /api/heartbeat`.
    pub async fn heartbeat(&self, reg: &Registered, status: &str) -> Result<(), HermesError> {
        self.send(
            self.http
                .post(self.url("/api/heartbeat"))
                .header("X-Authentication-Token", &reg.token)
                .json(&json!({"component_id": reg.component_id, "status": status})),
        )
        .await
        .map(drop)
    }

    /// `POST /api/unregister?component_id=...`.
    pub async fn unregister(&self, reg: &Registered) -> Result<(), HermesError> {
        self.send(
            self.http
                .post(self.url("/api/unregister"))
                .query(&[("component_id", &reg.component_id)])
                .header("X-Authentication-Token", &reg.token),
        )
        .await
        .map(drop)
    }

    /// `POST /api/query`: the components with `capability` (any, when `None`).
    pub async fn query(
        &self,
        capability: Option<&str>,
        healthy_only: bool,
    ) -> Result<Vec<Discovered>, HermesError> {
        let mut body = json!({"healthy_only": healthy_only});
        if let Some(c) = capability {
            body["capability"] = json!(c);
        }
        let answer = self
            .send(self.http.post(self.url("/api/query")).json(&body))
            .await?;
        let items = match &answer {
            Value::Array(items) => items.as_slice(),
            other => other
                .get("components")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .ok_or_else(|| {
                    HermesError::Failed("Hermes answered a query with no list".into())
                })?,
        };
        Ok(items.iter().filter_map(discovered).collect())
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Result<Value, HermesError> {
        let resp = rb.timeout(TIMEOUT).send().await.map_err(|e| {
            HermesError::Failed(format!(
                "cannot reach Hermes at {}: {}",
                self.base,
                root_cause(&e.without_url())
            ))
        })?;
        let status = resp.status().as_u16();
        if status == 401 || status == 404 {
            return Err(HermesError::Expired(status));
        }
        let bytes = resp.bytes().await.map_err(|e| {
            HermesError::Failed(format!(
                "Hermes' answer broke off: {}",
                root_cause(&e.without_url())
            ))
        })?;
        if !(200..300).contains(&status) {
            let body = String::from_utf8_lossy(&bytes);
            return Err(HermesError::Failed(format!(
                "Hermes answered HTTP {status}: {}",
                harmonia_expr::clip(&body)
            )));
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| HermesError::Failed(format!("Hermes answered with invalid JSON: {e}")))
    }
}

/// The first of `keys` that holds a string (or a number, as text).
fn text(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match v.get(*k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn discovered(v: &Value) -> Option<Discovered> {
    let name = text(v, &["name"])?;
    let endpoint = text(v, &["endpoint", "url"])?;
    let capabilities = v
        .get("capabilities")
        .and_then(Value::as_array)
        .map(|caps| {
            caps.iter()
                .filter_map(|c| match c {
                    Value::String(s) => Some(s.clone()),
                    other => text(other, &["name"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let mcp_prefix = v
        .get("metadata")
        .and_then(|m| text(m, &["mcp_prefix", "mcpPrefix"]));
    Some(Discovered {
        id: text(v, &["componentId", "component_id", "id"]).unwrap_or_else(|| name.clone()),
        name,
        endpoint,
        capabilities,
        healthy: v.get("healthy").and_then(Value::as_bool).unwrap_or(true),
        mcp_prefix,
    })
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_reads_either_case_and_string_or_object_capabilities() {
        let d = discovered(&json!({
            "componentId": "c1", "name": "rhetor", "endpoint": "http://127.0.0.1:8003",
            "capabilities": ["llm", {"name": "chat"}], "healthy": false,
            "metadata": {"mcp_prefix": "/mcp"}
        }))
        .unwrap();
        assert_eq!(d.id, "c1");
        assert_eq!(d.capabilities, ["llm", "chat"]);
        assert!(!d.healthy);
        assert_eq!(d.mcp_prefix.as_deref(), Some("/mcp"));
        let d = discovered(&json!({"component_id": "c2", "name": "x", "url": "http://h"})).unwrap();
        assert_eq!(d.id, "c2");
        assert!(d.healthy);
        assert!(discovered(&json!({"name": "no endpoint"})).is_none());
    }
}
