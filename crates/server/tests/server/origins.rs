//! What started each execution, through the API: `origin: {kind, by}` on every summary
//! (the token that called `execute`, MCP's tool, a trigger's id, a template), and the
//! list's `origin`, `trigger` and `input` filters, which select exactly what they say
//! and refuse what they cannot read, naming the parameter.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use harmonia_server::{ApiConfig, Role};
use serde_json::{Value, json};

use super::hooks::{SECRET, github_signature, hooked, payload, push};
use super::{HELLO, Server, assert_error, server_with};

const REPORT: &str = "name: report
inputs: {type: object, required: [day], properties: {day: {type: string}}}
triggers:
  - schedule: {cron: '0 6 * * *', timezone: UTC, inputs: {day: '${ $trigger.scheduled_at }'}}
tasks:
  a: {type: set, with: '${ $inputs.day }'}
";

const GREET: &str = "name: greet
parameters: {type: object, required: [who], properties: {who: {type: string}}}
workflow:
  tasks:
    greet: {type: set, with: {msg: 'hello ${ $params.who }'}}
";

/// The ids of `GET /api/executions?{query}`, newest first, with `token`.
async fn ids(s: &Server, query: &str, token: Option<&str>) -> Vec<String> {
    let r = s
        .call(
            Method::GET,
            &format!("/api/executions?{query}"),
            None,
            "",
            token,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    r.json()["executions"]
        .as_array()
        .expect("executions")
        .iter()
        .map(|x| x["id"].as_str().expect("an id").to_string())
        .collect()
}

/// The `origin` of execution `id` as the list shows it, and as its detail does.
async fn origin(s: &Server, id: &str, token: Option<&str>) -> Value {
    let listed = s
        .call(Method::GET, "/api/executions?limit=500", None, "", token)
        .await
        .json();
    let summary = listed["executions"]
        .as_array()
        .and_then(|xs| xs.iter().find(|x| x["id"] == id).cloned())
        .unwrap_or_else(|| panic!("{id} is not listed: {listed}"));
    let detail = s
        .call(
            Method::GET,
            &format!("/api/executions/{id}"),
            None,
            "",
            token,
        )
        .await
        .json();
    assert_eq!(detail["origin"], summary["origin"], "{detail}");
    summary["origin"].clone()
}

/// Starts `HELLO` for `who` through the API, with `token`; the new execution's id.
async fn execute(s: &Server, who: &str, token: Option<&str>) -> String {
    let r = s
        .call(
            Method::POST,
            "/api/workflows/hello/execute",
            Some("application/json"),
            &json!({"inputs": {"who": who}}).to_string(),
            token,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["execution_id"]
        .as_str()
        .expect("an execution")
        .to_string()
}

/// MCP's `execute_workflow` with `token`; the new execution's id.
async fn execute_by_mcp(s: &Server, token: &str) -> String {
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "execute_workflow", "arguments": {"name": "hello", "inputs": {"who": "mcp"}}},
    });
    let req = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header("host", "127.0.0.1:8007")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .expect("request");
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let result = &r.json()["result"];
    assert_eq!(result["isError"], false, "{result}");
    result["structuredContent"]["execution_id"]
        .as_str()
        .expect("an execution")
        .to_string()
}

#[tokio::test]
async fn an_api_start_records_its_token_as_origin_and_mcp_its_own() {
    let s = server_with(ApiConfig::default()).await;
    let (token, _) = harmonia_server::create_token(s.store.as_ref(), "ci-bot", Role::Admin)
        .await
        .expect("token");
    let t = Some(token.as_str());
    let r = s
        .call(
            Method::POST,
            "/api/workflows",
            Some("application/yaml"),
            HELLO,
            t,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let by_api = execute(&s, "ada", t).await;
    assert_eq!(
        origin(&s, &by_api, t).await,
        json!({"kind": "api", "by": "ci-bot"})
    );
    let by_mcp = execute_by_mcp(&s, &token).await;
    assert_eq!(
        origin(&s, &by_mcp, t).await,
        json!({"kind": "mcp", "by": "ci-bot"})
    );
    assert_eq!(ids(&s, "origin=mcp", t).await, [by_mcp.as_str()]);
    assert_eq!(
        ids(&s, "origin=api,mcp", t).await,
        [by_mcp.as_str(), by_api.as_str()]
    );
}

#[tokio::test]
async fn triggers_record_their_ids_and_the_list_filters_by_origin_trigger_and_input() {
    let s = hooked().await;
    for (uri, text) in [("/api/workflows", REPORT), ("/api/workflows", HELLO)] {
        let r = s.post_yaml(uri, text).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = s.post_yaml("/api/templates", GREET).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // A webhook delivery, two fires of a schedule, a start by the API (no token
    // needed: `by` is null), and a template's.
    let body = payload("acme/site");
    let r = s
        .send(push("d-1", &github_signature(SECRET, &body), &body))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let hooked = r.json()["execution_id"]
        .as_str()
        .expect("an execution")
        .to_string();
    let window = json!({"from": "2026-03-27T00:00:00Z", "to": "2026-03-29T00:00:00Z"});
    let fires = s
        .post_json("/api/triggers/report.0/backfill", window)
        .await
        .json();
    let fired: Vec<String> = fires["fires"]
        .as_array()
        .expect("fires")
        .iter()
        .rev()
        .map(|f| {
            f["execution_id"]
                .as_str()
                .expect("an execution")
                .to_string()
        })
        .collect();
    assert_eq!(fired.len(), 2, "{fires}");
    let by_api = execute(&s, "ada", None).await;
    let r = s
        .post_json(
            "/api/templates/greet/instantiate",
            json!({"params": {"who": "Ada"}, "name": "greet-ada", "execute": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let by_template = r.json()["execution"]["execution_id"]
        .as_str()
        .expect("an execution")
        .to_string();

    assert_eq!(
        origin(&s, &hooked, None).await,
        json!({"kind": "webhook", "by": "deploy.0"})
    );
    for id in &fired {
        assert_eq!(
            origin(&s, id, None).await,
            json!({"kind": "schedule", "by": "report.0"})
        );
    }
    assert_eq!(
        origin(&s, &by_api, None).await,
        json!({"kind": "api", "by": null})
    );
    assert_eq!(
        origin(&s, &by_template, None).await,
        json!({"kind": "template", "by": "greet"})
    );
    // The trigger ids are the triggers list's.
    let listed = s.get("/api/triggers").await.json();
    let trigger_ids: Vec<&str> = listed["triggers"]
        .as_array()
        .expect("triggers")
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert!(
        trigger_ids.contains(&"deploy.0") && trigger_ids.contains(&"report.0"),
        "{listed}"
    );

    // Newest first, exactly what each filter says.
    let (f0, f1) = (fired[0].as_str(), fired[1].as_str());
    let (hooked, by_api, by_template) = (hooked.as_str(), by_api.as_str(), by_template.as_str());
    assert_eq!(ids(&s, "origin=schedule", None).await, [f0, f1]);
    assert_eq!(
        ids(&s, "origin=schedule,webhook", None).await,
        [f0, f1, hooked]
    );
    assert_eq!(ids(&s, "origin=template", None).await, [by_template]);
    assert_eq!(
        ids(&s, "origin=retry,cli", None).await,
        Vec::<String>::new()
    );
    assert_eq!(ids(&s, "trigger=report.0", None).await, [f0, f1]);
    assert_eq!(ids(&s, "trigger=deploy.0", None).await, [hooked]);
    assert_eq!(
        ids(&s, "trigger=deploy.1", None).await,
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&s, "trigger=report.0&origin=webhook", None).await,
        Vec::<String>::new(),
        "both apply"
    );
    assert_eq!(
        ids(&s, "trigger=report.0&limit=1", None).await,
        [f0],
        "pages"
    );
    assert_eq!(
        ids(&s, &format!("trigger=report.0&cursor={f0}"), None).await,
        [f1]
    );
    // Inputs: `{"repo":"acme/site","by":"ada"}`, `{"who":"ada","times":2}`, ...
    assert_eq!(ids(&s, "input=acme%2Fsite", None).await, [hooked]);
    assert_eq!(ids(&s, "input=ada", None).await, [by_api, hooked]);
    assert_eq!(
        ids(&s, "input=%22who%22%3A%22ada%22", None).await,
        [by_api],
        "a field as JSON writes it"
    );
    assert_eq!(
        ids(&s, "input=ADA", None).await,
        Vec::<String>::new(),
        "case-sensitive"
    );
    assert_eq!(ids(&s, "input=2026-03-27", None).await, [f1]);
    assert_eq!(
        ids(&s, "input=ada&origin=webhook", None).await,
        [hooked],
        "with the other filters"
    );
    assert_eq!(
        ids(&s, "input=%25", None).await,
        Vec::<String>::new(),
        "literal"
    );
    assert_eq!(ids(&s, "input=", None).await.len(), 5, "empty: any");

    // What the filters cannot read is refused, naming the parameter.
    for query in ["origin=manual", "origin=schedule,", "origin=Schedule"] {
        let e = assert_error(
            &s.get(&format!("/api/executions?{query}")).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
        let message = e["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("`origin`") && message.contains("schedule, webhook, event"),
            "{query}: {e}"
        );
    }
    let long = "x".repeat(201);
    let e = assert_error(
        &s.get(&format!("/api/executions?input={long}")).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`input`"),
        "{e}"
    );
    assert_eq!(
        ids(&s, &format!("input={}", "x".repeat(200)), None).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn the_api_description_has_the_origin_and_its_filters() {
    let s = super::server().await;
    let spec = s.get("/openapi.json").await.json();
    let origin = &spec["components"]["schemas"]["OriginView"];
    let required: Vec<&str> = origin["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(required, ["kind"], "{origin:#}");
    assert!(origin["properties"]["by"].is_object(), "{origin:#}");
    let summary = spec["components"]["schemas"]["ExecutionSummary"].to_string();
    assert!(
        summary.contains("#/components/schemas/OriginView"),
        "{summary}"
    );
    let params: Vec<&str> = spec["paths"]["/api/executions"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in ["origin", "trigger", "input"] {
        assert!(params.contains(&name), "{name}: {params:?}");
    }
}
