//! What the API sends and receives: request and response bodies, with their schemas.
//!
//! Built from the use cases' values (`harmonia_app`) and the store's records;
//! timestamps are RFC 3339 strings, ids are UUIDs. Each view says how it is made from
//! its value (`from_*`), so that handlers only call and render.

use std::collections::BTreeMap;

pub mod analytics;
pub mod approvals;
pub mod assist;
pub mod deliveries;
pub mod designer;
pub mod events;
pub mod inputs;
pub mod integration;
pub mod nodes;
pub mod templates;
pub mod triggers;

use harmonia_app::Page;
use harmonia_app::executions::{Execution, Retried, RetryMode};
use harmonia_app::workflows::{Detail, Saved};
use harmonia_model::Plan;
use harmonia_storage::{
    EventRecord, ExecutionId, ExecutionRecord, ExecutionStatus, Origin, TaskRunRecord,
    WorkflowRecord,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Links to related resources.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Links {
    /// This resource.
    #[serde(rename = "self")]
    pub this: String,
    /// Related resources by name.
    #[serde(flatten)]
    pub more: BTreeMap<String, String>,
}

/// A workflow (one version of it).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "01a20b95-3770-719e-8ae1-f9888c382918", "name": "city-report", "version": 2, "description": "Fetch readings", "created_at": "2026-11-24T10:00:00.000Z", "links": {"self": "/api/workflows/city-report", "execute": "/api/workflows/city-report/execute"}}))]
pub struct WorkflowSummary {
    /// The workflow's id (the same for all its versions).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Its name.
    pub name: String,
    /// This version.
    pub version: u32,
    /// Its description.
    pub description: Option<String>,
    /// When this version was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    /// Links.
    pub links: Links,
}

impl WorkflowSummary {
    /// The summary of a stored version.
    pub fn from_record(r: &WorkflowRecord) -> WorkflowSummary {
        let base = format!("/api/workflows/{}", r.name);
        WorkflowSummary {
            id: r.id.to_string(),
            name: r.name.clone(),
            version: r.version,
            description: r.description.clone(),
            created_at: r.created_at.to_string(),
            links: Links {
                this: base.clone(),
                more: BTreeMap::from([
                    ("execute".into(), format!("{base}/execute")),
                    ("versions".into(), format!("{base}/versions")),
                    ("graph".into(), format!("{base}/graph")),
                ]),
            },
        }
    }
}

/// A warning about a definition that was accepted: it works, but probably not as
/// meant (an input the `inputs` schema does not declare, a sub-workflow that is not
/// stored, ...). The same fields as the diagnostics of an invalid definition.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"severity": "warning", "path": "tasks.notify.with.workflow", "task": "notify", "message": "no workflow `alert` is stored yet: task `notify` fails when it runs unless `alert` is created first", "line": 12, "column": 22}))]
pub struct Warning {
    /// Always `warning`.
    pub severity: String,
    /// The field, such as `tasks.fetch.with.url` (empty for the whole document).
    pub path: String,
    /// The task it is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// What is probably wrong, and what would fix it when that is known.
    pub message: String,
    /// The line in the text that was sent (for a converted Tekton template: in the
    /// converted text), from 1.
    pub line: usize,
    /// The column, in characters, from 1.
    pub column: usize,
}

impl Warning {
    /// The warnings among `diagnostics`.
    pub fn all(diagnostics: &[harmonia_model::Diagnostic]) -> Vec<Warning> {
        diagnostics
            .iter()
            .filter(|d| d.severity == harmonia_model::Severity::Warning)
            .map(|d| Warning {
                severity: d.severity.to_string(),
                path: d.path.clone(),
                task: d.task.clone(),
                message: d.message.clone(),
                line: d.position.line,
                column: d.position.column,
            })
            .collect()
    }
}

/// A workflow version that was stored (or kept), with the warnings about its
/// definition.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowSaved {
    /// The version now current.
    #[serde(flatten)]
    pub summary: WorkflowSummary,
    /// What works but is probably not meant, each with its line and column; empty
    /// when there is nothing to say.
    pub warnings: Vec<Warning>,
}

impl WorkflowSaved {
    /// The view of a version stored (or kept).
    pub fn from_saved(saved: &Saved) -> WorkflowSaved {
        WorkflowSaved {
            summary: WorkflowSummary::from_record(&saved.record),
            warnings: Warning::all(&saved.warnings),
        }
    }
}

/// A workflow version with its definition.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowDetail {
    /// The summary.
    #[serde(flatten)]
    pub summary: WorkflowSummary,
    /// `yaml` or `json`: the format it was written in.
    pub format: String,
    /// The definition as written.
    pub source: String,
    /// The definition as JSON.
    pub definition: Value,
}

impl WorkflowDetail {
    /// The view of a version read.
    pub fn from_detail(d: Detail) -> WorkflowDetail {
        WorkflowDetail {
            summary: WorkflowSummary::from_record(&d.record),
            format: d.record.format,
            source: d.record.source,
            definition: d
                .definition
                .and_then(|w| serde_json::to_value(w).ok())
                .unwrap_or(Value::Null),
        }
    }
}

/// The structural difference between two versions of a workflow.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowDiff {
    /// The workflow.
    pub name: String,
    /// The older version.
    pub from: u32,
    /// The newer version.
    pub to: u32,
    /// Each change: a JSON pointer into the definition, `added`, `removed` or
    /// `changed`, and the values before and after.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<harmonia_model::template::Change>,
}

impl WorkflowDiff {
    /// The view of a diff.
    pub fn from_diff(d: harmonia_app::workflows::Diff) -> WorkflowDiff {
        WorkflowDiff {
            name: d.name,
            from: d.from,
            to: d.to,
            changes: d.changes,
        }
    }
}

/// A page of workflows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowList {
    /// The workflows, by name.
    pub workflows: Vec<WorkflowSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl WorkflowList {
    /// The view of a page.
    pub fn from_page(page: &Page<WorkflowRecord>) -> WorkflowList {
        WorkflowList {
            workflows: page
                .items
                .iter()
                .map(WorkflowSummary::from_record)
                .collect(),
            next_cursor: page.next_cursor.clone(),
        }
    }
}

/// A version of a workflow, in a list of versions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionInfo {
    /// The version.
    pub version: u32,
    /// When it was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    /// Its description.
    pub description: Option<String>,
}

/// The versions of a workflow.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionList {
    /// The workflow.
    pub name: String,
    /// Its versions, oldest first.
    pub versions: Vec<VersionInfo>,
}

impl VersionList {
    /// The versions of workflow `name`.
    pub fn new(name: String, versions: &[WorkflowRecord]) -> VersionList {
        VersionList {
            name,
            versions: versions
                .iter()
                .map(|v| VersionInfo {
                    version: v.version,
                    created_at: v.created_at.to_string(),
                    description: v.description.clone(),
                })
                .collect(),
        }
    }
}

/// A request to execute a workflow.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"inputs": {"cities": ["Oslo", "Rome"]}}))]
pub struct ExecuteRequest {
    /// The inputs, checked against the workflow's `inputs` schema.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub inputs: Map<String, Value>,
    /// The version to run (default: the latest).
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 1, maximum = 4294967295_u64)]
    pub version: Option<u32>,
}

/// An execution that was started.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Started {
    /// The new execution.
    #[schema(value_type = String, format = Uuid)]
    pub execution_id: String,
    /// Its status.
    pub status: String,
    /// The workflow.
    pub workflow: String,
    /// The version it runs.
    pub version: u32,
    /// Links: `self`, `events`, `websocket`.
    pub links: Links,
}

impl Started {
    /// The view of an execution started.
    pub fn from_started(s: &harmonia_app::executions::Started) -> Started {
        let id = s.execution.to_string();
        Started {
            links: execution_links(&id),
            execution_id: id,
            status: s.status.to_string(),
            workflow: s.workflow.clone(),
            version: s.version,
        }
    }
}

/// The link map of an execution.
pub fn execution_links(id: &str) -> Links {
    Links {
        this: format!("/api/executions/{id}"),
        more: BTreeMap::from([
            ("events".into(), format!("/api/executions/{id}/events")),
            ("websocket".into(), format!("/ws/executions/{id}")),
        ]),
    }
}

/// An execution, without its tasks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExecutionSummary {
    /// Its id.
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The workflow.
    pub workflow: String,
    /// The workflow's id.
    #[schema(value_type = String, format = Uuid)]
    pub workflow_id: String,
    /// The version it runs.
    pub version: u32,
    /// pending, running, paused, succeeded, failed or cancelled.
    pub status: String,
    /// When it was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    /// When it started.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<String>,
    /// When it ended.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<String>,
    /// The parent execution and task, for a sub-workflow.
    pub parent: Option<Value>,
    /// The execution it retries.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub retry_of: Option<String>,
    /// What started it; null for executions recorded before origins were.
    pub origin: Option<OriginView>,
    /// Why it failed.
    pub error: Option<Value>,
    /// Links.
    pub links: Links,
}

/// What started an execution, recorded when it started and never changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OriginView {
    /// `api` (`POST /api/workflows/{id}/execute`), `mcp` (the `execute_workflow`
    /// tool), `cli` (a local `harmonia run`), `schedule`, `webhook` or `event` (a
    /// trigger; a webhook delivery's replay too), `retry` (a retry from failure),
    /// `workflow` (a sub-workflow) or `template` (instantiating a template with
    /// `execute`).
    #[schema(example = "schedule")]
    pub kind: String,
    /// Who or what of that kind: the API token's name (`api`, `mcp`; null when the
    /// server needed no token), the trigger's id as `GET /api/triggers` shows it
    /// (`schedule`, `webhook`, `event`), the execution retried (`retry`), the parent
    /// execution (`workflow`), the template's name (`template`); null for `cli`.
    #[schema(example = "nightly.0")]
    pub by: Option<String>,
}

impl OriginView {
    /// The view of an origin.
    pub fn from_origin(o: &Origin) -> OriginView {
        OriginView {
            kind: o.kind.as_str().to_owned(),
            by: o.by.clone(),
        }
    }
}

impl ExecutionSummary {
    /// The summary of a record.
    pub fn from_record(x: &ExecutionRecord) -> ExecutionSummary {
        let id = x.id.to_string();
        ExecutionSummary {
            links: execution_links(&id),
            id,
            workflow: x.workflow.clone(),
            workflow_id: x.workflow_id.to_string(),
            version: x.version,
            status: x.status.to_string(),
            created_at: x.created_at.to_string(),
            started_at: x.started_at.map(|t| t.to_string()),
            ended_at: x.ended_at.map(|t| t.to_string()),
            parent: x.parent.as_ref().and_then(|p| serde_json::to_value(p).ok()),
            retry_of: x.retry_of.map(|r| r.to_string()),
            origin: x.origin.as_ref().map(OriginView::from_origin),
            error: x.error.clone(),
        }
    }
}

/// A page of executions, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExecutionList {
    /// The executions.
    pub executions: Vec<ExecutionSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub next_cursor: Option<String>,
}

impl ExecutionList {
    /// The view of a page.
    pub fn from_page(page: &Page<ExecutionRecord>) -> ExecutionList {
        ExecutionList {
            executions: page
                .items
                .iter()
                .map(ExecutionSummary::from_record)
                .collect(),
            next_cursor: page.next_cursor.clone(),
        }
    }
}

/// A task of an execution (or one item of a fan-out).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskView {
    /// pending, queued, running, retrying, succeeded, failed, skipped or cancelled.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// Its output.
    pub output: Value,
    /// Its last error.
    pub error: Value,
    /// When its first attempt started.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<String>,
    /// When it ended.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<String>,
    /// `condition` or `upstream`, when skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// What a running attempt waits for, while it waits: `{for, until, ...}` where
    /// `for` is `approval` (with `prompt`, `approvers`, `form`, `timeout`,
    /// `on_timeout`, `on_reject`, and `links` to approve or reject), `event` (with
    /// `type`, `source`), `timer`, `child` (with `execution`) or `worker`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub waiting: Option<Value>,
    /// The items of a fan-out, in item order.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub items: Option<Vec<TaskView>>,
    /// `fallback` when every attempt failed and its fallback's output stands in (then
    /// `error` is what it recovered from).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered_by: Option<String>,
}

impl TaskView {
    fn from_record(r: &TaskRunRecord) -> TaskView {
        TaskView {
            status: r.status.to_string(),
            attempts: r.attempts,
            output: r.output.clone().unwrap_or(Value::Null),
            error: r.error.clone().unwrap_or(Value::Null),
            started_at: r.started_at.map(|t| t.to_string()),
            ended_at: r.ended_at.map(|t| t.to_string()),
            skip_reason: r.skip_reason.clone(),
            waiting: waiting(r),
            items: None,
            recovered_by: None,
        }
    }
}

/// What a task row's attempt waits for, as the API shows it (see `TaskView::waiting`).
fn waiting(r: &TaskRunRecord) -> Option<Value> {
    let wait = r.wait.as_ref()?;
    let mut out = Map::new();
    out.insert("for".into(), Value::from(r.wait_for.clone()?));
    match wait.get("on").and_then(Value::as_str) {
        Some("signal") => {
            if let Some(Value::Object(spec)) = wait.get("spec") {
                for (k, v) in spec {
                    out.insert(k.clone(), v.clone());
                }
            }
            out.insert(
                "until".into(),
                wait.get("until").cloned().unwrap_or(Value::Null),
            );
        }
        Some("timer") => {
            out.insert(
                "until".into(),
                wait.get("due").cloned().unwrap_or(Value::Null),
            );
        }
        Some("child") => {
            let child = wait.get("execution").cloned().unwrap_or(Value::Null);
            if let Some(id) = child.as_str() {
                out.insert(
                    "links".into(),
                    serde_json::json!({"execution": format!("/api/executions/{id}")}),
                );
            }
            out.insert("execution".into(), child);
        }
        _ => {
            for (k, v) in wait.as_object().into_iter().flatten() {
                if k != "on" {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    if r.wait_for.as_deref() == Some("approval") {
        let base = format!("/api/executions/{}/tasks/{}", r.execution, r.task);
        out.insert(
            "links".into(),
            serde_json::json!({"approve": format!("{base}/approve"), "reject": format!("{base}/reject")}),
        );
    }
    Some(Value::Object(out))
}

/// The tasks of an execution by name, in definition order, fan-out items nested.
pub fn tasks_view(plan: &Plan, runs: &[TaskRunRecord]) -> indexmap::IndexMap<String, TaskView> {
    let mut out = indexmap::IndexMap::new();
    for task in &plan.tasks {
        let Some(row) = runs
            .iter()
            .find(|r| r.task == task.name && r.item.is_none())
        else {
            continue;
        };
        let mut view = TaskView::from_record(row);
        if task.for_each.is_some() {
            let mut items: Vec<&TaskRunRecord> = runs
                .iter()
                .filter(|r| r.task == task.name && r.item.is_some())
                .collect();
            items.sort_by_key(|r| r.item);
            view.items = Some(items.into_iter().map(TaskView::from_record).collect());
        }
        if let Some(f) = task.fallback
            && view.status == "succeeded"
            && runs.iter().any(|r| {
                r.task == plan.tasks[f].name
                    && r.item.is_none()
                    && r.status == harmonia_storage::TaskStatus::Succeeded
            })
        {
            view.recovered_by = Some("fallback".into());
        }
        out.insert(task.name.clone(), view);
    }
    out
}

/// An execution with its inputs, outputs and tasks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExecutionDetail {
    /// The summary.
    #[serde(flatten)]
    pub summary: ExecutionSummary,
    /// Its inputs, defaults applied.
    pub inputs: Value,
    /// Its outputs, once it succeeded.
    pub outputs: Value,
    /// Its tasks by name, in definition order.
    #[schema(value_type = BTreeMap<String, TaskView>)]
    pub tasks: indexmap::IndexMap<String, TaskView>,
}

impl ExecutionDetail {
    /// The view of an execution with its tasks.
    pub fn from_execution(x: &Execution) -> ExecutionDetail {
        ExecutionDetail {
            inputs: Value::clone(&x.record.inputs),
            outputs: x.record.outputs.clone().unwrap_or(Value::Null),
            tasks: tasks_view(&x.plan, &x.runs),
            summary: ExecutionSummary::from_record(&x.record),
        }
    }
}

/// A request with an optional reason (cancel).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlRequest {
    /// Why, for the history.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The state of an execution after a cancel, pause or resume.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ControlResponse {
    /// The execution.
    #[schema(value_type = String, format = Uuid)]
    pub execution_id: String,
    /// Its status now.
    pub status: String,
}

impl ControlResponse {
    /// The status of execution `id` (as the request named it) after an operation.
    pub fn new(id: &str, status: ExecutionStatus) -> ControlResponse {
        ControlResponse {
            execution_id: id.to_string(),
            status: status.to_string(),
        }
    }
}

/// A request to retry an execution from its failure.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"preview": true}))]
pub struct RetryRequest {
    /// Also run this task and everything downstream again.
    #[serde(default)]
    pub from: Option<String>,
    /// Run on the workflow's latest version.
    #[serde(default)]
    pub latest_version: bool,
    /// Only say what would run again.
    #[serde(default)]
    pub preview: bool,
}

impl RetryRequest {
    /// The retry asked for, and whether to start it.
    pub fn into_options(self) -> (harmonia_engine::RetryOptions, RetryMode) {
        let mode = if self.preview {
            RetryMode::Preview
        } else {
            RetryMode::Start
        };
        let options = harmonia_engine::RetryOptions {
            from: self.from,
            latest_version: self.latest_version,
        };
        (options, mode)
    }
}

/// What a retry does (and, unless previewed, the new execution).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetryResponse {
    /// The new execution (absent for a preview).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub execution_id: Option<String>,
    /// The execution retried.
    #[schema(value_type = String, format = Uuid)]
    pub original: String,
    /// The workflow.
    pub workflow: String,
    /// The version the retry runs.
    pub version: u32,
    /// Tasks that run again.
    pub rerun: Vec<String>,
    /// Tasks whose outputs are reused.
    pub reused: Vec<String>,
}

impl RetryResponse {
    /// The view of a retry (or its preview).
    pub fn from_retried(r: Retried) -> RetryResponse {
        RetryResponse {
            execution_id: r.execution.map(|x| x.to_string()),
            original: r.plan.original.to_string(),
            workflow: r.plan.workflow,
            version: r.plan.version,
            rerun: r.plan.rerun,
            reused: r.plan.reused,
        }
    }
}

/// One event of an execution's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    /// Its position in the log, from 1.
    pub seq: u64,
    /// When it happened.
    #[schema(value_type = String, format = DateTime)]
    pub at: String,
    /// Its kind (`attempt_failed`, ...).
    pub kind: String,
    /// The event (its stored text, sent as it is).
    #[schema(value_type = Object)]
    pub event: harmonia_storage::json::RawJson,
}

/// An execution's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventList {
    /// The execution.
    #[schema(value_type = String, format = Uuid)]
    pub execution_id: String,
    /// Its events in order.
    pub events: Vec<EventView>,
}

impl EventList {
    /// The history of execution `id`.
    pub fn new(id: ExecutionId, events: Vec<EventRecord>) -> EventList {
        EventList {
            execution_id: id.to_string(),
            events: events
                .into_iter()
                .map(|e| EventView {
                    seq: e.seq,
                    at: e.at.to_string(),
                    kind: e.kind,
                    event: e.data,
                })
                .collect(),
        }
    }
}

/// Liveness, with the fields Tekton components report.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok", "component": "harmonia", "version": "0.1.0", "port": 8007, "registered": true, "hermes": {"url": "http://127.0.0.1:8001", "component_id": "harmonia-1", "last_contact": "2026-11-30T10:00:00.000Z"}}))]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// `harmonia`.
    pub component: String,
    /// The server's version.
    pub version: String,
    /// The port it listens on, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Whether it is registered with Hermes now (false without `HERMES_URL`).
    pub registered: bool,
    /// Its standing with Hermes, when Hermes is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hermes: Option<HermesStanding>,
    /// This node: its id, lease, what it owns, renewals and takeovers.
    pub node: nodes::NodeHealth,
}

/// Harmonia's standing with Hermes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HermesStanding {
    /// Hermes' base URL.
    pub url: String,
    /// The id Hermes gave, once registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_id: Option<String>,
    /// When the last heartbeat or registration succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_contact: Option<String>,
    /// Why the last call failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// How many times Harmonia registered since it started.
    pub registrations: u64,
}

/// Readiness.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ready {
    /// Whether the server serves requests.
    pub ready: bool,
    /// Whether the store answers.
    pub store: bool,
}

/// An optional version number, also written as a whole float (`3.0`).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    whole_at_least(d, "version", "a version number (1 or more)", 1)
}

/// An optional fan-out item index, also written as a whole float (`3.0`).
pub(crate) fn item_index<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    whole_at_least(d, "item", "an item index (0 or more)", 0)
}

/// An optional whole number of at least `min` (JSON Schema counts `3.0` as an integer,
/// so it is one here too).
fn whole_at_least<'de, D: serde::Deserializer<'de>>(
    d: D,
    field: &str,
    expected: &str,
    min: u32,
) -> Result<Option<u32>, D::Error> {
    let v: Option<f64> = Option::deserialize(d)?;
    match v {
        None => Ok(None),
        Some(f) if f.fract() == 0.0 && (f64::from(min)..=f64::from(u32::MAX)).contains(&f) => {
            Ok(Some(f as u32))
        }
        Some(f) => Err(serde::de::Error::custom(format!(
            "`{field}` must be {expected}, found {f}"
        ))),
    }
}
