//! `harmonia template ...` as a user runs it: the real binary against real `harmonia
//! serve` processes on 127.0.0.1, each on its own SQLite file.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::served::{Served, token};
use super::{fails, ok, root, stderr, stdout, write};

/// `harmonia template ARGS` against `served`, with no token from the environment.
fn template(served: &Served, args: &[&str]) -> Output {
    command(args)
        .args(["--server", &served.base])
        .output()
        .expect("the binary runs")
}

/// `harmonia template ARGS`, the environment cleared of Harmonia's variables.
fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_harmonia"));
    c.arg("template")
        .args(args)
        .env_remove("HARMONIA_SERVER")
        .env_remove("HARMONIA_TOKEN")
        .env_remove("HARMONIA_DB");
    c
}

/// The JSON answer to a GET (no token), from a runtime of its own.
fn get(url: &str) -> Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let response = reqwest::get(url).await.expect("the server answers");
        assert!(
            response.status().is_success(),
            "GET {url}: {}",
            response.status()
        );
        response.json().await.expect("JSON")
    })
}

const GREET: &str = "\
name: greet
description: Say hello to someone, loudly or not.
tags: [demo]
category: examples
parameters:
  type: object
  required: [who]
  properties:
    who: {type: string, minLength: 1}
    punctuation: {type: string, enum: ['.', '!'], default: '!'}
workflow:
  inputs:
    type: object
    properties:
      times: {type: integer, default: 1}
  tasks:
    hello:
      type: set
      with:
        message: \"hello ${ $params.who }${ $params.punctuation }\"
        times: ${ $inputs.times }
  outputs:
    message: ${ $tasks.hello.output.message }
    times: ${ $tasks.hello.output.times }
";

#[test]
fn list_and_show_the_built_in_library_of_a_fresh_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let served = Served::start(&dir.path().join("h.db"), &[]);

    let text = ok(&template(&served, &["list"]));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("NAME "), "{text}");
    let names: Vec<&str> = lines[1..]
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        names,
        [
            "data-pipeline",
            "etl",
            "http-fan-out",
            "retry-api-call",
            "scheduled-report"
        ]
    );
    assert!(lines.iter().all(|l| l.chars().count() <= 100), "{text}");

    let text = ok(&template(&served, &["list", "--category", "data"]));
    assert_eq!(text.lines().count(), 3, "{text}");
    let text = ok(&template(&served, &["list", "--tag", "retry", "--json"]));
    let list: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["name"], "retry-api-call");
    let text = ok(&template(&served, &["list", "--search", "FAN"]));
    assert!(
        text.contains("http-fan-out") && !text.contains("etl"),
        "{text}"
    );

    // YAML (piped: no header comment) that reads back as the same template.
    let yaml = ok(&template(&served, &["show", "etl"]));
    assert!(yaml.starts_with("name: etl\n"), "{yaml}");
    let path = write(dir.path(), "etl.yaml", &yaml);
    let json = ok(&template(&served, &["show", "etl", "--format", "json"]));
    let json: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["name"], "etl");
    assert_eq!(
        json["parameters"]["required"],
        serde_json::json!(["source_url", "target_url"])
    );
    // The source as stored is the built-in file, comments and all.
    let source = ok(&template(&served, &["show", "etl", "--format", "source"]));
    assert_eq!(
        source,
        std::fs::read_to_string(root().join("crates/model/templates/etl.yaml")).expect("read")
    );
    // What `show` printed validates as a template.
    let out = Command::new(env!("CARGO_BIN_EXE_harmonia"))
        .args(["validate", &path])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    let text = ok(&template(&served, &["show", "etl", "--versions"]));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("VERSION  CREATED"), "{text}");
    assert!(lines[1].starts_with("1  "), "{text}");
    assert_eq!(lines.len(), 2, "{text}");

    let err = fails(&template(&served, &["show", "nope"]), 1);
    assert!(err.starts_with("error: ") && err.contains("nope"), "{err}");
    let err = fails(&template(&served, &["show", "etl", "--version", "9"]), 1);
    assert!(err.contains('9'), "{err}");
}

#[test]
fn create_import_and_export_between_two_servers_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = Served::start(&dir.path().join("a.db"), &[]);
    let b = Served::start(&dir.path().join("b.db"), &[]);

    let greet = write(dir.path(), "greet.yaml", GREET);
    let text = ok(&template(&a, &["create", &greet, "--note", "first"]));
    assert_eq!(text, "created template greet v1\n");
    let err = fails(&template(&a, &["create", &greet]), 1);
    assert!(err.contains("already exists"), "{err}");

    // A broken template: every problem, pointing into the file.
    let bad = write(
        dir.path(),
        "bad.yaml",
        "name: broken\nworkflow:\n  tasks:\n    a:\n      type: sett\n      wiht: {}\n",
    );
    let err = fails(&template(&a, &["create", &bad]), 1);
    let located: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with(&format!("{bad}:")))
        .collect();
    assert!(located.len() >= 2, "{err}");
    assert!(
        located.iter().any(|l| l.starts_with(&format!("{bad}:5:"))),
        "{err}"
    );
    assert!(
        located.iter().any(|l| l.starts_with(&format!("{bad}:6:"))),
        "{err}"
    );
    let err = fails(&template(&a, &["show", "broken"]), 1);
    assert!(err.contains("broken"), "{err}");

    // A second version, by importing a changed single template.
    let louder = write(
        dir.path(),
        "greet2.yaml",
        &GREET.replace("Say hello", "Greet"),
    );
    let text = ok(&template(&a, &["import", &louder]));
    assert_eq!(text, "created greet v2\n");
    let text = ok(&template(&a, &["import", &louder]));
    assert_eq!(text, "unchanged greet v2\n");
    let v1 = ok(&template(&a, &["show", "greet", "--version", "1"]));
    assert!(v1.contains("Say hello"), "{v1}");
    let v2 = ok(&template(&a, &["show", "greet"]));
    assert!(v2.contains("description: Greet"), "{v2}");

    for format in ["yaml", "json"] {
        let from_a = dir.path().join(format!("a.{format}"));
        let from_b = dir.path().join(format!("b.{format}"));
        let from_a_s = from_a.to_str().expect("utf-8");
        let from_b_s = from_b.to_str().expect("utf-8");
        // The format follows the file's name, or --format.
        let args: Vec<&str> = if format == "json" {
            vec!["export", "-o", from_a_s]
        } else {
            vec!["export", "--format", "yaml", "-o", from_a_s]
        };
        let err = stderr(&template(&a, &args));
        assert!(err.contains("exported to"), "{err}");
        let text = ok(&template(&b, &["import", from_a_s]));
        if format == "yaml" {
            // B seeded the same built-ins: only greet's versions are new.
            assert!(
                text.starts_with("created greet v1\ncreated greet v2\n"),
                "{text}"
            );
            assert!(text.contains("unchanged etl v1"), "{text}");
        } else {
            assert!(!text.contains("created"), "{text}");
        }
        ok(&template(
            &b,
            &["export", "--format", format, "-o", from_b_s],
        ));
        let (a_bytes, b_bytes) = (
            std::fs::read(&from_a).expect("read"),
            std::fs::read(&from_b).expect("read"),
        );
        assert!(a_bytes == b_bytes, "{format} exports differ");
        if format == "json" {
            let doc: Value = serde_json::from_slice(&a_bytes).expect("JSON");
            assert!(doc.is_object(), "{doc}");
        }
    }
    // One template to stdout: the same bytes as the server's export of it.
    let one = ok(&template(&a, &["export", "greet"]));
    assert!(
        one.contains("greet") && !one.contains("http-fan-out"),
        "{one}"
    );
    assert_eq!(one, ok(&template(&b, &["export", "greet"])));

    // Strict import of other content stores nothing.
    let other = write(
        dir.path(),
        "greet3.yaml",
        &GREET.replace("Say hello", "Wave"),
    );
    let err = fails(&template(&b, &["import", "--strict", &other]), 1);
    assert!(err.contains("greet"), "{err}");
    let versions = ok(&template(&b, &["show", "greet", "--versions"]));
    assert_eq!(versions.lines().count(), 3, "{versions}");
}

#[test]
fn tekton_files_convert_with_a_report_and_then_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let served = Served::start(&dir.path().join("h.db"), &[]);
    let fixture = root().join("crates/model/tests/tekton/bug_fix.json");
    let fixture = fixture.to_str().expect("utf-8");

    let out = template(&served, &["create", "--dry-run", fixture]);
    let yaml = ok(&out);
    assert!(yaml.contains("workflow:") && yaml.contains("${"), "{yaml}");
    // What could not be converted is reported, pointing into the Tekton file: here the
    // `upper` filter, left as it was.
    let report = stderr(&out);
    assert!(!report.is_empty(), "no conversion report");
    for line in report.lines() {
        assert!(
            line.starts_with(&format!("{fixture}:")) && line.contains(": warning: "),
            "{line}"
        );
    }
    assert!(
        report.contains("dropped") && report.contains("upper"),
        "{report}"
    );
    assert_eq!(yaml.matches("{{").count(), 1, "{yaml}");
    // Nothing was stored by the dry run.
    let listed = ok(&template(&served, &["list", "--json"]));
    assert_eq!(
        serde_json::from_str::<Value>(&listed)
            .expect("JSON")
            .as_array()
            .map(Vec::len),
        Some(5)
    );

    let text = ok(&template(&served, &["create", fixture]));
    let name = text
        .strip_prefix("created template ")
        .and_then(|t| t.strip_suffix(" v1\n"))
        .unwrap_or_else(|| panic!("{text}"))
        .to_string();
    assert_eq!(ok(&template(&served, &["show", &name])), yaml);
}

#[test]
fn instantiate_names_every_violation_then_makes_and_runs_a_workflow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let served = Served::start(&dir.path().join("h.db"), &[]);

    // Every violation, each with its path; nothing created.
    let err = fails(
        &template(
            &served,
            &[
                "instantiate",
                "etl",
                "-p",
                "source_url=ftp://x",
                "-p",
                "extra=1",
            ],
        ),
        1,
    );
    let items: Vec<&str> = err.lines().filter(|l| l.starts_with("  - ")).collect();
    assert_eq!(items.len(), 3, "{err}");
    assert!(err.contains("source_url"), "{err}");
    assert!(err.contains("target_url"), "{err}");
    assert!(err.contains("extra"), "{err}");
    let workflows = get(&format!("{}/api/workflows", served.base));
    assert_eq!(workflows["workflows"], serde_json::json!([]), "{workflows}");

    let greet = write(dir.path(), "greet.yaml", GREET);
    ok(&template(&served, &["create", &greet]));
    let params = write(
        dir.path(),
        "p.json",
        r#"{"who": "file", "punctuation": "."}"#,
    );
    let text = ok(&template(
        &served,
        &[
            "instantiate",
            "greet",
            "--name",
            "hello-ada",
            "--params-file",
            &params,
            "-p",
            "who=Ada",
            "--execute",
            "--input",
            "times=3",
        ],
    ));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "created workflow hello-ada v1 from template greet v1"
    );
    let id = lines[1]
        .strip_prefix("started execution ")
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{text}"));
    let ws = format!(
        "watch it at {}/ws/executions/{id}",
        served.base.replacen("http", "ws", 1)
    );
    assert_eq!(lines[2], ws);

    let deadline = Instant::now() + Duration::from_secs(20);
    let execution = loop {
        let e = get(&format!("{}/api/executions/{id}", served.base));
        if e["status"] != "running" && e["status"] != "pending" {
            break e;
        }
        assert!(Instant::now() < deadline, "still running: {e}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(execution["status"], "succeeded", "{execution}");
    assert_eq!(
        execution["outputs"],
        serde_json::json!({"message": "hello Ada.", "times": 3})
    );

    // Regression: the same again said "created" for a workflow that was already there.
    let text = ok(&template(
        &served,
        &[
            "instantiate",
            "greet",
            "--name",
            "hello-ada",
            "--params-file",
            &params,
            "-p",
            "who=Ada",
        ],
    ));
    assert_eq!(
        text.trim_end(),
        "workflow hello-ada v1 is unchanged: it is template greet v1 with these parameters already"
    );

    // Again with the defaults and a derived name; --json is the server's answer.
    let text = ok(&template(
        &served,
        &["instantiate", "greet", "-p", "who=Bo", "--json"],
    ));
    let answer: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        answer["params"],
        serde_json::json!({"who": "Bo", "punctuation": "!"})
    );
    assert!(
        answer["workflow"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("greet-")),
        "{answer}"
    );
    assert_eq!(answer["execution"], Value::Null);

    // --input without --execute is a command-line error.
    fails(
        &template(&served, &["instantiate", "greet", "--input", "times=1"]),
        2,
    );
}

#[test]
fn tokens_come_from_the_flag_or_the_environment_and_roles_apply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("h.db");
    let viewer = token(&db, "viewer");
    let admin = token(&db, "admin");
    let served = Served::start(&db, &[]);

    let err = fails(&template(&served, &["list"]), 1);
    assert!(
        err.contains("hint: pass --token or set HARMONIA_TOKEN"),
        "{err}"
    );
    let err = fails(&template(&served, &["list", "--token", "not-a-token"]), 1);
    assert!(err.contains("hint:"), "{err}");
    ok(&template(&served, &["list", "--token", &viewer]));
    let out = command(&["show", "etl"])
        .env("HARMONIA_SERVER", &served.base)
        .env("HARMONIA_TOKEN", &viewer)
        .output()
        .expect("runs");
    assert!(ok(&out).starts_with("name: etl"));

    let greet = write(dir.path(), "greet.yaml", GREET);
    let err = fails(
        &template(&served, &["--token", &viewer, "create", &greet]),
        1,
    );
    assert!(err.contains("hint:"), "{err}");
    let err = fails(
        &template(
            &served,
            &["instantiate", "--token", &viewer, "etl", "-p", "who=x"],
        ),
        1,
    );
    assert!(err.contains("hint:"), "{err}");
    ok(&template(&served, &["create", &greet, "--token", &admin]));
}

#[test]
fn a_missing_server_or_a_bad_url_is_a_clear_error() {
    let out = command(&["list", "--server", "http://127.0.0.1:1"])
        .output()
        .expect("runs");
    let err = fails(&out, 1);
    assert!(
        err.starts_with("error: cannot reach the Harmonia server at http://127.0.0.1:1: "),
        "{err}"
    );
    assert!(err.contains("harmonia serve"), "{err}");
    let out = command(&["list", "--server", "127.0.0.1:8007"])
        .output()
        .expect("runs");
    let err = fails(&out, 2);
    assert!(err.contains("--server"), "{err}");
    let out = command(&[
        "import",
        "/nonexistent/x.yaml",
        "--server",
        "http://127.0.0.1:1",
    ])
    .output()
    .expect("runs");
    let err = fails(&out, 1);
    assert!(err.contains("cannot read /nonexistent/x.yaml"), "{err}");
}
