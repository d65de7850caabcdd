//! `http`: one HTTP request per attempt.
//!
//! Parameters (their schema is in `harmonia_model::task_types`; they arrive evaluated, so
//! the types this file relies on are checked again and a wrong one is a `validation`
//! error naming the parameter):
//! - `method`: `GET` (default), `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD` or `OPTIONS`;
//! - `url`: an `http://` or `https://` URL;
//! - `headers`: name -> string, number or boolean (numbers and booleans are sent as text);
//! - `query`: name -> string, number, boolean, or an array of those (the key repeats);
//!   appended to the query the URL may already have;
//! - `json` (any value, sent as JSON with `Content-Type: application/json`) or `body` (raw
//!   text, sent with `Content-Type: text/plain; charset=utf-8`); a `Content-Type` header
//!   overrides either;
//! - `auth`: `{basic: {username, password}}` or `{bearer: token}` (not together with an
//!   `Authorization` header);
//! - `expect_status`: the statuses that count as success (default: any 2xx or 3xx).
//!
//! Output: `{status, headers, body}`. Header names are lower-case and repeated headers are
//! joined with `", "`. The body is the parsed JSON when the response's `Content-Type` is
//! JSON (`application/json`, `text/json`, `*/*+json`) or absent, and the text parses as
//! JSON; otherwise the text (invalid UTF-8 replaced). An empty body is `null`. A body
//! labelled as text is never parsed, so `text/plain` `"42"` stays the string `"42"`.
//!
//! Errors, by class: a connection that cannot be made or breaks (refused, DNS, reset, TLS,
//! more than 10 redirects) is `connection`; the attempt's `timeout` passing is `timeout`
//! (it bounds the whole exchange, body included); a status outside `expect_status` is
//! `http_429`, `http_4xx` or `http_5xx`, with `status` and `details: {status, headers,
//! body}` (body: at most 4 KiB, `truncated: true` when cut), and `retry_after_ms` from a
//! `Retry-After` header (seconds or an HTTP date) on 429 and 503; a 1xx, 2xx or 3xx that
//! `expect_status` does not list is `validation`. A body larger than the executor's
//! `max_response_bytes` is a `validation` error, not a truncated body: half a JSON document
//! is not data, and the same request would get the same answer.
//!
//! Invariants:
//! - one `reqwest::Client` per executor, using rustls with the `ring` provider given
//!   explicitly, so building it neither needs nor minds a process-wide provider, and never
//!   panics; if it cannot be built, every attempt fails with a `validation` error saying why;
//! - when `call.cancel` is cancelled the request future is dropped at once (closing the
//!   connection) and the attempt ends `cancelled`;
//! - messages name the method and the URL without credentials or query string
//!   (`GET https://api.example.com/v1/items?…`), never an `Authorization` header; the
//!   values of credentials and sensitive headers (4 characters or more) are also
//!   scrubbed from messages and details, in case a lower layer or the server repeats them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use harmonia_model::ErrorClass;
use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER,
};
use reqwest::{Method, StatusCode, Url};
use serde_json::{Map, Value, json};

use super::{Call, Executor};
use crate::event::TaskError;

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 10;
/// The most of an error response's body kept in the error's details.
const EXCERPT_BYTES: usize = 4096;
/// The most of an error response's body quoted in the error's message, in characters.
const MESSAGE_EXCERPT_CHARS: usize = 200;
/// Credentials shorter than this are not scrubbed from messages (see `Request::parse`).
const MIN_SCRUBBED_LEN: usize = 4;
/// Bodies larger than this are parsed on a blocking thread.
const PARSE_INLINE_BYTES: usize = 256 * 1024;
/// The parameters `http` knows.
const PARAMETERS: [&str; 8] = [
    "method",
    "url",
    "headers",
    "query",
    "json",
    "body",
    "auth",
    "expect_status",
];
/// The methods `http` sends.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The `http` executor.
#[derive(Debug)]
pub struct HttpExecutor {
    /// The shared client, or why it could not be built.
    client: Result<reqwest::Client, String>,
    max_response_bytes: usize,
}

impl HttpExecutor {
    /// An executor refusing response bodies larger than `max_response_bytes`.
    pub fn new(max_response_bytes: usize) -> HttpExecutor {
        HttpExecutor {
            client: build_client(),
            max_response_bytes,
        }
    }
}

/// The client: rustls with `ring`, the platform's roots, up to [`MAX_REDIRECTS`] redirects.
fn build_client() -> Result<reqwest::Client, String> {
    use rustls_platform_verifier::BuilderVerifierExt;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot configure TLS: {e}"))?;
    let tls = match builder.clone().with_platform_verifier() {
        Ok(b) => b.with_no_client_auth(),
        Err(e) => {
            // No usable root certificates: plain http still works, https fails to verify.
            tracing::warn!(error = %e, "no TLS root certificates; https requests will fail");
            builder
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        }
    };
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
        .user_agent(concat!("harmonia/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            format!(
                "cannot create the HTTP client: {}",
                root_cause(&e.without_url())
            )
        })
}

#[async_trait]
impl Executor for HttpExecutor {
    fn kind(&self) -> &'static str {
        "http"
    }

    async fn execute(&self, call: Call) -> Result<Value, TaskError> {
        let client = self
            .client
            .as_ref()
            .map_err(|e| TaskError::new(ErrorClass::Validation, e.clone()))?;
        let request = Request::parse(&call.params)?;
        let what = format!("{} {}", request.method, request.shown);
        if call.cancel.is_cancelled() {
            return Err(TaskError::new(
                ErrorClass::Cancelled,
                format!("{what}: cancelled before it was sent"),
            ));
        }
        let deadline = async {
            match call.timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            biased;
            () = call.cancel.cancelled() => Err(TaskError::new(
                ErrorClass::Cancelled,
                format!("{what}: cancelled; the request was dropped"),
            )),
            () = deadline => Err(TaskError::new(
                ErrorClass::Timeout,
                format!("{what}: no complete response within {:?}", call.timeout.unwrap_or_default()),
            )),
            r = self.perform(client, &request, &what) => r,
        };
        result.map_err(|e| request.scrub(e))
    }
}

impl HttpExecutor {
    /// Sends the request and reads the response; no time limit of its own.
    async fn perform(
        &self,
        client: &reqwest::Client,
        req: &Request,
        what: &str,
    ) -> Result<Value, TaskError> {
        let mut rb = client
            .request(req.method.clone(), req.url.clone())
            .headers(req.headers.clone());
        match &req.auth {
            Some(Auth::Basic { username, password }) => {
                rb = rb.basic_auth(username, Some(password))
            }
            Some(Auth::Bearer(token)) => rb = rb.bearer_auth(token),
            None => {}
        }
        if let Some(body) = &req.body {
            rb = rb.body(body.clone());
        }
        let mut resp = rb.send().await.map_err(|e| transport_error(what, e))?;
        let status = resp.status();
        let headers = headers_json(resp.headers());
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);

        if !req.accepts(status) {
            let retry_after_ms = if status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::SERVICE_UNAVAILABLE
            {
                resp.headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after_ms(v, SystemTime::now()))
            } else {
                None
            };
            // The body only explains the error: read what comes, and ignore a broken read.
            let (bytes, truncated) = read_body(&mut resp, EXCERPT_BYTES)
                .await
                .unwrap_or_default();
            return Err(status_error(
                what,
                req,
                status,
                headers,
                content_type.as_deref(),
                &bytes,
                truncated,
                retry_after_ms,
            ));
        }

        let too_large = || {
            TaskError::new(
                ErrorClass::Validation,
                format!(
                    "{what}: the response body is larger than the limit of {} bytes",
                    self.max_response_bytes
                ),
            )
            .with_status(status.as_u16())
            .with_details(
                json!({"status": status.as_u16(), "limit_bytes": self.max_response_bytes}),
            )
        };
        // A HEAD response's length is that of the body it does not send.
        if req.method != Method::HEAD
            && resp
                .content_length()
                .is_some_and(|n| n > u64::try_from(self.max_response_bytes).unwrap_or(u64::MAX))
        {
            return Err(too_large());
        }
        let (bytes, truncated) = read_body(&mut resp, self.max_response_bytes)
            .await
            .map_err(|e| transport_error(what, e))?;
        if truncated {
            return Err(too_large());
        }
        let body = decode_body_async(content_type, bytes).await;
        Ok(json!({"status": status.as_u16(), "headers": headers, "body": body}))
    }
}

/// `auth`, checked. No `Debug`: it holds credentials.
enum Auth {
    Basic { username: String, password: String },
    Bearer(String),
}

/// The parameters, checked and turned into a request. No `Debug`: it holds credentials.
struct Request {
    method: Method,
    url: Url,
    /// The URL as messages show it: no credentials, no query.
    shown: String,
    headers: HeaderMap,
    auth: Option<Auth>,
    body: Option<Vec<u8>>,
    expect_status: Option<Vec<u16>>,
    /// Values that must not appear in messages.
    secrets: Vec<String>,
}

fn invalid(message: impl Into<String>) -> TaskError {
    TaskError::new(ErrorClass::Validation, message)
}

/// The text of a header or query value: strings as they are, numbers and booleans as JSON.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether a header's value is a credential.
fn is_sensitive_header(name: &HeaderName) -> bool {
    let n = name.as_str();
    [
        "auth", "token", "key", "secret", "cookie", "session", "password",
    ]
    .iter()
    .any(|w| n.contains(w))
}

impl Request {
    fn parse(params: &Value) -> Result<Request, TaskError> {
        let Some(p) = params.as_object() else {
            return Err(invalid(
                "the parameters of `http` must be an object with at least `url`",
            ));
        };
        if let Some(unknown) = p.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
            return Err(invalid(format!(
                "unknown parameter `{unknown}` (expected one of {})",
                PARAMETERS.join(", ")
            )));
        }
        let mut secrets = Vec::new();

        let method = match p.get("method") {
            None | Some(Value::Null) => Method::GET,
            Some(Value::String(m)) if METHODS.contains(&m.to_ascii_uppercase().as_str()) => {
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| invalid(format!("`method`: `{m}` is not an HTTP method")))?
            }
            Some(other) => {
                return Err(invalid(format!(
                    "`method` must be one of {}, found {}",
                    METHODS.join(", "),
                    describe(other)
                )));
            }
        };

        let Some(raw_url) = p.get("url").and_then(Value::as_str) else {
            return Err(invalid(match p.get("url") {
                None => "missing `url`".to_string(),
                Some(v) => format!("`url` must be a string, found {}", describe(v)),
            }));
        };
        let mut url =
            Url::parse(raw_url).map_err(|e| invalid(format!("`url` is not a valid URL: {e}")))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(invalid(format!(
                "`url` must be an http:// or https:// URL, found a `{}:` URL",
                url.scheme()
            )));
        }
        if let Some(pw) = url.password() {
            secrets.push(pw.to_string());
            if let Ok(decoded) = percent_decode(pw) {
                secrets.push(decoded);
            }
        }

        match p.get("query") {
            None | Some(Value::Null) => {}
            Some(Value::Object(q)) => {
                let mut pairs: Vec<(&str, String)> = Vec::new();
                for (k, v) in q {
                    match v {
                        Value::Array(items) => {
                            for (i, item) in items.iter().enumerate() {
                                let text = scalar_text(item).ok_or_else(|| {
                                    invalid(format!(
                                        "`query.{k}[{i}]` must be a string, number or boolean, found {}",
                                        describe(item)
                                    ))
                                })?;
                                pairs.push((k, text));
                            }
                        }
                        _ => {
                            let text = scalar_text(v).ok_or_else(|| {
                                invalid(format!(
                                    "`query.{k}` must be a string, number, boolean or an array of those, found {}",
                                    describe(v)
                                ))
                            })?;
                            pairs.push((k, text));
                        }
                    }
                }
                if !pairs.is_empty() {
                    url.query_pairs_mut().extend_pairs(pairs);
                }
            }
            Some(other) => {
                return Err(invalid(format!(
                    "`query` must be an object, found {}",
                    describe(other)
                )));
            }
        }

        let mut headers = HeaderMap::new();
        match p.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(h)) => {
                for (k, v) in h {
                    let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                        invalid(format!("`headers`: `{k}` is not a valid header name"))
                    })?;
                    let text = scalar_text(v).ok_or_else(|| {
                        invalid(format!(
                            "`headers.{k}` must be a string, number or boolean, found {}",
                            describe(v)
                        ))
                    })?;
                    let mut value = HeaderValue::from_str(&text).map_err(|_| {
                        invalid(format!(
                            "`headers.{k}` is not a valid header value (control characters or non-ASCII text)"
                        ))
                    })?;
                    if is_sensitive_header(&name) {
                        value.set_sensitive(true);
                        secrets.push(text);
                    }
                    headers.append(name, value);
                }
            }
            Some(other) => {
                return Err(invalid(format!(
                    "`headers` must be an object, found {}",
                    describe(other)
                )));
            }
        }

        let auth = match p.get("auth") {
            None | Some(Value::Null) => None,
            Some(a) => Some(parse_auth(a)?),
        };
        match &auth {
            Some(Auth::Basic { password, .. }) => secrets.push(password.clone()),
            Some(Auth::Bearer(token)) => secrets.push(token.clone()),
            None => {}
        }
        if auth.is_some() && headers.contains_key(AUTHORIZATION) {
            return Err(invalid(
                "set either `auth` or an `Authorization` header, not both",
            ));
        }

        let body = match (p.get("json"), p.get("body")) {
            (Some(_), Some(_)) => return Err(invalid("set either `json` or `body`, not both")),
            (Some(j), None) => {
                if !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                Some(
                    serde_json::to_vec(j)
                        .map_err(|e| invalid(format!("`json` cannot be encoded: {e}")))?,
                )
            }
            (None, Some(Value::String(s))) => {
                if !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(
                        CONTENT_TYPE,
                        HeaderValue::from_static("text/plain; charset=utf-8"),
                    );
                }
                Some(s.clone().into_bytes())
            }
            (None, Some(other)) => {
                return Err(invalid(format!(
                    "`body` must be a string (raw text), found {}; use `json` to send a JSON body",
                    describe(other)
                )));
            }
            (None, None) => None,
        };

        let expect_status = match p.get("expect_status") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut list = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item.as_u64().and_then(|n| u16::try_from(n).ok()) {
                        Some(s) if (100..=599).contains(&s) => list.push(s),
                        _ => {
                            return Err(invalid(format!(
                                "`expect_status[{i}]` must be an HTTP status from 100 to 599, found {}",
                                describe(item)
                            )));
                        }
                    }
                }
                if list.is_empty() {
                    return Err(invalid(
                        "`expect_status` is empty: list the statuses that count as success, or leave it out",
                    ));
                }
                Some(list)
            }
            Some(other) => {
                return Err(invalid(format!(
                    "`expect_status` must be a list of HTTP statuses, found {}",
                    describe(other)
                )));
            }
        };

        // Shorter values would scrub ordinary words out of messages; the executor never
        // writes credentials into a message itself, this only guards against echoes.
        secrets.retain(|s| s.len() >= MIN_SCRUBBED_LEN);
        Ok(Request {
            shown: shown_url(&url),
            method,
            url,
            headers,
            auth,
            body,
            expect_status,
            secrets,
        })
    }

    /// Whether a status counts as success.
    fn accepts(&self, status: StatusCode) -> bool {
        match &self.expect_status {
            Some(list) => list.contains(&status.as_u16()),
            None => status.is_success() || status.is_redirection(),
        }
    }

    /// The error, with every credential replaced by `***`.
    fn scrub(&self, mut e: TaskError) -> TaskError {
        if self.secrets.is_empty() {
            return e;
        }
        e.message = scrub_text(&e.message, &self.secrets);
        if let Some(d) = e.details.as_mut() {
            scrub_value(d, &self.secrets);
        }
        e
    }
}

fn parse_auth(a: &Value) -> Result<Auth, TaskError> {
    let Some(obj) = a.as_object().filter(|o| o.len() == 1) else {
        return Err(invalid(
            "`auth` must be `{basic: {username, password}}` or `{bearer: token}`, with exactly one of them",
        ));
    };
    if let Some(basic) = obj.get("basic") {
        let Some(b) = basic.as_object() else {
            return Err(invalid(
                "`auth.basic` must be an object `{username, password}`",
            ));
        };
        let Some(username) = b.get("username").and_then(scalar_text) else {
            return Err(invalid("`auth.basic.username` must be a string"));
        };
        let password = match b.get("password") {
            None | Some(Value::Null) => String::new(),
            Some(v) => {
                scalar_text(v).ok_or_else(|| invalid("`auth.basic.password` must be a string"))?
            }
        };
        if let Some(unknown) = b.keys().find(|k| *k != "username" && *k != "password") {
            return Err(invalid(format!(
                "`auth.basic` has an unknown field `{unknown}`"
            )));
        }
        return Ok(Auth::Basic { username, password });
    }
    if let Some(bearer) = obj.get("bearer") {
        return match bearer.as_str() {
            Some(t) if !t.is_empty() => Ok(Auth::Bearer(t.to_string())),
            _ => Err(invalid(
                "`auth.bearer` must be a non-empty string (the token)",
            )),
        };
    }
    Err(invalid(
        "`auth` must be `{basic: {username, password}}` or `{bearer: token}`",
    ))
}

/// A short description of a JSON value's type, for messages (never its content).
fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The URL for messages: no user, no password, no fragment; a query shown as `?…`.
fn shown_url(url: &Url) -> String {
    let mut u = url.clone();
    let had_query = u.query().is_some_and(|q| !q.is_empty());
    // Both only fail for URLs that cannot have credentials, which then have none.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    let mut s = u.to_string();
    if had_query {
        s.push_str("?…");
    }
    s
}

fn percent_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
}

fn scrub_text(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}

fn scrub_value(v: &mut Value, secrets: &[String]) {
    match v {
        Value::String(s) => *s = scrub_text(s, secrets),
        Value::Array(items) => items.iter_mut().for_each(|i| scrub_value(i, secrets)),
        Value::Object(m) => m.values_mut().for_each(|i| scrub_value(i, secrets)),
        _ => {}
    }
}

/// The innermost cause of an error, which names the real problem
/// (`Connection refused (os error 111)`), rather than the layers above it.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// A failure below HTTP: classified, with the URL-free cause.
fn transport_error(what: &str, e: reqwest::Error) -> TaskError {
    let e = e.without_url();
    let cause = root_cause(&e);
    if e.is_timeout() {
        TaskError::new(ErrorClass::Timeout, format!("{what}: timed out: {cause}"))
    } else if e.is_redirect() {
        TaskError::new(
            ErrorClass::Connection,
            format!("{what}: gave up after {MAX_REDIRECTS} redirects"),
        )
    } else if e.is_builder() {
        TaskError::new(
            ErrorClass::Validation,
            format!("{what}: invalid request: {cause}"),
        )
    } else if e.is_connect() {
        TaskError::new(
            ErrorClass::Connection,
            format!("{what}: could not connect: {cause}"),
        )
    } else {
        TaskError::new(
            ErrorClass::Connection,
            format!("{what}: the connection failed: {cause}"),
        )
    }
}

/// The error for a status that does not count as success.
#[allow(clippy::too_many_arguments)]
fn status_error(
    what: &str,
    req: &Request,
    status: StatusCode,
    headers: Value,
    content_type: Option<&str>,
    bytes: &[u8],
    truncated: bool,
    retry_after_ms: Option<u64>,
) -> TaskError {
    let code = status.as_u16();
    let class = match code {
        429 => ErrorClass::Http429,
        400..=499 => ErrorClass::Http4xx,
        500..=599 => ErrorClass::Http5xx,
        _ => ErrorClass::Validation,
    };
    let text = String::from_utf8_lossy(bytes);
    let excerpt: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MESSAGE_EXCERPT_CHARS)
        .collect();
    let mut message = format!(
        "{what} answered {code}{}",
        status
            .canonical_reason()
            .map(|r| format!(" {r}"))
            .unwrap_or_default()
    );
    if let Some(list) = &req.expect_status {
        let list: Vec<String> = list.iter().map(ToString::to_string).collect();
        message.push_str(&format!(" (expected {})", list.join(", ")));
    }
    if !excerpt.is_empty() {
        message.push_str(": ");
        message.push_str(&excerpt);
        if text.chars().count() > MESSAGE_EXCERPT_CHARS || truncated {
            message.push('…');
        }
    }
    let mut details = Map::new();
    details.insert("status".into(), json!(code));
    details.insert("headers".into(), headers);
    let body = if truncated {
        Value::String(text_prefix(bytes))
    } else {
        decode_body(content_type, bytes)
    };
    details.insert("body".into(), body);
    if truncated {
        details.insert("truncated".into(), Value::Bool(true));
    }
    let mut e = TaskError::new(class, message)
        .with_status(code)
        .with_details(Value::Object(details));
    e.retry_after_ms = retry_after_ms;
    e
}

/// The text of a cut body, without a character cut in half at its end.
fn text_prefix(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(e) if e.error_len().is_none() => {
            String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Reads the body up to `limit` bytes; `true` when there was more (the rest is not read).
async fn read_body(
    resp: &mut reqwest::Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = limit.saturating_sub(out.len());
        if chunk.len() > room {
            out.extend_from_slice(&chunk[..room]);
            return Ok((out, true));
        }
        out.extend_from_slice(&chunk);
    }
    Ok((out, false))
}

/// Lower-case names to values; repeated headers joined with `", "`.
fn headers_json(headers: &HeaderMap) -> Value {
    let mut out = Map::new();
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        out.insert(name.as_str().to_string(), Value::String(values.join(", ")));
    }
    Value::Object(out)
}

/// Whether a `Content-Type` says JSON.
fn is_json_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

/// The body as output: JSON when labelled so (or unlabelled) and parseable, else text.
fn decode_body(content_type: Option<&str>, bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if content_type.is_none_or(is_json_type)
        && let Ok(v) = serde_json::from_slice(bytes)
    {
        return v;
    }
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

/// [`decode_body`], on a blocking thread for large bodies.
async fn decode_body_async(content_type: Option<String>, bytes: Vec<u8>) -> Value {
    if bytes.len() <= PARSE_INLINE_BYTES {
        return decode_body(content_type.as_deref(), &bytes);
    }
    tokio::task::spawn_blocking(move || decode_body(content_type.as_deref(), &bytes))
        .await
        .unwrap_or(Value::Null)
}

/// `Retry-After` in milliseconds: delay-seconds, or an HTTP date (0 when past).
fn retry_after_ms(value: &str, now: SystemTime) -> Option<u64> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let date = httpdate::parse_http_date(v).ok()?;
    let wait = date.duration_since(now).unwrap_or(Duration::ZERO);
    Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use axum::Router;
    use axum::extract::{Path, RawQuery};
    use axum::http::{
        HeaderMap as AxumHeaders, Method as AxumMethod, StatusCode as AxumStatus, header,
    };
    use axum::response::{AppendHeaders, IntoResponse, Redirect};
    use axum::routing::{any, get};
    use harmonia_expr::{Context, Limits};
    use harmonia_storage::ExecutionId;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::Notify;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::executors::CallMeta;

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
        Call {
            params,
            timeout,
            cancel,
            meta: CallMeta {
                execution: ExecutionId::new(),
                task: "fetch".into(),
                item: None,
                attempt: 1,
            },
            ctx: Context::new(),
            limits: Limits::default(),
        }
    }

    fn call(params: Value) -> Call {
        call_with(
            params,
            Some(Duration::from_secs(30)),
            CancellationToken::new(),
        )
    }

    fn executor() -> HttpExecutor {
        HttpExecutor::new(1024 * 1024)
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
        let small = HttpExecutor::new(1000);
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
        let out = HttpExecutor::new(10_000)
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
}
