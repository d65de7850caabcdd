//! `harmonia run FILE`: run a workflow locally, durably, and show it.
//!
//! The run uses a SQLite database: a temporary one, or `--db PATH` (which also keeps
//! the history, and lets `harmonia resume` finish a run that was interrupted). Inputs
//! come from `--input-file` (a JSON object) first, then each `--input key=value`
//! overrides a key (the value is JSON when it parses, else a string). Sub-workflows are
//! found in the database, then as `NAME.yaml`/`NAME.json` beside FILE. `--durability`
//! says what the database's commits survive (see `durability`).
//!
//! Output: progress on stderr (a live line on a terminal, plain lines otherwise), then
//! the outputs on stdout; `--output json` prints exactly one JSON document on stdout
//! (see `report`). Exit 0 when the execution succeeded, 1 when it failed or was
//! cancelled, 2 for an invalid definition or inputs. Ctrl-C cancels the execution
//! (a second Ctrl-C exits at once).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use harmonia_app::Error as AppError;
use serde_json::{Map, Value};

use super::durability::Durability;
use super::local::{Invalid, Local, LocalConfig, Output, exit_code, print_report};
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
    /// What a commit survives: `process` (the process being killed) or `fsync` (also a
    /// power loss; slower).
    #[arg(long, value_enum, env = "HARMONIA_DURABILITY", default_value_t = Durability::Process)]
    durability: Durability,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
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

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    super::local::run_to_end(run_async(args))
}

async fn run_async(args: &Args) -> anyhow::Result<ExitCode> {
    let name = args.file.display().to_string();
    let source = match read_source(&args.file) {
        Ok(s) => s,
        Err(e) => {
            return Ok(
                Invalid::new("unreadable_definition", format!("cannot read {name}: {e}"))
                    .print(args.output),
            );
        }
    };
    let inputs = match inputs(args) {
        Ok(i) => i,
        Err(invalid) => return Ok(invalid.print(args.output)),
    };
    let dir = args
        .file
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    // Read before anything is made: a bad `harmonia.toml` changes nothing, and says so
    // in the chosen format.
    let config = match LocalConfig::new(args.allow_shell) {
        Ok(config) => config,
        Err(e) => return Ok(Invalid::new("invalid_config", format!("{e:#}")).print(args.output)),
    };
    // The definition is read and checked on a thread of its own while the store opens
    // and the engine starts: for a large workflow, reading it is the longer of the two.
    let loading = {
        let (source, kinds) = (source.clone(), config.kinds());
        tokio::task::spawn_blocking(move || harmonia_model::load(&source, kinds.task_types()))
    };
    let local = Local::open_with(args.db.as_deref(), args.durability, config, Some(dir)).await?;
    let loaded = loading
        .await
        .context("reading the definition stopped unexpectedly")?;
    // Registering and starting are the use cases the server calls (the file's workflow
    // is stored as a new version when its text changed).
    let workflow = match local.app.workflows().register_loaded(&source, loaded).await {
        Ok(registered) => registered.workflow,
        Err(e) => {
            local.close().await;
            let AppError::InvalidDefinition { diagnostics, .. } = &e else {
                return Err(e.into());
            };
            let lines = diagnostics
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
    };
    let plan = workflow.plan.clone();
    let executions = local.app.executions();
    let origin = harmonia_storage::Origin::new(harmonia_storage::OriginKind::Cli, None);
    let events = local.subscribe();
    let id = match executions.start_version(workflow, inputs, origin).await {
        Ok(started) => started.execution,
        Err(e) => {
            local.close().await;
            return match start_error(e) {
                Ok(invalid) => Ok(invalid.print(args.output)),
                Err(e) => Err(e),
            };
        }
    };
    if args.output == Output::Text {
        crate::output::errln!("running {} (execution {id})", plan.workflow.name);
    }
    let (record, elapsed) = local.watch(id, &plan, args.output, events).await?;
    let report = execution_report(local.store().as_ref(), &record, &plan).await?;
    local.close().await;
    print_report(&report, elapsed, args.output);
    Ok(exit_code(&record))
}

/// The exit-2 error for a start that was refused, or the error itself.
pub(crate) fn start_error(e: AppError) -> anyhow::Result<Invalid> {
    Ok(match e {
        AppError::InvalidInputs(v) => Invalid {
            code: "invalid_inputs",
            message: format!(
                "invalid inputs ({} problem{})",
                v.len(),
                if v.len() == 1 { "" } else { "s" }
            ),
            details: serde_json::to_value(&v).unwrap_or(Value::Null),
        },
        AppError::Unrunnable(m) => Invalid::new("unrunnable", m),
        other => return Err(other.into()),
    })
}
