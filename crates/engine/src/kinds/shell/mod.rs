//! `shell`: runs a process per attempt (only when the configuration allows `shell`).
//!
//! Parameters (their schema is in [`Shell::describe`]; they arrive evaluated, so
//! the types this file relies on are checked again and a wrong one is a `validation`
//! error naming the parameter):
//! - `argv`: the program and its arguments, run directly (no shell); numbers and booleans
//!   are passed as their text; or `script`: a script run by `/bin/sh -c`;
//! - `env`: variables added to the engine's environment (numbers and booleans as text);
//! - `cwd`: the working directory (default: the engine's);
//! - `stdin`: text written to the process, after which its stdin is closed (without it,
//!   stdin is `/dev/null`).
//!
//! Output: `{exit_code, stdout, stderr, json, stdout_truncated, stderr_truncated}`. `json`
//! is stdout parsed as JSON when it parses (and was not truncated), else `null`. stdout and
//! stderr are read concurrently, each kept up to the executor's `max_output_bytes` and
//! drained past it (the process never blocks on a full pipe); a cut stream is flagged
//! rather than failing the task. Invalid UTF-8 is replaced.
//!
//! Errors, by class: a non-zero exit (or death by a signal, reported as `128 + signal`) is
//! `exit_code`, its message giving the code and the last lines of stderr and its
//! `details` the output above; the attempt's `timeout` passing is `timeout` and the token
//! being cancelled is `cancelled` (both with the output so far in `details`); a process
//! that cannot be started (program not found or not executable, `cwd` missing) is
//! `validation`, naming what is missing.
//!
//! Invariants:
//! - the process leads its own process group (`process_group(0)`), and the attempt owns
//!   the group: on timeout or cancellation the group is killed with SIGKILL and the
//!   process reaped before the executor returns; when the process exits by itself, what is
//!   left of its group (background jobs) is killed too, so no process of an attempt
//!   outlives it. A process that leaves the group on purpose (`setsid`) escapes this; if it
//!   keeps stdout or stderr open, reading stops `DRAIN_GRACE` (2 s, in `process`) after
//!   the exit;
//! - if the executor's future is dropped mid-run, a guard kills the group;
//! - nothing blocks the async runtime: `tokio::process`, async pipes, and large JSON
//!   parsed on a blocking thread;
//! - messages name the program (`argv[0]`, or `sh -c` for a script), never its arguments or
//!   environment, which may hold secrets.
//!
//! Layout, one concept per file: this file holds the kind (what it says about itself,
//! whether it may run, and an attempt from parameters to result); `spec` checks the
//! parameters into a `Spec`; `process` spawns the process in its group, waits for it and
//! kills and reaps what is left; `pipes` writes stdin and keeps what stdout and stderr
//! say; `outcome` turns the ended process into the output or an error; `tests` runs it
//! all with real processes.

mod outcome;
mod pipes;
mod process;
mod spec;
#[cfg(test)]
mod tests;

use async_trait::async_trait;
use harmonia_model::{ErrorClass, ParamProblem};
use serde_json::{Value, json};

use super::call::Call;
use super::kind::{Description, Run, Spawned, TaskKind};
use crate::event::TaskError;
use spec::Spec;

/// The `shell` kind.
#[derive(Debug)]
pub struct Shell {
    max_output_bytes: usize,
    allowed: bool,
}

impl Shell {
    /// A kind keeping at most `max_output_bytes` of stdout and of stderr, that runs
    /// only when `allowed`.
    pub fn new(max_output_bytes: usize, allowed: bool) -> Shell {
        Shell {
            max_output_bytes,
            allowed,
        }
    }
}

impl TaskKind for Shell {
    fn name(&self) -> &'static str {
        "shell"
    }

    fn describe(&self) -> Description {
        Description {
            summary: "Runs a process (`argv`) or a `script` with `sh -c`; the output is `{exit_code, stdout, stderr, json}`.",
            params: json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "argv": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    "script": {"type": "string", "minLength": 1},
                    "env": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                    "cwd": {"type": "string", "minLength": 1},
                    "stdin": {"type": "string"}
                }
            }),
            output: json!({
                "type": "object",
                "properties": {
                    "exit_code": {"type": "integer"},
                    "stdout": {"type": "string"},
                    "stderr": {"type": "string"},
                    "json": {"description": "stdout parsed as JSON when it parses, else null."},
                    "stdout_truncated": {"type": "boolean"},
                    "stderr_truncated": {"type": "boolean"}
                }
            }),
            check: Some(check),
            deferred: Vec::new(),
        }
    }

    fn run(&self) -> Run<'_> {
        Run::Spawned(self)
    }

    fn unavailable(&self) -> Option<String> {
        (!self.allowed).then(|| {
            "shell tasks are disabled: enable them with `--allow-shell`, `HARMONIA_ALLOW_SHELL=true`, or `allow_shell = true` in the config file".to_string()
        })
    }
}

/// Exactly one of `argv` and `script`.
fn check(with: &Value) -> Vec<ParamProblem> {
    let argv = with.get("argv").is_some();
    let script = with.get("script").is_some();
    let message = match (argv, script) {
        (true, true) => "set either `argv` or `script`, not both",
        (false, false) => "missing the command: set `argv` (a list) or `script` (run by `sh -c`)",
        _ => return Vec::new(),
    };
    vec![ParamProblem {
        pointer: String::new(),
        message: message.into(),
        span: None,
    }]
}

#[async_trait]
impl Spawned for Shell {
    async fn execute(&self, call: Call) -> Result<Value, TaskError> {
        if let Some(why) = self.unavailable() {
            return Err(TaskError::new(ErrorClass::Validation, why));
        }
        let spec = Spec::parse(&call.params)?;
        if call.cancel.is_cancelled() {
            return Err(TaskError::new(
                ErrorClass::Cancelled,
                format!("`{}` was cancelled before it started", spec.shown),
            ));
        }
        spec.check_cwd().await?;
        let finished = process::run(&spec, &call, self.max_output_bytes).await?;
        outcome::outcome(&spec.shown, finished).await
    }
}
