//! Request bodies, read so that every failure has the API's error shape.
//!
//! - [`Body<T>`]: a JSON or YAML body (by `Content-Type`), decoded into `T`; an empty
//!   body or `null` decodes as `{}` when `T` allows it. Malformed bodies are `400
//!   invalid_request` with the position; bodies over the limit `413`.
//! - [`DefinitionBody`]: the text of a workflow or template definition and its format,
//!   for the model's reader, which reports every problem with its line and column.
//! - [`CloudEventRequest`]: a CloudEvent in either HTTP mode (see its doc).
//! - [`Query<T>`]: query parameters, malformed ones `400 invalid_request`; and
//!   [`execution_id`], an execution id in a path (one that is not an id is `404`).
//!
//! Content types read: `application/json` and any `...+json` as JSON;
//! `application/yaml`, `application/x-yaml`, `text/yaml` and `text/x-yaml` as YAML. Any
//! other, and a non-empty body without one, is `415 unsupported_media_type`: in
//! particular `text/plain`, `application/x-www-form-urlencoded` and
//! `multipart/form-data`, which a web page of any site can send without the browser
//! asking the server first (no CORS preflight). An empty body needs no content type.
//! The one exception is a CloudEvent in binary mode, whose body may have any type: it
//! comes with `ce-*` headers, which no page can send without that preflight.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use harmonia_model::{Format, Source};
use harmonia_storage::ExecutionId;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Code};

/// The format a request's `Content-Type` names: `None` when it has none, `415` when it
/// names one this server does not read.
fn format_of(req: &Request) -> Result<Option<Format>, ApiError> {
    let Some(value) = req.headers().get(CONTENT_TYPE) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().to_ascii_lowercase();
    let mime = text.split(';').next().unwrap_or_default().trim();
    match mime {
        "application/json" => Ok(Some(Format::Json)),
        m if m.ends_with("+json") => Ok(Some(Format::Json)),
        "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" => {
            Ok(Some(Format::Yaml))
        }
        other => Err(ApiError::new(
            Code::UnsupportedMediaType,
            format!(
                "unsupported content type `{}`: send application/json or application/yaml",
                if other.is_empty() { text.trim() } else { other }
            ),
        )),
    }
}

/// The `415` for a non-empty body sent without a content type.
fn no_content_type() -> ApiError {
    ApiError::new(
        Code::UnsupportedMediaType,
        "the body has no content type: send `Content-Type: application/json` or \
         `Content-Type: application/yaml`",
    )
}

async fn bytes(req: Request) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, &()).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                Code::PayloadTooLarge,
                "the request body is larger than the server accepts",
            )
        } else {
            ApiError::bad_request(format!("cannot read the request body: {e}"))
        }
    })
}

fn utf8(bytes: &Bytes) -> Result<&str, ApiError> {
    std::str::from_utf8(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not UTF-8: {e}")))
}

/// A JSON or YAML request body decoded into `T`.
#[derive(Debug)]
pub(crate) struct Body<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let format = format_of(&req)?;
        let bytes = bytes(req).await?;
        let text = utf8(&bytes)?;
        let (text, format) = match format {
            _ if text.trim().is_empty() => ("{}", Format::Json),
            Some(format) => (text, format),
            None => return Err(no_content_type()),
        };
        // A JSON object is decoded straight into `T`: no intermediate value, which for
        // megabytes of inputs is many times their size.
        if format == Format::Json && text.trim_start().starts_with('{') {
            return serde_json::from_str(text).map(Body).map_err(|e| {
                let what = match e.classify() {
                    serde_json::error::Category::Data => "invalid request body",
                    _ => "invalid JSON body",
                };
                ApiError::bad_request(format!("{what}: {e}"))
            });
        }
        let mut value: serde_json::Value = match format {
            Format::Json => serde_json::from_str(text)
                .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?,
            Format::Yaml => harmonia_model::yaml::value(text)
                .map_err(|e| ApiError::bad_request(format!("invalid YAML body: {e}")))?,
        };
        // `null` (an empty YAML document, or JSON `null`) means "no options", like an
        // empty body.
        if value.is_null() {
            value = serde_json::Value::Object(serde_json::Map::new());
        }
        // Serde would read a struct from an array of its fields in order: the API's
        // bodies are objects, and only objects.
        if !value.is_object() {
            return Err(ApiError::bad_request(format!(
                "the body must be an object, found {}",
                harmonia_expr::kind_of(&value)
            )));
        }
        serde_json::from_value(value)
            .map(Body)
            .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
    }
}

/// The text of a definition and its format.
#[derive(Debug)]
pub(crate) struct DefinitionBody {
    /// The text.
    pub(crate) text: String,
    /// YAML or JSON.
    pub(crate) format: Format,
}

impl<S: Send + Sync> FromRequest<S> for DefinitionBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let format = format_of(&req)?;
        let bytes = bytes(req).await?;
        let text = utf8(&bytes)?.to_string();
        if text.trim().is_empty() {
            return Err(ApiError::bad_request(
                "the body is empty: send a workflow definition (YAML or JSON)",
            ));
        }
        let format = format.ok_or_else(no_content_type)?;
        Ok(DefinitionBody { text, format })
    }
}

impl DefinitionBody {
    /// The definition as the model reads it, named `request` in diagnostics.
    pub(crate) fn source(&self) -> Source {
        Source::new("request", self.text.clone(), self.format)
    }
}

/// Query parameters decoded into `T`; a malformed query is `400 invalid_request`.
#[derive(Debug)]
pub(crate) struct Query<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::bad_request(format!("invalid query: {}", e.body_text())))
    }
}

/// The execution id in a path; one that is not an id names no execution (`404`).
pub(crate) fn execution_id(id: &str) -> Result<ExecutionId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::not_found(format!("no execution `{id}`")))
}

/// A CloudEvent, as JSON in structured mode, from either HTTP mode: binary when the
/// request has a `ce-specversion` header (the attributes are `ce-*` headers and the
/// body, of any content type, is the data: see `harmonia_app::events::binary`),
/// structured otherwise (a JSON body, read as [`Body`] reads it). A binary-mode request
/// that cannot be read is `422 invalid_event`, each problem named by its attribute.
#[derive(Debug)]
pub(crate) struct CloudEventRequest(pub(crate) serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for CloudEventRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        use harmonia_app::events::binary;
        if !binary::is_binary(req.headers().keys().map(|k| k.as_str())) {
            let Body(value) = Body::<serde_json::Value>::from_request(req, state).await?;
            return Ok(CloudEventRequest(value));
        }
        let headers: Vec<(String, Vec<u8>)> = req
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect();
        let content_type = match req.headers().get(CONTENT_TYPE) {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| {
                        ApiError::bad_request("the `Content-Type` header is not ASCII text")
                    })?
                    .to_owned(),
            ),
        };
        let body = bytes(req).await?;
        binary::to_structured(
            headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
            content_type.as_deref(),
            &body,
        )
        .map(CloudEventRequest)
        .map_err(|problems| ApiError::from(harmonia_app::Error::InvalidEvent(problems)))
    }
}
