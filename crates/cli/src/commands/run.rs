//! `harmonia run FILE`: run a workflow locally, durably, and show it.
//!
//! The run uses a SQLite database: a temporary one, or `--db PATH` (which also keeps
//! the history, and lets `harmonia resume` finish a run that was interrupted). Inputs
//! come from `--input-file` (a JSON object) first, then each `--input key=value`
//! overrides a key (the value is JSON when it parses, else a string). Sub-workflows are
//! found in the database, then as `NAME.yaml`/`NAME.json` beside FILE.
//!
//! Output: progress on stderr (a live line on a terminal, plain lines otherwise), then
//! the outputs on stdout; `--output json` prints exactly one JSON document on stdout
//! (see `report`). Exit 0 when the execution succeeded, 1 when it failed or was
//! cancelled, 2 for an invalid definition or inputs. Ctrl-C cancels the execution
//! (a second Ctrl-C exits at once).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use harmonia_engine::executors::{ExecutorConfig, Executors};
use harmonia_engine::{EngineConfig, Error as EngineError, Plans, RegisterError, StartRequest};
use harmonia_model::TaskTypes;
use harmonia_storage::{ExecutionStatus, Store};
use harmonia_storage_sql::{SqliteOptions, SqliteStore};
use serde_json::{Map, Value, json};

use super::beside::Beside;
use super::progress::Progress;
use super::read_source;
use super::report::execution_report;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The workflow definition (YAML or JSON).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// An input, as KEY=VALUE; VALUE is parsed as JSON when it is valid JSON.
    #[arg(long = "input", short = 'i', value_name = "KEY=VALUE")]
    inputs: Vec<String>,
    /// A JSON file holding an object of inputs (read before --input).
    #[arg(long, value_name = "FILE")]
    input_file: Option<PathBuf>,
    /// The SQLite database to use (created if missing); a temporary one otherwise.
    #[arg(long, value_name = "PATH", env = "HARMONIA_DB")]
    db: Option<PathBuf>,
    /// Allow `shell` tasks to run processes on this machine.
    #[arg(long)]
    allow_shell: bool,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    Text,
    Json,
}

/// An error that ends the run with exit code 2, printed in the chosen format.
struct Invalid {
    code: &'static str,
    message: String,
    details: Value,
}

impl Invalid {
    fn print(&self, output: Output) -> ExitCode {
        match output {
            Output::Json => println!(
                "{}",
                json!({"error": {"code": self.code, "message": self.message, "details": self.details}})
            ),
            Output::Text => {
                eprintln!("error: {}", self.message);
                if let Value::Array(lines) = &self.details {
                    for l in lines {
                        match l {
                            Value::String(s) => eprintln!("  {s}"),
                            other => eprintln!("  {other}"),
                        }
                    }
                }
            }
        }
        ExitCode::from(2)
    }
}

/// The inputs from `--input-file` and `--input`.
fn inputs(args: &Args) -> Result<Value, Invalid> {
    let mut map = Map::new();
    if let Some(path) = &args.input_file {
        let text = std::fs::read_to_string(path).map_err(|e| Invalid {
            code: "invalid_input",
            message: format!("cannot read {}: {e}", path.display()),
            details: Value::Null,
        })?;
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => map = m,
            Ok(_) => {
                return Err(Invalid {
                    code: "invalid_input",
                    message: format!("{} must hold a JSON object of inputs", path.display()),
                    details: Value::Null,
                });
            }
            Err(e) => {
                return Err(Invalid {
                    code: "invalid_input",
                    message: format!("{} is not valid JSON: {e}", path.display()),
                    details: Value::Null,
                });
            }
        }
    }
    for pair in &args.inputs {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(Invalid {
                code: "invalid_input",
                message: format!("--input `{pair}` must be KEY=VALUE"),
                details: Value::Null,
            });
        };
        let value =
            serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
        map.insert(key.to_string(), value);
    }
    Ok(Value::Object(map))
}

/// Values of `$secrets` from `HARMONIA_SECRET_<NAME>` variables (`<name>` lower-cased).
fn secrets() -> BTreeMap<String, String> {
    std::env::vars()
        .filter_map(|(k, v)| {
            k.strip_prefix("HARMONIA_SECRET_")
                .map(|n| (n.to_lowercase(), v))
        })
        .collect()
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: &Args) -> anyhow::Result<ExitCode> {
    let name = args.file.display().to_string();
    let source = match read_source(&args.file) {
        Ok(s) => s,
        Err(e) => {
            return Ok(Invalid {
                code: "unreadable_definition",
                message: format!("cannot read {name}: {e}"),
                details: Value::Null,
            }
            .print(args.output));
        }
    };
    let inputs = match inputs(args) {
        Ok(i) => i,
        Err(invalid) => return Ok(invalid.print(args.output)),
    };

    // The database: the given file, or one in a temporary directory removed at the end.
    let temp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| temp.path().join("harmonia.db"));
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&db, SqliteOptions::default())
            .await
            .with_context(|| format!("cannot open the database {}", db.display()))?,
    );
    let dir = args
        .file
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let plans = Arc::new(Plans::new(
        store.clone(),
        TaskTypes::builtin(),
        Some(Arc::new(Beside { dir })),
    ));
    let workflow = match plans.register(&source).await {
        Ok(w) => w,
        Err(RegisterError::Invalid(e)) => {
            let lines: Vec<Value> = e
                .diagnostics()
                .iter()
                .map(|d| Value::String(d.render(&name)))
                .collect();
            return Ok(Invalid {
                code: "invalid_definition",
                message: e.to_string(),
                details: Value::Array(lines),
            }
            .print(args.output));
        }
        Err(RegisterError::Storage(e)) => return Err(e.into()),
    };

    let config = EngineConfig {
        executors: ExecutorConfig {
            allow_shell: args.allow_shell,
            ..ExecutorConfig::default()
        },
        secrets: secrets(),
        ..EngineConfig::default()
    };
    let executors = Executors::builtin(&config.executors);
    let (handle, join) = harmonia_engine::spawn(config, store.clone(), plans, executors).await?;
    let mut events = handle.subscribe();
    let plan = workflow.plan.clone();
    let id = match handle
        .start(StartRequest {
            workflow,
            inputs,
            params: Value::Null,
        })
        .await
    {
        Ok(id) => id,
        Err(e) => {
            handle.shutdown();
            let _ = join.await;
            let invalid = match e {
                EngineError::InvalidInputs(v) => Invalid {
                    code: "invalid_inputs",
                    message: format!(
                        "invalid inputs ({} problem{})",
                        v.len(),
                        if v.len() == 1 { "" } else { "s" }
                    ),
                    details: serde_json::to_value(&v).unwrap_or(Value::Null),
                },
                EngineError::Unrunnable(m) => Invalid {
                    code: "unrunnable",
                    message: m,
                    details: Value::Null,
                },
                other => return Err(other.into()),
            };
            if args.output == Output::Text
                && let Value::Array(v) = &invalid.details
            {
                eprintln!("error: {}", invalid.message);
                for violation in v {
                    let path = violation["path"]
                        .as_str()
                        .filter(|p| !p.is_empty())
                        .unwrap_or("inputs");
                    eprintln!(
                        "  {path}: {} ({})",
                        violation["message"].as_str().unwrap_or(""),
                        violation["keyword"].as_str().unwrap_or("")
                    );
                }
                return Ok(ExitCode::from(2));
            }
            return Ok(invalid.print(args.output));
        }
    };

    let text = args.output == Output::Text;
    let mut progress = Progress::new(&plan, text && std::io::stderr().is_terminal(), text);
    if text {
        eprintln!("running {} (execution {id})", plan.workflow.name);
    }
    let waiting = handle.wait(id);
    tokio::pin!(waiting);
    let mut interrupts = 0;
    let record = loop {
        tokio::select! {
            r = &mut waiting => break r?,
            e = events.recv() => match e {
                Ok(e) if e.execution == id => progress.event(&e.event),
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {}
            },
            _ = tokio::signal::ctrl_c() => {
                interrupts += 1;
                if interrupts > 1 {
                    progress.finish();
                    eprintln!("interrupted again: exiting; `harmonia resume --db` can finish the run when --db was given");
                    return Ok(ExitCode::from(130));
                }
                eprintln!("interrupted: cancelling (press Ctrl-C again to exit at once)");
                let _ = handle.cancel(id, Some("interrupted by the user".into())).await;
            }
        }
    };
    // Events committed with the end may still be in the channel.
    while let Ok(e) = events.try_recv() {
        if e.execution == id {
            progress.event(&e.event);
        }
    }
    progress.finish();
    let report = execution_report(store.as_ref(), id, &plan).await?;
    handle.shutdown();
    let _ = join.await;

    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Text => print_text(&report, progress.elapsed()),
    }
    Ok(if record.status == ExecutionStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_text(report: &Value, elapsed: std::time::Duration) {
    let status = report["status"].as_str().unwrap_or("unknown");
    eprintln!(
        "{status} in {:.2}s (execution {})",
        elapsed.as_secs_f64(),
        report["execution_id"].as_str().unwrap_or("")
    );
    if let Some(message) = report["error"]["message"].as_str() {
        eprintln!("error: {message}");
    }
    if status == "succeeded" {
        println!(
            "{}",
            serde_json::to_string_pretty(&report["outputs"]).unwrap_or_default()
        );
    }
}
