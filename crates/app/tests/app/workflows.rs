//! `Workflows`: versions, warnings, names, deleting with unfinished executions, and the
//! changes each announces.

use harmonia_app::Error;
use harmonia_app::workflows::{OnUnfinished, Outcome, WorkflowFilter};
use harmonia_model::graph::GraphFormat;
use harmonia_storage::prelude::*;
use serde_json::Map;

use super::{api, created, env, updated, yaml};
use harmonia_app::Change;

const HELLO: &str = "name: hello\ntasks:\n  greet: {type: set, with: {msg: hi}}\n";

#[tokio::test]
async fn create_and_update_make_versions_and_announce_them() {
    let mut env = env().await;
    let w = env.app.workflows().clone();
    let saved = w.create(&yaml(HELLO)).await.expect("created");
    assert_eq!(
        (saved.record.name.as_str(), saved.record.version),
        ("hello", 1)
    );
    assert!(saved.warnings.is_empty(), "{:?}", saved.warnings);
    assert_eq!(env.announced(), vec![created("hello", 1)]);

    // The same text keeps the version and announces nothing.
    let same = w.update("hello", &yaml(HELLO)).await.expect("kept");
    assert_eq!(same.record.version, 1);
    assert!(env.announced().is_empty());

    let v2 = HELLO.replace("hi", "hello");
    let by_id = saved.record.id.to_string();
    let saved = w.update(&by_id, &yaml(&v2)).await.expect("updated");
    assert_eq!(saved.record.version, 2);
    assert_eq!(env.announced(), vec![updated("hello", 2)]);

    // Every version stays readable, with its definition.
    let v1 = w.get("hello", Some(1)).await.expect("v1");
    assert_eq!(v1.record.source, HELLO);
    assert_eq!(v1.definition.expect("reads").name, "hello");
    let (name, versions) = w.versions(&by_id).await.expect("versions");
    assert_eq!(name, "hello");
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(matches!(
        w.get("hello", Some(3)).await,
        Err(Error::NotFound(m)) if m == "no workflow `hello` version 3"
    ));
}

#[tokio::test]
async fn what_cannot_be_stored_is_refused_with_everything_wrong() {
    let mut env = env().await;
    let w = env.app.workflows().clone();
    w.create(&yaml(HELLO)).await.expect("created");
    env.announced();
    assert!(matches!(
        w.create(&yaml(HELLO)).await,
        Err(Error::Exists { name, .. }) if name == "hello"
    ));
    let renamed = HELLO.replace("name: hello", "name: other");
    assert!(matches!(
        w.update("hello", &yaml(&renamed)).await,
        Err(Error::InvalidName(m)) if m.contains("names do not change")
    ));
    let broken = "name: broken\ntasks:\n  a: {type: htp}\n  b: {type: set, needs: [nope]}\n";
    match w.create(&yaml(broken)).await {
        Err(e @ Error::InvalidDefinition { .. }) => {
            assert_eq!(e.error_count(), 2, "{e:?}");
            assert!(e.to_string().starts_with("request: "), "{e}");
        }
        other => panic!("expected an invalid definition, got {other:?}"),
    }
    assert!(env.announced().is_empty(), "nothing was stored");
    assert!(
        env.store
            .workflow("broken", None)
            .await
            .expect("reads")
            .is_none()
    );
}

#[tokio::test]
async fn a_sub_workflow_not_stored_is_a_warning() {
    let env = env().await;
    let parent = "name: parent\ntasks:\n  child: {type: workflow, with: {workflow: child}}\n";
    let saved = env
        .app
        .workflows()
        .create(&yaml(parent))
        .await
        .expect("created");
    assert_eq!(saved.warnings.len(), 1, "{:?}", saved.warnings);
    assert!(
        saved.warnings[0]
            .message
            .contains("no workflow `child` is stored yet")
    );
}

#[tokio::test]
async fn register_says_what_it_did() {
    let mut env = env().await;
    let w = env.app.workflows().clone();
    let first = w.register(&yaml(HELLO)).await.expect("registered");
    assert_eq!(first.outcome, Outcome::Created);
    let again = w.register(&yaml(HELLO)).await.expect("registered");
    assert_eq!(again.outcome, Outcome::Unchanged);
    let changed = w
        .register(&yaml(&HELLO.replace("hi", "ho")))
        .await
        .expect("registered");
    assert_eq!(changed.outcome, Outcome::Updated);
    assert_eq!(
        env.announced(),
        vec![created("hello", 1), updated("hello", 2)]
    );
    // A text that does not even read reports every problem.
    assert!(matches!(
        w.register(&yaml("tasks: [")).await,
        Err(Error::InvalidDefinition { .. })
    ));
}

#[tokio::test]
async fn lists_page_by_name() {
    let env = env().await;
    let w = env.app.workflows().clone();
    for name in ["c", "a", "b", "ab"] {
        let text = HELLO.replace("name: hello", &format!("name: {name}"));
        w.create(&yaml(&text)).await.expect("created");
    }
    let page = w
        .list(WorkflowFilter {
            limit: Some(2),
            ..WorkflowFilter::default()
        })
        .await
        .expect("page");
    let names: Vec<_> = page.items.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "ab"]);
    let rest = w
        .list(WorkflowFilter {
            cursor: page.next_cursor.clone(),
            limit: Some(2),
            ..WorkflowFilter::default()
        })
        .await
        .expect("page");
    let names: Vec<_> = rest.items.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["b", "c"]);
    assert_eq!(rest.next_cursor, None);
    let found = w
        .list(WorkflowFilter {
            search: Some("a".into()),
            cursor: Some(String::new()),
            ..WorkflowFilter::default()
        })
        .await
        .expect("page");
    assert_eq!(found.items.len(), 2);
    assert!(matches!(
        w.list(WorkflowFilter {
            limit: Some(1001),
            ..WorkflowFilter::default()
        })
        .await,
        Err(Error::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn deleting_refuses_while_executions_run_unless_they_may_run_on() {
    let mut env = env().await;
    let w = env.app.workflows().clone();
    let slow = "name: slow\ntasks:\n  nap: {type: sleep, with: {duration: 30s}}\n";
    w.create(&yaml(slow)).await.expect("created");
    let started = env
        .app
        .executions()
        .start("slow", None, Map::new(), None, api())
        .await
        .expect("started");
    env.announced();
    match w.delete("slow", OnUnfinished::Refuse).await {
        Err(Error::Running {
            workflow,
            executions,
        }) => {
            assert_eq!(workflow, "slow");
            assert_eq!(executions, vec![started.execution]);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(env.announced().is_empty());
    w.delete("slow", OnUnfinished::RunOn)
        .await
        .expect("deleted");
    assert_eq!(
        env.announced(),
        vec![Change::WorkflowDeleted {
            name: "slow".into()
        }]
    );
    assert!(matches!(
        w.record("slow", None).await,
        Err(Error::NotFound(_))
    ));
    // Its execution runs on, on the version it pinned.
    let x = env
        .app
        .executions()
        .get(started.execution)
        .await
        .expect("reads");
    assert_eq!(x.record.status, harmonia_storage::ExecutionStatus::Running);
    env.app
        .executions()
        .cancel(started.execution, None)
        .await
        .expect("cancelled");
}

#[tokio::test]
async fn graphs_draw_the_version_asked_for() {
    let env = env().await;
    let w = env.app.workflows().clone();
    w.create(&yaml(HELLO)).await.expect("created");
    let mermaid = w
        .graph("hello", None, GraphFormat::Mermaid)
        .await
        .expect("drawn");
    assert!(mermaid.contains("flowchart"), "{mermaid}");
    let json = w
        .graph("hello", Some(1), GraphFormat::Json)
        .await
        .expect("drawn");
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["name"], "hello");
    assert!(matches!(
        w.graph("nope", None, GraphFormat::Dot).await,
        Err(Error::NotFound(_))
    ));
}
