//! External workers: the leases of `worker` tasks, for programs in any language that
//! poll queues over the API.
//!
//! A `worker` attempt waits durably in the engine (the kind's module doc); this use
//! case keeps the [`Board`] of what waits on which queue, fed by the engine's committed
//! events and rebuilt from the store at start or when the feed falls behind, and hands
//! attempts out as leases:
//! - [`Workers::poll`] leases up to `max_tasks` ready attempts, waiting up to `wait` for
//!   one (a long poll, woken as soon as an attempt becomes ready);
//! - [`Workers::heartbeat`] extends a lease by its `heartbeat_timeout`, or tells its
//!   holder that the attempt was cancelled;
//! - [`Workers::complete`] and [`Workers::fail`] end the lease and send the attempt's
//!   result to the engine as a signal, answered once it is committed;
//! - a lease without a heartbeat in time expires: the attempt fails as `timeout` (the
//!   sweep runs every [`SWEEP`]) and the retry policy decides.
//!
//! Exactly one answer per attempt is recorded: the engine takes the first signal for
//! an attempt and refuses the rest (the kind checks the attempt number), so a worker
//! whose lease expired, was cancelled, or was lost in a restart is refused
//! ([`Error::LeaseLost`]) and changes nothing. Delivery is at least once: after a
//! restart, attempts that were leased are offered again (the leases lived in memory).
//!
//! When several nodes share the store, the leases are the store's locks instead, so a
//! worker may use any node for any call (`shared.rs`).

mod board;
mod shared;

use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use harmonia_engine::event::{Event, Wait};
use harmonia_engine::kinds::{Actor, Signal, WORKER_SIGNAL};
use harmonia_storage::{ExecutionId, Timestamp};
use serde_json::{Value, json};
use tokio::sync::Notify;

pub use board::{AttemptKey, Board, Ended, Lease, QueueStats, REMEMBERED, Ready, Reload};
pub use shared::{ANSWER_WAIT, ANSWERS, KEPT, RELOAD};

use crate::{Ctx, Error, Result};

/// How often expired leases are looked for.
pub const SWEEP: Duration = Duration::from_millis(100);
/// The longest long poll.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// The most attempts one poll leases.
pub const MAX_TASKS: u32 = 100;
/// The most queues one poll names.
pub const MAX_QUEUES: usize = 32;

/// A poll for work.
#[derive(Debug, Clone, PartialEq)]
pub struct Poll {
    /// Who polls (shown in leases and errors).
    pub worker_id: String,
    /// The queues it takes work from, in order of preference.
    pub queues: Vec<String>,
    /// At most this many leases.
    pub max_tasks: u32,
    /// How long to wait when nothing is ready.
    pub wait: Duration,
}

/// A worker's report of a failure.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Its class: one of the format's, or the worker's own (kept in the details).
    pub class: String,
    /// What happened.
    pub message: String,
    /// More detail.
    pub details: Value,
    /// False: never retried.
    pub retryable: bool,
}

/// The answer to a heartbeat.
#[derive(Debug, Clone, PartialEq)]
pub struct Heartbeat {
    /// The lease.
    pub lease_id: String,
    /// When it now expires.
    pub expires_at: Timestamp,
    /// The attempt was cancelled: stop, and do not report.
    pub cancel_requested: bool,
}

struct Shared {
    board: Mutex<Board>,
    notify: Notify,
    feed: Once,
    /// The longest a poll is held, in milliseconds (a poll asking for more waits this
    /// long): a proxy in front of the server may close idle requests sooner.
    max_wait_ms: std::sync::atomic::AtomicU64,
}

/// The external workers use case (cheap to clone).
#[derive(Clone)]
pub struct Workers {
    ctx: Ctx,
    shared: Arc<Shared>,
}

impl Workers {
    pub(crate) fn new(ctx: Ctx) -> Workers {
        Workers {
            ctx,
            shared: Arc::new(Shared {
                board: Mutex::default(),
                notify: Notify::new(),
                feed: Once::new(),
                max_wait_ms: std::sync::atomic::AtomicU64::new(MAX_WAIT.as_millis() as u64),
            }),
        }
    }

    /// Holds polls at most `limit` (at most [`MAX_WAIT`]): a poll asking for longer
    /// answers, empty, after `limit`.
    pub fn limit_wait(&self, limit: Duration) {
        let ms = limit.min(MAX_WAIT).as_millis();
        self.shared.max_wait_ms.store(
            u64::try_from(ms).unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn board(&self) -> std::sync::MutexGuard<'_, Board> {
        self.shared.board.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts following the engine (once; later calls do nothing): the board is loaded
    /// from the store and kept current, and expired leases are swept, until the engine
    /// stops. Polls start it too; `serve` calls it at start so queues show at once.
    pub fn start(&self) {
        self.shared.feed.call_once(|| {
            let this = self.clone();
            tokio::spawn(async move { this.follow().await });
        });
    }

    async fn follow(&self) {
        let mut events = self.ctx.handle.subscribe();
        let shared = self.is_shared();
        self.resync().await;
        let mut sweep = tokio::time::interval(SWEEP);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reload = tokio::time::interval(RELOAD);
        reload.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut answers = tokio::time::interval(ANSWERS);
        answers.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                e = events.recv() => match e {
                    Ok(e) => self.apply(e.execution, e.at, &e.event),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::info!(missed = n, "the worker queues fell behind the engine; reloading them");
                        self.resync().await;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = sweep.tick(), if !shared => self.sweep(),
                _ = reload.tick(), if shared => {
                    self.sweep_shared().await;
                    self.reload().await;
                }
                _ = answers.tick(), if shared => self.take_answers().await,
            }
        }
    }

    /// Reloads the ready attempts from the store.
    async fn resync(&self) {
        if self.is_shared() {
            return self.reload().await;
        }
        let rows = match self.ctx.store().waiting(WORKER_SIGNAL, None).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "cannot load the worker queues");
                return;
            }
        };
        let mut board = self.board();
        board.clear_ready();
        for row in rows {
            let wait = row
                .wait
                .and_then(|w| serde_json::from_value::<Wait>(w).ok());
            if let Some(Wait::Signal { spec, .. }) = wait
                && let Some(ready) = ready_of(
                    row.execution,
                    row.task,
                    row.item,
                    &spec,
                    row.started_at.unwrap_or_else(Timestamp::now),
                )
            {
                board.offer(ready);
            }
        }
        drop(board);
        self.shared.notify.notify_waiters();
    }

    /// Follows one committed event.
    fn apply(&self, execution: ExecutionId, at: Timestamp, event: &Event) {
        match event {
            Event::AttemptWaiting {
                task, item, wait, ..
            } => {
                if let Wait::Signal { name, spec, .. } = wait.as_ref()
                    && name == WORKER_SIGNAL
                    && let Some(ready) = ready_of(execution, task.clone(), *item, spec, at)
                {
                    let offered = self.board().offer(ready);
                    if offered {
                        self.shared.notify.notify_waiters();
                    }
                }
            }
            Event::AttemptSucceeded {
                task,
                item,
                attempt,
                ..
            }
            | Event::AttemptFailed {
                task,
                item,
                attempt,
                ..
            } => self
                .board()
                .withdraw(execution, Some(task), Some(*item), Some(*attempt)),
            Event::TaskCancelled { task } => {
                self.board().withdraw(execution, Some(task), None, None);
            }
            Event::ExecutionSucceeded { .. }
            | Event::ExecutionFailed { .. }
            | Event::ExecutionCancelled => self.board().withdraw(execution, None, None, None),
            _ => {}
        }
    }

    /// Fails the attempts of expired leases as `timeout`.
    fn sweep(&self) {
        let expired = {
            let mut board = self.board();
            board.compact();
            board.expired()
        };
        for lease in expired {
            let this = self.clone();
            tokio::spawn(async move {
                let after = harmonia_model::Dur::from(lease.ready.heartbeat).to_string();
                let outcome = json!({"expired": {"after": after}});
                match this.answer(&lease, outcome, None).await {
                    Ok(()) => {
                        tracing::info!(lease = %lease.id, worker = %lease.worker, task = %lease.ready.key.task, "a worker's lease expired; its attempt failed as a timeout")
                    }
                    Err(e) => {
                        tracing::debug!(lease = %lease.id, error = %e, "an expired lease's attempt had ended already")
                    }
                }
            });
        }
    }

    /// Leases ready attempts of `poll.queues`, waiting up to `poll.wait` for one.
    pub async fn poll(&self, poll: Poll) -> Result<Vec<Lease>> {
        check_poll(&poll)?;
        self.start();
        let limit = Duration::from_millis(
            self.shared
                .max_wait_ms
                .load(std::sync::atomic::Ordering::Relaxed),
        );
        let deadline = tokio::time::Instant::now() + poll.wait.min(limit);
        loop {
            let notified = self.shared.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let mut leases =
                self.board()
                    .take(&poll.queues, poll.max_tasks as usize, &poll.worker_id);
            if !leases.is_empty() && self.is_shared() {
                leases = self.lock_leases(leases).await?;
                if leases.is_empty() {
                    continue; // Others' already: look again.
                }
            }
            if !leases.is_empty() {
                for l in &leases {
                    metrics::histogram!("harmonia_worker_dispatch_seconds")
                        .record(l.ready.since.elapsed().as_secs_f64());
                }
                return Ok(leases);
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(deadline) => return Ok(Vec::new()),
            }
        }
    }

    /// Extends lease `id`, or says that its attempt was cancelled (which ends it).
    pub async fn heartbeat(&self, id: &str) -> Result<Heartbeat> {
        if self.is_shared() {
            return self.heartbeat_shared(id).await;
        }
        let lease = self.board().heartbeat(id).map_err(|why| lost(id, why))?;
        Ok(Heartbeat {
            lease_id: lease.id,
            expires_at: lease.expires_at,
            cancel_requested: lease.cancelled,
        })
    }

    /// Completes lease `id` with `output`; returns once the result is committed.
    pub async fn complete(&self, id: &str, output: Value, by: Option<Actor>) -> Result<()> {
        let outcome = json!({"complete": {"output": output}});
        if self.is_shared() {
            return self.answer_shared(id, Ended::Completed, outcome, by).await;
        }
        let lease = self
            .board()
            .finish(id, Ended::Completed)
            .map_err(|why| lost(id, why))?;
        self.answer(&lease, outcome, by).await
    }

    /// Fails lease `id`; returns once the failure is committed (the retry policy then
    /// decides).
    pub async fn fail(&self, id: &str, failure: Failure, by: Option<Actor>) -> Result<()> {
        check_failure(&failure)?;
        let outcome = json!({"fail": {
            "class": failure.class,
            "message": failure.message,
            "details": failure.details,
            "retryable": failure.retryable,
        }});
        if self.is_shared() {
            return self.answer_shared(id, Ended::Failed, outcome, by).await;
        }
        let lease = self
            .board()
            .finish(id, Ended::Failed)
            .map_err(|why| lost(id, why))?;
        self.answer(&lease, outcome, by).await
    }

    /// How each queue stands.
    pub fn queues(&self) -> Vec<QueueStats> {
        self.start();
        self.board().stats()
    }

    /// Sends the engine a lease's outcome. A refusal (the attempt ended) marks the lease
    /// cancelled; a failure to reach the engine puts the lease back.
    async fn answer(&self, lease: &Lease, outcome: Value, by: Option<Actor>) -> Result<()> {
        match self
            .send(&lease.ready.key, &lease.id, &lease.worker, outcome, by)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => {
                self.board().mark(&lease.id, Ended::Cancelled);
                Err(lost(&lease.id, Some(Ended::Cancelled)))
            }
            Err(e) => {
                self.board().restore(lease.clone());
                Err(e)
            }
        }
    }

    /// Sends the engine an attempt's answer as a signal: `true` once it is committed,
    /// `false` when the engine refused it (the attempt had ended).
    async fn send(
        &self,
        key: &AttemptKey,
        lease: &str,
        worker: &str,
        outcome: Value,
        by: Option<Actor>,
    ) -> Result<bool> {
        let signal = Signal {
            name: WORKER_SIGNAL.into(),
            payload: json!({
                "attempt": key.attempt,
                "lease": lease,
                "by": worker,
                "outcome": outcome,
            }),
            by,
        };
        match self
            .ctx
            .handle
            .signal(key.execution, &key.task, key.item, signal)
            .await
        {
            Ok(_) => Ok(true),
            Err(
                e @ (harmonia_engine::Error::NotWaiting { .. }
                | harmonia_engine::Error::Refused(_)
                | harmonia_engine::Error::UnknownExecution(_)),
            ) => {
                tracing::debug!(lease = %lease, error = %e, "the engine refused a worker's answer");
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The ready attempt a worker wait's `spec` describes.
fn ready_of(
    execution: ExecutionId,
    task: String,
    item: Option<u32>,
    spec: &Value,
    at: Timestamp,
) -> Option<Ready> {
    let attempt = u32::try_from(spec.get("attempt")?.as_u64()?).ok()?;
    Some(Ready {
        key: AttemptKey {
            execution,
            task,
            item,
            attempt,
        },
        workflow: spec
            .get("workflow")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        queue: spec.get("queue")?.as_str()?.to_string(),
        input: spec.get("input").cloned().unwrap_or(Value::Null),
        heartbeat: Duration::from_millis(
            spec.get("heartbeat_timeout_ms")
                .and_then(Value::as_u64)
                .unwrap_or(30_000),
        ),
        enqueued_at: at,
        since: std::time::Instant::now(),
    })
}

/// The error for a lease that is not held, saying why.
fn lost(id: &str, why: Option<Ended>) -> Error {
    let id = harmonia_expr::clip(id);
    let (reason, message) = match why {
        Some(Ended::Expired) => (
            "expired",
            format!(
                "lease `{id}` expired: no heartbeat came in time, and its attempt failed as a timeout"
            ),
        ),
        Some(Ended::Cancelled) => (
            "cancelled",
            format!(
                "lease `{id}` was cancelled: its attempt ended (the execution was cancelled, or the task timed out)"
            ),
        ),
        Some(Ended::Completed) => ("completed", format!("lease `{id}` was completed already")),
        Some(Ended::Failed) => ("failed", format!("lease `{id}` was failed already")),
        None => (
            "unknown",
            format!(
                "no lease `{id}`: it never existed, or the server restarted since (the attempt is offered again)"
            ),
        ),
    };
    Error::LeaseLost { reason, message }
}

fn check_poll(p: &Poll) -> Result<()> {
    let bad = |m: String| Err(Error::InvalidRequest(m));
    if p.worker_id.is_empty()
        || p.worker_id.chars().count() > 128
        || p.worker_id.chars().any(char::is_control)
    {
        return bad("`worker_id` must be 1 to 128 characters, without control characters".into());
    }
    if p.queues.is_empty() || p.queues.len() > MAX_QUEUES {
        return bad(format!(
            "`queues` must name 1 to {MAX_QUEUES} queues, found {}",
            p.queues.len()
        ));
    }
    if let Some((i, q)) = p
        .queues
        .iter()
        .enumerate()
        .find(|(_, q)| !harmonia_engine::kinds::valid_queue(q))
    {
        return bad(format!(
            "`queues[{i}]`: `{}` is not a queue name (1 to 128 letters, digits, `.`, `_` or `-`)",
            harmonia_expr::clip(q)
        ));
    }
    if !(1..=MAX_TASKS).contains(&p.max_tasks) {
        return bad(format!(
            "`max_tasks` must be from 1 to {MAX_TASKS}, found {}",
            p.max_tasks
        ));
    }
    if p.wait > MAX_WAIT {
        return bad(format!(
            "`wait` must be at most {} seconds",
            MAX_WAIT.as_secs()
        ));
    }
    Ok(())
}

fn check_failure(f: &Failure) -> Result<()> {
    if f.class.chars().count() > 128 {
        return Err(Error::InvalidRequest(
            "`error.class` must be at most 128 characters".into(),
        ));
    }
    if f.message.chars().count() > 65_536 {
        return Err(Error::InvalidRequest(
            "`error.message` must be at most 65,536 characters".into(),
        ));
    }
    Ok(())
}
