//! `component`: a call of a Tekton component, by name, through its MCP-style API or its
//! original adapter.
//!
//! Parameters (exactly one of `tool` and `action`):
//! - `component` (required): the component's name, found in the engine's [`Directory`];
//! - `tool` and `arguments` (an object, default `{}`): `POST {endpoint}{mcp_prefix}/process`
//!   with `{tool_name, arguments, context}`; the answer `{status, result, error}` gives
//!   `result` when `status` is `success`, and an error with the `error` text otherwise;
//! - `action` and `params` (an object, default `{}`): the original adapter's
//!   `POST {endpoint}/api/actions/{action}` with `{action, params, context}`; the output
//!   is the answer's `result` (the whole answer when it has none), unless it says
//!   `status: error` or `success: false`.
//!
//! `context` is `{execution_id, workflow, task, attempt}` (and `item` in a fan-out), so
//! that the component can tell a retry from a new call.
//!
//! Errors, by class: an unknown component is `validation` (the same call would fail the
//! same way, until the directory learns it); a refused or broken connection
//! `connection`; the attempt's `timeout` `timeout`; HTTP 429 `http_429` (with its
//! `Retry-After`); anything else the component answered that is not a success
//! (`status: error`, another status, a non-2xx, a body that is not JSON) is
//! `component_error`, with the component's own text in the message and `details`
//! (`{component, tool | action, status?, error?}`), retried by default like other
//! failures of work outside.
//!
//! Invariants: the component's token goes only in the `Authorization` header of calls to
//! that component, never in a message; an answer larger than `max_response_bytes` is an
//! error, not a truncated result; cancelling the call drops the request at once.

mod directory;

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use harmonia_model::ErrorClass;
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::{Value, json};

use super::call::Call;
use super::http::{read_body, retry_after_ms, transport_error};
use super::kind::{Description, Run, Spawned, TaskKind};
use super::params::invalid;
use crate::event::TaskError;

pub use directory::{Directory, Endpoint, NoComponents, unknown};

/// The most of a component's error text kept in a message, in characters.
const MESSAGE_CHARS: usize = 500;

/// The `component` kind.
#[derive(Debug)]
pub struct Component {
    directory: Arc<dyn Directory>,
    /// Built at the first call: a program that only validates never needs it.
    client: std::sync::OnceLock<Result<reqwest::Client, String>>,
    max_response_bytes: usize,
}

impl Component {
    /// A kind finding components in `directory`, refusing answers larger than
    /// `max_response_bytes`.
    pub fn new(directory: Arc<dyn Directory>, max_response_bytes: usize) -> Component {
        Component {
            directory,
            client: std::sync::OnceLock::new(),
            max_response_bytes,
        }
    }
}

impl TaskKind for Component {
    fn name(&self) -> &'static str {
        "component"
    }

    fn describe(&self) -> Description {
        let object = json!({"type": "object"});
        Description {
            summary: "Calls a Tekton component's tool (MCP-style `process`) or its adapter's action.",
            params: json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["component"],
                "properties": {
                    "component": {"type": "string", "minLength": 1, "description": "The component's name."},
                    "tool": {"type": "string", "minLength": 1, "description": "The tool to call through `{mcp_prefix}/process`."},
                    "arguments": {"description": "The tool's arguments (an object).", "allOf": [object]},
                    "action": {"type": "string", "minLength": 1, "description": "The adapter action to call through `/api/actions/{action}`."},
                    "params": {"description": "The action's parameters (an object).", "allOf": [object]}
                },
                "oneOf": [
                    {"required": ["tool"], "not": {"anyOf": [{"required": ["action"]}, {"required": ["params"]}]}},
                    {"required": ["action"], "not": {"anyOf": [{"required": ["tool"]}, {"required": ["arguments"]}]}}
                ]
            }),
            output: json!({"description": "The tool's `result`, or the action's answer."}),
            check: None,
            deferred: Vec::new(),
        }
    }

    fn run(&self) -> Run<'_> {
        Run::Spawned(self)
    }
}

/// What a task asks of its component.
enum Ask<'a> {
    Tool { name: &'a str, arguments: Value },
    Action { name: &'a str, params: Value },
}

impl Ask<'_> {
    fn label(&self) -> String {
        match self {
            Ask::Tool { name, .. } => format!("tool `{}`", harmonia_expr::clip(name)),
            Ask::Action { name, .. } => format!("action `{}`", harmonia_expr::clip(name)),
        }
    }
}

fn object_or_empty(v: Option<&Value>, key: &str) -> Result<Value, TaskError> {
    match v {
        None | Some(Value::Null) => Ok(json!({})),
        Some(o @ Value::Object(_)) => Ok(o.clone()),
        Some(_) => Err(invalid(format!("`{key}` must be an object"))),
    }
}

fn parse(params: &Value) -> Result<(&str, Ask<'_>), TaskError> {
    let component = params
        .get("component")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| invalid("`component` must be a component's name"))?;
    let tool = params.get("tool").and_then(Value::as_str);
    let action = params.get("action").and_then(Value::as_str);
    let ask = match (tool, action) {
        (Some(name), None) => Ask::Tool {
            name,
            arguments: object_or_empty(params.get("arguments"), "arguments")?,
        },
        (None, Some(name)) => Ask::Action {
            name,
            params: object_or_empty(params.get("params"), "params")?,
        },
        _ => return Err(invalid("give exactly one of `tool` and `action`")),
    };
    Ok((component, ask))
}

#[async_trait]
impl Spawned for Component {
    async fn execute(&self, call: Call) -> Result<Value, TaskError> {
        let client = self
            .client
            .get_or_init(super::http_client)
            .as_ref()
            .map_err(|e| TaskError::new(ErrorClass::Validation, e.clone()))?;
        let (name, ask) = parse(&call.params)?;
        let what = format!("component `{}` {}", harmonia_expr::clip(name), ask.label());
        call.bounded(
            &what,
            "no answer",
            self.perform(client, name, &ask, &what, &call),
        )
        .await
    }
}

impl Component {
    async fn perform(
        &self,
        client: &reqwest::Client,
        name: &str,
        ask: &Ask<'_>,
        what: &str,
        call: &Call,
    ) -> Result<Value, TaskError> {
        let endpoint = self
            .directory
            .find(name)
            .await
            .map_err(|m| TaskError::new(ErrorClass::Validation, m))?;
        let mut context = json!({
            "execution_id": call.meta.execution.to_string(),
            "workflow": call.meta.workflow,
            "task": call.meta.task,
            "attempt": call.meta.attempt,
        });
        if let Some(item) = call.meta.item {
            context["item"] = json!(item);
        }
        let (url, body) = match ask {
            Ask::Tool { name, arguments } => (
                endpoint.mcp_url("process"),
                json!({"tool_name": name, "arguments": arguments, "context": context}),
            ),
            Ask::Action { name, params } => (
                endpoint.action_url(name),
                json!({"action": name, "params": params, "context": context}),
            ),
        };
        let mut rb = client.post(&url).json(&body);
        if let Some(token) = &endpoint.token {
            rb = rb.bearer_auth(token);
        }
        let mut resp = rb.send().await.map_err(|e| {
            if e.is_connect() {
                self.directory.unreachable(name);
            }
            transport_error(what, e)
        })?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after_ms(v, SystemTime::now()));
        let (bytes, truncated) = read_body(&mut resp, self.max_response_bytes)
            .await
            .map_err(|e| transport_error(what, e))?;
        if truncated && status.is_success() {
            return Err(TaskError::new(
                ErrorClass::Validation,
                format!(
                    "{what}: the answer is larger than {} bytes",
                    self.max_response_bytes
                ),
            ));
        }
        let answer: Option<Value> = serde_json::from_slice(&bytes).ok();
        let detail = |error: Option<&Value>| {
            let mut d = json!({"component": name});
            match ask {
                Ask::Tool { name, .. } => d["tool"] = json!(name),
                Ask::Action { name, .. } => d["action"] = json!(name),
            }
            d["status"] = json!(status.as_u16());
            if let Some(e) = error {
                d["error"] = e.clone();
            }
            d
        };
        if status == StatusCode::TOO_MANY_REQUESTS {
            let mut e = TaskError::new(
                ErrorClass::Http429,
                format!("{what}: the component is busy (HTTP 429)"),
            )
            .with_status(429)
            .with_details(detail(None));
            e.retry_after_ms = retry_after;
            return Err(e);
        }
        let Some(answer) = answer else {
            let text = String::from_utf8_lossy(&bytes);
            return Err(TaskError::new(
                ErrorClass::ComponentError,
                format!(
                    "{what}: answered HTTP {} with a body that is not JSON: {}",
                    status.as_u16(),
                    excerpt(&text)
                ),
            )
            .with_status(status.as_u16())
            .with_details(detail(None)));
        };
        let error_of = |a: &Value| -> Option<Value> {
            a.get("error")
                .or_else(|| a.get("message"))
                .filter(|e| !e.is_null())
                .cloned()
        };
        if !status.is_success() {
            let error = error_of(&answer);
            return Err(TaskError::new(
                ErrorClass::ComponentError,
                format!(
                    "{what}: answered HTTP {}: {}",
                    status.as_u16(),
                    error
                        .as_ref()
                        .map_or_else(|| excerpt(&answer.to_string()), text_of)
                ),
            )
            .with_status(status.as_u16())
            .with_details(detail(error.as_ref())));
        }
        let said = answer.get("status").and_then(Value::as_str);
        let failed = matches!(said, Some(s) if !s.eq_ignore_ascii_case("success") && !s.eq_ignore_ascii_case("ok"))
            || answer.get("success").and_then(Value::as_bool) == Some(false);
        match ask {
            Ask::Tool { .. } if said.is_some_and(|s| s.eq_ignore_ascii_case("success")) => {
                Ok(answer.get("result").cloned().unwrap_or(Value::Null))
            }
            Ask::Action { .. } if !failed => Ok(match answer.get("result") {
                Some(r) => r.clone(),
                None => answer,
            }),
            _ => {
                let error = error_of(&answer);
                let text = match (&error, said) {
                    (Some(e), _) => text_of(e),
                    (None, Some(s)) => format!("status `{}`", harmonia_expr::clip(s)),
                    (None, None) => "an answer without `status: success`".to_string(),
                };
                Err(
                    TaskError::new(ErrorClass::ComponentError, format!("{what} failed: {text}"))
                        .with_details(detail(error.as_ref())),
                )
            }
        }
    }
}

/// An error value as text: a string as it is, anything else as JSON; bounded.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => excerpt(s),
        other => excerpt(&other.to_string()),
    }
}

fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(MESSAGE_CHARS).collect();
    if text.chars().count() > MESSAGE_CHARS {
        out.push('…');
    }
    out
}
