//! The Anthropic provider against a server speaking the Messages API.

use harmonia_llm::{ChatRequest, Error, FinishReason, Message, ProviderKind, Usage, build};
use serde_json::json;

use crate::harness::{KEY, Reply, assert_no_key, config, serve};

fn message(content: serde_json::Value, stop_reason: &str) -> serde_json::Value {
    json!({
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-test-1",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": 20, "output_tokens": 7},
    })
}

fn schema() -> serde_json::Value {
    json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
}

#[tokio::test]
async fn sends_messages_with_a_top_level_system_and_joins_the_text() {
    let server = serve(|_, _| {
        Reply::json(
            200,
            message(
                json!([{"type": "text", "text": "Hello, "}, {"type": "text", "text": "world"}]),
                "stop_sequence",
            ),
        )
    })
    .await;
    let llm = build(&config(ProviderKind::Anthropic, &server.url)).expect("a provider");
    assert_eq!(llm.name(), "anthropic");
    let mut req = ChatRequest::new(vec![
        Message::system("rule one"),
        Message::user("hi"),
        Message::assistant("hello?"),
        Message::system("rule two"),
        Message::user("again"),
    ]);
    req.stop = vec!["\n\nHuman:".into()];

    let resp = llm.chat(&req).await.expect("an answer");

    assert_eq!(resp.text, "Hello, world");
    assert_eq!(resp.json, None);
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(resp.model, "claude-test-1");
    assert_eq!(
        resp.usage,
        Usage {
            prompt_tokens: 20,
            completion_tokens: 7
        }
    );
    let got = server.only_request();
    assert_eq!(got.path, "/v1/messages");
    assert_eq!(got.header("x-api-key"), Some(KEY));
    assert_eq!(got.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(got.header("authorization"), None);
    assert_eq!(
        got.body,
        json!({
            "model": "test-model",
            "max_tokens": 1024,
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello?"},
                {"role": "user", "content": "again"},
            ],
            "system": "rule one\n\nrule two",
            "stop_sequences": ["\n\nHuman:"],
        })
    );
}

#[tokio::test]
async fn structured_output_is_a_forced_tool_call() {
    let server = serve(|_, _| {
        Reply::json(
            200,
            message(
                json!([
                    {"type": "text", "text": "Let me answer."},
                    {"type": "tool_use", "id": "toolu_01", "name": "place", "input": {"city": "Paris"}},
                ]),
                "tool_use",
            ),
        )
    })
    .await;
    let llm = build(&config(ProviderKind::Anthropic, &server.url)).expect("a provider");
    let mut req = ChatRequest::new(vec![Message::user("where?")]).with_schema("place", schema());
    req.max_tokens = Some(300);
    req.temperature = Some(0.5);

    let resp = llm.chat(&req).await.expect("an answer");

    assert_eq!(resp.json, Some(json!({"city": "Paris"})));
    assert_eq!(resp.text, r#"{"city":"Paris"}"#);
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    let body = server.only_request().body;
    assert_eq!(body["max_tokens"], 300);
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(body["tools"][0]["name"], "place");
    assert_eq!(body["tools"][0]["input_schema"], schema());
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "place"})
    );
}

#[tokio::test]
async fn a_tool_call_cut_at_max_tokens_is_invalid_output() {
    let server = serve(|_, _| {
        Reply::json(
            200,
            message(
                json!([{"type": "tool_use", "id": "toolu_01", "name": "place", "input": {}}]),
                "max_tokens",
            ),
        )
    })
    .await;
    let llm = build(&config(ProviderKind::Anthropic, &server.url)).expect("a provider");
    let req = ChatRequest::new(vec![Message::user("where?")]).with_schema("place", schema());

    let err = llm.chat(&req).await.expect_err("refused");

    assert!(
        matches!(&err, Error::InvalidOutput { reason, .. } if reason.contains("max_tokens")),
        "{err:?}"
    );
}

#[tokio::test]
async fn no_tool_call_under_a_schema_is_invalid_output() {
    let server = serve(|_, _| {
        Reply::json(
            200,
            message(json!([{"type": "text", "text": "Paris"}]), "end_turn"),
        )
    })
    .await;
    let llm = build(&config(ProviderKind::Anthropic, &server.url)).expect("a provider");
    let req = ChatRequest::new(vec![Message::user("where?")]).with_schema("place", schema());

    let err = llm.chat(&req).await.expect_err("refused");

    assert!(
        matches!(&err, Error::InvalidOutput { reason, text, .. } if reason.contains("`place` tool") && text == "Paris"),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_error_message_is_extracted_and_the_key_scrubbed() {
    let server = serve(|_, _| {
        Reply::json(
            401,
            json!({"type": "error", "error": {
                "type": "authentication_error",
                "message": format!("invalid x-api-key {KEY}"),
            }}),
        )
    })
    .await;
    let llm = build(&config(ProviderKind::Anthropic, &server.url)).expect("a provider");

    let err = llm
        .chat(&ChatRequest::new(vec![Message::user("hi")]))
        .await
        .expect_err("refused");

    assert_eq!(
        err,
        Error::Http {
            status: 401,
            message: "authentication_error: invalid x-api-key ***".into()
        }
    );
    assert_no_key(&err);
}
