//! `harmonia execution get ID`: an execution for people (what ran, when, how long,
//! every task with its attempts and error or what it waits for, and the outputs), or
//! the server's `GET /api/executions/{id}` with `-o json|yaml`.

use jiff::Timestamp;
use serde_json::Value;

use super::reader::{DbArg, Reader};
use crate::commands::remote::print::{self, OutputArg};
use crate::commands::remote::{Client, Failure, table, when};
use crate::output::out;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The execution: its id or a unique prefix of it.
    #[arg(value_name = "ID")]
    id: String,
    #[command(flatten)]
    output: OutputArg,
    #[command(flatten)]
    db: DbArg,
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<(), Failure> {
    let reader = Reader::open(client, &args.db).await?;
    let id = reader.resolve(&args.id).await?;
    let detail: Value = reader.execution(&id).await?;
    if print::data(args.output.format, &detail)? {
        return Ok(());
    }
    out!("{}", render(&detail, Timestamp::now()));
    Ok(())
}

/// The view of `execution get`.
pub(crate) fn render(x: &Value, now: Timestamp) -> String {
    let started = x.get("started_at").and_then(Value::as_str);
    let ended = x.get("ended_at").and_then(Value::as_str);
    let mut head = vec![
        ("Execution", print::text(x, "id")),
        (
            "Workflow",
            format!(
                "{} (version {})",
                print::text(x, "workflow"),
                print::text(x, "version")
            ),
        ),
        ("Status", print::text(x, "status")),
        (
            "Started",
            started.map_or_else(|| "-".into(), |s| format!("{s} ({})", when::ago(s, now))),
        ),
        ("Duration", when::took(started, ended, now)),
    ];
    if let Some(o) = x.get("origin").filter(|o| !o.is_null()) {
        // What started it: `schedule report.0`, `api ci-bot`, `cli`.
        let by = o.get("by").and_then(Value::as_str);
        let kind = print::text(o, "kind");
        head.push((
            "Origin",
            match by {
                Some(b) => format!("{kind} {b}"),
                None => kind,
            },
        ));
    }
    if let Some(r) = x.get("retry_of").and_then(Value::as_str) {
        head.push(("Retry of", r.to_string()));
    }
    if let Some(p) = x.get("parent").filter(|p| !p.is_null()) {
        head.push(("Parent", p.to_string()));
    }
    if let Some(e) = x.get("error").filter(|e| !e.is_null()) {
        head.push(("Error", error_text(e)));
    }
    let mut out = String::new();
    for (k, v) in head {
        out.push_str(&format!("{k:<10} {v}\n"));
    }
    let tasks = x.get("tasks").and_then(Value::as_object);
    if let Some(tasks) = tasks.filter(|t| !t.is_empty()) {
        let rows: Vec<Vec<String>> = tasks
            .iter()
            .map(|(name, t)| {
                vec![
                    name.clone(),
                    print::text(t, "status"),
                    print::text(t, "attempts"),
                    when::took(
                        t.get("started_at").and_then(Value::as_str),
                        t.get("ended_at").and_then(Value::as_str),
                        now,
                    ),
                    task_detail(t),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&table::render(
            &["TASK", "STATUS", "ATTEMPTS", "DURATION", "DETAIL"],
            &rows,
            table::WIDTH + 20,
        ));
    }
    if let Some(outputs) = x.get("outputs").filter(|o| !is_empty(o)) {
        out.push_str("\nOutputs\n");
        out.push_str(&serde_json::to_string_pretty(outputs).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// What a task's row says besides its status: its error, what it waits for, its
/// fan-out counts, why it was skipped.
pub(crate) fn task_detail(t: &Value) -> String {
    if let Some(e) = t.get("error").filter(|e| !e.is_null()) {
        let recovered = t
            .get("recovered_by")
            .and_then(Value::as_str)
            .map(|r| format!(" (recovered by {r})"))
            .unwrap_or_default();
        return format!("{}{recovered}", error_text(e));
    }
    if let Some(w) = t.get("waiting").filter(|w| !w.is_null()) {
        return waiting_text(w);
    }
    if let Some(items) = t.get("items").and_then(Value::as_array) {
        let done = items
            .iter()
            .filter(|i| {
                matches!(
                    i.get("status").and_then(Value::as_str),
                    Some("succeeded" | "failed" | "skipped" | "cancelled")
                )
            })
            .count();
        return format!("{done}/{} items", items.len());
    }
    match t.get("skip_reason") {
        Some(Value::Null) | None => String::new(),
        Some(reason) => skip_words(reason),
    }
}

/// Why a task was skipped, in words; the reason as sent when this client does not
/// know it.
fn skip_words(reason: &Value) -> String {
    use harmonia_engine::event::SkipReason;
    let Ok(known) = serde_json::from_value::<SkipReason>(reason.clone()) else {
        return reason
            .as_str()
            .map_or_else(|| reason.to_string(), str::to_string);
    };
    match known {
        SkipReason::Condition => "its `if` was false",
        SkipReason::UpstreamFailed => "a task it needs failed",
        SkipReason::UpstreamSkipped => "tasks it needs were skipped",
        SkipReason::OtherOutcome => "a handler of another outcome",
        SkipReason::NothingToUndo => "nothing to undo: its task did not succeed",
        SkipReason::NotNeeded => "not needed: its task did not fail",
    }
    .to_string()
}

/// `CLASS: MESSAGE` of an error object.
pub(crate) fn error_text(e: &Value) -> String {
    let message = e
        .get("message")
        .and_then(Value::as_str)
        .map_or_else(|| e.to_string(), str::to_string);
    match e.get("class").and_then(Value::as_str) {
        Some(class) => format!("{class}: {message}"),
        None => message,
    }
}

/// What a waiting task waits for, in words.
pub(crate) fn waiting_text(w: &Value) -> String {
    let until = w
        .get("until")
        .and_then(Value::as_str)
        .map(|u| format!(" until {u}"))
        .unwrap_or_default();
    match w.get("for").and_then(Value::as_str) {
        Some("approval") => {
            format!("waiting for approval{until}: harmonia execution approve|reject ID TASK")
        }
        Some("event") => format!(
            "waiting for an event of type {}{until}",
            print::text(w, "type")
        ),
        Some("timer") => format!("waiting{until}"),
        Some("child") => format!("waiting for execution {}", print::text(w, "execution")),
        Some("worker") => format!("waiting for a worker{until}"),
        Some(other) => format!("waiting for {other}{until}"),
        None => "waiting".into(),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_failed_execution_shows_each_task_and_its_error() {
        let now: Timestamp = "2026-11-30T12:00:00Z".parse().expect("a time");
        let x = json!({
            "id": "01a22e3b-fe43-7679-b4d6-3a5543f5a959", "workflow": "etl", "version": 2,
            "status": "failed", "started_at": "2026-11-30T11:59:00Z", "ended_at": "2026-11-30T11:59:02.500Z",
            "origin": {"kind": "schedule", "by": "etl.0"},
            "error": {"class": "connection", "message": "task `load` failed", "task": "load"},
            "tasks": {
                "extract": {"status": "succeeded", "attempts": 1, "started_at": "2026-11-30T11:59:00Z", "ended_at": "2026-11-30T11:59:01Z", "error": null, "output": {}},
                "shard": {"status": "succeeded", "attempts": 3, "started_at": "2026-11-30T11:59:01Z", "ended_at": "2026-11-30T11:59:02Z", "error": null, "items": [{"status": "succeeded"}, {"status": "succeeded"}, {"status": "succeeded"}]},
                "load": {"status": "failed", "attempts": 3, "started_at": "2026-11-30T11:59:02Z", "ended_at": "2026-11-30T11:59:02.500Z", "error": {"class": "connection", "message": "GET http://127.0.0.1:1/x: could not connect"}},
                "report": {"status": "skipped", "attempts": 0, "skip_reason": "upstream_failed", "error": null}
            },
            "outputs": null
        });
        insta::assert_snapshot!(render(&x, now), @r"
        Execution  01a22e3b-fe43-7679-b4d6-3a5543f5a959
        Workflow   etl (version 2)
        Status     failed
        Started    2026-11-30T11:59:00Z (1m ago)
        Duration   2.5s
        Origin     schedule etl.0
        Error      connection: task `load` failed

        TASK     STATUS     ATTEMPTS  DURATION  DETAIL
        extract  succeeded  1         1.0s
        shard    succeeded  3         1.0s      3/3 items
        load     failed     3         0.5s      connection: GET http://127.0.0.1:1/x: could not connect
        report   skipped    0         -         a task it needs failed
        ");
    }

    /// Regression: the engine's reasons (`upstream_failed`, ...) were shown raw.
    #[test]
    fn every_skip_reason_reads_in_words() {
        for (reason, words) in [
            ("condition", "its `if` was false"),
            ("upstream_failed", "a task it needs failed"),
            ("upstream", "a task it needs failed"),
            ("upstream_skipped", "tasks it needs were skipped"),
            ("not_needed", "not needed: its task did not fail"),
            ("from_the_future", "from_the_future"),
        ] {
            let t = json!({"status": "skipped", "skip_reason": reason, "error": null});
            assert_eq!(task_detail(&t), words, "{reason}");
        }
    }
}
