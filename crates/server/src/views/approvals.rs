//! The bodies of `POST /api/executions/{id}/tasks/{task}/approve` and `/reject`.

use harmonia_app::executions::Answered;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// An answer to an approval.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"inputs": {"reason": "the canary is green"}}))]
pub struct AnswerRequest {
    /// The values of the task's `form` (checked against it; every violation is
    /// reported and nothing changes).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub inputs: Map<String, Value>,
    /// Which item of a fan-out, when several of its items wait.
    #[serde(default, deserialize_with = "super::item_index")]
    #[schema(minimum = 0, maximum = 4294967295_u64)]
    pub item: Option<u32>,
}

/// What an answer did.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"execution_id": "01a20b95-3770-719e-8ae1-f9888c382918", "task": "go", "item": null, "task_status": "succeeded", "output": {"decision": "approved", "by": "ada", "at": "2026-11-30T10:00:00.000Z", "inputs": {"reason": "green"}}, "error": null}))]
pub struct AnswerResponse {
    /// The execution.
    #[schema(value_type = String, format = Uuid)]
    pub execution_id: String,
    /// The task.
    pub task: String,
    /// Its fan-out item.
    pub item: Option<u32>,
    /// `succeeded`, or `failed` when the answer failed the task (a rejection, unless
    /// the task has `on_reject: continue`).
    pub task_status: String,
    /// The task's output: `{decision, by, at, inputs}`.
    pub output: Option<Value>,
    /// The task's error, when it failed (its `details` hold the same object).
    pub error: Option<Value>,
}

impl AnswerResponse {
    /// The view of an answer.
    pub fn from_answered(a: &Answered) -> AnswerResponse {
        let (task_status, output, error) = match &a.result {
            Ok(output) => ("succeeded", Some(output.clone()), None),
            Err(error) => ("failed", None, Some(error.clone())),
        };
        AnswerResponse {
            execution_id: a.execution.to_string(),
            task: a.task.clone(),
            item: a.item,
            task_status: task_status.into(),
            output,
            error,
        }
    }
}
