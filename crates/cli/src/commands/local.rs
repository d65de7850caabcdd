//! What `run`, `resume`, `retry` and `history` share: an engine on a local SQLite
//! database with the application's use cases over it (`harmonia_app::App`, the ones
//! the server calls), watching an execution with progress, and printing results and
//! errors.

use crate::output::outln;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use harmonia_app::App;
use harmonia_engine::kinds::{Kinds, KindsConfig};
use harmonia_engine::{Engine, EngineConfig, Handle, Plans};
use harmonia_model::Plan;
use harmonia_storage::{ExecutionId, ExecutionRecord, Store};
use harmonia_storage_sql::SqliteStore;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::beside::Beside;
use super::database::CLOSE_WAIT;
use super::durability::Durability;
use super::execution::get::task_detail;
use super::execution::watch::View;
use super::progress::{Progress, Taken};
use harmonia_server::views::ExecutionDetail;

/// The engine's event broadcast in a local command (see [`EngineConfig::event_buffer`]).
const LOCAL_EVENT_BUFFER: usize = 4_096;

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Output {
    /// For people.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// An error that ends a command with exit code 2, printed in the chosen format.
pub(crate) struct Invalid {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) details: Value,
}

impl Invalid {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Invalid {
        Invalid {
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub(crate) fn print(&self, output: Output) -> ExitCode {
        match output {
            Output::Json => outln!(
                "{}",
                json!({"error": {"code": self.code, "message": self.message, "details": self.details}})
            ),
            Output::Text => {
                crate::output::errln!("error: {}", self.message);
                if let Value::Array(lines) = &self.details {
                    for l in lines {
                        match l {
                            Value::String(s) => crate::output::errln!("  {s}"),
                            Value::Object(v) => {
                                let path = v
                                    .get("path")
                                    .and_then(Value::as_str)
                                    .filter(|p| !p.is_empty())
                                    .unwrap_or("inputs");
                                crate::output::errln!(
                                    "  {path}: {} ({})",
                                    v.get("message").and_then(Value::as_str).unwrap_or(""),
                                    v.get("keyword").and_then(Value::as_str).unwrap_or("")
                                );
                            }
                            other => crate::output::errln!("  {other}"),
                        }
                    }
                }
            }
        }
        ExitCode::from(2)
    }
}

/// Values of `$secrets` from `HARMONIA_SECRET_<NAME>` variables: `$secrets.NAME`, the
/// name as written (`HARMONIA_SECRET_API_KEY` is `$secrets.API_KEY`).
pub(crate) fn secrets() -> BTreeMap<String, String> {
    std::env::vars()
        .filter_map(|(k, v)| {
            k.strip_prefix("HARMONIA_SECRET_")
                .filter(|n| !n.is_empty())
                .map(|n| (n.to_string(), v))
        })
        .collect()
}

/// The engine's events, as [`Local::subscribe`] gives them.
pub(crate) type Events = tokio::sync::broadcast::Receiver<Arc<harmonia_engine::LoggedEvent>>;

/// Connections for reads on a local run's database: none, the reads take the
/// writer's connection (a server has several).
const LOCAL_READERS: u32 = 0;

/// What a local engine is configured with, from the environment and `harmonia.toml`:
/// made before the store opens, so that a bad configuration changes nothing and a
/// caller can validate a definition with [`LocalConfig::kinds`] meanwhile.
pub(crate) struct LocalConfig {
    engine: EngineConfig,
    /// The built-in kinds of `engine`'s settings, built once for validating and running.
    kinds: Kinds,
    directory: Arc<harmonia_app::components::Directory>,
    llm: Option<Arc<dyn harmonia_llm::Provider>>,
}

impl LocalConfig {
    /// The configuration of `run`, `resume`, `retry` and `history`.
    pub(crate) fn new(allow_shell: bool) -> anyhow::Result<LocalConfig> {
        let secrets = secrets();
        let directory = super::integration::local_directory(&secrets)?;
        let llm = super::llm::local_provider()?;
        let engine = EngineConfig {
            kinds: KindsConfig {
                allow_shell,
                components: directory.clone(),
                llm: llm.clone(),
                llm_tokens_per_execution: super::llm::tokens_per_execution()?,
                // No API here for workers to poll.
                serves_workers: false,
                ..KindsConfig::default()
            },
            secrets,
            // One run's progress follows the events: a workflow of a thousand pure
            // tasks makes about four thousand in one commit. A subscriber that lags
            // reads the rest from the log. A quarter of the server's buffer, whose
            // slots a one-task run wrote at start (96 pages fewer to fault in).
            event_buffer: LOCAL_EVENT_BUFFER,
            ..EngineConfig::default()
        };
        Ok(LocalConfig {
            kinds: Kinds::builtin(&engine.kinds),
            engine,
            directory,
            llm,
        })
    }

    /// The kinds the engine this configures runs; their task types are what it
    /// validates definitions with. Cheap to clone.
    pub(crate) fn kinds(&self) -> Kinds {
        self.kinds.clone()
    }
}

/// An engine on a local SQLite database, and the use cases over it.
pub(crate) struct Local {
    pub(crate) app: App,
    engine: Engine,
    /// The database, to close once the engine has stopped (see [`Local::close`]).
    sqlite: Arc<SqliteStore>,
    /// The temporary directory of a run without `--db`, removed when this is dropped.
    temp: Option<tempfile::TempDir>,
}

impl Local {
    /// Opens `db` (a temporary database when `None`) with `durability` and starts an
    /// engine on it, which first resumes whatever the database holds unfinished.
    /// Sub-workflows missing from the database are looked for in `beside`.
    pub(crate) async fn open(
        db: Option<&Path>,
        durability: Durability,
        allow_shell: bool,
        beside: Option<PathBuf>,
    ) -> anyhow::Result<Local> {
        Local::open_with(db, durability, LocalConfig::new(allow_shell)?, beside).await
    }

    /// [`Local::open`] with the engine's configuration made already (so that its task
    /// types could be used before the engine starts).
    pub(crate) async fn open_with(
        db: Option<&Path>,
        durability: Durability,
        config: LocalConfig,
        beside: Option<PathBuf>,
    ) -> anyhow::Result<Local> {
        let (path, temp) = match db {
            Some(p) => (p.to_path_buf(), None),
            None => {
                let temp = tempfile::tempdir().context("cannot create a temporary directory")?;
                (temp.path().join("harmonia.db"), Some(temp))
            }
        };
        let sqlite = Arc::new(
            SqliteStore::open(
                &path,
                harmonia_storage_sql::SqliteOptions {
                    // One process, one run: reads seldom overlap, and a connection
                    // costs a thread, three files and a reading of the schema to open.
                    readers: LOCAL_READERS,
                    ..durability.sqlite()
                },
            )
            .await
            .with_context(|| format!("cannot open the database {}", path.display()))?,
        );
        let store: Arc<dyn Store> = sqlite.clone();
        let LocalConfig {
            engine: config,
            kinds,
            directory,
            llm,
        } = config;
        let mut builder = Engine::builder(store).config(config).builtin(kinds);
        if let Some(dir) = beside {
            builder = builder.definitions(Arc::new(Beside { dir }));
        }
        let engine = builder.spawn().await?;
        let mut app = App::with_components(engine.handle().clone(), directory);
        if let Some(llm) = llm {
            app = app.with_llm(llm);
        }
        Ok(Local {
            app,
            engine,
            sqlite,
            temp,
        })
    }

    /// The engine's handle.
    pub(crate) fn handle(&self) -> &Handle {
        self.engine.handle()
    }

    /// The database.
    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        self.handle().store()
    }

    /// The workflow versions the engine runs.
    pub(crate) fn plans(&self) -> &Arc<Plans> {
        self.handle().plans()
    }

    /// Stops the engine, then closes the database and waits until it is closed:
    /// committed work stays, and the database file holds all of it on its own (the
    /// last connection to close copies the WAL into it and removes the WAL). Left to
    /// the process's exit, that copy was cut off halfway and the `-wal` file kept the
    /// last runs: a copy of the database file alone missed them.
    /// A temporary database is not waited for: it is removed with its directory.
    pub(crate) async fn close(self) {
        self.engine.handle().shutdown();
        let _ = self.engine.stopped().await;
        if self.temp.is_some() {
            return;
        }
        // Bounded: should something still hold a connection, the process ends as it
        // would have, the WAL whole beside the file (the next open reads it).
        if tokio::time::timeout(CLOSE_WAIT, self.sqlite.close())
            .await
            .is_err()
        {
            tracing::warn!(
                "the database did not close within {CLOSE_WAIT:?}; its WAL file stays beside it"
            );
        }
    }

    /// The engine's events from now on: what [`Local::watch`] follows. Taken before an
    /// execution starts, it holds the execution's events from the first, and the log
    /// is read only for what it misses.
    pub(crate) fn subscribe(&self) -> Events {
        self.handle().subscribe()
    }

    /// Waits for execution `id` to end, drawing its progress on stderr (text output
    /// only), from `events` (see [`Local::subscribe`]). Ctrl-C cancels it; a second
    /// Ctrl-C exits at once with code 130.
    pub(crate) async fn watch(
        &self,
        id: ExecutionId,
        plan: &Plan,
        output: Output,
        mut events: Events,
    ) -> anyhow::Result<(ExecutionRecord, std::time::Duration)> {
        let text = output == Output::Text;
        let terminal = text && std::io::stderr().is_terminal();
        // On a terminal the live task list draws (from snapshots, every tick); the
        // progress still follows the events, for the held task and the elapsed time.
        let mut progress = Progress::new(plan, false, text && !terminal);
        let mut view = terminal.then(|| View::new(true));
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(150));
        // First what the subscription holds already, then the log for what was
        // committed before it began (a resumed execution's earlier events), unless it
        // brought the first event. What is committed from now on may come both ways:
        // `take` shows each event once.
        let mut held = None;
        self.take_held(id, &mut events, &mut progress, &mut held)
            .await?;
        if progress.last_seq() == 0 {
            self.catch_up(id, &mut progress, &mut held).await?;
        }
        progress.flush();
        // A task of its own: waiting reads the store, and a read left half-done (a
        // connection taken, its answer not yet polled) while another branch's handler
        // reads too would hold the reader that handler waits for.
        let handle = self.handle().clone();
        let mut waiting = tokio::spawn(async move { handle.wait(id).await });
        let mut interrupts = 0;
        let record = loop {
            if let Some(task) = &held {
                // Nobody can decide in a local run: say how, instead of waiting forever.
                waiting.abort();
                progress.finish();
                anyhow::bail!(
                    "task `{task}` is held (`on_error: pause`) and its run paused; a person decides through a server on this database: `harmonia serve --db ...`, then POST /api/executions/{id}/tasks/{task}/retry, skip or fail"
                );
            }
            tokio::select! {
                r = &mut waiting => break r.context("waiting for the execution failed")??,
                _ = tick.tick(), if view.is_some() => {
                    if let Some(v) = view.as_mut() {
                        self.draw(id, v).await;
                    }
                }
                e = events.recv() => match e {
                    Ok(e) if e.execution == id => {
                        match progress.take(e.seq, &e.event) {
                            Taken::Shown => note_held(&mut held, &e.event),
                            // The log has this one and those before it.
                            Taken::Gap => self.catch_up(id, &mut progress, &mut held).await?,
                            Taken::Seen => {}
                        }
                        progress.flush();
                    }
                    Ok(_) | Err(RecvError::Closed) => {}
                    // The subscription lost events: the log has them.
                    Err(RecvError::Lagged(_)) => self.catch_up(id, &mut progress, &mut held).await?,
                },
                _ = tokio::signal::ctrl_c() => {
                    interrupts += 1;
                    if interrupts > 1 {
                        progress.finish();
                        crate::output::errln!("interrupted again: exiting; with --db, `harmonia resume --db` finishes the run");
                        std::process::exit(130);
                    }
                    crate::output::errln!("interrupted: cancelling (press Ctrl-C again to exit at once)");
                    let _ = self.handle().cancel(id, Some("interrupted by the user".into())).await;
                }
            }
        };
        // The execution has ended: its log is complete. The subscription may still hold
        // its last events; the log has whatever it lost or has not brought yet.
        self.take_held(id, &mut events, &mut progress, &mut held)
            .await?;
        if !progress.ended() {
            self.catch_up(id, &mut progress, &mut held).await?;
        }
        progress.finish();
        if let Some(v) = view.as_mut() {
            self.draw(id, v).await;
            v.clear();
        }
        Ok((record, progress.elapsed()))
    }

    /// Draws execution `id` as it is now in the live view.
    async fn draw(&self, id: ExecutionId, view: &mut View) {
        if let Ok(x) = self.app.executions().get(id).await
            && let Ok(v) = serde_json::to_value(ExecutionDetail::from_execution(&x))
        {
            view.update(&v, jiff::Timestamp::now());
        }
    }

    /// Shows the events of execution `id` that `events` holds now, without waiting; a
    /// gap (the subscription lost some) is filled from the log.
    async fn take_held(
        &self,
        id: ExecutionId,
        events: &mut Events,
        progress: &mut Progress,
        held: &mut Option<String>,
    ) -> anyhow::Result<()> {
        loop {
            match events.try_recv() {
                Ok(e) if e.execution == id => match progress.take(e.seq, &e.event) {
                    Taken::Shown => note_held(held, &e.event),
                    Taken::Gap => self.catch_up(id, progress, held).await?,
                    Taken::Seen => {}
                },
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty | TryRecvError::Closed) => return Ok(()),
            }
        }
    }

    /// Shows what the log of execution `id` holds after what `progress` has shown
    /// (read from there on, not from the start), and follows which task is held for a
    /// decision.
    async fn catch_up(
        &self,
        id: ExecutionId,
        progress: &mut Progress,
        held: &mut Option<String>,
    ) -> anyhow::Result<()> {
        for e in self.handle().history_after(id, progress.last_seq()).await? {
            note_held(held, &e.event);
            progress.take(e.seq, &e.event);
        }
        progress.flush();
        Ok(())
    }
}

/// Follows which task is held for a person's decision.
fn note_held(held: &mut Option<String>, event: &harmonia_engine::event::Event) {
    use harmonia_engine::event::Event;
    match event {
        Event::TaskHeld { task, .. } => *held = Some(task.clone()),
        Event::TaskDecided { .. } => *held = None,
        _ => {}
    }
}

/// Prints a finished execution's report: the status line on stderr, the outputs (text)
/// or the whole report (JSON) on stdout.
pub(crate) fn print_report(report: &Value, elapsed: std::time::Duration, output: Output) {
    match output {
        Output::Json => outln!(
            "{}",
            serde_json::to_string_pretty(report).unwrap_or_default()
        ),
        Output::Text => {
            let status = report["status"].as_str().unwrap_or("unknown");
            crate::output::errln!(
                "{status} in {:.2}s (execution {})",
                elapsed.as_secs_f64(),
                report["execution_id"].as_str().unwrap_or("")
            );
            if let Some(message) = report["error"]["message"].as_str() {
                crate::output::errln!("error: {message}");
            }
            for (name, task) in report["tasks"].as_object().into_iter().flatten() {
                if task["status"] == "failed" {
                    crate::output::errln!("  ✗ {name}: {}", task_detail(task));
                }
            }
            if status == "succeeded" {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&report["outputs"]).unwrap_or_default()
                );
            }
        }
    }
}

/// Exit code of a finished execution: 0 when it succeeded, 1 otherwise.
pub(crate) fn exit_code(record: &ExecutionRecord) -> ExitCode {
    if record.status == harmonia_storage::ExecutionStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The multi-threaded runtime the server and the other commands run on.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Expressions evaluate on these threads (in the scheduler's turn) and need a
        // large stack (see `harmonia_expr`'s limits); it is reserved, not committed.
        .thread_stack_size(64 << 20)
        .build()
        .context("cannot start the async runtime")
}

/// Runs a local command's `work` (`run`, `resume`, `retry`) on a runtime of its own,
/// on this thread. The engine's scheduler has a thread of its own, and so does each
/// of the store's connections; what is left for the runtime (registering the
/// workflow, following the run, printing it) is waiting, which needs no worker
/// threads: a multi-threaded runtime started two for it, with their stacks and
/// allocator caches (60 to 110 page faults of a one-task run's 1,100). Blocking
/// work (reading the definition) still gets a thread of the blocking pool, with the
/// large stack expressions need.
///
/// When the work ends well it has closed what it opened ([`Local::close`]), so the
/// runtime is left to the process's exit, not shut down: waiting made each of its
/// threads tear down the allocator's cache it had filled, 6% of the instructions of a
/// one-task `harmonia run`, only to exit a moment later; and even a shutdown that does
/// not wait wakes the blocking pool's idle threads, which each unmap a stack of their
/// own (every unmapping interrupts the other CPU to flush its address cache) while
/// this thread waits for the pool's lock. The caller returns to `main`, which exits.
/// After an error the runtime is waited for, so that whatever the error left open
/// closes on its own.
pub(crate) fn run_to_end<T>(
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_stack_size(64 << 20)
        .build()
        .context("cannot start the async runtime")?;
    let done = runtime.block_on(work);
    if done.is_ok() {
        std::mem::forget(runtime);
    }
    done
}

/// The execution that `given` names in `store`: a whole id, or a unique prefix of one
/// (like `execution get --db`); none or several is an [`Invalid`] that says so.
pub(crate) async fn resolve(
    store: &dyn Store,
    given: &str,
) -> anyhow::Result<Result<ExecutionId, Invalid>> {
    if let Ok(id) = given.trim().parse::<ExecutionId>() {
        return Ok(Ok(id));
    }
    let prefix = match super::remote::ids::check(given) {
        Ok(p) => p.to_ascii_lowercase(),
        Err(_) => {
            return Ok(Err(Invalid::new(
                "invalid_execution_id",
                format!("`{given}` is not an execution id (or the start of one)"),
            )));
        }
    };
    let query = harmonia_storage::ExecutionQuery {
        id_prefix: Some(prefix.clone()),
        limit: 2,
        ..harmonia_storage::ExecutionQuery::default()
    };
    let found = store.executions(&query).await?;
    Ok(match found.as_slice() {
        [one] => Ok(one.id),
        [] => Err(Invalid::new(
            "not_found",
            format!("no execution has an id that starts with `{prefix}`"),
        )),
        _ => Err(Invalid::new(
            "ambiguous_execution_id",
            format!(
                "`{prefix}` is the start of several execution ids; give more of it (`harmonia execution list --db ...` shows them)"
            ),
        )),
    })
}
