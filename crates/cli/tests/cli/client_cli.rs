//! `harmonia workflow ...`, `harmonia submit` and `harmonia execution ...` as a user
//! runs them: the real binary against real `harmonia serve` processes on 127.0.0.1,
//! each on its own SQLite file; and `harmonia completions`.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::served::{Served, token};
use super::{fails, json, ok, stderr, stdout, write};

/// `harmonia ARGS --server BASE`, with no token from the environment.
fn hm(served: &Served, args: &[&str]) -> Output {
    command(args)
        .args(["--server", &served.base])
        .output()
        .expect("the binary runs")
}

/// `harmonia ARGS`, the environment cleared of Harmonia's variables.
fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_harmonia"));
    c.args(args)
        .env_remove("HARMONIA_SERVER")
        .env_remove("HARMONIA_TOKEN")
        .env_remove("HARMONIA_DB")
        .env("NO_COLOR", "1");
    c
}

/// The execution id a command printed alone on stdout.
fn id_of(out: &Output) -> String {
    let id = ok(out).trim().to_string();
    assert_eq!(id.len(), 36, "not an id: {id:?}\nstderr:\n{}", stderr(out));
    id
}

/// `execution get ID -o json`.
fn detail(served: &Served, id: &str) -> Value {
    let out = hm(served, &["execution", "get", id, "-o", "json"]);
    ok(&out);
    json(&out)
}

/// The execution once `done` holds for it (polled), within 20 s.
fn until(served: &Served, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let x = detail(served, id);
        if done(&x) {
            return x;
        }
        assert!(Instant::now() < deadline, "not {what} after 20 s: {x}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// The execution once it has ended.
fn ended(served: &Served, id: &str) -> Value {
    until(served, id, "ended", |x| {
        matches!(
            x["status"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        )
    })
}

/// The executions of `execution list ARGS -o json` (an array), newest first.
fn listed(served: &Served, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["execution", "list", "-o", "json"];
    all.extend_from_slice(args);
    let out = hm(served, &all);
    ok(&out);
    json(&out)
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {}", stdout(&out)))
        .clone()
}

/// The string field `name` of each item.
fn field<'a>(items: &'a [Value], name: &str) -> Vec<&'a str> {
    items.iter().filter_map(|x| x[name].as_str()).collect()
}

/// A workflow with an inputs schema and outputs.
const HELLO: &str = "\
name: hello
description: Say hello
inputs:
  type: object
  required: [who]
  properties:
    who: {type: string}
    times: {type: integer, minimum: 1}
tasks:
  greet:
    type: set
    with:
      message: \"hello ${ $inputs.who }\"
outputs:
  message: ${ $tasks.greet.output.message }
";

/// A workflow whose middle task fails at once (nothing listens on port 1).
const FLAKY: &str = "\
name: flaky
tasks:
  first:
    type: set
    with: 1
  call:
    needs: [first]
    type: http
    with: {url: \"http://127.0.0.1:1/x\"}
    retry: {max_attempts: 1}
  after:
    needs: [call]
    type: set
    with: 2
";

/// A workflow that runs for 30 s unless stopped.
const SLOW: &str = "\
name: slow
tasks:
  nap:
    type: sleep
    with: {duration: 30s}
  after:
    needs: [nap]
    type: set
    with: done
";

/// A workflow that waits for a person, with a form.
const GATE: &str = "\
name: gate
tasks:
  sign_off:
    type: approval
    with:
      prompt: Ship it?
      form:
        type: object
        required: [ticket]
        properties: {ticket: {type: string, pattern: \"^REL-[0-9]+$\"}}
  ship:
    needs: [sign_off]
    type: set
    with: ${ $tasks.sign_off.output.inputs.ticket }
outputs:
  shipped: ${ $tasks.ship.output }
";

/// Unknown type (line 4) and unknown field (line 5).
const BROKEN: &str = "\
name: broken
tasks:
  a:
    type: sett
    wiht: {}
";

/// The names of `workflow list -o json`.
fn workflow_names(served: &Served) -> Vec<String> {
    let out = hm(served, &["workflow", "list", "-o", "json"]);
    ok(&out);
    let list = json(&out);
    let items = list.as_array().unwrap_or_else(|| panic!("{list}"));
    field(items, "name").into_iter().map(String::from).collect()
}

#[test]
fn client_cli_apply_creates_configures_and_reports_bad_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let served = Served::start(&dir.path().join("h.db"), &[]);

    let hello = write(dir.path(), "hello.yaml", HELLO);
    let out = hm(&served, &["workflow", "apply", &hello]);
    assert_eq!(ok(&out), "workflow/hello created (version 1)\n");
    let out = hm(&served, &["workflow", "apply", &hello]);
    assert_eq!(ok(&out), "workflow/hello unchanged (version 1)\n");
    let louder = write(
        dir.path(),
        "hello2.yaml",
        &HELLO.replace("Say hello", "Say hello loudly"),
    );
    let out = hm(&served, &["workflow", "apply", &louder]);
    assert_eq!(ok(&out), "workflow/hello configured (version 2)\n");

    // A directory: its definition files in name order, YAML and JSON; others ignored.
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).expect("mkdir");
    write(
        &flows,
        "a.yaml",
        "name: one\ntasks:\n  a: {type: set, with: 1}\n",
    );
    write(
        &flows,
        "b.json",
        r#"{"name": "two", "tasks": {"b": {"type": "set", "with": 2}}}"#,
    );
    write(&flows, "notes.txt", "not a workflow");
    let flows_s = flows.to_str().expect("utf-8");
    let out = hm(&served, &["workflow", "apply", flows_s]);
    assert_eq!(
        ok(&out),
        "workflow/one created (version 1)\nworkflow/two created (version 1)\n"
    );
    let out = hm(&served, &["workflow", "apply", flows_s, &hello]);
    assert_eq!(
        ok(&out),
        "workflow/one unchanged (version 1)\nworkflow/two unchanged (version 1)\nworkflow/hello configured (version 3)\n"
    );

    // An invalid file: every problem, pointing into it; nothing created.
    let bad = write(dir.path(), "bad.yaml", BROKEN);
    let out = hm(&served, &["workflow", "apply", &bad]);
    let err = fails(&out, 1);
    assert_eq!(stdout(&out), "", "{err}");
    assert!(err.starts_with("error: "), "{err}");
    let located: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with(&format!("{bad}:")))
        .collect();
    assert!(
        located.iter().any(|l| l.starts_with(&format!("{bad}:4:"))
            && l.contains(": error: ")
            && l.contains("sett")),
        "{err}"
    );
    assert!(
        located.iter().any(|l| l.starts_with(&format!("{bad}:5:"))
            && l.contains(": error: ")
            && l.contains("wiht")),
        "{err}"
    );
    let names = workflow_names(&served);
    assert!(!names.iter().any(|n| n == "broken"), "{names:?}");

    // One bad file among good ones: the good ones are applied, the exit code is 1.
    let mixed = dir.path().join("mixed");
    std::fs::create_dir(&mixed).expect("mkdir");
    write(
        &mixed,
        "a.yaml",
        "name: three\ntasks:\n  a: {type: set, with: 3}\n",
    );
    write(
        &mixed,
        "b.yaml",
        "name: four\ntasks:\n  a: {type: set, with: [1\n",
    );
    write(
        &mixed,
        "c.yaml",
        "name: five\ntasks:\n  a: {type: set, with: 5}\n",
    );
    let out = hm(
        &served,
        &["workflow", "apply", mixed.to_str().expect("utf-8")],
    );
    let err = fails(&out, 1);
    assert_eq!(
        stdout(&out),
        "workflow/three created (version 1)\nworkflow/five created (version 1)\n",
        "{err}"
    );
    let b = mixed.join("b.yaml");
    assert!(
        err.lines()
            .any(|l| l.starts_with(&format!("{}:3:", b.display())) && l.contains(": error: ")),
        "{err}"
    );
    let mut names = workflow_names(&served);
    names.sort();
    assert_eq!(names, ["five", "hello", "one", "three", "two"]);

    // A file that is not there.
    let missing = dir.path().join("nope.yaml");
    let missing = missing.to_str().expect("utf-8");
    let err = fails(&hm(&served, &["workflow", "apply", missing]), 1);
    assert!(err.contains(&format!("cannot read {missing}")), "{err}");
}

#[test]
fn client_cli_workflows_are_listed_read_diffed_and_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let served = Served::start(&dir.path().join("h.db"), &[]);

    // Nothing yet: an empty table says so on stderr, an empty array for scripts.
    let out = hm(&served, &["workflow", "list"]);
    assert_eq!(ok(&out), "");
    assert!(stderr(&out).contains("no workflows"), "{}", stderr(&out));
    assert_eq!(workflow_names(&served), Vec::<String>::new());

    let hello = write(dir.path(), "hello.yaml", HELLO);
    let louder_text = HELLO.replace("Say hello", "Say hello loudly");
    let louder = write(dir.path(), "hello2.yaml", &louder_text);
    ok(&hm(&served, &["workflow", "apply", &hello]));
    ok(&hm(&served, &["workflow", "apply", &louder]));
    let other = write(
        dir.path(),
        "o.yaml",
        "name: other\ntasks:\n  a: {type: set, with: 1}\n",
    );
    ok(&hm(&served, &["workflow", "apply", &other]));

    let table = ok(&hm(&served, &["workflow", "list"]));
    let lines: Vec<&str> = table.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "VERSION", "UPDATED", "DESCRIPTION"],
        "{table}"
    );
    let row = lines
        .iter()
        .find(|l| l.starts_with("hello "))
        .unwrap_or_else(|| panic!("{table}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1], "2", "{table}");
    assert!(row.ends_with("Say hello loudly"), "{table}");
    assert_eq!(lines.len(), 3, "{table}");
    let out = hm(
        &served,
        &["workflow", "list", "--search", "ell", "-o", "json"],
    );
    ok(&out);
    let found = json(&out);
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["name"], "hello");
    assert_eq!(found[0]["version"], 2);

    // `get`: the text as written, of the latest version or the one asked for.
    assert_eq!(ok(&hm(&served, &["workflow", "get", "hello"])), louder_text);
    assert_eq!(
        ok(&hm(
            &served,
            &["workflow", "get", "hello", "--version", "1"]
        )),
        HELLO
    );
    let out = hm(&served, &["workflow", "get", "hello", "-o", "json"]);
    ok(&out);
    let record = json(&out);
    assert_eq!(record["name"], "hello", "{record}");
    assert_eq!(record["version"], 2, "{record}");
    assert_eq!(record["source"], louder_text.as_str(), "{record}");
    let yaml = ok(&hm(&served, &["workflow", "get", "hello", "-o", "yaml"]));
    let from_yaml: Value = serde_saphyr::from_str(&yaml).expect("YAML");
    assert_eq!(from_yaml["name"], "hello", "{yaml}");
    assert_eq!(from_yaml["version"], 2, "{yaml}");
    assert_eq!(from_yaml["source"], louder_text.as_str(), "{yaml}");
    let err = fails(
        &hm(&served, &["workflow", "get", "hello", "--version", "9"]),
        1,
    );
    assert!(err.contains("version 9"), "{err}");

    // `versions`.
    let table = ok(&hm(&served, &["workflow", "versions", "hello"]));
    let lines: Vec<&str> = table.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["VERSION", "CREATED", "DESCRIPTION"], "{table}");
    assert!(
        lines[1].starts_with("1 ") && lines[1].ends_with("Say hello"),
        "{table}"
    );
    assert!(
        lines[2].starts_with("2 ") && lines[2].ends_with("Say hello loudly"),
        "{table}"
    );
    assert_eq!(lines.len(), 3, "{table}");
    let out = hm(&served, &["workflow", "versions", "hello", "-o", "json"]);
    ok(&out);
    let versions = json(&out);
    let numbers: Vec<u64> = versions["versions"]
        .as_array()
        .unwrap_or_else(|| panic!("{versions}"))
        .iter()
        .filter_map(|v| v["version"].as_u64())
        .collect();
    assert_eq!(numbers, [1, 2], "{versions}");

    // `diff`: a unified diff of the texts; the server's structural diff with -o.
    let diff = ok(&hm(&served, &["workflow", "diff", "hello"]));
    let lines: Vec<&str> = diff.lines().collect();
    assert_eq!(lines[0], "--- hello v1", "{diff}");
    assert_eq!(lines[1], "+++ hello v2", "{diff}");
    assert!(lines[2].starts_with("@@ "), "{diff}");
    assert!(lines.contains(&"-description: Say hello"), "{diff}");
    assert!(lines.contains(&"+description: Say hello loudly"), "{diff}");
    assert!(lines.contains(&" name: hello"), "{diff}");
    assert!(!diff.contains('\x1b'), "colours in a pipe: {diff:?}");
    let same = hm(
        &served,
        &["workflow", "diff", "hello", "--from", "2", "--to", "2"],
    );
    assert_eq!(ok(&same), "");
    assert!(stderr(&same).contains("are the same"), "{}", stderr(&same));
    let out = hm(
        &served,
        &[
            "workflow", "diff", "hello", "--from", "1", "--to", "2", "-o", "json",
        ],
    );
    ok(&out);
    let structural = json(&out);
    assert_eq!(structural["from"], 1, "{structural}");
    assert_eq!(structural["to"], 2, "{structural}");
    assert_eq!(
        structural["changes"],
        json!([{"path": "/description", "change": "changed", "before": "Say hello", "after": "Say hello loudly"}])
    );
    let err = fails(&hm(&served, &["workflow", "diff", "other"]), 1);
    assert!(err.contains("no version before 1"), "{err}");

    // An unknown workflow: the server's message, exit 1.
    for args in [
        &["workflow", "get", "nope"][..],
        &["workflow", "versions", "nope"],
        &["workflow", "diff", "nope"],
        &["workflow", "delete", "nope"],
    ] {
        let out = hm(&served, args);
        let err = fails(&out, 1);
        assert_eq!(err, "error: no workflow `nope`\n", "{args:?}");
        assert_eq!(stdout(&out), "", "{args:?}");
    }

    // Delete, then it is gone.
    assert_eq!(
        ok(&hm(&served, &["workflow", "delete", "hello"])),
        "workflow/hello deleted\n"
    );
    let err = fails(&hm(&served, &["workflow", "get", "hello"]), 1);
    assert_eq!(err, "error: no workflow `hello`\n");
    assert_eq!(workflow_names(&served), ["other"]);

    // A workflow with an unfinished execution is kept unless --force.
    let slow = write(dir.path(), "slow.yaml", SLOW);
    let id = id_of(&hm(&served, &["submit", &slow]));
    let err = fails(&hm(&served, &["workflow", "delete", "slow"]), 1);
    assert!(
        err.contains("unfinished") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        ok(&hm(&served, &["workflow", "delete", "slow", "--force"])),
        "workflow/slow deleted\n"
    );
    assert_eq!(workflow_names(&served), ["other"]);
    ok(&hm(&served, &["execution", "cancel", &id]));
}

#[test]
fn client_cli_submit_runs_files_and_names_and_watches_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let served = Served::start(&dir.path().join("h.db"), &[]);
    let hello = write(dir.path(), "hello.yaml", HELLO);

    // By file: applied, then run; only the id on stdout.
    let out = hm(&served, &["submit", &hello, "-i", "who=Ada"]);
    let id = id_of(&out);
    let err = stderr(&out);
    assert!(err.contains("workflow/hello created (version 1)"), "{err}");
    assert!(
        err.contains(&format!("execution {id} started: hello version 1")),
        "{err}"
    );
    let x = ended(&served, &id);
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(x["outputs"], json!({"message": "hello Ada"}));
    // The same file again is not a new version.
    let out = hm(&served, &["submit", &hello, "-i", "who=Ada"]);
    id_of(&out);
    assert!(
        stderr(&out).contains("workflow/hello unchanged (version 1)"),
        "{}",
        stderr(&out)
    );

    // By name, with inputs from -i over --input-file.
    let inputs = write(dir.path(), "in.json", r#"{"who": "file", "times": 2}"#);
    let id = id_of(&hm(
        &served,
        &["submit", "hello", "--input-file", &inputs, "-i", "who=Bo"],
    ));
    let x = ended(&served, &id);
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(x["outputs"], json!({"message": "hello Bo"}));

    // --watch of a success: the outputs on stdout, exit 0.
    let out = hm(&served, &["submit", "hello", "-i", "who=Cy", "--watch"]);
    let text = ok(&out);
    let outputs: Value = serde_json::from_str(&text).expect("outputs JSON on stdout");
    assert_eq!(outputs, json!({"message": "hello Cy"}));
    let err = stderr(&out);
    assert!(err.contains("greet succeeded"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("execution ") && l.contains("(hello) succeeded in ")),
        "{err}"
    );

    // --version runs an older version.
    let louder = write(
        dir.path(),
        "hello2.yaml",
        &HELLO.replace("\"hello ", "\"HELLO "),
    );
    ok(&hm(&served, &["workflow", "apply", &louder]));
    let out = hm(
        &served,
        &[
            "submit",
            "hello",
            "-i",
            "who=Di",
            "--version",
            "1",
            "--watch",
        ],
    );
    let outputs: Value = serde_json::from_str(&ok(&out)).expect("JSON");
    assert_eq!(outputs, json!({"message": "hello Di"}));
    assert!(stderr(&out).contains("hello version 1"), "{}", stderr(&out));
    let out = hm(&served, &["submit", "hello", "-i", "who=Di", "--watch"]);
    let outputs: Value = serde_json::from_str(&ok(&out)).expect("JSON");
    assert_eq!(outputs, json!({"message": "HELLO Di"}));

    // --watch of a failure: exit 1, no outputs, the failed task named on stderr.
    let flaky = write(dir.path(), "flaky.yaml", FLAKY);
    let out = hm(&served, &["submit", &flaky, "--watch"]);
    let err = fails(&out, 1);
    assert_eq!(stdout(&out).trim(), "", "{err}");
    assert!(
        err.lines().any(|l| l.contains("(flaky) failed in ")),
        "{err}"
    );
    let failed: Vec<&str> = err.lines().filter(|l| l.contains('✗')).collect();
    assert_eq!(failed.len(), 1, "{err}");
    assert!(
        failed[0].contains("call:") && failed[0].contains("127.0.0.1:1"),
        "{err}"
    );

    // Inputs that break the schema: every field named, nothing started.
    let before = listed(&served, &["--workflow", "hello"]).len();
    let err = fails(&hm(&served, &["submit", "hello", "-i", "times=0"]), 1);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("who"), "{err}");
    assert!(err.contains("/times"), "{err}");
    let err = fails(&hm(&served, &["submit", "hello", "-i", "who=5"]), 1);
    assert!(err.contains("who"), "{err}");
    assert_eq!(listed(&served, &["--workflow", "hello"]).len(), before);

    // A file that is not there, or a workflow the server does not have.
    let out = hm(&served, &["submit", "nope.yaml"]);
    let err = fails(&out, 1);
    assert_eq!(stdout(&out), "");
    assert!(err.contains("no file nope.yaml"), "{err}");
    let missing = dir.path().join("gone/flow.yml");
    let err = fails(
        &hm(&served, &["submit", missing.to_str().expect("utf-8")]),
        1,
    );
    assert!(err.contains("no file "), "{err}");
    let err = fails(&hm(&served, &["submit", "nope"]), 1);
    assert!(err.contains("no workflow `nope`"), "{err}");
    let err = fails(
        &hm(
            &served,
            &["submit", "hello", "--input-file", "/nonexistent/in.json"],
        ),
        1,
    );
    assert!(err.contains("/nonexistent/in.json"), "{err}");
}

#[test]
fn client_cli_executions_are_listed_read_and_found_by_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let served = Served::start(&dir.path().join("h.db"), &[]);
    let hello = write(dir.path(), "hello.yaml", HELLO);
    let flaky = write(dir.path(), "flaky.yaml", FLAKY);
    let a = id_of(&hm(&served, &["submit", &hello, "-i", "who=a"]));
    let b = id_of(&hm(&served, &["submit", "hello", "-i", "who=b"]));
    let f = id_of(&hm(&served, &["submit", &flaky]));
    for id in [&a, &b, &f] {
        ended(&served, id);
    }

    // Filters.
    let all = listed(&served, &[]);
    assert_eq!(field(&all, "id"), [f.as_str(), b.as_str(), a.as_str()]);
    let both = listed(&served, &["--status", "failed,succeeded"]);
    assert_eq!(field(&both, "id"), [f.as_str(), b.as_str(), a.as_str()]);
    let failed = listed(&served, &["--status", "failed"]);
    assert_eq!(field(&failed, "id"), [f.as_str()]);
    assert_eq!(field(&failed, "status"), ["failed"]);
    let split = listed(&served, &["--status", "succeeded", "--status", "cancelled"]);
    assert_eq!(field(&split, "id"), [b.as_str(), a.as_str()]);
    assert!(listed(&served, &["--status", "running,paused"]).is_empty());
    let of_hello = listed(&served, &["--workflow", "hello"]);
    assert_eq!(field(&of_hello, "id"), [b.as_str(), a.as_str()]);
    assert_eq!(field(&of_hello, "workflow"), ["hello", "hello"]);
    assert_eq!(listed(&served, &["--since", "1h"]).len(), 3);
    assert!(listed(&served, &["--since", "2099-01-01T00:00:00Z"]).is_empty());
    let combined = listed(
        &served,
        &[
            "--status",
            "succeeded,failed",
            "--workflow",
            "flaky",
            "--since",
            "1h",
        ],
    );
    assert_eq!(field(&combined, "id"), [f.as_str()]);
    assert_eq!(listed(&served, &["--limit", "2"]).len(), 2);
    // What started them: `submit` is the API's execute (no token needed here).
    assert_eq!(all[0]["origin"], json!({"kind": "api", "by": null}));
    assert_eq!(listed(&served, &["--origin", "api,mcp"]).len(), 3);
    assert!(listed(&served, &["--origin", "schedule"]).is_empty());
    assert!(listed(&served, &["--trigger", "hello.0"]).is_empty());
    let by_input = listed(&served, &["--input", r#""who":"b""#]);
    assert_eq!(field(&by_input, "id"), [b.as_str()]);
    let err = fails(&hm(&served, &["execution", "list", "--origin", "bogus"]), 1);
    assert!(err.contains("`origin`"), "{err}");
    let err = fails(&hm(&served, &["execution", "list", "--status", "bogus"]), 1);
    assert!(err.contains("bogus"), "{err}");
    let err = fails(&hm(&served, &["execution", "list", "--since", "soon"]), 1);
    assert!(err.contains("--since"), "{err}");
    let yaml = ok(&hm(&served, &["execution", "list", "-o", "yaml"]));
    let from_yaml: Value = serde_saphyr::from_str(&yaml).expect("YAML");
    assert_eq!(from_yaml.as_array().map(Vec::len), Some(3), "{yaml}");
    assert_eq!(from_yaml[0]["id"], f.as_str(), "{yaml}");

    // The table.
    let table = ok(&hm(&served, &["execution", "list"]));
    let lines: Vec<&str> = table.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["ID", "WORKFLOW", "VERSION", "STATUS", "STARTED", "DURATION"],
        "{table}"
    );
    assert_eq!(lines.len(), 4, "{table}");
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(&cells[..4], [f.as_str(), "flaky", "1", "failed"], "{table}");
    assert!(lines[1].contains(" ago "), "{table}");
    let out = hm(&served, &["execution", "list", "--status", "running"]);
    assert_eq!(ok(&out), "");
    assert!(stderr(&out).contains("no executions"), "{}", stderr(&out));

    // get: by the whole id (any case) or by a unique prefix.
    let x = detail(&served, &f);
    assert_eq!(x["id"], f.as_str());
    assert_eq!(x["status"], "failed");
    assert_eq!(detail(&served, &f[..30])["id"], f.as_str());
    assert_eq!(detail(&served, &f.to_uppercase())["id"], f.as_str());
    let yaml = ok(&hm(&served, &["execution", "get", &a[..30], "-o", "yaml"]));
    let from_yaml: Value = serde_saphyr::from_str(&yaml).expect("YAML");
    assert_eq!(from_yaml["id"], a.as_str(), "{yaml}");
    assert_eq!(
        from_yaml["outputs"],
        json!({"message": "hello a"}),
        "{yaml}"
    );
    let view = ok(&hm(&served, &["execution", "get", &f[..30]]));
    assert!(view.starts_with(&format!("Execution  {f}\n")), "{view}");
    assert!(view.contains("Workflow   flaky (version 1)\n"), "{view}");
    assert!(view.contains("Status     failed\n"), "{view}");
    assert!(
        view.lines()
            .any(|l| l.starts_with("Error ") && l.contains("task `call` failed")),
        "{view}"
    );
    let task_header = view
        .lines()
        .find(|l| l.starts_with("TASK "))
        .unwrap_or_else(|| panic!("{view}"));
    assert_eq!(
        task_header.split_whitespace().collect::<Vec<_>>(),
        ["TASK", "STATUS", "ATTEMPTS", "DURATION", "DETAIL"]
    );
    let row = |task: &str| -> String {
        view.lines()
            .find(|l| l.starts_with(&format!("{task} ")))
            .unwrap_or_else(|| panic!("no row for {task}:\n{view}"))
            .to_string()
    };
    assert!(row("first").contains(" succeeded "), "{view}");
    assert!(
        row("call").contains(" failed ") && row("call").contains("connection"),
        "{view}"
    );
    assert!(row("after").contains(" skipped "), "{view}");
    let view = ok(&hm(&served, &["execution", "get", &a]));
    assert!(view.contains("Outputs\n"), "{view}");
    assert!(view.contains("\"message\": \"hello a\""), "{view}");

    // events: one line per event, in order.
    let events = ok(&hm(&served, &["execution", "events", &f[..13]]));
    let lines: Vec<&str> = events.lines().collect();
    assert!(lines[0].contains("execution_started"), "{events}");
    assert!(lines[0].trim_start().starts_with("1 "), "{events}");
    assert!(
        lines.last().is_some_and(|l| l.contains("execution_failed")),
        "{events}"
    );
    assert!(events.contains("task_failed"), "{events}");
    let out = hm(&served, &["execution", "events", &a, "-o", "json"]);
    ok(&out);
    let log = json(&out);
    let kinds: Vec<&str> = log["events"]
        .as_array()
        .unwrap_or_else(|| panic!("{log}"))
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds.first(), Some(&"execution_started"), "{log}");
    assert_eq!(kinds.last(), Some(&"execution_succeeded"), "{log}");

    // watch of an ended execution: its outcome at once.
    let out = hm(&served, &["execution", "watch", &a[..30]]);
    let outputs: Value = serde_json::from_str(&ok(&out)).expect("JSON");
    assert_eq!(outputs, json!({"message": "hello a"}));
    let err = fails(&hm(&served, &["execution", "watch", &f]), 1);
    assert!(
        err.lines().any(|l| l.contains('✗') && l.contains("call")),
        "{err}"
    );

    // No match, several matches, not an id.
    for args in [
        &["execution", "get", "ffff"][..],
        &["execution", "events", "ffff"],
        &["execution", "cancel", "ffff"],
    ] {
        let err = fails(&hm(&served, args), 1);
        assert!(
            err.contains("no execution has an id that starts with `ffff`"),
            "{args:?}: {err}"
        );
    }
    // UUIDv7 ids made within days of each other share their first 4 characters.
    let short = &b[..4];
    assert_eq!(&a[..4], short);
    let err = fails(&hm(&served, &["execution", "get", short]), 1);
    assert!(
        err.contains(&format!("`{short}` is the start of 3 execution ids")),
        "{err}"
    );
    for id in [&a, &b, &f] {
        assert!(err.contains(id.as_str()), "{err}");
    }
    let err = fails(&hm(&served, &["execution", "get", "zz!"]), 1);
    assert!(err.contains("`zz!` is not an execution id"), "{err}");

    // Why `after` was skipped, in words (the view maps the server's reasons).
    assert!(
        row("after").contains("a task it needs failed"),
        "the skipped task's DETAIL shows the raw reason:\n{}",
        row("after")
    );
}

#[test]
fn client_cli_executions_are_paused_resumed_cancelled_and_retried() {
    let dir = tempfile::tempdir().expect("tempdir");
    let served = Served::start(&dir.path().join("h.db"), &[]);
    let slow = write(dir.path(), "slow.yaml", SLOW);
    let hello = write(dir.path(), "hello.yaml", HELLO);
    let flaky = write(dir.path(), "flaky.yaml", FLAKY);

    // A running execution: paused, resumed, cancelled.
    let id = id_of(&hm(&served, &["submit", &slow]));
    until(&served, &id, "running its sleep", |x| {
        x["tasks"]["nap"]["status"] == "running"
    });
    assert_eq!(
        ok(&hm(&served, &["execution", "pause", &id])),
        format!("execution {id} paused\n")
    );
    assert_eq!(detail(&served, &id)["status"], "paused");
    let paused = listed(&served, &["--status", "paused,running"]);
    assert_eq!(field(&paused, "id"), [id.as_str()]);
    let err = fails(&hm(&served, &["execution", "pause", &id]), 1);
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(
        ok(&hm(&served, &["execution", "resume", &id[..20]])),
        format!("execution {id} running\n")
    );
    assert_eq!(detail(&served, &id)["status"], "running");
    assert_eq!(
        ok(&hm(
            &served,
            &[
                "execution",
                "cancel",
                &id[..30],
                "--reason",
                "no longer needed"
            ]
        )),
        format!("execution {id} cancelled\n")
    );
    let x = ended(&served, &id);
    assert_eq!(x["status"], "cancelled", "{x}");
    let events = ok(&hm(&served, &["execution", "events", &id]));
    assert!(
        events
            .lines()
            .any(|l| l.contains("cancel_requested") && l.contains("no longer needed")),
        "{events}"
    );
    assert!(events.contains("execution_cancelled"), "{events}");

    // A finished execution: the server refuses, with its reason.
    let done = id_of(&hm(&served, &["submit", &hello, "-i", "who=x"]));
    ended(&served, &done);
    let out = hm(&served, &["execution", "cancel", &done]);
    let err = fails(&out, 1);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        err,
        format!("error: cannot cancel execution {done}: it is succeeded\n")
    );
    let err = fails(&hm(&served, &["execution", "pause", &done]), 1);
    assert!(
        err.contains("cannot pause") && err.contains("succeeded"),
        "{err}"
    );
    let err = fails(&hm(&served, &["execution", "resume", &done]), 1);
    assert!(err.contains("cannot resume"), "{err}");

    // retry: a preview starts nothing.
    let failed = id_of(&hm(&served, &["submit", &flaky]));
    assert_eq!(ended(&served, &failed)["status"], "failed");
    let preview = ok(&hm(
        &served,
        &["execution", "retry", &failed[..30], "--preview"],
    ));
    assert_eq!(
        preview,
        format!(
            "retry of {failed} on flaky version 1\n  runs again: call, after\n  reuses:     first\n"
        )
    );
    let preview = ok(&hm(
        &served,
        &[
            "execution",
            "retry",
            &failed,
            "--from",
            "first",
            "--preview",
        ],
    ));
    assert!(
        preview.contains("runs again: first, call, after"),
        "{preview}"
    );
    assert!(preview.contains("reuses:     (none)"), "{preview}");
    assert_eq!(listed(&served, &["--workflow", "flaky"]).len(), 1);

    // retry --from: a new execution, on stdout, that records what it retries.
    let out = hm(&served, &["execution", "retry", &failed, "--from", "first"]);
    let again = id_of(&out);
    assert_ne!(again, failed);
    assert!(
        stderr(&out).contains(&format!("retrying {failed} as {again}")),
        "{}",
        stderr(&out)
    );
    let x = ended(&served, &again);
    assert_eq!(x["retry_of"], failed.as_str(), "{x}");
    assert_eq!(x["status"], "failed", "{x}");
    assert_eq!(x["tasks"]["first"]["status"], "succeeded", "{x}");
    assert_eq!(listed(&served, &["--workflow", "flaky"]).len(), 2);

    // retry --watch: follows the new execution; it fails again.
    let out = hm(&served, &["execution", "retry", &failed, "--watch"]);
    let err = fails(&out, 1);
    assert_eq!(stdout(&out).trim().len(), 36, "{}", stdout(&out));
    assert!(
        err.lines().any(|l| l.contains('✗') && l.contains("call")),
        "{err}"
    );

    // retry on the latest version, where the call is fixed: it succeeds.
    let fixed = write(
        dir.path(),
        "flaky2.yaml",
        &FLAKY.replace(
            "type: http\n    with: {url: \"http://127.0.0.1:1/x\"}",
            "type: set\n    with: fixed",
        ),
    );
    assert_eq!(
        ok(&hm(&served, &["workflow", "apply", &fixed])),
        "workflow/flaky configured (version 2)\n"
    );
    let preview = ok(&hm(
        &served,
        &[
            "execution",
            "retry",
            &failed,
            "--latest-version",
            "--preview",
        ],
    ));
    assert!(preview.contains("on flaky version 2"), "{preview}");
    let out = hm(
        &served,
        &["execution", "retry", &failed, "--latest-version", "--watch"],
    );
    let text = ok(&out);
    let new = text.lines().next().unwrap_or_default();
    assert_eq!(new.len(), 36, "{text}");
    let x = detail(&served, new);
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(x["version"], 2, "{x}");
}

#[test]
fn client_cli_approval_tasks_are_approved_and_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let served = Served::start(&dir.path().join("h.db"), &[]);
    let gate = write(dir.path(), "gate.yaml", GATE);
    let yes = id_of(&hm(&served, &["submit", &gate]));
    let no = id_of(&hm(&served, &["submit", "gate"]));
    let waiting = |x: &Value| x["tasks"]["sign_off"]["waiting"]["for"] == "approval";
    until(&served, &yes, "waiting for approval", waiting);
    until(&served, &no, "waiting for approval", waiting);
    let view = ok(&hm(&served, &["execution", "get", &yes]));
    assert!(
        view.lines()
            .any(|l| l.starts_with("sign_off ") && l.contains("waiting for approval")),
        "{view}"
    );

    // An answer that breaks the form changes nothing.
    let err = fails(
        &hm(
            &served,
            &[
                "execution",
                "approve",
                &yes,
                "sign_off",
                "-i",
                "ticket=nope",
            ],
        ),
        1,
    );
    assert!(err.contains("/ticket"), "{err}");
    let err = fails(
        &hm(&served, &["execution", "approve", &yes[..30], "sign_off"]),
        1,
    );
    assert!(err.contains("ticket"), "{err}");
    assert!(waiting(&detail(&served, &yes)));

    // Approved: the task succeeds with the form's values and the execution goes on.
    assert_eq!(
        ok(&hm(
            &served,
            &[
                "execution",
                "approve",
                &yes[..30],
                "sign_off",
                "-i",
                "ticket=REL-7"
            ]
        )),
        format!("task sign_off of execution {yes} succeeded\n")
    );
    let x = ended(&served, &yes);
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(x["outputs"], json!({"shipped": "REL-7"}));
    assert_eq!(
        x["tasks"]["sign_off"]["output"]["decision"], "approved",
        "{x}"
    );
    // Answering again: the task no longer waits.
    let err = fails(
        &hm(
            &served,
            &[
                "execution",
                "approve",
                &yes,
                "sign_off",
                "-i",
                "ticket=REL-8",
            ],
        ),
        1,
    );
    assert!(err.contains("not waiting"), "{err}");

    // Rejected: the task fails (class `rejected`), and so does the execution.
    assert_eq!(
        ok(&hm(
            &served,
            &["execution", "reject", &no, "sign_off", "-i", "ticket=REL-9"]
        )),
        format!("task sign_off of execution {no} failed\n")
    );
    let x = ended(&served, &no);
    assert_eq!(x["status"], "failed", "{x}");
    assert_eq!(x["tasks"]["ship"]["status"], "skipped", "{x}");
    let view = ok(&hm(&served, &["execution", "get", &no]));
    assert!(
        view.lines()
            .any(|l| l.starts_with("Error ") && l.contains("rejected")),
        "{view}"
    );
}

#[test]
fn client_cli_connection_failures_and_roles_are_clear() {
    // No server.
    let dir = tempfile::tempdir().expect("tempdir");
    let hello = write(dir.path(), "hello.yaml", HELLO);
    let full = "01a22e3a-35c8-7202-a0f7-7fe52d1d4d48";
    for args in [
        &["workflow", "list"][..],
        &["workflow", "apply", &hello],
        &["submit", "hello"],
        &["submit", &hello],
        &["execution", "list"],
        &["execution", "get", full],
        &["execution", "get", "01a2"],
        &["execution", "cancel", full],
    ] {
        let out = command(args)
            .args(["--server", "http://127.0.0.1:1"])
            .output()
            .expect("runs");
        let err = fails(&out, 1);
        assert!(
            err.starts_with("error: cannot reach the Harmonia server at http://127.0.0.1:1: "),
            "{args:?}: {err}"
        );
        assert!(err.contains("harmonia serve"), "{args:?}: {err}");
        assert_eq!(stdout(&out), "", "{args:?}");
    }
    // The server from the environment.
    let out = command(&["execution", "list"])
        .env("HARMONIA_SERVER", "http://127.0.0.1:1")
        .output()
        .expect("runs");
    let err = fails(&out, 1);
    assert!(
        err.contains("cannot reach the Harmonia server at http://127.0.0.1:1"),
        "{err}"
    );

    // A server with auth on: tokens made before it starts.
    let db = dir.path().join("h.db");
    let admin = token(&db, "admin");
    let operator = token(&db, "operator");
    let viewer = token(&db, "viewer");
    let served = Served::start(&db, &[]);
    for args in [
        &["workflow", "list"][..],
        &["execution", "list"],
        &["submit", "hello"],
    ] {
        let err = fails(&hm(&served, args), 1);
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(
            err.contains("hint: pass --token or set HARMONIA_TOKEN"),
            "{args:?}: {err}"
        );
        let mut with_bad = args.to_vec();
        with_bad.extend(["--token", "hm_not_a_token"]);
        let err = fails(&hm(&served, &with_bad), 1);
        assert!(
            err.contains("hint: pass --token or set HARMONIA_TOKEN"),
            "{args:?}: {err}"
        );
    }

    // An admin applies, an operator (from the environment) runs.
    let slow = write(dir.path(), "slow.yaml", SLOW);
    assert_eq!(
        ok(&hm(
            &served,
            &["workflow", "apply", &slow, "--token", &admin]
        )),
        "workflow/slow created (version 1)\n"
    );
    let out = command(&["submit", "slow"])
        .args(["--server", &served.base])
        .env("HARMONIA_TOKEN", &operator)
        .output()
        .expect("runs");
    let id = id_of(&out);

    // A viewer reads but cannot act: 403, with the hint.
    let seen = hm(
        &served,
        &["execution", "list", "-o", "json", "--token", &viewer],
    );
    ok(&seen);
    assert_eq!(json(&seen)[0]["id"], id.as_str());
    let err = fails(
        &hm(&served, &["workflow", "apply", &slow, "--token", &viewer]),
        1,
    );
    assert!(err.contains("hint: pass --token"), "{err}");
    let out = hm(
        &served,
        &["execution", "cancel", &id[..30], "--token", &viewer],
    );
    let err = fails(&out, 1);
    assert_eq!(stdout(&out), "");
    assert!(err.contains("operator") && err.contains("viewer"), "{err}");
    assert!(
        err.contains("hint: pass --token or set HARMONIA_TOKEN"),
        "{err}"
    );
    let x = hm(
        &served,
        &["execution", "get", &id, "-o", "json", "--token", &viewer],
    );
    ok(&x);
    assert_eq!(json(&x)["status"], "running");
    assert_eq!(
        ok(&hm(
            &served,
            &["execution", "cancel", &id, "--token", &operator]
        )),
        format!("execution {id} cancelled\n")
    );
}

#[test]
fn client_cli_completions_cover_the_client_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = command(&["completions", shell]).output().expect("runs");
        let script = ok(&out);
        assert!(script.len() > 1000, "{shell}: {script}");
        for word in ["execution", "submit", "workflow", "approve", "server"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
    let err = fails(
        &command(&["completions", "tcsh"]).output().expect("runs"),
        2,
    );
    assert!(err.contains("tcsh"), "{err}");
}
