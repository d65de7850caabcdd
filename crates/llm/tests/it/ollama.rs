//! The Ollama provider against a server speaking `/api/chat`.

use harmonia_llm::{ChatRequest, Error, FinishReason, Message, ProviderKind, Usage, build};
use serde_json::json;

use crate::harness::{Reply, config, serve};

fn chat(content: &str, done_reason: &str) -> serde_json::Value {
    json!({
        "model": "llama3.2:1b",
        "created_at": "2026-11-30T10:00:00.000000Z",
        "message": {"role": "assistant", "content": content},
        "done_reason": done_reason,
        "done": true,
        "total_duration": 123456,
        "prompt_eval_count": 31,
        "eval_count": 9,
    })
}

fn schema() -> serde_json::Value {
    json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]})
}

#[tokio::test]
async fn sends_api_chat_with_format_and_options() {
    let server = serve(|_, _| Reply::json(200, chat(r#"{"ok": true}"#, "stop"))).await;
    let mut cfg = config(ProviderKind::Ollama, &server.url);
    cfg.api_key = None;
    cfg.max_tokens_cap = 256;
    let llm = build(&cfg).expect("a provider");
    let mut req = ChatRequest::new(vec![Message::system("json only"), Message::user("ok?")])
        .with_schema("ok", schema());
    req.temperature = Some(0.0);
    req.stop = vec!["}".into()];

    let resp = llm.chat(&req).await.expect("an answer");

    assert_eq!(resp.json, Some(json!({"ok": true})));
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(resp.model, "llama3.2:1b");
    assert_eq!(
        resp.usage,
        Usage {
            prompt_tokens: 31,
            completion_tokens: 9
        }
    );
    let got = server.only_request();
    assert_eq!(got.path, "/api/chat");
    assert_eq!(got.header("authorization"), None);
    assert_eq!(
        got.body,
        json!({
            "model": "test-model",
            "messages": [
                {"role": "system", "content": "json only"},
                {"role": "user", "content": "ok?"},
            ],
            "stream": false,
            "options": {"num_predict": 256, "temperature": 0.0, "stop": ["}"]},
            "format": schema(),
        })
    );
}

#[tokio::test]
async fn done_reason_length_under_a_schema_is_invalid_output() {
    let server = serve(|_, _| Reply::json(200, chat(r#"{"ok": tr"#, "length"))).await;
    let llm = build(&config(ProviderKind::Ollama, &server.url)).expect("a provider");
    let req = ChatRequest::new(vec![Message::user("ok?")]).with_schema("ok", schema());

    let err = llm.chat(&req).await.expect_err("refused");

    assert!(
        matches!(&err, Error::InvalidOutput { reason, .. } if reason == "the answer was cut at max_tokens"),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_error_string_is_extracted() {
    let server = serve(|_, _| {
        Reply::json(
            404,
            json!({"error": "model \"test-model\" not found, try pulling it first"}),
        )
    })
    .await;
    let llm = build(&config(ProviderKind::Ollama, &server.url)).expect("a provider");

    let err = llm
        .chat(&ChatRequest::new(vec![Message::user("hi")]))
        .await
        .expect_err("refused");

    assert_eq!(
        err,
        Error::Http {
            status: 404,
            message: "model \"test-model\" not found, try pulling it first".into()
        }
    );
}
