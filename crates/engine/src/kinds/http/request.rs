//! The parameters of `http`, checked and turned into a [`Request`]: method, URL (with
//! `query` appended), headers, `auth`, body (`json` or `body`) and `expect_status`, and
//! which statuses count as success.
//!
//! Invariants: a wrong parameter is a `validation` error naming it (a wrong value is
//! described by its type, not quoted: it may be a credential); unknown parameters are
//! refused; `auth` and an `Authorization` header, or `json` and `body`, are not both
//! set; a `Content-Type` header overrides the one `json` or `body` implies; every
//! credential seen (URL password, `auth`, sensitive headers) of at least
//! `MIN_SCRUBBED_LEN` characters is kept in `secrets`, to be scrubbed from the attempt's
//! error ([`Request::scrub`]). Neither type has `Debug`: both hold credentials.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use super::redact::{
    MIN_SCRUBBED_LEN, is_sensitive_header, percent_decode, scrub_text, scrub_value, shown_url,
};
use crate::event::TaskError;
use crate::kinds::params::{describe, invalid, scalar_text};

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

/// `auth`, checked. No `Debug`: it holds credentials.
pub(super) enum Auth {
    Basic { username: String, password: String },
    Bearer(String),
}

/// The parameters, checked and turned into a request. No `Debug`: it holds credentials.
pub(super) struct Request {
    pub(super) method: Method,
    pub(super) url: Url,
    /// The URL as messages show it: no credentials, no query.
    pub(super) shown: String,
    pub(super) headers: HeaderMap,
    pub(super) auth: Option<Auth>,
    pub(super) body: Option<Vec<u8>>,
    pub(super) expect_status: Option<Vec<u16>>,
    /// Values that must not appear in messages.
    secrets: Vec<String>,
}

impl Request {
    /// Checks the parameters (each wrong one is a `validation` error naming it) and builds
    /// the request, collecting the credentials to scrub.
    pub(super) fn parse(params: &Value) -> Result<Request, TaskError> {
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
    pub(super) fn accepts(&self, status: StatusCode) -> bool {
        match &self.expect_status {
            Some(list) => list.contains(&status.as_u16()),
            None => status.is_success() || status.is_redirection(),
        }
    }

    /// The error, with every credential replaced by `***`.
    pub(super) fn scrub(&self, mut e: TaskError) -> TaskError {
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

/// `auth`: exactly one of `basic: {username, password}` and `bearer: token`.
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
