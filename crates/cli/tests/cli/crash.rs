//! Crash recovery, tested by killing the real binary.
//!
//! Each run starts `harmonia run --db` on a fresh SQLite file, against a ledger server
//! that counts every request its tasks make. The process dies at a chosen point:
//! - `after_commit:N`: a test-only crash point just after the N-th commit that records a
//!   task's success and, in the same commit, decides what runs next, but before anything
//!   of it starts (between "task succeeded" and "next task scheduled");
//! - `before_commit:N`: just before the N-th commit is written;
//! - SIGKILL after a random delay within an uninterrupted run's duration.
//!
//! Then a copy of the database is read to see what was durable at the crash, and
//! `harmonia resume --db` finishes the work. The checks, against the ledger:
//! - every task whose success was durable before the crash ran exactly once;
//! - every other task ran at least once and at most twice (at-least-once);
//! - every call the ledger saw has a durable attempt: for each unit (task, or
//!   `task/item`), its calls are at most its `attempt_started` events in the final log,
//!   and no attempt of a unit starts after its success was recorded (see `ledger`);
//! - the execution finished with the same outputs as an uninterrupted run;
//! - a run killed before its start was durable left no trace and made no request.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harmonia_storage::prelude::*;
use serde_json::{Value, json};

use super::ledger::{self, Ledger};

const WORKFLOW: &str = r#"name: crash-test
inputs:
  type: object
  required: [ledger, run]
  properties: {ledger: {type: string}, run: {type: string}}
tasks:
  first:
    type: http
    with: {method: POST, url: "${ $inputs.ledger }", json: {key: "${ $inputs.run }/first"}}
    output: ${ 1 }
  fan:
    type: http
    needs: [first]
    for_each: ${ [range(12)] }
    concurrency: 3
    with: {method: POST, url: "${ $inputs.ledger }", json: {key: "${ $inputs.run }/fan/${ $index }"}}
    output: ${ $index * 10 }
  nap:
    type: sleep
    needs: [first]
    with: {duration: 30ms}
  sum:
    type: set
    needs: [fan, nap]
    with: ${ $tasks.fan.output | add }
  last:
    type: http
    needs: [sum]
    with: {method: POST, url: "${ $inputs.ledger }", json: {key: "${ $inputs.run }/last", sum: "${ $tasks.sum.output }"}}
    output: ${ $tasks.sum.output + 1 }
outputs:
  sum: ${ $tasks.sum.output }
  last: ${ $tasks.last.output }
"#;

/// The unit keys every run's tasks send to the ledger.
fn keys(run: &str) -> Vec<String> {
    let mut k = vec![format!("{run}/first"), format!("{run}/last")];
    k.extend((0..12).map(|i| format!("{run}/fan/{i}")));
    k
}

/// How a run is interrupted.
#[derive(Debug, Clone)]
enum Kill {
    CrashPoint(String),
    After(Duration),
}

fn spawn_run(
    file: &Path,
    db: &Path,
    ledger: &str,
    run: &str,
    kill: &Kill,
) -> std::process::ExitStatus {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_harmonia"));
    cmd.args([
        "run",
        file.to_str().expect("path"),
        "--db",
        db.to_str().expect("path"),
    ])
    .args([
        "-i",
        &format!("ledger={ledger}"),
        "-i",
        &format!("run={run}"),
        "--output",
        "json",
    ])
    .env_remove("HARMONIA_DB")
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if let Kill::CrashPoint(point) = kill {
        cmd.env("HARMONIA_TEST_CRASH_AT", point);
    }
    let mut child = cmd.spawn().expect("spawns");
    match kill {
        Kill::After(delay) => {
            let until = Instant::now() + *delay;
            loop {
                if let Some(status) = child.try_wait().expect("waits") {
                    return status;
                }
                if Instant::now() >= until {
                    child.kill().expect("SIGKILL");
                    return child.wait().expect("reaped");
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        _ => child.wait().expect("waits"),
    }
}

/// What was durable at the crash: (execution id, units that succeeded as "task" or
/// "task/item").
fn durable_at_crash(db: &Path, copy_dir: &Path) -> Option<(String, HashSet<String>)> {
    // Read a copy, so that nothing touches the original before `resume`.
    for suffix in ["", "-wal", "-shm"] {
        let from = format!("{}{suffix}", db.display());
        if Path::new(&from).exists() {
            let to = copy_dir.join(format!("snapshot.db{suffix}"));
            std::fs::copy(&from, &to).expect("copy");
        }
    }
    let snapshot = copy_dir.join("snapshot.db");
    if !snapshot.exists() {
        return None;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = harmonia_storage_sql::SqliteStore::open(&snapshot, Default::default())
            .await
            .expect("open snapshot");
        let all = store.executions(&Default::default()).await.expect("list");
        let x = all.first()?;
        let events = store.events(x.id).await.expect("events");
        let done = events
            .iter()
            .filter(|e| e.kind == "attempt_succeeded")
            .map(|e| match e.data.value()["item"].as_u64() {
                Some(i) => format!("{}/{i}", e.data.value()["task"].as_str().unwrap_or("")),
                None => e.data.value()["task"].as_str().unwrap_or("").to_string(),
            })
            .collect();
        Some((x.id.to_string(), done))
    })
}

#[test]
fn killed_runs_resume_without_losing_or_repeating_completed_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("crash.yaml");
    std::fs::write(&file, WORKFLOW).expect("write");
    // A few milliseconds per call, varying by key, so that kills land mid-request too.
    let ledger = Ledger::start(0..=11);
    let ledger_url = ledger.url.clone();

    // An uninterrupted run: the expected outputs, and how long a run takes.
    let db = dir.path().join("baseline.db");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_harmonia"))
        .args([
            "run",
            file.to_str().expect("p"),
            "--db",
            db.to_str().expect("p"),
        ])
        .args([
            "-i",
            &format!("ledger={ledger_url}"),
            "-i",
            "run=baseline",
            "--output",
            "json",
        ])
        .output()
        .expect("runs");
    let duration = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let baseline: Value = serde_json::from_slice(&out.stdout).expect("json");
    let expected = baseline["outputs"].clone();
    assert_eq!(expected, json!({"sum": 660, "last": 661}));

    let mut kills: Vec<Kill> = Vec::new();
    kills.extend((1..=4).map(|n| Kill::CrashPoint(format!("after_commit:{n}"))));
    kills.extend([1, 2, 3, 5, 8, 13].map(|n| Kill::CrashPoint(format!("before_commit:{n}"))));
    // Random delays within a run, spread over its whole duration.
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..14 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let span = duration.as_micros().max(20_000) as u64;
        kills.push(Kill::After(Duration::from_micros(seed % span)));
    }

    let mut interrupted = 0;
    let mut before_start = 0;
    let mut coverage: Vec<String> = Vec::new();
    let mut recovered_attempts = 0;
    for (i, kill) in kills.iter().enumerate() {
        let run = format!("r{i}");
        let run_dir = dir.path().join(&run);
        std::fs::create_dir_all(&run_dir).expect("dir");
        let db = run_dir.join("h.db");
        let status = spawn_run(&file, &db, &ledger_url, &run, kill);
        let crashed = !status.success();
        interrupted += usize::from(crashed);

        let snapshot = durable_at_crash(&db, &run_dir);
        let counts = |key: &str| ledger.calls(key);
        coverage.push(format!(
            "{kill:?}: {}",
            snapshot
                .as_ref()
                .map_or("nothing durable".to_string(), |(_, d)| format!(
                    "{} units succeeded durably",
                    d.len()
                ))
        ));
        let Some((_execution, durable)) = snapshot else {
            // Killed before the start was durable: nothing may have run.
            before_start += 1;
            for key in keys(&run) {
                assert_eq!(
                    counts(&key),
                    0,
                    "{kill:?}: {key} ran although the execution never started"
                );
            }
            continue;
        };

        let out = Command::new(env!("CARGO_BIN_EXE_harmonia"))
            .args([
                "resume",
                "--db",
                db.to_str().expect("p"),
                "--output",
                "json",
            ])
            .env_remove("HARMONIA_DB")
            .output()
            .expect("resume runs");
        assert!(
            out.status.success(),
            "{kill:?}: resume failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let resumed: Value = serde_json::from_slice(&out.stdout).expect("json");
        let executions = resumed["executions"].as_array().expect("executions");
        if crashed && executions.is_empty() {
            // It crashed after the execution ended; its outputs are in the store.
        } else if let Some(x) = executions.first() {
            assert_eq!(x["status"], "succeeded", "{kill:?}: {x:#}");
            assert_eq!(x["outputs"], expected, "{kill:?}");
        }
        // The final state, whatever path it took.
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let (final_outputs, events) = rt.block_on(async {
            let store = harmonia_storage_sql::SqliteStore::open(&db, Default::default())
                .await
                .expect("open");
            let all = store.executions(&Default::default()).await.expect("list");
            assert_eq!(all.len(), 1, "{kill:?}");
            assert_eq!(
                all[0].status,
                harmonia_storage::ExecutionStatus::Succeeded,
                "{kill:?}"
            );
            let events = store.events(all[0].id).await.expect("events");
            (all[0].outputs.clone(), events)
        });
        assert_eq!(final_outputs, Some(expected.clone()), "{kill:?}");

        // The final log accounts for every call: each has a durable attempt, and
        // nothing started again after its success was recorded.
        let calls: BTreeMap<String, u32> = keys(&run)
            .iter()
            .map(|key| {
                let unit = key.trim_start_matches(&format!("{run}/")).to_string();
                (unit, counts(key))
            })
            .collect();
        let units = ledger::units(&events);
        let problems = ledger::audit(&format!("{kill:?}"), &calls, &units);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        recovered_attempts += units.values().map(|u| u.recovered).sum::<u32>();

        for key in keys(&run) {
            let unit = key.trim_start_matches(&format!("{run}/")).to_string();
            let n = counts(&key);
            if durable.contains(&unit) {
                assert_eq!(
                    n, 1,
                    "{kill:?}: {unit} succeeded before the crash but ran {n} times"
                );
            } else {
                assert!((1..=2).contains(&n), "{kill:?}: {unit} ran {n} times");
            }
        }
    }
    assert!(kills.len() >= 20);
    assert!(
        interrupted >= 14,
        "only {interrupted} of {} runs were interrupted",
        kills.len()
    );
    assert!(
        recovered_attempts > 0,
        "no attempt was in flight at any crash: the test exercised no recovery"
    );
    eprintln!(
        "{} kill points: {interrupted} interrupted a run, {before_start} before its start was durable; {recovered_attempts} attempts ran again as recovered",
        kills.len()
    );
    for line in coverage {
        eprintln!("  {line}");
    }
}
