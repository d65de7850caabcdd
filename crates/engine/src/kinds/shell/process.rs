//! The process of an attempt: spawning it in its own process group, serving its pipes
//! while waiting for it to exit, for the deadline or for cancellation, then killing what
//! is left of its group and reaping it.
//!
//! Invariants:
//! - the process leads its own process group (`process_group(0)`), and the attempt owns
//!   the group: however the wait ends, the group is killed with SIGKILL before [`run`]
//!   returns, so no process of the group (background jobs included) outlives the attempt;
//!   only a process that left the group on purpose (`setsid`) escapes. A process killed
//!   on timeout or cancellation is reaped, waiting at most [`REAP_GRACE`];
//! - if the future of [`run`] is dropped mid-run, a guard ([`Group`]) kills the group;
//! - the group is killed while its leader is not yet reaped, so its id cannot have been
//!   reused;
//! - stdin is written and stdout and stderr are read concurrently with the wait; after the
//!   group is killed, reading goes on for at most [`DRAIN_GRACE`] (a process that left the
//!   group with `setsid` may keep the pipes open);
//! - the process does not inherit the server's secrets (`HARMONIA_SECRET_*`) nor its
//!   `HARMONIA_TOKEN`: a task passes what it needs through `env`;
//! - a process that cannot be started is a `validation` error naming the program (never
//!   its arguments) and saying why (no such file, not on the PATH, permission denied).

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::pipes::{Capture, write_stdin};
use super::spec::Spec;
use crate::event::TaskError;
use crate::kinds::call::Call;
use crate::kinds::params::invalid;

/// How long pipes are still read after the process ended and its group was killed.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How long reaping a killed process may take before it is left to tokio's reaper.
const REAP_GRACE: Duration = Duration::from_secs(5);

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

/// The prefix of the environment variables that hold the server's secrets.
const SECRET_PREFIX: &str = "HARMONIA_SECRET_";

/// How the wait for the process ended.
pub(super) enum End {
    Exited(std::io::Result<ExitStatus>),
    TimedOut(Duration),
    Cancelled,
}

/// A process that has run: how the wait ended, and what was read from its stdout and
/// stderr.
pub(super) struct Finished {
    pub(super) end: End,
    pub(super) out: Capture,
    pub(super) err: Capture,
}

/// Runs `spec`'s process under `call`'s deadline and cancellation, keeping at most
/// `limit` bytes of stdout and of stderr.
pub(super) async fn run(spec: &Spec, call: &Call, limit: usize) -> Result<Finished, TaskError> {
    let mut cmd = tokio::process::Command::new(&spec.program);
    // The server's secrets are not the process's: a task passes the ones it needs
    // through `env` (`${ $secrets.NAME }`), where they are masked in what it reports.
    for (name, _) in std::env::vars_os() {
        if name
            .to_str()
            .is_some_and(|n| n.starts_with(SECRET_PREFIX) || n == "HARMONIA_TOKEN")
        {
            cmd.env_remove(&name);
        }
    }
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
    let mut child = cmd.spawn().map_err(|e| spawn_error(&spec.program, &e))?;
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
    Ok(Finished { end, out, err })
}

/// Why `program` could not be started, as a `validation` error naming it.
fn spawn_error(program: &str, e: &std::io::Error) -> TaskError {
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

/// The exit code (`128 + signal` for a process killed by a signal) and the signal.
pub(super) fn exit_code(status: ExitStatus) -> (i32, Option<i32>) {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => (code, None),
        (None, Some(sig)) => (128 + sig, Some(sig)),
        (None, None) => (-1, None),
    }
}
