//! The scheduler: a tokio service that drives many executions at once.
//!
//! One task owns every execution's state (the `Service` in `service`). It takes
//! commands from a bounded channel: requests from [`Handle`]s (start, cancel, pause,
//! resume, wait) and results from the attempts it spawned. Each turn of its loop:
//!
//! 1. takes every command waiting (up to `max_batch`), turns each into events and
//!    applies them to the state machine, which answers with decisions and effects;
//!    inline kinds (`set`, `transform`) and the start of a wait run right there;
//! 2. writes all new events of all executions, and the read-model rows they changed,
//!    in one transaction (group commit);
//! 3. only then makes the effects visible: replies to callers, attempts spawned (within
//!    the global concurrency limit, in order), timers armed, attempts aborted,
//!    subscribers notified.
//!
//! So every event is durable before anything it caused can be seen, and a crash at any
//! point loses nothing that was acknowledged: on start the service reloads every
//! unfinished execution, replays its log and resumes it (attempts in flight run again).
//!
//! The loop runs on a thread of its own with a current-thread runtime
//! (`run_on_own_thread`): step 2 commits on that thread when the store can
//! (`ExecutionLog::commit_here`), since the loop waits for its commit anyway, and the
//! pure attempts of step 3 run there too; so a step of a chain wakes no other thread.
//! Everything that waits on the store or the network runs on the runtime of the caller
//! of [`spawn`]; if that runtime goes away without a shutdown, the loop stops too.

mod children;
mod commit;
mod crash;
mod dispatch;
mod fair;
mod guard;
mod lease;
pub use lease::NodeStatus;
mod loading;
mod observe;
mod output;
mod runner;
mod service;
mod timers;
mod waits;

use std::sync::Arc;

use harmonia_storage::{
    ExecutionId, ExecutionRecord, ExecutionStatus, Origin, OriginKind, Store, Timestamp,
};
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::config::EngineConfig;
use crate::error::{Error, Result};
use crate::event::{Event, Reused, TaskError};
use crate::kinds::{Kinds, Signal};
use crate::machine::AttemptRef;
use crate::plans::{Plans, Workflow};
use crate::retry::{self, RetryOptions, RetryPlan};

pub(crate) use guard::panic_message;
pub(crate) use loading::replayed;

/// An event as committed, for subscribers.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// The execution.
    pub execution: ExecutionId,
    /// Its position in the execution's log.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// What.
    pub event: Event,
}

/// A request to start an execution.
#[derive(Debug, Clone)]
pub struct StartRequest {
    /// The workflow version to run.
    pub workflow: Workflow,
    /// The inputs, before defaults.
    pub inputs: Value,
    /// Template parameters (`$params`).
    pub params: Value,
    /// The execution this one retries.
    pub retry_of: Option<ExecutionId>,
    /// What starts it, recorded in its first event and row (see
    /// [`harmonia_storage::Origin`]). The engine sets it for what it starts itself: a
    /// retry (`retry`, by the original) and a sub-workflow (`workflow`, by the parent);
    /// every other starter says who it is.
    pub origin: Option<Origin>,
    /// Outputs reused from the retried execution.
    pub reused: Vec<Reused>,
    /// Start at most once per key (see [`Idempotency`]).
    pub idempotency: Option<Idempotency>,
    /// Start it held: created and paused in its first commit, before any task starts
    /// (a concurrency queue resumes it when its turn comes).
    pub held: bool,
}

/// An idempotency key for a start: a second start with the same key (within the same
/// workflow, before it expires) starts nothing and answers the first execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// The client's key.
    pub key: String,
    /// A hash of the request, so that the caller can tell a repeat of the same request
    /// from the key reused for another one.
    pub body_hash: String,
    /// How long the key holds.
    pub ttl: std::time::Duration,
}

/// What an engine holds in memory now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Executions in memory (parked ones are not, after a restart, until needed).
    pub executions: usize,
    /// Attempts running.
    pub running: usize,
    /// Durable timers armed.
    pub timers: usize,
}

/// What a start did.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    /// The execution: the new one, or the one the idempotency key already started.
    pub id: ExecutionId,
    /// Its status once the start was durable (`None` for an existing execution this
    /// engine does not run: read it from the store).
    pub status: Option<ExecutionStatus>,
    /// The key's record when the key had already started an execution (then nothing
    /// new started).
    pub existing: Option<harmonia_storage::IdempotencyRecord>,
}

impl StartRequest {
    /// A request to run `workflow` on `inputs`, of no recorded origin (see
    /// [`StartRequest::with_origin`]).
    pub fn new(workflow: Workflow, inputs: Value) -> StartRequest {
        StartRequest {
            workflow,
            inputs,
            params: Value::Null,
            retry_of: None,
            origin: None,
            reused: Vec::new(),
            idempotency: None,
            held: false,
        }
    }

    /// The same request, started by `origin`.
    pub fn with_origin(mut self, origin: Origin) -> StartRequest {
        self.origin = Some(origin);
        self
    }
}

/// Where a signal or an event was delivered: a waiting attempt that took it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The execution.
    pub execution: ExecutionId,
    /// The task.
    pub task: String,
    /// Its fan-out item.
    pub item: Option<u32>,
    /// The attempt.
    pub attempt: u32,
    /// The attempt's result (its `output:` applied), for a signal sent to a task.
    pub result: Option<std::result::Result<Value, TaskError>>,
}

impl Delivery {
    fn with_result(mut self, result: std::result::Result<Value, TaskError>) -> Delivery {
        self.result = Some(result);
        self
    }
}

/// Where a signal's answer goes once its result is committed.
pub(crate) type SignalReply = oneshot::Sender<Result<Delivery>>;

/// A user's request about a running execution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Control {
    Cancel(Option<String>),
    Pause,
    Resume,
    Decide {
        task: String,
        decision: crate::event::Decision,
    },
}

impl Control {
    fn name(&self) -> &'static str {
        match self {
            Control::Cancel(_) => "cancel",
            Control::Pause => "pause",
            Control::Resume => "resume",
            Control::Decide { decision, .. } => decision.name(),
        }
    }
}

pub(crate) enum Command {
    Start {
        request: StartRequest,
        inputs: Value,
        reply: oneshot::Sender<Result<Started>>,
    },
    Control {
        id: ExecutionId,
        control: Control,
        reply: oneshot::Sender<Result<ExecutionStatus>>,
    },
    Wait {
        id: ExecutionId,
        reply: oneshot::Sender<Option<oneshot::Receiver<ExecutionRecord>>>,
    },
    AttemptDone {
        execution: ExecutionId,
        attempt: AttemptRef,
        result: std::result::Result<Value, TaskError>,
        /// The LLM tokens the attempt reported spending.
        usage: Option<crate::event::TokenUsage>,
    },
    /// What a waiting attempt waits on, from its `with:` evaluated off the turn.
    Prepared {
        execution: ExecutionId,
        attempt: AttemptRef,
        recovered: bool,
        begin: std::result::Result<crate::kinds::Begin, TaskError>,
    },
    /// A signal for the waiting attempt of a task.
    Signal {
        execution: ExecutionId,
        task: String,
        item: Option<u32>,
        signal: Signal,
        reply: SignalReply,
    },
    /// An event for every attempt waiting on its type.
    Event {
        event: Value,
        reply: oneshot::Sender<Result<Vec<Delivery>>>,
    },
    /// Load execution `id` if it is not in memory (and has not ended), then run
    /// `then`: one trip through the loop for a command about an execution that may be
    /// parked.
    /// `steal`: take it from another live node (see `loading::load_then`).
    Ensure {
        id: ExecutionId,
        then: Box<Command>,
        steal: bool,
    },
    /// What the engine holds now.
    Stats(oneshot::Sender<Stats>),
    /// Whether an execution held in memory is still this node's at its fence (see
    /// `loading::load_then`).
    Checked { id: ExecutionId, current: bool },
    /// Executions claimed from other nodes, to load and resume (see `lease`).
    Adopt { ids: Vec<(ExecutionId, u64)> },
    /// An execution loaded on demand (see `loading`).
    Loaded {
        id: ExecutionId,
        result: Result<Option<Box<crate::machine::Execution>>>,
    },
    /// A durable timer is due (`loaded`: its execution's load was tried already).
    Fire {
        execution: ExecutionId,
        key: crate::event::TimerKey,
        loaded: bool,
    },
    /// A child ended, for its parent (`loaded`: the parent's load was tried already).
    ChildFinished {
        child: Box<ExecutionRecord>,
        loaded: bool,
    },
    /// A waiting attempt's result, finished off the turn.
    WaitEnded {
        execution: ExecutionId,
        attempt: AttemptRef,
        result: std::result::Result<Value, TaskError>,
        reply: Option<SignalReply>,
    },
    /// Stop starting attempts; stop once those running ended or at `until`.
    Drain {
        until: std::time::Instant,
        reply: oneshot::Sender<()>,
    },
    /// A decision's evaluation, run off the turn.
    Evaluated {
        execution: ExecutionId,
        done: crate::machine::Evaluated,
    },
    ChildReady {
        parent: ExecutionId,
        attempt: AttemptRef,
        child: std::result::Result<(Workflow, Value), TaskError>,
    },
    ChildEnded {
        parent: ExecutionId,
        attempt: AttemptRef,
        child: ExecutionRecord,
    },
}

/// How many times a user's request is applied again when another node took its
/// execution over while it was applied (the request then moves it back here).
const MOVED_TRIES: u32 = 3;

/// A cheap, cloneable handle to a running engine.
#[derive(Clone)]
pub struct Handle {
    tx: mpsc::Sender<Command>,
    store: Arc<dyn Store>,
    plans: Arc<Plans>,
    events: broadcast::Sender<Arc<LoggedEvent>>,
    shutdown: CancellationToken,
    kinds: Kinds,
    /// The names of the secrets set (`$secrets.NAME`).
    secret_names: Arc<std::collections::BTreeSet<String>>,
    /// The secrets' values, for [`Handle::secret`].
    secrets: Arc<std::collections::BTreeMap<String, String>>,
    /// Bounds on each evaluation, and where evaluations asked through the handle run
    /// (`crate::inputs`).
    pub(crate) limits: harmonia_expr::Limits,
    pub(crate) inputs_offload: crate::eval::Offload,
    /// This engine's node id, its lease, and what it did as a member.
    node: Arc<str>,
    lease: Option<std::time::Duration>,
    counters: Arc<lease::Counters>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Starts an engine on `store`: recovers unfinished executions, then serves. The
/// returned future resolves when the engine stops (after [`Handle::shutdown`], or on a
/// storage failure, which it returns).
pub async fn spawn(
    config: EngineConfig,
    store: Arc<dyn Store>,
    plans: Arc<Plans>,
    kinds: Kinds,
) -> Result<(Handle, tokio::task::JoinHandle<Result<()>>)> {
    let (tx, rx) = mpsc::channel(config.max_batch.max(1024) * 4);
    let (events, _) = broadcast::channel(config.event_buffer.max(1));
    let shutdown = CancellationToken::new();
    let secret_names = Arc::new(config.secrets.keys().cloned().collect());
    let counters = Arc::new(lease::Counters::default());
    let member = match config.lease {
        Some(lease) => Some(Arc::new(
            lease::Member::join(store.clone(), &config, lease, counters.clone()).await?,
        )),
        None => None,
    };
    let handle = Handle {
        node: Arc::from(config.node.as_str()),
        lease: config.lease,
        counters,
        secret_names,
        secrets: Arc::new(config.secrets.clone()),
        limits: config.limits,
        inputs_offload: crate::eval::Offload::default(),
        tx: tx.clone(),
        store: store.clone(),
        plans: plans.clone(),
        events: events.clone(),
        shutdown: shutdown.clone(),
        kinds: kinds.clone(),
    };
    let mut service = service::Service::new(
        config,
        store,
        plans,
        kinds,
        tx.clone(),
        rx,
        events,
        shutdown.clone(),
    );
    if let Err(e) = service.recover().await {
        if let Some(member) = &member {
            member.leave().await;
        }
        return Err(e);
    }
    let renewing = member.as_ref().map(|m| m.spawn(tx, shutdown.child_token()));
    let stopped = run_on_own_thread(service)?;
    // Should the caller's runtime drop this task (it is shutting down), the loop stops
    // too rather than wait for commands forever.
    let stop = shutdown.clone().drop_guard();
    let join = tokio::spawn(async move {
        let result = stopped.await.unwrap_or_else(|_| {
            Err(Error::Storage(harmonia_storage::Error::Backend(
                "the scheduler's thread ended without a word (it panicked: the log has why)".into(),
            )))
        });
        drop(stop);
        // Stopped: renew no more, and hand what is unfinished to the other nodes.
        if let Some(task) = renewing {
            task.abort();
            let _ = task.await;
        }
        if let Some(member) = member {
            member.leave().await;
        }
        result
    });
    Ok((handle, join))
}

/// Runs the scheduler's loop on a thread of its own, with a runtime of its own for its
/// waits and for pure attempts: a commit on that thread (`ExecutionLog::commit_here`)
/// blocks nothing else, and a step whose commit and attempt run there wakes no other
/// thread. What waits on the store or the network runs on the caller's runtime
/// (`Service::rt`). The receiver gets the loop's result when it ends.
fn run_on_own_thread(service: service::Service) -> Result<oneshot::Receiver<Result<()>>> {
    let (done, stopped) = oneshot::channel();
    // Expressions evaluate on this thread (in the turn) and on its blocking pool (pure
    // attempts too slow for a turn): they need a large stack, or each evaluation maps
    // one of its own (see `harmonia_expr::THREAD_STACK`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_stack_size(harmonia_expr::THREAD_STACK)
        .build()
        .map_err(|e| Error::Storage(harmonia_storage::Error::Backend(Box::new(e))))?;
    std::thread::Builder::new()
        .name("harmonia-scheduler".into())
        .stack_size(harmonia_expr::THREAD_STACK)
        .spawn(move || {
            let result = runtime.block_on(service.run());
            let _ = done.send(result);
        })
        .map_err(|e| Error::Storage(harmonia_storage::Error::Backend(Box::new(e))))?;
    Ok(stopped)
}

impl Handle {
    /// The store the engine writes to (for reads: executions, task runs, events).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The workflow definitions the engine runs.
    pub fn plans(&self) -> &Arc<Plans> {
        &self.plans
    }

    /// Checks that every task of `workflow` can run here: a kind for its type that can
    /// run on this engine, and
    /// every secret it names (`$secrets.NAME`) set.
    pub fn check_runnable(&self, workflow: &Workflow) -> Result<()> {
        for task in &workflow.plan.tasks {
            let mut missing = None;
            task.with.for_each_template(&mut |_, t| {
                for p in t.programs() {
                    for r in p.var_paths() {
                        if r.var == harmonia_expr::Var::Secrets
                            && let Some(harmonia_expr::PathSeg::Key(name)) = r.path.first()
                            && !self.secret_names.contains(name)
                        {
                            missing.get_or_insert_with(|| name.clone());
                        }
                    }
                }
            });
            if let Some(name) = missing {
                return Err(Error::Unrunnable(format!(
                    "task `{}` reads the secret `{1}`, which is not set: set the environment variable HARMONIA_SECRET_{1} where Harmonia runs",
                    task.name,
                    harmonia_expr::clip(&name)
                )));
            }
            let unavailable = match self.kinds.get(&task.kind) {
                None => Some(String::new()),
                Some(kind) => kind.unavailable().map(|why| format!("; {why}")),
            };
            if let Some(hint) = unavailable {
                return Err(Error::Unrunnable(format!(
                    "task `{}` uses the `{}` task type, which this engine cannot run{hint}",
                    task.name, task.kind
                )));
            }
        }
        Ok(())
    }

    /// Starts an execution. The inputs are validated (defaults applied) first: invalid
    /// inputs create nothing. Returns once the start is durable.
    pub async fn start(&self, request: StartRequest) -> Result<ExecutionId> {
        self.start_with_status(request).await.map(|s| s.id)
    }

    /// [`Handle::start`], also answering the execution's status once its start is
    /// durable: `running`, or already `succeeded` or `failed` when every task was pure
    /// and ran inline in the same commit. Without `params`, the workflow's own `params`
    /// (those an instantiated template recorded) are `$params`.
    ///
    /// With an idempotency key that already started an execution of this workflow
    /// (and has not expired), nothing starts: the answer is that execution, with the
    /// key's record (compare its `body_hash` to tell a repeat from a reused key). Two
    /// starts racing with one key start one execution: the store holds each key once.
    pub async fn start_with_status(&self, mut request: StartRequest) -> Result<Started> {
        if let Some(key) = &request.idempotency {
            let scope = request.workflow.record.id.to_string();
            if let Some(existing) = self
                .store
                .idempotency(&scope, &key.key, Timestamp::now())
                .await?
            {
                return Ok(Started {
                    id: existing.execution,
                    status: None,
                    existing: Some(existing),
                });
            }
        }
        self.check_runnable(&request.workflow)?;
        if request.params.is_null()
            && let Some(params) = &request.workflow.plan.workflow.params
        {
            request.params = params.clone();
        }
        // Taken, not copied: inputs may be megabytes.
        let inputs = request
            .workflow
            .plan
            .prepare_inputs(std::mem::take(&mut request.inputs))
            .map_err(Error::InvalidInputs)?;
        let (reply, rx) = oneshot::channel();
        self.send(Command::Start {
            request,
            inputs,
            reply,
        })
        .await?;
        rx.await.map_err(|_| Error::Stopped)?
    }

    /// Cancels an execution: running work is stopped. Cancelling a cancelled execution
    /// is a no-op; cancelling one that succeeded or failed is an error.
    pub async fn cancel(&self, id: ExecutionId, reason: Option<String>) -> Result<ExecutionStatus> {
        self.control(id, Control::Cancel(reason)).await
    }

    /// Pauses a running execution: no new attempt starts; running ones finish.
    pub async fn pause(&self, id: ExecutionId) -> Result<ExecutionStatus> {
        self.control(id, Control::Pause).await
    }

    /// Resumes a paused execution.
    pub async fn resume(&self, id: ExecutionId) -> Result<ExecutionStatus> {
        self.control(id, Control::Resume).await
    }

    /// Decides what becomes of `task`, held by `on_error: pause`: run it again, take an
    /// output for it, or let it fail. The execution goes on once no task is held.
    pub async fn decide(
        &self,
        id: ExecutionId,
        task: &str,
        decision: crate::event::Decision,
    ) -> Result<ExecutionStatus> {
        let task = task.to_string();
        self.control(id, Control::Decide { task, decision }).await
    }

    async fn control(&self, id: ExecutionId, control: Control) -> Result<ExecutionStatus> {
        let mut tries = 0;
        loop {
            let (reply, rx) = oneshot::channel();
            let command = Command::Control {
                id,
                control: control.clone(),
                reply,
            };
            self.send_loaded(id, command, true).await?;
            match rx.await.map_err(|_| Error::Stopped)? {
                // Another node took it over while the request was applied: again, on
                // the execution as that node left it.
                Err(Error::Moved(_)) if tries < MOVED_TRIES => tries += 1,
                answer => return answer,
            }
        }
    }

    /// Sends a signal to the waiting attempt of `task` (of its fan-out item `item`;
    /// needed only when several wait): an approval, say. Its kind judges it: a
    /// refusal ([`Error::Refused`]) changes nothing; otherwise the attempt's result is
    /// committed before this returns it. [`Error::NotWaiting`] when no attempt of the
    /// task waits for such a signal (it has not begun waiting, or it ended).
    pub async fn signal(
        &self,
        execution: ExecutionId,
        task: &str,
        item: Option<u32>,
        signal: Signal,
    ) -> Result<Delivery> {
        let mut tries = 0;
        loop {
            let (reply, rx) = oneshot::channel();
            let command = Command::Signal {
                execution,
                task: task.to_string(),
                item,
                signal: signal.clone(),
                reply,
            };
            self.send_loaded(execution, command, true).await?;
            match rx.await.map_err(|_| Error::Stopped)? {
                // As for a control (see `control`).
                Err(Error::Moved(_)) if tries < MOVED_TRIES => tries += 1,
                answer => return answer,
            }
        }
    }

    /// Delivers an event (CloudEvents JSON) to every attempt waiting on its `type`
    /// whose filter it matches; returns where it went, once that is committed. It
    /// reaches only waits that have begun: storing it once (by `source` and `id`) is
    /// the caller's part.
    pub async fn deliver_event(&self, event: Value) -> Result<Vec<Delivery>> {
        // Waits of parked executions may not be in memory: load them first.
        let ty = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let waiting = self
            .store
            .waiting(crate::kinds::EVENT_SIGNAL, Some(ty))
            .await?;
        let mut ids: Vec<ExecutionId> = waiting.iter().map(|t| t.execution).collect();
        ids.sort_unstable();
        ids.dedup();
        let (reply, rx) = oneshot::channel();
        // Each load runs the next; the last runs the delivery.
        let command = ids
            .into_iter()
            .fold(Command::Event { event, reply }, |then, id| {
                Command::Ensure {
                    id,
                    then: Box::new(then),
                    steal: true,
                }
            });
        self.send(command).await?;
        rx.await.map_err(|_| Error::Stopped)?
    }

    /// Sends `then` about execution `id`, loading the execution first if it is parked
    /// (claiming it, or with `steal` taking it, from another node: see
    /// `loading::load_then`).
    async fn send_loaded(&self, id: ExecutionId, then: Command, steal: bool) -> Result<()> {
        self.send(Command::Ensure {
            id,
            then: Box::new(then),
            steal,
        })
        .await
    }

    /// What the engine holds in memory now.
    pub async fn stats(&self) -> Result<Stats> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Stats(reply)).await?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// The value of secret `name` (`$secrets.NAME`), for what must check a signature
    /// with it (a webhook); never to be logged, stored or answered.
    pub fn secret(&self, name: &str) -> Option<&str> {
        self.secrets.get(name).map(String::as_str)
    }

    /// `value` with every secret's value replaced by `***` (in strings, numbers and
    /// object keys): for what leaves the engine towards a third party (a prompt), on
    /// top of the redaction the engine applies before it records anything.
    pub fn redact_secrets(&self, value: &mut Value) {
        if !self.secrets.is_empty() {
            runner::Secrets::new(&self.secrets).redact(value);
        }
    }

    /// This engine as a node: its id, its lease, and what it did as a member.
    pub fn node(&self) -> NodeStatus {
        self.counters.status(&self.node, self.lease)
    }

    /// The task kinds this engine runs.
    pub fn kinds(&self) -> &Kinds {
        &self.kinds
    }

    /// Waits until an execution ends, and returns its record.
    pub async fn wait(&self, id: ExecutionId) -> Result<ExecutionRecord> {
        loop {
            if let Some(r) = self.store.execution(id).await?
                && r.status.is_terminal()
            {
                return Ok(r);
            }
            let (reply, rx) = oneshot::channel();
            // Waiting does not take the execution from the node that runs it.
            self.send_loaded(id, Command::Wait { id, reply }, false)
                .await?;
            match rx.await.map_err(|_| Error::Stopped)? {
                Some(done) => match done.await {
                    // The final row as stored (the state lets go of its inputs once
                    // they are stored; the store has them).
                    Ok(ended) => return Ok(self.store.execution(id).await?.unwrap_or(ended)),
                    // It moved to another node: look again.
                    Err(_) if !self.shutdown.is_cancelled() => {}
                    Err(_) => return Err(Error::Stopped),
                },
                None => {
                    // Not running here: it ended meanwhile, it does not exist, or
                    // another node runs it.
                    match self.store.execution(id).await? {
                        Some(r) if r.status.is_terminal() => return Ok(r),
                        Some(r) if r.owner.as_deref() == Some(&*self.node) => {
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        }
                        Some(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
                        None => return Err(Error::UnknownExecution(id)),
                    }
                }
            }
        }
    }

    /// What retrying execution `id` would do: which tasks run again, which outputs
    /// are reused. Nothing starts.
    pub async fn retry_preview(
        &self,
        id: ExecutionId,
        options: &RetryOptions,
    ) -> Result<RetryPlan> {
        Ok(
            retry::prepare(self.store.as_ref(), &self.plans, id, options)
                .await?
                .plan,
        )
    }

    /// Retries execution `id` as a new, linked execution (see [`RetryPlan`]).
    pub async fn retry(
        &self,
        id: ExecutionId,
        options: &RetryOptions,
    ) -> Result<(ExecutionId, RetryPlan)> {
        let prepared = retry::prepare(self.store.as_ref(), &self.plans, id, options).await?;
        let params = self
            .history(id)
            .await?
            .into_iter()
            .find_map(|e| match e.event {
                Event::ExecutionStarted { params, .. } => Some(params),
                _ => None,
            })
            .unwrap_or(Value::Null);
        let request = StartRequest {
            workflow: prepared.workflow,
            inputs: prepared.inputs,
            params,
            retry_of: Some(id),
            origin: Some(Origin::by(OriginKind::Retry, id.to_string())),
            reused: prepared.reused,
            idempotency: None,
            held: false,
        };
        let new = self.start(request).await?;
        Ok((new, prepared.plan))
    }

    /// The event log of an execution, in order: its history and its checkpoint.
    pub async fn history(&self, id: ExecutionId) -> Result<Vec<LoggedEvent>> {
        let records = self.store.events(id).await?;
        if records.is_empty() && self.store.execution(id).await?.is_none() {
            return Err(Error::UnknownExecution(id));
        }
        decoded(records)
    }

    /// The events of execution `id` after `seq`, decoded (empty when there are none,
    /// or no such execution): how a watcher follows an execution another node runs.
    pub async fn history_after(&self, id: ExecutionId, seq: u64) -> Result<Vec<LoggedEvent>> {
        decoded(self.store.events_after(id, seq).await?)
    }

    /// Every committed event, as it is committed. A receiver that falls behind by more
    /// than the channel's capacity gets `Lagged` and should resynchronize from the store.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LoggedEvent>> {
        self.events.subscribe()
    }

    /// Stops the engine: no new commands; what is committed stays; running attempts are
    /// abandoned to recovery.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Stops the engine gracefully: no new execution or attempt starts; attempts that
    /// are running get up to `grace` to finish, and their results are committed; then
    /// the engine stops (what still runs is abandoned to recovery, as by
    /// [`Handle::shutdown`]). Returns once the engine has stopped.
    pub async fn drain(&self, grace: std::time::Duration) {
        let (reply, rx) = oneshot::channel();
        let until = std::time::Instant::now() + grace;
        if self.send(Command::Drain { until, reply }).await.is_ok() {
            let _ = rx.await;
        }
        self.shutdown.cancel();
    }

    async fn send(&self, command: Command) -> Result<()> {
        if self.shutdown.is_cancelled() {
            return Err(Error::Stopped);
        }
        self.tx.send(command).await.map_err(|_| Error::Stopped)
    }
}

/// Stored events, decoded; one that does not decode is corrupt, saying which.
fn decoded(records: Vec<harmonia_storage::EventRecord>) -> Result<Vec<LoggedEvent>> {
    records
        .into_iter()
        .map(|r| {
            let event = r.data.decode().map_err(|e| {
                harmonia_storage::Error::Corrupt(format!(
                    "event {} of execution {}: {e}",
                    r.seq, r.execution
                ))
            })?;
            Ok(LoggedEvent {
                execution: r.execution,
                seq: r.seq,
                at: r.at,
                event,
            })
        })
        .collect()
}
