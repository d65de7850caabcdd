//! `harmonia serve`: the API, WebSockets, OpenAPI, docs and metrics on one port.
//!
//! Settings come from, lowest to highest: built-in defaults, the config file
//! (`--config`, default `harmonia.toml` when it exists), `HARMONIA_*` environment
//! variables, then flags. The database defaults to `harmonia.db` in the working
//! directory; a `postgres://` URL instead is a PostgreSQL database, which several
//! servers (nodes) may share: each owns the executions it starts under a lease
//! (`--lease`, 10 s), and takes over those of a node whose lease expired (see the
//! engine's `scheduler::lease`). A node that stops hands its unfinished executions to
//! the others at once. On SQLite the server is the only one: it has no lease, and at
//! start takes over every unfinished execution at once. `durability` says what a commit survives (see `durability`): `process`
//! by default, `fsync` to survive a power loss too.
//!
//! Who may use the API without a token (`harmonia_server::Access`): bound to a loopback
//! address, everyone on this machine until the database has had a token (and then
//! nobody, even once every token is deleted); bound to any other address, nobody: the
//! server refuses to start until a token exists (`harmonia token create`), unless
//! `--insecure` says to serve without tokens, which holds only as long as the database
//! has never had one.
//!
//! With `HERMES_URL` (or `[hermes] url`) set, it registers with Hermes and heart-beats
//! in the background, and unregisters on the way out; components are declared under
//! `[[components]]` (see `integration`).
//!
//! On SIGTERM or Ctrl-C it stops accepting connections and lets requests in flight
//! finish, while the engine drains: no new attempt starts, and attempts that are running
//! get up to `--shutdown-grace` (30 s) to finish, their results committed. Then it exits;
//! unfinished executions are resumed at the next start (attempts that outlasted the
//! grace period run again, as `recovered`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use harmonia_app::App;
use harmonia_engine::kinds::KindsConfig;
use harmonia_engine::{Engine, EngineConfig};
use harmonia_server::{Access, ApiConfig, AppState};
use harmonia_storage::Store;
use serde::Deserialize;

use super::database::Database;
use super::durability::Durability;
use super::local::runtime;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The port to listen on [default: 8007].
    #[arg(long, env = "HARMONIA_PORT")]
    port: Option<u16>,
    /// The address to bind [default: 127.0.0.1].
    #[arg(long, env = "HARMONIA_BIND")]
    bind: Option<IpAddr>,
    /// The database: a SQLite file, or a PostgreSQL URL (`postgres://user@host/db`) that
    /// several servers may share [default: harmonia.db in the working directory].
    #[arg(long, env = "HARMONIA_DB", value_name = "PATH|URL")]
    db: Option<String>,
    /// This server's id among the nodes sharing the database [default: `node-` and
    /// random hex, new at each start].
    #[arg(long, env = "HARMONIA_NODE_ID")]
    node_id: Option<String>,
    /// On PostgreSQL, how long this node's executions stay its own without a renewal:
    /// after a crash, the other nodes take them over within this time [default: 10s].
    #[arg(long, env = "HARMONIA_LEASE", value_name = "DURATION")]
    lease: Option<String>,
    /// A TOML config file [default: harmonia.toml, when it exists].
    #[arg(long, env = "HARMONIA_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    /// Serve without auth on a non-loopback address (only while the database has never
    /// had an API token).
    #[arg(long, env = "HARMONIA_INSECURE")]
    insecure: bool,
    /// Allow `shell` tasks to run processes on this machine.
    #[arg(long, env = "HARMONIA_ALLOW_SHELL")]
    allow_shell: bool,
    /// The largest request body accepted, in bytes [default: 10 MiB].
    #[arg(long, env = "HARMONIA_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// An origin allowed to call the API from a browser (repeat, or comma-separate in
    /// the environment variable) [default: same-origin only].
    #[arg(
        long = "cors-origin",
        env = "HARMONIA_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,
    /// Attempts running at once over all executions [default: 256].
    #[arg(long, env = "HARMONIA_MAX_CONCURRENCY")]
    max_concurrency: Option<usize>,
    /// On SIGTERM or Ctrl-C, how long running attempts may take to finish (their
    /// results are kept) before the server stops; what still runs then runs again at
    /// the next start [default: 30s].
    #[arg(long, env = "HARMONIA_SHUTDOWN_GRACE", value_name = "DURATION")]
    shutdown_grace: Option<String>,
    /// What a commit survives: `process` (the process being killed) or `fsync` (also a
    /// power loss; slower) [default: process].
    #[arg(long, value_enum, env = "HARMONIA_DURABILITY")]
    durability: Option<Durability>,
    /// A URL that receives a JSON summary of every failed execution (Slack
    /// incoming-webhook compatible) [default: none].
    #[arg(long, env = "HARMONIA_NOTIFY_FAILURE_URL", value_name = "URL")]
    notify_failure_url: Option<String>,
    /// The longest an external worker's poll is held open when nothing is ready (a
    /// proxy in front may close idle requests sooner) [default: 60s].
    #[arg(long, env = "HARMONIA_WORKER_POLL_MAX_WAIT", value_name = "DURATION")]
    worker_poll_max_wait: Option<String>,
    /// The most tokens the `llm` tasks of one execution may spend; an attempt past it
    /// fails with `llm_budget` [default: no limit].
    #[arg(long, env = "HARMONIA_LLM_TOKENS_PER_EXECUTION", value_name = "TOKENS")]
    llm_tokens_per_execution: Option<u64>,
}

/// The config file: the same settings as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    port: Option<u16>,
    bind: Option<IpAddr>,
    db: Option<String>,
    node_id: Option<String>,
    lease: Option<String>,
    insecure: Option<bool>,
    allow_shell: Option<bool>,
    max_body_bytes: Option<usize>,
    cors_origins: Option<Vec<String>>,
    max_concurrency: Option<usize>,
    shutdown_grace: Option<String>,
    durability: Option<Durability>,
    notify_failure_url: Option<String>,
    worker_poll_max_wait: Option<String>,
    hermes: Option<super::integration::HermesConfig>,
    components: Option<Vec<super::integration::ComponentConfig>>,
    llm: Option<harmonia_llm::LlmConfig>,
    llm_tokens_per_execution: Option<u64>,
}

/// The settings in effect.
#[derive(Debug)]
struct Settings {
    addr: SocketAddr,
    db: Database,
    node_id: Option<String>,
    lease: std::time::Duration,
    insecure: bool,
    allow_shell: bool,
    max_body_bytes: usize,
    cors_origins: Vec<String>,
    max_concurrency: usize,
    shutdown_grace: std::time::Duration,
    durability: Durability,
    notify_failure_url: Option<reqwest::Url>,
    worker_poll_max_wait: Option<std::time::Duration>,
    integration: super::integration::Settings,
    /// The language model (its settings are not printed: the key is among them).
    llm: Llm,
    llm_tokens_per_execution: Option<u64>,
}

/// A language model, shown in `Debug` by its provider and model only.
#[derive(Clone)]
struct Llm(Option<std::sync::Arc<dyn harmonia_llm::Provider>>);

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(p) => write!(f, "{}:{}", p.name(), p.model()),
            None => f.write_str("none"),
        }
    }
}

fn settings(args: &Args) -> anyhow::Result<Settings> {
    let file = match &args.config {
        Some(path) => read_config(path)?,
        None if std::path::Path::new("harmonia.toml").exists() => {
            read_config(std::path::Path::new("harmonia.toml"))?
        }
        None => FileConfig::default(),
    };
    let bind = args
        .bind
        .or(file.bind)
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let port = args.port.or(file.port).unwrap_or(8007);
    Ok(Settings {
        addr: SocketAddr::new(bind, port),
        db: Database::parse(
            &args
                .db
                .clone()
                .or(file.db)
                .unwrap_or_else(|| "harmonia.db".to_owned()),
        ),
        node_id: match args.node_id.clone().or(file.node_id) {
            Some(id) if id.trim().is_empty() || id.len() > 128 => {
                anyhow::bail!("invalid node id `{id}`: expected 1 to 128 characters")
            }
            other => other,
        },
        lease: match args.lease.clone().or(file.lease) {
            None => std::time::Duration::from_secs(10),
            Some(text) => harmonia_model::Dur::parse(&text)
                .map(|d| d.get())
                .ok()
                .filter(|d| *d >= std::time::Duration::from_millis(500))
                .ok_or_else(|| {
                    anyhow::anyhow!("invalid lease `{text}`: expected a duration of at least 500ms, such as 10s")
                })?,
        },
        insecure: args.insecure || file.insecure.unwrap_or(false),
        allow_shell: args.allow_shell || file.allow_shell.unwrap_or(false),
        max_body_bytes: args
            .max_body_bytes
            .or(file.max_body_bytes)
            .unwrap_or(10 * 1024 * 1024),
        cors_origins: if args.cors_origins.is_empty() {
            file.cors_origins.unwrap_or_default()
        } else {
            args.cors_origins.clone()
        },
        max_concurrency: args.max_concurrency.or(file.max_concurrency).unwrap_or(256),
        shutdown_grace: match args.shutdown_grace.clone().or(file.shutdown_grace) {
            None => std::time::Duration::from_secs(30),
            Some(text) => harmonia_model::Dur::parse(&text)
                .map(|d| d.get())
                .map_err(|m| anyhow::anyhow!("invalid shutdown grace `{text}`: {m}"))?,
        },
        durability: args.durability.or(file.durability).unwrap_or_default(),
        worker_poll_max_wait: match args
            .worker_poll_max_wait
            .clone()
            .or(file.worker_poll_max_wait)
        {
            None => None,
            Some(text) => Some(
                harmonia_model::Dur::parse(&text)
                    .map(|d| d.get())
                    .map_err(|m| anyhow::anyhow!("invalid worker poll max wait `{text}`: {m}"))?,
            ),
        },
        integration: super::integration::settings(file.hermes, file.components)?,
        llm: Llm(super::llm::provider(file.llm)?),
        llm_tokens_per_execution: args.llm_tokens_per_execution.or(file.llm_tokens_per_execution),
        notify_failure_url: match args.notify_failure_url.clone().or(file.notify_failure_url) {
            None => None,
            Some(text) => Some(
                reqwest::Url::parse(&text)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "invalid failure notification URL: expected an http:// or https:// URL (such as a Slack incoming webhook)"
                        )
                    })?,
            ),
        },
    })
}

fn read_config(path: &std::path::Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let settings = settings(args)?;
    runtime()?.block_on(serve(settings))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

/// Serves on the settings' database, then closes it (after the engine stopped): the
/// SQLite file then holds everything on its own, no WAL beside it.
async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let opened = settings.db.open(settings.durability.sqlite()).await?;
    let served = serve_on(settings, opened.store.clone()).await;
    opened.close().await;
    if served.is_ok() {
        crate::output::errln!("harmonia stopped");
    }
    served
}

async fn serve_on(settings: Settings, store: Arc<dyn Store>) -> anyhow::Result<ExitCode> {
    let access = if settings.addr.ip().is_loopback() {
        Access::Loopback
    } else if settings.insecure {
        Access::Insecure
    } else {
        Access::Network
    };
    if access == Access::Network && store.tokens().await?.is_empty() {
        crate::output::errln!(
            "error: refusing to serve on {} without authentication.\n  Create a token first: harmonia token create --role admin --name me --db {}\n  or pass --insecure to serve without auth.",
            settings.addr,
            settings.db.display()
        );
        return Ok(ExitCode::from(2));
    }
    if access == Access::Insecure && store.had_tokens().await? {
        crate::output::errln!(
            "warning: --insecure does not apply: the database {} has had API tokens, so every API request needs one",
            settings.db.display()
        );
    }
    // Seconds-scale buckets for durations; the batch size histogram shares them, which
    // still separates small commits from large ones.
    let buckets = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        60.0, 300.0,
    ];
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&buckets)
        .context("invalid metric buckets")?
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full("harmonia_commit_events".into()),
            &[1.0, 10.0, 100.0, 1000.0, 10_000.0, 100_000.0],
        )
        .context("invalid metric buckets")?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let secrets = super::local::secrets();
    let integration = super::integration::build(&settings.integration, &secrets)?;
    let config = EngineConfig {
        max_concurrency: settings.max_concurrency,
        kinds: KindsConfig {
            allow_shell: settings.allow_shell,
            components: integration.directory.clone(),
            llm: settings.llm.0.clone(),
            llm_tokens_per_execution: settings.llm_tokens_per_execution,
            ..KindsConfig::default()
        },
        secrets,
        // On SQLite the server is alone: it takes every unfinished execution at start,
        // at once. A lease would keep a crashed predecessor's for up to a lease.
        lease: settings.db.is_shared().then_some(settings.lease),
        address: Some(settings.addr.to_string()),
        ..EngineConfig::default()
    };
    let config = match &settings.node_id {
        Some(id) => EngineConfig {
            node: id.clone(),
            ..config
        },
        None => config,
    };
    let node = config.node.clone();
    let builder = Engine::builder(store.clone()).config(config);
    // The built-in template library, once: a built-in someone deleted stays deleted.
    let seeded = harmonia_app::templates::seed_builtins(store.as_ref(), &builder.task_types()?)
        .await
        .context("cannot store the built-in templates")?;
    if !seeded.is_empty() {
        tracing::info!(templates = %seeded.join(", "), "stored the built-in templates");
    }
    let engine = builder.spawn().await?;
    let handle = engine.handle().clone();
    let mut app = App::with_components(handle.clone(), integration.directory.clone());
    if let Some(llm) = settings.llm.0.clone() {
        app = app.with_llm(llm);
    }
    // Worker queues are loaded now, so that they show (and fill) before the first poll.
    app.workers().start();
    if let Some(limit) = settings.worker_poll_max_wait {
        app.workers().limit_wait(limit);
    }
    // Events stored but not delivered when the last process stopped.
    let routed = app
        .events()
        .route_unrouted()
        .await
        .context("cannot deliver the events received before the restart")?;
    if routed > 0 {
        tracing::info!(
            events = routed,
            "delivered the events received before the restart"
        );
    }
    let schedules = app.schedules().clone();
    let concurrency = app.concurrency().clone();
    let notifier = match &settings.notify_failure_url {
        Some(url) => Some(
            app.notifier(url.clone())
                .map_err(|e| anyhow::anyhow!("cannot set up failure notifications: {e}"))?,
        ),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .with_context(|| format!("cannot listen on {}", settings.addr))?;
    let local = listener.local_addr()?;
    let presence = integration.presence(local);
    let state = AppState::with_app(
        app,
        ApiConfig {
            max_body_bytes: settings.max_body_bytes,
            cors_origins: settings.cors_origins.clone(),
            access,
            port: Some(local.port()),
            hermes: presence.clone(),
        },
        Some(metrics),
    );
    let durability = if settings.db.is_shared() {
        "the server's"
    } else {
        settings.durability.name()
    };
    crate::output::errln!(
        "harmonia listening on http://{local} (node {node}; API docs: http://{local}/docs; database: {}, durability: {durability})",
        settings.db.display(),
    );
    // On the signal: the listener stops accepting and requests in flight finish, while
    // the engine drains (running attempts finish, nothing new starts), both within the
    // grace period.
    let stop = tokio_util::sync::CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signal.cancel();
    });
    // Schedules fire from now on, and held runs are released as others end (those a
    // restart left too); both stop with the listener.
    let fired = tokio::spawn({
        let stop = stop.clone();
        async move { schedules.run(stop).await }
    });
    let released = tokio::spawn({
        let stop = stop.clone();
        async move { concurrency.run(stop).await }
    });
    let notified = tokio::spawn({
        let stop = stop.clone();
        async move {
            if let Some(n) = notifier {
                n.run(stop).await;
            }
        }
    });
    // Registered with Hermes in the background: never waited for, never fatal; the loop
    // unregisters once the listener stops.
    let registered = tokio::spawn({
        let stop = stop.clone();
        async move {
            if let Some(p) = presence {
                p.run(stop).await;
            }
        }
    });
    let grace = settings.shutdown_grace;
    let http = async {
        let server = harmonia_server::serve(
            listener,
            harmonia_server::app(state),
            stop.clone().cancelled_owned(),
        );
        tokio::select! {
            r = server => r,
            () = async {
                stop.cancelled().await;
                tokio::time::sleep(grace + std::time::Duration::from_secs(1)).await;
            } => {
                tracing::warn!("connections still open after the grace period are closed");
                Ok(())
            }
        }
    };
    let drain = async {
        stop.cancelled().await;
        handle.drain(grace).await;
    };
    let (served, ()) = tokio::join!(http, drain);
    served?;
    stop.cancel();
    for (task, what) in [
        (fired, "schedules"),
        (released, "concurrency queues"),
        (notified, "failure notifications"),
        (registered, "Hermes registration"),
    ] {
        if let Err(e) = task.await {
            tracing::error!(error = %e, "the {what} task failed");
        }
    }
    let _ = engine.stopped().await;
    Ok(ExitCode::SUCCESS)
}
