//! A big fan-out killed while its turns are written in parts (one part written off
//! the scheduler's thread while the next is applied): whatever moment the process
//! dies at, the store holds an unbroken prefix of the log, and `harmonia resume`
//! finishes the execution with the outputs of an uninterrupted run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harmonia_storage::ExecutionStatus;
use harmonia_storage::prelude::*;
use serde_json::{Value, json};

const ITEMS: u64 = 20_000;

fn workflow() -> String {
    format!(
        "name: wide\ntasks:\n  fan: {{type: set, for_each: '${{ [range({ITEMS})] }}', with: '${{ $item }}'}}\n  total: {{type: set, needs: [fan], with: '${{ $tasks.fan.output | add }}'}}\noutputs: {{total: '${{ $tasks.total.output }}'}}\n"
    )
}

fn expected() -> Value {
    json!({"total": ITEMS * (ITEMS - 1) / 2})
}

/// Runs the workflow on `db`, killed by `crash_at` (a test crash point) or by a
/// SIGKILL after `delay`; returns whether it was interrupted.
fn run(file: &Path, db: &Path, crash_at: Option<&str>, delay: Option<Duration>) -> bool {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_harmonia"));
    cmd.args(["run", file.to_str().expect("path"), "--db"])
        .arg(db)
        .args(["--output", "json"])
        .env_remove("HARMONIA_DB")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(point) = crash_at {
        cmd.env("HARMONIA_TEST_CRASH_AT", point);
    }
    let mut child = cmd.spawn().expect("spawns");
    let until = delay.map(|d| Instant::now() + d);
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            return !status.success();
        }
        if until.is_some_and(|u| Instant::now() >= u) {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The execution on `db` (at most one), its status, outputs and the sequence numbers
/// of its stored events.
fn stored(db: &Path) -> Option<(ExecutionStatus, Option<Value>, Vec<u64>)> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = harmonia_storage_sql::SqliteStore::open(db, Default::default())
            .await
            .expect("opens");
        let all = store.executions(&Default::default()).await.expect("lists");
        assert!(all.len() <= 1, "{} executions", all.len());
        let x = all.first()?;
        let seqs = store
            .events(x.id)
            .await
            .expect("events")
            .iter()
            .map(|e| e.seq)
            .collect();
        let outputs = x.outputs.clone();
        Some((x.status, outputs, seqs))
    })
}

fn unbroken(what: &str, seqs: &[u64]) {
    assert!(
        seqs.iter().copied().eq(1..=seqs.len() as u64),
        "{what}: the stored log has a gap (ends with {:?})",
        &seqs[seqs.len().saturating_sub(5)..]
    );
}

#[test]
fn a_fan_out_killed_between_its_parts_resumes_from_an_unbroken_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("wide.yaml");
    std::fs::write(&file, workflow()).expect("writes");

    let started = Instant::now();
    let db = dir.path().join("baseline.db");
    assert!(!run(&file, &db, None, None), "the uninterrupted run fails");
    let duration = started.elapsed();
    let (status, outputs, seqs) = stored(&db).expect("the execution");
    assert_eq!(status, ExecutionStatus::Succeeded);
    assert_eq!(outputs, Some(expected()));
    unbroken("baseline", &seqs);

    let mut kills: Vec<(Option<String>, Option<Duration>)> = [2, 3, 5, 8, 13]
        .iter()
        .map(|n| (Some(format!("before_commit:{n}")), None))
        .collect();
    let span = duration.as_micros().max(50_000) as u64;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..6 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        kills.push((None, Some(Duration::from_micros(seed % span))));
    }
    let mut mid_run = 0;
    let mut coverage = Vec::new();
    for (i, (point, delay)) in kills.iter().enumerate() {
        let what = format!("{point:?} {delay:?}");
        let db = dir.path().join(format!("r{i}.db"));
        let crashed = run(&file, &db, point.as_deref(), *delay);
        let Some((status, _, seqs)) = stored(&db) else {
            continue; // Killed before the start was written.
        };
        unbroken(&what, &seqs);
        coverage.push(format!("{what}: {status:?}, {} events durable", seqs.len()));
        if !crashed {
            assert_eq!(status, ExecutionStatus::Succeeded, "{what}");
            continue;
        }
        mid_run += usize::from(status == ExecutionStatus::Running);
        let out = Command::new(env!("CARGO_BIN_EXE_harmonia"))
            .args(["resume", "--db"])
            .arg(&db)
            .args(["--output", "json"])
            .env_remove("HARMONIA_DB")
            .output()
            .expect("resume runs");
        assert!(
            out.status.success(),
            "{what}: resume failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (status, outputs, seqs) = stored(&db).expect("the execution");
        assert_eq!(status, ExecutionStatus::Succeeded, "{what}");
        assert_eq!(outputs, Some(expected()), "{what}");
        unbroken(&what, &seqs);
    }
    eprintln!(
        "uninterrupted: {duration:?}, {} events\n{}",
        seqs.len(),
        coverage.join("\n")
    );
    assert!(
        mid_run >= 4,
        "only {mid_run} of {} runs were killed in the middle of the fan-out",
        kills.len()
    );
}
