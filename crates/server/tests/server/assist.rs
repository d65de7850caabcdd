//! `/api/assist`: without a model, what needs one answers `503 llm_not_configured`
//! saying how to configure one (after the auth and the request are checked), and the
//! rest answers; with a model (a local server speaking OpenAI's wire format), chat
//! answers as JSON or as Server-Sent Events.

use std::sync::Arc;

use axum::Json;
use axum::http::{Method, StatusCode};
use axum::routing::post;
use harmonia_engine::EngineConfig;
use harmonia_server::{ApiConfig, Role};
use serde_json::{Value, json};

use super::{HELLO, assert_error, server, server_model};

#[tokio::test]
async fn without_a_model_the_assistant_says_how_to_configure_one() {
    let s = server().await;
    let st = s.get("/api/assist").await.json();
    assert_eq!(st["configured"], false);
    assert!(st["how"].as_str().unwrap_or("").contains("[llm]"), "{st}");
    for (uri, body) in [
        (
            "/api/assist/workflows",
            json!({"description": "fetch a page"}),
        ),
        (
            "/api/v1/assist/workflows",
            json!({"description": "fetch a page"}),
        ),
        (
            "/api/assist/chat",
            json!({"messages": [{"role": "user", "content": "hi"}]}),
        ),
    ] {
        let e = assert_error(
            &s.post_json(uri, body).await,
            StatusCode::SERVICE_UNAVAILABLE,
            "llm_not_configured",
        );
        assert!(
            e["message"]
                .as_str()
                .unwrap_or("")
                .contains("HARMONIA_LLM_MODEL"),
            "{e}"
        );
    }
    // Bad requests are 400 first, model or not.
    for body in [
        json!({"description": ""}),
        json!({"description": "x", "max_rounds": 0}),
        json!({"description": "x", "inputs_example": [1]}),
        json!({"description": "x", "surprise": 1}),
    ] {
        assert_error(
            &s.post_json("/api/assist/workflows", body).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
    }
    for body in [
        json!({"messages": []}),
        json!({"messages": [{"role": "system", "content": "obey"}]}),
        json!({"messages": [{"role": "user", "content": "x".repeat(4001)}]}),
    ] {
        assert_error(
            &s.post_json("/api/assist/chat", body).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
    }
    // What needs no model answers.
    s.post_yaml("/api/workflows", HELLO).await;
    let o = s
        .post_json("/api/assist/workflows/hello/optimize", json!({}))
        .await;
    assert_eq!(o.status, StatusCode::OK, "{}", o.text);
    let o = o.json();
    assert_eq!(o["workflow"], "hello");
    assert_eq!(o["critical_path"]["basis"], "definition");
    assert!(o["explanation"].is_null());
    assert_error(
        &s.post_json("/api/assist/workflows/nope/optimize", json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.post_json("/api/assist/executions/nope/diagnose", json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test]
async fn drafting_needs_an_operator_and_applying_a_patch_an_admin() {
    let s = server().await;
    let (viewer, _) = harmonia_server::create_token(s.store.as_ref(), "eyes", Role::Viewer)
        .await
        .expect("token");
    let (operator, _) = harmonia_server::create_token(s.store.as_ref(), "ops", Role::Operator)
        .await
        .expect("token");
    let body = json!({"description": "fetch a page"}).to_string();
    let r = s
        .call(
            Method::POST,
            "/api/assist/workflows",
            Some("application/json"),
            &body,
            Some(&viewer),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = s
        .call(
            Method::POST,
            "/api/assist/workflows",
            Some("application/json"),
            &body,
            Some(&operator),
        )
        .await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "llm_not_configured");
    let apply = json!({"yaml": HELLO}).to_string();
    let uri = "/api/assist/executions/01a2314c-7890-72ad-aeae-cd719406ebd9/diagnose/apply";
    let r = s
        .call(
            Method::POST,
            uri,
            Some("application/json"),
            &apply,
            Some(&operator),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn chat_answers_as_json_or_as_server_sent_events() {
    let model = axum::Router::new().route(
        "/v1/chat/completions",
        post(|Json(body): Json<Value>| async move {
            use axum::response::IntoResponse;
            let asked = body["messages"].as_array().map_or(0, Vec::len);
            if body["stream"] == true {
                // OpenAI's streamed answer: a chunk per piece, then usage, then [DONE].
                let mut sse = String::new();
                for piece in [format!("{asked}"), " messages".to_string()] {
                    let chunk = json!({"object": "chat.completion.chunk", "model": "scripted", "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]});
                    sse.push_str(&format!("data: {chunk}\n\n"));
                }
                let end = json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 7, "completion_tokens": 2}});
                sse.push_str(&format!("data: {end}\n\ndata: [DONE]\n\n"));
                return ([("content-type", "text/event-stream")], sse).into_response();
            }
            Json(json!({
                "id": "x", "object": "chat.completion", "created": 0, "model": "scripted",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("{asked} messages")}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}
            }))
            .into_response()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, model).await });
    let config = harmonia_llm::LlmConfig {
        base_url: Some(url),
        model: "scripted".into(),
        ..Default::default()
    };
    let llm: Arc<dyn harmonia_llm::Provider> = harmonia_llm::build(&config).expect("provider");
    let s = server_model(
        tempfile::tempdir().expect("dir"),
        ApiConfig::default(),
        EngineConfig::default(),
        Some(llm),
    )
    .await;
    let st = s.get("/api/assist").await.json();
    assert_eq!(
        (st["configured"].clone(), st["model"].clone()),
        (json!(true), json!("scripted"))
    );
    s.post_yaml("/api/workflows", HELLO).await;
    let body =
        json!({"messages": [{"role": "user", "content": "what does it do?"}], "workflow": "hello"});
    let r = s.post_json("/api/assist/chat", body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let j = r.json();
    // The system message with the workflow's facts, then the question.
    assert_eq!(j["content"], "2 messages");
    assert!(j["context_chars"].as_u64().unwrap_or(0) > 50, "{j}");
    assert_eq!(j["tokens"], json!({"prompt": 7, "completion": 2}));

    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/assist/chat")
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(axum::body::Body::from(body.to_string()))
        .expect("request");
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.content_type.starts_with("text/event-stream"),
        "{}",
        r.content_type
    );
    assert!(
        r.text
            .contains("event: message\ndata: {\"delta\":\"2\"}\n\nevent: message\ndata: {\"delta\":\" messages\"}"),
        "{}",
        r.text
    );
    assert!(r.text.contains("event: done\ndata: {"), "{}", r.text);
    assert_error(
        &s.post_json(
            "/api/assist/chat",
            json!({"messages": [{"role": "user", "content": "?"}], "workflow": "nope"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}
