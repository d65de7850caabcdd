//! `harmonia assist` against a real small model: the test suite's model server
//! (`scripts/llm-server.sh`, SmolLM2-135M behind an OpenAI-compatible endpoint on
//! 127.0.0.1), started once per run by `scripts/test.sh` (`HARMONIA_TEST_LLM_URL`),
//! or here when a test runs alone (the script reuses a running server). A model this
//! small does not write good workflows: these tests check the machinery, with a
//! real model's real answers (constrained drafting, the repair loop, the verdict
//! agreeing with `harmonia validate`, a diagnosis of a real failure).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use super::{root, stderr, stdout};

/// The model server's URL.
fn llm_url() -> String {
    if let Ok(url) = std::env::var("HARMONIA_TEST_LLM_URL")
        && !url.is_empty()
    {
        return url;
    }
    // One start for the tests of this run, even in parallel processes.
    let script = root().join("scripts/llm-server.sh");
    let lock = root().join(".cache/llm-start.lock");
    std::fs::create_dir_all(root().join(".cache")).expect("cache dir");
    let out = Command::new("flock")
        // The server it starts must not inherit the lock, or the next test waits on
        // it for as long as the server lives.
        .arg("--close")
        .arg(&lock)
        .arg("bash")
        .arg(&script)
        .arg("start")
        .output()
        .expect("flock runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix("HARMONIA_TEST_LLM_URL="))
        .map(str::to_string)
        .unwrap_or_else(|| {
            panic!(
                "the model server did not start:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

fn assist(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harmonia"))
        .args(args)
        .current_dir(dir)
        .env_remove("HARMONIA_DB")
        .env("HARMONIA_LLM_PROVIDER", "openai")
        .env("HARMONIA_LLM_BASE_URL", llm_url())
        .env("HARMONIA_LLM_MODEL", "smollm2")
        .output()
        .expect("the binary runs")
}

#[test]
fn a_drafted_workflow_is_valid_exactly_when_validate_says_so() {
    let dir = tempfile::tempdir().expect("dir");
    let out = assist(
        dir.path(),
        &[
            "assist",
            "new",
            "Fetch http://127.0.0.1:9/status with GET",
            "--max-rounds",
            "2",
            "-o",
            "json",
        ],
    );
    let code = out.status.code();
    assert!(
        matches!(code, Some(0) | Some(1)),
        "exit {code:?}\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let draft: Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    let rounds = draft["rounds"].as_u64().expect("rounds");
    assert!((1..=2).contains(&rounds), "{draft}");
    assert!(
        draft["tokens"]["completion"].as_u64().unwrap_or(0) > 0,
        "{draft}"
    );
    assert_eq!(draft["model"], "smollm2");
    let valid = draft["valid"] == true;
    assert_eq!(valid, code == Some(0));
    let yaml = draft["yaml"].as_str().expect("yaml");
    if yaml.is_empty() {
        assert!(!valid);
        return;
    }
    let file = dir.path().join("draft.yaml");
    std::fs::write(&file, yaml).expect("write");
    let checked = Command::new(env!("CARGO_BIN_EXE_harmonia"))
        .args(["validate", file.to_str().expect("path")])
        .output()
        .expect("validate runs");
    assert_eq!(
        checked.status.success(),
        valid,
        "the draft's verdict and `harmonia validate` disagree:\n{draft}\n{}",
        stderr(&checked)
    );
    if !valid {
        assert!(!draft["diagnostics"].as_array().expect("list").is_empty());
    }
}

#[test]
fn a_failed_run_gets_a_diagnosis_from_the_model_with_a_validated_patch() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("h.db");
    let db = db.to_str().expect("path");
    // Port 9 (discard) refuses connections: a `connection` failure.
    std::fs::write(
        dir.path().join("down.yaml"),
        "name: down\ntasks:\n  call:\n    type: http\n    with: {url: 'http://127.0.0.1:9/'}\n",
    )
    .expect("write");
    let run = assist(
        dir.path(),
        &["run", "down.yaml", "--db", db, "--output", "json"],
    );
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let report: Value = serde_json::from_str(&stdout(&run)).expect("run report");
    let id = report["execution_id"]
        .as_str()
        .or(report["id"].as_str())
        .expect("id")
        .to_string();
    let out = assist(
        dir.path(),
        &["assist", "diagnose", &id, "--db", db, "-o", "json"],
    );
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let d: Value = serde_json::from_str(&stdout(&out)).expect("diagnosis");
    assert_eq!(d["model"], "smollm2", "{d}");
    assert!(d["cause"].as_str().is_some_and(|c| !c.is_empty()), "{d}");
    assert_eq!(d["patch"]["changes"][0]["path"], "tasks.call.retry", "{d}");
    // The model cites only events it was shown (Harmonia drops the others).
    for e in d["evidence"].as_array().expect("evidence") {
        assert!(
            e["seq"].as_u64().is_some_and(|s| (1..=20).contains(&s)),
            "{e}"
        );
    }
}

#[test]
fn an_llm_task_runs_in_a_workflow_and_a_repeated_request_comes_from_the_cache() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("ask.yaml"),
        "name: ask\ntasks:\n  first:\n    type: llm\n    retry: {max_attempts: 3}\n    with:\n      prompt: Name one colour.\n      max_tokens: 40\n      schema: {type: object, properties: {colour: {type: string, maxLength: 20}}, required: [colour]}\n  again:\n    needs: first\n    type: llm\n    retry: {max_attempts: 3}\n    with:\n      prompt: Name one colour.\n      max_tokens: 40\n      schema: {type: object, properties: {colour: {type: string, maxLength: 20}}, required: [colour]}\n  plain:\n    type: llm\n    with: {prompt: Say hello., max_tokens: 8, cache: false}\n",
    )
    .expect("write");
    let db = dir.path().join("h.db");
    let db = db.to_str().expect("path");
    let run = assist(
        dir.path(),
        &["run", "ask.yaml", "--db", db, "--output", "json"],
    );
    assert!(run.status.success(), "{}\n{}", stdout(&run), stderr(&run));
    let report: Value = serde_json::from_str(&stdout(&run)).expect("report");
    let first = &report["tasks"]["first"]["output"];
    assert!(
        first["colour"]
            .as_str()
            .is_some_and(|c| !c.is_empty() && c.chars().count() <= 20),
        "{report}"
    );
    // The same request again, in the same process: the cache answers, identically.
    assert_eq!(report["tasks"]["again"]["output"], *first, "{report}");
    assert!(
        report["tasks"]["plain"]["output"]["text"].is_string(),
        "{report}"
    );
    // Usage is recorded with the attempts: the cached one spent nothing.
    let history = assist(
        dir.path(),
        &[
            "history",
            "--db",
            db,
            report["execution_id"].as_str().expect("id"),
            "--output",
            "json",
        ],
    );
    let text = stdout(&history);
    assert!(history.status.success(), "{text}\n{}", stderr(&history));
    let events: Value = serde_json::from_str(&text).expect("events");
    let usage = |task: &str| -> Vec<Value> {
        events["events"]
            .as_array()
            .expect("a list")
            .iter()
            .filter(|e| e["kind"] == "attempt_succeeded" && e["event"]["task"] == task)
            .map(|e| e["event"]["usage"].clone())
            .collect()
    };
    let first_usage = usage("first");
    assert!(
        first_usage
            .last()
            .is_some_and(|u| u["completion_tokens"].as_u64().unwrap_or(0) > 0),
        "{first_usage:?}"
    );
    let again_usage = usage("again");
    assert!(
        again_usage
            .iter()
            .all(|u| u.is_null() || u["completion_tokens"] == 0),
        "{again_usage:?}"
    );
}

#[test]
fn chat_streams_the_models_answer_as_it_is_written() {
    let dir = tempfile::tempdir().expect("dir");
    let url = llm_url();
    let served = super::served::Served::start_with_env(
        &dir.path().join("h.db"),
        &[],
        &[
            ("HARMONIA_LLM_PROVIDER", "openai"),
            ("HARMONIA_LLM_BASE_URL", &url),
            ("HARMONIA_LLM_MODEL", "smollm2"),
        ],
    );
    let base = served.base.clone();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (text, first, done) = rt.block_on(async move {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let started = std::time::Instant::now();
        let mut resp = http
            .post(format!("{base}/api/assist/chat"))
            .header("accept", "text/event-stream")
            .json(&serde_json::json!({"messages": [{"role": "user", "content": "Say hello in three words."}]}))
            .send()
            .await
            .expect("answered");
        assert_eq!(resp.status(), 200);
        let mut text = String::new();
        let mut first = None;
        while let Some(chunk) = resp.chunk().await.expect("a chunk") {
            let piece = String::from_utf8_lossy(&chunk).to_string();
            if first.is_none() && piece.contains("event: message") {
                first = Some(started.elapsed());
            }
            text.push_str(&piece);
        }
        (text, first, started.elapsed())
    });
    served.terminate();
    let messages = text.matches("event: message").count();
    assert!(
        messages >= 2,
        "the answer came in {messages} piece(s):\n{text}"
    );
    assert!(
        text.trim_end()
            .rsplit("\n\n")
            .next()
            .is_some_and(|last| last.starts_with("event: done")),
        "{text}"
    );
    let first = first.expect("a message event");
    // The first piece arrives before the answer is complete.
    assert!(first < done, "first piece at {first:?}, done at {done:?}");
}
