//! `/mcp` with a real MCP client: the official Python SDK (PyPI `mcp` 2.x) runs
//! `scripts/mcp-client-check.py` against a real `harmonia serve`, over both ways in (the
//! 2026-07-28 per-request protocol, and the `initialize` handshake), open and with
//! tokens.
//!
//! The SDK lives in the venv `target/mcp-venv`, which `scripts/test.sh` makes. Without
//! it the tests say so and pass, except under CI (`CI` set), where a missing venv
//! fails them: there the suite runner made it, so its absence is a broken setup.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

use super::served::{Served, token};
use super::{json, root, stderr};

/// The venv's Python, or `None` (with a note) when there is none outside CI.
fn python() -> Option<PathBuf> {
    let python = root().join("target/mcp-venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "no MCP client venv at {}: scripts/test.sh makes it (python3 -m venv target/mcp-venv && target/mcp-venv/bin/pip install 'mcp==2.3.0')",
        python.display()
    );
    eprintln!(
        "skipping the MCP client check: no venv at {} (make it with: python3 -m venv target/mcp-venv && target/mcp-venv/bin/pip install 'mcp==2.3.0')",
        python.display()
    );
    None
}

/// `scripts/mcp-client-check.py` against `served`, with these arguments.
fn check(python: &PathBuf, served: &Served, args: &[&str]) -> Output {
    Command::new(python)
        .arg(root().join("scripts/mcp-client-check.py"))
        .args(["--url", &format!("{}/mcp", served.base)])
        .args(args)
        .env_remove("HARMONIA_TOKEN")
        .output()
        .expect("python runs")
}

/// The report of a check that passed.
fn passed(out: &Output, served: &Served) -> Value {
    assert!(
        out.status.success(),
        "the MCP client check failed ({}):\n{}\nserver log:\n{}",
        out.status,
        stderr(out),
        served.log_lines().join("\n")
    );
    json(out)
}

#[test]
fn the_python_sdk_stores_and_runs_a_workflow_over_both_protocols() {
    let Some(python) = python() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let served = Served::start(&dir.path().join("h.db"), &[]);

    // The SDK's default: `server/discover`, then 2026-07-28 requests.
    let report = passed(&check(&python, &served, &[]), &served);
    assert_eq!(report["protocol_version"], "2026-07-28", "{report}");
    assert_eq!(report["server"]["name"], "harmonia");
    assert_eq!(report["created"]["outcome"], "created", "{report}");
    assert_eq!(report["execution"]["status"], "succeeded");
    assert_eq!(
        report["execution"]["outputs"],
        serde_json::json!({"text": "hello from mcp"})
    );
    assert_eq!(report["resource"]["mime_type"], "application/yaml");

    // The handshake: the newest revision that has one.
    let report = passed(&check(&python, &served, &["--mode", "legacy"]), &served);
    assert_eq!(report["protocol_version"], "2025-11-25", "{report}");
    assert_eq!(report["created"]["outcome"], "unchanged", "{report}");
    assert_eq!(report["created"]["version"], 1);

    // The server's log is not flooded by the SDK's per-request lines.
    let log = served.log_lines().join("\n");
    assert!(!log.contains("rmcp::"), "{log}");
    assert!(served.terminate().success());
}

#[test]
fn the_python_sdk_is_held_to_its_tokens_role() {
    let Some(python) = python() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("h.db");
    let admin = token(&db, "admin");
    let viewer = token(&db, "viewer");
    let worker = token(&db, "worker");
    let served = Served::start(&db, &[]);

    let report = passed(&check(&python, &served, &["--token", &admin]), &served);
    assert_eq!(report["execution"]["status"], "succeeded", "{report}");

    // A viewer reads but may not store: a tool error naming the role, which the
    // script reports as a mismatch.
    let out = check(&python, &served, &["--token", &viewer]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`create_workflow` needs the `admin` role"),
        "{}",
        stderr(&out)
    );
    // Without a token, or with a worker's, the request itself is refused.
    for args in [&[][..], &["--token", worker.as_str()][..]] {
        let out = check(&python, &served, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    assert!(served.terminate().success());
}
