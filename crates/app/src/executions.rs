//! Executions: start, read, list, cancel, pause, resume, retry, history, and the stream
//! of their events.
//!
//! Starting checks the inputs against the workflow's `inputs` schema (every violation,
//! [`Error::InvalidInputs`]), pins the version, and answers once the start is durable,
//! with the execution's status then (`running`, or already ended when every task was
//! pure). Control operations answer the status after the operation, or
//! [`Error::Conflict`] when it does not apply (pausing a paused execution, cancelling
//! one that succeeded); cancelling a cancelled execution is a no-op.
//!
//! A retry is a new execution linked to the original that reuses what succeeded (see
//! `harmonia_engine::retry`); [`RetryMode::Preview`] says what it would do and starts
//! nothing.
//!
//! Every start says what starts it (an [`Origin`]: the API and its token, a trigger, a
//! local run...), recorded with the execution and never changed; retries and
//! sub-workflows get theirs from the engine. Listings filter on it (kinds, a trigger's
//! id) and on text in the inputs' JSON ([`ExecutionFilter`]).
//!
//! A start may carry an idempotency key: the same key with the same request within
//! [`IDEMPOTENCY_TTL`] answers the execution the first one started (nothing new
//! starts, and [`Started::replayed`] says so); the same key with another request is
//! [`Error::KeyReused`]. Racing starts with one key start one execution.
//!
//! An approval is answered with [`Executions::answer`]: the task's kind checks the
//! answer (its form, who may answer) and either refuses it, changing nothing, or
//! records it and the task's result, returned once durable.
//!
//! Reads come from the store, so they see every execution, finished or not, whichever
//! engine ran it. [`history`] needs only a store, for callers that read a database
//! without running its work (`harmonia history`).

use std::sync::Arc;

use harmonia_engine::kinds::{APPROVAL_SIGNAL, Actor, Signal};
use harmonia_engine::{LoggedEvent, RetryOptions, RetryPlan, StartRequest, Workflow};
use harmonia_model::Plan;
use harmonia_storage::prelude::*;
use harmonia_storage::{
    EventRecord, ExecutionId, ExecutionQuery, ExecutionRecord, ExecutionStatus, Origin, OriginKind,
    Store, TaskRunRecord, Timestamp,
};
use serde_json::{Map, Value};
use tokio::sync::broadcast;

use crate::{Ctx, Error, Page, Result, limit, present};

/// Executions (see the module doc).
#[derive(Clone)]
pub struct Executions(pub(crate) Ctx);

/// How long an idempotency key holds.
pub const IDEMPOTENCY_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The longest idempotency key, in bytes.
pub const MAX_KEY_BYTES: usize = 255;

/// The longest text [`ExecutionFilter::input`] searches for, in characters.
pub const MAX_INPUT_FILTER_CHARS: usize = 200;

/// An execution that was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The new execution (or the one the idempotency key started).
    pub execution: ExecutionId,
    /// Its status once its start was durable (for a replay: its status now).
    pub status: ExecutionStatus,
    /// Whether this answers an earlier start with the same idempotency key (nothing
    /// new started).
    pub replayed: bool,
    /// The workflow.
    pub workflow: String,
    /// The version it runs.
    pub version: u32,
}

/// A person's decision on an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Approve.
    Approve,
    /// Reject.
    Reject,
}

/// What answering an approval did.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    /// The execution.
    pub execution: ExecutionId,
    /// The task.
    pub task: String,
    /// Its fan-out item.
    pub item: Option<u32>,
    /// The task's output (`{decision, by, at, inputs}`), or its error when the answer
    /// failed it (a rejection, unless the task continues on one).
    pub result: std::result::Result<Value, Value>,
}

/// An execution with its tasks.
#[derive(Debug, Clone)]
pub struct Execution {
    /// Its row.
    pub record: ExecutionRecord,
    /// The plan of the version it runs (its tasks, in definition order).
    pub plan: Arc<Plan>,
    /// Its tasks' rows (one per task, and one per fan-out item).
    pub runs: Vec<TaskRunRecord>,
}

/// An execution as of an event: what a watcher shows first, then follows.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The execution.
    pub execution: Execution,
    /// The sequence number of the last event committed before it was read (0: none).
    pub last_seq: u64,
}

/// Which executions to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct ExecutionFilter {
    /// Only executions of this workflow (by name; empty: all).
    pub workflow: Option<String>,
    /// Only executions with one of these statuses (empty: any).
    pub statuses: Vec<ExecutionStatus>,
    /// Only executions whose id starts with this (hex digits and dashes, any case).
    pub id_prefix: Option<String>,
    /// Only executions started by one of these kinds of origin (empty: any; an
    /// execution recorded before origins were matches none).
    pub origins: Vec<OriginKind>,
    /// Only executions a trigger started, by its id (`WORKFLOW.POSITION`, as
    /// [`Triggers::list`](crate::Triggers::list) shows it; empty: any).
    pub trigger: Option<String>,
    /// Only executions whose inputs, as compact JSON text, contain this text
    /// (case-sensitive, literal; at most [`MAX_INPUT_FILTER_CHARS`] characters; empty:
    /// any). A string value is searched as JSON writes it: `"name":"alice"`, quotes and
    /// escapes included.
    pub input: Option<String>,
    /// Created at or after this time.
    pub since: Option<Timestamp>,
    /// Created before this time.
    pub until: Option<Timestamp>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// At most this many (1 to 500, default 50).
    pub limit: Option<u32>,
}

/// Whether a retry starts or only says what it would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryMode {
    /// Work out the retry; start nothing.
    Preview,
    /// Start it.
    Start,
}

/// What a retry does, and the new execution unless previewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retried {
    /// The new execution (none for a preview).
    pub execution: Option<ExecutionId>,
    /// What runs again and what is reused.
    pub plan: RetryPlan,
}

/// The event log of execution `id`, in order, as stored; empty for an execution
/// without events yet, [`Error::NotFound`] for none at all.
pub async fn history(store: &dyn Store, id: ExecutionId) -> Result<Vec<EventRecord>> {
    let events = store.events(id).await?;
    if events.is_empty() && store.execution(id).await?.is_none() {
        return Err(not_found(id));
    }
    Ok(events)
}

/// An idempotency key as a client may send it: 1 to 255 visible ASCII characters.
fn check_key(key: &str) -> Result<&str> {
    let ok =
        !key.is_empty() && key.len() <= MAX_KEY_BYTES && key.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(key)
    } else {
        Err(Error::InvalidRequest(format!(
            "an idempotency key is 1 to {MAX_KEY_BYTES} visible ASCII characters (no spaces)"
        )))
    }
}

/// The hash that tells a repeated start from another one under the same key: of the
/// version asked for and the inputs, objects compared whatever their key order.
fn request_hash(version: Option<u32>, inputs: &Value) -> String {
    use sha2::{Digest, Sha256};
    fn feed(h: &mut Sha256, v: &Value) {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                h.update(b"{");
                for k in keys {
                    feed(h, &Value::String(k.clone()));
                    h.update(b":");
                    feed(h, &map[k]);
                    h.update(b",");
                }
                h.update(b"}");
            }
            Value::Array(items) => {
                h.update(b"[");
                for i in items {
                    feed(h, i);
                    h.update(b",");
                }
                h.update(b"]");
            }
            other => h.update(other.to_string().as_bytes()),
        }
    }
    let mut h = Sha256::new();
    feed(
        &mut h,
        &serde_json::json!({"version": version, "inputs": inputs}),
    );
    hex::encode(h.finalize())
}

fn not_found(id: ExecutionId) -> Error {
    Error::NotFound(format!("no execution {id}"))
}

impl Executions {
    /// Starts the version `version` (the latest when `None`) of workflow `id` (an id
    /// or a name) on `inputs`, recording `origin` as what started it.
    /// With `key`, at most once per key and request (see the module doc).
    pub async fn start(
        &self,
        id: &str,
        version: Option<u32>,
        inputs: Map<String, Value>,
        key: Option<&str>,
        origin: Origin,
    ) -> Result<Started> {
        let key = key.map(check_key).transpose()?;
        let latest = crate::workflows::record(self.0.store().as_ref(), id, None).await?;
        let record = match version {
            Some(v) if v != latest.version => self
                .0
                .store()
                .workflow(&latest.name, Some(v))
                .await?
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "workflow `{}` has no version {v} (its latest is {})",
                        latest.name, latest.version
                    ))
                })?,
            _ => latest,
        };
        let workflow = self
            .0
            .plans()
            .get(&record.name, Some(record.version))
            .await?;
        let inputs = Value::Object(inputs);
        let idempotency = key.map(|key| harmonia_engine::Idempotency {
            key: key.to_string(),
            body_hash: request_hash(version, &inputs),
            ttl: IDEMPOTENCY_TTL,
        });
        self.start_request(workflow, inputs, idempotency, origin)
            .await
    }

    /// Starts `workflow` (a compiled version) on `inputs` (an object, or null for
    /// none), recording `origin` as what started it.
    pub async fn start_version(
        &self,
        workflow: Workflow,
        inputs: Value,
        origin: Origin,
    ) -> Result<Started> {
        self.start_request(workflow, inputs, None, origin).await
    }

    pub(crate) async fn start_request(
        &self,
        workflow: Workflow,
        inputs: Value,
        idempotency: Option<harmonia_engine::Idempotency>,
        origin: Origin,
    ) -> Result<Started> {
        let name = workflow.record.name.clone();
        let version = workflow.record.version;
        let hash = idempotency.as_ref().map(|i| i.body_hash.clone());
        let admitted = match workflow.plan.concurrency.clone() {
            Some(plan) => Some(
                crate::Concurrency(self.0.clone())
                    .admit(&workflow, &plan, &inputs)
                    .await?,
            ),
            None => None,
        };
        let mut request = StartRequest::new(workflow, inputs).with_origin(origin);
        request.idempotency = idempotency;
        request.held = admitted.as_ref().is_some_and(|a| a.held);
        let started = self.0.handle.start_with_status(request).await?;
        if let Some(admitted) = admitted
            && started.existing.is_none()
        {
            if admitted.held {
                self.0.gates.note(started.id, true);
            }
            if let Some(reason) = admitted.refuse {
                self.0.handle.cancel(started.id, Some(reason)).await?;
            }
            for old in admitted.replaces {
                let reason = format!(
                    "replaced by the newer start {} (`on_conflict: coalesce`)",
                    started.id
                );
                if let Err(e) = self.0.handle.cancel(old, Some(reason)).await {
                    tracing::debug!(execution = %old, error = %e, "cancelling a coalesced start");
                }
            }
            if let Some(status) = self.record(started.id).await.ok().map(|r| r.status) {
                return Ok(Started {
                    execution: started.id,
                    status,
                    replayed: false,
                    workflow: name,
                    version,
                });
            }
        }
        let Some(existing) = started.existing else {
            return Ok(Started {
                execution: started.id,
                status: started.status.unwrap_or(ExecutionStatus::Running),
                replayed: false,
                workflow: name,
                version,
            });
        };
        if Some(&existing.body_hash) != hash.as_ref() {
            return Err(Error::KeyReused(existing.key));
        }
        let record = self.record(existing.execution).await?;
        Ok(Started {
            execution: record.id,
            status: record.status,
            replayed: true,
            workflow: record.workflow,
            version: record.version,
        })
    }

    /// The row of execution `id`.
    pub async fn record(&self, id: ExecutionId) -> Result<ExecutionRecord> {
        self.0
            .store()
            .execution(id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Execution `id` with its tasks.
    pub async fn get(&self, id: ExecutionId) -> Result<Execution> {
        let record = self.record(id).await?;
        self.detail(record).await
    }

    async fn detail(&self, record: ExecutionRecord) -> Result<Execution> {
        let workflow = self
            .0
            .plans()
            .get(&record.workflow, Some(record.version))
            .await?;
        let runs = self.0.store().task_runs(record.id).await?;
        Ok(Execution {
            record,
            plan: workflow.plan,
            runs,
        })
    }

    /// Execution `id` with its tasks, and the last event committed before it was
    /// read: a watcher that subscribed first shows this, then every later event.
    pub async fn snapshot(&self, id: ExecutionId) -> Result<Snapshot> {
        let last_seq = self.0.store().events(id).await?.last().map_or(0, |e| e.seq);
        Ok(Snapshot {
            execution: self.get(id).await?,
            last_seq,
        })
    }

    /// A page of executions, newest first.
    pub async fn list(&self, filter: ExecutionFilter) -> Result<Page<ExecutionRecord>> {
        let limit = limit(filter.limit, 50, 500)?;
        let after = filter
            .cursor
            .as_ref()
            .map(|c| {
                c.parse::<ExecutionId>().map_err(|_| {
                    Error::InvalidRequest(format!(
                        "`cursor` must be the `next_cursor` of a previous page (an execution id), found `{c}`"
                    ))
                })
            })
            .transpose()?;
        let query = ExecutionQuery {
            workflow: present(filter.workflow),
            statuses: filter.statuses,
            id_prefix: filter.id_prefix.as_deref().map(id_prefix).transpose()?,
            origins: filter.origins,
            trigger: present(filter.trigger),
            input: present(filter.input).map(input_text).transpose()?,
            since: filter.since,
            until: filter.until,
            after,
            limit: limit + 1,
        };
        let found = self.0.store().executions(&query).await?;
        Ok(Page::of(found, limit, |x| x.id.to_string()))
    }

    /// Cancels execution `id`: running work is stopped (processes killed, requests
    /// dropped, child executions cancelled). Returns its status now.
    pub async fn cancel(&self, id: ExecutionId, reason: Option<String>) -> Result<ExecutionStatus> {
        Ok(self.0.handle.cancel(id, reason).await?)
    }

    /// Decides what becomes of `task` of execution `id`, held by `on_error: pause`:
    /// run it again, take an output for it, or let it fail. A task that is not held is
    /// [`Error::NotWaiting`]. The execution goes on once no task is held.
    pub async fn decide_held(
        &self,
        id: ExecutionId,
        task: &str,
        decision: harmonia_engine::event::Decision,
    ) -> Result<ExecutionStatus> {
        Ok(self.0.handle.decide(id, task, decision).await?)
    }

    /// Pauses execution `id`: no new task starts; running ones finish.
    pub async fn pause(&self, id: ExecutionId) -> Result<ExecutionStatus> {
        Ok(self.0.handle.pause(id).await?)
    }

    /// Resumes paused execution `id`.
    pub async fn resume(&self, id: ExecutionId) -> Result<ExecutionStatus> {
        Ok(self.0.handle.resume(id).await?)
    }

    /// Answers the approval that task `task` (its fan-out item `item`, needed only when
    /// several wait) of execution `id` waits for, as `by`. Bad inputs or the wrong role
    /// are refused ([`Error::Refused`], [`Error::Forbidden`]) and change nothing; a
    /// task that does not wait is [`Error::NotWaiting`].
    pub async fn answer(
        &self,
        id: ExecutionId,
        task: &str,
        item: Option<u32>,
        decision: Decision,
        inputs: Value,
        by: Option<Actor>,
    ) -> Result<Answered> {
        let decision = match decision {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        };
        let signal = Signal {
            name: APPROVAL_SIGNAL.into(),
            payload: serde_json::json!({"decision": decision, "inputs": inputs}),
            by,
        };
        let delivered = match self.0.handle.signal(id, task, item, signal).await {
            Err(harmonia_engine::Error::UnknownTask { task, workflow, .. }) => {
                return Err(Error::NotFound(format!(
                    "no task `{task}` in workflow `{workflow}`"
                )));
            }
            other => other?,
        };
        let result = match delivered.result {
            Some(Ok(output)) => Ok(output),
            Some(Err(error)) => Err(serde_json::to_value(&error).unwrap_or(Value::Null)),
            None => Err(Value::Null),
        };
        Ok(Answered {
            execution: delivered.execution,
            task: delivered.task,
            item: delivered.item,
            result,
        })
    }

    /// Retries execution `id` from its failure, or previews what that would do.
    pub async fn retry(
        &self,
        id: ExecutionId,
        options: &RetryOptions,
        mode: RetryMode,
    ) -> Result<Retried> {
        Ok(match mode {
            RetryMode::Preview => Retried {
                execution: None,
                plan: self.0.handle.retry_preview(id, options).await?,
            },
            RetryMode::Start => {
                let (new, plan) = self.0.handle.retry(id, options).await?;
                Retried {
                    execution: Some(new),
                    plan,
                }
            }
        })
    }

    /// The event log of execution `id`, in order, as stored (see [`history`]).
    pub async fn history(&self, id: ExecutionId) -> Result<Vec<EventRecord>> {
        history(self.0.store().as_ref(), id).await
    }

    /// The events of execution `id` after `seq`, decoded: how a watcher follows an
    /// execution that another node runs (whose events this node does not broadcast).
    pub async fn events_after(&self, id: ExecutionId, seq: u64) -> Result<Vec<LoggedEvent>> {
        Ok(self.0.handle.history_after(id, seq).await?)
    }

    /// Whether execution `id` is run by another node than this one (it is owned by
    /// another, or by none until one claims it); `false` when it does not exist.
    pub async fn runs_elsewhere(&self, id: ExecutionId) -> Result<bool> {
        let node = self.0.handle.node().id;
        Ok(self
            .0
            .store()
            .execution(id)
            .await?
            .is_some_and(|x| x.owner.as_deref() != Some(node.as_str())))
    }

    /// Every event as it is committed, of every execution. A receiver that falls
    /// behind gets `Lagged` and reads what it missed from [`Executions::history`] or a
    /// [`Executions::snapshot`].
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LoggedEvent>> {
        self.0.handle.subscribe()
    }
}

/// The text of an `input` filter: at most [`MAX_INPUT_FILTER_CHARS`] characters (a
/// search reads every execution's inputs it passes, so it stays short).
fn input_text(text: String) -> Result<String> {
    let chars = text.chars().count();
    if chars > MAX_INPUT_FILTER_CHARS {
        return Err(Error::InvalidRequest(format!(
            "`input` is at most {MAX_INPUT_FILTER_CHARS} characters, found {chars}"
        )));
    }
    Ok(text)
}

/// Checks an id prefix: up to a whole id's 36 characters, hex digits and dashes only
/// (so that it is never a pattern); the prefix in lowercase, as ids are stored.
fn id_prefix(prefix: &str) -> Result<String> {
    let valid = !prefix.is_empty()
        && prefix.len() <= 36
        && prefix.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if valid {
        Ok(prefix.to_ascii_lowercase())
    } else {
        Err(Error::InvalidRequest(format!(
            "`id_prefix` must be the start of an execution id (1 to 36 hex digits and dashes), found `{prefix}`"
        )))
    }
}
