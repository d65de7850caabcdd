//! `harmonia validate`, `graph` and `schema`.

use crate::{harmonia, root, stderr, stdout};

const BROKEN: &str = "name: weather
tasks:
  fetch:
    type: htp
    with: {url: \"http://127.0.0.1:9000/weather\"}
  hot:
    neds: [fetch]
    type: transform
    with:
      input: ${ $tasks.fetch.output }
      expr: 'map(select(.temp > 30)'
";

const FIXED: &str = "name: weather
tasks:
  fetch:
    type: http
    with: {url: \"http://127.0.0.1:9000/weather\"}
  hot:
    needs: [fetch]
    type: transform
    with:
      input: ${ $tasks.fetch.output }
      expr: 'map(select(.temp > 30))'
";

#[test]
fn a_user_sees_every_problem_fixes_them_and_gets_exit_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("weather.yaml");
    std::fs::write(&file, BROKEN).expect("write");
    let f = file.to_str().expect("utf-8 path");

    let out = harmonia(&["validate", f]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(
        lines,
        vec![
            format!(
                "{f}:4:11: error: tasks.fetch.type: unknown task type `htp` (did you mean `http`?); known types: set, transform, http, shell, sleep, workflow, approval, wait_event, worker, component, llm"
            ),
            format!(
                "{f}:7:5: error: tasks.hot.neds: unknown field `neds` in task `hot` (did you mean `needs`?)"
            ),
            format!(
                "{f}:10:17: error: tasks.hot.with.input: `$tasks.fetch` is read here, but `fetch` is not upstream of `hot`, so its result may not exist yet; add `fetch` to `needs` of `hot`"
            ),
            format!(
                "{f}:11:36: error: tasks.hot.with.expr: invalid jq program: expected closing parenthesis, found the end of the expression"
            ),
        ]
    );
    assert!(
        stderr(&out).contains("4 errors in 1 of 1 file"),
        "{}",
        stderr(&out)
    );

    std::fs::write(&file, FIXED).expect("write");
    let out = harmonia(&["validate", f]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("1 file valid"));
}

#[test]
fn every_example_validates() {
    let examples = root().join("examples");
    let out = harmonia(&["validate", examples.to_str().expect("path")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("files valid"));
}

#[test]
fn several_files_report_per_file_and_fail_if_any_is_invalid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.yaml");
    let bad = dir.path().join("bad.json");
    std::fs::write(&good, FIXED).expect("write");
    std::fs::write(
        &bad,
        "{\"name\": \"b\", \"tasks\": {\"a\": {\"type\": \"nope\"}}}",
    )
    .expect("write");
    let out = harmonia(&[
        "validate",
        good.to_str().expect("p"),
        bad.to_str().expect("p"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with(&format!("{}:1:", bad.display())), "{text}");
    assert!(stderr(&out).contains("1 error in 1 of 2 files"));
}

#[test]
fn an_input_the_schema_does_not_declare_is_shown_as_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("w.yaml");
    std::fs::write(
        &file,
        "name: w\ninputs: {type: object, properties: {city: {type: string}}}\ntasks:\n  a: {type: set, with: '${ $inputs.cty }'}\n",
    )
    .expect("write");
    let f = file.to_str().expect("utf-8 path");
    let out = harmonia(&["validate", f]);
    assert_eq!(out.status.code(), Some(0), "warnings keep a file valid");
    assert_eq!(
        stdout(&out).trim(),
        format!(
            "{f}:4:28: warning: tasks.a.with: `$inputs.cty` reads `cty`, which the `inputs` schema does not declare (did you mean `$inputs.city`?)"
        )
    );
    assert_eq!(stderr(&out).trim(), "1 file valid (1 warning)");
    let out = harmonia(&["validate", "--format", "json", f]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["valid"], true);
    assert_eq!(v["files"][0]["diagnostics"][0]["severity"], "warning");
}

#[test]
fn a_sub_workflow_that_is_not_beside_the_file_is_a_warning() {
    // Regression: `type: workflow` naming a workflow that exists nowhere validated
    // without a word, and failed only when it ran.
    let dir = tempfile::tempdir().expect("tempdir");
    let parent = dir.path().join("parent.yaml");
    std::fs::write(
        &parent,
        "name: parent\ntasks:\n  a: {type: workflow, with: {workflow: child}}\n  b: {type: workflow, with: {workflow: notify}}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("child.yml"),
        "name: child\ntasks:\n  x: {type: set}\n",
    )
    .expect("write");
    let f = parent.to_str().expect("utf-8 path");
    let out = harmonia(&["validate", f]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>(),
        vec![format!(
            "{f}:4:40: warning: tasks.b.with.workflow: no workflow `notify` beside this file (notify.yaml, notify.yml or notify.json), where `harmonia run` looks for it; unless it is stored where this workflow runs, task `b` fails"
        )]
    );
    assert_eq!(stderr(&out).trim(), "1 file valid (1 warning)");
    // Once it is there, nothing is said.
    std::fs::write(
        dir.path().join("notify.json"),
        "{\"name\": \"notify\", \"tasks\": {\"x\": {\"type\": \"set\"}}}",
    )
    .expect("write");
    let out = harmonia(&["validate", f]);
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out).trim(), "1 file valid");
}

#[test]
fn a_missing_file_is_an_error_line() {
    let out = harmonia(&["validate", "/nonexistent/flow.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("/nonexistent/flow.yaml:1:1: error: cannot read the file"));
}

#[test]
fn validate_speaks_json_for_tools() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("w.yaml");
    std::fs::write(&file, BROKEN).expect("write");
    let out = harmonia(&["validate", "--format", "json", file.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["valid"], false);
    let d = &v["files"][0]["diagnostics"][0];
    assert_eq!(d["line"], 4);
    assert_eq!(d["column"], 11);
    assert_eq!(d["severity"], "error");
    assert_eq!(d["task"], "fetch");
    assert_eq!(d["path"], "tasks.fetch.type");
}

#[test]
fn graph_draws_conditions_and_fan_outs() {
    let file = root().join("examples/fan-out-weather.yaml");
    let f = file.to_str().expect("p");
    let mermaid = stdout(&harmonia(&["graph", f, "--format", "mermaid"]));
    assert!(mermaid.contains("flowchart LR"));
    assert!(
        mermaid.contains("fetch[[") && mermaid.contains("(concurrency 5)"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("notify{{")
            && mermaid.contains("if ${ $tasks.hot.output | length #gt; 0 }"),
        "{mermaid}"
    );
    assert!(mermaid.contains("fetch --> hot") && mermaid.contains("hot --> notify"));

    let dot = stdout(&harmonia(&["graph", f, "--format", "dot"]));
    assert!(dot.starts_with("digraph \"fan-out-weather\""));
    assert!(dot.contains("\"fetch\" -> \"hot\";"));
    assert!(dot.contains("shape=box3d") && dot.contains("shape=hexagon"));

    let json: serde_json::Value =
        serde_json::from_slice(&harmonia(&["graph", f, "--format", "json"]).stdout).expect("json");
    assert_eq!(json["order"], serde_json::json!(["fetch", "hot", "notify"]));
    assert_eq!(json["nodes"][0]["concurrency"], 5);
    assert_eq!(json["edges"].as_array().map(Vec::len), Some(2));

    let joined = stdout(&harmonia(&[
        "graph",
        root()
            .join("examples/conditional-join.yaml")
            .to_str()
            .expect("p"),
    ]));
    assert!(
        joined.contains("small_batch -. any .-> publish"),
        "{joined}"
    );
}

#[test]
fn graph_of_an_invalid_definition_shows_its_problems() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("w.yaml");
    std::fs::write(&file, BROKEN).expect("write");
    let out = harmonia(&["graph", file.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unknown task type `htp`"));
}

#[test]
fn schema_prints_the_checked_in_schema() {
    let out = harmonia(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let on_disk =
        std::fs::read_to_string(root().join("docs/workflow.schema.json")).expect("schema file");
    assert_eq!(stdout(&out), on_disk);
    let schema: serde_json::Value = serde_json::from_str(&on_disk).expect("json");
    assert!(jsonschema::meta::is_valid(&schema));

    let out = harmonia(&["schema", "--template"]);
    assert_eq!(out.status.code(), Some(0));
    let on_disk =
        std::fs::read_to_string(root().join("docs/template.schema.json")).expect("schema file");
    assert_eq!(stdout(&out), on_disk);
    let schema: serde_json::Value = serde_json::from_str(&on_disk).expect("json");
    assert!(jsonschema::meta::is_valid(&schema));
}

#[test]
fn usage_errors_exit_2() {
    let out = harmonia(&["validate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = harmonia(&["graph", "x.yaml", "--format", "png"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn templates_export_documents_and_tekton_files_validate_too() {
    // The built-in library and the Tekton fixtures: valid; a Tekton file's conversion
    // report comes as warnings pointing into it.
    let templates = root().join("crates/model/templates");
    let out = harmonia(&["validate", templates.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(stderr(&out).trim(), "5 files valid");
    let tekton = root().join("crates/model/tests/tekton/bug_fix.json");
    let tekton = tekton.to_str().expect("utf-8");
    let out = harmonia(&["validate", tekton]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(
        text.lines()
            .all(|l| l.starts_with(&format!("{tekton}:")) && l.contains(": warning: ")),
        "{text}"
    );
    assert!(
        text.contains("dropped: `{{ fix.output.title | upper }}`"),
        "{text}"
    );

    // A broken template and a broken export document: every problem, located.
    let dir = tempfile::tempdir().expect("tempdir");
    let template = dir.path().join("t.yaml");
    std::fs::write(
        &template,
        "name: t\nparameters:\n  type: object\n  properties: {n: {type: nope}}\nworkflow:\n  tasks:\n    a: {type: set, with: {v: '${ $params.n'}}\n",
    )
    .expect("write");
    let document = dir.path().join("export.yaml");
    std::fs::write(
        &document,
        "format: harmonia-templates/1\ntemplates:\n  - name: d\n    versions:\n      - version: 1\n        workflow: {tasks: {a: {type: sett}}}\n",
    )
    .expect("write");
    let (t, d) = (
        template.to_str().expect("utf-8"),
        document.to_str().expect("utf-8"),
    );
    let out = harmonia(&["validate", t, d]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("{t}:4:")), "{text}");
    assert!(text.contains(&format!("{t}:7:")), "{text}");
    assert!(text.contains(&format!("{d}:6:")), "{text}");
    assert!(stderr(&out).contains("in 2 of 2 files"), "{}", stderr(&out));
}

/// Runs `harmonia ARGS` with its stdout a pipe whose reading end is already closed,
/// as `harmonia ... | head -0` would, and returns its status and stderr.
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_harmonia"))
        .args(args)
        .env_remove("HARMONIA_DB")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("it ends");
    (out.status.code(), stderr(&out))
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    // Regression: `harmonia schema | head -1` panicked with a backtrace (Rust ignores
    // SIGPIPE, and `println!` panics on a broken pipe).
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("w.yaml");
    std::fs::write(
        &file,
        "name: w\ninputs: {type: object, properties: {a: {type: string}}}\ntasks:\n  a: {type: set, with: '${ $inputs.b }'}\n",
    )
    .expect("write");
    let f = file.to_str().expect("utf-8 path");
    for args in [
        vec!["schema"],
        vec!["schema", "--template"],
        vec!["validate", f],
        vec!["validate", "--format", "json", f],
        vec!["graph", f],
        vec!["run", f, "--output", "json"],
        vec!["run", f],
    ] {
        let (code, err) = with_closed_stdout(&args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe") && !err.contains("error"),
            "{args:?}: {err}"
        );
    }
}
