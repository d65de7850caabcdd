//! `serve`'s integration settings: Hermes (Harmonia's registration, and discovery of
//! other components) and the components declared in the config file.
//!
//! ```toml
//! [hermes]
//! url = "http://127.0.0.1:8001"        # or HERMES_URL; unset: no Hermes at all
//! heartbeat_interval = "30s"           # or HARMONIA_HERMES_HEARTBEAT
//! public_url = "http://10.0.0.5:8007"  # or HARMONIA_PUBLIC_URL: what Hermes tells others
//! discovery_ttl = "60s"                # how long Hermes' component list is cached
//!
//! [[components]]
//! name = "rhetor"
//! endpoint = "http://127.0.0.1:8003"
//! mcp_prefix = "/api/mcp/v2"           # the default
//! token_secret = "RHETOR_TOKEN"        # sent as a bearer token; from HARMONIA_SECRET_RHETOR_TOKEN
//! capabilities = ["llm"]
//! ```
//!
//! The local commands (`run`, `resume`, `retry`) find components the same way: the
//! `[[components]]` of `harmonia.toml` in the working directory, and Hermes' when
//! `HERMES_URL` is set (they never register).
//!
//! A component's token is named, never written in the file: it comes from the secret
//! store (`HARMONIA_SECRET_<NAME>`), and a name with no value refuses to start.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use harmonia_app::components::{DEFAULT_MCP_PREFIX, DEFAULT_TTL, Directory};
use harmonia_app::hermes;
use harmonia_engine::kinds::component::Endpoint;
use serde::Deserialize;

/// `[hermes]` in the config file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HermesConfig {
    url: Option<String>,
    heartbeat_interval: Option<String>,
    public_url: Option<String>,
    discovery_ttl: Option<String>,
}

/// One `[[components]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComponentConfig {
    name: String,
    endpoint: String,
    mcp_prefix: Option<String>,
    token_secret: Option<String>,
    #[serde(default)]
    capabilities: Vec<String>,
}

/// The integration settings in effect.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    hermes: Option<reqwest::Url>,
    heartbeat: Duration,
    public_url: Option<String>,
    ttl: Duration,
    components: Vec<ComponentConfig>,
}

fn duration(what: &str, text: Option<String>, default: Duration) -> anyhow::Result<Duration> {
    match text {
        None => Ok(default),
        Some(t) => harmonia_model::Dur::parse(&t)
            .map(|d| d.get())
            .map_err(|m| anyhow::anyhow!("invalid {what} `{t}`: {m}")),
    }
}

fn http_url(what: &str, text: &str) -> anyhow::Result<reqwest::Url> {
    reqwest::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            anyhow::anyhow!("invalid {what} `{text}`: expected an http:// or https:// URL")
        })
}

/// The settings from the file, overridden by the environment.
pub(crate) fn settings(
    file: Option<HermesConfig>,
    components: Option<Vec<ComponentConfig>>,
) -> anyhow::Result<Settings> {
    let file = file.unwrap_or_default();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let hermes = match env("HERMES_URL").or(file.url) {
        None => None,
        Some(u) => Some(http_url("Hermes URL", &u)?),
    };
    let public_url = match env("HARMONIA_PUBLIC_URL").or(file.public_url) {
        None => None,
        Some(u) => Some(
            http_url("public URL", &u)?
                .as_str()
                .trim_end_matches('/')
                .to_string(),
        ),
    };
    let components = components.unwrap_or_default();
    for (i, c) in components.iter().enumerate() {
        if c.name.is_empty() {
            bail!("components[{i}]: `name` must not be empty");
        }
        http_url(&format!("endpoint of component `{}`", c.name), &c.endpoint)?;
        if components[..i].iter().any(|o| o.name == c.name) {
            bail!("components[{i}]: component `{}` is declared twice", c.name);
        }
    }
    Ok(Settings {
        hermes,
        heartbeat: duration(
            "Hermes heartbeat interval",
            env("HARMONIA_HERMES_HEARTBEAT").or(file.heartbeat_interval),
            Duration::from_secs(30),
        )?,
        public_url,
        ttl: duration("Hermes discovery TTL", file.discovery_ttl, DEFAULT_TTL)?,
        components,
    })
}

/// The parts of `harmonia.toml` the local commands read.
#[derive(Debug, Default, Deserialize)]
struct LocalFile {
    hermes: Option<HermesConfig>,
    components: Option<Vec<ComponentConfig>>,
}

/// The component directory of a local command: `harmonia.toml`'s components (when the
/// file exists) and Hermes' (when `HERMES_URL` is set).
pub(crate) fn local_directory(
    secrets: &BTreeMap<String, String>,
) -> anyhow::Result<Arc<Directory>> {
    let path = std::path::Path::new("harmonia.toml");
    let file = if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        toml::from_str::<LocalFile>(&text)
            .with_context(|| format!("invalid config file {}", path.display()))?
    } else {
        LocalFile::default()
    };
    Ok(build(&settings(file.hermes, file.components)?, secrets)?.directory)
}

/// What the settings make: the component directory, and the Hermes client.
pub(crate) struct Integration {
    pub(crate) directory: Arc<Directory>,
    hermes: Option<hermes::Client>,
    heartbeat: Duration,
    public_url: Option<String>,
}

/// Builds the directory (tokens read from `secrets`) and the Hermes client.
pub(crate) fn build(
    settings: &Settings,
    secrets: &BTreeMap<String, String>,
) -> anyhow::Result<Integration> {
    let mut declared = Vec::new();
    for c in &settings.components {
        let token = match &c.token_secret {
            None => None,
            Some(name) => Some(secrets.get(name).cloned().with_context(|| {
                format!(
                    "component `{}` names the secret `{name}` for its token, which is not set: set HARMONIA_SECRET_{name}",
                    c.name
                )
            })?),
        };
        declared.push(Endpoint {
            name: c.name.clone(),
            url: http_url("endpoint", &c.endpoint)?,
            mcp_prefix: c
                .mcp_prefix
                .clone()
                .unwrap_or_else(|| DEFAULT_MCP_PREFIX.into()),
            token,
        });
    }
    let hermes = match &settings.hermes {
        None => None,
        Some(url) => {
            let http = harmonia_engine::kinds::http_client()
                .map_err(|e| anyhow::anyhow!("cannot set up the Hermes client: {e}"))?;
            Some(hermes::Client::new(url.clone(), http))
        }
    };
    let capabilities: BTreeMap<&str, &[String]> = settings
        .components
        .iter()
        .map(|c| (c.name.as_str(), c.capabilities.as_slice()))
        .collect();
    let directory =
        Directory::new(declared, hermes.clone(), settings.ttl).with_capabilities(|name| {
            capabilities
                .get(name)
                .map(|c| c.to_vec())
                .unwrap_or_default()
        });
    Ok(Integration {
        directory: Arc::new(directory),
        hermes,
        heartbeat: settings.heartbeat,
        public_url: settings.public_url.clone(),
    })
}

impl Integration {
    /// Harmonia's presence in Hermes, for a server listening on `local`, when Hermes is
    /// configured.
    pub(crate) fn presence(&self, local: SocketAddr) -> Option<hermes::Presence> {
        let client = self.hermes.clone()?;
        let endpoint = self.public_url.clone().unwrap_or_else(|| {
            let host = if local.ip().is_unspecified() {
                std::net::IpAddr::from([127, 0, 0, 1])
            } else {
                local.ip()
            };
            format!("http://{}", SocketAddr::new(host, local.port()))
        });
        Some(hermes::Presence::new(
            client,
            hermes::payload(&endpoint),
            self.heartbeat,
        ))
    }
}
