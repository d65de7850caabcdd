//! Tests of the `http` executor against real HTTP servers on 127.0.0.1 (an axum app with
//! a route per behaviour, and a raw one-connection server for malformed or unlabelled
//! answers), and unit tests of the pure helpers.
//!
//! Invariants: no test reaches outside the machine; servers are stopped with their test;
//! waits are on events (the server got the request) rather than guessed delays, and time
//! limits are generous bounds.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::{
    HeaderMap as AxumHeaders, Method as AxumMethod, StatusCode as AxumStatus, header,
};
use axum::response::{AppendHeaders, IntoResponse, Redirect};
use axum::routing::{any, get};
use reqwest::Url;
use serde_json::Map;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::errors::{EXCERPT_BYTES, retry_after_ms};
use super::redact::{percent_decode, shown_url};
use super::response::is_json_type;
use super::*;

/// A real HTTP server on 127.0.0.1, stopped when dropped.
struct Server {
    base: String,
    /// Notified when `/slow` receives a request.
    slow_arrived: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn echo(
    method: AxumMethod,
    headers: AxumHeaders,
    RawQuery(query): RawQuery,
    body: String,
) -> axum::Json<Value> {
    let mut hs = Map::new();
    for (k, v) in &headers {
        hs.insert(k.to_string(), json!(v.to_str().unwrap_or("?")));
    }
    axum::Json(json!({"method": method.as_str(), "headers": hs, "query": query, "body": body}))
}

async fn server() -> Server {
    let slow_arrived = Arc::new(Notify::new());
    let arrived = slow_arrived.clone();
    let app = Router::new()
        .route(
            "/json",
            get(|| async { axum::Json(json!({"hello": "world", "n": 1})) }),
        )
        .route("/text", get(|| async { "plain text" }))
        .route("/number-text", get(|| async { "42" }))
        .route(
            "/bad-json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], "not json {") }),
        )
        .route("/empty", get(|| async { AxumStatus::NO_CONTENT }))
        .route(
            "/dup",
            get(|| async { (AppendHeaders([("x-multi", "a"), ("x-multi", "b")]), "ok") }),
        )
        .route(
            "/missing",
            get(|| async { (AxumStatus::NOT_FOUND, "no such thing") }),
        )
        .route(
            "/busy",
            get(|| async {
                (
                    AxumStatus::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "7")],
                    "slow down",
                )
            }),
        )
        .route(
            "/busy-date",
            get(|| async {
                let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
                (
                    AxumStatus::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, date)],
                    "slow down",
                )
            }),
        )
        .route(
            "/unavailable",
            get(|| async {
                (
                    AxumStatus::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "2")],
                    axum::Json(json!({"error": "maintenance"})),
                )
            }),
        )
        .route(
            "/boom",
            get(|| async { (AxumStatus::INTERNAL_SERVER_ERROR, "e".repeat(10_000)) }),
        )
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move {
                AxumStatus::from_u16(code).unwrap_or(AxumStatus::INTERNAL_SERVER_ERROR)
            }),
        )
        .route("/big", get(|| async { "x".repeat(10_000) }))
        .route("/redirect", get(|| async { Redirect::temporary("/json") }))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route(
            "/slow",
            get(move || {
                let arrived = arrived.clone();
                async move {
                    arrived.notify_one();
                    tokio::time::sleep(Duration::from_secs(120)).await;
                    "late"
                }
            }),
        )
        .route("/echo", any(echo))
        .route(
            "/echo-auth-fail",
            get(|headers: AxumHeaders| async move {
                let auth = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
                    .to_string();
                (AxumStatus::BAD_REQUEST, format!("you sent {auth}")).into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        base: format!("http://{addr}"),
        slow_arrived,
        task,
    }
}

/// A server answering one connection with `response` as it is, then closing it.
async fn raw_server(response: Vec<u8>) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let task = tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let _ = socket.write_all(&response).await;
        let _ = socket.shutdown().await;
    });
    (format!("http://{addr}/"), task)
}

fn call_with(params: Value, timeout: Option<Duration>, cancel: CancellationToken) -> Call {
    Call::for_test("fetch", params, timeout, cancel)
}

fn call(params: Value) -> Call {
    call_with(
        params,
        Some(Duration::from_secs(30)),
        CancellationToken::new(),
    )
}

fn executor() -> Http {
    Http::new(1024 * 1024)
}

#[tokio::test]
async fn json_responses_are_parsed_and_header_names_lowercased() {
    let s = server().await;
    let out = executor()
        .execute(call(json!({"url": s.url("/json")})))
        .await
        .expect("ok");
    assert_eq!(out["status"], json!(200));
    assert_eq!(out["body"], json!({"hello": "world", "n": 1}));
    assert_eq!(out["headers"]["content-type"], json!("application/json"));
    assert_eq!(out["headers"]["content-length"], json!("23"));
}

#[tokio::test]
async fn text_stays_text_and_empty_bodies_are_null() {
    let s = server().await;
    let e = executor();
    let out = e
        .execute(call(json!({"url": s.url("/text")})))
        .await
        .expect("ok");
    assert_eq!(out["body"], json!("plain text"));
    // Labelled as text: not parsed, even though it is valid JSON.
    let out = e
        .execute(call(json!({"url": s.url("/number-text")})))
        .await
        .expect("ok");
    assert_eq!(out["body"], json!("42"));
    // Labelled as JSON but is not: kept as text rather than failing.
    let out = e
        .execute(call(json!({"url": s.url("/bad-json")})))
        .await
        .expect("ok");
    assert_eq!(out["body"], json!("not json {"));
    let out = e
        .execute(call(json!({"url": s.url("/empty")})))
        .await
        .expect("ok");
    assert_eq!(out["status"], json!(204));
    assert_eq!(out["body"], Value::Null);
}

#[tokio::test]
async fn unlabelled_bodies_are_parsed_when_they_are_json() {
    let (url, task) = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\n[1, 2 ]\n".to_vec(),
    )
    .await;
    let out = executor()
        .execute(call(json!({"url": url})))
        .await
        .expect("ok");
    assert_eq!(out["body"], json!([1, 2]));
    task.abort();
}

#[tokio::test]
async fn repeated_headers_are_joined() {
    let s = server().await;
    let out = executor()
        .execute(call(json!({"url": s.url("/dup")})))
        .await
        .expect("ok");
    assert_eq!(out["headers"]["x-multi"], json!("a, b"));
}

#[tokio::test]
async fn sends_method_headers_query_and_json_body() {
    let s = server().await;
    let out = executor()
        .execute(call(json!({
            "method": "POST",
            "url": s.url("/echo?keep=1"),
            "headers": {"X-Str": "s", "X-Num": 5, "X-Bool": true},
            "query": {"city": "São Paulo", "tag": ["a", "b"], "n": 2.5, "none": []},
            "json": {"cities": ["x"]},
        })))
        .await
        .expect("ok");
    let echo = &out["body"];
    assert_eq!(echo["method"], json!("POST"));
    assert_eq!(echo["headers"]["x-str"], json!("s"));
    assert_eq!(echo["headers"]["x-num"], json!("5"));
    assert_eq!(echo["headers"]["x-bool"], json!("true"));
    assert_eq!(echo["headers"]["content-type"], json!("application/json"));
    assert!(
        echo["headers"]["user-agent"]
            .as_str()
            .is_some_and(|u| u.starts_with("harmonia/"))
    );
    assert_eq!(
        echo["query"],
        json!("keep=1&city=S%C3%A3o+Paulo&tag=a&tag=b&n=2.5")
    );
    assert_eq!(
        serde_json::from_str::<Value>(echo["body"].as_str().expect("text")).expect("json"),
        json!({"cities": ["x"]})
    );
}

#[tokio::test]
async fn sends_raw_bodies_and_both_kinds_of_auth() {
    let s = server().await;
    let e = executor();
    let out = e
        .execute(call(json!({
            "method": "put",
            "url": s.url("/echo"),
            "body": "a,b\n1,2",
            "auth": {"basic": {"username": "ann", "password": "pw"}},
        })))
        .await
        .expect("ok");
    let echo = &out["body"];
    assert_eq!(echo["method"], json!("PUT"));
    assert_eq!(echo["body"], json!("a,b\n1,2"));
    assert_eq!(
        echo["headers"]["content-type"],
        json!("text/plain; charset=utf-8")
    );
    // base64("ann:pw")
    assert_eq!(echo["headers"]["authorization"], json!("Basic YW5uOnB3"));

    let out = e
        .execute(call(json!({
            "method": "DELETE",
            "url": s.url("/echo"),
            "headers": {"content-type": "text/csv"},
            "body": "x",
            "auth": {"bearer": "tok"},
        })))
        .await
        .expect("ok");
    assert_eq!(out["body"]["headers"]["authorization"], json!("Bearer tok"));
    assert_eq!(out["body"]["headers"]["content-type"], json!("text/csv"));
}

#[tokio::test]
async fn a_404_is_http_4xx_with_the_status_and_an_excerpt() {
    let s = server().await;
    let e = executor()
        .execute(call(json!({"url": s.url("/missing")})))
        .await
        .expect_err("404");
    assert_eq!(e.class, ErrorClass::Http4xx);
    assert_eq!(e.status, Some(404));
    assert_eq!(e.retry_after_ms, None);
    assert_eq!(
        e.message,
        format!(
            "GET {}/missing answered 404 Not Found: no such thing",
            s.base
        )
    );
    let d = e.details.expect("details");
    assert_eq!(d["status"], json!(404));
    assert_eq!(d["body"], json!("no such thing"));
}

#[tokio::test]
async fn a_429_is_http_429_with_retry_after_in_seconds_or_as_a_date() {
    let s = server().await;
    let e = executor()
        .execute(call(json!({"url": s.url("/busy")})))
        .await
        .expect_err("429");
    assert_eq!(e.class, ErrorClass::Http429);
    assert_eq!(e.status, Some(429));
    assert_eq!(e.retry_after_ms, Some(7000));
    let e = executor()
        .execute(call(json!({"url": s.url("/busy-date")})))
        .await
        .expect_err("429");
    assert_eq!(e.class, ErrorClass::Http429);
    // 30 s ahead at second precision, read a little later: generous bounds.
    let ms = e.retry_after_ms.expect("retry after");
    assert!((10_000..=30_000).contains(&ms), "{ms}");
}

#[tokio::test]
async fn a_503_is_http_5xx_with_retry_after_and_the_parsed_body() {
    let s = server().await;
    let e = executor()
        .execute(call(json!({"url": s.url("/unavailable")})))
        .await
        .expect_err("503");
    assert_eq!(e.class, ErrorClass::Http5xx);
    assert_eq!(e.status, Some(503));
    assert_eq!(e.retry_after_ms, Some(2000));
    assert_eq!(
        e.details.expect("details")["body"],
        json!({"error": "maintenance"})
    );
    // Retry-After only counts on 429 and 503.
    let e = executor()
        .execute(call(json!({"url": s.url("/status/500")})))
        .await
        .expect_err("500");
    assert_eq!(e.class, ErrorClass::Http5xx);
    assert_eq!(e.retry_after_ms, None);
}

#[tokio::test]
async fn long_error_bodies_are_excerpted() {
    let s = server().await;
    let e = executor()
        .execute(call(json!({"url": s.url("/boom")})))
        .await
        .expect_err("500");
    assert_eq!(e.class, ErrorClass::Http5xx);
    assert!(e.message.ends_with('…'), "{}", e.message);
    assert!(e.message.len() < 400, "{}", e.message);
    let d = e.details.expect("details");
    assert_eq!(d["truncated"], json!(true));
    assert_eq!(d["body"].as_str().map(str::len), Some(EXCERPT_BYTES));
}

#[tokio::test]
async fn expect_status_decides_what_is_success() {
    let s = server().await;
    let e = executor();
    let out = e
        .execute(call(
            json!({"url": s.url("/missing"), "expect_status": [404, 410]}),
        ))
        .await
        .expect("404 is expected");
    assert_eq!(out["status"], json!(404));
    assert_eq!(out["body"], json!("no such thing"));
    let err = e
        .execute(call(json!({"url": s.url("/json"), "expect_status": [201]})))
        .await
        .expect_err("200 is not expected");
    assert_eq!(err.class, ErrorClass::Validation);
    assert_eq!(err.status, Some(200));
    assert!(
        err.message.contains("answered 200 OK (expected 201)"),
        "{}",
        err.message
    );
    // Without it, 3xx counts: a redirect that cannot be followed is returned.
    let out = e
        .execute(call(json!({"url": s.url("/status/304")})))
        .await
        .expect("304");
    assert_eq!(out["status"], json!(304));
}

#[tokio::test]
async fn redirects_are_followed_up_to_a_limit() {
    let s = server().await;
    let out = executor()
        .execute(call(json!({"url": s.url("/redirect")})))
        .await
        .expect("ok");
    assert_eq!(out["status"], json!(200));
    assert_eq!(out["body"]["hello"], json!("world"));
    let e = executor()
        .execute(call(json!({"url": s.url("/loop")})))
        .await
        .expect_err("loop");
    assert_eq!(e.class, ErrorClass::Connection);
    assert!(e.message.contains("redirects"), "{}", e.message);
}

#[tokio::test]
async fn a_refused_connection_is_a_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/x");
    let e = executor()
        .execute(call(json!({"url": url})))
        .await
        .expect_err("refused");
    assert_eq!(e.class, ErrorClass::Connection);
    assert_eq!(e.status, None);
    assert!(
        e.message
            .starts_with(&format!("GET {url}: could not connect: ")),
        "{}",
        e.message
    );
    assert!(
        e.message.to_lowercase().contains("refused"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn tls_is_configured_and_a_failed_handshake_is_a_connection_error() {
    // The server speaks plain HTTP: the handshake fails, which shows the client does
    // run TLS (with the provider it was given) instead of failing to build.
    let s = server().await;
    let url = s.url("/json").replacen("http://", "https://", 1);
    let e = executor()
        .execute(call(json!({"url": url})))
        .await
        .expect_err("not TLS");
    assert_eq!(e.class, ErrorClass::Connection);
    assert!(
        e.message.starts_with(&format!("GET {url}: ")),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_a_connection_error() {
    let (url, task) = raw_server(Vec::new()).await;
    let e = executor()
        .execute(call(json!({"url": url})))
        .await
        .expect_err("closed");
    assert_eq!(e.class, ErrorClass::Connection);
    assert!(e.message.contains("the connection failed"), "{}", e.message);
    task.abort();
}

#[tokio::test]
async fn a_slow_response_times_out() {
    let s = server().await;
    let started = Instant::now();
    let e = executor()
        .execute(call_with(
            json!({"url": s.url("/slow")}),
            Some(Duration::from_millis(300)),
            CancellationToken::new(),
        ))
        .await
        .expect_err("timeout");
    assert_eq!(e.class, ErrorClass::Timeout);
    assert!(e.message.contains("within 300ms"), "{}", e.message);
    // The route sleeps 120 s; anything well below that shows the limit worked.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn cancellation_drops_the_request_at_once() {
    let s = server().await;
    let cancel = CancellationToken::new();
    let exec = Arc::new(executor());
    let c = call_with(json!({"url": s.url("/slow")}), None, cancel.clone());
    let e2 = exec.clone();
    let running = tokio::spawn(async move { e2.execute(c).await });
    // Cancel once the server holds the request, not after a guessed delay.
    s.slow_arrived.notified().await;
    let started = Instant::now();
    cancel.cancel();
    let e = running.await.expect("joined").expect_err("cancelled");
    assert_eq!(e.class, ErrorClass::Cancelled);
    assert!(e.message.contains("/slow"), "{}", e.message);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // A token cancelled beforehand sends nothing.
    let e = exec
        .execute(call_with(json!({"url": s.url("/json")}), None, cancel))
        .await
        .expect_err("cancelled");
    assert_eq!(e.class, ErrorClass::Cancelled);
}

#[tokio::test]
async fn bodies_over_the_limit_are_validation_errors() {
    let s = server().await;
    let small = Http::new(1000);
    // Known from Content-Length.
    let e = small
        .execute(call(json!({"url": s.url("/big")})))
        .await
        .expect_err("too big");
    assert_eq!(e.class, ErrorClass::Validation);
    assert_eq!(e.status, Some(200));
    assert!(
        e.message.contains("larger than the limit of 1000 bytes"),
        "{}",
        e.message
    );
    // Found while reading a body without a length.
    let mut response =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n".to_vec();
    response.extend(std::iter::repeat_n(b'y', 5000));
    let (url, task) = raw_server(response).await;
    let e = small
        .execute(call(json!({"url": url})))
        .await
        .expect_err("too big");
    assert_eq!(e.class, ErrorClass::Validation);
    task.abort();
    // At the limit is fine.
    let out = Http::new(10_000)
        .execute(call(json!({"url": s.url("/big")})))
        .await
        .expect("fits");
    assert_eq!(out["body"].as_str().map(str::len), Some(10_000));
}

#[tokio::test]
async fn credentials_never_appear_in_messages_or_details() {
    let s = server().await;
    let e = executor();
    let addr = s.base.trim_start_matches("http://");
    let err = e
        .execute(call(
            json!({"url": format!("http://ann:hunter2@{addr}/missing?api_key=k3y")}),
        ))
        .await
        .expect_err("404");
    assert_eq!(
        err.message,
        format!(
            "GET {}/missing?… answered 404 Not Found: no such thing",
            s.base
        )
    );
    let err = e
        .execute(call(
            json!({"url": s.url("/echo-auth-fail"), "auth": {"bearer": "tok-SECRET-1"}}),
        ))
        .await
        .expect_err("400");
    assert_eq!(err.class, ErrorClass::Http4xx);
    let text = serde_json::to_string(&err).expect("json");
    assert!(!text.contains("tok-SECRET-1"), "{text}");
    assert!(text.contains("you sent Bearer ***"), "{text}");
    let err = e
        .execute(call(json!({
            "url": s.url("/echo-auth-fail"),
            "headers": {"Authorization": "Token abc-SECRET-2"},
        })))
        .await
        .expect_err("400");
    let text = serde_json::to_string(&err).expect("json");
    assert!(!text.contains("abc-SECRET-2"), "{text}");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    let err = e
        .execute(call(
            json!({"url": format!("http://ann:hunter2@127.0.0.1:{port}/")}),
        ))
        .await
        .expect_err("refused");
    assert!(
        !err.message.contains("hunter2") && !err.message.contains("ann"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn wrong_parameters_are_validation_errors_naming_the_parameter() {
    let e = executor();
    let cases = [
        (json!("http://x"), "parameters of `http`"),
        (json!({}), "missing `url`"),
        (json!({"url": 5}), "`url` must be a string"),
        (json!({"url": "not a url"}), "`url` is not a valid URL"),
        (
            json!({"url": "ftp://x/y"}),
            "`url` must be an http:// or https:// URL",
        ),
        (
            json!({"url": "http://x", "method": "BREW"}),
            "`method` must be one of",
        ),
        (
            json!({"url": "http://x", "headers": {"a": {"b": 1}}}),
            "`headers.a` must be",
        ),
        (
            json!({"url": "http://x", "headers": {"bad name": "v"}}),
            "`bad name` is not a valid header name",
        ),
        (
            json!({"url": "http://x", "headers": {"a": "line\nbreak"}}),
            "`headers.a` is not a valid header value",
        ),
        (
            json!({"url": "http://x", "query": {"a": null}}),
            "`query.a` must be",
        ),
        (
            json!({"url": "http://x", "query": {"a": [[1]]}}),
            "`query.a[0]` must be",
        ),
        (
            json!({"url": "http://x", "query": "a=1"}),
            "`query` must be an object",
        ),
        (
            json!({"url": "http://x", "json": {}, "body": "x"}),
            "either `json` or `body`",
        ),
        (
            json!({"url": "http://x", "body": {"a": 1}}),
            "use `json` to send a JSON body",
        ),
        (
            json!({"url": "http://x", "auth": {"bearer": "t", "basic": {"username": "u"}}}),
            "exactly one",
        ),
        (
            json!({"url": "http://x", "auth": {"basic": {"password": "p"}}}),
            "`auth.basic.username`",
        ),
        (
            json!({"url": "http://x", "auth": {"bearer": ""}}),
            "`auth.bearer`",
        ),
        (
            json!({"url": "http://x", "auth": {"bearer": "t"}, "headers": {"authorization": "x"}}),
            "either `auth` or an `Authorization` header",
        ),
        (
            json!({"url": "http://x", "expect_status": [200, 700]}),
            "`expect_status[1]`",
        ),
        (
            json!({"url": "http://x", "expect_status": []}),
            "`expect_status` is empty",
        ),
        (
            json!({"url": "http://x", "timeout": "1s"}),
            "unknown parameter `timeout`",
        ),
    ];
    for (params, wanted) in cases {
        let err = e.execute(call(params.clone())).await.expect_err("invalid");
        assert_eq!(err.class, ErrorClass::Validation, "{params}");
        assert!(err.message.contains(wanted), "{params}: {}", err.message);
    }
}

#[test]
fn retry_after_takes_seconds_or_an_http_date() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    assert_eq!(retry_after_ms("120", now), Some(120_000));
    assert_eq!(retry_after_ms(" 0 ", now), Some(0));
    let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
    assert_eq!(retry_after_ms(&later, now), Some(90_000));
    let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
    assert_eq!(retry_after_ms(&earlier, now), Some(0));
    assert_eq!(retry_after_ms("soon", now), None);
    assert_eq!(retry_after_ms("-5", now), None);
}

#[test]
fn shown_urls_hide_credentials_and_queries() {
    let u = Url::parse("https://u:p@example.com:8443/a/b?token=t#frag").expect("url");
    assert_eq!(shown_url(&u), "https://example.com:8443/a/b?…");
    let u = Url::parse("http://example.com").expect("url");
    assert_eq!(shown_url(&u), "http://example.com/");
    assert_eq!(percent_decode("p%40ss%3Aw").ok().as_deref(), Some("p@ss:w"));
}

#[test]
fn json_content_types() {
    assert!(is_json_type("application/json"));
    assert!(is_json_type("Application/JSON; charset=utf-8"));
    assert!(is_json_type("application/problem+json"));
    assert!(is_json_type("text/json"));
    assert!(!is_json_type("text/plain"));
    assert!(!is_json_type("application/jsonp"));
}

#[tokio::test]
async fn the_client_builds_with_or_without_a_process_wide_provider() {
    // Whichever order the tests run in, both states are seen by one of these builds.
    assert!(build_client().is_ok());
    let _ = rustls::crypto::ring::default_provider().install_default();
    assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    assert!(build_client().is_ok());
}
