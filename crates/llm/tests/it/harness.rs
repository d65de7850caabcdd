//! The one test harness: a local HTTP server that records every request and answers
//! with what the test's closure says, and a configuration pointing at it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use harmonia_llm::{LlmConfig, ProviderKind, Secret};

/// The key every test configures; no error may ever show it.
pub(crate) const KEY: &str = "sk-test-SECRET-0123456789";

/// A request the server received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: serde_json::Value,
    pub(crate) at: Instant,
}

impl Recorded {
    /// A header's value, if present.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the server answers.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: String,
    pub(crate) delay: Duration,
}

impl Reply {
    /// A JSON answer.
    pub(crate) fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    /// This reply with one more header.
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    /// This reply, sent after `delay`.
    pub(crate) fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Respond = dyn Fn(usize, &Recorded) -> Reply + Send + Sync;

/// A running test server.
pub(crate) struct Server {
    pub(crate) url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    /// Every request received so far.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("not poisoned").clone()
    }

    /// The one request received (the test expected exactly one).
    pub(crate) fn only_request(&self) -> Recorded {
        let all = self.requests();
        assert_eq!(all.len(), 1, "expected one request, got {}", all.len());
        all.into_iter().next().expect("one request")
    }
}

/// A server on 127.0.0.1 answering request number `n` (0-based) with `respond(n, req)`.
pub(crate) async fn serve(
    respond: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static,
) -> Server {
    let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let respond: Arc<Respond> = Arc::new(respond);
    let seen = requests.clone();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            let respond = respond.clone();
            async move {
                let rec = Recorded {
                    method,
                    path: uri.path().to_owned(),
                    headers,
                    body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                    at: Instant::now(),
                };
                let n = {
                    let mut seen = seen.lock().expect("not poisoned");
                    seen.push(rec.clone());
                    seen.len() - 1
                };
                let reply = respond(n, &rec);
                tokio::time::sleep(reply.delay).await;
                let mut resp: Response = (
                    StatusCode::from_u16(reply.status).expect("a status"),
                    reply.body,
                )
                    .into_response();
                for (name, value) in reply.headers {
                    resp.headers_mut()
                        .insert(name, value.parse().expect("a header value"));
                }
                resp
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    Server {
        url: format!("http://{addr}"),
        requests,
    }
}

/// A configuration for `provider` at `url`, with [`KEY`] and short timeouts.
pub(crate) fn config(provider: ProviderKind, url: &str) -> LlmConfig {
    LlmConfig {
        provider,
        base_url: Some(url.to_owned()),
        model: "test-model".into(),
        api_key: Some(Secret::new(KEY)),
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        max_retries: 2,
        ..LlmConfig::default()
    }
}

/// Asserts that neither the error's `Display` nor its `Debug` shows [`KEY`].
pub(crate) fn assert_no_key(e: &harmonia_llm::Error) {
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(KEY), "the key leaked: {shown}");
    assert!(
        !shown.contains("SECRET-0123"),
        "part of the key leaked: {shown}"
    );
}
