//! The HTTP transport every provider shares: one `POST` of a JSON body answered by
//! JSON, with timeouts, retries and typed errors.
//!
//! - TLS: rustls with the `ring` provider and the platform's roots (no roots: plain
//!   http still works and https fails to verify, as in the engine's `http` kind).
//! - Timeouts: `connect_timeout` for connecting, `timeout` for the whole request,
//!   reading the answer included.
//! - Retries: up to `max_retries` more attempts on 429, 500, 502, 503, 504 and on
//!   failures to connect; the wait is the answer's `Retry-After` (seconds or an HTTP
//!   date) or an exponential backoff from [`FIRST_BACKOFF`], never more than
//!   [`MAX_RETRY_DELAY`]. A request that timed out is not retried: the provider may
//!   still be generating, and each attempt costs tokens.
//! - Bodies: an answer is read up to [`MAX_BODY_BYTES`]; an error answer's own message
//!   is extracted from its JSON (`error.message`, `error`, `message`, `detail`).
//!
//! Invariants: errors carry neither the request body, nor the API key (every error
//! leaving [`Transport::post_json`] is scrubbed), nor the URL's credentials; the key
//! is sent as a sensitive header and never logged.

use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde::de::DeserializeOwned;

use crate::error::{Error, MAX_MESSAGE_CHARS, Result, truncate};
use crate::secret::Secret;

/// The largest answer read, in bytes.
pub(crate) const MAX_BODY_BYTES: usize = 8 << 20;
/// The largest error answer read, in bytes (only its message is kept).
const MAX_ERROR_BODY_BYTES: usize = 64 << 10;
/// The first wait of the exponential backoff.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait between two attempts, whatever `Retry-After` says.
pub(crate) const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// How a provider wants the API key sent.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth {
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// The key as the value of this header (`x-api-key`).
    Header(&'static str),
}

/// What a transport needs to know, from the configuration.
pub(crate) struct TransportConfig<'a> {
    /// The provider's name, for logs.
    pub(crate) provider: &'static str,
    /// The base URL, without a trailing `/`.
    pub(crate) base_url: String,
    /// How to send the key.
    pub(crate) auth: Auth,
    /// The key, if any.
    pub(crate) api_key: Option<&'a Secret>,
    /// The whole request's timeout.
    pub(crate) timeout: Duration,
    /// The connection's timeout.
    pub(crate) connect_timeout: Duration,
    /// Retries after the first attempt.
    pub(crate) max_retries: u32,
}

/// One provider's HTTP client.
pub(crate) struct Transport {
    client: reqwest::Client,
    provider: &'static str,
    base_url: String,
    /// `scheme://host:port` of the base URL, for error messages.
    origin: String,
    auth_header: Option<(HeaderName, HeaderValue)>,
    api_key: Option<Secret>,
    timeout: Duration,
    max_retries: u32,
}

/// Why one attempt failed, and whether another may succeed.
enum Failure {
    /// Worth another attempt, after `after` if the provider said so.
    Retry {
        error: Error,
        after: Option<Duration>,
    },
    /// Final.
    Fatal(Error),
}

impl Transport {
    /// A transport for `config`.
    pub(crate) fn new(config: TransportConfig<'_>) -> Result<Transport> {
        let url = reqwest::Url::parse(&config.base_url)
            .map_err(|e| Error::Config(format!("base_url is not a URL: {e}")))?;
        let origin = format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.port().map(|p| format!(":{p}")).unwrap_or_default()
        );
        let auth_header = match config.api_key.filter(|k| !k.expose().is_empty()) {
            None => None,
            Some(key) => {
                let (name, value) = match config.auth {
                    Auth::Bearer => (
                        reqwest::header::AUTHORIZATION,
                        format!("Bearer {}", key.expose()),
                    ),
                    Auth::Header(name) => (HeaderName::from_static(name), key.expose().to_owned()),
                };
                let mut value = HeaderValue::from_str(&value).map_err(|_| {
                    Error::Config("the API key has characters an HTTP header cannot carry".into())
                })?;
                value.set_sensitive(true);
                Some((name, value))
            }
        };
        Ok(Transport {
            client: build_client(config.timeout, config.connect_timeout)?,
            provider: config.provider,
            base_url: config.base_url,
            origin,
            auth_header,
            api_key: config.api_key.cloned(),
            timeout: config.timeout,
            max_retries: config.max_retries,
        })
    }

    /// The API key, for scrubbing errors built outside the transport.
    pub(crate) fn secret(&self) -> Option<&Secret> {
        self.api_key.as_ref()
    }

    /// `POST {base_url}{path}` with `body` and `headers`, retried as the module doc
    /// says; the answer parsed as `T`.
    pub(crate) async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        headers: &[(&'static str, &'static str)],
        body: &serde_json::Value,
    ) -> Result<T> {
        let url = format!("{}{path}", self.base_url);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let started = Instant::now();
            let outcome = self.attempt(&url, headers, body).await;
            let (error, after) = match outcome {
                Ok(bytes) => {
                    tracing::debug!(
                        provider = self.provider,
                        attempt,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "llm request answered"
                    );
                    return serde_json::from_slice(&bytes).map_err(|e| {
                        Error::Protocol(format!("the answer is not the expected JSON: {e}"))
                            .scrub(self.secret())
                    });
                }
                Err(Failure::Fatal(error)) => return Err(error.scrub(self.secret())),
                Err(Failure::Retry { error, after }) => (error.scrub(self.secret()), after),
            };
            if attempt > self.max_retries {
                return Err(error);
            }
            let delay = after
                .unwrap_or_else(|| backoff(attempt))
                .min(MAX_RETRY_DELAY);
            tracing::warn!(
                provider = self.provider,
                attempt,
                delay_ms = delay.as_millis() as u64,
                error = %error,
                "llm request failed; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// `POST {base_url}{path}` with `body`, the answer read as a stream of lines, each
    /// given to `on_line` as it completes. Retried as [`Transport::post_json`] is until
    /// the answer's head says success; from then on, what arrives is used (a failure
    /// midway is an error, not a retry: part of the answer was passed on). At most
    /// `MAX_BODY_BYTES` are read.
    pub(crate) async fn post_lines(
        &self,
        path: &str,
        body: &serde_json::Value,
        on_line: &mut (dyn for<'t> FnMut(&'t str) + Send),
    ) -> Result<()> {
        let url = format!("{}{path}", self.base_url);
        let mut attempt = 0u32;
        let mut resp = loop {
            attempt += 1;
            let (error, after) = match self.send(&url, &[], body).await {
                Ok(resp) => break resp,
                Err(Failure::Fatal(error)) => return Err(error.scrub(self.secret())),
                Err(Failure::Retry { error, after }) => (error.scrub(self.secret()), after),
            };
            if attempt > self.max_retries {
                return Err(error);
            }
            let delay = after
                .unwrap_or_else(|| backoff(attempt))
                .min(MAX_RETRY_DELAY);
            tracing::warn!(provider = self.provider, attempt, delay_ms = delay.as_millis() as u64, error = %error, "llm request failed; retrying");
            tokio::time::sleep(delay).await;
        };
        let mut pending: Vec<u8> = Vec::new();
        let mut read = 0usize;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    read += chunk.len();
                    if read > MAX_BODY_BYTES {
                        return Err(Error::Protocol(format!(
                            "the answer is larger than {MAX_BODY_BYTES} bytes"
                        )));
                    }
                    pending.extend_from_slice(&chunk);
                    while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = pending.drain(..=end).collect();
                        on_line(String::from_utf8_lossy(&line).trim_end_matches(['\n', '\r']));
                    }
                }
                Ok(None) => {
                    if !pending.is_empty() {
                        on_line(String::from_utf8_lossy(&pending).trim_end_matches('\r'));
                    }
                    return Ok(());
                }
                Err(e) if e.is_timeout() => return Err(self.timed_out()),
                Err(e) => {
                    return Err(Error::Unavailable(format!(
                        "the answer from {} was interrupted: {}",
                        self.origin,
                        root_cause(&e.without_url())
                    )));
                }
            }
        }
    }

    /// Sends one request: the response when its status is a success.
    async fn send(
        &self,
        url: &str,
        headers: &[(&'static str, &'static str)],
        body: &serde_json::Value,
    ) -> std::result::Result<reqwest::Response, Failure> {
        let mut rb = self.client.post(url).json(body);
        if let Some((name, value)) = &self.auth_header {
            rb = rb.header(name.clone(), value.clone());
        }
        for (name, value) in headers {
            rb = rb.header(*name, *value);
        }
        let resp = rb.send().await.map_err(|e| self.send_failure(e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let after = retry_after(resp.headers(), SystemTime::now());
        // An unreadable error body still leaves the status to report.
        let bytes = self
            .read_limited(resp, MAX_ERROR_BODY_BYTES)
            .await
            .unwrap_or_default();
        let error = Error::Http {
            status: status.as_u16(),
            message: error_message(status, &bytes),
        };
        if is_retryable_status(status.as_u16()) {
            Err(Failure::Retry { error, after })
        } else {
            Err(Failure::Fatal(error))
        }
    }

    /// One attempt: the answer's bytes on success.
    async fn attempt(
        &self,
        url: &str,
        headers: &[(&'static str, &'static str)],
        body: &serde_json::Value,
    ) -> std::result::Result<Vec<u8>, Failure> {
        let resp = self.send(url, headers, body).await?;
        self.read_limited(resp, MAX_BODY_BYTES)
            .await
            .map_err(Failure::Fatal)
    }

    /// A failure to send (or to get the answer's head), classified.
    fn send_failure(&self, e: reqwest::Error) -> Failure {
        let e = e.without_url();
        let cause = root_cause(&e);
        if e.is_connect() {
            Failure::Retry {
                error: Error::Unavailable(format!("cannot connect to {}: {cause}", self.origin)),
                after: None,
            }
        } else if e.is_timeout() {
            Failure::Fatal(self.timed_out())
        } else {
            Failure::Fatal(Error::Unavailable(format!(
                "request to {} failed: {cause}",
                self.origin
            )))
        }
    }

    fn timed_out(&self) -> Error {
        Error::Unavailable(format!(
            "{} gave no complete answer within {:?}",
            self.origin, self.timeout
        ))
    }

    /// The body of `resp`, refused past `limit` bytes.
    async fn read_limited(&self, mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>> {
        let too_large = || Error::Protocol(format!("the answer is larger than {limit} bytes"));
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut buf = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if buf.len() + chunk.len() > limit {
                        return Err(too_large());
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(buf),
                Err(e) if e.is_timeout() => return Err(self.timed_out()),
                Err(e) => {
                    return Err(Error::Unavailable(format!(
                        "the answer from {} was interrupted: {}",
                        self.origin,
                        root_cause(&e.without_url())
                    )));
                }
            }
        }
    }
}

/// Whether an answer with `status` is worth another attempt.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// The wait before retry number `retry` (1-based) without `Retry-After`.
fn backoff(retry: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1u32 << retry.saturating_sub(1).min(16))
        .min(MAX_RETRY_DELAY)
}

/// The wait `Retry-After` asks for (seconds, or an HTTP date after `now`).
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The provider's own explanation of an error answer, or failing that its text or the
/// status's reason, at most [`MAX_MESSAGE_CHARS`] characters.
fn error_message(status: StatusCode, body: &[u8]) -> String {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| message_in(&v))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        });
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("no message").to_owned()
    } else {
        message
    };
    truncate(&message, MAX_MESSAGE_CHARS)
}

/// The message in the error bodies providers send: `{"error": {"type", "message"}}`
/// (OpenAI, Anthropic), `{"error": "..."}` (Ollama), `{"message": "..."}`, and
/// `{"detail": "..." | [{"msg"}]}` (FastAPI services such as Rhetor).
fn message_in(v: &serde_json::Value) -> Option<String> {
    let text = |v: &serde_json::Value| {
        v.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(e) = v.get("error") {
        if let Some(m) = text(e) {
            return Some(m);
        }
        if let Some(m) = e.get("message").and_then(text) {
            return Some(match e.get("type").and_then(text) {
                Some(kind) => format!("{kind}: {m}"),
                None => m,
            });
        }
    }
    if let Some(m) = v.get("message").and_then(text) {
        return Some(m);
    }
    match v.get("detail")? {
        serde_json::Value::Array(items) => {
            let msgs: Vec<String> = items
                .iter()
                .filter_map(|i| i.get("msg").and_then(text))
                .collect();
            (!msgs.is_empty()).then(|| msgs.join("; "))
        }
        detail => text(detail).or_else(|| detail.get("message").and_then(text)),
    }
}

/// The innermost cause of `e` (reqwest's own message is only "error sending request").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The HTTP client: rustls with `ring` and the platform's roots, no redirects (an API
/// that redirects a POST is misconfigured), the given timeouts.
fn build_client(timeout: Duration, connect_timeout: Duration) -> Result<reqwest::Client> {
    use rustls_platform_verifier::BuilderVerifierExt;

    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("cannot configure TLS: {e}")))?;
    let tls = match builder.clone().with_platform_verifier() {
        Ok(b) => b.with_no_client_auth(),
        Err(e) => {
            tracing::warn!(error = %e, "no TLS root certificates; https requests will fail");
            builder
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        }
    };
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .user_agent(concat!("harmonia/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .build()
        .map_err(|e| {
            Error::Config(format!(
                "cannot create the HTTP client: {}",
                root_cause(&e.without_url())
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(40), MAX_RETRY_DELAY);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).expect("a date"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(12)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(12));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&earlier).expect("a date"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn error_messages_of_each_provider() {
        let m = |v: serde_json::Value| message_in(&v);
        let openai = json!({"error": {"message": "bad model", "type": "invalid_request_error"}});
        assert_eq!(
            m(openai).as_deref(),
            Some("invalid_request_error: bad model")
        );
        assert_eq!(
            m(json!({"error": "no such model"})).as_deref(),
            Some("no such model")
        );
        assert_eq!(m(json!({"detail": "nope"})).as_deref(), Some("nope"));
        let fastapi = json!({"detail": [{"msg": "field required"}, {"msg": "bad"}]});
        assert_eq!(m(fastapi).as_deref(), Some("field required; bad"));
        assert_eq!(m(json!({"x": 1})), None);
    }

    #[test]
    fn error_message_falls_back_to_text_then_reason() {
        let s = StatusCode::BAD_GATEWAY;
        assert_eq!(
            error_message(s, b"<h1>Bad\n gateway</h1>"),
            "<h1>Bad gateway</h1>"
        );
        assert_eq!(error_message(s, b""), "Bad Gateway");
        let long = "x".repeat(2000);
        let m = error_message(s, format!(r#"{{"error": "{long}"}}"#).as_bytes());
        assert_eq!(m.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
