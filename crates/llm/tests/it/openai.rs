//! The OpenAI-compatible provider against a server speaking chat completions.

use harmonia_llm::{ChatRequest, Error, FinishReason, Message, ProviderKind, Usage, build};
use serde_json::json;

use crate::harness::{KEY, Reply, assert_no_key, config, serve};

fn completion(content: &str, finish_reason: &str) -> serde_json::Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "test-model-2025",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": finish_reason,
        }],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    })
}

fn schema() -> serde_json::Value {
    json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})
}

#[tokio::test]
async fn sends_chat_completions_and_parses_the_schema_answer() {
    let server = serve(|_, _| Reply::json(200, completion(r#"{"n": 3}"#, "stop"))).await;
    let llm = build(&config(ProviderKind::OpenAi, &server.url)).expect("a provider");
    assert_eq!((llm.name(), llm.model()), ("openai", "test-model"));
    let mut req = ChatRequest::new(vec![Message::system("be terse"), Message::user("count")])
        .with_schema("count", schema());
    req.max_tokens = Some(100_000);
    req.temperature = Some(0.2);
    req.stop = vec!["END".into()];

    let resp = llm.chat(&req).await.expect("an answer");

    assert_eq!(resp.json, Some(json!({"n": 3})));
    assert_eq!(resp.text, r#"{"n": 3}"#);
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(resp.model, "test-model-2025");
    assert_eq!(
        resp.usage,
        Usage {
            prompt_tokens: 12,
            completion_tokens: 5
        }
    );
    let got = server.only_request();
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, "/v1/chat/completions");
    assert_eq!(
        got.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(
        got.body,
        json!({
            "model": "test-model",
            "messages": [
                {"role": "system", "content": "be terse"},
                {"role": "user", "content": "count"},
            ],
            "max_tokens": 4096,
            "temperature": 0.2,
            "stop": ["END"],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "count", "schema": schema(), "strict": true},
            },
        })
    );
}

#[tokio::test]
async fn accepts_a_base_url_ending_in_v1_and_sends_no_key_when_none_is_set() {
    let server = serve(|_, _| Reply::json(200, completion("hello", "stop"))).await;
    let mut cfg = config(ProviderKind::OpenAi, &format!("{}/v1/", server.url));
    cfg.api_key = None;
    let llm = build(&cfg).expect("a provider");
    let mut req = ChatRequest::new(vec![Message::user("hi")]);
    req.model = Some("other-model".into());
    req.max_tokens = Some(50);

    let resp = llm.chat(&req).await.expect("an answer");

    assert_eq!((resp.text.as_str(), resp.json), ("hello", None));
    let got = server.only_request();
    assert_eq!(got.path, "/v1/chat/completions");
    assert_eq!(got.header("authorization"), None);
    assert_eq!(
        got.body,
        json!({"model": "other-model", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 50})
    );
}

#[tokio::test]
async fn a_truncated_answer_under_a_schema_is_invalid_output() {
    let server = serve(|_, _| Reply::json(200, completion(r#"{"n": 1}"#, "length"))).await;
    let llm = build(&config(ProviderKind::OpenAi, &server.url)).expect("a provider");
    let req = ChatRequest::new(vec![Message::user("count")]).with_schema("count", schema());

    let err = llm.chat(&req).await.expect_err("refused");

    match err {
        Error::InvalidOutput { reason, text, .. } => {
            assert_eq!(reason, "the answer was cut at max_tokens");
            assert_eq!(text, r#"{"n": 1}"#);
        }
        other => panic!("expected InvalidOutput, got {other:?}"),
    }
}

#[tokio::test]
async fn an_answer_that_is_not_json_under_a_schema_is_invalid_output() {
    let server = serve(|_, _| Reply::json(200, completion("n is 3", "stop"))).await;
    let llm = build(&config(ProviderKind::OpenAi, &server.url)).expect("a provider");
    let req = ChatRequest::new(vec![Message::user("count")]).with_schema("count", schema());

    let err = llm.chat(&req).await.expect_err("refused");

    assert!(
        matches!(&err, Error::InvalidOutput { reason, text, .. } if reason.starts_with("the answer is not JSON") && text == "n is 3"),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_providers_error_message_is_extracted() {
    let server = serve(|_, _| {
        Reply::json(
            400,
            json!({"error": {
                "message": "The model `nope` does not exist",
                "type": "invalid_request_error",
                "param": null,
                "code": "model_not_found",
            }}),
        )
    })
    .await;
    let llm = build(&config(ProviderKind::OpenAi, &server.url)).expect("a provider");

    let err = llm
        .chat(&ChatRequest::new(vec![Message::user("hi")]))
        .await
        .expect_err("refused");

    assert_eq!(
        err,
        Error::Http {
            status: 400,
            message: "invalid_request_error: The model `nope` does not exist".into()
        }
    );
    assert!(!err.is_transient());
    assert_eq!(server.requests().len(), 1, "a 400 is not retried");
    assert_no_key(&err);
}

fn sse(events: &[serde_json::Value], done: bool) -> String {
    let mut out: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    if done {
        out.push_str("data: [DONE]\n\n");
    }
    out
}

fn delta(content: &str) -> serde_json::Value {
    json!({"id": "c", "object": "chat.completion.chunk", "model": "test-model-2025",
           "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]})
}

#[tokio::test]
async fn a_streamed_answer_arrives_piece_by_piece_with_its_usage() {
    let body = sse(
        &[
            json!({"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": null}]}),
            delta("{\"n\""),
            delta(": 4}"),
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
            json!({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3}}),
        ],
        true,
    );
    let server = serve(move |_, _| Reply {
        status: 200,
        headers: vec![("content-type", "text/event-stream".into())],
        body: body.clone(),
        delay: std::time::Duration::ZERO,
    })
    .await;
    let llm = build(&config(ProviderKind::OpenAi, &server.url)).expect("a provider");
    let req = ChatRequest::new(vec![Message::user("count")]).with_schema("count", schema());
    let pieces = std::sync::Mutex::new(Vec::<String>::new());
    let resp = llm
        .chat_streaming(&req, &|p: &str| {
            pieces.lock().expect("lock").push(p.to_string())
        })
        .await
        .expect("an answer");
    assert_eq!(*pieces.lock().expect("lock"), ["{\"n\"", ": 4}"]);
    assert_eq!(resp.text, "{\"n\": 4}");
    assert_eq!(resp.json, Some(json!({"n": 4})));
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(
        resp.usage,
        Usage {
            prompt_tokens: 9,
            completion_tokens: 3
        }
    );
    assert_eq!(resp.model, "test-model-2025");
    let sent = &server.requests()[0].body;
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn a_stream_cut_short_is_an_error_and_a_bad_status_is_retried_first() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    let server = serve(move |_, _| {
        if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            return Reply::json(503, json!({"error": {"message": "busy"}}));
        }
        Reply {
            status: 200,
            headers: vec![("content-type", "text/event-stream".into())],
            body: sse(&[delta("half an ans")], false),
            delay: std::time::Duration::ZERO,
        }
    })
    .await;
    let llm = build(&config(ProviderKind::OpenAi, &server.url)).expect("a provider");
    let req = ChatRequest::new(vec![Message::user("talk")]);
    let e = llm
        .chat_streaming(&req, &|_: &str| {})
        .await
        .expect_err("cut short");
    assert!(
        matches!(e, Error::Protocol(ref m) if m.contains("ended before")),
        "{e:?}"
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}
