//! One error shape for every response: `{"error": {"code", "message", "details"}}`.
//!
//! Every failure of a handler, an extractor or the router itself (unknown route, wrong
//! method, malformed or oversized body) becomes an [`ApiError`]. Error responses made
//! elsewhere get the shape too: `shape` rewrites any 4xx or 5xx response that is not
//! JSON (the docs' own 404, say), and `wire` rewrites the bare answers hyper writes
//! without calling the application (a request head it cannot read: 400, 414, 431). Its `code` is stable and
//! comes with a fixed HTTP status from one table ([`Code`]). For server errors (5xx) the
//! client gets a generic message; the detail goes to the log. The use cases' errors
//! (`harmonia_app::Error`) become API errors in one `From` impl: that is the table of
//! which failure is which code.
//!
//! | code | status | when |
//! |---|---|---|
//! | `invalid_request` | 400 | a malformed body, query or parameter; a retry `from` naming no task |
//! | `unauthorized` | 401 | no token, or one that does not exist (any more) |
//! | `invalid_signature` | 401 | a webhook request whose signature is missing, wrong or stale |
//! | `forbidden` | 403 | a token whose role is too low |
//! | `forbidden_origin` | 403 | a web page of another origin (`Origin`, `Sec-Fetch-Site`) |
//! | `forbidden_host` | 403 | auth off, and a `Host` that is not a loopback name |
//! | `not_found` | 404 | no such route or resource |
//! | `method_not_allowed` | 405 | no such method on the route |
//! | `conflict` | 409 | the operation does not apply to the resource as it is |
//! | `lease_lost` | 409 | a worker's call for a lease it no longer holds (`details.reason`) |
//! | `not_started` | 409 | a task's inputs asked before it started (`details.upstream`: the task upstream without an output yet) |
//! | `payload_too_large` | 413 | a body over `--max-body-bytes` |
//! | `uri_too_long` | 414 | a request target over 65,534 bytes (hyper's limit) |
//! | `unsupported_media_type` | 415 | a body that is not JSON or YAML by its content type |
//! | `headers_too_large` | 431 | a request head over hyper's buffer, or over 100 headers |
//! | `invalid_definition`, `invalid_inputs`, `invalid_params` | 422 | every problem in `details` |
//! | `evaluation_failed` | 422 | an expression evaluated for the request failed (its error in the message) |
//! | `internal` | 500 | anything that failed on the server (logged, not sent) |
//! | `bad_gateway` | 502 | a service called for the request (a component) failed |
//! | `unavailable` | 503 | storage unreachable, starting, or stopping |

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The stable error codes, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The request is malformed (bad JSON, a bad parameter).
    InvalidRequest,
    /// A definition does not validate; `details` lists every problem.
    InvalidDefinition,
    /// Inputs do not validate; `details` lists every violation.
    InvalidInputs,
    /// Template parameters do not validate; `details` lists every violation.
    InvalidParams,
    /// No credentials, or credentials that are not valid.
    Unauthorized,
    /// A webhook request whose signature does not verify.
    InvalidSignature,
    /// Valid credentials without the role this needs.
    Forbidden,
    /// A request from a web page of another origin (`Origin`, or `Sec-Fetch-Site:
    /// cross-site`) that `--cors-origin` does not allow.
    ForbiddenOrigin,
    /// While the API is open on loopback, a request for a `Host` that is not a loopback
    /// name (a page that rebound its own name to this machine).
    ForbiddenHost,
    /// No such resource.
    NotFound,
    /// No such method on this route.
    MethodNotAllowed,
    /// The operation does not apply to the resource as it is.
    Conflict,
    /// A signal (an approval) for a task that does not wait for one.
    NotWaiting,
    /// A worker's call for a lease it no longer holds.
    LeaseLost,
    /// A task's inputs asked before the task started.
    NotStarted,
    /// An expression evaluated for the request failed.
    EvaluationFailed,
    /// A service called for the request failed or could not be reached.
    BadGateway,
    /// An `Idempotency-Key` used again for another request.
    IdempotencyKeyReused,
    /// A body that is not a CloudEvent; `details` lists every problem.
    InvalidEvent,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// The body's content type is not one this route reads (or it has none).
    UnsupportedMediaType,
    /// The request's URI is longer than the server reads.
    UriTooLong,
    /// The request's headers are larger than the server reads.
    HeadersTooLarge,
    /// Something failed on the server.
    Internal,
    /// The server is not ready (storage unreachable, or starting).
    Unavailable,
    /// An assist feature needs a language model and none is configured.
    LlmNotConfigured,
}

impl Code {
    /// The code's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidRequest => "invalid_request",
            Code::InvalidDefinition => "invalid_definition",
            Code::InvalidInputs => "invalid_inputs",
            Code::InvalidParams => "invalid_params",
            Code::Unauthorized => "unauthorized",
            Code::InvalidSignature => "invalid_signature",
            Code::Forbidden => "forbidden",
            Code::ForbiddenOrigin => "forbidden_origin",
            Code::ForbiddenHost => "forbidden_host",
            Code::NotFound => "not_found",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::Conflict => "conflict",
            Code::NotWaiting => "not_waiting",
            Code::LeaseLost => "lease_lost",
            Code::NotStarted => "not_started",
            Code::EvaluationFailed => "evaluation_failed",
            Code::BadGateway => "bad_gateway",
            Code::IdempotencyKeyReused => "idempotency_key_reused",
            Code::InvalidEvent => "invalid_event",
            Code::PayloadTooLarge => "payload_too_large",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::UriTooLong => "uri_too_long",
            Code::HeadersTooLarge => "headers_too_large",
            Code::Internal => "internal",
            Code::Unavailable => "unavailable",
            Code::LlmNotConfigured => "llm_not_configured",
        }
    }

    /// The HTTP status of the code.
    pub fn status(self) -> StatusCode {
        match self {
            Code::InvalidRequest => StatusCode::BAD_REQUEST,
            Code::InvalidDefinition
            | Code::InvalidInputs
            | Code::InvalidParams
            | Code::IdempotencyKeyReused
            | Code::InvalidEvent
            | Code::EvaluationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            Code::Unauthorized | Code::InvalidSignature => StatusCode::UNAUTHORIZED,
            Code::Forbidden | Code::ForbiddenOrigin | Code::ForbiddenHost => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::Conflict | Code::NotWaiting | Code::LeaseLost | Code::NotStarted => {
                StatusCode::CONFLICT
            }
            Code::BadGateway => StatusCode::BAD_GATEWAY,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UriTooLong => StatusCode::URI_TOO_LONG,
            Code::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Unavailable | Code::LlmNotConfigured => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// An API error.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Its code (and status).
    pub code: Code,
    /// What happened, for people.
    pub message: String,
    /// Structured detail (diagnostics, violations), or null.
    pub details: Value,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorInfo,
}

/// An error.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "not_found", "message": "no workflow `etl`", "details": null}))]
pub struct ErrorInfo {
    /// A stable code: invalid_request, invalid_definition, invalid_inputs,
    /// invalid_params, invalid_event, unauthorized, invalid_signature, forbidden,
    /// forbidden_origin, forbidden_host, not_found, not_waiting, method_not_allowed,
    /// conflict, lease_lost, not_started, idempotency_key_reused, evaluation_failed,
    /// bad_gateway, payload_too_large, unsupported_media_type,
    /// uri_too_long, headers_too_large, internal, unavailable.
    pub code: String,
    /// What happened.
    pub message: String,
    /// Structured detail (such as every diagnostic of an invalid definition), or null.
    pub details: Value,
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    /// This error with details.
    #[must_use]
    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = details;
        self
    }

    /// A `not_found` error.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::NotFound, message)
    }

    /// An `invalid_request` error.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::InvalidRequest, message)
    }

    /// An `internal` error: `detail` is logged, not sent.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(Code::Internal, "internal server error")
    }

    /// The error for a `status` that something other than a handler answered without
    /// the API's shape (hyper itself, a library's route): the code of that status and
    /// what it means. `path` is the request's, when known.
    pub(crate) fn for_status(status: StatusCode, path: Option<&str>) -> ApiError {
        let (code, message) = match status.as_u16() {
            400 => (
                Code::InvalidRequest,
                "the request is not valid HTTP".to_string(),
            ),
            401 => (Code::Unauthorized, "unauthorized".to_string()),
            403 => (Code::Forbidden, "forbidden".to_string()),
            404 => (
                Code::NotFound,
                match path {
                    Some(path) => format!("nothing at {path}"),
                    None => "not found".to_string(),
                },
            ),
            405 => (Code::MethodNotAllowed, "method not allowed".to_string()),
            409 => (Code::Conflict, "conflict".to_string()),
            413 => (
                Code::PayloadTooLarge,
                "the request body is larger than the server accepts".to_string(),
            ),
            414 => (
                Code::UriTooLong,
                "the request's URI is longer than the server reads (65,534 bytes)".to_string(),
            ),
            415 => (
                Code::UnsupportedMediaType,
                "unsupported content type".to_string(),
            ),
            431 => (
                Code::HeadersTooLarge,
                "the request's headers are larger than the server reads (100 headers, about \
                 400 KiB)"
                    .to_string(),
            ),
            503 => (Code::Unavailable, "the server is unavailable".to_string()),
            _ if status.is_server_error() => (Code::Internal, "internal server error".to_string()),
            _ => (
                Code::InvalidRequest,
                status
                    .canonical_reason()
                    .unwrap_or("invalid request")
                    .to_ascii_lowercase(),
            ),
        };
        ApiError::new(code, message)
    }

    /// The JSON body of this error.
    pub(crate) fn body(self) -> ErrorBody {
        ErrorBody {
            error: ErrorInfo {
                code: self.code.as_str().to_string(),
                message: self.message,
                details: self.details,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.code.status(), axum::Json(self.body())).into_response()
    }
}

/// Gives the error shape to every error response (4xx, 5xx) that is not JSON: those
/// that something other than a handler made, such as the docs' own `404` (an empty
/// body) or `500` (a text body). Keeps the status and the other headers.
pub(crate) async fn shape(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let status = response.status();
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if status.is_server_error() {
        tracing::error!(status = %status, path = %path, "an error response without the API's shape");
    }
    let body = ApiError::for_status(status, Some(&path)).body();
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn details(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The one table from the use cases' errors to the API's: code, message, details.
/// Where a message names a route or a query parameter, it is added here.
impl From<harmonia_app::Error> for ApiError {
    fn from(e: harmonia_app::Error) -> ApiError {
        use harmonia_app::Error as E;
        match e {
            E::NotFound(m) => ApiError::not_found(m),
            E::Exists { kind, name } => ApiError::new(
                Code::Conflict,
                format!("{kind} `{name}` already exists; PUT /api/{kind}s/{name} adds a version"),
            ),
            E::Running {
                workflow,
                executions,
            } => {
                let n = executions.len();
                let ids: Vec<String> = executions.iter().map(ToString::to_string).collect();
                ApiError::new(
                    Code::Conflict,
                    format!(
                        "workflow `{workflow}` has {n} unfinished execution{}; cancel them, or delete with ?force=true (they then run on to their end)",
                        plural(n)
                    ),
                )
                .with_details(serde_json::json!({"executions": ids}))
            }
            E::Conflict(m) | E::Unrunnable(m) => ApiError::new(Code::Conflict, m),
            E::NotWaiting(m) => ApiError::new(Code::NotWaiting, m),
            E::NotStarted { message, upstream } => ApiError::new(Code::NotStarted, message)
                .with_details(serde_json::json!({"upstream": upstream})),
            E::Evaluation(m) => ApiError::new(Code::EvaluationFailed, m),
            e @ E::KeyReused(_) => ApiError::new(Code::IdempotencyKeyReused, e.to_string()),
            ref e @ E::InvalidEvent(ref problems) => {
                ApiError::new(Code::InvalidEvent, e.to_string()).with_details(details(problems))
            }
            E::Refused { message, details } => {
                let e = ApiError::new(Code::InvalidInputs, message);
                if details.is_null() {
                    e
                } else {
                    e.with_details(details)
                }
            }
            E::Forbidden(m) => ApiError::new(Code::Forbidden, m),
            E::BadSignature(m) => ApiError::new(Code::InvalidSignature, m),
            ref e @ E::InvalidDefinition {
                ref name,
                ref diagnostics,
            } => {
                let n = e.error_count();
                ApiError::new(
                    Code::InvalidDefinition,
                    format!("the definition has {n} problem{} ({name})", plural(n)),
                )
                .with_details(details(diagnostics))
            }
            E::InvalidName(m) => ApiError::new(Code::InvalidDefinition, m),
            E::Reserved(name) => ApiError::new(
                Code::InvalidDefinition,
                format!(
                    "`{name}` cannot name a template: /api/templates/{name} is a route; choose another name"
                ),
            ),
            E::InvalidInputs(v) => ApiError::new(
                Code::InvalidInputs,
                format!(
                    "the inputs do not match the workflow's schema ({} problem{})",
                    v.len(),
                    plural(v.len())
                ),
            )
            .with_details(details(&v)),
            ref e @ E::InvalidParams { ref violations, .. } => {
                ApiError::new(Code::InvalidParams, e.to_string()).with_details(details(violations))
            }
            E::InvalidRequest(m) => ApiError::bad_request(m),
            ref e @ E::UnknownTask {
                ref task,
                ref tasks,
                ..
            } => ApiError::bad_request(e.to_string())
                .with_details(serde_json::json!({"task": task, "tasks": tasks})),
            E::Unavailable => ApiError::new(Code::Unavailable, "the engine is stopping"),
            E::Busy(m) => ApiError::new(Code::Unavailable, m),
            E::NoModel(m) => ApiError::new(Code::LlmNotConfigured, m),
            E::Upstream(m) => ApiError::new(Code::BadGateway, m),
            E::LeaseLost { reason, message } => ApiError::new(Code::LeaseLost, message)
                .with_details(serde_json::json!({"reason": reason})),
            E::Storage(harmonia_storage::Error::Conflict(m)) => ApiError::new(Code::Conflict, m),
            e @ (E::Storage(_) | E::Engine(_) | E::Internal(_)) => ApiError::internal(e),
        }
    }
}

impl From<harmonia_storage::Error> for ApiError {
    fn from(e: harmonia_storage::Error) -> ApiError {
        harmonia_app::Error::from(e).into()
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_fixed_statuses() {
        assert_eq!(
            Code::InvalidInputs.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(Code::Conflict.status(), StatusCode::CONFLICT);
        assert_eq!(Code::PayloadTooLarge.as_str(), "payload_too_large");
    }

    #[test]
    fn internal_errors_hide_their_detail() {
        let e = ApiError::internal("database file is corrupt at page 7");
        assert_eq!(e.message, "internal server error");
        assert_eq!(e.code.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
