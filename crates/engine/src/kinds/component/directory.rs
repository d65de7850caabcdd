//! Where a `component` task finds its component: the [`Directory`] seam.
//!
//! The engine knows no components itself. The program that builds it gives
//! [`KindsConfig::components`](crate::kinds::KindsConfig::components) a directory (the
//! server's: components from its config and from Hermes); without one, every lookup
//! fails with a message saying how to configure components.
//!
//! Invariant: an [`Endpoint`]'s token is never printed: its `Debug` shows whether there
//! is one, not what it is.

use async_trait::async_trait;

/// How to reach a component.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Its name.
    pub name: String,
    /// Its base URL (`http://127.0.0.1:8003`).
    pub url: reqwest::Url,
    /// The path of its MCP-style API under `url` (default `/api/mcp/v2`).
    pub mcp_prefix: String,
    /// A bearer token to send, if it needs one.
    pub token: Option<String>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("url", &self.url.as_str())
            .field("mcp_prefix", &self.mcp_prefix)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl Endpoint {
    /// `{url}{mcp_prefix}/{path}` (`process`, `tools`).
    pub fn mcp_url(&self, path: &str) -> String {
        format!(
            "{}{}/{path}",
            self.url.as_str().trim_end_matches('/'),
            self.mcp_prefix.trim_end_matches('/')
        )
    }

    /// The original adapter's `{url}/api/actions/{action}`, the action as one path
    /// segment.
    pub fn action_url(&self, action: &str) -> String {
        let segment =
            percent_encoding::utf8_percent_encode(action, percent_encoding::NON_ALPHANUMERIC);
        format!(
            "{}/api/actions/{segment}",
            self.url.as_str().trim_end_matches('/')
        )
    }
}

/// Finds components by name.
#[async_trait]
pub trait Directory: Send + Sync + std::fmt::Debug {
    /// The component named `name`, or why it cannot be reached (a message for the
    /// task's error).
    async fn find(&self, name: &str) -> Result<Endpoint, String>;

    /// A call to the component named `name` could not connect: where it is may have
    /// changed (a directory that caches looks again at the next lookup).
    fn unreachable(&self, _name: &str) {}
}

/// The directory of an engine given none: it knows no component.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoComponents;

#[async_trait]
impl Directory for NoComponents {
    async fn find(&self, name: &str) -> Result<Endpoint, String> {
        Err(unknown(name))
    }
}

/// What a directory without Hermes says of a name it does not know.
pub fn unknown(name: &str) -> String {
    format!(
        "no component named `{}` is known: declare it under [[components]] in harmonia.toml, or set HERMES_URL so that Harmonia discovers it",
        harmonia_expr::clip(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_and_encode() {
        let e = Endpoint {
            name: "rhetor".into(),
            url: reqwest::Url::parse("http://127.0.0.1:8003/").unwrap(),
            mcp_prefix: "/api/mcp/v2/".into(),
            token: Some("sekrit".into()),
        };
        assert_eq!(
            e.mcp_url("process"),
            "http://127.0.0.1:8003/api/mcp/v2/process"
        );
        assert_eq!(
            e.action_url("a/b c"),
            "http://127.0.0.1:8003/api/actions/a%2Fb%20c"
        );
        assert!(!format!("{e:?}").contains("sekrit"));
    }
}
