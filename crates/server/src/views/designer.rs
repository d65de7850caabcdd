//! Views of what a workflow designer needs: the task types a definition may use
//! (`/api/task-types`), and a definition checked without storing it
//! (`POST /api/workflows/validate`).

use harmonia_app::task_types::TaskTypeInfo;
use harmonia_model::Diagnostic;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A task type: what `type:` may name, what its `with:` takes and what it outputs.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "name": "wait_event",
    "description": "Waits for an event of `type` (posted to /api/events) for which `filter` holds; the output is the event.",
    "params": {"type": "object", "additionalProperties": false, "required": ["type"], "properties": {"type": {"type": "string", "minLength": 1, "description": "The event's `type`."}, "filter": {"description": "An expression over `$event`."}, "timeout": {"type": "string"}}},
    "output": {"type": "object", "description": "The event (CloudEvents 1.0 JSON).", "properties": {"id": {"type": "string"}, "type": {"type": "string"}, "data": {}}},
    "deferred": [{"key": "filter", "vars": ["$event"]}],
    "unavailable": null
}))]
pub struct TaskTypeView {
    /// The name used in `type:`.
    pub name: String,
    /// What it does, in a sentence.
    pub description: String,
    /// The JSON Schema of its `with:` (a value that is a `${ }` expression is checked
    /// only when it runs). Some types check more than a schema can say (a jq program
    /// that must compile, one of two keys): validation reports those too.
    #[schema(value_type = Object)]
    pub params: Value,
    /// The JSON Schema of its output, with descriptions; null when undocumented.
    #[schema(value_type = Option<Object>)]
    pub output: Value,
    /// The keys of `with:` evaluated later than the others (when the task asks),
    /// with the variables they may read besides a task's usual ones.
    pub deferred: Vec<DeferredView>,
    /// Why this server cannot run tasks of this type, when it cannot (`shell` unless
    /// the server allows it): definitions using it validate and are stored, and are
    /// refused when started (`409`). Null when it can.
    pub unavailable: Option<String>,
}

/// A key of `with:` evaluated later than the others.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"key": "filter", "vars": ["$event"]}))]
pub struct DeferredView {
    /// The key inside `with:`.
    pub key: String,
    /// The variables it may read besides a task's usual ones (`$event`).
    pub vars: Vec<String>,
}

impl TaskTypeView {
    /// The view of a task type.
    pub fn from_info(info: &TaskTypeInfo) -> TaskTypeView {
        let ty = &info.task_type;
        TaskTypeView {
            name: ty.name().to_string(),
            description: ty.description().to_string(),
            params: ty.schema().clone(),
            output: ty.output().clone(),
            deferred: ty
                .deferred()
                .iter()
                .map(|d| DeferredView {
                    key: d.key.clone(),
                    vars: d.vars.iter().map(|v| v.name().to_string()).collect(),
                })
                .collect(),
            unavailable: info.unavailable.clone(),
        }
    }
}

/// Every task type, in the order of the registry validation uses.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"types": [
    {"name": "set", "description": "Outputs its evaluated `with:` value as it is.", "params": {}, "output": {"description": "The evaluated `with:`."}, "deferred": [], "unavailable": null},
    {"name": "http", "description": "Makes an HTTP request; the output is `{status, headers, body}` (body parsed when JSON).", "params": {"type": "object", "additionalProperties": false, "required": ["url"], "properties": {"url": {"type": "string"}, "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], "default": "GET"}}}, "output": {"type": "object", "properties": {"status": {"type": "integer"}, "headers": {"type": "object"}, "body": {}}}, "deferred": [], "unavailable": null},
    {"name": "shell", "description": "Runs a process (`argv`) or a `script` with `sh -c`; the output is `{exit_code, stdout, stderr, json}`.", "params": {"type": "object", "additionalProperties": false, "properties": {"argv": {"type": "array", "minItems": 1, "items": {"type": "string"}}, "script": {"type": "string", "minLength": 1}}}, "output": {"type": "object"}, "deferred": [], "unavailable": "shell tasks are disabled: enable them with `--allow-shell`, `HARMONIA_ALLOW_SHELL=true`, or `allow_shell = true` in the config file"}
]}))]
pub struct TaskTypeList {
    /// The types.
    pub types: Vec<TaskTypeView>,
}

impl TaskTypeList {
    /// The view of the task types.
    pub fn from_infos(infos: &[TaskTypeInfo]) -> TaskTypeList {
        TaskTypeList {
            types: infos.iter().map(TaskTypeView::from_info).collect(),
        }
    }
}

/// A problem found in a definition, with where it is in the text that was sent: the
/// same fields as the `details` of a `422 invalid_definition`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"severity": "error", "path": "tasks.fetch.with", "task": "fetch", "message": "missing required parameter `url` for a `http` task", "line": 3, "column": 10}))]
pub struct DiagnosticView {
    /// `error` (the definition cannot be used) or `warning` (it works, but probably
    /// not as meant).
    pub severity: String,
    /// The field, such as `tasks.fetch.with.url` (empty for the whole document).
    pub path: String,
    /// The task it is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// What is wrong, and what would fix it when that is known.
    pub message: String,
    /// The line in the text that was sent, from 1.
    pub line: usize,
    /// The column, in characters, from 1.
    pub column: usize,
}

impl DiagnosticView {
    /// The view of a diagnostic.
    pub fn from_diagnostic(d: &Diagnostic) -> DiagnosticView {
        DiagnosticView {
            severity: d.severity.to_string(),
            path: d.path.clone(),
            task: d.task.clone(),
            message: d.message.clone(),
            line: d.position.line,
            column: d.position.column,
        }
    }
}

/// A definition checked without storing it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "valid": true,
    "diagnostics": [],
    "graph": {"name": "hello", "nodes": [{"id": "greet", "type": "set", "description": null, "needs": [], "if": null, "for_each": null, "concurrency": null, "join": "all", "on_error": "fail"}], "edges": [], "order": ["greet"]}
}))]
pub struct Validation {
    /// Whether it has no error (warnings do not make it invalid): `POST
    /// /api/workflows` would store it.
    pub valid: bool,
    /// Every problem (errors and warnings) in source order; for a valid definition,
    /// its warnings (those creating it would answer).
    pub diagnostics: Vec<DiagnosticView>,
    /// Its task graph, as `GET /api/workflows/{id}/graph?format=json` draws a stored
    /// one: only when it is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub graph: Option<Value>,
}

impl Validation {
    /// A valid definition: its warnings and its graph (JSON).
    pub fn valid(warnings: &[Diagnostic], graph: Value) -> Validation {
        Validation {
            valid: true,
            diagnostics: warnings
                .iter()
                .map(DiagnosticView::from_diagnostic)
                .collect(),
            graph: Some(graph),
        }
    }

    /// An invalid definition: every problem.
    pub fn invalid(diagnostics: &[Diagnostic]) -> Validation {
        Validation {
            valid: false,
            diagnostics: diagnostics
                .iter()
                .map(DiagnosticView::from_diagnostic)
                .collect(),
            graph: None,
        }
    }
}
