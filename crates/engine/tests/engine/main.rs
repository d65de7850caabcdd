//! The engine as a whole: a real scheduler on a real SQLite file, running definitions
//! end to end.
//!
//! A `probe` task type (registered only here) lets tests see what the scheduler does:
//! how many attempts run at once, how often each was tried, whether it was cancelled.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use harmonia_engine::event::TaskError;
use harmonia_engine::kinds::{Call, Description, Kinds, KindsConfig, Run, Spawned, TaskKind};
use harmonia_engine::{EngineConfig, Error, Handle, Plans, StartRequest, Workflow, spawn};
use harmonia_model::{ErrorClass, Format, Source};
use harmonia_storage::{ExecutionRecord, ExecutionStatus, MemoryStore, Store, TaskStatus};

/// The in-memory store gives the same results (a quick cross-check of the two backends).
#[tokio::test]
async fn the_in_memory_store_runs_the_same_workflow() {
    let env = engine_on(Arc::new(MemoryStore::new()), EngineConfig::default()).await;
    let r = env
        .run("name: m\ntasks:\n  a: {type: set, with: 1}\n  b: {type: probe, needs: [a]}\noutputs: {a: '${ $tasks.a.output }'}\n", json!({}))
        .await;
    assert_eq!(r.outputs, Some(json!({"a": 1})));
}
use serde_json::{Value, json};

/// A chain of separate attempts takes one commit per step: the record of a step's
/// success and of the next step's start travel together (so one disk sync per step).
#[tokio::test]
async fn a_result_and_the_start_it_leads_to_share_one_commit() {
    let store = Arc::new(MemoryStore::new());
    let env = engine_on(store.clone(), separate_attempts()).await;
    let steps = 20;
    let mut yaml = String::from("name: chain\ntasks:\n  t0: {type: probe}\n");
    for i in 1..steps {
        yaml.push_str(&format!(
            "  t{i}: {{type: set, needs: [t{}], with: {i}}}\n",
            i - 1
        ));
    }
    let r = env.run(&yaml, json!({})).await;
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    // The start (with the first attempt's start), then one per step (its result, the
    // next start, and with the last one the execution's end). A turn cut short by a
    // stalled machine may split one; two commits per step is what this rules out.
    let commits = store.commits();
    assert!(commits <= steps + 3, "{commits} commits for {steps} steps");
}

/// With inline execution off, a pure attempt runs on the scheduler's thread right after
/// the commit that recorded its start, under the commit's share of a turn's time. One
/// that runs into its slice there (an expression of a few milliseconds) runs again as
/// a task of its own and still gives its result, in order with the rest of the chain.
#[tokio::test]
async fn a_separate_pure_attempt_too_slow_for_the_thread_runs_again_as_a_task() {
    let env = engine_on(Arc::new(MemoryStore::new()), separate_attempts()).await;
    let yaml = "name: slow\ntasks:\n  a: {type: set, with: 1}\n  \
                b: {type: set, needs: [a], with: '${ reduce range(50000) as $x (0; . + $x) }'}\n  \
                c: {type: set, needs: [b], with: '${ $tasks.b.output + $tasks.a.output }'}\n\
                outputs: {c: '${ $tasks.c.output }'}\n";
    let r = env.run(yaml, json!({})).await;
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{:?}", r.error);
    assert_eq!(r.outputs, Some(json!({"c": 1_249_975_001_u64})));
}

/// With inline execution off, a fan-out launches thousands of pure attempts after one
/// commit: those the commit's share of a turn's time allows run on the scheduler's
/// thread, the rest as tasks; every item's result comes back once.
#[tokio::test]
async fn a_wide_fan_out_of_separate_pure_attempts_gives_every_result_once() {
    let store = Arc::new(MemoryStore::new());
    let env = engine_on(store.clone(), separate_attempts()).await;
    let yaml = "name: wide\ntasks:\n  \
                fan: {type: set, for_each: '${ [range(3000)] }', with: '${ $item * 2 }'}\n  \
                sum: {type: set, needs: [fan], with: '${ $tasks.fan.output | add }'}\n\
                outputs: {sum: '${ $tasks.sum.output }', n: '${ $tasks.fan.output | length }'}\n";
    let r = env.run(yaml, json!({})).await;
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{:?}", r.error);
    assert_eq!(r.outputs, Some(json!({"sum": 8_997_000, "n": 3000})));
    let events = harmonia_storage::ExecutionLog::events(store.as_ref(), r.id)
        .await
        .expect("events");
    let ended = events
        .iter()
        .filter(|e| e.kind == "attempt_succeeded")
        .count();
    assert_eq!(ended, 3001, "one result per attempt");
}

/// The engine's settings with every pure task run as an attempt of its own.
fn separate_attempts() -> EngineConfig {
    EngineConfig {
        inline_pure_tasks: false,
        ..EngineConfig::default()
    }
}

/// The scheduler runs on a thread of its own. When the runtime that started it goes
/// away without a shutdown (a test's, a process's that returns), that thread stops too
/// and lets go of the store, rather than wait for commands forever.
#[test]
fn the_scheduler_thread_stops_with_the_runtime_that_started_it() {
    let store = Arc::new(MemoryStore::new());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let env = engine_on(store.clone(), EngineConfig::default()).await;
        let r = env
            .run("name: m\ntasks:\n  a: {type: set, with: 1}\n", json!({}))
            .await;
        assert_eq!(r.status, ExecutionStatus::Succeeded);
    });
    drop(runtime);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Arc::strong_count(&store) > 1 {
        assert!(
            Instant::now() < deadline,
            "the scheduler still holds the store 10 s after its runtime went away"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

mod drain;
mod durable;
mod fairness;
mod isolation;
mod llm;
mod nodes;
mod parts;
mod roundtrip;
mod secrets;
mod waits;

/// Shared observations of the probe executor.
#[derive(Default)]
struct Probe {
    running: AtomicUsize,
    max_running: AtomicUsize,
    attempts: Mutex<HashMap<String, u32>>,
    cancelled: AtomicUsize,
    /// Ignore `sleep_ms` (an engine restarted after a "crash" finishes quickly).
    no_sleep: std::sync::atomic::AtomicBool,
}

struct ProbeExecutor(Arc<Probe>);

impl TaskKind for ProbeExecutor {
    fn name(&self) -> &'static str {
        "probe"
    }

    fn describe(&self) -> Description {
        Description {
            summary: "A test kind.",
            params: json!({"type": "object"}),
            output: json!({}),
            check: None,
            deferred: Vec::new(),
        }
    }

    fn run(&self) -> Run<'_> {
        Run::Spawned(self)
    }
}

#[async_trait]
impl Spawned for ProbeExecutor {
    async fn execute(&self, call: Call) -> Result<Value, TaskError> {
        if call.params.get("panic") == Some(&Value::Bool(true)) {
            panic!("the probe was asked to panic");
        }
        let p = &self.0;
        let now = p.running.fetch_add(1, Ordering::SeqCst) + 1;
        p.max_running.fetch_max(now, Ordering::SeqCst);
        let key = call
            .params
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or(&call.meta.task)
            .to_string();
        let attempt = {
            let mut a = p.attempts.lock().expect("lock");
            let n = a.entry(key.clone()).or_default();
            *n += 1;
            *n
        };
        let sleep = if p.no_sleep.load(Ordering::SeqCst) {
            0
        } else {
            call.params
                .get("sleep_ms")
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        let outcome = tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(sleep)) => None,
            () = call.cancel.cancelled() => Some(()),
        };
        p.running.fetch_sub(1, Ordering::SeqCst);
        if outcome.is_some() {
            p.cancelled.fetch_add(1, Ordering::SeqCst);
            return Err(TaskError::new(ErrorClass::Cancelled, "cancelled"));
        }
        let fail_times = call
            .params
            .get("fail_times")
            .and_then(Value::as_u64)
            .unwrap_or(0) as u32;
        if attempt <= fail_times {
            let class = match call.params.get("class").and_then(Value::as_str) {
                Some("http_4xx") => ErrorClass::Http4xx,
                _ => ErrorClass::Timeout,
            };
            return Err(TaskError::new(
                class,
                format!("{key} failed attempt {attempt}"),
            ));
        }
        Ok(
            json!({"key": key, "attempt": attempt, "echo": call.params.get("echo").cloned().unwrap_or(Value::Null)}),
        )
    }
}

struct Env {
    handle: Handle,
    probe: Arc<Probe>,
    store: Arc<dyn Store>,
    _dir: Option<Arc<tempfile::TempDir>>,
}

/// A store on a fresh SQLite file, and the directory that holds it.
async fn sqlite() -> (Arc<dyn Store>, Arc<tempfile::TempDir>) {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let store =
        harmonia_storage_sql::SqliteStore::open(&dir.path().join("engine.db"), Default::default())
            .await
            .expect("opens");
    (Arc::new(store), dir)
}

/// The built-in kinds and the probe, and `shell` when `allow_shell`.
fn kinds(probe: &Arc<Probe>, allow_shell: bool) -> Kinds {
    let mut kinds = Kinds::builtin(&KindsConfig {
        allow_shell,
        ..KindsConfig::default()
    });
    kinds
        .register(Arc::new(ProbeExecutor(probe.clone())))
        .expect("a valid schema");
    kinds.register(Arc::new(StackKind)).expect("a valid schema");
    kinds
}

/// A pure kind whose output is the stack left on the thread it runs on.
struct StackKind;

impl TaskKind for StackKind {
    fn name(&self) -> &'static str {
        "stack_left"
    }

    fn describe(&self) -> Description {
        Description {
            summary: "A test kind: the stack left where pure work runs.",
            params: json!({}),
            output: json!({"type": "integer"}),
            check: None,
            deferred: Vec::new(),
        }
    }

    fn run(&self) -> Run<'_> {
        Run::Inline(self)
    }
}

impl harmonia_engine::kinds::Inline for StackKind {
    fn run(&self, _: &Call) -> Result<Value, TaskError> {
        Ok(json!(stacker::remaining_stack()))
    }
}

/// Pure work runs on the scheduler's thread (in the turn, or as an attempt of its own)
/// with the stack expressions need: on a thread's default 2 MiB, every evaluation
/// mapped a 256 MiB segment of its own, and a fan-out of 100,000 `set` tasks took
/// three times as long.
#[tokio::test]
async fn pure_work_has_the_stack_expressions_need() {
    for inline_pure_tasks in [true, false] {
        let config = EngineConfig {
            inline_pure_tasks,
            ..EngineConfig::default()
        };
        let env = engine_on(Arc::new(MemoryStore::new()), config).await;
        let r = env
            .run(
                "name: s\ntasks:\n  a: {type: stack_left}\noutputs: {left: '${ $tasks.a.output }'}\n",
                json!({}),
            )
            .await;
        let left = r
            .outputs
            .as_ref()
            .and_then(|o| o["left"].as_u64())
            .unwrap_or_default();
        assert!(
            left >= (harmonia_expr::THREAD_STACK / 2) as u64,
            "inline {inline_pure_tasks}: {left} bytes of stack left: {r:?}"
        );
    }
}

async fn engine_on(store: Arc<dyn Store>, config: EngineConfig) -> Env {
    engine_with(store, config, Arc::new(Probe::default())).await
}

async fn engine_with(store: Arc<dyn Store>, config: EngineConfig, probe: Arc<Probe>) -> Env {
    let kinds = kinds(&probe, false);
    let plans = Arc::new(Plans::new(store.clone(), kinds.task_types().clone(), None));
    let (handle, _join) = spawn(config, store.clone(), plans, kinds)
        .await
        .expect("engine starts");
    Env {
        handle,
        probe,
        store,
        _dir: None,
    }
}

async fn engine() -> Env {
    let (store, dir) = sqlite().await;
    let mut env = engine_on(store, EngineConfig::default()).await;
    env._dir = Some(dir);
    env
}

impl Env {
    async fn register(&self, yaml: &str) -> Workflow {
        let source = Source::new("t.yaml", yaml, Format::Yaml);
        match self.handle.plans().register(&source).await {
            Ok(w) => w,
            Err(e) => panic!("{e:?}"),
        }
    }

    async fn start(&self, yaml: &str, inputs: Value) -> harmonia_storage::ExecutionId {
        let workflow = self.register(yaml).await;
        self.handle
            .start(StartRequest::new(workflow, inputs))
            .await
            .expect("starts")
    }

    async fn run(&self, yaml: &str, inputs: Value) -> ExecutionRecord {
        let id = self.start(yaml, inputs).await;
        tokio::time::timeout(Duration::from_secs(30), self.handle.wait(id))
            .await
            .expect("finishes in time")
            .expect("waits")
    }

    async fn task(
        &self,
        r: &ExecutionRecord,
        name: &str,
        item: Option<u32>,
    ) -> harmonia_storage::TaskRunRecord {
        self.store
            .task_runs(r.id)
            .await
            .expect("task runs")
            .into_iter()
            .find(|t| t.task == name && t.item == item)
            .expect("task row")
    }

    async fn kinds(&self, r: &ExecutionRecord) -> Vec<String> {
        self.store
            .events(r.id)
            .await
            .expect("events")
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }
}

#[tokio::test]
async fn a_diamond_passes_outputs_and_records_everything() {
    let env = engine().await;
    let r = env
        .run(
            "name: diamond
inputs: {type: object, properties: {n: {type: integer, default: 2}}}
tasks:
  a: {type: set, with: {v: '${ $inputs.n }'}}
  b: {type: probe, needs: [a], with: {echo: '${ $tasks.a.output.v * 10 }'}}
  c: {type: transform, needs: [a], with: {input: '${ $tasks.a.output.v }', expr: '. + 1'}}
  d: {type: set, needs: [b, c], with: {sum: '${ $tasks.b.output.echo + $tasks.c.output }'}}
outputs:
  sum: ${ $tasks.d.output.sum }
",
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{:?}", r.error);
    assert_eq!(r.outputs, Some(json!({"sum": 23})));
    assert_eq!(*r.inputs, json!({"n": 2}));
    let d = env.task(&r, "d", None).await;
    assert_eq!((d.status, d.attempts), (TaskStatus::Succeeded, 1));
    let kinds = env.kinds(&r).await;
    assert_eq!(kinds.first().map(String::as_str), Some("execution_started"));
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("execution_succeeded")
    );
    assert_eq!(kinds.iter().filter(|k| *k == "task_succeeded").count(), 4);
}

#[tokio::test]
async fn a_long_chain_of_pure_tasks_runs() {
    let env = engine().await;
    let mut yaml = String::from("name: chain\ntasks:\n  t0: {type: set, with: 0}\n");
    for i in 1..100 {
        yaml.push_str(&format!(
            "  t{i}: {{type: set, needs: [t{}], with: '${{ $tasks.t{}.output + 1 }}'}}\n",
            i - 1,
            i - 1
        ));
    }
    yaml.push_str("outputs:\n  last: ${ $tasks.t99.output }\n");
    let r = env.run(&yaml, json!({})).await;
    assert_eq!(r.outputs, Some(json!({"last": 99})));
}

#[tokio::test]
async fn a_fan_out_never_exceeds_its_concurrency_and_keeps_item_order() {
    let env = engine().await;
    let r = env
        .run(
            "name: fan
tasks:
  each:
    type: probe
    for_each: ${ [range(100)] }
    concurrency: 5
    with: {key: 'item-${ $index }', sleep_ms: '${ (100 - $index) % 7 }', echo: '${ $item }'}
    output: ${ $output.echo }
outputs:
  all: ${ $tasks.each.output }
",
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{:?}", r.error);
    assert_eq!(
        r.outputs,
        Some(json!({"all": (0..100).collect::<Vec<_>>()}))
    );
    let max = env.probe.max_running.load(Ordering::SeqCst);
    assert!(max <= 5, "{max} ran at once");
    assert!(max >= 2, "the fan-out ran in parallel ({max})");
    let item = env.task(&r, "each", Some(42)).await;
    assert_eq!(item.output, Some(json!(42)));
}

#[tokio::test]
async fn the_global_limit_bounds_attempts_across_executions() {
    let (store, dir) = sqlite().await;
    let mut env = engine_on(
        store,
        EngineConfig {
            max_concurrency: 3,
            ..EngineConfig::default()
        },
    )
    .await;
    env._dir = Some(dir);
    let yaml = "name: g\ntasks:\n  t: {type: probe, for_each: [1, 2, 3, 4], with: {key: '${ $execution.id }-${ $index }', sleep_ms: 20}}\n";
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(env.start(yaml, json!({})).await);
    }
    for id in ids {
        let r = env.handle.wait(id).await.expect("waits");
        assert_eq!(r.status, ExecutionStatus::Succeeded);
    }
    assert!(env.probe.max_running.load(Ordering::SeqCst) <= 3);
}

#[tokio::test]
async fn exponential_backoff_then_success() {
    let env = engine().await;
    let started = Instant::now();
    let r = env
        .run(
            "name: retry
tasks:
  call:
    type: probe
    with: {fail_times: 2}
    retry: {max_attempts: 4, backoff: exponential, initial_delay: 100ms, multiplier: 2, retry_on: [timeout]}
",
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{:?}", r.error);
    let call = env.task(&r, "call", None).await;
    assert_eq!(call.attempts, 3);
    // 100 ms then 200 ms of backoff.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    let events = env.store.events(r.id).await.expect("events");
    let dues: Vec<i64> = events
        .iter()
        .filter(|e| e.kind == "retry_scheduled")
        .map(|e| {
            let due = e.data.value()["due"]
                .as_str()
                .and_then(harmonia_storage::Timestamp::parse)
                .expect("due");
            due.0 - e.at.0
        })
        .collect();
    assert_eq!(dues, vec![100, 200]);
}

#[tokio::test]
async fn a_failing_branch_fails_the_execution_unless_tolerated() {
    let env = engine().await;
    let failing = "name: f
tasks:
  bad: {type: probe, with: {fail_times: 9, class: http_4xx}}
  slow: {type: probe, with: {sleep_ms: 50}}
  after: {type: set, needs: [bad, slow]}
";
    let r = env.run(failing, json!({})).await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    let error = r.error.clone().expect("error");
    assert_eq!(error["task"], "bad");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("task `bad` failed")
    );
    assert_eq!(
        env.task(&r, "slow", None).await.status,
        TaskStatus::Succeeded,
        "running work finishes"
    );
    // Regression: it was `cancelled`; its dependency failed, so it is skipped.
    let after = env.task(&r, "after", None).await;
    assert_eq!(after.status, TaskStatus::Skipped);
    assert_eq!(after.skip_reason.as_deref(), Some("upstream_failed"));

    let tolerant = failing
        .replace("class: http_4xx}}", "class: http_4xx}, on_error: continue}")
        .replace(
            "after: {type: set, needs: [bad, slow]}",
            "after: {type: set, needs: [bad, slow], join: all_done}",
        );
    let r = env
        .run(&tolerant.replace("name: f", "name: f2"), json!({}))
        .await;
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(env.task(&r, "bad", None).await.status, TaskStatus::Failed);
    assert_eq!(
        env.task(&r, "after", None).await.status,
        TaskStatus::Succeeded
    );
}

#[tokio::test]
async fn a_condition_skips_a_whole_subtree_without_hanging() {
    let env = engine().await;
    let r = env
        .run(
            "name: skip
tasks:
  gate: {type: set, if: '${ false }'}
  a: {type: probe, needs: [gate]}
  b: {type: probe, needs: [a]}
  c: {type: probe, needs: [b]}
  report: {type: set, needs: [c], join: all_done, with: {c: '${ $tasks.c.status }'}}
outputs:
  c: ${ $tasks.report.output.c }
",
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.outputs, Some(json!({"c": "skipped"})));
    let c = env.task(&r, "c", None).await;
    assert_eq!(c.skip_reason.as_deref(), Some("upstream_skipped"));
    assert_eq!(env.probe.attempts.lock().expect("lock").len(), 0);
}

#[tokio::test]
async fn bad_inputs_are_rejected_with_every_violation_and_nothing_is_created() {
    let env = engine().await;
    let workflow = env
        .register(
            "name: typed
inputs: {type: object, required: [cities, limit], properties: {cities: {type: array, items: {type: string}}, limit: {type: integer, minimum: 1}}}
tasks:
  t: {type: set}
",
        )
        .await;
    let err = env
        .handle
        .start(StartRequest::new(
            workflow,
            json!({"cities": ["Oslo", 7], "limit": 0}),
        ))
        .await
        .expect_err("invalid");
    let Error::InvalidInputs(v) = err else {
        panic!("{err:?}")
    };
    let paths: Vec<(&str, &str)> = v
        .iter()
        .map(|v| (v.path.as_str(), v.keyword.as_str()))
        .collect();
    assert_eq!(paths, vec![("/cities/1", "type"), ("/limit", "minimum")]);
    assert!(env.store.unfinished().await.expect("list").is_empty());
    assert!(
        env.store
            .executions(&Default::default())
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test]
async fn sleep_waits_on_a_durable_timer() {
    let env = engine().await;
    let started = Instant::now();
    let r = env
        .run(
            "name: nap\ntasks:\n  nap: {type: sleep, with: {duration: 300ms}}\n",
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(env.kinds(&r).await.contains(&"attempt_waiting".to_string()));
}

#[tokio::test]
async fn a_sub_workflow_runs_as_a_linked_child_and_its_error_propagates() {
    let env = engine().await;
    env.register(
        "name: child
inputs: {type: object, required: [x], properties: {x: {type: integer}, fail: {type: boolean, default: false}}}
tasks:
  double: {type: set, with: {v: '${ $inputs.x * 2 }'}}
  maybe_fail: {type: probe, needs: [double], if: '${ $inputs.fail }', with: {fail_times: 9, class: http_4xx}}
outputs:
  doubled: ${ $tasks.double.output.v }
",
    )
    .await;
    let parent = "name: parent
inputs: {type: object, properties: {fail: {type: boolean, default: false}}}
tasks:
  call: {type: workflow, with: {workflow: child, inputs: {x: 21, fail: '${ $inputs.fail }'}}}
outputs:
  answer: ${ $tasks.call.output.doubled }
";
    let r = env.run(parent, json!({})).await;
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{:?}", r.error);
    assert_eq!(r.outputs, Some(json!({"answer": 42})));
    let children: Vec<ExecutionRecord> = env
        .store
        .executions(&harmonia_storage::ExecutionQuery {
            workflow: Some("child".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(children.len(), 1);
    let link = children[0].parent.clone().expect("linked");
    assert_eq!((link.execution, link.task.as_str()), (r.id, "call"));

    let r = env.run(parent, json!({"fail": true})).await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    let message = r.error.expect("error")["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(message.contains("sub-workflow `child`"), "{message}");
    assert!(message.contains("maybe_fail"), "{message}");

    // A child with bad inputs fails the parent's task with the violations.
    let bad = parent
        .replace("name: parent", "name: parent2")
        .replace("x: 21", "x: oops");
    let r = env.run(&bad, json!({})).await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    let message = r.error.expect("error")["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("invalid inputs for sub-workflow `child`"),
        "{message}"
    );
}

/// What started an execution is recorded in its row and its first event: the starter's
/// origin for a start, `retry` by the original for a retry, `workflow` by the parent
/// for a sub-workflow (each of a retry's new children by the new parent).
#[tokio::test]
async fn retries_and_sub_workflows_record_their_origins() {
    use harmonia_engine::event::Event;
    use harmonia_storage::{Origin, OriginKind};
    let env = engine().await;
    env.register("name: leaf\ntasks:\n  a: {type: set, with: 1}\n")
        .await;
    let workflow = env
        .register(
            "name: tree
tasks:
  call: {type: workflow, with: {workflow: leaf}}
  flaky: {type: probe, needs: [call], with: {key: flaky, fail_times: 1, class: http_4xx}}
  again: {type: workflow, needs: [flaky], with: {workflow: leaf}}
",
        )
        .await;
    let by_api = Origin::by(OriginKind::Api, "ci-bot");
    let id = env
        .handle
        .start(StartRequest::new(workflow, json!({})).with_origin(by_api.clone()))
        .await
        .expect("starts");
    let first = env.handle.wait(id).await.expect("waits");
    assert_eq!(first.status, ExecutionStatus::Failed);
    assert_eq!(first.origin, Some(by_api.clone()));
    let children = |parent: harmonia_storage::ExecutionId| {
        let store = env.store.clone();
        async move {
            store
                .executions(&harmonia_storage::ExecutionQuery {
                    workflow: Some("leaf".into()),
                    ..Default::default()
                })
                .await
                .expect("list")
                .into_iter()
                .filter(|c| c.parent.as_ref().is_some_and(|p| p.execution == parent))
                .map(|c| c.origin)
                .collect::<Vec<_>>()
        }
    };
    let by_first = Some(Origin::by(OriginKind::Workflow, id.to_string()));
    assert_eq!(children(id).await, vec![by_first]);

    let (retry, _) = env
        .handle
        .retry(id, &harmonia_engine::RetryOptions::default())
        .await
        .expect("retries");
    let second = env.handle.wait(retry).await.expect("waits");
    assert_eq!(
        second.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        second.error
    );
    let by_retry = Some(Origin::by(OriginKind::Retry, id.to_string()));
    assert_eq!(second.origin, by_retry);
    // `call` is reused; `again` runs under the retry.
    let by_second = Some(Origin::by(OriginKind::Workflow, retry.to_string()));
    assert_eq!(children(retry).await, vec![by_second]);
    // The first event says so too: a replay rebuilds the same row.
    let history = env.handle.history(retry).await.expect("history");
    match history.first().map(|e| &e.event) {
        Some(Event::ExecutionStarted { origin, .. }) => assert_eq!(origin, &by_retry),
        other => panic!("{other:?}"),
    }
    // The original is not touched.
    let original = env.store.execution(id).await.expect("read").expect("row");
    assert_eq!(original.origin, Some(by_api));
}

#[tokio::test]
async fn cancel_really_stops_running_work_and_the_child() {
    let env = engine().await;
    env.register(
        "name: slow-child\ntasks:\n  wait: {type: probe, with: {key: child, sleep_ms: 60000}}\n",
    )
    .await;
    let id = env
        .start(
            "name: stoppable
tasks:
  long: {type: probe, with: {key: long, sleep_ms: 60000}}
  child: {type: workflow, with: {workflow: slow-child}}
  never: {type: set, needs: [long]}
",
            json!({}),
        )
        .await;
    // Wait until both attempts run.
    eventually(200, || env.probe.running.load(Ordering::SeqCst) == 2).await;
    assert_eq!(env.probe.running.load(Ordering::SeqCst), 2);
    let status = env
        .handle
        .cancel(id, Some("enough".into()))
        .await
        .expect("cancels");
    assert_eq!(status, ExecutionStatus::Cancelled);
    let r = env.handle.wait(id).await.expect("waits");
    assert_eq!(r.status, ExecutionStatus::Cancelled);
    eventually(200, || env.probe.cancelled.load(Ordering::SeqCst) == 2).await;
    assert_eq!(
        env.probe.cancelled.load(Ordering::SeqCst),
        2,
        "both the task and the child's task stopped"
    );
    // Idempotent; and a finished execution cannot be paused.
    assert_eq!(
        env.handle.cancel(id, None).await.expect("again"),
        ExecutionStatus::Cancelled
    );
    assert!(matches!(
        env.handle.pause(id).await,
        Err(Error::Conflict { .. })
    ));
}

#[tokio::test]
async fn the_workflow_timeout_fails_the_execution() {
    let env = engine().await;
    let r = env
        .run(
            "name: slow\ntimeout: 200ms\ntasks:\n  t: {type: probe, with: {sleep_ms: 60000}}\n",
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(r.error.expect("error")["class"], "timeout");
}

#[tokio::test]
async fn pause_holds_new_tasks_and_resume_continues() {
    let env = engine().await;
    let id = env
        .start(
            "name: pausable\ntasks:\n  first: {type: probe, with: {sleep_ms: 200}}\n  second: {type: probe, needs: [first]}\n",
            json!({}),
        )
        .await;
    assert_eq!(
        env.handle.pause(id).await.expect("pauses"),
        ExecutionStatus::Paused
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let first = env.store.task_runs(id).await.expect("runs");
    let status = |name: &str| first.iter().find(|t| t.task == name).map(|t| t.status);
    assert_eq!(
        status("first"),
        Some(TaskStatus::Succeeded),
        "running work finished"
    );
    assert_eq!(
        status("second"),
        Some(TaskStatus::Pending),
        "nothing new started"
    );
    assert!(matches!(
        env.handle.pause(id).await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(
        env.handle.resume(id).await.expect("resumes"),
        ExecutionStatus::Running
    );
    let r = env.handle.wait(id).await.expect("waits");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
}

#[tokio::test]
async fn an_engine_restarted_on_the_same_store_finishes_the_work() {
    let (store, _dir) = sqlite().await;
    let first = engine_on(store.clone(), EngineConfig::default()).await;
    let id = first
        .start(
            "name: resumable\ntasks:\n  a: {type: set, with: 1}\n  b: {type: probe, needs: [a], with: {sleep_ms: 60000}}\n  c: {type: set, needs: [b], with: '${ $tasks.a.output + 1 }'}\noutputs:\n  c: ${ $tasks.c.output }\n",
            json!({}),
        )
        .await;
    eventually(200, || first.probe.running.load(Ordering::SeqCst) == 1).await;
    first.handle.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A new engine on the same store: b runs again (quickly this time), a is not re-run.
    let probe = Arc::new(Probe::default());
    probe.no_sleep.store(true, Ordering::SeqCst);
    let second = engine_with(store.clone(), EngineConfig::default(), probe).await;
    let r = tokio::time::timeout(Duration::from_secs(120), second.handle.wait(id))
        .await
        .expect("in time")
        .expect("waits");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.outputs, Some(json!({"c": 2})));
    let events = store.events(id).await.expect("events");
    let recovered = events
        .iter()
        .filter(|e| e.kind == "attempt_started" && e.data.value()["recovered"] == true)
        .count();
    assert_eq!(recovered, 1);
    let a_starts = events
        .iter()
        .filter(|e| e.kind == "attempt_started" && e.data.value()["task"] == "a")
        .count();
    assert_eq!(
        a_starts, 1,
        "a succeeded before the restart and is not re-run"
    );
}

#[tokio::test]
async fn subscribers_see_every_committed_event_in_order() {
    let env = engine().await;
    let mut rx = env.handle.subscribe();
    let r = env
        .run(
            "name: sub\ntasks:\n  a: {type: set}\n  b: {type: set, needs: [a]}\n",
            json!({}),
        )
        .await;
    let mut seqs = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if e.execution == r.id {
            seqs.push(e.seq);
        }
    }
    let stored = env.store.events(r.id).await.expect("events").len() as u64;
    assert_eq!(seqs, (1..=stored).collect::<Vec<_>>());
}

/// The broadcast holds `event_buffer` events for a subscriber that does not read: one
/// that falls further behind is told it lagged (and reads the rest from the store),
/// and what it still receives is the newest events, in order.
#[tokio::test]
async fn a_subscriber_behind_by_more_than_the_event_buffer_is_told_it_lagged() {
    let config = EngineConfig {
        event_buffer: 8,
        ..EngineConfig::default()
    };
    let env = engine_on(Arc::new(MemoryStore::new()), config).await;
    let mut rx = env.handle.subscribe();
    let mut yaml = String::from("name: many\ntasks:\n");
    for i in 0..10 {
        yaml.push_str(&format!("  t{i}: {{type: set, with: {i}}}\n"));
    }
    let r = env.run(&yaml, json!({})).await;
    let stored = env.store.events(r.id).await.expect("events").len() as u64;
    assert!(stored > 8, "{stored} events");
    let lagged = match rx.try_recv() {
        Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => n,
        other => panic!("expected a lag, got {other:?}"),
    };
    let mut seqs = Vec::new();
    while let Ok(e) = rx.try_recv() {
        seqs.push(e.seq);
    }
    assert_eq!(seqs.len(), 8, "the buffer holds eight");
    assert_eq!(lagged + 8, stored);
    assert_eq!(seqs, ((stored - 7)..=stored).collect::<Vec<_>>());
}

/// An engine that may run `shell` tasks.
async fn shell_engine() -> Env {
    let (store, dir) = sqlite().await;
    let probe = Arc::new(Probe::default());
    let kinds = kinds(&probe, true);
    let plans = Arc::new(Plans::new(store.clone(), kinds.task_types().clone(), None));
    let (handle, _join) = spawn(EngineConfig::default(), store.clone(), plans, kinds)
        .await
        .expect("engine starts");
    Env {
        handle,
        probe,
        store,
        _dir: Some(dir),
    }
}

/// Polls `cond` every 10 ms, at most `tries` times, until it holds; the caller asserts.
async fn eventually(tries: u32, mut cond: impl FnMut() -> bool) {
    for _ in 0..tries {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_for_file(path: &std::path::Path) -> String {
    for _ in 0..500 {
        if let Ok(s) = std::fs::read_to_string(path)
            && !s.trim().is_empty()
        {
            return s.trim().to_string();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} never appeared", path.display());
}

fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| !s.contains("State:\tZ"))
}

#[tokio::test]
async fn cancel_kills_a_running_process_and_its_children() {
    let env = shell_engine().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let pid = dir.path().join("pid");
    let id = env
        .start(
            &format!("name: proc\ntasks:\n  hang: {{type: shell, with: {{script: 'sleep 60 & echo $! > {}; wait'}}}}\n", pid.display()),
            json!({}),
        )
        .await;
    let child = wait_for_file(&pid).await;
    assert!(alive(&child));
    env.handle.cancel(id, None).await.expect("cancels");
    let r = env.handle.wait(id).await.expect("waits");
    assert_eq!(r.status, ExecutionStatus::Cancelled);
    eventually(500, || !alive(&child)).await;
    assert!(!alive(&child), "the background sleep survived the cancel");
}

#[tokio::test]
async fn pause_lets_a_running_process_finish_and_starts_nothing_new() {
    let env = shell_engine().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let started = dir.path().join("started");
    let id = env
        .start(
            &format!(
                "name: paused\ntasks:\n  first: {{type: shell, with: {{script: 'echo 1 > {}; sleep 0.3; echo done'}}}}\n  second: {{type: shell, needs: [first], with: {{argv: [echo, two]}}}}\n",
                started.display()
            ),
            json!({}),
        )
        .await;
    wait_for_file(&started).await;
    assert_eq!(
        env.handle.pause(id).await.expect("pauses"),
        ExecutionStatus::Paused
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let runs = env.store.task_runs(id).await.expect("runs");
    let get = |name: &str| runs.iter().find(|t| t.task == name).cloned().expect("row");
    assert_eq!(
        get("first").status,
        TaskStatus::Succeeded,
        "the running process finished"
    );
    assert_eq!(get("first").output.expect("output")["stdout"], "done\n");
    assert_eq!(
        get("second").status,
        TaskStatus::Pending,
        "nothing new started while paused"
    );
    assert_eq!(
        env.store
            .execution(id)
            .await
            .expect("read")
            .expect("exists")
            .status,
        ExecutionStatus::Paused
    );
    env.handle.resume(id).await.expect("resumes");
    let r = env.handle.wait(id).await.expect("waits");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
}

const RETRYABLE: &str = "name: retryable
inputs: {type: object, properties: {n: {type: integer, default: 5}}}
tasks:
  a: {type: probe, with: {key: a, echo: '${ $inputs.n }'}}
  b: {type: probe, needs: [a], with: {key: b, fail_times: 1, class: http_4xx, echo: '${ $tasks.a.output.echo * 2 }'}}
  c: {type: set, needs: [b], with: '${ $tasks.b.output.echo + 1 }'}
  side: {type: probe, with: {key: side}}
outputs:
  c: ${ $tasks.c.output }
";

#[tokio::test]
async fn retry_from_failure_reuses_what_succeeded_and_runs_the_rest() {
    let env = engine().await;
    let first = env.run(RETRYABLE, json!({"n": 4})).await;
    assert_eq!(first.status, ExecutionStatus::Failed);
    let attempts = |key: &str| {
        env.probe
            .attempts
            .lock()
            .expect("lock")
            .get(key)
            .copied()
            .unwrap_or(0)
    };
    assert_eq!((attempts("a"), attempts("b"), attempts("side")), (1, 1, 1));

    let options = harmonia_engine::RetryOptions::default();
    let preview = env
        .handle
        .retry_preview(first.id, &options)
        .await
        .expect("preview");
    assert_eq!(preview.rerun, vec!["b", "c"]);
    assert_eq!(preview.reused, vec!["a", "side"]);
    assert_eq!(preview.version, first.version);
    // The preview started nothing.
    assert_eq!(
        env.store
            .executions(&Default::default())
            .await
            .expect("list")
            .len(),
        1
    );

    let (id, plan) = env.handle.retry(first.id, &options).await.expect("retries");
    assert_eq!(plan, preview);
    let second = env.handle.wait(id).await.expect("waits");
    assert_eq!(
        second.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        second.error
    );
    assert_eq!(
        second.outputs,
        Some(json!({"c": 9})),
        "reused a's output (4), b doubled it, c added one"
    );
    assert_eq!(second.retry_of, Some(first.id));
    assert_eq!(second.inputs, first.inputs);
    assert_eq!(
        (attempts("a"), attempts("b"), attempts("side")),
        (1, 2, 1),
        "only b ran again"
    );
    let a = env.task(&second, "a", None).await;
    assert_eq!(
        (a.status, a.output.clone()),
        (
            TaskStatus::Succeeded,
            Some(json!({"key": "a", "attempt": 1, "echo": 4}))
        )
    );

    // From a chosen task: it and everything downstream run again, even though they
    // succeeded.
    let from = harmonia_engine::RetryOptions {
        from: Some("a".into()),
        ..Default::default()
    };
    let preview = env
        .handle
        .retry_preview(second.id, &from)
        .await
        .expect("preview");
    assert_eq!(
        (preview.rerun, preview.reused),
        (
            vec!["a".to_string(), "b".into(), "c".into()],
            vec!["side".to_string()]
        )
    );
}

#[tokio::test]
async fn retry_refuses_what_does_not_apply() {
    let env = engine().await;
    let ok = env
        .run("name: fine\ntasks:\n  a: {type: set}\n", json!({}))
        .await;
    let err = env
        .handle
        .retry(ok.id, &Default::default())
        .await
        .expect_err("nothing failed");
    assert!(matches!(&err, Error::Conflict { .. }), "{err:?}");
    assert!(
        err.to_string().contains("name a task to run again from"),
        "{err}"
    );
    let from_nowhere = harmonia_engine::RetryOptions {
        from: Some("zzz".into()),
        ..Default::default()
    };
    let err = env
        .handle
        .retry_preview(ok.id, &from_nowhere)
        .await
        .expect_err("no such task");
    assert!(
        matches!(&err, Error::UnknownTask { tasks, .. } if tasks == &["a"]),
        "{err:?}"
    );
    assert!(err.to_string().contains("no task `zzz`"), "{err}");
    let running = env
        .start(
            "name: slow\ntasks:\n  a: {type: probe, with: {sleep_ms: 60000}}\n",
            json!({}),
        )
        .await;
    assert!(matches!(
        env.handle.retry(running, &Default::default()).await,
        Err(Error::Conflict { .. })
    ));
    env.handle.cancel(running, None).await.expect("cancel");
    let unknown = harmonia_storage::ExecutionId::new();
    assert!(matches!(
        env.handle.retry(unknown, &Default::default()).await,
        Err(Error::UnknownExecution(_))
    ));
}

#[tokio::test]
async fn retry_on_the_latest_version_reruns_changed_tasks() {
    let env = engine().await;
    let first = env.run(RETRYABLE, json!({})).await;
    assert_eq!(first.status, ExecutionStatus::Failed);
    // A new version changes `side` only.
    let v2 = RETRYABLE.replace(
        "side: {type: probe, with: {key: side}}",
        "side: {type: probe, with: {key: side2}}",
    );
    let w2 = env.register(&v2).await;
    assert_eq!(w2.record.version, 2);
    let pinned = env
        .handle
        .retry_preview(first.id, &Default::default())
        .await
        .expect("preview");
    assert_eq!(
        (pinned.version, pinned.reused.clone()),
        (1, vec!["a".to_string(), "side".into()])
    );
    let latest = harmonia_engine::RetryOptions {
        latest_version: true,
        ..Default::default()
    };
    let preview = env
        .handle
        .retry_preview(first.id, &latest)
        .await
        .expect("preview");
    assert_eq!(preview.version, 2);
    assert_eq!(preview.rerun, vec!["b", "c", "side"]);
    assert_eq!(preview.reused, vec!["a"]);
}

#[tokio::test]
async fn history_is_the_ordered_event_log() {
    let env = engine().await;
    let r = env
        .run(
            "name: hist\ntasks:\n  a: {type: probe, with: {fail_times: 1}, retry: {max_attempts: 2, initial_delay: 10ms}}\n",
            json!({}),
        )
        .await;
    let history = env.handle.history(r.id).await.expect("history");
    let kinds: Vec<&str> = history.iter().map(|e| e.event.kind()).collect();
    assert_eq!(
        kinds,
        vec![
            "execution_started",
            "task_started",
            "attempt_started",
            "attempt_failed",
            "retry_scheduled",
            "timer_fired",
            "attempt_started",
            "attempt_succeeded",
            "task_succeeded",
            "execution_succeeded"
        ]
    );
    assert!(
        history
            .windows(2)
            .all(|w| w[0].seq + 1 == w[1].seq && w[0].at <= w[1].at)
    );
    let failed = history.iter().find_map(|e| match &e.event {
        harmonia_engine::event::Event::AttemptFailed { attempt, error, .. } => {
            Some((*attempt, error.class))
        }
        _ => None,
    });
    assert_eq!(failed, Some((1, ErrorClass::Timeout)));
    assert!(matches!(
        env.handle
            .history(harmonia_storage::ExecutionId::new())
            .await,
        Err(Error::UnknownExecution(_))
    ));
}

#[tokio::test]
async fn a_paused_execution_stays_paused_across_a_restart() {
    let (store, _dir) = sqlite().await;
    let first = engine_on(store.clone(), EngineConfig::default()).await;
    let id = first
        .start(
            "name: held\ntasks:\n  a: {type: set, with: 1}\n  b: {type: probe, needs: [a], with: {sleep_ms: 100}}\n  c: {type: set, needs: [b]}\n",
            json!({}),
        )
        .await;
    // Pause as soon as possible; b may or may not have started.
    first.handle.pause(id).await.expect("pauses");
    first.handle.shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = engine_on(store.clone(), EngineConfig::default()).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let record = store.execution(id).await.expect("read").expect("exists");
    assert_eq!(record.status, ExecutionStatus::Paused);
    let c = store
        .task_runs(id)
        .await
        .expect("runs")
        .into_iter()
        .find(|t| t.task == "c")
        .expect("row");
    assert_eq!(
        c.status,
        TaskStatus::Pending,
        "nothing new starts while paused"
    );
    second.handle.resume(id).await.expect("resumes");
    let r = second.handle.wait(id).await.expect("waits");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
}

/// Regression: `$tasks.X.recovered_by` was refused by validation although the engine
/// puts it there. What a task's result holds is exactly what validation lets read.
#[tokio::test]
async fn a_task_result_has_exactly_the_fields_validation_allows() {
    let env = engine().await;
    let r = env
        .run(
            "name: fields\ntasks:\n  a: {type: set, with: {x: 1}}\n  b: {type: set, needs: [a], with: {keys: \"${ $tasks.a | keys_unsorted }\", recovered: \"${ $tasks.a.recovered_by }\"}}\noutputs: {keys: \"${ $tasks.b.output.keys }\"}\n",
            json!({}),
        )
        .await;
    let outputs = r.outputs.clone().expect("outputs");
    let keys: Vec<&str> = outputs["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(keys, harmonia_model::RESULT_FIELDS);
}
