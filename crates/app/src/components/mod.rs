//! Components: the Tekton services a workflow calls by name (`type: component`), from
//! the server's config and from Hermes, listed with their tools.
//!
//! [`Directory`] finds them (the engine's `component` kind asks it at each call);
//! [`Components`] is the use case the API calls: list, read one, and fetch its tools
//! from `{endpoint}{mcp_prefix}/tools`.

mod directory;

use harmonia_engine::kinds::component::Endpoint;
use serde_json::Value;

pub use directory::{DEFAULT_MCP_PREFIX, DEFAULT_TTL, Directory, Known, MIN_REFRESH, Source};

use crate::{Ctx, Error, Result};

/// The largest tool list read, in bytes.
const MAX_TOOLS_BYTES: usize = 4 * 1024 * 1024;

/// Every component, and why Hermes' part of the list may be stale.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The components.
    pub components: Vec<Known>,
    /// The last Hermes refresh's failure, when it failed.
    pub hermes_error: Option<String>,
}

/// The components use case.
#[derive(Clone)]
pub struct Components(pub(crate) Ctx);

impl Components {
    /// Every component the directory knows.
    pub async fn list(&self) -> Listing {
        let (components, hermes_error) = self.0.components.list().await;
        Listing {
            components,
            hermes_error,
        }
    }

    /// The component named `name`.
    pub async fn get(&self, name: &str) -> Result<Known> {
        self.0.components.get(name).await.map_err(Error::NotFound)
    }

    /// The tools the component named `name` offers, as it lists them (a list, or the
    /// list under its `tools`).
    pub async fn tools(&self, name: &str) -> Result<Vec<Value>> {
        let known = self.get(name).await?;
        fetch_tools(&known.endpoint).await
    }
}

async fn fetch_tools(endpoint: &Endpoint) -> Result<Vec<Value>> {
    let client = harmonia_engine::kinds::http_client().map_err(Error::Internal)?;
    let url = endpoint.mcp_url("tools");
    let name = harmonia_expr::clip(&endpoint.name);
    let mut rb = client.get(&url).timeout(std::time::Duration::from_secs(10));
    if let Some(t) = &endpoint.token {
        rb = rb.bearer_auth(t);
    }
    let fail = |why: String| {
        Error::Upstream(format!(
            "cannot list the tools of component `{name}`: {why}"
        ))
    };
    let resp = rb.send().await.map_err(|e| fail(cause(&e.without_url())))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(fail(format!("it answered HTTP {}", status.as_u16())));
    }
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_TOOLS_BYTES as u64)
    {
        return Err(fail(format!(
            "the list is larger than {MAX_TOOLS_BYTES} bytes"
        )));
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| fail(cause(&e.without_url())))?;
    if bytes.len() > MAX_TOOLS_BYTES {
        return Err(fail(format!(
            "the list is larger than {MAX_TOOLS_BYTES} bytes"
        )));
    }
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| fail(format!("not JSON: {e}")))?;
    match value {
        Value::Array(tools) => Ok(tools),
        Value::Object(mut o) => match o.remove("tools") {
            Some(Value::Array(tools)) => Ok(tools),
            _ => Err(fail("the answer has no `tools` list".into())),
        },
        _ => Err(fail("the answer is not a list of tools".into())),
    }
}

fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
