//! `/api/templates`: versions and diffs, instantiation, export and import between two
//! servers, Tekton files, and the built-in library.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Server, assert_error, server};

const GREET: &str = "name: greet
description: Greets someone, several times
tags: [demo, text]
category: examples
parameters:
  type: object
  required: [who]
  properties:
    who: {type: string, minLength: 1}
    times: {type: integer, minimum: 1, default: 2}
    style: {type: string, enum: [plain, loud], default: plain}
workflow:
  tasks:
    greet:
      type: set
      with: {msg: 'hello ${ $params.who }', times: '${ $params.times }', style: '${ $params.style }'}
  outputs:
    msg: ${ $tasks.greet.output.msg }
    times: ${ $tasks.greet.output.times }
";

async fn put_yaml(s: &Server, uri: &str, body: &str) -> super::Reply {
    s.call(Method::PUT, uri, Some("application/yaml"), body, None)
        .await
}

#[tokio::test]
async fn versions_are_immutable_and_diffable() {
    let s = server().await;
    let r = s.post_yaml("/api/templates?note=first", GREET).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let saved = r.json();
    assert_eq!(saved["outcome"], "created");
    assert_eq!(saved["template"]["version"], 1);
    assert_eq!(saved["template"]["tags"], json!(["demo", "text"]));
    // One version has nothing before it to compare with.
    let e = assert_error(
        &s.get("/api/templates/greet/diff").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("no version before 1"),
        "{e}"
    );
    assert_error(
        &s.post_yaml("/api/templates", GREET).await,
        StatusCode::CONFLICT,
        "conflict",
    );

    // The same content (even reformatted) is no new version; other content is.
    let reformatted = GREET.replace("tags: [demo, text]", "tags:\n  - demo\n  - text");
    let r = put_yaml(&s, "/api/templates/greet", &reformatted).await;
    assert_eq!(r.json()["outcome"], "unchanged", "{}", r.text);
    assert_eq!(r.json()["template"]["version"], 1);
    let v2 = GREET.replace("default: 2", "default: 3");
    let r = put_yaml(&s, "/api/templates/greet?note=three%20by%20default", &v2).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["template"]["version"], 2);

    let old = s.get("/api/templates/greet?version=1").await.json();
    assert_eq!(old["version"], 1);
    assert_eq!(old["parameters"]["properties"]["times"]["default"], 2);
    assert_eq!(old["source"], GREET);
    let latest = s.get("/api/templates/greet").await.json();
    assert_eq!(latest["note"], "three by default");
    let by_id = s
        .get(&format!(
            "/api/templates/{}",
            latest["id"].as_str().unwrap_or("")
        ))
        .await
        .json();
    assert_eq!(by_id["version"], 2);

    let versions = s.get("/api/templates/greet/versions").await.json();
    let notes: Vec<Value> = versions["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["note"].clone())
        .collect();
    assert_eq!(notes, vec![json!("first"), json!("three by default")]);

    let diff = s.get("/api/templates/greet/diff").await.json();
    assert_eq!(
        (diff["from"].clone(), diff["to"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(
        diff["changes"],
        json!([{"path": "/parameters/properties/times/default", "change": "changed", "before": 2, "after": 3}])
    );

    // A name is not renamed by an update; reserved names are refused.
    let r = put_yaml(
        &s,
        "/api/templates/greet",
        &GREET.replace("name: greet", "name: other"),
    )
    .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_definition");
    let r = s
        .post_yaml(
            "/api/templates",
            &GREET.replace("name: greet", "name: export"),
        )
        .await;
    let e = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_definition");
    assert!(
        e["message"].as_str().unwrap_or("").contains("is a route"),
        "{e}"
    );

    // Invalid templates get every problem with its line.
    let broken = GREET
        .replace("type: set", "type: sett")
        .replace("minimum: 1", "minimum: one");
    let r = s
        .post_yaml(
            "/api/templates",
            &broken.replace("name: greet", "name: broken"),
        )
        .await;
    let e = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_definition");
    let details = e["details"].as_array().expect("diagnostics");
    assert!(details.len() >= 2, "{e}");
    assert!(details.iter().all(|d| d["line"].as_u64().is_some()), "{e}");

    // Delete: gone from lists and lookups, old versions still readable by number.
    let r = s
        .call(Method::DELETE, "/api/templates/greet", None, "", None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_error(
        &s.get("/api/templates/greet").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(
        s.get("/api/templates/greet?version=1").await.status,
        StatusCode::OK
    );
    assert_eq!(s.get("/api/templates").await.json()["templates"], json!([]));
}

#[tokio::test]
async fn a_parameter_the_schema_does_not_declare_is_a_warning_in_the_answer() {
    let s = server().await;
    let typo = GREET.replace("'${ $params.style }'", "'${ $params.stlye }'");
    let expected = json!([{
        "severity": "warning",
        "path": "workflow.tasks.greet.with.style",
        "task": "greet",
        "line": 16,
        "column": 85,
        "message": "`$params.stlye` reads `stlye`, which the template's `parameters` schema does not declare (did you mean `$params.style`?)",
    }]);
    let r = s.post_yaml("/api/templates?dry_run=true", &typo).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["warnings"], expected);
    let r = s.post_yaml("/api/templates", &typo).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["warnings"], expected);
    let r = put_yaml(&s, "/api/templates/greet", GREET).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["template"]["version"], 2);
    assert_eq!(r.json()["warnings"], json!([]));
}

#[tokio::test]
async fn lists_filter_by_tag_category_and_name() {
    let s = server().await;
    for (name, tag, category) in [
        ("alpha", "x", "one"),
        ("beta", "y", "one"),
        ("gamma", "x", "two"),
    ] {
        let text = GREET
            .replace("name: greet", &format!("name: {name}"))
            .replace("tags: [demo, text]", &format!("tags: [{tag}]"))
            .replace("category: examples", &format!("category: {category}"));
        assert_eq!(
            s.post_yaml("/api/templates", &text).await.status,
            StatusCode::CREATED
        );
    }
    let names = |v: Value| -> Vec<String> {
        v["templates"]
            .as_array()
            .expect("templates")
            .iter()
            .map(|t| t["name"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(
        names(s.get("/api/templates?tag=x").await.json()),
        ["alpha", "gamma"]
    );
    assert_eq!(
        names(s.get("/api/templates?category=one").await.json()),
        ["alpha", "beta"]
    );
    assert_eq!(names(s.get("/api/templates?q=AMM").await.json()), ["gamma"]);
    let page = s.get("/api/templates?limit=2").await.json();
    assert_eq!(names(page.clone()), ["alpha", "beta"]);
    let next = page["next_cursor"].as_str().expect("a cursor").to_string();
    let rest = s
        .get(&format!("/api/templates?limit=2&cursor={next}"))
        .await
        .json();
    assert_eq!(names(rest.clone()), ["gamma"]);
    assert_eq!(rest["next_cursor"], Value::Null);
}

#[tokio::test]
async fn instantiating_checks_every_parameter_then_makes_and_runs_a_workflow() {
    let s = server().await;
    s.post_yaml("/api/templates", GREET).await;

    let r = s
        .post_json(
            "/api/templates/greet/instantiate",
            json!({"params": {"who": "", "times": 0, "style": "shouty", "extra": 1}}),
        )
        .await;
    let e = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_params");
    let mut paths: Vec<String> = e["details"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                v["path"].as_str().unwrap_or(""),
                v["keyword"].as_str().unwrap_or("")
            )
        })
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        ["/style enum", "/times minimum", "/who minLength"],
        "{e}"
    );
    assert_eq!(s.get("/api/workflows").await.json()["workflows"], json!([]));
    let r = s
        .post_json("/api/templates/greet/instantiate", json!({"params": {}}))
        .await;
    let e = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_params");
    assert_eq!(e["details"][0]["keyword"], "required", "{e}");

    // Good values: defaults fill in, the workflow records its template, and it runs.
    let r = s
        .post_json(
            "/api/templates/greet/instantiate",
            json!({"params": {"who": "Ada"}, "name": "greet-ada", "execute": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let made = r.json();
    assert_eq!(
        made["params"],
        json!({"who": "Ada", "times": 2, "style": "plain"})
    );
    assert_eq!(made["template"], json!({"name": "greet", "version": 1}));
    assert_eq!(made["workflow"]["name"], "greet-ada");
    let definition = s.get("/api/workflows/greet-ada").await.json();
    assert_eq!(
        definition["definition"]["template"],
        json!({"name": "greet", "version": 1})
    );
    let id = made["execution"]["execution_id"]
        .as_str()
        .expect("an execution");
    let done = s.finished(id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["outputs"], json!({"msg": "hello Ada", "times": 2}));

    // Executing the workflow later uses the same parameters.
    let again = s
        .post_json("/api/workflows/greet-ada/execute", json!({}))
        .await
        .json();
    let done = s
        .finished(again["execution_id"].as_str().expect("an execution"))
        .await;
    assert_eq!(done["outputs"]["msg"], "hello Ada");

    // A workflow of that name not made from this template is not overwritten.
    s.post_yaml("/api/workflows", "name: mine\ntasks:\n  a: {type: set}\n")
        .await;
    let r = s
        .post_json(
            "/api/templates/greet/instantiate",
            json!({"params": {"who": "Bo"}, "name": "mine"}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");

    // Without a name, the same values make the same workflow.
    let a = s
        .post_json(
            "/api/templates/greet/instantiate",
            json!({"params": {"who": "Cy"}}),
        )
        .await
        .json();
    let b = s
        .post_json(
            "/api/templates/greet/instantiate",
            json!({"params": {"who": "Cy", "times": 2}}),
        )
        .await
        .json();
    assert_eq!(a["workflow"]["name"], b["workflow"]["name"]);
    assert_eq!(a["workflow"]["version"], b["workflow"]["version"]);
    assert_eq!(a["outcome"], "created", "{a}");
    // Regression: the second answer looked like the first, so clients said "created".
    assert_eq!(b["outcome"], "unchanged", "{b}");
    let r = s
        .post_json(
            "/api/templates/greet/instantiate",
            json!({"params": {"who": "Cy"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s
        .post_json(
            "/api/templates/greet/instantiate",
            json!({"params": {"who": "Cy"}, "execute": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["outcome"], "unchanged");
    let id = r.json()["execution"]["execution_id"]
        .as_str()
        .expect("an execution")
        .to_string();
    s.finished(&id).await;

    // A new template version makes a new version of the same workflow.
    let v2 = GREET.replace("description: Greets someone", "description: Greets anyone");
    let r = s
        .call(
            Method::PUT,
            "/api/templates/greet",
            Some("application/yaml"),
            &v2,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let c = s
        .post_json(
            "/api/templates/greet/instantiate",
            json!({"params": {"who": "Ada"}, "name": "greet-ada"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let c = c.json();
    assert_eq!(
        (c["outcome"].as_str(), c["workflow"]["version"].as_u64()),
        (Some("updated"), Some(2)),
        "{c}"
    );
}

async fn export(s: &Server, format: &str) -> String {
    let r = s
        .get(&format!("/api/templates/export?format={format}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.content_type, format!("application/{format}"));
    r.text
}

#[tokio::test]
async fn export_and_import_between_two_servers_is_byte_for_byte_stable() {
    let a = server().await;
    a.post_yaml("/api/templates?note=first", GREET).await;
    put_yaml(
        &a,
        "/api/templates/greet?note=second",
        &GREET.replace("default: 2", "default: 5"),
    )
    .await;
    a.post_yaml(
        "/api/templates",
        &GREET.replace("name: greet", "name: other"),
    )
    .await;

    for format in ["yaml", "json"] {
        let b = server().await;
        let exported = export(&a, format).await;
        let r = b
            .call(
                Method::POST,
                "/api/templates/import",
                Some(&format!("application/{format}")),
                &exported,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            r.json()["created"].as_array().map(Vec::len),
            Some(3),
            "{}",
            r.text
        );
        assert_eq!(export(&b, format).await, exported, "{format}");
        // Importing again changes nothing.
        let r = b
            .call(
                Method::POST,
                "/api/templates/import",
                Some(&format!("application/{format}")),
                &exported,
                None,
            )
            .await;
        assert_eq!(r.json()["created"], json!([]), "{}", r.text);
        assert_eq!(r.json()["unchanged"].as_array().map(Vec::len), Some(3));
    }

    // One template by name; an unknown name is a 404.
    let one = a.get("/api/templates/export?name=other").await.text;
    assert!(
        one.contains("name: other") && !one.contains("name: greet"),
        "{one}"
    );
    assert_error(
        &a.get("/api/templates/export?name=nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Strict: other content for an existing template is a conflict, and nothing is
    // written; without strict it is a new version.
    let b = server().await;
    b.post_yaml("/api/templates", &GREET.replace("default: 2", "default: 9"))
        .await;
    let exported = export(&a, "yaml").await;
    let r = b
        .call(
            Method::POST,
            "/api/templates/import?strict=true",
            Some("application/yaml"),
            &exported,
            None,
        )
        .await;
    let e = assert_error(&r, StatusCode::CONFLICT, "conflict");
    assert!(e["message"].as_str().unwrap_or("").contains("greet"), "{e}");
    assert_error(
        &b.get("/api/templates/other").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let r = b
        .call(
            Method::POST,
            "/api/templates/import",
            Some("application/yaml"),
            &exported,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(b.get("/api/templates/greet").await.json()["version"], 3);
}

#[tokio::test]
async fn a_tekton_file_converts_with_its_report() {
    let s = server().await;
    let text = include_str!("../../../model/tests/tekton/bug_fix.json");
    let r = s
        .call(
            Method::POST,
            "/api/templates?dry_run=true",
            Some("application/json"),
            text,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let preview = r.json();
    assert!(
        preview["source"]
            .as_str()
            .unwrap_or("")
            .contains("${ $params."),
        "{preview}"
    );
    assert!(
        preview["conversion"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{preview}"
    );
    assert_eq!(s.get("/api/templates").await.json()["templates"], json!([]));

    let r = s
        .call(
            Method::POST,
            "/api/templates",
            Some("application/json"),
            text,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let saved = r.json();
    let name = saved["template"]["name"]
        .as_str()
        .expect("a name")
        .to_string();
    let issue = &saved["conversion"][0];
    assert!(
        issue["line"].as_u64().is_some() && issue["message"].is_string(),
        "{saved}"
    );
    let stored = s.get(&format!("/api/templates/{name}")).await.json();
    assert_eq!(stored["source"], preview["source"]);
    assert_eq!(stored["format"], "yaml");
}

#[tokio::test]
async fn the_built_in_library_is_stored_once() {
    let s = server().await;
    let seeded = harmonia_app::templates::seed_builtins(
        s.store.as_ref(),
        &harmonia_engine::kinds::builtin_types(),
    )
    .await
    .expect("seeds");
    assert_eq!(seeded.len(), harmonia_model::template::BUILTIN.len());
    let listed = s.get("/api/templates").await.json();
    assert_eq!(
        listed["templates"].as_array().map(Vec::len),
        Some(seeded.len())
    );
    // A deleted built-in stays deleted; the others are not stored twice.
    let r = s
        .call(Method::DELETE, "/api/templates/etl", None, "", None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let again = harmonia_app::templates::seed_builtins(
        s.store.as_ref(),
        &harmonia_engine::kinds::builtin_types(),
    )
    .await
    .expect("seeds");
    assert_eq!(again, Vec::<String>::new());
    assert_error(
        &s.get("/api/templates/etl").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(
        s.get("/api/templates/http-fan-out").await.json()["version"],
        1
    );
}

/// The next `workflow_*` message on a `/ws/workflows` feed.
async fn next_change(
    feed: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    use futures::StreamExt;
    loop {
        let m = tokio::time::timeout(std::time::Duration::from_secs(10), feed.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("ok");
        if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).expect("json");
            if v["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("workflow_"))
            {
                return v;
            }
        }
    }
}

/// A workflow made by instantiating a template is announced on `/ws/workflows` like
/// one created directly: created, then updated with a new version; an instantiation
/// that changes nothing is not announced (the next change seen is the delete).
#[tokio::test]
async fn instantiating_a_template_is_announced_on_the_workflows_feed() {
    let s = server().await;
    let r = s.post_yaml("/api/templates", GREET).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = s.app.clone();
    tokio::spawn(
        async move { harmonia_server::serve(listener, app, std::future::pending()).await },
    );
    let (mut feed, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/workflows"))
        .await
        .expect("connects");

    let instantiate = |who: &'static str| {
        let s = &s;
        async move {
            let body = json!({"name": "greeter", "params": {"who": who}});
            let r = s.post_json("/api/templates/greet/instantiate", body).await;
            assert!(r.status.is_success(), "{}", r.text);
            r.json()
        }
    };
    let made = instantiate("ada").await;
    assert_eq!(made["outcome"], "created");
    assert_eq!(
        next_change(&mut feed).await,
        json!({"type": "workflow_created", "name": "greeter", "version": 1})
    );
    let again = instantiate("grace").await;
    assert_eq!(again["outcome"], "updated");
    assert_eq!(
        next_change(&mut feed).await,
        json!({"type": "workflow_updated", "name": "greeter", "version": 2})
    );
    let same = instantiate("grace").await;
    assert_eq!(same["outcome"], "unchanged");
    let r = s
        .call(Method::DELETE, "/api/workflows/greeter", None, "", None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        next_change(&mut feed).await,
        json!({"type": "workflow_deleted", "name": "greeter"})
    );
}
