//! `http`: one HTTP request per attempt.
//!
//! Parameters (their schema is in `spec`; they arrive evaluated, so
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
//! - one `reqwest::Client` per executor (built at its first request), using rustls with the `ring` provider given
//!   explicitly, so building it neither needs nor minds a process-wide provider, and never
//!   panics; if it cannot be built, every attempt fails with a `validation` error saying why;
//! - when `call.cancel` is cancelled the request future is dropped at once (closing the
//!   connection) and the attempt ends `cancelled`;
//! - messages name the method and the URL without credentials or query string
//!   (`GET https://api.example.com/v1/items?…`), never an `Authorization` header; the
//!   values of credentials and sensitive headers (4 characters or more) are also
//!   scrubbed from messages and details, in case a lower layer or the server repeats them.
//!
//! Layout, one concept per file: `spec` describes the kind (schema, check, output);
//! this file holds the kind (the client, the attempt
//! with its cancellation and deadline, sending and reading); `request` checks the
//! parameters and builds the request; `redact` keeps credentials out of messages;
//! `errors` classifies failures and statuses into errors; `response` reads and decodes
//! bodies and headers; `tests` runs it all against real local servers.

mod errors;
mod redact;
mod redirect;
mod request;
mod response;
mod spec;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use harmonia_model::ErrorClass;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::call::Call;
use super::kind::{Description, Run, Spawned, TaskKind};
use crate::event::TaskError;
use errors::{EXCERPT_BYTES, root_cause, status_error};
pub(crate) use errors::{retry_after_ms, transport_error};
use request::{Auth, Request};
pub(crate) use response::read_body;
use response::{decode_body_async, headers_json};

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 10;

/// The `http` kind.
#[derive(Debug)]
pub struct Http {
    /// The shared client, or why it could not be built; built at the first request,
    /// since loading the platform's root certificates takes milliseconds that a
    /// program that sends none (`validate`, a run without `http` tasks) should not pay.
    client: std::sync::OnceLock<Result<reqwest::Client, String>>,
    max_response_bytes: usize,
}

impl Http {
    /// A kind refusing response bodies larger than `max_response_bytes`.
    pub fn new(max_response_bytes: usize) -> Http {
        Http {
            client: std::sync::OnceLock::new(),
            max_response_bytes,
        }
    }
}

/// The client: rustls with `ring`, the platform's roots; redirects are not followed by
/// the client but by [`Http::perform`].
/// The HTTP client Harmonia's own requests use (TLS with the platform's roots, no
/// redirects followed, no `Referer`): the `http` kind's, and the server's
/// notifications'.
pub fn build_client() -> Result<reqwest::Client, String> {
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
        // Redirects are followed by `perform`, which decides what each hop may carry;
        // no `Referer` is ever sent.
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .user_agent(concat!("harmonia/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            format!(
                "cannot create the HTTP client: {}",
                root_cause(&e.without_url())
            )
        })
}

impl TaskKind for Http {
    fn name(&self) -> &'static str {
        "http"
    }

    fn describe(&self) -> Description {
        spec::describe()
    }

    fn run(&self) -> Run<'_> {
        Run::Spawned(self)
    }
}

#[async_trait]
impl Spawned for Http {
    async fn execute(&self, call: Call) -> Result<Value, TaskError> {
        let client = self
            .client
            .get_or_init(build_client)
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
        let result = call
            .bounded(
                &what,
                "no complete response",
                self.perform(client, &request, &what, &call.secret_texts),
            )
            .await;
        result.map_err(|e| request.scrub(e))
    }
}

impl Http {
    /// Sends the request, following redirects (see `redirect`), and reads the
    /// response; no time limit of its own.
    async fn perform(
        &self,
        client: &reqwest::Client,
        req: &Request,
        what: &str,
        secret_texts: &[String],
    ) -> Result<Value, TaskError> {
        let mut hop = redirect::Hop::first(req);
        let mut resp = loop {
            let mut rb = client
                .request(hop.method.clone(), hop.url.clone())
                .headers(hop.headers.clone());
            if hop.credentials {
                match &req.auth {
                    Some(Auth::Basic { username, password }) => {
                        rb = rb.basic_auth(username, Some(password))
                    }
                    Some(Auth::Bearer(token)) => rb = rb.bearer_auth(token),
                    None => {}
                }
            }
            if let Some(body) = &hop.body {
                rb = rb.body(body.clone());
            }
            let resp = rb.send().await.map_err(|e| transport_error(what, e))?;
            match hop.next(&resp, secret_texts) {
                redirect::Next::Done => break resp,
                redirect::Next::Follow(next) => hop = *next,
                redirect::Next::TooMany => {
                    return Err(TaskError::new(
                        ErrorClass::Connection,
                        format!("{what}: gave up after {MAX_REDIRECTS} redirects"),
                    ));
                }
            }
        };
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
