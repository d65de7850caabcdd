//! The `harmonia` binary as a user runs it: real processes, real files, real HTTP
//! servers on 127.0.0.1, real SQLite databases.

mod assist;
mod client_cli;
mod crash;
mod crash_parts;
mod crash_serve;
mod crash_waits;
mod docs;
mod hermes;
mod isolation;
mod ledger;
mod mcp_client;
mod migrate;
mod nodes;
mod nodes_workers;
mod notify;
mod run;
mod schedule_crash;
mod serve;
mod served;
mod server;
mod template_cli;
mod templates;
mod trigger_cli;
mod validate;
mod workers_e2e;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) fn harmonia(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harmonia"))
        .args(args)
        .env_remove("HARMONIA_DB")
        .output()
        .expect("the binary runs")
}

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Asserts that the command succeeded; its stdout.
pub(crate) fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// Asserts the exit code; stderr.
pub(crate) fn fails(out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
    stderr(out)
}

/// Writes `text` to `dir/name`; the path as text.
pub(crate) fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8 path").to_string()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The single JSON document a command printed on stdout.
pub(crate) fn json(o: &Output) -> serde_json::Value {
    match serde_json::from_slice(&o.stdout) {
        Ok(v) => v,
        Err(e) => panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
            stdout(o),
            stderr(o)
        ),
    }
}
