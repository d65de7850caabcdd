//! What the store holds: the event log, the read models derived from it, and workflow
//! definitions with their versions.
//!
//! Events are opaque to the store (a kind and a JSON payload, made and read by the
//! engine); read models are plain rows for queries. Both are written together by one
//! [`CommitBatch`], so the read models never disagree with the log.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ExecutionId, ExecutionStatus, TaskStatus, Timestamp, WorkflowId};

/// One entry of an execution's append-only event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// The execution the event belongs to.
    pub execution: ExecutionId,
    /// Its position in the execution's log, from 1, without gaps.
    pub seq: u64,
    /// When it happened.
    pub at: Timestamp,
    /// Its kind (`attempt_succeeded`, ...), for queries without decoding `data`.
    pub kind: String,
    /// The event itself, as the engine serialized it.
    pub data: Value,
}

/// The link from a child execution (a sub-workflow) to the task that started it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentLink {
    /// The parent execution.
    pub execution: ExecutionId,
    /// The task of the parent that runs the child.
    pub task: String,
    /// The fan-out item of that task, if any.
    pub item: Option<u32>,
}

/// The read model of an execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    /// Its id.
    pub id: ExecutionId,
    /// The workflow's id.
    pub workflow_id: WorkflowId,
    /// The workflow's name.
    pub workflow: String,
    /// The workflow version it runs (pinned at start).
    pub version: u32,
    /// Where it is.
    pub status: ExecutionStatus,
    /// Its inputs, after defaults.
    pub inputs: Value,
    /// Its outputs, once it succeeded.
    pub outputs: Option<Value>,
    /// Why it failed, if it did.
    pub error: Option<Value>,
    /// The task that started it, for a sub-workflow.
    pub parent: Option<ParentLink>,
    /// The execution it retries, for a retry from failure.
    pub retry_of: Option<ExecutionId>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it started running.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// When this record last changed.
    pub updated_at: Timestamp,
}

/// The read model of a task of an execution, or of one item of a fan-out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRunRecord {
    /// The execution.
    pub execution: ExecutionId,
    /// The task's name.
    pub task: String,
    /// `None` for the task itself; the item's index for an item of a fan-out.
    pub item: Option<u32>,
    /// Where it is.
    pub status: TaskStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// Its output, once it succeeded.
    pub output: Option<Value>,
    /// Its last error.
    pub error: Option<Value>,
    /// `condition` or `upstream`, when skipped.
    pub skip_reason: Option<String>,
    /// When its first attempt started.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
}

/// Everything one commit writes, atomically: new events of any number of executions,
/// and the read-model rows they changed (inserted or replaced by key).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitBatch {
    /// New events; each `(execution, seq)` must not exist yet.
    pub events: Vec<EventRecord>,
    /// Execution rows to insert or replace.
    pub executions: Vec<ExecutionRecord>,
    /// Task rows to insert or replace (key: execution, task, item).
    pub task_runs: Vec<TaskRunRecord>,
}

impl CommitBatch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.executions.is_empty() && self.task_runs.is_empty()
    }
}

/// One version of a workflow definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRecord {
    /// The workflow's id, the same for all its versions.
    pub id: WorkflowId,
    /// Its name.
    pub name: String,
    /// The version, from 1.
    pub version: u32,
    /// Its description.
    pub description: Option<String>,
    /// The definition as the user wrote it.
    pub source: String,
    /// `yaml` or `json`.
    pub format: String,
    /// When this version was created.
    pub created_at: Timestamp,
}

/// A definition to store as a new version of the workflow named in it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWorkflowVersion {
    /// The workflow's name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// The definition's text.
    pub source: String,
    /// `yaml` or `json`.
    pub format: String,
    /// When.
    pub created_at: Timestamp,
}

/// Which executions to list, newest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExecutionQuery {
    /// Only this workflow (by name).
    pub workflow: Option<String>,
    /// Only this status.
    pub status: Option<ExecutionStatus>,
    /// Created at or after.
    pub since: Option<Timestamp>,
    /// Created before.
    pub until: Option<Timestamp>,
    /// Only executions that sort after this one in the listing (the cursor of the
    /// previous page: its last execution's id; ids sort by creation).
    pub after: Option<ExecutionId>,
    /// At most this many (0 means the default of 50).
    pub limit: usize,
}

/// An API token, as stored: its hash, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Its id.
    pub id: String,
    /// A name to tell it apart (who or what uses it).
    pub name: String,
    /// `admin`, `operator` or `viewer`.
    pub role: String,
    /// The hex SHA-256 of the token.
    pub hash: String,
    /// When it was made.
    pub created_at: Timestamp,
}
