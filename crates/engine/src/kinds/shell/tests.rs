//! Tests of the `shell` executor with real processes (`sh`, coreutils), and unit tests of
//! the pure helpers.
//!
//! Invariants: a process a test leaves running on purpose (a background job, an escaped
//! `setsid`) is checked gone through `/proc` (a zombie counting as gone), or killed by the
//! test; waits are on events (a pid written to a file) rather than guessed delays, and
//! time limits are generous bounds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::outcome::{STDERR_CHARS, last_lines};
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
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| matches!(rest.trim_start().chars().next(), Some('Z' | 'X'))),
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
