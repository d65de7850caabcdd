//! The scheduler's loop: commands in, events applied, one commit per turn, then effects.
//!
//! Invariants:
//! - Only this task touches execution state; everything else talks to it by command.
//! - Within a turn, events are appended to the batch in the order they are applied, with
//!   consecutive sequence numbers per execution; the batch is committed in one
//!   transaction before any of its effects (`After`) runs.
//! - An attempt's start is recorded in the turn that dispatched it (`pump` ends
//!   `settle_batch`), so a step's result and the next step's start share one commit.
//!   Effects that produce events after the commit (a child's end, a slot freed) record
//!   them into the next turn's batch, which is committed without waiting for new
//!   commands.

use std::collections::{HashMap, HashSet, VecDeque};

use std::sync::Arc;
use std::time::Duration;

use harmonia_storage::json::RawJson;
use harmonia_storage::{
    EventRecord, ExecutionId, ExecutionRecord, ExecutionStatus, Store, Timestamp,
};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::crash::{CrashPoint, Crasher};
use super::fair::Fair;
use super::runner::Secrets;
use super::timers::Timers;
use super::{Command, Control, LoggedEvent, StartRequest};
use crate::config::EngineConfig;
use crate::error::{Error, Result};
use crate::eval::{Budget, Offload};
use crate::event::{Event, TaskError, TimerKey};
use crate::kinds::Kinds;
use crate::machine::{self, AttemptRef, Effect, Env, Execution};
use crate::plans::Plans;

/// Something to do once the current batch is committed.
pub(super) enum After {
    /// The reply to a start, and the execution's status as its commit writes it
    /// (read when the commit is prepared: a later part of the turn may change it
    /// before this one is written, see `commit`).
    ReplyStart(
        oneshot::Sender<Result<super::Started>>,
        ExecutionId,
        Option<ExecutionStatus>,
    ),
    ReplyControl(
        oneshot::Sender<Result<ExecutionStatus>>,
        Result<ExecutionStatus>,
    ),
    Launch(Box<super::dispatch::Launch>),
    Timer(ExecutionId, TimerKey, Timestamp),
    Abort(ExecutionId, AttemptRef),
    Finished(ExecutionId),
    ResolveChild(ExecutionId, AttemptRef, super::waits::ChildCall),
    AwaitChild(ExecutionId, AttemptRef, ExecutionId),
    ReplySignal(super::SignalReply, Result<super::Delivery>),
    ReplyEvent(
        oneshot::Sender<Result<Vec<super::Delivery>>>,
        Result<Vec<super::Delivery>>,
    ),
}

impl After {
    /// The execution it is about.
    pub(super) fn execution(&self) -> Option<ExecutionId> {
        match self {
            After::ReplyStart(_, id, _)
            | After::Timer(id, ..)
            | After::Abort(id, _)
            | After::Finished(id)
            | After::ResolveChild(id, ..)
            | After::AwaitChild(id, ..) => Some(*id),
            After::Launch(l) => Some(l.id),
            After::ReplySignal(_, Ok(d)) => Some(d.execution),
            After::ReplyControl(..) | After::ReplySignal(_, Err(_)) | After::ReplyEvent(..) => None,
        }
    }

    /// Drops it, answering its caller, if it has one, with `error(execution)`.
    pub(super) fn refuse(self, error: impl Fn(ExecutionId) -> Error) {
        let id = self.execution();
        let Some(id) = id else {
            return;
        };
        match self {
            After::ReplyStart(reply, ..) => {
                let _ = reply.send(Err(error(id)));
            }
            After::ReplySignal(reply, _) => {
                let _ = reply.send(Err(error(id)));
            }
            _ => {}
        }
    }
}

/// The events and effects of the current turn.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) events: Vec<EventRecord>,
    pub(super) logged: Vec<LoggedEvent>,
    /// Some event of this turn was not kept in `logged` (nobody listened when it was
    /// made): if someone listens by the commit, `logged` is rebuilt from `events`.
    pub(super) unlogged: bool,
    pub(super) touched: HashSet<ExecutionId>,
    /// Timers that fired in this turn: their rows go (see `commit`).
    pub(super) timers_fired: Vec<(ExecutionId, TimerKey)>,
    /// The idempotency keys of the executions this turn starts.
    pub(super) idempotency: Vec<harmonia_storage::IdempotencyRecord>,
    pub(super) work: VecDeque<(ExecutionId, Event)>,
    /// Pure attempts to run in a turn (see `dispatch`), after the events queued; the
    /// executions take turns.
    pub(super) pure: Fair<ExecutionId, (AttemptRef, bool)>,
    /// Executions with decisions or dispatches left (`Effect::Continue`), last.
    pub(super) proceed: VecDeque<ExecutionId>,
    pub(super) after: Vec<After>,
}

impl Batch {
    /// Whether work waits to be applied.
    fn has_queued(&self) -> bool {
        !(self.work.is_empty() && self.pure.is_empty() && self.proceed.is_empty())
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.work.is_empty()
            && self.pure.is_empty()
            && self.proceed.is_empty()
            && self.after.is_empty()
    }
}

pub(crate) struct Service {
    pub(super) config: EngineConfig,
    pub(super) store: Arc<dyn Store>,
    /// The runtime of the caller of `scheduler::spawn`: where everything that waits on
    /// the store or the network runs (this loop runs on a thread of its own, see
    /// `scheduler::spawn`).
    pub(super) rt: tokio::runtime::Handle,
    pub(super) plans: Arc<Plans>,
    pub(super) kinds: Kinds,
    pub(super) tx: mpsc::Sender<Command>,
    rx: mpsc::Receiver<Command>,
    pub(super) events: broadcast::Sender<Arc<LoggedEvent>>,
    shutdown: CancellationToken,
    pub(super) secrets: Arc<Secrets>,
    pub(super) executions: HashMap<ExecutionId, Execution>,
    pub(super) timers: Timers,
    pub(super) running: HashMap<(ExecutionId, AttemptRef), CancellationToken>,
    pub(super) ready: VecDeque<(ExecutionId, AttemptRef, bool)>,
    pub(super) waiters: HashMap<ExecutionId, Vec<oneshot::Sender<ExecutionRecord>>>,
    pub(super) batch: Batch,
    /// What is left of this turn's time for evaluating expressions in it.
    pub(super) budget: Budget,
    pub(super) offload: Offload,
    /// Set while draining: until when running attempts may finish, and who waits.
    pub(super) drain: Option<(std::time::Instant, Vec<oneshot::Sender<()>>)>,
    pub(super) crasher: Crasher,
    /// Executions being loaded from the store, with what to do once they are (see
    /// `loading`).
    pub(super) loading: HashMap<ExecutionId, Vec<Command>>,
    /// The results of pure attempts run on this thread right after the commit that
    /// recorded their start (see `dispatch`), as the commands their tasks would have
    /// sent: the next turn takes them before the channel.
    pub(super) ran_here: VecDeque<Command>,
    /// What is left of the time for running those attempts after the current commit.
    pub(super) here: Budget,
}

impl Service {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        config: EngineConfig,
        store: Arc<dyn Store>,
        plans: Arc<Plans>,
        kinds: Kinds,
        tx: mpsc::Sender<Command>,
        rx: mpsc::Receiver<Command>,
        events: broadcast::Sender<Arc<LoggedEvent>>,
        shutdown: CancellationToken,
    ) -> Service {
        let secrets = Arc::new(Secrets::new(&config.secrets));
        Service {
            config,
            store,
            rt: tokio::runtime::Handle::current(),
            plans,
            kinds,
            tx,
            rx,
            events,
            shutdown,
            secrets,
            executions: HashMap::new(),
            timers: Timers::default(),
            running: HashMap::new(),
            ready: VecDeque::new(),
            waiters: HashMap::new(),
            batch: Batch::default(),
            budget: Budget::turn(),
            offload: Offload::default(),
            drain: None,
            loading: HashMap::new(),
            crasher: Crasher::new(CrashPoint::from_env()),
            ran_here: VecDeque::new(),
            here: Budget::turn(),
        }
    }

    /// The machine's environment now, carrying what is left of the turn's budget
    /// (handed back with [`Service::spent`]).
    pub(super) fn env(&self) -> Env {
        let mut env = Env::new(Timestamp::now(), rand::random(), self.config.limits);
        env.budget = self.budget;
        env
    }

    /// Keeps what an application of the machine left of the turn's budget.
    pub(super) fn spent(&mut self, env: &Env) {
        self.budget = env.budget;
    }

    /// The loop: one turn per batch of commands.
    pub(super) async fn run(mut self) -> Result<()> {
        let result = self.turns().await;
        // Whatever is left of the batch is still committed: it is acknowledged work.
        if let Err(e) = self.commit().await {
            tracing::error!(error = %e, "final commit failed");
        }
        if !self.running.is_empty() {
            tracing::warn!(
                attempts = self.running.len(),
                "stopping with attempts still running: they run again at the next start"
            );
        }
        for token in self.running.values() {
            token.cancel();
        }
        for waiter in self.drain.take().map(|(_, w)| w).unwrap_or_default() {
            let _ = waiter.send(());
        }
        result
    }

    /// Whether a drain is over: nothing is left to apply, and no attempt runs (or the
    /// grace period has passed).
    fn drained(&self) -> bool {
        self.drain.as_ref().is_some_and(|(until, _)| {
            self.batch.is_empty()
                && (self.running.is_empty() || std::time::Instant::now() >= *until)
        })
    }

    async fn turns(&mut self) -> Result<()> {
        loop {
            // Each turn has its own time for evaluating expressions inside it.
            self.budget = Budget::turn();
            if self.drained() {
                return Ok(());
            }
            if self.batch.is_empty() && self.ran_here.is_empty() {
                let drain_until = self.drain.as_ref().map(|(until, _)| *until);
                let drain_deadline = async {
                    match drain_until {
                        Some(until) => tokio::time::sleep_until(until.into()).await,
                        None => std::future::pending().await,
                    }
                };
                let due = self.timers.next_due();
                let sleep = async {
                    match due {
                        Some(due) => {
                            let wait = due.since(Timestamp::now());
                            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
                        }
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    biased;
                    () = self.shutdown.cancelled() => return Ok(()),
                    command = self.rx.recv() => match command {
                        Some(c) => self.command(c),
                        None => return Ok(()),
                    },
                    () = sleep => {}
                    () = drain_deadline => continue,
                }
                // The turn's work time counts from now, not from when it began to wait.
                self.budget = self.budget.restarted();
            }
            let mut taken = 1;
            while let Some(c) = self.ran_here.pop_front() {
                self.command(c);
                taken += 1;
            }
            while taken < self.config.max_batch {
                match self.rx.try_recv() {
                    Ok(c) => {
                        self.command(c);
                        taken += 1;
                    }
                    Err(_) => break,
                }
            }
            for (id, key) in self.timers.take_due(Timestamp::now()) {
                self.fire(id, key, false);
            }
            self.settle_batch();
            // A turn cut with work left goes on in parts, each written beside the next:
            // a part goes to be written on the store's thread while this one applies
            // the next, and its effects are released once it is written, before the
            // next part is sent. No command is taken in between, so nothing outside
            // this loop sees what is applied before it is written. When the turn's
            // time is up and nothing waits to be taken (no command, no timer due),
            // the next turn would only apply more of the same work: it goes on here,
            // as a new turn, with its write still beside it.
            while self.batch.has_queued() {
                if self.budget.is_spent() {
                    if self.waiting() {
                        break;
                    }
                    self.budget = Budget::turn();
                }
                let flight = self.send_ahead();
                self.settle_batch();
                self.land(flight).await?;
            }
            self.commit().await?;
        }
    }

    /// Whether something waits to be taken by a turn: a command, or a timer due.
    fn waiting(&self) -> bool {
        !self.rx.is_empty()
            || !self.ran_here.is_empty()
            || self
                .timers
                .next_due()
                .is_some_and(|due| due <= Timestamp::now())
    }

    /// Applies the queued work until none is left, or the part of the turn is full:
    /// the batch holds `max_batch_events`, or the part or the turn has taken its time
    /// (see `crate::eval::Budget`). What is left is applied in the turn's next part,
    /// or in the next turn, after the commands that came meanwhile, so that a plan of
    /// many thousand tasks does not hold other executions.
    pub(super) fn settle_batch(&mut self) {
        let part = std::time::Instant::now();
        while self.batch.events.len() < self.config.max_batch_events
            && !self.budget.is_part_spent(part)
        {
            if let Some((id, event)) = self.batch.work.pop_front() {
                self.record(id, event);
            } else if let Some((id, (a, recovered))) = self.batch.pure.pop() {
                self.guarded(id, |s| s.run_pure(id, a, recovered));
            } else if let Some(id) = self.batch.proceed.pop_front() {
                self.proceed(id);
            } else {
                break;
            }
        }
        // The starts of the attempts dispatched in this turn go in its commit.
        self.pump();
    }

    /// Applies `event` to execution `id` and handles the effects (guarded: a panic
    /// fails the execution, see `guard`).
    pub(super) fn record(&mut self, id: ExecutionId, event: Event) {
        self.guarded(id, |s| s.record_unguarded(id, event));
    }

    fn record_unguarded(&mut self, id: ExecutionId, event: Event) {
        self.crasher.on_event(&event);
        let mut env = self.env();
        let now = env.now;
        let Some(x) = self.executions.get_mut(&id) else {
            return;
        };
        if machine::stale_result(x, &event) {
            // A result for an attempt that already ended: nothing to record.
            return;
        }
        let before = x.seq;
        let effects = machine::apply(x, &event, &mut env);
        self.spent(&env);
        self.push_event(id, before + 1, now, event);
        self.handle_effects(id, before + 1, now, effects);
    }

    /// Takes in a decision's evaluation that ran off the turn.
    fn deliver(&mut self, id: ExecutionId, done: machine::Evaluated) {
        self.guarded(id, |s| s.deliver_unguarded(id, done));
    }

    fn deliver_unguarded(&mut self, id: ExecutionId, done: machine::Evaluated) {
        let mut env = self.env();
        let now = env.now;
        let Some(x) = self.executions.get_mut(&id) else {
            return;
        };
        let before = x.seq;
        let effects = machine::evaluated(x, done, &mut env);
        self.spent(&env);
        self.handle_effects(id, before, now, effects);
    }

    /// Goes on deciding for an execution that had more to decide than one turn takes.
    fn proceed(&mut self, id: ExecutionId) {
        self.guarded(id, |s| s.proceed_unguarded(id));
    }

    fn proceed_unguarded(&mut self, id: ExecutionId) {
        let mut env = self.env();
        let now = env.now;
        let Some(x) = self.executions.get_mut(&id) else {
            return;
        };
        let before = x.seq;
        let effects = machine::proceed(x, &mut env);
        self.spent(&env);
        self.handle_effects(id, before, now, effects);
    }

    /// Runs a decision's evaluation off the turn; its result comes back as a command.
    fn evaluate(&self, id: ExecutionId, job: machine::Job) {
        let tx = self.tx.clone();
        let offload = self.offload.clone();
        let limits = self.config.limits;
        self.rt.spawn(async move {
            let fallback = job.failed("it could not run; the server log has the details");
            let done = offload
                .run(move || job.run(&limits))
                .await
                .unwrap_or(fallback);
            let _ = tx
                .send(Command::Evaluated {
                    execution: id,
                    done,
                })
                .await;
        });
    }

    pub(super) fn push_event(&mut self, id: ExecutionId, seq: u64, at: Timestamp, event: Event) {
        if let Some(x) = self.executions.get(&id) {
            super::observe::event(x, &event);
        }
        // Serialized once, to the text the store writes.
        let data = RawJson::to_raw(&event).unwrap_or_else(|_| RawJson::null());
        self.batch.events.push(EventRecord {
            execution: id,
            seq,
            at,
            kind: event.kind().to_string(),
            data,
        });
        if self.events.receiver_count() > 0 {
            self.batch.logged.push(LoggedEvent {
                execution: id,
                seq,
                at,
                event,
            });
        } else {
            self.batch.unlogged = true;
        }
        self.batch.touched.insert(id);
    }

    pub(super) fn handle_effects(
        &mut self,
        id: ExecutionId,
        mut seq: u64,
        now: Timestamp,
        effects: Vec<Effect>,
    ) {
        for effect in effects {
            match effect {
                Effect::Record(event) => {
                    seq += 1;
                    self.push_event(id, seq, now, *event);
                }
                Effect::Dispatch { attempt, recovered } => self.dispatch(id, attempt, recovered),
                Effect::Abort(a) => self.batch.after.push(After::Abort(id, a)),
                Effect::SetTimer { key, due } => self.batch.after.push(After::Timer(id, key, due)),
                Effect::CancelChild(child) => self.batch.work.push_back((
                    child,
                    Event::CancelRequested {
                        reason: Some("its parent execution stopped".into()),
                    },
                )),
                Effect::AwaitChild { attempt, child } => self.await_child(id, attempt, child),
                Effect::Evaluate(job) => self.evaluate(id, job),
                Effect::Continue => self.batch.proceed.push_back(id),
                Effect::Finished => {
                    self.deliver_to_parent(id);
                    self.batch.after.push(After::Finished(id));
                }
            }
        }
    }

    pub(super) fn command(&mut self, command: Command) {
        match command {
            Command::Start { reply, .. } if self.drain.is_some() => {
                let _ = reply.send(Err(Error::Stopped));
            }
            Command::Start {
                request,
                inputs,
                reply,
            } => {
                let id = self.create(request, inputs, None);
                self.batch.after.push(After::ReplyStart(reply, id, None));
            }
            Command::Drain { until, reply } => {
                tracing::info!(
                    running = self.running.len(),
                    "draining: no new attempt starts; waiting for those running"
                );
                let waiters = match self.drain.take() {
                    Some((earlier, mut waiters)) => {
                        waiters.push(reply);
                        self.drain = Some((earlier.min(until), waiters));
                        return;
                    }
                    None => vec![reply],
                };
                self.drain = Some((until, waiters));
            }
            Command::Control { id, control, reply } => self.control(id, control, reply),
            Command::Wait { id, reply } => {
                let rx = match self.executions.get(&id) {
                    Some(x) if !x.is_finished() => {
                        let (tx, rx) = oneshot::channel();
                        self.waiters.entry(id).or_default().push(tx);
                        Some(rx)
                    }
                    _ => None,
                };
                let _ = reply.send(rx);
            }
            Command::AttemptDone {
                execution,
                attempt,
                result,
                usage,
            } => {
                self.running.remove(&(execution, attempt));
                let event = self.result_event_spending(execution, attempt, result, usage);
                if let Some(event) = event {
                    self.batch.work.push_back((execution, event));
                }
                self.pump();
            }
            Command::Prepared {
                execution,
                attempt,
                recovered,
                begin,
            } => self.begin_wait(execution, attempt, recovered, begin),
            Command::Signal {
                execution,
                task,
                item,
                signal,
                reply,
            } => {
                if self.executions.contains_key(&execution) {
                    self.guarded(execution, |s| {
                        s.signal(execution, &task, item, signal, reply)
                    });
                } else {
                    self.signal_elsewhere(execution, task, reply);
                }
            }
            Command::Event { event, reply } => self.deliver_event(event, reply),
            Command::Ensure { id, then, steal } => self.load_then(id, *then, steal),
            Command::Stats(reply) => {
                let _ = reply.send(super::Stats {
                    executions: self.executions.len(),
                    running: self.running.len(),
                    timers: self.timers.count(),
                });
            }
            Command::Loaded { id, result } => self.loaded(id, result),
            Command::Adopt { ids } => self.adopt(ids),
            Command::Checked { id, current } => self.checked(id, current),
            Command::Fire {
                execution,
                key,
                loaded,
            } => self.fire(execution, key, loaded),
            Command::ChildFinished { child, loaded } => self.child_finished(*child, loaded),
            Command::WaitEnded {
                execution,
                attempt,
                result,
                reply,
            } => self.wait_ended(execution, attempt, result, reply),
            Command::Evaluated { execution, done } => self.deliver(execution, done),
            Command::ChildReady {
                parent,
                attempt,
                child,
            } => self.child_ready(parent, attempt, child),
            Command::ChildEnded {
                parent,
                attempt,
                child,
            } => self.child_ended(parent, attempt, &child),
        }
    }

    /// Creates an execution: its first event, applied and queued for commit.
    pub(super) fn create(
        &mut self,
        request: StartRequest,
        inputs: serde_json::Value,
        parent: Option<harmonia_storage::ParentLink>,
    ) -> ExecutionId {
        let id = ExecutionId::new();
        if let Some(key) = &request.idempotency {
            let now = Timestamp::now();
            self.batch
                .idempotency
                .push(harmonia_storage::IdempotencyRecord {
                    scope: request.workflow.record.id.to_string(),
                    key: key.key.clone(),
                    body_hash: key.body_hash.clone(),
                    execution: id,
                    created_at: now,
                    expires_at: now.plus(key.ttl),
                });
        }
        let held = request.held;
        let first = Event::ExecutionStarted {
            workflow_id: request.workflow.record.id,
            workflow: request.workflow.record.name.clone(),
            version: request.workflow.record.version,
            inputs: Arc::new(inputs),
            params: request.params,
            parent,
            retry_of: request.retry_of,
            origin: request.origin,
            reused: request.reused,
        };
        if let Some(mut x) = machine::start(id, request.workflow.plan, &first, Timestamp::now()) {
            // Held: nothing is dispatched from its start, and its log says why.
            x.paused = held;
            self.executions.insert(id, x);
            self.record(id, first);
            if held {
                self.record(id, Event::Paused);
            }
        }
        id
    }

    /// The event recording an attempt's result, if its execution is still here.
    pub(super) fn result_event(
        &self,
        execution: ExecutionId,
        attempt: AttemptRef,
        result: std::result::Result<serde_json::Value, TaskError>,
    ) -> Option<Event> {
        self.result_event_spending(execution, attempt, result, None)
    }

    /// The event recording an attempt's result and the LLM tokens it spent, if its
    /// execution is still here.
    pub(super) fn result_event_spending(
        &self,
        execution: ExecutionId,
        attempt: AttemptRef,
        result: std::result::Result<serde_json::Value, TaskError>,
        usage: Option<crate::event::TokenUsage>,
    ) -> Option<Event> {
        let x = self.executions.get(&execution)?;
        let task = x.plan.tasks[attempt.task].name.clone();
        Some(match result {
            Ok(output) => Event::AttemptSucceeded {
                task,
                item: attempt.item,
                attempt: attempt.attempt,
                output,
                usage,
            },
            Err(error) => Event::AttemptFailed {
                task,
                item: attempt.item,
                attempt: attempt.attempt,
                error,
                usage,
            },
        })
    }

    fn control(
        &mut self,
        id: ExecutionId,
        control: Control,
        reply: oneshot::Sender<Result<ExecutionStatus>>,
    ) {
        let Some(x) = self.executions.get(&id) else {
            // Not running here: finished, or unknown. Answer from the store.
            let store = self.store.clone();
            self.rt.spawn(async move {
                let answer = match store.execution(id).await {
                    Ok(Some(r))
                        if r.status == ExecutionStatus::Cancelled
                            && matches!(control, Control::Cancel(_)) =>
                    {
                        Ok(r.status)
                    }
                    Ok(Some(r)) => Err(Error::Conflict {
                        id,
                        operation: control.name(),
                        status: r.status.to_string(),
                    }),
                    Ok(None) => Err(Error::UnknownExecution(id)),
                    Err(e) => Err(e.into()),
                };
                let _ = reply.send(answer);
            });
            return;
        };
        let status = x.status;
        let conflict = || Error::Conflict {
            id,
            operation: control.name(),
            status: status.to_string(),
        };
        let event = match (&control, status) {
            (Control::Cancel(_), ExecutionStatus::Cancelled) => {
                self.batch
                    .after
                    .push(After::ReplyControl(reply, Ok(status)));
                return;
            }
            (_, s) if s.is_terminal() => {
                self.batch
                    .after
                    .push(After::ReplyControl(reply, Err(conflict())));
                return;
            }
            (Control::Cancel(reason), _) => {
                if x.stopping
                    .as_ref()
                    .is_some_and(|r| matches!(r, crate::event::StopReason::Cancelled { .. }))
                {
                    self.batch
                        .after
                        .push(After::ReplyControl(reply, Ok(status)));
                    return;
                }
                Event::CancelRequested {
                    reason: reason.clone(),
                }
            }
            (Control::Pause, ExecutionStatus::Running) if x.stopping.is_none() => Event::Paused,
            (Control::Resume, ExecutionStatus::Paused) => Event::Resumed,
            (Control::Decide { task, decision }, _) => {
                let t = x.task_index(task);
                let held = t.map(|t| x.tasks[t].status);
                let decidable = held == Some(harmonia_storage::TaskStatus::Held)
                    || t.is_some_and(|t| crate::machine::reopenable(x, t));
                if !decidable {
                    let why = match held {
                        None => "the workflow has no such task".to_string(),
                        Some(harmonia_storage::TaskStatus::Failed) => format!(
                            "it failed, but the execution is {status} or a task after it has run; a failed task takes retry, skip or fail while its execution is paused and nothing after it has run"
                        ),
                        Some(s) => format!(
                            "it is {s}; retry, skip and fail are for a task held by `on_error: pause`, or a failed task of a paused execution"
                        ),
                    };
                    self.batch.after.push(After::ReplyControl(
                        reply,
                        Err(Error::NotWaiting {
                            id,
                            task: task.clone(),
                            why,
                        }),
                    ));
                    return;
                }
                Event::TaskDecided {
                    task: task.clone(),
                    decision: decision.clone(),
                }
            }
            _ => {
                self.batch
                    .after
                    .push(After::ReplyControl(reply, Err(conflict())));
                return;
            }
        };
        self.record(id, event);
        let status = self.executions.get(&id).map_or(status, |x| x.status);
        self.batch
            .after
            .push(After::ReplyControl(reply, Ok(status)));
    }

    pub(super) fn after(&mut self, after: After, now: Timestamp) {
        match after {
            After::ReplyStart(reply, id, status) => {
                let _ = reply.send(Ok(super::Started {
                    id,
                    status: Some(status.unwrap_or(ExecutionStatus::Running)),
                    existing: None,
                }));
            }
            After::ReplyControl(reply, answer) => {
                let _ = reply.send(answer);
            }
            After::Launch(launch) => self.launch(launch),
            After::Timer(id, key, due) => self.timers.set(id, key, due),
            After::Abort(id, a) => {
                if let Some(token) = self.running.get(&(id, a)) {
                    token.cancel();
                }
            }
            After::Finished(id) => {
                if let Some(x) = self.executions.remove(&id) {
                    let record = x.record(now);
                    for waiter in self.waiters.remove(&id).unwrap_or_default() {
                        let _ = waiter.send(record.clone());
                    }
                }
                self.ready.retain(|(x, ..)| *x != id);
            }
            After::ResolveChild(parent, a, call) => self.resolve_child(parent, a, call),
            After::ReplySignal(reply, answer) => {
                let _ = reply.send(answer);
            }
            After::ReplyEvent(reply, answer) => {
                let _ = reply.send(answer);
            }
            After::AwaitChild(parent, a, child) => self.fetch_child(parent, a, child),
        }
    }
}
