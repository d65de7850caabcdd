//! The Rhetor provider against a server speaking the gateway's `/api/v1/chat`.

use harmonia_llm::{ChatRequest, Error, FinishReason, Message, ProviderKind, Usage, build};
use serde_json::json;

use crate::harness::{Reply, config, serve};

fn schema() -> serde_json::Value {
    json!({"type": "object", "properties": {"steps": {"type": "array"}}, "required": ["steps"]})
}

#[tokio::test]
async fn sends_api_v1_chat_and_reads_either_usage_naming() {
    let server = serve(|_, _| {
        Reply::json(
            200,
            json!({
                "content": "{\"steps\": []}",
                "model": "claude-via-rhetor",
                "usage": {"input_tokens": 40, "output_tokens": 4},
            }),
        )
    })
    .await;
    let mut cfg = config(ProviderKind::Rhetor, &server.url);
    cfg.model = String::new();
    cfg.api_key = None;
    let llm = build(&cfg).expect("a provider without a model: Rhetor chooses");
    assert_eq!((llm.name(), llm.model()), ("rhetor", ""));
    let req = ChatRequest::new(vec![Message::user("plan")]).with_schema("plan", schema());

    let resp = llm.chat(&req).await.expect("an answer");

    assert_eq!(resp.json, Some(json!({"steps": []})));
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(resp.model, "claude-via-rhetor");
    assert_eq!(
        resp.usage,
        Usage {
            prompt_tokens: 40,
            completion_tokens: 4
        }
    );
    let got = server.only_request();
    assert_eq!(got.path, "/api/v1/chat");
    assert_eq!(
        got.body,
        json!({
            "messages": [{"role": "user", "content": "plan"}],
            "max_tokens": 4096,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "plan", "schema": schema(), "strict": true},
            },
        })
    );
}

#[tokio::test]
async fn reads_openai_usage_and_an_optional_finish_reason() {
    let server = serve(|n, _| {
        let finish = if n == 0 { json!("length") } else { json!(null) };
        Reply::json(
            200,
            json!({
                "content": "{\"steps\"",
                "model": "m",
                "usage": {"prompt_tokens": 3, "completion_tokens": 2},
                "finish_reason": finish,
            }),
        )
    })
    .await;
    let llm = build(&config(ProviderKind::Rhetor, &server.url)).expect("a provider");
    let req = ChatRequest::new(vec![Message::user("plan")]).with_schema("plan", schema());

    let err = llm.chat(&req).await.expect_err("cut");
    assert!(matches!(&err, Error::InvalidOutput { reason, .. } if reason.contains("max_tokens")));

    let plain = llm
        .chat(&ChatRequest::new(vec![Message::user("plan")]))
        .await
        .expect("an answer");
    assert_eq!(plain.finish_reason, FinishReason::Stop);
    assert_eq!(
        plain.usage,
        Usage {
            prompt_tokens: 3,
            completion_tokens: 2
        }
    );
    assert_eq!(server.requests()[1].body["model"], "test-model");
}

#[tokio::test]
async fn a_fastapi_detail_is_extracted() {
    let server = serve(|_, _| {
        Reply::json(
            422,
            json!({"detail": [{"loc": ["body", "messages"], "msg": "Field required", "type": "missing"}]}),
        )
    })
    .await;
    let llm = build(&config(ProviderKind::Rhetor, &server.url)).expect("a provider");

    let err = llm
        .chat(&ChatRequest::new(vec![Message::user("hi")]))
        .await
        .expect_err("refused");

    assert_eq!(
        err,
        Error::Http {
            status: 422,
            message: "Field required".into()
        }
    );
}
