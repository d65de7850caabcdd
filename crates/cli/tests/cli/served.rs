//! A real `harmonia serve` for tests: started on a SQLite file and port 0, its address
//! read from the line it prints (a server bound to every address is reached on
//! 127.0.0.1), its stderr drained so that it never blocks; and API tokens made with
//! `harmonia token create`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{harmonia, stderr, stdout};

/// A running `harmonia serve` and the address it printed.
pub(crate) struct Served {
    child: Child,
    pub(crate) base: String,
}

impl Served {
    pub(crate) fn start(db: &Path, extra: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_harmonia"))
            .args(["serve", "--port", "0", "--db"])
            .arg(db)
            .args(extra)
            .env_remove("HARMONIA_DB")
            .env_remove("HARMONIA_PORT")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("the server prints its address")
                .expect("stderr is text");
            if let Some(at) = line.find("listening on http://") {
                let rest = &line[at + "listening on ".len()..];
                let end = rest.find(' ').unwrap_or(rest.len());
                break rest[..end].replacen("http://0.0.0.0:", "http://127.0.0.1:", 1);
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Served { child, base }
    }

    /// SIGTERM, then the exit status (within 10 s).
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("the server did not stop within 10 s of SIGTERM");
    }
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
