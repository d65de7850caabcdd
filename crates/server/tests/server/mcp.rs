//! `/mcp`: raw JSON-RPC over Streamable HTTP, as a plain HTTP client sends it
//! (stateless, JSON answers): the handshake and discovery, the tools against the
//! same use cases as REST, tool errors, roles, resources, and the guards in front.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use harmonia_server::{Access, ApiConfig, Role};
use serde_json::{Value, json};

use super::{HELLO, Reply, Server, server, server_with};

/// The handshake revision these tests speak, and the per-request one.
const LEGACY: &str = "2025-06-18";
const MODERN: &str = "2026-07-28";

/// A JSON-RPC request to `/mcp` (with `token`, and these extra headers).
async fn rpc_with(
    s: &Server,
    token: Option<&str>,
    headers: &[(&str, &str)],
    method: &str,
    params: Value,
) -> Reply {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header("host", "127.0.0.1:8007")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if method != "initialize" && !headers.iter().any(|(k, _)| *k == "mcp-protocol-version") {
        req = req.header("mcp-protocol-version", LEGACY);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    s.send(req.body(Body::from(body.to_string())).expect("request"))
        .await
}

/// The result of a JSON-RPC request (which must succeed at the protocol level).
async fn rpc(s: &Server, token: Option<&str>, method: &str, params: Value) -> Value {
    let r = rpc_with(s, token, &[], method, params).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.content_type.starts_with("application/json"),
        "{}",
        r.content_type
    );
    let v = r.json();
    assert_eq!(v["jsonrpc"], "2.0", "{v}");
    assert!(v.get("error").is_none(), "{method}: {v}");
    v["result"].clone()
}

/// A tool's result (`isError` may be either).
async fn tool(s: &Server, token: Option<&str>, name: &str, arguments: Value) -> Value {
    rpc(
        s,
        token,
        "tools/call",
        json!({"name": name, "arguments": arguments}),
    )
    .await
}

/// A tool's structured result, which must not be an error; its text content must be
/// the same JSON.
async fn ok(s: &Server, token: Option<&str>, name: &str, arguments: Value) -> Value {
    let r = tool(s, token, name, arguments).await;
    assert_eq!(r["isError"], false, "{name}: {r}");
    let text = r["content"][0]["text"].as_str().expect("text content");
    let parsed: Value = serde_json::from_str(text).expect("JSON text");
    assert_eq!(parsed, r["structuredContent"], "{name}");
    r["structuredContent"].clone()
}

/// A tool error's text, which must start with `code: `.
async fn refused(
    s: &Server,
    token: Option<&str>,
    name: &str,
    arguments: Value,
    code: &str,
) -> String {
    let r = tool(s, token, name, arguments).await;
    assert_eq!(r["isError"], true, "{name}: {r}");
    assert_eq!(r["structuredContent"]["error"]["code"], code, "{r}");
    let text = r["content"][0]["text"].as_str().expect("text").to_string();
    assert!(text.starts_with(&format!("{code}: ")), "{text}");
    text
}

const TWO_SETS: &str = "name: pair
tasks:
  first: {type: set, with: {n: 1}}
  second: {type: set, needs: [first], with: {n: '${ $tasks.first.output.n + 1 }'}}
outputs:
  n: ${ $tasks.second.output.n }
";

#[tokio::test]
async fn the_handshake_and_discovery_describe_the_server() {
    let s = server().await;
    let init = rpc(
        &s,
        None,
        "initialize",
        json!({"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}),
    )
    .await;
    assert_eq!(init["protocolVersion"], LEGACY, "{init}");
    assert_eq!(init["serverInfo"]["name"], "harmonia");
    assert!(init["capabilities"]["tools"].is_object(), "{init}");
    assert!(init["capabilities"]["resources"].is_object(), "{init}");
    assert!(
        init["instructions"]
            .as_str()
            .is_some_and(|i| i.contains("execute_workflow"))
    );

    // 2026-07-28: no handshake; each request carries its version.
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let r = rpc_with(
        &s,
        None,
        &[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "server/discover"),
        ],
        "server/discover",
        json!({"_meta": meta}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let found = r.json()["result"].clone();
    let versions = found["supportedVersions"].to_string();
    assert!(
        versions.contains(MODERN) && versions.contains(LEGACY),
        "{found}"
    );

    // Every tool, each with an object schema.
    let listed = rpc(&s, None, "tools/list", json!({})).await;
    let tools = listed["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    for name in [
        "list_workflows",
        "get_workflow",
        "validate_workflow",
        "create_workflow",
        "execute_workflow",
        "list_executions",
        "get_execution",
        "cancel_execution",
        "pause_execution",
        "resume_execution",
        "retry_execution",
        "list_templates",
        "get_template",
        "instantiate_template",
        "list_components",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    for t in tools {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert!(
            t["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{t}"
        );
    }
    let execute = tools
        .iter()
        .find(|t| t["name"] == "execute_workflow")
        .expect("execute_workflow");
    assert_eq!(execute["inputSchema"]["required"], json!(["name"]));
    assert_eq!(
        execute["inputSchema"]["properties"]["wait_seconds"]["maximum"],
        60
    );
}

#[tokio::test]
async fn tools_create_validate_execute_and_read_like_the_api() {
    let s = server().await;

    // Invalid: every problem, with its line and column; nothing stored.
    let broken = "name: broken\ntasks:\n  a: {type: nope}\n  b: {type: set, needs: [zzz]}\n";
    let v = ok(&s, None, "validate_workflow", json!({"definition": broken})).await;
    assert_eq!(v["valid"], false, "{v}");
    let diagnostics = v["diagnostics"].as_array().expect("diagnostics");
    assert!(diagnostics.len() >= 2, "{v}");
    for d in diagnostics {
        assert!(d["line"].as_u64().is_some_and(|l| l >= 3), "{d}");
        assert!(d["column"].as_u64().is_some_and(|c| c >= 1), "{d}");
        assert!(
            d["path"].as_str().is_some_and(|p| p.starts_with("tasks.")),
            "{d}"
        );
        assert_eq!(d["severity"], "error", "{d}");
        assert!(d["message"].as_str().is_some_and(|m| !m.is_empty()), "{d}");
    }
    let v = ok(
        &s,
        None,
        "validate_workflow",
        json!({"definition": TWO_SETS}),
    )
    .await;
    assert_eq!(v, json!({"valid": true, "diagnostics": []}));
    assert_eq!(
        s.get("/api/workflows/pair").await.status,
        StatusCode::NOT_FOUND
    );

    // Created, then unchanged, then a new version: the API's view with its outcome.
    let w = ok(&s, None, "create_workflow", json!({"definition": TWO_SETS})).await;
    assert_eq!(
        (w["name"].as_str(), w["version"].as_u64()),
        (Some("pair"), Some(1))
    );
    assert_eq!(w["outcome"], "created");
    assert_eq!(w["links"]["self"], "/api/workflows/pair");
    let w = ok(&s, None, "create_workflow", json!({"definition": TWO_SETS})).await;
    assert_eq!(
        (w["outcome"].as_str(), w["version"].as_u64()),
        (Some("unchanged"), Some(1))
    );
    let v2 = TWO_SETS.replace("n: 1}", "n: 41}");
    let w = ok(&s, None, "create_workflow", json!({"definition": v2})).await;
    assert_eq!(
        (w["outcome"].as_str(), w["version"].as_u64()),
        (Some("updated"), Some(2))
    );
    let text = refused(
        &s,
        None,
        "create_workflow",
        json!({"definition": broken}),
        "invalid_definition",
    )
    .await;
    assert!(text.contains("\"line\":3"), "{text}");

    // Read like GET /api/workflows/pair.
    let detail = ok(
        &s,
        None,
        "get_workflow",
        json!({"name": "pair", "version": 1}),
    )
    .await;
    assert_eq!(detail["source"], TWO_SETS);
    assert_eq!(detail, s.get("/api/workflows/pair?version=1").await.json());
    let list = ok(&s, None, "list_workflows", json!({})).await;
    assert_eq!(list, s.get("/api/workflows").await.json());

    // Executed and waited for: the execution with its outputs and tasks.
    let x = ok(
        &s,
        None,
        "execute_workflow",
        json!({"name": "pair", "wait_seconds": 10}),
    )
    .await;
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(x["outputs"], json!({"n": 42}));
    assert_eq!(x["tasks"]["second"]["status"], "succeeded");
    let id = x["id"].as_str().expect("id").to_string();
    assert_eq!(x, s.get(&format!("/api/executions/{id}")).await.json());

    // Without a wait: started, as POST .../execute answers; inputs checked the same.
    assert_eq!(
        s.post_yaml("/api/workflows", HELLO).await.status,
        StatusCode::CREATED
    );
    let started = ok(
        &s,
        None,
        "execute_workflow",
        json!({"name": "hello", "inputs": {"who": "ada"}}),
    )
    .await;
    let exec = started["execution_id"].as_str().expect("id").to_string();
    assert_eq!(started["workflow"], "hello");
    assert_eq!(started["links"]["self"], format!("/api/executions/{exec}"));
    let done = s.finished(&exec).await;
    assert_eq!(done["outputs"], json!({"shout": "HELLO ADA"}));
    let text = refused(
        &s,
        None,
        "execute_workflow",
        json!({"name": "hello"}),
        "invalid_inputs",
    )
    .await;
    assert!(text.contains("who"), "{text}");

    // Listed and read as executions.
    let list = ok(
        &s,
        None,
        "list_executions",
        json!({"workflow": "pair", "status": "succeeded"}),
    )
    .await;
    assert_eq!(
        list["executions"].as_array().map(Vec::len),
        Some(1),
        "{list}"
    );
    assert_eq!(list["executions"][0]["id"], id.as_str());
    let read = ok(&s, None, "get_execution", json!({"id": id})).await;
    assert_eq!(read["outputs"], json!({"n": 42}));

    // Retried in preview: nothing failed, so nothing to retry.
    refused(
        &s,
        None,
        "retry_execution",
        json!({"id": id, "preview": true}),
        "conflict",
    )
    .await;
    let components = ok(&s, None, "list_components", json!({})).await;
    assert_eq!(components, s.get("/api/components").await.json());
    let templates = ok(&s, None, "list_templates", json!({"limit": 5})).await;
    assert_eq!(templates, s.get("/api/templates?limit=5").await.json());
}

#[tokio::test]
async fn bad_calls_are_tool_errors_naming_what_is_wrong() {
    let s = server().await;
    let text = refused(
        &s,
        None,
        "get_workflow",
        json!({"name": "nope"}),
        "not_found",
    )
    .await;
    assert_eq!(text, "not_found: no workflow `nope`");
    let text = refused(&s, None, "get_workflow", json!({}), "invalid_request").await;
    assert_eq!(text, "invalid_request: `name` is required (a string)");
    let text = refused(
        &s,
        None,
        "list_executions",
        json!({"limit": "ten"}),
        "invalid_request",
    )
    .await;
    assert!(text.contains("`limit` must be a whole number"), "{text}");
    let text = refused(
        &s,
        None,
        "list_executions",
        json!({"status": "done"}),
        "invalid_request",
    )
    .await;
    assert!(
        text.contains("`status`") && text.contains("succeeded"),
        "{text}"
    );
    let text = refused(
        &s,
        None,
        "list_workflows",
        json!({"colour": "red"}),
        "invalid_request",
    )
    .await;
    assert!(text.contains("no argument `colour`"), "{text}");
    let text = refused(
        &s,
        None,
        "execute_workflow",
        json!({"name": "x", "wait_seconds": 61}),
        "invalid_request",
    )
    .await;
    assert!(
        text.contains("`wait_seconds`") && text.contains("0 to 60"),
        "{text}"
    );
    refused(
        &s,
        None,
        "get_execution",
        json!({"id": "not-an-id"}),
        "not_found",
    )
    .await;

    // An unknown tool is a protocol error, as MCP says.
    let r = rpc_with(
        &s,
        None,
        &[],
        "tools/call",
        json!({"name": "drop_tables", "arguments": {}}),
    )
    .await;
    let v = r.json();
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("drop_tables")),
        "{v}"
    );
}

#[tokio::test]
async fn resources_are_definitions_and_histories() {
    let s = server().await;
    let w = ok(&s, None, "create_workflow", json!({"definition": TWO_SETS})).await;
    assert_eq!(w["outcome"], "created");
    let x = ok(
        &s,
        None,
        "execute_workflow",
        json!({"name": "pair", "wait_seconds": 10}),
    )
    .await;
    let id = x["id"].as_str().expect("id").to_string();

    let listed = rpc(&s, None, "resources/list", json!({})).await;
    assert_eq!(
        listed["resources"][0]["uri"], "harmonia://workflows/pair",
        "{listed}"
    );
    assert_eq!(listed["resources"][0]["mimeType"], "application/yaml");
    let templates = rpc(&s, None, "resources/templates/list", json!({})).await;
    let uris: Vec<&str> = templates["resourceTemplates"]
        .as_array()
        .expect("templates")
        .iter()
        .filter_map(|t| t["uriTemplate"].as_str())
        .collect();
    assert_eq!(
        uris,
        [
            "harmonia://workflows/{name}",
            "harmonia://executions/{id}/history"
        ]
    );

    let read = rpc(
        &s,
        None,
        "resources/read",
        json!({"uri": "harmonia://workflows/pair"}),
    )
    .await;
    assert_eq!(read["contents"][0]["text"], TWO_SETS, "{read}");
    assert_eq!(read["contents"][0]["mimeType"], "application/yaml");
    let uri = format!("harmonia://executions/{id}/history");
    let read = rpc(&s, None, "resources/read", json!({"uri": uri})).await;
    let history: Value =
        serde_json::from_str(read["contents"][0]["text"].as_str().expect("text")).expect("JSON");
    assert_eq!(
        history,
        s.get(&format!("/api/executions/{id}/events")).await.json()
    );

    // A definition sent as JSON is stored and served as JSON; a YAML flow mapping,
    // which also starts with `{`, as YAML.
    let as_json =
        json!({"name": "j", "tasks": {"a": {"type": "set", "with": {"n": 1}}}}).to_string();
    ok(&s, None, "create_workflow", json!({"definition": as_json})).await;
    let read = rpc(
        &s,
        None,
        "resources/read",
        json!({"uri": "harmonia://workflows/j"}),
    )
    .await;
    assert_eq!(
        read["contents"][0]["mimeType"], "application/json",
        "{read}"
    );
    assert_eq!(read["contents"][0]["text"], as_json.as_str());
    let flow = "{name: f, tasks: {a: {type: set, with: {n: 1}}}}";
    ok(&s, None, "create_workflow", json!({"definition": flow})).await;
    let detail = ok(&s, None, "get_workflow", json!({"name": "f"})).await;
    assert_eq!(detail["format"], "yaml", "{detail}");

    for missing in ["harmonia://workflows/nope", "harmonia://elsewhere/x"] {
        let r = rpc_with(&s, None, &[], "resources/read", json!({"uri": missing})).await;
        let v = r.json();
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("no ")),
            "{v}"
        );
    }
}

fn network() -> ApiConfig {
    ApiConfig {
        access: Access::Network,
        ..ApiConfig::default()
    }
}

#[tokio::test]
async fn tokens_and_roles_hold_for_every_tool() {
    let s = server_with(network()).await;
    let mut tokens = Vec::new();
    for (name, role) in [
        ("w", Role::Worker),
        ("eyes", Role::Viewer),
        ("ops", Role::Operator),
        ("root", Role::Admin),
    ] {
        let (t, _) = harmonia_server::create_token(s.store.as_ref(), name, role)
            .await
            .expect("token");
        tokens.push(t);
    }
    let [worker, viewer, operator, admin] = [&tokens[0], &tokens[1], &tokens[2], &tokens[3]];
    let list = json!({});

    // The request itself: a token is needed, and a worker's is refused.
    let r = rpc_with(&s, None, &[], "tools/list", list.clone()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "unauthorized");
    let r = rpc_with(&s, Some("hm_nope"), &[], "tools/list", list.clone()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = rpc_with(&s, Some(worker), &[], "tools/list", list).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("worker"))
    );

    // Each tool: its route's role.
    let listed = rpc(&s, Some(viewer), "tools/list", json!({})).await;
    assert!(listed["tools"].as_array().is_some_and(|t| t.len() >= 15));
    let text = refused(
        &s,
        Some(viewer),
        "create_workflow",
        json!({"definition": TWO_SETS}),
        "forbidden",
    )
    .await;
    assert!(
        text.contains("`admin`") && text.contains("`eyes`"),
        "{text}"
    );
    let text = refused(
        &s,
        Some(operator),
        "create_workflow",
        json!({"definition": TWO_SETS}),
        "forbidden",
    )
    .await;
    assert!(text.contains("`admin`"), "{text}");
    ok(
        &s,
        Some(admin),
        "create_workflow",
        json!({"definition": TWO_SETS}),
    )
    .await;
    let text = refused(
        &s,
        Some(viewer),
        "execute_workflow",
        json!({"name": "pair"}),
        "forbidden",
    )
    .await;
    assert_eq!(
        text,
        "forbidden: `execute_workflow` needs the `operator` role; the token `eyes` has `viewer`"
    );
    let x = ok(
        &s,
        Some(operator),
        "execute_workflow",
        json!({"name": "pair", "wait_seconds": 10}),
    )
    .await;
    assert_eq!(x["status"], "succeeded", "{x}");
    let id = x["id"].as_str().expect("id");
    let read = ok(&s, Some(viewer), "get_execution", json!({"id": id})).await;
    assert_eq!(read["outputs"], json!({"n": 2}));
    refused(
        &s,
        Some(viewer),
        "cancel_execution",
        json!({"id": id}),
        "forbidden",
    )
    .await;
    refused(
        &s,
        Some(viewer),
        "retry_execution",
        json!({"id": id, "preview": true}),
        "forbidden",
    )
    .await;
    refused(
        &s,
        Some(operator),
        "instantiate_template",
        json!({"name": "t", "params": {}}),
        "forbidden",
    )
    .await;
    // The viewer's check comes before the arguments': a bad call of a tool one may not
    // use says so.
    refused(&s, Some(viewer), "pause_execution", json!({}), "forbidden").await;
    let read = rpc(
        &s,
        Some(viewer),
        "resources/read",
        json!({"uri": "harmonia://workflows/pair"}),
    )
    .await;
    assert_eq!(read["contents"][0]["text"], TWO_SETS);
}

#[tokio::test]
async fn the_guards_and_the_transport_answer_in_the_api_shape() {
    let s = server().await;
    // Another site's page is refused before anything else.
    let r = rpc_with(
        &s,
        None,
        &[("origin", "http://evil.example")],
        "tools/list",
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "forbidden_origin");
    // While open on loopback, only loopback names are served (DNS rebinding).
    let req = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header("host", "rebound.example:8007")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(Body::from(
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string(),
        ))
        .expect("request");
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "forbidden_host");

    // A client that does not accept both answers' types: the transport's refusal, shaped.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(Body::from(
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string(),
        ))
        .expect("request");
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE, "{}", r.text);
    let e = r.json();
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("text/event-stream")),
        "{e}"
    );
    // No Host at all (not a browser): served.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", LEGACY)
        .body(Body::from(
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string(),
        ))
        .expect("request");
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json()["result"]["tools"].is_array());
    // Stateless: no stream to GET.
    let r = s.get("/mcp").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "method_not_allowed");
}
