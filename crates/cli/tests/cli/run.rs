//! `harmonia run`: the examples against a real local HTTP server, real processes for
//! shell tasks, real SQLite files, and the exit codes and JSON shape scripts rely on.

use serde_json::{Value, json};

use crate::server;
use crate::{harmonia, json, root, stderr, stdout};

fn example(name: &str) -> String {
    root().join("examples").join(name).display().to_string()
}

fn run_json(args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--output", "json"]);
    let out = harmonia(&all);
    (out.status.code().unwrap_or(-1), json(&out), stderr(&out))
}

#[test]
fn etl_over_http_extracts_transforms_and_loads() {
    let s = server::start();
    let (code, r, err) = run_json(&[
        &example("etl-http.yaml"),
        "-i",
        &format!("source_url={}/orders", s.base),
        "-i",
        &format!("sink_url={}/reports", s.base),
    ]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(r["status"], "succeeded");
    assert_eq!(r["outputs"], json!({"customers": 2, "status": 201}));
    let loaded = s.seen.bodies("/reports");
    assert_eq!(
        loaded,
        vec![json!({"day": "2026-11-24", "customers": [
            {"customer": "initech", "orders": 1, "total": 20},
            {"customer": "acme", "orders": 2, "total": 15},
        ]})]
    );
    assert_eq!(s.seen.bodies("/orders"), vec![json!({"day": "2026-11-24"})]);
    // The JSON report has every task with its fields.
    let extract = &r["tasks"]["extract"];
    for field in [
        "status",
        "attempts",
        "output",
        "error",
        "started_at",
        "ended_at",
    ] {
        assert!(extract.get(field).is_some(), "missing {field}: {extract}");
    }
}

#[test]
fn a_fan_out_over_100_items_at_concurrency_5_keeps_item_order() {
    let s = server::start();
    let cities: Vec<String> = (0..100)
        .map(|i| format!("city-{i:03}-{}", "x".repeat(i % 9)))
        .collect();
    let (code, r, err) = run_json(&[
        &example("fan-out-weather.yaml"),
        "-i",
        &format!("cities={}", serde_json::to_string(&cities).expect("json")),
        "-i",
        &format!("base_url={}", s.base),
        "-i",
        "threshold=30",
    ]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    let max = s.seen.weather_max.load(std::sync::atomic::Ordering::SeqCst);
    assert!(max <= 5, "{max} requests at once");
    assert!(max >= 2, "the fan-out ran in parallel ({max})");
    let items = r["tasks"]["fetch"]["items"].as_array().expect("items");
    assert_eq!(items.len(), 100);
    let order: Vec<&str> = items
        .iter()
        .map(|i| i["output"]["city"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(order, cities.iter().map(String::as_str).collect::<Vec<_>>());
    let hot: Vec<&str> = r["outputs"]["hot"]
        .as_array()
        .expect("hot")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let expected: Vec<&str> = items
        .iter()
        .filter(|i| i["output"]["temp"].as_u64().unwrap_or(0) > 30)
        .map(|i| i["output"]["city"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(hot, expected);
    assert_eq!(r["outputs"]["notified"], json!(!hot.is_empty()));
}

#[test]
fn a_retry_heavy_call_succeeds_after_503s_and_skips_the_failure_notice() {
    let s = server::start();
    let (code, r, err) = run_json(&[
        &example("retry-heavy-api.yaml"),
        "-i",
        &format!("api_url={}/flaky", s.base),
        "-i",
        &format!("webhook_url={}/notify", s.base),
    ]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(r["outputs"]["attempts"], 3);
    assert_eq!(r["outputs"]["status"], "succeeded");
    assert_eq!(r["tasks"]["notify_failure"]["status"], "skipped");
    assert_eq!(r["tasks"]["notify_failure"]["skip_reason"], "condition");
    assert!(s.seen.bodies("/notify").is_empty());
}

#[test]
fn a_failure_tolerant_branch_keeps_the_run_green() {
    let s = server::start();
    let (code, r, err) = run_json(&[
        &example("failure-tolerant.yaml"),
        "-i",
        &format!("enrich_url={}/enrich", s.base),
    ]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(r["tasks"]["enrich"]["status"], "failed");
    assert_eq!(r["tasks"]["enrich"]["error"]["class"], "http_5xx");
    assert_eq!(r["tasks"]["enrich"]["attempts"], 2);
    assert_eq!(
        r["outputs"],
        json!({"enriched": false, "records": [{"id": 1}, {"id": 2}]})
    );
}

#[test]
fn a_sub_workflow_is_found_beside_the_parent_and_linked() {
    let s = server::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("h.db");
    let (code, r, err) = run_json(&[
        &example("sub-workflow.yaml"),
        "-i",
        &format!("webhook_url={}/notify", s.base),
        "--db",
        db.to_str().expect("path"),
    ]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(r["outputs"]["delivered"], true);
    let sent = s.seen.bodies("/notify");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["channel"], "#backups");
    assert!(
        sent[0]["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("backup of orders written to orders-")
    );
}

#[test]
fn a_chain_of_component_calls_passes_results_along() {
    let s = server::start();
    let (code, r, err) = run_json(&[
        &example("component-chain.yaml"),
        "-i",
        "issue=login fails",
        "-i",
        &format!("base_url={}", s.base),
    ]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(r["outputs"]["diagnosis"], "root cause of login fails");
    assert_eq!(r["outputs"]["verified"], true);
    let verify = s.seen.bodies("/api/actions/verify");
    assert_eq!(verify[0]["action"], "verify");
    assert_eq!(
        verify[0]["params"]["patch"],
        "patch for: root cause of login fails"
    );
    assert_eq!(verify[0]["context"]["execution"], r["execution_id"]);
}

#[test]
fn pure_examples_run_offline() {
    for (file, inputs, expected) in [
        (
            "hello.json",
            vec!["-i", "who=Ada"],
            json!({"message": "HELLO, ADA!"}),
        ),
        (
            "conditional-join.yaml",
            vec![
                "-i",
                r#"records=[{"a":1},{"a":2},{"a":3}]"#,
                "-i",
                "chunk_size=2",
            ],
            json!({"path": "chunked", "count": 3}),
        ),
        ("jq-transform.yaml", vec![], json!(null)),
    ] {
        let mut args = vec![example(file)];
        args.extend(inputs.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, r, err) = run_json(&refs);
        assert_eq!(code, 0, "{file}: {r:#}\n{err}");
        if !expected.is_null() {
            assert_eq!(r["outputs"], expected, "{file}");
        }
    }
}

#[test]
fn shell_tasks_need_allow_shell_and_then_run() {
    let out = harmonia(&["run", &example("nightly-shell.yaml")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("shell tasks are disabled"),
        "{}",
        stderr(&out)
    );
    // Regression: the hint named a config key that does not exist.
    assert!(
        stderr(&out).contains("`allow_shell = true`") && !stderr(&out).contains("shell.enabled"),
        "{}",
        stderr(&out)
    );
    let (code, r, err) = run_json(&[&example("nightly-shell.yaml"), "--allow-shell"]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    let lines = r["outputs"]["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 2);
    assert_eq!(r["outputs"]["summary"]["files"], 2);
    assert_eq!(
        r["outputs"]["summary"]["lines"],
        json!(lines.iter().filter_map(Value::as_u64).sum::<u64>())
    );
}

#[test]
fn a_timeout_really_kills_the_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pid");
    let wf = dir.path().join("slow.yaml");
    std::fs::write(
        &wf,
        format!(
            "name: slow\ntasks:\n  hang:\n    type: shell\n    timeout: 300ms\n    with: {{script: 'sleep 60 & echo $! > {}; wait'}}\n",
            pidfile.display()
        ),
    )
    .expect("write");
    let started = std::time::Instant::now();
    let (code, r, err) = run_json(&[wf.to_str().expect("path"), "--allow-shell"]);
    assert_eq!(code, 1, "{r:#}\n{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(r["status"], "failed");
    assert_eq!(r["tasks"]["hang"]["error"]["class"], "timeout");
    let pid = std::fs::read_to_string(&pidfile).expect("pid written");
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap_or_default();
    assert!(
        status.is_empty() || status.contains("State:\tZ"),
        "the background sleep survived:\n{status}"
    );
}

#[test]
fn bad_inputs_exit_2_with_every_violation() {
    let (code, r, _) = run_json(&[&example("fan-out-weather.yaml"), "-i", "threshold=hot"]);
    assert_eq!(code, 2);
    assert_eq!(r["error"]["code"], "invalid_inputs");
    let details = r["error"]["details"].as_array().expect("violations");
    let got: Vec<(&str, &str)> = details
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap_or(""),
                d["keyword"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(got.contains(&("", "required")), "{got:?}");
    assert!(got.contains(&("/threshold", "type")), "{got:?}");
    // In text mode, each violation is a line.
    let out = harmonia(&[
        "run",
        &example("fan-out-weather.yaml"),
        "-i",
        "threshold=hot",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/threshold: expected number"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_invalid_definition_exits_2_with_its_diagnostics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = dir.path().join("bad.yaml");
    std::fs::write(&wf, "name: bad\ntasks:\n  a: {type: htp}\n").expect("write");
    let (code, r, _) = run_json(&[wf.to_str().expect("path")]);
    assert_eq!(code, 2);
    assert_eq!(r["error"]["code"], "invalid_definition");
    let line = r["error"]["details"][0].as_str().unwrap_or("");
    assert!(line.ends_with("bad.yaml:3:13: error: tasks.a.type: unknown task type `htp` (did you mean `http`?); known types: set, transform, http, shell, sleep, workflow, approval, wait_event, worker, component, llm"), "{line}");
}

#[test]
fn a_failed_execution_exits_1_and_names_the_task() {
    let s = server::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = dir.path().join("f.yaml");
    std::fs::write(
        &wf,
        format!("name: f\ntasks:\n  call: {{type: http, with: {{method: POST, url: '{}/enrich', json: {{}}}}}}\n", s.base),
    )
    .expect("write");
    let out = harmonia(&["run", wf.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("failed in"), "{err}");
    assert!(err.contains("error: task `call` failed: POST"), "{err}");
    assert!(err.contains("503"), "{err}");
    // Not a terminal: plain progress lines.
    assert!(err.contains("call: started"), "{err}");
}

#[test]
fn inputs_from_a_file_are_overridden_by_flags_and_a_db_keeps_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = dir.path().join("in.json");
    std::fs::write(&inputs, r#"{"who": "file"}"#).expect("write");
    let db = dir.path().join("keep.db");
    let db = db.to_str().expect("path");
    let (code, r, _) = run_json(&[
        &example("hello.json"),
        "--input-file",
        inputs.to_str().expect("p"),
        "--db",
        db,
    ]);
    assert_eq!(code, 0);
    assert_eq!(r["outputs"]["message"], "HELLO, FILE!");
    let (code, r, _) = run_json(&[
        &example("hello.json"),
        "--input-file",
        inputs.to_str().expect("p"),
        "-i",
        "who=flag",
        "--db",
        db,
    ]);
    assert_eq!(code, 0);
    assert_eq!(r["outputs"]["message"], "HELLO, FLAG!");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        use harmonia_storage::prelude::*;
        let store =
            harmonia_storage_sql::SqliteStore::open(std::path::Path::new(db), Default::default())
                .await
                .expect("open");
        let all = store.executions(&Default::default()).await.expect("list");
        assert_eq!(all.len(), 2);
        // Both recorded as local runs.
        let cli = harmonia_storage::Origin::new(harmonia_storage::OriginKind::Cli, None);
        assert!(
            all.iter().all(|x| x.origin.as_ref() == Some(&cli)),
            "{all:?}"
        );
        assert_eq!(
            store
                .workflow_versions("hello")
                .await
                .expect("versions")
                .len(),
            1
        );
    });
}

/// Regression: the checkpoint of the last connection to close raced the process's
/// exit, so the `-wal` file kept the last runs (and grew by about 50 KB a run until a
/// checkpoint happened to finish) and a copy of the database file alone missed them.
#[test]
fn after_a_run_the_database_file_alone_holds_every_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("runs.db");
    let db = db.to_str().expect("utf-8 path");
    let wal = format!("{db}-wal");
    for who in ["a", "b", "c"] {
        let (code, r, err) = run_json(&[
            &example("hello.json"),
            "-i",
            &format!("who={who}"),
            "--db",
            db,
        ]);
        assert_eq!(code, 0, "{r:#}\n{err}");
        let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert_eq!(left, 0, "the WAL kept {left} bytes after run {who}");
    }
    // The file copied alone, as someone backing it up would.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).expect("dir");
    let copied = copy.join("runs.db");
    std::fs::copy(db, &copied).expect("copy");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        use harmonia_storage::prelude::*;
        let store = harmonia_storage_sql::SqliteStore::open(&copied, Default::default())
            .await
            .expect("open");
        let all = store.executions(&Default::default()).await.expect("list");
        assert_eq!(all.len(), 3, "{all:?}");
    });
}

#[test]
fn runs_can_ask_for_commits_that_survive_a_power_loss() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("r.db");
    let db = db.to_str().expect("utf-8 path");
    let (code, r, err) = run_json(&[&example("hello.json"), "--db", db, "--durability", "fsync"]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(r["status"], "succeeded");
    let out = harmonia(&["resume", "--db", db, "--durability", "fsync"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Anything else is a wrong command line, with the choices named.
    let out = harmonia(&["run", &example("hello.json"), "--durability", "disk"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("fsync"), "{}", stderr(&out));
}

#[test]
fn bench_measures_both_durabilities() {
    let out = harmonia(&[
        "bench",
        "--scenario",
        "a",
        "--runs",
        "1",
        "--no-baseline",
        "--durability",
        "process",
        "--durability",
        "fsync",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let results = json(&out);
    let rows: Vec<(&str, &str)> = results
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            (
                r["durability"].as_str().unwrap_or(""),
                r["scenario"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(rows, vec![("process", "a"), ("fsync", "a")]);
}

#[test]
fn text_output_prints_the_outputs_on_stdout() {
    let out = harmonia(&["run", &example("hello.json")]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("outputs as JSON");
    assert_eq!(v, json!({"message": "HELLO, WORLD!"}));
    assert!(stderr(&out).contains("succeeded in"));
}

#[test]
fn progress_prints_every_event_exactly_once() {
    // Regression: `run` subscribed to live events, then replayed the history, with no
    // de-duplication by sequence number: events committed in between were printed
    // twice, and events a lagging subscription lost were not printed at all.
    //
    // 1,500 tasks end at once, before `run` subscribes: it prints them from the
    // history, into a stderr pipe that nobody reads for a while, so it blocks. Meanwhile
    // a fan-out of 20,000 items commits far more events than the live channel holds,
    // so the subscription lags. And 200 sleeps end one after the other from the start
    // on, while `run` subscribes.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("busy.yaml");
    let mut tasks: Vec<String> = Vec::new();
    let mut yaml = String::from("name: busy\ntasks:\n");
    for i in 0..1500 {
        yaml.push_str(&format!("  p{i}: {{type: set, with: {i}}}\n"));
        tasks.push(format!("p{i}"));
    }
    for i in 0..200 {
        yaml.push_str(&format!(
            "  s{i}: {{type: sleep, with: {{duration: {}ms}}}}\n",
            i / 2
        ));
        tasks.push(format!("s{i}"));
    }
    yaml.push_str("  wait: {type: sleep, with: {duration: 300ms}}\n");
    yaml.push_str(
        "  fan: {type: set, needs: [wait], for_each: '${ [range(20000)] }', with: '${ $item }'}\n",
    );
    yaml.push_str("  last: {type: set, needs: [fan], with: '${ $tasks.fan.output | length }'}\n");
    tasks.extend(["wait", "fan", "last"].map(String::from));
    std::fs::write(&file, yaml).expect("write");
    for run in 0..2 {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_harmonia"))
            .args(["run", file.to_str().expect("utf-8 path")])
            .env_remove("HARMONIA_DB")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary starts");
        // Read nothing until the fan-out has run.
        std::thread::sleep(std::time::Duration::from_millis(2500));
        let out = child.wait_with_output().expect("it ends");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        for task in &tasks {
            let started = if task == "fan" {
                "started (20000 items)"
            } else {
                "started"
            };
            for what in [started, "succeeded"] {
                let line = format!("] {task}: {what}\n");
                let n = err.matches(&line).count();
                assert_eq!(n, 1, "run {run}: `{task}: {what}` printed {n} times");
            }
        }
    }
}

#[test]
fn a_failed_run_is_retried_from_the_command_line_and_its_history_shows_why() {
    let s = server::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("r.db");
    let db = db.to_str().expect("path");
    let wf = dir.path().join("sync.yaml");
    std::fs::write(
        &wf,
        format!(
            "name: sync\ntasks:\n  prepare: {{type: set, with: {{n: 1}}}}\n  call: {{type: http, needs: [prepare], with: {{method: POST, url: '{}/flaky', json: {{n: '${{ $tasks.prepare.output.n }}'}}}}}}\noutputs:\n  synced: ${{ $tasks.call.output.body.synced }}\n",
            s.base
        ),
    )
    .expect("write");
    let (code, first, _) = run_json(&[wf.to_str().expect("p"), "--db", db]);
    assert_eq!(code, 1);
    let id = first["execution_id"].as_str().expect("id").to_string();

    let preview = harmonia(&["retry", "--db", db, &id, "--preview", "--output", "json"]);
    assert_eq!(preview.status.code(), Some(0), "{}", stderr(&preview));
    let plan = json(&preview);
    assert_eq!(plan["rerun"], json!(["call"]));
    assert_eq!(plan["reused"], json!(["prepare"]));

    // The service fails twice, then answers: the first retry fails too, the second works.
    let again = harmonia(&["retry", "--db", db, &id, "--output", "json"]);
    assert_eq!(again.status.code(), Some(1));
    let second = json(&again)["execution_id"]
        .as_str()
        .expect("id")
        .to_string();
    let last = harmonia(&["retry", "--db", db, &second, "--output", "json"]);
    assert_eq!(last.status.code(), Some(0), "{}", stderr(&last));
    let r = json(&last);
    assert_eq!(r["outputs"], json!({"synced": true}));
    assert_eq!(r["tasks"]["prepare"]["attempts"], 0, "reused, not run");
    assert_eq!(
        s.seen.flaky_calls.load(std::sync::atomic::Ordering::SeqCst),
        3
    );

    let history = harmonia(&["history", "--db", db, &id]);
    assert_eq!(history.status.code(), Some(0));
    let text = stdout(&history);
    assert!(
        text.contains("attempt_failed") && text.contains("503"),
        "{text}"
    );
    assert!(
        text.lines()
            .next()
            .unwrap_or("")
            .contains("execution_started"),
        "{text}"
    );
    let nothing = harmonia(&[
        "retry",
        "--db",
        db,
        &second.replace('0', "1"),
        "--output",
        "json",
    ]);
    assert_eq!(nothing.status.code(), Some(2));
}

#[test]
fn a_secret_is_read_by_its_name_and_jq_cannot_print_it_to_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("secret.yaml");
    std::fs::write(
        &file,
        "name: secret\ntasks:\n  a:\n    type: set\n    with: {n: '${ $secrets.API_KEY | stderr | debug | debug(.) | length }'}\noutputs:\n  n: ${ $tasks.a.output.n }\n",
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_harmonia"))
        .args(["run", file.to_str().expect("utf-8"), "--output", "json"])
        .env("HARMONIA_SECRET_API_KEY", "hunter2-but-longer")
        .env("RUST_LOG", "trace")
        .env_remove("HARMONIA_DB")
        .output()
        .expect("runs");
    let (stdout, stderr) = (super::stdout(&out), super::stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let r: Value = serde_json::from_str(&stdout).expect("json");
    // Read by its name as written (it was `null` as `$secrets.API_KEY`), and shown as
    // `***`: a `set` task's output is stored.
    assert_eq!(r["outputs"], json!({"n": "***"}));
    // Regression: `stderr` and `debug` wrote the value into the log.
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(!stdout.contains("hunter2"), "{stdout}");
}

#[test]
fn a_held_task_ends_a_local_run_with_how_to_decide() {
    // Nobody can answer in a local run: it must say so, not wait forever.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("held.yaml");
    std::fs::write(
        &file,
        "name: held\ntasks:\n  a: {type: set, with: '${ error(\"down\") }', on_error: pause}\n",
    )
    .expect("written");
    let db = dir.path().join("h.db");
    let started = std::time::Instant::now();
    let out = harmonia(&[
        "run",
        file.to_str().expect("utf-8"),
        "--db",
        db.to_str().expect("utf-8"),
    ]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("task `a` is held"), "{err}");
    assert!(err.contains("/tasks/a/retry"), "{err}");
}

const LOCAL_COMPONENTS: &str = "name: local-components
inputs: {type: object, properties: {issue: {type: string}}}
tasks:
  investigate: {type: component, retry: {max_attempts: 1}, with: {component: fixer, action: investigate, params: {issue: '${ $inputs.issue }'}}}
  fix: {type: component, needs: [investigate], with: {component: fixer, action: fix, params: {diagnosis: '${ $tasks.investigate.output }'}}}
outputs: {patch: '${ $tasks.fix.output }'}
";

/// `harmonia run` in `dir` (where a `harmonia.toml` may be).
fn run_in(dir: &std::path::Path, args: &[&str]) -> (i32, Value, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_harmonia"))
        .arg("run")
        .args(args)
        .args(["--output", "json"])
        .current_dir(dir)
        .env_remove("HERMES_URL")
        .output()
        .expect("runs");
    (out.status.code().unwrap_or(-1), json(&out), stderr(&out))
}

#[test]
fn a_local_run_calls_the_components_of_harmonia_toml_by_name() {
    let s = server::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("flow.yaml"), LOCAL_COMPONENTS).expect("writes");
    // Without a config, the task fails saying how to declare the component.
    let (code, r, err) = run_in(dir.path(), &["flow.yaml", "-i", "issue=login fails"]);
    assert_eq!(code, 1, "{r:#}\n{err}");
    let error = r["error"]["message"].as_str().unwrap_or("");
    assert!(
        error.contains("no component named `fixer`") && error.contains("[[components]]"),
        "{r:#}"
    );
    std::fs::write(
        dir.path().join("harmonia.toml"),
        format!(
            "[[components]]\nname = \"fixer\"\nendpoint = \"{}\"\n",
            s.base
        ),
    )
    .expect("writes");
    let (code, r, err) = run_in(dir.path(), &["flow.yaml", "-i", "issue=login fails"]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(
        r["outputs"]["patch"],
        "patch for: root cause of login fails"
    );
    let fix = s.seen.bodies("/api/actions/fix");
    assert_eq!(fix[0]["context"]["task"], "fix");
    assert_eq!(fix[0]["context"]["execution_id"], r["execution_id"]);
}

#[test]
fn a_bad_harmonia_toml_stops_a_run_before_its_database_is_made() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("flow.yaml"),
        "name: f\ntasks:\n  a: {type: set, with: 1}\n",
    )
    .expect("writes");
    std::fs::write(dir.path().join("harmonia.toml"), "[[components]]\nname = ").expect("writes");
    let (code, r, err) = run_in(dir.path(), &["flow.yaml", "--db", "runs.db"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(r["error"]["code"], "invalid_config", "{r:#}");
    let message = r["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("harmonia.toml") && message.contains("line 2"),
        "{r:#}"
    );
    assert!(
        !dir.path().join("runs.db").exists(),
        "the database was made before the configuration was read"
    );
}

#[test]
fn a_local_run_refuses_worker_tasks_that_nothing_could_poll() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("wq.yaml");
    std::fs::write(
        &file,
        "name: wq\ntasks:\n  w: {type: worker, with: {queue: q}}\n",
    )
    .expect("writes");
    let out = harmonia(&["run", file.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("worker tasks need `harmonia serve`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bench_takes_a_list_of_scenarios_and_refuses_an_unknown_one() {
    let out = harmonia(&[
        "bench",
        "--scenario",
        "a,c",
        "--runs",
        "1",
        "--no-baseline",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let scenarios: Vec<String> = json(&out)
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| r["scenario"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(scenarios, ["a", "c"]);
    let out = harmonia(&["bench", "--scenario", "a,z", "--runs", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("'z'"), "{}", stderr(&out));
    assert!(stderr(&out).contains("a, b, c, d"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "nothing ran: {}", stdout(&out));
}

/// A local database is read by short ids and without a server: `execution
/// list|get|events --db`, `history` and `retry` take any unique prefix of an id.
#[test]
fn local_executions_are_read_by_short_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("h.db");
    let db = db.to_str().expect("a UTF-8 path");
    let hello = example("jq-transform.yaml");
    for _ in 0..2 {
        let o = harmonia(&["run", &hello, "--db", db]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let o = harmonia(&["execution", "list", "--db", db, "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let listed: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let ids: Vec<String> = listed
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|x| x["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");
    let short = &ids[0][..30];
    let o = harmonia(&["execution", "get", "--db", db, short]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(&ids[0]), "{}", stdout(&o));
    let o = harmonia(&["execution", "events", "--db", db, short]);
    assert!(stdout(&o).contains("execution_started"), "{}", stdout(&o));
    let o = harmonia(&["history", "--db", db, short]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("execution_started"), "{}", stdout(&o));
    // Both ids start with the same time: a short prefix names neither.
    let o = harmonia(&["history", "--db", db, &ids[0][..4]]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("several execution ids"),
        "{}",
        stderr(&o)
    );
    let o = harmonia(&["execution", "get", "--db", db, &ids[0][..4]]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is the start of 2 execution ids"),
        "{}",
        stderr(&o)
    );
    let o = harmonia(&["execution", "get", "--db", db, "ffff"]);
    assert!(stderr(&o).contains("no execution"), "{}", stderr(&o));
    let o = harmonia(&["retry", "--db", db, "ffff"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no execution"), "{}", stderr(&o));
    let o = harmonia(&["execution", "list", "--db", &format!("{db}.missing")]);
    assert!(stderr(&o).contains("no database"), "{}", stderr(&o));
}

/// Regression: a `shell` task inherited the server's whole environment, its secrets
/// (`HARMONIA_SECRET_*`) and token included. It gets only what its `env` passes.
#[test]
fn shell_tasks_do_not_inherit_the_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = dir.path().join("peek.yaml");
    std::fs::write(
        &wf,
        "name: peek\ntasks:\n  look:\n    type: shell\n    with:\n      script: 'for v in \"$HARMONIA_SECRET_LEAK\" \"$HARMONIA_TOKEN\" \"$PASSED\"; do printf \"[%s]\" \"$v\"; done'\n      env: {PASSED: \"${ $secrets.LEAK }\"}\n",
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_harmonia"))
        .args([
            "run",
            wf.to_str().expect("path"),
            "--allow-shell",
            "--output",
            "json",
        ])
        .env_remove("HARMONIA_DB")
        .env("HARMONIA_SECRET_LEAK", "topsecret")
        .env("HARMONIA_TOKEN", "hm_not_for_tasks")
        .output()
        .expect("the binary runs");
    let r = json(&out);
    assert_eq!(out.status.code(), Some(0), "{r:#}\n{}", stderr(&out));
    // What `env` passes arrives (masked in the output); nothing else of the kind does.
    let stdout = r["tasks"]["look"]["output"]["stdout"]
        .as_str()
        .unwrap_or_default();
    assert!(stdout.starts_with("[][]["), "{r:#}");
    assert!(
        !stdout.contains("topsecret") && !stdout.contains("hm_not"),
        "{r:#}"
    );
    assert_ne!(
        stdout, "[][][]",
        "the secret passed through env arrived: {r:#}"
    );
}
