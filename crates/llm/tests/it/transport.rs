//! The shared transport, through the OpenAI-compatible provider: retries, timeouts,
//! body limits, and the key kept out of every error.

use std::time::{Duration, Instant};

use harmonia_llm::{ChatRequest, Error, Message, ProviderKind, build};
use serde_json::json;

use crate::harness::{KEY, Reply, assert_no_key, config, serve};

fn ok() -> Reply {
    Reply::json(
        200,
        json!({"choices": [{"message": {"content": "fine"}, "finish_reason": "stop"}]}),
    )
}

fn hi() -> ChatRequest {
    ChatRequest::new(vec![Message::user("hi")])
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after() {
    let server = serve(|n, _| {
        if n == 0 {
            Reply::json(429, json!({"error": {"message": "slow down"}})).header("retry-after", "1")
        } else {
            ok()
        }
    })
    .await;
    let llm = build(&config(ProviderKind::OpenAi, &server.url)).expect("a provider");

    let resp = llm.chat(&hi()).await.expect("an answer after one retry");

    assert_eq!(resp.text, "fine");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let waited = reqs[1].at - reqs[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "waited only {waited:?}"
    );
    assert_eq!(reqs[0].body, reqs[1].body, "the same request is sent again");
}

#[tokio::test]
async fn a_500_forever_is_an_http_error_after_max_retries_plus_one_attempts() {
    let server = serve(|_, _| Reply::json(500, json!({"error": {"message": "boom"}}))).await;
    let llm = build(&config(ProviderKind::OpenAi, &server.url)).expect("a provider");

    let err = llm.chat(&hi()).await.expect_err("fails");

    assert_eq!(
        err,
        Error::Http {
            status: 500,
            message: "boom".into()
        }
    );
    assert!(err.is_transient());
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    // Exponential backoff: 0.5 s, then 1 s.
    assert!(reqs[1].at - reqs[0].at >= Duration::from_millis(450));
    assert!(reqs[2].at - reqs[1].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_slow_answer_is_unavailable_and_not_retried() {
    let server = serve(|_, _| ok().after(Duration::from_secs(3))).await;
    let mut cfg = config(ProviderKind::OpenAi, &server.url);
    cfg.timeout = Duration::from_millis(300);
    let llm = build(&cfg).expect("a provider");
    let started = Instant::now();

    let err = llm.chat(&hi()).await.expect_err("times out");

    assert!(
        matches!(&err, Error::Unavailable(m) if m.contains("within")),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn no_server_is_unavailable_after_the_retries() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("an address").port()
    };
    let mut cfg = config(ProviderKind::OpenAi, &format!("http://127.0.0.1:{port}"));
    cfg.max_retries = 1;
    let llm = build(&cfg).expect("a provider");
    let started = Instant::now();

    let err = llm.chat(&hi()).await.expect_err("no server");

    assert!(
        matches!(&err, Error::Unavailable(m) if m.contains("cannot connect")),
        "{err:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "one retry after backoff"
    );
    assert_no_key(&err);
}

#[tokio::test]
async fn the_key_never_appears_in_any_error() {
    let server = serve(|n, _| match n {
        0 => Reply::json(401, json!({"error": {"message": format!("Incorrect API key provided: {KEY}")}})),
        1 => Reply::json(200, json!({"unexpected": KEY})),
        2 => Reply::json(
            200,
            json!({"choices": [{"message": {"content": format!("not json {KEY}")}, "finish_reason": "stop"}]}),
        ),
        _ => Reply::json(502, json!(format!("upstream rejected {KEY}"))),
    })
    .await;
    let mut cfg = config(ProviderKind::OpenAi, &server.url);
    cfg.max_retries = 0;
    let llm = build(&cfg).expect("a provider");
    let schema_req = hi().with_schema("x", json!({"type": "object"}));

    for req in [&hi(), &hi(), &schema_req, &hi()] {
        let err = llm.chat(req).await.expect_err("each fails");
        assert_no_key(&err);
        assert!(
            format!("{err:?}").contains("***") || matches!(err, Error::Protocol(_)),
            "{err:?}"
        );
    }
    assert_eq!(server.requests().len(), 4);
    assert!(!format!("{cfg:?}").contains(KEY));
}

#[tokio::test]
async fn the_request_body_is_not_in_errors() {
    let server = serve(|_, _| Reply::json(400, json!({}))).await;
    let llm = build(&config(ProviderKind::OpenAi, &server.url)).expect("a provider");

    let err = llm
        .chat(&ChatRequest::new(vec![Message::user("PROMPT-TEXT")]))
        .await
        .expect_err("refused");

    assert_eq!(
        err,
        Error::Http {
            status: 400,
            message: "{}".into()
        }
    );
    assert!(!format!("{err:?}").contains("PROMPT-TEXT"));
}

#[tokio::test]
async fn an_oversized_answer_is_a_protocol_error() {
    let big = "x".repeat(9 << 20);
    let server = serve(move |_, _| Reply::json(200, json!({"choices": [], "pad": big}))).await;
    let llm = build(&config(ProviderKind::OpenAi, &server.url)).expect("a provider");

    let err = llm.chat(&hi()).await.expect_err("too large");

    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("larger than")),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_answer_in_the_wrong_shape_is_a_protocol_error() {
    let server = serve(|_, _| Reply::json(200, json!({"choices": []}))).await;
    let llm = build(&config(ProviderKind::OpenAi, &server.url)).expect("a provider");

    let err = llm.chat(&hi()).await.expect_err("no choice");

    assert_eq!(err, Error::Protocol("the answer has no choices".into()));
}
