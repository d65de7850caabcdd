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
//!   keeps stdout or stderr open, reading stops [`DRAIN_GRACE`] after the exit;
//! - if the executor's future is dropped mid-run, a guard kills the group;
//! - nothing blocks the async runtime: `tokio::process`, async pipes, and large JSON
//!   parsed on a blocking thread;
//! - messages name the program (`argv[0]`, or `sh -c` for a script), never its arguments or
//!   environment, which may hold secrets.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use async_trait::async_trait;
use harmonia_model::ErrorClass;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::call::Call;
use super::kind::{Description, Run, Spawned, TaskKind};
use super::params::{describe, invalid, scalar_text};
use crate::event::TaskError;
use harmonia_model::ParamProblem;

/// How long pipes are still read after the process ended and its group was killed.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How long reaping a killed process may take before it is left to tokio's reaper.
const REAP_GRACE: Duration = Duration::from_secs(5);
/// The most lines of stderr quoted in the message of an `exit_code` error.
const STDERR_LINES: usize = 5;
/// The most characters of stderr quoted in the message of an `exit_code` error.
const STDERR_CHARS: usize = 1000;
/// Outputs larger than this are parsed on a blocking thread.
const PARSE_INLINE_BYTES: usize = 256 * 1024;
/// The parameters `shell` knows.
const PARAMETERS: [&str; 5] = ["argv", "script", "env", "cwd", "stdin"];

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
        self.run(&spec, &call).await
    }
}

/// The parameters, checked. No `Debug`: arguments and variables may hold secrets.
struct Spec {
    program: String,
    args: Vec<String>,
    /// The program as messages name it.
    shown: String,
    env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
    stdin: Option<String>,
}

impl Spec {
    fn parse(params: &Value) -> Result<Spec, TaskError> {
        let Some(p) = params.as_object() else {
            return Err(invalid(
                "the parameters of `shell` must be an object with `argv` (a list) or `script`",
            ));
        };
        if let Some(unknown) = p.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
            return Err(invalid(format!(
                "unknown parameter `{unknown}` (expected one of {})",
                PARAMETERS.join(", ")
            )));
        }
        let (program, args, shown) = match (p.get("argv"), p.get("script")) {
            (Some(_), Some(_)) => return Err(invalid("set either `argv` or `script`, not both")),
            (None, None) => {
                return Err(invalid(
                    "missing the command: set `argv` (a list) or `script` (run by `sh -c`)",
                ));
            }
            (Some(Value::Array(items)), None) => {
                let mut words = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let w = scalar_text(item).ok_or_else(|| {
                        invalid(format!(
                            "`argv[{i}]` must be a string, number or boolean, found {}",
                            describe(item)
                        ))
                    })?;
                    if w.contains('\0') {
                        return Err(invalid(format!("`argv[{i}]` contains a NUL character")));
                    }
                    words.push(w);
                }
                let mut words = words.into_iter();
                let Some(program) = words.next().filter(|p| !p.is_empty()) else {
                    return Err(invalid("`argv` must start with the program to run"));
                };
                let shown = program.clone();
                (program, words.collect(), shown)
            }
            (Some(other), None) => {
                return Err(invalid(format!(
                    "`argv` must be a list (the program, then its arguments), found {}",
                    describe(other)
                )));
            }
            (None, Some(Value::String(script))) => {
                if script.contains('\0') {
                    return Err(invalid("`script` contains a NUL character"));
                }
                (
                    "/bin/sh".to_string(),
                    vec!["-c".to_string(), script.clone()],
                    "sh -c".to_string(),
                )
            }
            (None, Some(other)) => {
                return Err(invalid(format!(
                    "`script` must be a string, found {}",
                    describe(other)
                )));
            }
        };

        let mut env = Vec::new();
        match p.get("env") {
            None | Some(Value::Null) => {}
            Some(Value::Object(vars)) => {
                for (k, v) in vars {
                    if k.is_empty() || k.contains('=') || k.contains('\0') {
                        return Err(invalid(format!(
                            "`env`: `{k}` is not a valid variable name"
                        )));
                    }
                    let text = scalar_text(v).ok_or_else(|| {
                        invalid(format!(
                            "`env.{k}` must be a string, number or boolean, found {}",
                            describe(v)
                        ))
                    })?;
                    if text.contains('\0') {
                        return Err(invalid(format!("`env.{k}` contains a NUL character")));
                    }
                    env.push((k.clone(), text));
                }
            }
            Some(other) => {
                return Err(invalid(format!(
                    "`env` must be an object, found {}",
                    describe(other)
                )));
            }
        }

        let cwd = match p.get("cwd") {
            None | Some(Value::Null) => None,
            Some(Value::String(c)) if !c.is_empty() => Some(PathBuf::from(c)),
            Some(other) => {
                return Err(invalid(format!(
                    "`cwd` must be a directory path, found {}",
                    describe(other)
                )));
            }
        };

        let stdin = match p.get("stdin") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(invalid(format!(
                    "`stdin` must be a string, found {}",
                    describe(other)
                )));
            }
        };

        Ok(Spec {
            program,
            args,
            shown,
            env,
            cwd,
            stdin,
        })
    }

    /// A missing `cwd` would make spawning fail with the same error as a missing program;
    /// checking first lets the message say which.
    async fn check_cwd(&self) -> Result<(), TaskError> {
        let Some(cwd) = &self.cwd else {
            return Ok(());
        };
        match tokio::fs::metadata(cwd).await {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(invalid(format!(
                "`cwd` {} is not a directory",
                cwd.display()
            ))),
            Err(e) => Err(invalid(format!(
                "`cwd` {} cannot be used: {e}",
                cwd.display()
            ))),
        }
    }

    fn spawn_error(&self, e: &std::io::Error) -> TaskError {
        let program = &self.program;
        let why = match e.kind() {
            std::io::ErrorKind::NotFound if program.contains('/') => "no such file".to_string(),
            std::io::ErrorKind::NotFound => "no such program on the PATH".to_string(),
            std::io::ErrorKind::PermissionDenied => {
                "permission denied (is it an executable file?)".to_string()
            }
            _ => e.to_string(),
        };
        invalid(format!("cannot start `{program}`: {why}"))
    }
}

/// What was read from one pipe.
#[derive(Debug, Default)]
struct Capture {
    bytes: Vec<u8>,
    truncated: bool,
}

impl Capture {
    /// Reads `pipe` to its end, keeping up to `limit` bytes and discarding the rest.
    async fn read_from<R: AsyncRead + Unpin>(&mut self, pipe: Option<R>, limit: usize) {
        let Some(mut pipe) = pipe else {
            return;
        };
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match pipe.read(&mut buf).await {
                Ok(0) => return,
                Ok(n) => {
                    let room = limit.saturating_sub(self.bytes.len());
                    let take = n.min(room);
                    self.bytes.extend_from_slice(&buf[..take]);
                    if take < n {
                        self.truncated = true;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// The text, without a character cut in half at the end of a truncated stream.
    fn text(&self) -> String {
        match std::str::from_utf8(&self.bytes) {
            Ok(s) => s.to_string(),
            Err(e) if self.truncated && e.error_len().is_none() => {
                String::from_utf8_lossy(&self.bytes[..e.valid_up_to()]).into_owned()
            }
            Err(_) => String::from_utf8_lossy(&self.bytes).into_owned(),
        }
    }
}

/// Writes `data` to the process's stdin, then closes it. A process that does not read
/// all of it (a broken pipe) is not an error.
async fn write_stdin(pipe: Option<tokio::process::ChildStdin>, data: Option<&str>) {
    if let (Some(mut pipe), Some(data)) = (pipe, data) {
        let _ = pipe.write_all(data.as_bytes()).await;
        let _ = pipe.shutdown().await;
    }
}

/// The process group of a running attempt; killed when dropped while armed.
#[derive(Debug)]
struct Group {
    pgid: Pid,
    armed: bool,
}

impl Group {
    /// Sends SIGKILL to every process of the group. A group that is already gone
    /// (`ESRCH`) is fine.
    fn kill(&self) {
        let _ = killpg(self.pgid, Signal::SIGKILL);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.armed {
            self.kill();
        }
    }
}

/// How the wait for the process ended.
enum End {
    Exited(std::io::Result<ExitStatus>),
    TimedOut(Duration),
    Cancelled,
}

impl Shell {
    async fn run(&self, spec: &Spec, call: &Call) -> Result<Value, TaskError> {
        let mut cmd = tokio::process::Command::new(&spec.program);
        cmd.args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(if spec.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(cwd) = &spec.cwd {
            cmd.current_dir(cwd);
        }
        let mut child = cmd.spawn().map_err(|e| spec.spawn_error(&e))?;
        let pgid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        // Declared after `child`, so dropped before it: the group dies while its
        // leader is not yet reaped (its id cannot have been reused).
        let mut group = pgid.map(|pgid| Group { pgid, armed: true });

        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut out = Capture::default();
        let mut err = Capture::default();
        let limit = self.max_output_bytes;

        let end = {
            let io = async {
                tokio::join!(
                    write_stdin(stdin, spec.stdin.as_deref()),
                    out.read_from(stdout, limit),
                    err.read_from(stderr, limit),
                );
            };
            tokio::pin!(io);
            let deadline = async {
                match call.timeout {
                    Some(t) => {
                        tokio::time::sleep(t).await;
                        t
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(deadline);
            let mut io_done = false;
            let end = loop {
                tokio::select! {
                    biased;
                    () = call.cancel.cancelled() => break End::Cancelled,
                    t = &mut deadline => break End::TimedOut(t),
                    status = child.wait() => break End::Exited(status),
                    () = &mut io, if !io_done => io_done = true,
                }
            };
            // The attempt is over: nothing of its group may outlive it.
            if let Some(g) = &group {
                g.kill();
            }
            if !matches!(end, End::Exited(_)) {
                // Killed with SIGKILL, it ends at once (unless stuck in the kernel).
                let _ = tokio::time::timeout(REAP_GRACE, child.wait()).await;
            }
            if let Some(g) = group.as_mut() {
                g.armed = false;
            }
            if !io_done {
                // Every writer of the pipes is dead, unless it left the group.
                let _ = tokio::time::timeout(DRAIN_GRACE, &mut io).await;
            }
            end
        };

        let stdout_text = out.text();
        let stderr_text = err.text();
        let base = |exit_code: Option<i32>, json: Value| {
            json!({
                "exit_code": exit_code,
                "stdout": stdout_text,
                "stderr": stderr_text,
                "json": json,
                "stdout_truncated": out.truncated,
                "stderr_truncated": err.truncated,
            })
        };
        let shown = &spec.shown;
        let status = match end {
            End::Cancelled => {
                return Err(TaskError::new(
                    ErrorClass::Cancelled,
                    format!("`{shown}` was cancelled; its process group was killed"),
                )
                .with_details(base(None, Value::Null)));
            }
            End::TimedOut(t) => {
                return Err(TaskError::new(
                    ErrorClass::Timeout,
                    format!("`{shown}` did not finish within {t:?}; its process group was killed"),
                )
                .with_details(base(None, Value::Null)));
            }
            End::Exited(Err(e)) => {
                return Err(invalid(format!("cannot wait for `{shown}`: {e}")));
            }
            End::Exited(Ok(status)) => status,
        };

        let (code, signal) = exit_code(status);
        let parsed = if out.truncated {
            Value::Null
        } else {
            parse_json(out.bytes.clone()).await
        };
        let output = base(Some(code), parsed);
        if code == 0 {
            return Ok(output);
        }
        let how = match signal {
            Some(sig) => format!(
                "was killed by signal {sig}{}",
                Signal::try_from(sig)
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default()
            ),
            None => format!("exited with code {code}"),
        };
        let tail = last_lines(&stderr_text);
        let message = if tail.is_empty() {
            format!("`{shown}` {how} (stderr is empty)")
        } else {
            format!("`{shown}` {how}: {tail}")
        };
        Err(TaskError::new(ErrorClass::ExitCode, message).with_details(output))
    }
}

/// The exit code (`128 + signal` for a process killed by a signal) and the signal.
fn exit_code(status: ExitStatus) -> (i32, Option<i32>) {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => (code, None),
        (None, Some(sig)) => (128 + sig, Some(sig)),
        (None, None) => (-1, None),
    }
}

/// The last lines of stderr, for a message.
fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(STDERR_LINES)..].join("\n");
    let count = tail.chars().count();
    if count > STDERR_CHARS {
        let skip = count - STDERR_CHARS;
        format!("…{}", tail.chars().skip(skip).collect::<String>())
    } else {
        tail
    }
}

/// stdout as JSON, or `null`; large outputs are parsed on a blocking thread.
async fn parse_json(bytes: Vec<u8>) -> Value {
    fn parse(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap_or(Value::Null)
    }
    if bytes.len() <= PARSE_INLINE_BYTES {
        return parse(&bytes);
    }
    tokio::task::spawn_blocking(move || parse(&bytes))
        .await
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use tokio_util::sync::CancellationToken;

    use super::*;

    fn call_with(params: Value, timeout: Option<Duration>, cancel: CancellationToken) -> Call {
        Call::for_test("build", params, timeout, cancel)
    }

    fn call(params: Value) -> Call {
        call_with(
            params,
            Some(Duration::from_secs(60)),
            CancellationToken::new(),
        )
    }

    fn executor() -> Shell {
        Shell::new(1024 * 1024, true)
    }

    /// Whether a process is gone: no such process, or a zombie waiting for a parent
    /// (which may be an init that does not reap) to collect it.
    fn is_gone(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            // The state follows the command name, which is in parentheses.
            Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| {
                matches!(rest.trim_start().chars().next(), Some('Z' | 'X'))
            }),
        }
    }

    /// Waits (polling, with a generous deadline) until `path` holds a pid.
    async fn read_pid(path: &std::path::Path) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(path)
                && let Ok(pid) = text.trim().parse()
            {
                return pid;
            }
            assert!(Instant::now() < deadline, "no pid in {}", path.display());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (polling, with a generous deadline) until `pid` is gone.
    async fn assert_gone(pid: i32) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !is_gone(pid) {
            assert!(Instant::now() < deadline, "process {pid} survived");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn argv_runs_the_program_without_a_shell() {
        let out = executor()
            .execute(call(
                json!({"argv": ["printf", "%s|%s|%s", "a b", "$HOME", 3]}),
            ))
            .await
            .expect("ok");
        assert_eq!(
            out,
            json!({
                "exit_code": 0,
                "stdout": "a b|$HOME|3",
                "stderr": "",
                "json": null,
                "stdout_truncated": false,
                "stderr_truncated": false,
            })
        );
    }

    #[tokio::test]
    async fn scripts_run_in_sh_with_both_streams_captured() {
        let out = executor()
            .execute(call(
                json!({"script": "echo hello; echo oops >&2; echo $((1 + 2))"}),
            ))
            .await
            .expect("ok");
        assert_eq!(out["stdout"], json!("hello\n3\n"));
        assert_eq!(out["stderr"], json!("oops\n"));
        assert_eq!(out["exit_code"], json!(0));
    }

    #[tokio::test]
    async fn env_is_added_to_the_environment() {
        let out = executor()
            .execute(call(json!({
                "script": "echo \"$GREETING $COUNT $FLAG\"; test -n \"$PATH\" && echo inherited",
                "env": {"GREETING": "hi there", "COUNT": 3, "FLAG": true},
            })))
            .await
            .expect("ok");
        assert_eq!(out["stdout"], json!("hi there 3 true\ninherited\n"));
    }

    #[tokio::test]
    async fn cwd_sets_the_working_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().canonicalize().expect("canonical");
        let out = executor()
            .execute(call(json!({"argv": ["pwd", "-P"], "cwd": dir.path()})))
            .await
            .expect("ok");
        assert_eq!(out["stdout"], json!(format!("{}\n", real.display())));
    }

    #[tokio::test]
    async fn stdin_is_written_to_the_process() {
        let out = executor()
            .execute(call(
                json!({"argv": ["tr", "a-z", "A-Z"], "stdin": "hello\nworld"}),
            ))
            .await
            .expect("ok");
        assert_eq!(out["stdout"], json!("HELLO\nWORLD"));
        // Without `stdin`, the process reads an empty input rather than waiting.
        let out = executor()
            .execute(call(json!({"argv": ["cat"]})))
            .await
            .expect("ok");
        assert_eq!(out["stdout"], json!(""));
    }

    #[tokio::test]
    async fn large_input_and_output_do_not_deadlock() {
        // Far more than a pipe buffer each way: the writer and both readers must run
        // concurrently, or cat blocks writing while we block writing.
        let input = "0123456789abcdef\n".repeat(64 * 1024);
        let out = Shell::new(4 * 1024 * 1024, true)
            .execute(call(
                json!({"script": "cat; cat >&2 </dev/null", "stdin": input}),
            ))
            .await
            .expect("ok");
        assert_eq!(out["stdout"].as_str().map(str::len), Some(input.len()));
    }

    #[tokio::test]
    async fn json_on_stdout_is_parsed() {
        let e = executor();
        let out = e
            .execute(call(json!({"script": "echo '{\"files\": [1, 2]}'"})))
            .await
            .expect("ok");
        assert_eq!(out["json"], json!({"files": [1, 2]}));
        let out = e
            .execute(call(json!({"script": "echo not json"})))
            .await
            .expect("ok");
        assert_eq!(out["json"], Value::Null);
        let out = e
            .execute(call(json!({"script": "true"})))
            .await
            .expect("ok");
        assert_eq!(out["json"], Value::Null);
    }

    #[tokio::test]
    async fn a_non_zero_exit_is_an_exit_code_error_with_the_last_lines_of_stderr() {
        let err = executor()
            .execute(call(json!({
                "script": "echo partial; for i in 1 2 3 4 5 6 7; do echo line$i >&2; done; exit 3"
            })))
            .await
            .expect_err("exit 3");
        assert_eq!(err.class, ErrorClass::ExitCode);
        assert_eq!(
            err.message,
            "`sh -c` exited with code 3: line3\nline4\nline5\nline6\nline7"
        );
        let d = err.details.expect("details");
        assert_eq!(d["exit_code"], json!(3));
        assert_eq!(d["stdout"], json!("partial\n"));
        assert!(
            d["stderr"]
                .as_str()
                .is_some_and(|s| s.starts_with("line1\n"))
        );

        let err = executor()
            .execute(call(json!({"argv": ["false"]})))
            .await
            .expect_err("exit 1");
        assert_eq!(err.message, "`false` exited with code 1 (stderr is empty)");
    }

    #[tokio::test]
    async fn death_by_a_signal_is_an_exit_code_error() {
        let err = executor()
            .execute(call(json!({"script": "kill -TERM $$"})))
            .await
            .expect_err("killed");
        assert_eq!(err.class, ErrorClass::ExitCode);
        assert_eq!(err.details.expect("details")["exit_code"], json!(128 + 15));
        assert!(
            err.message.contains("killed by signal 15 (SIGTERM)"),
            "{}",
            err.message
        );
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid_file = dir.path().join("pid");
        let started = Instant::now();
        let err = executor()
            .execute(call_with(
                json!({
                    "script": "sleep 300 & echo $! > \"$PID_FILE\"; echo started; wait",
                    "env": {"PID_FILE": pid_file.display().to_string()},
                }),
                Some(Duration::from_secs(2)),
                CancellationToken::new(),
            ))
            .await
            .expect_err("timeout");
        assert_eq!(err.class, ErrorClass::Timeout);
        assert_eq!(
            err.message,
            "`sh -c` did not finish within 2s; its process group was killed"
        );
        assert_eq!(err.details.expect("details")["stdout"], json!("started\n"));
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{:?}",
            started.elapsed()
        );
        // The grandchild, which would sleep 300 s, is gone too.
        assert_gone(read_pid(&pid_file).await).await;
    }

    #[tokio::test]
    async fn cancellation_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid_file = dir.path().join("pid");
        let cancel = CancellationToken::new();
        let exec = Arc::new(executor());
        let c = call_with(
            json!({
                "script": "sleep 300 & echo $! > \"$PID_FILE\"; wait",
                "env": {"PID_FILE": pid_file.display().to_string()},
            }),
            None,
            cancel.clone(),
        );
        let running = tokio::spawn({
            let exec = exec.clone();
            async move { exec.execute(c).await }
        });
        // Cancel once the grandchild exists, not after a guessed delay.
        let grandchild = read_pid(&pid_file).await;
        let started = Instant::now();
        cancel.cancel();
        let err = running.await.expect("joined").expect_err("cancelled");
        assert_eq!(err.class, ErrorClass::Cancelled);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{:?}",
            started.elapsed()
        );
        assert_gone(grandchild).await;
        // A token cancelled beforehand starts nothing.
        let err = exec
            .execute(call_with(json!({"argv": ["true"]}), None, cancel))
            .await
            .expect_err("cancelled");
        assert_eq!(err.class, ErrorClass::Cancelled);
    }

    #[tokio::test]
    async fn background_jobs_do_not_outlive_the_attempt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid_file = dir.path().join("pid");
        let started = Instant::now();
        // The job holds stdout open: without killing it, reading would wait 300 s.
        let out = executor()
            .execute(call(json!({
                "script": "sleep 300 & echo $! > \"$PID_FILE\"; echo done",
                "env": {"PID_FILE": pid_file.display().to_string()},
            })))
            .await
            .expect("ok");
        assert_eq!(out["stdout"], json!("done\n"));
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{:?}",
            started.elapsed()
        );
        assert_gone(read_pid(&pid_file).await).await;
    }

    #[tokio::test]
    async fn a_process_that_left_the_group_cannot_hold_the_attempt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid_file = dir.path().join("pid");
        let started = Instant::now();
        let out = executor()
            .execute(call(json!({
                "script": "setsid sh -c 'echo $$ > \"$PID_FILE\"; exec sleep 300' & \
                    while [ ! -s \"$PID_FILE\" ]; do sleep 0.05; done; echo done",
                "env": {"PID_FILE": pid_file.display().to_string()},
            })))
            .await
            .expect("ok");
        assert_eq!(out["stdout"], json!("done\n"));
        // Reading stopped DRAIN_GRACE after the exit.
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{:?}",
            started.elapsed()
        );
        let escaped = read_pid(&pid_file).await;
        let _ = nix::sys::signal::kill(Pid::from_raw(escaped), Signal::SIGKILL);
        assert_gone(escaped).await;
    }

    #[tokio::test]
    async fn output_beyond_the_limit_is_cut_and_flagged() {
        let out = Shell::new(1000, true)
            .execute(call(json!({
                "script": "head -c 200000 /dev/zero | tr '\\0' a; echo short >&2"
            })))
            .await
            .expect("ok");
        assert_eq!(out["stdout"].as_str().map(str::len), Some(1000));
        assert_eq!(out["stdout_truncated"], json!(true));
        assert_eq!(out["stderr"], json!("short\n"));
        assert_eq!(out["stderr_truncated"], json!(false));
        assert_eq!(out["json"], Value::Null);
        // A multi-byte character cut in half at the limit is dropped, not mangled.
        let out = Shell::new(5, true)
            .execute(call(json!({"argv": ["printf", "abcdé"]})))
            .await
            .expect("ok");
        assert_eq!(out["stdout"], json!("abcd"));
    }

    #[tokio::test]
    async fn a_program_that_cannot_start_is_a_validation_error_naming_it() {
        let e = executor();
        let err = e
            .execute(call(json!({"argv": ["harmonia-no-such-program", "x"]})))
            .await
            .expect_err("missing");
        assert_eq!(err.class, ErrorClass::Validation);
        assert_eq!(
            err.message,
            "cannot start `harmonia-no-such-program`: no such program on the PATH"
        );
        let err = e
            .execute(call(json!({"argv": ["/nonexistent/prog"]})))
            .await
            .expect_err("missing");
        assert_eq!(
            err.message,
            "cannot start `/nonexistent/prog`: no such file"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let err = e
            .execute(call(json!({"argv": [dir.path()]})))
            .await
            .expect_err("a directory");
        assert!(err.message.contains("permission denied"), "{}", err.message);
        let missing = dir.path().join("gone");
        let err = e
            .execute(call(json!({"script": "true", "cwd": missing})))
            .await
            .expect_err("no cwd");
        assert_eq!(err.class, ErrorClass::Validation);
        assert!(
            err.message
                .starts_with(&format!("`cwd` {} cannot be used", missing.display())),
            "{}",
            err.message
        );
    }

    #[tokio::test]
    async fn wrong_parameters_are_validation_errors_naming_the_parameter() {
        let e = executor();
        let cases = [
            (json!("ls"), "parameters of `shell`"),
            (json!({}), "set `argv` (a list) or `script`"),
            (
                json!({"argv": ["a"], "script": "b"}),
                "either `argv` or `script`",
            ),
            (json!({"argv": "ls -l"}), "`argv` must be a list"),
            (json!({"argv": []}), "`argv` must start with the program"),
            (json!({"argv": ["ls", {"a": 1}]}), "`argv[1]` must be"),
            (json!({"script": ["ls"]}), "`script` must be a string"),
            (
                json!({"script": "true", "env": {"A": null}}),
                "`env.A` must be",
            ),
            (
                json!({"script": "true", "env": {"A=B": "x"}}),
                "`A=B` is not a valid variable name",
            ),
            (
                json!({"script": "true", "env": ["A"]}),
                "`env` must be an object",
            ),
            (json!({"script": "true", "cwd": 3}), "`cwd` must be"),
            (
                json!({"script": "true", "stdin": {"a": 1}}),
                "`stdin` must be a string",
            ),
            (
                json!({"script": "true", "shell": "bash"}),
                "unknown parameter `shell`",
            ),
        ];
        for (params, wanted) in cases {
            let err = e.execute(call(params.clone())).await.expect_err("invalid");
            assert_eq!(err.class, ErrorClass::Validation, "{params}");
            assert!(err.message.contains(wanted), "{params}: {}", err.message);
        }
    }

    #[test]
    fn last_lines_keep_the_end() {
        assert_eq!(last_lines("a\n\nb\n  \nc\n"), "a\nb\nc");
        assert_eq!(last_lines(""), "");
        let long = "x".repeat(3000);
        let tail = last_lines(&long);
        assert_eq!(tail.chars().count(), STDERR_CHARS + 1);
        assert!(tail.starts_with('…'));
    }
}
