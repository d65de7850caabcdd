//! The commit of a turn: everything the turn changed, in one transaction, then its
//! effects.
//!
//! A commit writes the turn's events and the read-model rows they changed, and with
//! them what makes the engine's memory recoverable without replaying everything:
//! - the durable timers the turn armed (retry backoff, a sleep's end, a wait's
//!   timeout, the workflow's timeout) as rows, and the rows of the timers that fired;
//!   the store drops an execution's timers when it ends. A restart arms the timers of
//!   executions it does not load from those rows;
//! - each execution's owner and fence: the writes of an execution that already exists
//!   go in only if its stored fence is still the one this engine holds. Another engine
//!   that took it over (`claim_unfinished` bumps the fence) makes this engine's writes
//!   for it fail, and only its: the engine lets go of that execution (its replies get
//!   [`Error::Moved`]) and goes on with the others;
//! - the idempotency keys of the executions it starts: a key already held by another
//!   execution leaves the new one out, and its start is answered with the holder.
//!
//! A long turn (a big fan-out) is written in parts: [`Service::send_ahead`] sends what
//! the turn applied so far to be written off the scheduler's thread, the turn applies
//! the next part meanwhile, and [`Service::land`] waits for the write before that next
//! part is sent. So parts are written in the order they were made, one at a time, and
//! a part's effects are released before the next part goes out. A part that cannot be
//! written takes down what was applied after it (the engine stops, as after any
//! failed commit); the store keeps an unbroken prefix of every log.
//!
//! Invariant: nothing of a turn is visible (replies, launched attempts, armed timers,
//! broadcast events) before its commit; what a commit left out is never visible. A
//! subscriber misses no committed event: an event committed after `subscribe` returned
//! is broadcast to it, one committed before is in the store (so a subscriber that
//! subscribes, then reads the store, sees everything once or twice, never not at all).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use harmonia_storage::{
    CommitBatch, CommitReport, EventRecord, ExecutionId, Store, TimerRecord, Timestamp,
};

use super::service::{After, Service};
use super::{Started, observe};
use crate::error::{Error, Result};
use crate::eval::Budget;
use crate::event::TimerKey;

/// The text a timer's key is stored as (its JSON).
pub(super) fn timer_key(key: &TimerKey) -> String {
    serde_json::to_string(key).unwrap_or_default()
}

/// What a commit releases once it is written: the turn's broadcast events and its
/// effects (see [`Service::release`]).
pub(super) struct Effects {
    logged: Vec<super::LoggedEvent>,
    unlogged: bool,
    after: Vec<After>,
    now: Timestamp,
    recorded_success: bool,
}

/// A part of a turn being written off the scheduler's thread while the turn goes on
/// applying queued work (see `Service::turns`); [`Service::land`] waits for it and
/// releases its effects.
pub(super) struct Flight {
    write: tokio::task::JoinHandle<Result<(CommitReport, CommitBatch)>>,
    effects: Effects,
}

impl Service {
    /// Writes the batch, then runs its effects. Work not applied yet stays queued.
    pub(super) async fn commit(&mut self) -> Result<()> {
        let (write, effects) = self.prepare();
        let mut report = CommitReport::default();
        let mut written = Vec::new();
        if !write.is_empty() {
            self.crasher.before_commit();
            let (r, w) = self.write(write).await?;
            (report, written) = (r, w.events);
            self.crasher.after_commit(effects.recorded_success);
        }
        self.release(effects, &report, written);
        Ok(())
    }

    /// Sends what the turn applied so far to be written on the caller's runtime (the
    /// store's own thread, for SQLite) and returns at once: the turn goes on applying
    /// queued work meanwhile, which only this thread sees. Nothing of the part is
    /// visible until [`Service::land`] has its answer; the next part is written after
    /// this one, so parts are written in the order they were made.
    pub(super) fn send_ahead(&mut self) -> Flight {
        let (batch, effects) = self.prepare();
        if !batch.is_empty() {
            self.crasher.before_commit();
        }
        let store = self.store.clone();
        let write = self.rt.spawn(async move {
            if batch.is_empty() {
                return Ok((CommitReport::default(), batch));
            }
            write(store, batch).await
        });
        Flight { write, effects }
    }

    /// Waits for `flight` to be written, then releases its effects. When it could
    /// not be written, what the turn applied after it follows events that are not in
    /// the store: it is dropped with it (its callers' replies too), and the engine
    /// stops, as after any commit that fails.
    pub(super) async fn land(&mut self, flight: Flight) -> Result<()> {
        let Flight { write, effects } = flight;
        let written = match write.await {
            Ok(written) => written,
            Err(_) => Err(harmonia_storage::Error::Backend(
                "the runtime stopped before the commit was written".into(),
            )
            .into()),
        };
        match written {
            Ok((report, batch)) => {
                if !batch.is_empty() {
                    self.crasher.after_commit(effects.recorded_success);
                }
                self.release(effects, &report, batch.events);
                Ok(())
            }
            Err(e) => {
                let queued = std::mem::take(&mut self.batch);
                self.batch.work = queued.work;
                self.batch.pure = queued.pure;
                self.batch.proceed = queued.proceed;
                Err(e)
            }
        }
    }

    /// Takes what the turn applied out of the batch: the write (events and the rows
    /// they changed) and the effects its commit releases. Work not applied yet stays
    /// queued.
    fn prepare(&mut self) -> (CommitBatch, Effects) {
        let mut batch = std::mem::take(&mut self.batch);
        self.batch.work = std::mem::take(&mut batch.work);
        self.batch.pure = std::mem::take(&mut batch.pure);
        self.batch.proceed = std::mem::take(&mut batch.proceed);
        let now = Timestamp::now();
        let mut write = CommitBatch {
            events: batch.events,
            idempotency: std::mem::take(&mut batch.idempotency),
            ..CommitBatch::default()
        };
        for id in &batch.touched {
            if let Some(x) = self.executions.get_mut(id) {
                if x.row_stored {
                    write.fences.push((*id, x.fence));
                }
                let records = x.take_records(now);
                write.executions.extend(records.execution.map(|mut r| {
                    r.owner = Some(self.config.node.clone());
                    r
                }));
                write.task_runs.extend(records.task_runs);
            }
        }
        for after in &mut batch.after {
            match after {
                After::Timer(id, key, due) => write.timers_set.push(TimerRecord {
                    execution: *id,
                    key: timer_key(key),
                    due: *due,
                }),
                // What this commit writes, not what a later part may have made of it.
                After::ReplyStart(_, id, status) => {
                    *status = self.executions.get(id).map(|x| x.status);
                }
                _ => {}
            }
        }
        write.timers_cleared = batch
            .timers_fired
            .iter()
            .map(|(id, key)| (*id, timer_key(key)))
            .collect();
        let recorded_success = write.events.iter().any(|e| e.kind == "task_succeeded");
        let effects = Effects {
            logged: batch.logged,
            unlogged: batch.unlogged,
            after: batch.after,
            now,
            recorded_success,
        };
        (write, effects)
    }

    /// Releases what a written commit holds back: lets go of what it left out,
    /// broadcasts its events and runs its effects.
    fn release(&mut self, effects: Effects, report: &CommitReport, written: Vec<EventRecord>) {
        let Effects {
            logged,
            unlogged,
            after,
            now,
            ..
        } = effects;
        let left_out = self.left_out(report);
        self.here = Budget::turn();
        // Whoever subscribed before this point (after the commit) gets every event of
        // it; whoever subscribes later finds them in the store. An event made while
        // nobody listened was not kept: if someone listens now, the turn's events are
        // decoded again from what was written (rare: a subscription that came in the
        // middle of a turn), rather than missed.
        let logged = if unlogged && self.events.receiver_count() > 0 {
            super::decoded(written).unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot decode a turn's events for subscribers");
                Vec::new()
            })
        } else {
            logged
        };
        for event in logged {
            if !left_out.contains(&event.execution) {
                let _ = self.events.send(Arc::new(event));
            }
        }
        for after in after {
            match after {
                After::ReplyStart(reply, id, _) if left_out.contains(&id) => {
                    let answer = match report.duplicates.iter().find(|(new, _)| *new == id) {
                        Some((_, holder)) => Ok(Started {
                            id: holder.execution,
                            status: self.executions.get(&holder.execution).map(|x| x.status),
                            existing: Some(holder.clone()),
                        }),
                        None => Err(Error::Moved(id)),
                    };
                    let _ = reply.send(answer);
                }
                after if after.execution().is_some_and(|id| left_out.contains(&id)) => {
                    after.refuse(Error::Moved);
                }
                after => self.after(after, now),
            }
        }
        observe::load(self.ready.len(), self.running.len(), self.executions.len());
    }

    /// Writes `batch` and gives it back: on this thread when the store can commit here
    /// (the scheduler runs on a thread of its own, see `scheduler::spawn`), else on the
    /// caller's runtime, retrying transient failures; a storage failure that persists
    /// stops the engine.
    async fn write(&self, batch: CommitBatch) -> Result<(CommitReport, CommitBatch)> {
        let started = std::time::Instant::now();
        match self.store.commit_here(&batch) {
            Some(Ok(report)) => {
                observe::commit(batch.events.len(), started.elapsed());
                return Ok((report, batch));
            }
            // Tried again below, as any transient failure.
            Some(Err(harmonia_storage::Error::Backend(e))) => {
                tracing::warn!(error = %e, "commit failed; retrying");
            }
            Some(Err(e)) => {
                tracing::error!(error = %e, "commit failed; the engine stops");
                return Err(e.into());
            }
            None => {}
        }
        match self.rt.spawn(write(self.store.clone(), batch)).await {
            Ok(written) => written,
            Err(_) => Err(harmonia_storage::Error::Backend(
                "the runtime stopped before the commit was written".into(),
            )
            .into()),
        }
    }

    /// Lets go of the executions a commit left out: those another engine took over
    /// (their writes were refused) and those started under a key another execution
    /// holds (never written). Returns their ids.
    fn left_out(&mut self, report: &CommitReport) -> HashSet<ExecutionId> {
        let mut out: HashSet<ExecutionId> = report.fenced.iter().copied().collect();
        out.extend(report.duplicates.iter().map(|(new, _)| *new));
        for id in &report.fenced {
            tracing::warn!(execution_id = %id, "another engine took this execution over; this one lets go of it");
        }
        for id in &out {
            self.let_go(*id);
        }
        out
    }

    /// Drops execution `id` from memory: its state, queued and running attempts
    /// (cancelled), waiters and timers. Another node holds it now.
    pub(super) fn let_go(&mut self, id: ExecutionId) {
        self.executions.remove(&id);
        self.forget_pending(id);
        self.ready.retain(|(x, ..)| *x != id);
        self.running.retain(|(x, _), token| {
            if *x == id {
                token.cancel();
            }
            *x != id
        });
        self.waiters.remove(&id);
        self.timers.forget(id);
    }

    /// Drops what the current turn holds of `id` (its events, records, timers and
    /// queued work), refusing its replies with [`Error::Moved`]: an execution let go of
    /// in the middle of a turn (a request found its copy stale) must write nothing
    /// more, and a copy loaded again must not follow the old copy's events in one batch
    /// (both would take the same sequence numbers, and the events would be written
    /// under the new copy's fence).
    fn forget_pending(&mut self, id: ExecutionId) {
        let batch = &mut self.batch;
        batch.events.retain(|e| e.execution != id);
        batch.logged.retain(|e| e.execution != id);
        batch.touched.remove(&id);
        batch.timers_fired.retain(|(x, _)| *x != id);
        batch.idempotency.retain(|r| r.execution != id);
        batch.work.retain(|(x, _)| *x != id);
        batch.pure.remove(id);
        batch.proceed.retain(|x| *x != id);
        let (theirs, rest): (Vec<After>, Vec<After>) = std::mem::take(&mut batch.after)
            .into_iter()
            .partition(|a| a.execution() == Some(id));
        batch.after = rest;
        for after in theirs {
            after.refuse(Error::Moved);
        }
    }
}

/// Writes `batch` to `store` and gives it back, retrying transient failures; a storage
/// failure that persists stops the engine.
async fn write(store: Arc<dyn Store>, batch: CommitBatch) -> Result<(CommitReport, CommitBatch)> {
    let mut delay = Duration::from_millis(50);
    let mut tries = 0;
    loop {
        let started = std::time::Instant::now();
        match store.commit(&batch).await {
            Ok(report) => {
                observe::commit(batch.events.len(), started.elapsed());
                return Ok((report, batch));
            }
            Err(harmonia_storage::Error::Backend(e)) if tries < 5 => {
                tries += 1;
                tracing::warn!(error = %e, tries, "commit failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => {
                tracing::error!(error = %e, "commit failed; the engine stops");
                return Err(e.into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use harmonia_storage::MemoryStore;
    use tokio::sync::{broadcast, mpsc};
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::event::Event;
    use crate::kinds::{Kinds, KindsConfig, builtin_types};
    use crate::{EngineConfig, Plans};

    fn service(events: broadcast::Sender<Arc<super::super::LoggedEvent>>) -> Service {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let plans = Arc::new(Plans::new(store.clone(), builtin_types(), None));
        let (tx, rx) = mpsc::channel(8);
        Service::new(
            EngineConfig::default(),
            store,
            plans,
            Kinds::builtin(&KindsConfig::default()),
            tx,
            rx,
            events,
            CancellationToken::new(),
        )
    }

    /// A subscriber that came while a turn was made (after its events, before its
    /// commit) gets them: they are committed after it subscribed, so it finds them
    /// nowhere else if it read the store before the commit.
    #[tokio::test]
    async fn a_subscriber_that_came_in_the_middle_of_a_turn_gets_its_events() {
        let (events, _) = broadcast::channel(16);
        let mut s = service(events.clone());
        let id = ExecutionId::new();
        s.push_event(
            id,
            1,
            Timestamp::now(),
            Event::CancelRequested { reason: None },
        );
        let mut rx = events.subscribe();
        s.commit().await.expect("commit");
        let got = rx.try_recv().expect("the turn's event");
        assert_eq!((got.execution, got.seq), (id, 1));
        assert_eq!(got.event, Event::CancelRequested { reason: None });
        assert!(rx.try_recv().is_err(), "once");
        // The next turn, made while it listens, is kept as it is made.
        s.push_event(
            id,
            2,
            Timestamp::now(),
            Event::CancelRequested { reason: None },
        );
        s.commit().await.expect("commit");
        assert_eq!(rx.try_recv().expect("the next event").seq, 2);
    }
}
