//! What the store holds: the event log, the read models derived from it, durable timers
//! and idempotency keys, workflow definitions with their versions, templates with
//! theirs, received CloudEvents, and API tokens.
//!
//! Events are opaque to the store (a kind and a JSON payload, made and read by the
//! engine); read models are plain rows for queries. Events, read models, timers and
//! idempotency keys are written together by one [`CommitBatch`], so the read models
//! never disagree with the log; what a conditional batch left out comes back as a
//! [`CommitReport`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    ExecutionId, ExecutionStatus, Origin, OriginKind, TaskStatus, TemplateId, Timestamp, WorkflowId,
};

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
    /// The event itself, as the engine serialized it (kept as text: it is written and
    /// read as it is, and decoded only by those who need it).
    pub data: crate::json::RawJson,
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
    /// Its inputs, after defaults (shared: they may be megabytes, and the engine keeps
    /// them for the execution's life; see the `Store` contract on writing them).
    pub inputs: std::sync::Arc<Value>,
    /// Its outputs, once it succeeded.
    pub outputs: Option<Value>,
    /// Why it failed, if it did.
    pub error: Option<Value>,
    /// The task that started it, for a sub-workflow.
    pub parent: Option<ParentLink>,
    /// The execution it retries, for a retry from failure.
    pub retry_of: Option<ExecutionId>,
    /// What started it (written with its first row, never changed; `None` for
    /// executions recorded before origins were).
    #[serde(default)]
    pub origin: Option<Origin>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it started running.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// When this record last changed.
    pub updated_at: Timestamp,
    /// The node that runs it (set by [`ExecutionQueries::claim_unfinished`], or by the
    /// engine in the rows it commits); `None` before any node has claimed it.
    ///
    /// [`ExecutionQueries::claim_unfinished`]: crate::ExecutionQueries::claim_unfinished
    #[serde(default)]
    pub owner: Option<String>,
    /// Its fence: 1 when the engine creates it, bumped by every claim. A commit can be
    /// conditioned on it ([`CommitBatch::fences`]), so that a node that lost the
    /// execution to another cannot write it any more. The stored value is what the last
    /// row written says, or what the last claim made it.
    #[serde(default = "first_fence")]
    pub fence: u64,
    /// Whether it has nothing to do until a timer fires or a signal comes. Set by the
    /// engine; stored and returned, with no other meaning for storage.
    #[serde(default)]
    pub parked: bool,
}

/// The fence of a new execution.
fn first_fence() -> u64 {
    1
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
    /// What its running attempt waits on, as the engine describes it (JSON).
    #[serde(default)]
    pub wait: Option<Value>,
    /// The name of the signal that wait expects (`approval`, `event`), for
    /// [`Timers::waiting`](crate::Timers::waiting).
    #[serde(default)]
    pub wait_for: Option<String>,
    /// The routing key of that wait (such as an event type).
    #[serde(default)]
    pub wait_key: Option<String>,
}

/// Everything one commit writes, atomically: new events of any number of executions,
/// the read-model rows they changed (inserted or replaced by key), the durable timers
/// they armed or cleared, and the idempotency keys of the executions they start.
///
/// A batch may be conditioned, per execution, on the execution's fence (`fences`) and on
/// its idempotency keys being free (`idempotency`); an execution whose condition fails
/// is left out of the batch whole, and the rest is written (see the `ExecutionLog`
/// contract and [`CommitReport`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitBatch {
    /// New events; each `(execution, seq)` must not exist yet.
    pub events: Vec<EventRecord>,
    /// Execution rows to insert or replace.
    pub executions: Vec<ExecutionRecord>,
    /// Task rows to insert or replace (key: execution, task, item).
    pub task_runs: Vec<TaskRunRecord>,
    /// Durable timers armed: insert or replace by (execution, key).
    pub timers_set: Vec<TimerRecord>,
    /// Timers that fired or no longer matter, by (execution, key); absent ones are fine.
    /// Clears apply before sets: a key both cleared and set in one batch stays set.
    pub timers_cleared: Vec<(ExecutionId, String)>,
    /// Idempotency keys of executions this batch starts.
    pub idempotency: Vec<IdempotencyRecord>,
    /// For executions that already exist: the fence their writes in this batch are
    /// conditioned on (see [`ExecutionRecord::fence`]).
    pub fences: Vec<(ExecutionId, u64)>,
}

impl CommitBatch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.executions.is_empty()
            && self.task_runs.is_empty()
            && self.timers_set.is_empty()
            && self.timers_cleared.is_empty()
            && self.idempotency.is_empty()
            && self.fences.is_empty()
    }

    /// Whether the batch is conditioned on anything (fences or idempotency keys), so
    /// that a store must read before it writes.
    pub fn is_conditional(&self) -> bool {
        !self.fences.is_empty() || !self.idempotency.is_empty()
    }

    /// Checks that every JSON value of the batch can be read back once written (see
    /// [`crate::json`]); names the first record that cannot.
    pub fn check_json(&self) -> crate::Result<()> {
        let refuse = |what: String, e: String| crate::Error::Invalid(format!("{what}: {e}"));
        for e in &self.events {
            e.data
                .check()
                .map_err(|m| refuse(format!("event {} of execution {}", e.seq, e.execution), m))?;
        }
        for x in &self.executions {
            for v in [
                Some(x.inputs.as_ref()),
                x.outputs.as_ref(),
                x.error.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                crate::json::check(v).map_err(|m| refuse(format!("execution {}", x.id), m))?;
            }
        }
        for t in &self.task_runs {
            for v in [t.output.as_ref(), t.error.as_ref(), t.wait.as_ref()]
                .into_iter()
                .flatten()
            {
                crate::json::check(v).map_err(|m| {
                    refuse(format!("task `{}` of execution {}", t.task, t.execution), m)
                })?;
            }
        }
        // Timers, idempotency records and fences hold no JSON.
        Ok(())
    }
}

/// What a commit left out of its batch; empty when everything was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitReport {
    /// Executions whose writes were left out because their stored fence differs from
    /// the batch's (another owner took them over), or because they have no row; in the
    /// order of [`CommitBatch::fences`], each once.
    pub fenced: Vec<ExecutionId>,
    /// Executions left out because their idempotency (scope, key) is already held by an
    /// unexpired record: (the new execution, the record that holds the key), in the
    /// order of [`CommitBatch::idempotency`].
    pub duplicates: Vec<(ExecutionId, IdempotencyRecord)>,
}

impl CommitReport {
    /// Whether the whole batch was written.
    pub fn is_clean(&self) -> bool {
        self.fenced.is_empty() && self.duplicates.is_empty()
    }
}

/// A durable timer of an execution: due at `due`, named by `key` within the execution
/// (the engine's timer key, as text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerRecord {
    /// The execution it belongs to.
    pub execution: ExecutionId,
    /// Its name within the execution.
    pub key: String,
    /// When it fires.
    pub due: Timestamp,
}

/// An idempotency key, held by the execution it started until it expires.
///
/// A record is *unexpired* at time `t` while `t < expires_at`; in a commit, the time is
/// the new record's `created_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// What the key is unique within (a workflow id, as text).
    pub scope: String,
    /// The client's `Idempotency-Key`.
    pub key: String,
    /// A hash of the request, to tell "the same request again" from "the key reused for
    /// another request".
    pub body_hash: String,
    /// The execution it started.
    pub execution: ExecutionId,
    /// When it was stored.
    pub created_at: Timestamp,
    /// From this time on the key may be used again.
    pub expires_at: Timestamp,
}

impl IdempotencyRecord {
    /// Whether it still holds its key at `now`.
    pub fn holds_at(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

/// A CloudEvent received through the API, as the inbox keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxEvent {
    /// Its place in the inbox, assigned by the store on receipt: increasing, never
    /// reused.
    pub seq: u64,
    /// The CloudEvent's `source`.
    pub source: String,
    /// The CloudEvent's `id` (unique within its source).
    pub id: String,
    /// The CloudEvent's `type`.
    pub ty: String,
    /// When it was received.
    pub received_at: Timestamp,
    /// The whole CloudEvent as received.
    pub event: crate::json::RawJson,
    /// When it was routed, once it was.
    pub routed_at: Option<Timestamp>,
    /// Where it went, as the engine reports it (a JSON array), once routed.
    pub deliveries: Option<Value>,
}

/// What receiving an event did.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// The event is new: stored, with its `seq`.
    New(InboxEvent),
    /// An event with the same (source, id) was received before: this is it, unchanged
    /// (the new copy is not stored).
    Duplicate(InboxEvent),
}

impl Received {
    /// The stored event.
    pub fn event(&self) -> &InboxEvent {
        match self {
            Received::New(e) | Received::Duplicate(e) => e,
        }
    }

    /// Whether the event is new.
    pub fn is_new(&self) -> bool {
        matches!(self, Received::New(_))
    }
}

/// Which inbox events to list, newest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InboxQuery {
    /// Only events of this type (exact).
    pub ty: Option<String>,
    /// Only events older than this one (the cursor of the previous page:
    /// [`Page::next`]).
    pub after: Option<u64>,
    /// At most this many (0 means the default of 50).
    pub limit: usize,
}

/// What a listing's items are ordered and continued by.
pub trait Paged {
    /// The cursor: the key of an item, given back as the next query's `after`.
    type Cursor: Clone + std::fmt::Debug + PartialEq;
    /// This item's cursor.
    fn cursor(&self) -> Self::Cursor;
}

impl Paged for InboxEvent {
    type Cursor = u64;
    fn cursor(&self) -> u64 {
        self.seq
    }
}

/// One page of a listing, and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T: Paged> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// The cursor of the next page (the `after` of the next query): the last item's,
    /// when more items follow; `None` on the last page.
    pub next: Option<T::Cursor>,
}

impl<T: Paged> Page<T> {
    /// The page of `limit` items out of `items`, which holds up to `limit + 1` (a store
    /// reads one more to know whether another page follows).
    pub fn of(mut items: Vec<T>, limit: usize) -> Page<T> {
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more {
            items.last().map(Paged::cursor)
        } else {
            None
        };
        Page { items, next }
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
    /// Only these statuses (empty: any).
    pub statuses: Vec<ExecutionStatus>,
    /// Only ids that start with this text (lowercase hex digits and dashes; the caller
    /// checks it, so that it is never a pattern).
    pub id_prefix: Option<String>,
    /// Only executions with an origin of one of these kinds (empty: any, with an
    /// origin or without).
    pub origins: Vec<OriginKind>,
    /// Only executions a trigger started: an origin of a trigger's kind
    /// ([`OriginKind::is_trigger`]) whose `by` is exactly this trigger id.
    pub trigger: Option<String>,
    /// Only executions whose inputs, as stored JSON text (compact, as `serde_json`
    /// writes it), contain this text: a case-sensitive substring, never a pattern.
    pub input: Option<String>,
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

/// One version of a template.
///
/// `content` is the template's canonical form (`harmonia_model::template::Template::
/// content`: compact JSON), the one thing the store compares to tell whether a new
/// version has the same content as a stored one. `source` is the text as it was sent
/// (comments and all), for showing and editing. Description, tags and category are
/// copies of the template's, kept as columns so that listings can filter on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateRecord {
    /// The template's id, the same for all its versions.
    pub id: TemplateId,
    /// Its name.
    pub name: String,
    /// The version, from 1.
    pub version: u32,
    /// Its description.
    pub description: Option<String>,
    /// Its tags, in order.
    pub tags: Vec<String>,
    /// Its category.
    pub category: Option<String>,
    /// The change note of this version.
    pub note: Option<String>,
    /// The canonical form (compact JSON), compared to tell versions apart.
    pub content: String,
    /// The text as it was sent.
    pub source: String,
    /// `yaml` or `json`: the format of `source`.
    pub format: String,
    /// When this version was created.
    pub created_at: Timestamp,
}

/// A template version to store (by `put_template` or `import_templates`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewTemplateVersion {
    /// The template's name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its category.
    pub category: Option<String>,
    /// What changed in this version.
    pub note: Option<String>,
    /// The canonical form (see [`TemplateRecord::content`]).
    pub content: String,
    /// The text as it was sent.
    pub source: String,
    /// `yaml` or `json`.
    pub format: String,
    /// When (an import keeps the exported time).
    pub created_at: Timestamp,
}

impl NewTemplateVersion {
    /// The record of this version once stored as `version` of template `id`.
    pub fn record(&self, id: TemplateId, version: u32) -> TemplateRecord {
        TemplateRecord {
            id,
            name: self.name.clone(),
            version,
            description: self.description.clone(),
            tags: self.tags.clone(),
            category: self.category.clone(),
            note: self.note.clone(),
            content: self.content.clone(),
            source: self.source.clone(),
            format: self.format.clone(),
            created_at: self.created_at,
        }
    }
}

/// What storing a template version did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PutOutcome {
    /// A new version was stored.
    Created,
    /// The content was already stored: nothing was written (the record is the stored
    /// version with that content).
    Unchanged,
}

/// The version a put or an import left, and whether it made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplatePut {
    /// Created or unchanged.
    pub outcome: PutOutcome,
    /// The stored version.
    pub record: TemplateRecord,
}

/// What an import does with a version whose content the store does not have, for a
/// template that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// Store it as a new version (the default).
    #[default]
    NewVersion,
    /// Refuse the whole import ([`crate::Error::Conflict`]); nothing is written.
    Fail,
}

/// Which templates to list (their latest versions), by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateQuery {
    /// Only templates with this tag (exact).
    pub tag: Option<String>,
    /// Only templates in this category (exact).
    pub category: Option<String>,
    /// Only templates whose name contains this (case-insensitive).
    pub search: Option<String>,
    /// Only templates whose name sorts after this one (the cursor of the previous page:
    /// its last name).
    pub after: Option<String>,
    /// At most this many (0 means the default of 50).
    pub limit: usize,
}
