//! `Executions`: starting with inputs checked, reading, listing with filters and a
//! cursor, control, retry with its preview, and history.

use harmonia_app::Error;
use harmonia_app::executions::{ExecutionFilter, RetryMode};
use harmonia_engine::RetryOptions;
use harmonia_storage::{ExecutionId, ExecutionStatus};
use serde_json::{Map, Value, json};

use super::{api, env, yaml};

const GREET: &str = "name: greet
inputs: {type: object, required: [who], properties: {who: {type: string}}}
tasks:
  greet: {type: set, with: {msg: 'hello ${ $inputs.who }'}}
outputs:
  msg: ${ $tasks.greet.output.msg }
";

fn inputs(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[tokio::test]
async fn starting_checks_the_inputs_and_pins_the_version() {
    let env = env().await;
    env.app
        .workflows()
        .create(&yaml(GREET))
        .await
        .expect("created");
    let x = env.app.executions();
    match x.start("greet", None, Map::new(), None, api()).await {
        Err(Error::InvalidInputs(v)) => assert_eq!(v.len(), 1, "{v:?}"),
        other => panic!("expected invalid inputs, got {other:?}"),
    }
    assert!(matches!(
        x.start("greet", Some(7), Map::new(), None, api()).await,
        Err(Error::NotFound(m)) if m == "workflow `greet` has no version 7 (its latest is 1)"
    ));
    assert!(matches!(
        x.start("nope", None, Map::new(), None, api()).await,
        Err(Error::NotFound(m)) if m == "no workflow `nope`"
    ));
    let started = x
        .start("greet", Some(1), inputs(json!({"who": "ada"})), None, api())
        .await
        .expect("started");
    assert_eq!((started.workflow.as_str(), started.version), ("greet", 1));
    assert_eq!(
        env.ended(started.execution).await,
        ExecutionStatus::Succeeded
    );
    let got = x.get(started.execution).await.expect("reads");
    assert_eq!(got.record.outputs, Some(json!({"msg": "hello ada"})));
    assert_eq!(got.plan.tasks[0].name, "greet");
    assert_eq!(got.runs.len(), 1);
    let snapshot = x.snapshot(started.execution).await.expect("reads");
    let history = x.history(started.execution).await.expect("history");
    assert_eq!(snapshot.last_seq, history.last().map_or(0, |e| e.seq));
    assert_eq!(history[0].kind, "execution_started");
}

#[tokio::test]
async fn lists_filter_and_page_newest_first() {
    let env = env().await;
    env.app
        .workflows()
        .create(&yaml(GREET))
        .await
        .expect("created");
    let x = env.app.executions();
    let mut ids = Vec::new();
    for who in ["a", "b", "c"] {
        let s = x
            .start("greet", None, inputs(json!({"who": who})), None, api())
            .await
            .expect("started");
        env.ended(s.execution).await;
        ids.push(s.execution);
    }
    let page = x
        .list(ExecutionFilter {
            workflow: Some("greet".into()),
            statuses: vec![ExecutionStatus::Succeeded],
            limit: Some(2),
            ..ExecutionFilter::default()
        })
        .await
        .expect("page");
    assert_eq!(
        page.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[2], ids[1]]
    );
    let rest = x
        .list(ExecutionFilter {
            cursor: page.next_cursor,
            ..ExecutionFilter::default()
        })
        .await
        .expect("page");
    assert_eq!(
        rest.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[0]]
    );
    assert_eq!(rest.next_cursor, None);
    let none = x
        .list(ExecutionFilter {
            statuses: vec![ExecutionStatus::Failed],
            ..ExecutionFilter::default()
        })
        .await
        .expect("page");
    assert!(none.items.is_empty());
    assert!(matches!(
        x.list(ExecutionFilter {
            cursor: Some("not-an-id".into()),
            ..ExecutionFilter::default()
        })
        .await,
        Err(Error::InvalidRequest(m)) if m.contains("`cursor`")
    ));
}

#[tokio::test]
async fn control_answers_the_status_or_a_conflict() {
    let env = env().await;
    let slow = "name: slow\ntasks:\n  nap: {type: sleep, with: {duration: 30s}}\n  after: {type: set, needs: [nap], with: 1}\n";
    env.app
        .workflows()
        .create(&yaml(slow))
        .await
        .expect("created");
    let x = env.app.executions();
    let id = x
        .start("slow", None, Map::new(), None, api())
        .await
        .expect("started")
        .execution;
    assert_eq!(x.pause(id).await.expect("paused"), ExecutionStatus::Paused);
    assert!(matches!(x.pause(id).await, Err(Error::Conflict(_))));
    assert_eq!(
        x.resume(id).await.expect("resumed"),
        ExecutionStatus::Running
    );
    let reason = Some("enough".to_string());
    assert_eq!(
        x.cancel(id, reason.clone()).await.expect("cancelled"),
        ExecutionStatus::Cancelled
    );
    assert_eq!(
        x.cancel(id, reason).await.expect("no-op"),
        ExecutionStatus::Cancelled
    );
    let unknown = ExecutionId::new();
    assert!(matches!(x.pause(unknown).await, Err(Error::NotFound(_))));
    assert!(matches!(x.get(unknown).await, Err(Error::NotFound(_))));
    assert!(matches!(x.history(unknown).await, Err(Error::NotFound(_))));
    assert!(matches!(
        harmonia_app::executions::history(env.store.as_ref(), unknown).await,
        Err(Error::NotFound(m)) if m == format!("no execution {unknown}")
    ));
}

#[tokio::test]
async fn a_retry_previews_then_reruns_what_failed() {
    let env = env().await;
    let flaky = "name: flaky
inputs: {type: object, properties: {fail: {type: boolean, default: true}}}
tasks:
  first: {type: set, with: 1}
  boom: {type: transform, needs: [first], with: {expr: 'if $inputs.fail then error(\"no\") else 2 end'}}
  last: {type: set, needs: [boom], with: 3}
";
    env.app
        .workflows()
        .create(&yaml(flaky))
        .await
        .expect("created");
    let x = env.app.executions();
    let id = x
        .start("flaky", None, Map::new(), None, api())
        .await
        .expect("started")
        .execution;
    assert_eq!(env.ended(id).await, ExecutionStatus::Failed);

    let options = RetryOptions::default();
    let preview = x
        .retry(id, &options, RetryMode::Preview)
        .await
        .expect("preview");
    assert_eq!(preview.execution, None);
    assert_eq!(preview.plan.rerun, ["boom", "last"]);
    assert_eq!(preview.plan.reused, ["first"]);

    let bad = RetryOptions {
        from: Some("nope".into()),
        ..RetryOptions::default()
    };
    match x.retry(id, &bad, RetryMode::Start).await {
        Err(Error::UnknownTask { task, tasks, .. }) => {
            assert_eq!(task, "nope");
            assert_eq!(tasks, ["first", "boom", "last"]);
        }
        other => panic!("expected an unknown task, got {other:?}"),
    }
    let retried = x
        .retry(id, &options, RetryMode::Start)
        .await
        .expect("retried");
    let new = retried.execution.expect("a new execution");
    assert_eq!(retried.plan, preview.plan);
    assert_eq!(env.ended(new).await, ExecutionStatus::Failed);
    assert_eq!(x.record(new).await.expect("reads").retry_of, Some(id));
}
