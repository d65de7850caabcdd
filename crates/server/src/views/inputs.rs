//! The body of `/api/executions/{id}/tasks/{task}/inputs`: a task's `with:` as its
//! attempt saw it, evaluated again from the execution's recorded state, every value
//! computed from `$secrets` as `***`.

use harmonia_engine::EvaluatedWith;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A task's inputs after evaluation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"task": "fetch", "item": null, "with": {"url": "https://api.example.com/cities/paris?v=2", "headers": {"authorization": "***"}}, "secrets_redacted": true, "evaluated_at": "2026-11-24T10:00:00.000Z"}))]
pub struct TaskInputsView {
    /// The task.
    pub task: String,
    /// The fan-out item (`$item` is its value, `$index` this number); null for a task
    /// without `for_each`.
    pub item: Option<u32>,
    /// The task's `with:` evaluated (null when it has none). Every value computed by
    /// an expression that reads `$secrets` is `"***"`. Any JSON value, as `with:`
    /// is written.
    pub with: Value,
    /// Whether some value was replaced by `"***"`.
    pub secrets_redacted: bool,
    /// When it was evaluated.
    #[schema(value_type = String, format = DateTime)]
    pub evaluated_at: String,
}

impl TaskInputsView {
    /// The view of an evaluation.
    pub fn from_evaluated(e: EvaluatedWith) -> TaskInputsView {
        TaskInputsView {
            task: e.task,
            item: e.item,
            with: e.with,
            secrets_redacted: e.secrets_redacted,
            evaluated_at: e.evaluated_at.to_string(),
        }
    }
}
