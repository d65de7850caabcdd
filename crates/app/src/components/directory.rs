//! The component directory: components declared in the config, and those Hermes knows,
//! found by name for `component` tasks and listed for the API.
//!
//! Declared components come first (a name declared shadows Hermes'). Hermes' list is
//! cached for the directory's TTL; a name not in the cache refreshes it at once (at most
//! once per [`MIN_REFRESH`]), so a component that registered a moment ago is found, and
//! so does a call that could not connect to a component from Hermes (it may have moved).
//! A failed refresh keeps the last list (logged), so a Hermes that is down does not make
//! known components unreachable.
//!
//! Invariant: a component's token is kept only in its [`Endpoint`] and never shown:
//! listings say whether there is one.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use harmonia_engine::kinds::component::{self, Endpoint};

use crate::hermes;

/// The MCP-style API's path when a component does not say.
pub const DEFAULT_MCP_PREFIX: &str = "/api/mcp/v2";
/// How long Hermes' list is kept by default.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// The least time between two refreshes forced by an unknown name.
pub const MIN_REFRESH: Duration = Duration::from_secs(1);

/// Where a component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The server's config.
    Config,
    /// Hermes' registry.
    Hermes,
}

impl Source {
    /// Its name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Source::Config => "config",
            Source::Hermes => "hermes",
        }
    }
}

/// A component, as the directory knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Known {
    /// How to reach it.
    pub endpoint: Endpoint,
    /// What it can do.
    pub capabilities: Vec<String>,
    /// Where it came from.
    pub source: Source,
    /// Whether Hermes thinks it is alive (`None` for declared components).
    pub healthy: Option<bool>,
}

/// What Hermes' list holds, and when it was fetched.
#[derive(Default)]
struct Cache {
    fetched: Option<Instant>,
    items: Vec<Known>,
    error: Option<String>,
}

/// The directory (see the module doc).
pub struct Directory {
    declared: Vec<Known>,
    hermes: Option<hermes::Client>,
    ttl: Duration,
    cache: tokio::sync::Mutex<Cache>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("declared", &self.declared.len())
            .field("hermes", &self.hermes.as_ref().map(|h| h.base().as_str()))
            .finish_non_exhaustive()
    }
}

impl Directory {
    /// No components at all.
    pub fn empty() -> Directory {
        Directory::new(Vec::new(), None, DEFAULT_TTL)
    }

    /// The components `declared`, and Hermes' when a client is given, its list kept for
    /// `ttl`.
    pub fn new(
        declared: Vec<Endpoint>,
        hermes: Option<hermes::Client>,
        ttl: Duration,
    ) -> Directory {
        Directory {
            declared: declared
                .into_iter()
                .map(|endpoint| Known {
                    endpoint,
                    capabilities: Vec::new(),
                    source: Source::Config,
                    healthy: None,
                })
                .collect(),
            hermes,
            ttl,
            cache: tokio::sync::Mutex::default(),
        }
    }

    /// This directory, with the capabilities of declared components from `of`.
    #[must_use]
    pub fn with_capabilities(mut self, of: impl Fn(&str) -> Vec<String>) -> Directory {
        for k in &mut self.declared {
            k.capabilities = of(&k.endpoint.name);
        }
        self
    }

    /// Whether `name` is declared or in Hermes' list (as cached, refreshed when stale).
    pub async fn knows(&self, name: &str) -> bool {
        self.declared.iter().any(|k| k.endpoint.name == name)
            || self
                .discovered(false)
                .await
                .0
                .iter()
                .any(|k| k.endpoint.name == name)
    }

    /// Whether Hermes is asked at all.
    pub fn discovers(&self) -> bool {
        self.hermes.is_some()
    }

    /// Every component: the declared ones, then Hermes' (refreshed when stale), and
    /// why Hermes' list may be stale (its last refresh failed).
    pub async fn list(&self) -> (Vec<Known>, Option<String>) {
        let mut out = self.declared.clone();
        let (found, error) = self.discovered(false).await;
        out.extend(found.into_iter().filter(|k| {
            !self
                .declared
                .iter()
                .any(|d| d.endpoint.name == k.endpoint.name)
        }));
        (out, error)
    }

    /// The component named `name`.
    pub async fn get(&self, name: &str) -> Result<Known, String> {
        if let Some(k) = self.declared.iter().find(|k| k.endpoint.name == name) {
            return Ok(k.clone());
        }
        let Some(hermes) = &self.hermes else {
            return Err(component::unknown(name));
        };
        for force in [false, true] {
            let (found, _) = self.discovered(force).await;
            if let Some(k) = found.into_iter().find(|k| k.endpoint.name == name) {
                return Ok(k);
            }
        }
        Err(format!(
            "no component named `{}` is declared in the config or registered with Hermes at {}",
            harmonia_expr::clip(name),
            hermes.base()
        ))
    }

    /// Hermes' list: the cache when fresh (or, when `force`, refreshed at most once per
    /// [`MIN_REFRESH`]), and the last refresh's error.
    async fn discovered(&self, force: bool) -> (Vec<Known>, Option<String>) {
        let Some(hermes) = &self.hermes else {
            return (Vec::new(), None);
        };
        let mut cache = self.cache.lock().await;
        let age = cache.fetched.map(|t| t.elapsed());
        let stale = match age {
            None => true,
            Some(a) => a >= self.ttl || (force && a >= MIN_REFRESH),
        };
        if stale {
            match hermes.query(None, false).await {
                Ok(found) => {
                    cache.items = found.into_iter().filter_map(known).collect();
                    cache.error = None;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot refresh the components Hermes knows");
                    cache.error = Some(e.to_string());
                }
            }
            cache.fetched = Some(Instant::now());
        }
        (cache.items.clone(), cache.error.clone())
    }
}

/// A component Hermes listed, when its endpoint is a URL.
fn known(d: hermes::Discovered) -> Option<Known> {
    let url = reqwest::Url::parse(&d.endpoint)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))?;
    Some(Known {
        endpoint: Endpoint {
            name: d.name,
            url,
            mcp_prefix: d.mcp_prefix.unwrap_or_else(|| DEFAULT_MCP_PREFIX.into()),
            token: None,
        },
        capabilities: d.capabilities,
        source: Source::Hermes,
        healthy: Some(d.healthy),
    })
}

#[async_trait]
impl component::Directory for Directory {
    async fn find(&self, name: &str) -> Result<Endpoint, String> {
        self.get(name).await.map(|k| k.endpoint)
    }

    /// A component from Hermes that could not be reached may have moved: the next
    /// lookup refreshes the list (at most once per [`MIN_REFRESH`]).
    fn unreachable(&self, name: &str) {
        if self.declared.iter().any(|k| k.endpoint.name == name) {
            return;
        }
        if let Ok(mut cache) = self.cache.try_lock()
            && cache.fetched.is_some_and(|t| t.elapsed() >= MIN_REFRESH)
        {
            cache.fetched = None;
        }
    }
}
