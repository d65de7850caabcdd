//! `on_failure`, `on_success` and `finally` through the API: after the tasks end, the
//! handlers of the outcome run, reading `$execution.status`, `$execution.error` and
//! `$tasks`; the others are skipped (`other_outcome`); a handler's own failure is
//! recorded and changes nothing of the outcome; a cancelled run still runs `finally`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Server, server};

async fn run(s: &Server, yaml: &str, name: &str) -> Value {
    let r = s.post_yaml("/api/workflows", yaml).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = start(s, name).await;
    s.finished(&id).await
}

/// Starts workflow `name` with no inputs: its execution's id.
async fn start(s: &Server, name: &str) -> String {
    let r = s
        .post_json(
            &format!("/api/workflows/{name}/execute"),
            json!({"inputs": {}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["execution_id"].as_str().expect("id").to_string()
}

/// Waits (up to 3 s) until execution `id`'s detail satisfies `done`, and returns it.
async fn until(s: &Server, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let x = s.get(&format!("/api/executions/{id}")).await.json();
        if done(&x) {
            return x;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("execution {id} did not get there");
}

const BREAKS: &str = r#"name: breaks
tasks:
  load: {type: set, with: 41}
  post: {type: set, needs: [load], with: '${ error("the ledger is closed") }'}
  never: {type: set, needs: [post], with: 1}
on_failure:
  alert: {type: set, with: {text: '${ $execution.status + ": " + $execution.error.task + " " + $execution.error.message }', loaded: '${ $tasks.load.output }'}}
  page: {type: set, needs: [alert], with: '${ $tasks.alert.output.text }'}
on_success:
  celebrate: {type: set, with: yay}
finally:
  cleanup: {type: set, with: '${ $execution.status }'}
"#;

#[tokio::test]
async fn a_failure_runs_its_handlers_and_keeps_its_outcome() {
    let s = server().await;
    let x = run(&s, BREAKS, "breaks").await;
    assert_eq!(x["status"], "failed", "{x}");
    assert_eq!(
        x["error"]["task"], "post",
        "the outcome is the task's failure"
    );
    let tasks = &x["tasks"];
    assert_eq!(tasks["never"]["status"], "skipped");
    assert_eq!(tasks["alert"]["status"], "succeeded", "{tasks}");
    let text = tasks["alert"]["output"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.starts_with("failed: post "), "{text}");
    assert!(text.contains("the ledger is closed"), "{text}");
    assert_eq!(tasks["alert"]["output"]["loaded"], 41);
    assert_eq!(tasks["page"]["output"], tasks["alert"]["output"]["text"]);
    assert_eq!(tasks["celebrate"]["status"], "skipped");
    assert_eq!(tasks["celebrate"]["skip_reason"], "other_outcome");
    assert_eq!(tasks["cleanup"]["output"], "failed");
}

#[tokio::test]
async fn a_handlers_own_failure_changes_nothing() {
    let s = server().await;
    let x = run(
        &s,
        r#"name: works
tasks:
  a: {type: set, with: 1}
outputs: {a: '${ $tasks.a.output }'}
on_success:
  report: {type: set, with: '${ error("the chat is down") }'}
  after: {type: set, needs: [report], join: all_done, with: '${ $tasks.report.status }'}
"#,
        "works",
    )
    .await;
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(x["outputs"], json!({"a": 1}));
    assert_eq!(x["tasks"]["report"]["status"], "failed");
    assert_eq!(x["tasks"]["after"]["output"], "failed");
    assert_eq!(x["error"], Value::Null);
}

#[tokio::test]
async fn a_cancelled_run_still_runs_finally() {
    let s = server().await;
    let r = s
        .post_yaml(
            "/api/workflows",
            "name: waits
tasks:
  hold: {type: wait_event, with: {type: never, timeout: 1h}}
on_failure:
  alert: {type: set, with: 1}
finally:
  cleanup: {type: set, with: '${ $execution.status }'}
",
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = start(&s, "waits").await;
    until(&s, &id, |x| x["tasks"]["hold"]["status"] == "running").await;
    let r = s
        .post_json(&format!("/api/executions/{id}/cancel"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let x = s.finished(&id).await;
    assert_eq!(x["status"], "cancelled", "{x}");
    assert_eq!(x["tasks"]["cleanup"]["output"], "cancelled", "{x}");
    assert_eq!(x["tasks"]["alert"]["skip_reason"], "other_outcome");
}

const DIAMOND: &str = r#"name: saga
tasks:
  a: {type: set, with: 1, compensate: {type: set, with: '${ "undo a after " + ($tasks.a.output | tostring) }'}}
  b: {type: set, needs: [a], with: 2, compensate: {type: set, with: undo b}}
  c: {type: set, needs: [a], with: 3, compensate: {type: set, with: undo c}}
  d: {type: set, needs: [b, c], with: 4, compensate: {type: set, with: undo d}}
  never: {type: set, needs: [a], if: false, with: 0, compensate: {type: set, with: undo never}}
  charge: {type: set, needs: [d], with: '${ error("card declined") }'}
"#;

#[tokio::test]
async fn a_failure_compensates_what_succeeded_in_reverse_dependency_order() {
    let s = server().await;
    let x = run(&s, DIAMOND, "saga").await;
    assert_eq!(x["status"], "failed", "{x}");
    assert_eq!(x["error"]["task"], "charge");
    let tasks = &x["tasks"];
    assert_eq!(tasks["a.compensate"]["output"], "undo a after 1", "{tasks}");
    assert_eq!(tasks["d.compensate"]["output"], "undo d");
    assert_eq!(
        tasks["never.compensate"]["skip_reason"], "nothing_to_undo",
        "{tasks}"
    );
    // The history says the order: d's undo ends before b's and c's start, and theirs
    // before a's.
    let id = x["id"].as_str().expect("id");
    let history = s.get(&format!("/api/executions/{id}/events")).await.json();
    let events = history["events"].as_array().cloned().unwrap_or_default();
    let at = |kind: &str, task: &str| {
        events
            .iter()
            .position(|e| e["kind"] == kind && (task.is_empty() || e["event"]["task"] == task))
            .unwrap_or_else(|| panic!("no {kind} of {task} in {history}"))
    };
    assert!(at("task_succeeded", "d.compensate") < at("task_started", "b.compensate"));
    assert!(at("task_succeeded", "d.compensate") < at("task_started", "c.compensate"));
    assert!(at("task_succeeded", "b.compensate") < at("task_started", "a.compensate"));
    assert!(at("task_succeeded", "c.compensate") < at("task_started", "a.compensate"));
    assert!(at("ending", "") > at("task_failed", "charge"));
    assert!(at("ending", "") < at("task_started", "d.compensate"));
    assert_eq!(
        events.last().map(|e| e["kind"].clone()),
        Some(json!("execution_failed"))
    );

    // A run that succeeds compensates nothing.
    let ok = run(
        &s,
        &DIAMOND
            .replace("saga", "fine")
            .replace(r#"'${ error("card declined") }'"#, "5"),
        "fine",
    )
    .await;
    assert_eq!(ok["status"], "succeeded", "{ok}");
    assert_eq!(ok["tasks"]["a.compensate"]["skip_reason"], "other_outcome");
}

#[tokio::test]
async fn a_fallback_stands_in_when_every_attempt_failed() {
    let s = server().await;
    let x = run(
        &s,
        r#"name: degrade
tasks:
  price: {type: set, with: 10}
  quote:
    type: set
    needs: [price]
    with: '${ error("the pricing service is down") }'
    retry: {max_attempts: 2, initial_delay: 1ms, retry_on: [expression]}
    fallback: {type: set, with: {status: degraded, price: '${ $tasks.price.output }'}}
  fine:
    type: set
    with: 1
    fallback: {type: set, with: never}
  total: {type: set, needs: [quote], with: '${ $tasks.quote.output.price * 2 }'}
outputs: {total: '${ $tasks.total.output }', quote: '${ $tasks.quote.output }'}
"#,
        "degrade",
    )
    .await;
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(
        x["outputs"],
        json!({"total": 20, "quote": {"status": "degraded", "price": 10}})
    );
    let quote = &x["tasks"]["quote"];
    assert_eq!(quote["status"], "succeeded");
    assert_eq!(quote["recovered_by"], "fallback");
    assert_eq!(quote["attempts"], 2, "retries come first: {quote}");
    assert!(
        quote["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("pricing service is down"),
        "what it recovered from: {quote}"
    );
    assert_eq!(x["tasks"]["fine.fallback"]["skip_reason"], "not_needed");
    assert_eq!(x["tasks"]["fine"]["recovered_by"], Value::Null);

    // A fallback that fails too: the task fails with its own error.
    let x = run(
        &s,
        r#"name: both
tasks:
  a: {type: set, with: '${ error("first") }', fallback: {type: set, with: '${ error("second") }'}}
"#,
        "both",
    )
    .await;
    assert_eq!(x["status"], "failed", "{x}");
    assert_eq!(x["error"]["task"], "a");
    assert_eq!(x["tasks"]["a.fallback"]["status"], "failed");
}

const HELD: &str = r#"name: held
tasks:
  quote: {type: set, with: '${ error("the pricing service is down") }', on_error: pause}
  total: {type: set, needs: [quote], with: '${ $tasks.quote.output.price * 2 }'}
outputs: {total: '${ $tasks.total.output }'}
"#;

async fn held_run(s: &Server) -> String {
    let id = start(s, "held").await;
    let x = until(s, &id, |x| x["status"] == "paused").await;
    assert_eq!(x["tasks"]["quote"]["status"], "held", "{x}");
    let message = x["tasks"]["quote"]["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("pricing"), "{x}");
    id
}

#[tokio::test]
async fn a_held_task_waits_for_a_person_to_retry_skip_or_fail_it() {
    let s = server().await;
    let r = s.post_yaml("/api/workflows", HELD).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Skip with an output: the dependents run on it and the execution succeeds.
    let id = held_run(&s).await;
    let wrong = s
        .post_json(
            &format!("/api/executions/{id}/tasks/total/skip"),
            json!({"output": 1}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::CONFLICT, "{}", wrong.text);
    assert!(wrong.text.contains("pending"), "{}", wrong.text);
    let r = s
        .post_json(
            &format!("/api/executions/{id}/tasks/quote/skip"),
            json!({"output": {"price": 21}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let x = s.finished(&id).await;
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(x["outputs"], json!({"total": 42}));

    // Retry: it runs again (and is held again, still failing); then fail it.
    let id = held_run(&s).await;
    let r = s
        .post_json(
            &format!("/api/executions/{id}/tasks/quote/retry"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // It ran again, failed again, and is held again.
    until(&s, &id, |x| {
        x["status"] == "paused" && x["tasks"]["quote"]["attempts"] == 2
    })
    .await;
    let r = s
        .post_json(&format!("/api/executions/{id}/tasks/quote/fail"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let x = s.finished(&id).await;
    assert_eq!(x["status"], "failed", "{x}");
    assert_eq!(x["error"]["task"], "quote");
    assert_eq!(x["tasks"]["total"]["status"], "skipped");
    // Decided once: a second decision finds nothing held.
    let again = s
        .post_json(
            &format!("/api/executions/{id}/tasks/quote/retry"),
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
}

#[tokio::test]
async fn a_held_task_and_running_handlers_survive_a_restart() {
    let s = server().await;
    let r = s.post_yaml("/api/workflows", HELD).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let held = held_run(&s).await;
    let r = s
        .post_yaml(
            "/api/workflows",
            "name: undo
tasks:
  book: {type: set, with: 1, compensate: {type: wait_event, with: {type: undo.done, timeout: 1h}}}
  pay: {type: set, needs: [book], with: '${ error(\"declined\") }'}
finally:
  note: {type: set, with: '${ $execution.status }'}
",
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let undo = start(&s, "undo").await;
    until(&s, &undo, |x| {
        x["tasks"]["book.compensate"]["status"] == "running"
    })
    .await;

    let s = s.restart(harmonia_server::ApiConfig::default()).await;

    // The held task is still held, and a decision still lands.
    let x = s.get(&format!("/api/executions/{held}")).await.json();
    assert_eq!(x["status"], "paused", "{x}");
    assert_eq!(x["tasks"]["quote"]["status"], "held");
    let r = s
        .post_json(
            &format!("/api/executions/{held}/tasks/quote/skip"),
            json!({"output": {"price": 1}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(s.finished(&held).await["outputs"], json!({"total": 2}));

    // The compensation still waits; its event ends it, and the run fails as it did.
    let x = s.get(&format!("/api/executions/{undo}")).await.json();
    assert_eq!(
        x["status"], "running",
        "handlers run before the outcome: {x}"
    );
    let event = json!({"specversion": "1.0", "id": "u-1", "source": "test", "type": "undo.done", "data": {}});
    let r = s.post_json("/api/events", event).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let x = s.finished(&undo).await;
    assert_eq!(x["status"], "failed", "{x}");
    assert_eq!(x["error"]["task"], "pay");
    assert_eq!(x["tasks"]["book.compensate"]["status"], "succeeded");
    assert_eq!(x["tasks"]["note"]["output"], "failed");
}

#[tokio::test]
async fn a_failed_task_of_a_paused_execution_can_be_skipped_with_an_output() {
    let s = server().await;
    let r = s
        .post_yaml(
            "/api/workflows",
            r#"name: mend
tasks:
  quote: {type: set, with: '${ error("down") }', on_error: continue}
  total: {type: set, needs: [quote], with: '${ $tasks.quote.output.price * 2 }'}
  gate: {type: wait_event, with: {type: mend.go, timeout: 1h}}
outputs: {total: '${ $tasks.total.output }'}
"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = start(&s, "mend").await;
    until(&s, &id, |x| {
        x["tasks"]["total"]["status"] == "skipped" && x["tasks"]["gate"]["status"] == "running"
    })
    .await;
    // Running: a failed task is not for deciding yet.
    let r = s
        .post_json(
            &format!("/api/executions/{id}/tasks/quote/skip"),
            json!({"output": {"price": 4}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(
        s.post_json(&format!("/api/executions/{id}/pause"), json!({}))
            .await
            .status,
        StatusCode::OK
    );
    let r = s
        .post_json(
            &format!("/api/executions/{id}/tasks/quote/skip"),
            json!({"output": {"price": 4}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json()["status"],
        "paused",
        "it stays paused until resumed"
    );
    let x = s.get(&format!("/api/executions/{id}")).await.json();
    assert_eq!(x["tasks"]["quote"]["status"], "succeeded", "{x}");
    assert_eq!(
        x["tasks"]["total"]["status"], "pending",
        "skipped because of it: pending again"
    );
    assert_eq!(
        s.post_json(&format!("/api/executions/{id}/resume"), json!({}))
            .await
            .status,
        StatusCode::OK
    );
    let event =
        json!({"specversion": "1.0", "id": "g-1", "source": "test", "type": "mend.go", "data": {}});
    assert_eq!(
        s.post_json("/api/events", event).await.status,
        StatusCode::ACCEPTED
    );
    let x = s.finished(&id).await;
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(x["outputs"], json!({"total": 8}));
}
