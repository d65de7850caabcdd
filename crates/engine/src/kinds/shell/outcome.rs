//! What an attempt returns once its process has run: the output, or the error of its
//! class with the output in its `details`.
//!
//! Invariants:
//! - the output is always `{exit_code, stdout, stderr, json, stdout_truncated,
//!   stderr_truncated}`; `exit_code` is `null` when the process was killed by the attempt
//!   (timeout, cancellation), and `json` is `null` unless the process exited (with any
//!   code) and its whole stdout parses as JSON;
//! - exit code 0 is success; any other (`128 + signal` for a death by a signal) is an
//!   `exit_code` error whose message quotes at most [`STDERR_LINES`] lines and
//!   [`STDERR_CHARS`] characters of the end of stderr;
//! - messages name the program as `Spec::shown` does (`argv[0]`, or `sh -c`), never its
//!   arguments or environment;
//! - stdout larger than `PARSE_INLINE_BYTES` is parsed on a blocking thread, so the async
//!   runtime is never blocked.

use harmonia_model::ErrorClass;
use nix::sys::signal::Signal;
use serde_json::{Value, json};

use super::process::{End, Finished, exit_code};
use crate::event::TaskError;
use crate::kinds::params::invalid;

/// The most lines of stderr quoted in the message of an `exit_code` error.
const STDERR_LINES: usize = 5;
/// The most characters of stderr quoted in the message of an `exit_code` error.
pub(super) const STDERR_CHARS: usize = 1000;
/// Outputs larger than this are parsed on a blocking thread.
const PARSE_INLINE_BYTES: usize = 256 * 1024;

/// The result of the attempt whose process (named `shown` in messages) ended as
/// `finished` says.
pub(super) async fn outcome(shown: &str, finished: Finished) -> Result<Value, TaskError> {
    let Finished { end, out, err } = finished;
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

/// The last lines of stderr, for a message.
pub(super) fn last_lines(text: &str) -> String {
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
