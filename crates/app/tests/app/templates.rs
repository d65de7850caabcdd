//! `Templates`: checking and converting, versions, instantiation (announced like any
//! workflow change), export and import, and the built-in library.

use harmonia_app::Error;
use harmonia_app::templates::{Instantiate, Mode, TemplateFilter};
use harmonia_app::workflows::Outcome;
use harmonia_model::{Format, Source};
use harmonia_storage::prelude::*;
use harmonia_storage::{OnConflict, PutOutcome};
use serde_json::{Map, Value, json};

use super::{created, env, updated, yaml};

const GREET: &str = "name: greet
tags: [demo]
parameters:
  type: object
  required: [who]
  properties:
    who: {type: string, minLength: 1}
    times: {type: integer, minimum: 1, default: 2}
workflow:
  tasks:
    greet: {type: set, with: {msg: 'hello ${ $params.who }', times: '${ $params.times }'}}
  outputs:
    msg: ${ $tasks.greet.output.msg }
";

fn params(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[tokio::test]
async fn versions_are_kept_by_content_and_diffed() {
    let env = env().await;
    let t = env.app.templates().clone();
    let dry = t
        .create(&yaml(GREET), None, Mode::DryRun)
        .await
        .expect("checked");
    assert!(dry.stored.is_none());
    assert_eq!(dry.checked.template.name, "greet");
    assert!(
        env.store
            .template("greet", None)
            .await
            .expect("reads")
            .is_none()
    );

    let saved = t
        .create(&yaml(GREET), Some("first"), Mode::Store)
        .await
        .expect("stored");
    let put = saved.stored.expect("stored");
    assert_eq!((put.record.version, put.outcome), (1, PutOutcome::Created));
    assert!(matches!(
        t.create(&yaml(GREET), None, Mode::Store).await,
        Err(Error::Exists { name, .. }) if name == "greet"
    ));
    let same = t
        .update("greet", &yaml(GREET), None, Mode::Store)
        .await
        .expect("kept");
    assert_eq!(same.stored.map(|p| p.outcome), Some(PutOutcome::Unchanged));
    let v2 = GREET.replace("default: 2", "default: 3");
    let put = t
        .update("greet", &yaml(&v2), Some("more"), Mode::Store)
        .await
        .expect("stored")
        .stored
        .expect("stored");
    assert_eq!(put.record.version, 2);
    let diff = t.diff("greet", None, None).await.expect("diff");
    assert_eq!((diff.from, diff.to), (1, 2));
    assert_eq!(diff.changes.len(), 1, "{:?}", diff.changes);
    assert!(matches!(
        t.diff("greet", None, Some(1)).await,
        Err(Error::NotFound(m)) if m.contains("no version before 1")
    ));
    let renamed = GREET.replace("name: greet", "name: other");
    assert!(matches!(
        t.update("greet", &yaml(&renamed), None, Mode::DryRun).await,
        Err(Error::InvalidName(_))
    ));
    let reserved = GREET.replace("name: greet", "name: export");
    assert!(matches!(
        t.create(&yaml(&reserved), None, Mode::Store).await,
        Err(Error::Reserved(n)) if n == "export"
    ));
    let page = t
        .list(TemplateFilter {
            tag: Some("demo".into()),
            ..TemplateFilter::default()
        })
        .await
        .expect("page");
    assert_eq!(page.items.len(), 1);
    t.delete("greet").await.expect("deleted");
    assert!(matches!(
        t.get("greet", None).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn instantiating_registers_an_announced_workflow_and_can_start_it() {
    let mut env = env().await;
    let t = env.app.templates().clone();
    t.create(&yaml(GREET), None, Mode::Store)
        .await
        .expect("stored");
    match t.instantiate("greet", Instantiate::default()).await {
        Err(Error::InvalidParams {
            template,
            violations,
        }) => {
            assert_eq!(template, "greet");
            assert_eq!(violations.len(), 1, "{violations:?}");
        }
        other => panic!("expected invalid parameters, got {other:?}"),
    }
    let request = |who: &str| Instantiate {
        name: Some("greeter".into()),
        params: params(json!({"who": who})),
        ..Instantiate::default()
    };
    let made = t.instantiate("greet", request("ada")).await.expect("made");
    assert_eq!(made.outcome, Outcome::Created);
    assert_eq!(made.params, json!({"who": "ada", "times": 2}));
    assert_eq!(made.template.name, "greet");
    let again = t.instantiate("greet", request("ada")).await.expect("made");
    assert_eq!(again.outcome, Outcome::Unchanged);
    let run = Instantiate {
        execute: Some(Map::new()),
        ..request("grace")
    };
    let updated_one = t.instantiate("greet", run).await.expect("made");
    assert_eq!(updated_one.outcome, Outcome::Updated);
    let started = updated_one.execution.expect("started");
    assert_eq!(started.version, 2);
    env.ended(started.execution).await;
    assert_eq!(
        env.announced(),
        vec![created("greeter", 1), updated("greeter", 2)]
    );

    // A workflow of that name that this template did not make is not overwritten.
    env.app
        .workflows()
        .create(&yaml("name: mine\ntasks:\n  a: {type: set, with: 1}\n"))
        .await
        .expect("created");
    let taken = Instantiate {
        name: Some("mine".into()),
        ..request("ada")
    };
    assert!(matches!(
        t.instantiate("greet", taken).await,
        Err(Error::Conflict(m)) if m.contains("was not made from template `greet`")
    ));
}

#[tokio::test]
async fn export_then_import_elsewhere_round_trips() {
    let a = env().await;
    a.app
        .templates()
        .create(&yaml(GREET), Some("first"), Mode::Store)
        .await
        .expect("stored");
    let doc = a.app.templates().export(&[]).await.expect("exported");
    let text = doc.render(Format::Yaml);
    assert!(matches!(
        a.app.templates().export(&["nope".to_string()]).await,
        Err(Error::NotFound(m)) if m == "no template `nope`"
    ));

    let b = env().await;
    let source = Source::new("request", text.clone(), Format::Yaml);
    let imported = b
        .app
        .templates()
        .import(&source, OnConflict::Fail)
        .await
        .expect("imported");
    assert_eq!(imported.created.len(), 1);
    let again = b
        .app
        .templates()
        .import(&source, OnConflict::Fail)
        .await
        .expect("imported");
    assert_eq!((again.created.len(), again.unchanged.len()), (0, 1));
    let back = b.app.templates().export(&[]).await.expect("exported");
    assert_eq!(back.render(Format::Yaml), text);
}

#[tokio::test]
async fn the_built_ins_are_seeded_once() {
    let env = env().await;
    let t = env.app.templates().clone();
    let seeded = t.seed_builtins().await.expect("seeded");
    assert!(!seeded.is_empty());
    t.delete(&seeded[0]).await.expect("deleted");
    assert!(t.seed_builtins().await.expect("seeded").is_empty());
}

/// Regression: an instantiation asked to start the workflow on inputs its schema
/// refuses stored the workflow (and announced it) before the start refused them.
#[tokio::test]
async fn an_instantiation_refused_for_its_inputs_stores_nothing() {
    let mut env = env().await;
    let t = env.app.templates().clone();
    t.create(
        &yaml(
            "name: ask
parameters: {type: object, properties: {greeting: {type: string, default: hi}}}
workflow:
  inputs: {type: object, required: [who], properties: {who: {type: string}}}
  tasks:
    say: {type: set, with: '${ $params.greeting + \" \" + $inputs.who }'}
",
        ),
        None,
        Mode::Store,
    )
    .await
    .expect("stored");
    let _ = env.announced();
    let refused = t
        .instantiate(
            "ask",
            Instantiate {
                name: Some("asker".into()),
                execute: Some(params(json!({"who": 7}))),
                ..Instantiate::default()
            },
        )
        .await;
    assert!(
        matches!(&refused, Err(Error::InvalidInputs(v)) if !v.is_empty()),
        "{refused:?}"
    );
    assert!(
        env.store
            .workflow("asker", None)
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(env.announced(), vec![]);
    // The same with good inputs makes it and starts it.
    let made = t
        .instantiate(
            "ask",
            Instantiate {
                name: Some("asker".into()),
                execute: Some(params(json!({"who": "ada"}))),
                ..Instantiate::default()
            },
        )
        .await
        .expect("made");
    let started = made.execution.expect("started");
    env.ended(started.execution).await;
    assert_eq!(env.announced(), vec![created("asker", 1)]);
}
