//! `/api/analytics/...`: real workflows run through the engine (fast, slow, failing
//! with an expression error, failing on the workflow's timeout), then every endpoint's
//! numbers; exact percentiles on a store seeded with known durations; bad parameters.

use axum::http::StatusCode;
use harmonia_storage::{
    CommitBatch, ExecutionId, ExecutionRecord, ExecutionStatus, TaskRunRecord, TaskStatus,
    Timestamp, WorkflowId,
};
use serde_json::{Value, json};

use super::{Server, assert_error, server};

const FAST: &str = "name: fast\ntasks:\n  one: {type: set, with: 1}\n";
const SLOW: &str = "name: slow\ntasks:\n  nap: {type: sleep, with: {duration: 300ms}}\n";
const FLAKY: &str = "name: flaky
inputs: {type: object, properties: {ms: {type: integer}}}
tasks:
  call: {type: transform, retry: {max_attempts: 1}, with: {input: '${ $inputs.ms }', expr: 'error(\"timeout after \\(.) ms\")'}}
";
const DEADLINE: &str =
    "name: deadline\ntimeout: 100ms\ntasks:\n  wait: {type: sleep, with: {duration: 30s}}\n";

async fn create(s: &Server, yaml: &str) {
    let r = s.post_yaml("/api/workflows", yaml).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

/// Starts `name` with `inputs` and waits for it to end; its detail.
async fn run(s: &Server, name: &str, inputs: Value) -> Value {
    let r = s
        .post_json(
            &format!("/api/workflows/{name}/execute"),
            json!({"inputs": inputs}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json()["execution_id"].as_str().expect("id").to_string();
    s.finished(&id).await
}

fn ok(r: &super::Reply) -> Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

/// Three fast runs, two slow ones (300 ms), two that fail with an expression error
/// whose messages differ by a number, and one that fails on the workflow's timeout.
async fn seed_runs(s: &Server) -> Vec<Value> {
    for yaml in [FAST, SLOW, FLAKY, DEADLINE] {
        create(s, yaml).await;
    }
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(run(s, "fast", json!({})).await);
    }
    for _ in 0..2 {
        runs.push(run(s, "slow", json!({})).await);
    }
    for ms in [3012, 2990] {
        runs.push(run(s, "flaky", json!({"ms": ms})).await);
    }
    runs.push(run(s, "deadline", json!({})).await);
    let statuses: Vec<&str> = runs.iter().filter_map(|r| r["status"].as_str()).collect();
    assert_eq!(
        statuses,
        [
            "succeeded",
            "succeeded",
            "succeeded",
            "succeeded",
            "succeeded",
            "failed",
            "failed",
            "failed"
        ]
    );
    runs
}

#[tokio::test]
async fn analytics_of_real_runs_count_time_and_group_failures() {
    let s = server().await;
    let runs = seed_runs(&s).await;

    // The summary of the default window (the last 24 hours).
    let sum = ok(&s.get("/api/analytics/summary").await);
    assert_eq!(
        sum["executions"],
        json!({"total": 8, "pending": 0, "running": 0, "paused": 0, "succeeded": 5, "failed": 3, "cancelled": 0}),
        "{sum}"
    );
    assert_eq!(sum["success_rate"], 0.625);
    assert_eq!(sum["open_now"], 0);
    assert_eq!(sum["window"]["workflow"], Value::Null);
    // 8 ended over the 1,440 minutes of the window.
    assert_eq!(sum["throughput"]["ended_per_minute"], 0.00556);
    let d = &sum["durations"];
    assert_eq!(d["count"], 8);
    // Five quick runs, a timeout after 100 ms, two naps of 300 ms.
    let (p50, p95, max) = (
        d["p50_ms"].as_i64().unwrap_or(-1),
        d["p95_ms"].as_i64().unwrap_or(-1),
        d["max_ms"].as_i64().unwrap_or(-1),
    );
    assert!((0..300).contains(&p50), "{sum}");
    assert!(p95 >= 300 && max >= 300 && p95 <= max, "{sum}");

    let slow = ok(&s.get("/api/analytics/summary?workflow=slow").await);
    assert_eq!(slow["executions"]["total"], 2);
    assert_eq!(slow["success_rate"], 1.0);
    assert!(
        slow["durations"]["p50_ms"]
            .as_i64()
            .is_some_and(|ms| ms >= 300),
        "{slow}"
    );
    let none = ok(&s.get("/api/analytics/summary?workflow=nothing").await);
    assert_eq!(none["executions"]["total"], 0);
    assert_eq!(none["success_rate"], Value::Null);
    assert_eq!(none["durations"], Value::Null);

    // Over time: buckets of 10 s over the last minute, starting at round times;
    // every run in one of them.
    let since = Timestamp(Timestamp::now().0 - 60_000);
    let until = Timestamp(Timestamp::now().0 + 1_000);
    let series = ok(&s
        .get(&format!(
            "/api/analytics/timeseries?since={since}&until={until}&bucket=10"
        ))
        .await);
    assert_eq!(series["bucket_seconds"], 10);
    let buckets = series["buckets"].as_array().expect("buckets");
    let origin = since.0 - since.0 % 10_000;
    assert_eq!(
        buckets.len() as i64,
        (until.0 - origin + 9_999) / 10_000,
        "{series}"
    );
    assert_eq!(buckets[0]["start"], Timestamp(origin).to_string());
    let total: u64 = buckets
        .iter()
        .filter_map(|b| b["executions"]["total"].as_u64())
        .sum();
    let failed: u64 = buckets
        .iter()
        .filter_map(|b| b["executions"]["failed"].as_u64())
        .sum();
    assert_eq!((total, failed), (8, 3), "{series}");
    // About 60 buckets by default: a day in half hours, from the half hour before.
    let day = ok(&s.get("/api/analytics/timeseries").await);
    assert_eq!(day["bucket_seconds"], 1800);
    let n = day["buckets"].as_array().map_or(0, Vec::len);
    assert!(n == 48 || n == 49, "{day}");
    let first = day["buckets"][0]["start"].as_str().unwrap_or_default();
    assert!(
        first.ends_with(":00:00.000Z") || first.ends_with(":30:00.000Z"),
        "{first}"
    );

    // What is slow: `slow` first; one group with `limit=1`.
    let by_workflow = ok(&s.get("/api/analytics/durations").await);
    assert_eq!(by_workflow["by"], "workflow");
    let names: Vec<&str> = by_workflow["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["workflow"].as_str())
        .collect();
    assert_eq!(names.len(), 4, "{by_workflow}");
    assert_eq!(names[0], "slow", "{by_workflow}");
    assert_eq!(by_workflow["groups"][0]["count"], 2);
    assert_eq!(by_workflow["groups"][0]["task"], Value::Null);
    assert_eq!(by_workflow["queue_wait_sampled_executions"], Value::Null);
    let one = ok(&s.get("/api/analytics/durations?limit=1").await);
    assert_eq!(one["groups"].as_array().map(Vec::len), Some(1));

    let by_task = ok(&s.get("/api/analytics/durations?by=task").await);
    let first = &by_task["groups"][0];
    assert_eq!(
        (&first["workflow"], &first["task"]),
        (&json!("slow"), &json!("nap"))
    );
    assert_eq!(
        (&first["count"], &first["attempts"]),
        (&json!(2), &json!(2))
    );
    assert!(
        first["p50_ms"].as_i64().is_some_and(|ms| ms >= 300),
        "{by_task}"
    );
    // Every execution's log was read for queue waits; a sleep starts at once.
    assert_eq!(by_task["queue_wait_sampled_executions"], 8);
    assert_eq!(first["queue_wait"]["count"], 2, "{by_task}");
    assert!(
        first["queue_wait"]["max_ms"]
            .as_i64()
            .is_some_and(|ms| (0..300).contains(&ms))
    );
    let call = by_task["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["task"] == "call")
        .cloned()
        .expect("call");
    assert_eq!((&call["count"], &call["attempts"]), (&json!(2), &json!(2)));

    // What fails: classes, tasks, workflows, message patterns.
    let e = ok(&s.get("/api/analytics/errors").await);
    assert_eq!(
        (&e["failed_executions"], &e["failed_task_runs"]),
        (&json!(3), &json!(2)),
        "{e}"
    );
    let flaky_ids: Vec<&str> = runs[5..7].iter().filter_map(|r| r["id"].as_str()).collect();
    let deadline_id = runs[7]["id"].as_str().expect("id");
    assert_eq!(
        e["by_class"],
        json!([
            {"class": "expression", "executions": 2, "task_runs": 2, "example_execution": flaky_ids[1]},
            {"class": "timeout", "executions": 1, "task_runs": 0, "example_execution": deadline_id},
        ]),
        "{e}"
    );
    assert_eq!(
        e["by_task"],
        json!([{"workflow": "flaky", "task": "call", "count": 2,
                "classes": [{"class": "expression", "count": 2}], "example_execution": flaky_ids[1]}])
    );
    assert_eq!(
        e["by_workflow"],
        json!([
            {"workflow": "flaky", "failed_executions": 2, "ended_executions": 2, "failure_rate": 1.0,
             "failed_task_runs": 2, "example_execution": flaky_ids[1]},
            {"workflow": "deadline", "failed_executions": 1, "ended_executions": 1, "failure_rate": 1.0,
             "failed_task_runs": 0, "example_execution": deadline_id},
        ])
    );
    let messages = e["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2, "{e}");
    // "timeout after 3012 ms" and "timeout after 2990 ms": one pattern.
    assert_eq!(messages[0]["count"], 2);
    assert_eq!(messages[0]["class"], "expression");
    let pattern = messages[0]["pattern"].as_str().unwrap_or_default();
    assert!(
        pattern.contains("timeout after <n> ms") && !pattern.contains("2990"),
        "{e}"
    );
    let example = messages[0]["example_message"].as_str().unwrap_or_default();
    assert!(example.contains("timeout after 2990 ms"), "{e}");
    assert_eq!(messages[0]["example_execution"], flaky_ids[1]);
    assert_eq!(messages[1]["class"], "timeout");
    assert_eq!(
        messages[1]["pattern"],
        "the workflow did not finish within its timeout of <n>ms"
    );
    let only_deadline = ok(&s
        .get("/api/analytics/errors?workflow=deadline&limit=1")
        .await);
    assert_eq!(only_deadline["failed_executions"], 1);
    assert_eq!(only_deadline["by_class"].as_array().map(Vec::len), Some(1));

    // The same under /api/v1.
    assert_eq!(
        ok(&s.get("/api/v1/analytics/summary").await)["executions"]["total"],
        8
    );
}

fn record(id: ExecutionId, created: i64, ms: i64, status: ExecutionStatus) -> ExecutionRecord {
    ExecutionRecord {
        id,
        workflow_id: WorkflowId::new(),
        workflow: "seeded".into(),
        version: 1,
        status,
        inputs: json!({}).into(),
        outputs: None,
        error: (status == ExecutionStatus::Failed)
            .then(|| json!({"class": "http_5xx", "message": format!("HTTP 503 from /orders/{id}"), "task": "get"})),
        parent: None,
        retry_of: None,
        origin: None,
        created_at: Timestamp(created),
        started_at: Some(Timestamp(created)),
        ended_at: Some(Timestamp(created + ms)),
        updated_at: Timestamp(created + ms),
        owner: None,
        fence: 1,
        parked: false,
    }
}

/// A store seeded with 100 executions a minute apart lasting 10, 20, ..., 1000 ms
/// (every tenth failed, its task too): exact nearest-rank percentiles, buckets and
/// groups through the API.
#[tokio::test]
async fn analytics_percentiles_are_exact_on_known_durations() {
    let s = server().await;
    let start = Timestamp::parse("2026-01-01T00:00:00Z").expect("time").0;
    let mut batch = CommitBatch::default();
    for i in 0..100_i64 {
        let id = ExecutionId::new();
        let failed = i % 10 == 9;
        let status = if failed {
            ExecutionStatus::Failed
        } else {
            ExecutionStatus::Succeeded
        };
        let created = start + i * 60_000;
        batch
            .executions
            .push(record(id, created, (i + 1) * 10, status));
        batch.task_runs.push(TaskRunRecord {
            execution: id,
            task: "get".into(),
            item: None,
            status: if failed {
                TaskStatus::Failed
            } else {
                TaskStatus::Succeeded
            },
            attempts: if failed { 3 } else { 1 },
            output: None,
            error: failed.then(
                || json!({"class": "http_5xx", "message": format!("HTTP 503 from /orders/{id}")}),
            ),
            skip_reason: None,
            started_at: Some(Timestamp(created)),
            ended_at: Some(Timestamp(created + (i + 1) * 5)),
            wait: None,
            wait_for: None,
            wait_key: None,
        });
    }
    let report = s.store.commit(&batch).await.expect("commit");
    assert!(report.is_clean());
    let window = "since=2026-01-01T00:00:00Z&until=2026-01-01T02:00:00Z";

    let sum = ok(&s.get(&format!("/api/analytics/summary?{window}")).await);
    assert_eq!(
        sum["durations"],
        json!({"count": 100, "p50_ms": 500, "p95_ms": 950, "p99_ms": 990, "max_ms": 1000})
    );
    assert_eq!(
        (
            &sum["executions"]["succeeded"],
            &sum["executions"]["failed"]
        ),
        (&json!(90), &json!(10))
    );
    assert_eq!(sum["success_rate"], 0.9);
    // 100 ended in a window of 120 minutes, all of it past.
    assert_eq!(sum["throughput"]["ended_per_minute"], 0.833);
    assert_eq!(sum["window"]["since"], "2026-01-01T00:00:00.000Z");

    // Half-hour buckets: 30, 30, 30 and 10 executions.
    let series = ok(&s
        .get(&format!("/api/analytics/timeseries?{window}&bucket=1800"))
        .await);
    let totals: Vec<u64> = series["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .filter_map(|b| b["executions"]["total"].as_u64())
        .collect();
    assert_eq!(totals, [30, 30, 30, 10]);
    assert_eq!(series["buckets"][3]["start"], "2026-01-01T01:30:00.000Z");
    // The default for two hours: two minutes, 60 buckets.
    let auto = ok(&s.get(&format!("/api/analytics/timeseries?{window}")).await);
    assert_eq!(auto["bucket_seconds"], 120);
    assert_eq!(auto["buckets"].as_array().map(Vec::len), Some(60));

    let tasks = ok(&s
        .get(&format!("/api/analytics/durations?{window}&by=task"))
        .await);
    assert_eq!(
        tasks["groups"],
        json!([{"workflow": "seeded", "task": "get", "count": 100, "p50_ms": 250, "p95_ms": 475,
                "p99_ms": 495, "max_ms": 500, "attempts": 120, "queue_wait": null}])
    );
    // No logs were written: none to read queue waits from.
    assert_eq!(tasks["queue_wait_sampled_executions"], 100);

    let e = ok(&s.get(&format!("/api/analytics/errors?{window}")).await);
    assert_eq!(
        (&e["failed_executions"], &e["failed_task_runs"]),
        (&json!(10), &json!(10))
    );
    // Ten messages, each with its own uuid: one pattern.
    assert_eq!(
        e["messages"]
            .as_array()
            .map(|m| (m.len(), m[0]["count"].clone(), m[0]["pattern"].clone())),
        Some((1, json!(10), json!("HTTP <n> from /orders/<uuid>")))
    );
    assert_eq!(e["by_workflow"][0]["failure_rate"], 0.1);
}

#[tokio::test]
async fn analytics_refuse_bad_parameters_naming_them() {
    let s = server().await;
    let bad = |uri: &'static str, name: &'static str| {
        let s = &s;
        async move {
            let r = s.get(uri).await;
            let e = assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
            let message = e["message"].as_str().unwrap_or_default().to_string();
            assert!(message.contains(name), "{uri}: {message}");
            message
        }
    };
    let m = bad("/api/analytics/summary?since=yesterday", "`since`").await;
    assert!(m.contains("RFC 3339"), "{m}");
    bad("/api/analytics/errors?until=2026-13-01", "`until`").await;
    let m = bad(
        "/api/analytics/summary?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
        "`since` must be before `until`",
    )
    .await;
    assert!(m.contains("empty"), "{m}");
    bad("/api/analytics/timeseries?bucket=0", "`bucket`").await;
    let m = bad("/api/analytics/timeseries?bucket=60", "`bucket`").await;
    assert!(
        m.contains("more than 1000") && m.contains("at least 87 s"),
        "{m}"
    );
    bad("/api/analytics/timeseries?bucket=ten", "bucket").await;
    bad("/api/analytics/timeseries?bucket=-5", "bucket").await;
    bad(
        "/api/analytics/durations?by=step",
        "`by` must be `workflow` or `task`",
    )
    .await;
    bad("/api/analytics/durations?limit=0", "`limit`").await;
    bad("/api/analytics/errors?limit=501", "`limit`").await;
    bad("/api/analytics/errors?limit=many", "limit").await;
}

#[tokio::test]
async fn analytics_resources_report_the_process_the_database_and_the_backlog() {
    let s = server().await;
    create(
        &s,
        "name: long\ntasks:\n  nap: {type: sleep, with: {duration: 1h}}\n",
    )
    .await;
    let r = s.post_json("/api/workflows/long/execute", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json()["execution_id"].as_str().expect("id").to_string();

    let res = ok(&s.get("/api/analytics/resources").await);
    assert!(res["process"]["cpu_user_ms"].is_u64(), "{res}");
    assert!(res["process"]["cpu_system_ms"].is_u64(), "{res}");
    if cfg!(target_os = "linux") {
        assert!(
            res["process"]["rss_bytes"]
                .as_u64()
                .is_some_and(|b| b > 1_000_000),
            "{res}"
        );
    }
    assert!(
        res["database_bytes"].as_u64().is_some_and(|b| b >= 4096),
        "{res}"
    );
    assert_eq!(res["open_executions"], 1);
    // A sleep waits on a timer, not for a slot or a worker.
    assert_eq!(
        (&res["queued_task_runs"], &res["worker_task_runs"]),
        (&json!(0), &json!(0))
    );
    assert!(
        res["measured_at"]
            .as_str()
            .and_then(Timestamp::parse)
            .is_some()
    );

    let sum = ok(&s.get("/api/analytics/summary?workflow=long").await);
    assert_eq!(
        (&sum["open_now"], &sum["executions"]["running"]),
        (&json!(1), &json!(1))
    );
    let cancelled = s
        .post_json(&format!("/api/executions/{id}/cancel"), json!({}))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    s.finished(&id).await;
    let res = ok(&s.get("/api/analytics/resources").await);
    assert_eq!(res["open_executions"], 0);
}

#[tokio::test]
async fn analytics_are_described_in_openapi() {
    let s = server().await;
    let doc = ok(&s.get("/openapi.json").await);
    for path in ["summary", "timeseries", "durations", "errors", "resources"] {
        let op = &doc["paths"][format!("/api/analytics/{path}")]["get"];
        assert_eq!(op["tags"], json!(["analytics"]), "{path}");
        assert!(op["responses"]["200"].is_object(), "{path}");
    }
    let params = doc["paths"]["/api/analytics/durations"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["since", "until", "workflow", "by", "limit"]);
}
