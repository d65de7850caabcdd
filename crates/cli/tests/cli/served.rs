//! A real `harmonia serve` for tests: started on a SQLite file and port 0, its address
//! read from the line it prints (a server bound to every address is reached on
//! 127.0.0.1), its stderr drained so that it never blocks (the last lines are kept, for
//! tests that read the server's log and for failure messages); stopped with SIGTERM or
//! killed with SIGKILL; and API tokens made with `harmonia token create`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{harmonia, stderr, stdout};

/// How many of the server's last stderr lines are kept.
const KEPT_LINES: usize = 1000;

/// A running `harmonia serve` and the address it printed.
pub(crate) struct Served {
    child: Child,
    pub(crate) base: String,
    /// The last `KEPT_LINES` lines of its stderr.
    log: Arc<Mutex<VecDeque<String>>>,
    /// The thread draining its stderr; it ends when the process has exited.
    drainer: Option<JoinHandle<()>>,
}

impl Served {
    pub(crate) fn start(db: &Path, extra: &[&str]) -> Served {
        Served::start_with_env(db, extra, &[])
    }

    /// [`Served::start`] with these environment variables set.
    pub(crate) fn start_with_env(db: &Path, extra: &[&str], env: &[(&str, &str)]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_harmonia"))
            .args(["serve", "--port", "0", "--db"])
            .arg(db)
            .args(extra)
            .envs(env.iter().copied())
            .env_remove("HARMONIA_DB")
            .env_remove("HARMONIA_PORT")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = VecDeque::new();
        let base = loop {
            let Some(line) = lines.next() else {
                let status = child.wait().expect("the server is reaped");
                panic!(
                    "the server exited ({status}) without printing its address; stderr:\n{}",
                    Vec::from(seen).join("\n")
                );
            };
            let line = line.expect("stderr is text");
            if let Some(at) = line.find("listening on http://") {
                let rest = &line[at + "listening on ".len()..];
                let end = rest.find(' ').unwrap_or(rest.len());
                break rest[..end].replacen("http://0.0.0.0:", "http://127.0.0.1:", 1);
            }
            keep(&mut seen, line);
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        let log = Arc::new(Mutex::new(seen));
        let kept = log.clone();
        let drainer = std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                keep(&mut kept.lock().expect("the log lock"), line);
            }
        });
        Served {
            child,
            base,
            log,
            drainer: Some(drainer),
        }
    }

    /// SIGTERM, then the exit status (within 10 s).
    pub(crate) fn terminate(mut self) -> ExitStatus {
        self.terminate_within(Duration::from_secs(10)).0
    }

    /// SIGTERM, then the exit status and how long the server took to exit after the
    /// signal (its log is complete then). Panics, after a SIGKILL, if it is still
    /// running after `limit`.
    pub(crate) fn terminate_within(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let sent = Instant::now();
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let took = sent.elapsed();
                self.join_drainer();
                return (status, took);
            }
            if sent.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                self.join_drainer();
                panic!(
                    "the server did not stop within {limit:?} of SIGTERM; its last lines:\n{}",
                    self.log_lines().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits for the process to exit by itself (a crash point aborting it), and its
    /// status; panics if it still runs after `limit`.
    pub(crate) fn exited_within(&mut self, limit: Duration) -> ExitStatus {
        let since = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                self.join_drainer();
                return status;
            }
            assert!(
                since.elapsed() < limit,
                "the server still runs after {limit:?}; its last lines:\n{}",
                self.log_lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL (no cleanup, no flush: a crash), once the process is gone.
    pub(crate) fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("the killed server is reaped");
        self.join_drainer();
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGSTOP: the process is frozen (a stall), until [`Served::cont`].
    pub(crate) fn stop(&self) {
        self.signal(nix::sys::signal::Signal::SIGSTOP);
    }

    /// SIGCONT: a stopped process runs again.
    pub(crate) fn cont(&self) {
        self.signal(nix::sys::signal::Signal::SIGCONT);
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.pid() as i32);
        nix::sys::signal::kill(pid, signal).unwrap_or_else(|e| panic!("{signal}: {e}"));
    }

    /// The last lines the server wrote on stderr (all of them once it has exited).
    pub(crate) fn log_lines(&self) -> Vec<String> {
        self.log
            .lock()
            .expect("the log lock")
            .iter()
            .cloned()
            .collect()
    }

    fn join_drainer(&mut self) {
        if let Some(drainer) = self.drainer.take() {
            drainer.join().expect("the stderr drainer ends");
        }
    }
}

fn keep(log: &mut VecDeque<String>, line: String) {
    if log.len() == KEPT_LINES {
        log.pop_front();
    }
    log.push_back(line);
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new token with this role, made by `harmonia token create` on the database.
pub(crate) fn token(db: &Path, role: &str) -> String {
    token_and_id(db, role).0
}

/// A new token with this role and its id (which `harmonia token delete` takes).
pub(crate) fn token_and_id(db: &Path, role: &str) -> (String, String) {
    let db = db.to_str().expect("utf-8 path");
    let out = harmonia(&[
        "token", "create", "--db", db, "--role", role, "--name", role,
    ]);
    assert!(out.status.success(), "{out:?}");
    // stderr: "created token ID (ROLE `NAME`); ..."
    let err = stderr(&out);
    let id = err
        .split_whitespace()
        .skip_while(|w| *w != "token")
        .nth(1)
        .unwrap_or_else(|| panic!("no token id in {err:?}"))
        .to_string();
    (stdout(&out).trim().to_string(), id)
}

/// `harmonia token delete ID` on the database.
pub(crate) fn delete_token(db: &Path, id: &str) {
    let db = db.to_str().expect("utf-8 path");
    let out = harmonia(&["token", "delete", "--db", db, id]);
    assert!(out.status.success(), "{out:?}");
}
