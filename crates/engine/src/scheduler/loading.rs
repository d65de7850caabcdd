//! Executions in memory: which are loaded at start, and loading the others when
//! they are needed.
//!
//! At start the engine claims for itself every unfinished execution that no live node
//! holds (bumping its fence, see `commit`), then loads and resumes those that have
//! work to do. A *parked* execution (every unit that has not ended waits on a timer, a signal or a
//! child; see `Execution::is_parked`) is not loaded: the rows of its durable timers
//! are armed instead, and it is loaded (its log replayed, then resumed) when one of
//! them is due, when someone addresses it (a signal, an event for one of its waits, a
//! control, a wait for its end), or when a child it waits on ends. So a restart costs
//! the executions that run, not every approval waiting for a week.
//!
//! Loading on demand claims first (see `load_then`): an execution another live node
//! holds is loaded only when a user's request steals it.
//!
//! Invariant: while an execution is being loaded, what needs it waits in `loading`
//! and runs, in order, once it is in memory (or found ended); nothing loads an
//! execution twice at once.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use harmonia_storage::{ExecutionId, ExecutionRecord, Store, Timestamp};

use super::Command;
use super::service::Service;
use crate::error::Result;
use crate::event::{Event, TimerKey};
use crate::machine::{self, AttemptRef, Execution};
use crate::plans::Plans;

impl Service {
    /// Claims the unfinished executions that no live node holds (and this node id's
    /// own), loads and resumes those not parked, and arms the timers of the others.
    pub(super) async fn recover(&mut self) -> Result<()> {
        // Its own (a restart under the same id) and the orphans; never what another
        // live node holds.
        let claimed = self
            .store
            .claim_orphans(&self.config.node, Timestamp::now(), true)
            .await?;
        let fences: std::collections::HashMap<ExecutionId, u64> = claimed.iter().copied().collect();
        let mine: HashSet<ExecutionId> = fences.keys().copied().collect();
        // Only what was claimed is loaded or armed below: with nothing claimed (a new
        // database, a clean restart) there is nothing to read either.
        let unfinished = if claimed.is_empty() {
            Vec::new()
        } else {
            self.store.unfinished().await?
        };
        let mut recovered = Vec::new();
        let mut parked = 0usize;
        for record in unfinished {
            // Another node may have claimed it since (its fence moved on): it is theirs.
            if fences.get(&record.id) != Some(&record.fence) {
                continue;
            }
            if record.parked {
                parked += 1;
                continue;
            }
            match replayed(&self.store, &self.plans, &record).await {
                Ok(x) => {
                    recovered.push(x.id);
                    self.executions.insert(x.id, x);
                }
                Err(e) => self.unrecoverable(&record, &e.to_string()).await,
            }
        }
        let mut armed = 0usize;
        let timers = if claimed.is_empty() {
            Vec::new()
        } else {
            self.store.timers().await?
        };
        for timer in timers {
            if self.executions.contains_key(&timer.execution) || !mine.contains(&timer.execution) {
                continue; // Resumed below, which arms its timers from its state.
            }
            match serde_json::from_str::<TimerKey>(&timer.key) {
                Ok(key) => {
                    self.timers.set(timer.execution, key, timer.due);
                    armed += 1;
                }
                Err(e) => {
                    tracing::error!(execution_id = %timer.execution, key = %timer.key, error = %e, "a stored timer does not read; skipped")
                }
            }
        }
        tracing::info!(
            claimed = claimed.len(),
            loaded = recovered.len(),
            parked,
            timers = armed,
            "recovered unfinished executions"
        );
        for id in recovered {
            self.resume(id);
        }
        self.settle_batch();
        self.commit().await
    }

    /// Resumes execution `id`, just loaded: attempts in flight run again, timers are
    /// armed, pending work is dispatched.
    fn resume(&mut self, id: ExecutionId) {
        self.guarded(id, |s| {
            let mut env = s.env();
            let Some(x) = s.executions.get_mut(&id) else {
                return;
            };
            let before = x.seq;
            let effects = machine::resume(x, &mut env);
            s.spent(&env);
            tracing::info!(execution_id = %id, events = before, "resumed execution");
            s.handle_effects(id, before, Timestamp::now(), effects);
        });
    }

    /// Runs `then` once execution `id` is in memory: at once if it is, else after
    /// claiming and loading it. An execution that ended (or does not exist), or that
    /// another live node owns and `steal` is not set, is not loaded, and `then` runs
    /// all the same, finding it absent: `then` must not ask to load again.
    ///
    /// `steal`: what a user asked of this execution here (a control, a signal, an
    /// event) moves it to this node; its former owner's next commit for it is fenced,
    /// and that node lets go of it. A timer armed here, or a wait for its end, does
    /// not.
    ///
    /// A node among several checks, before a user's request (`steal`) reaches an
    /// execution it holds in memory, that the store still says it is this node's, at
    /// the fence it holds: another node may have taken it meanwhile, and then the copy
    /// here is stale (its answers could be wrong, its writes would be fenced). A stale
    /// copy is let go of, and the execution claimed and loaded again.
    pub(super) fn load_then(&mut self, id: ExecutionId, then: Command, steal: bool) {
        if let Some(x) = self.executions.get(&id) {
            if !(steal && self.config.lease.is_some()) {
                self.command(then);
                return;
            }
            if let Some(waiting) = self.loading.get_mut(&id) {
                waiting.push(then);
                return;
            }
            self.loading.insert(id, vec![then]);
            let (store, tx, fence) = (self.store.clone(), self.tx.clone(), x.fence);
            let node = self.config.node.clone();
            self.rt.spawn(async move {
                let current = match store.execution(id).await {
                    Ok(Some(r)) => r.fence == fence && r.owner.as_deref() == Some(node.as_str()),
                    // The request will find what is there; nothing is let go of.
                    Ok(None) | Err(_) => true,
                };
                let _ = tx.send(Command::Checked { id, current }).await;
            });
            return;
        }
        if let Some(waiting) = self.loading.get_mut(&id) {
            waiting.push(then);
            return;
        }
        self.loading.insert(id, vec![then]);
        let store = self.store.clone();
        let plans = self.plans.clone();
        let tx = self.tx.clone();
        let node = self.config.node.clone();
        self.rt.spawn(async move {
            let claim = Claim::Now { node: &node, steal };
            let result = load(&store, &plans, id, claim).await;
            let _ = tx.send(Command::Loaded { id, result }).await;
        });
    }

    /// Loads and resumes executions this node has just claimed from others (see
    /// `lease`).
    pub(super) fn adopt(&mut self, ids: Vec<(ExecutionId, u64)>) {
        for (id, fence) in ids {
            if self.executions.contains_key(&id) || self.loading.contains_key(&id) {
                continue;
            }
            self.loading.insert(id, Vec::new());
            let store = self.store.clone();
            let plans = self.plans.clone();
            let tx = self.tx.clone();
            self.rt.spawn(async move {
                let result = load(&store, &plans, id, Claim::Held(fence)).await;
                let _ = tx.send(Command::Loaded { id, result }).await;
            });
        }
    }

    /// Takes in the check of an execution held in memory (see `load_then`): current,
    /// what waited runs; stale, the execution is let go of, claimed and loaded again,
    /// and what waited runs then.
    pub(super) fn checked(&mut self, id: ExecutionId, current: bool) {
        if current || !self.executions.contains_key(&id) {
            for command in self.loading.remove(&id).unwrap_or_default() {
                self.command(command);
            }
            return;
        }
        tracing::info!(execution_id = %id, "another node took this execution over; loading it again for a request");
        self.let_go(id);
        let store = self.store.clone();
        let plans = self.plans.clone();
        let tx = self.tx.clone();
        let node = self.config.node.clone();
        self.rt.spawn(async move {
            let claim = Claim::Now {
                node: &node,
                steal: true,
            };
            let result = load(&store, &plans, id, claim).await;
            let _ = tx.send(Command::Loaded { id, result }).await;
        });
    }

    /// Takes in an execution loaded on demand, resumes it, then runs what waited.
    pub(super) fn loaded(&mut self, id: ExecutionId, result: Result<Option<Box<Execution>>>) {
        let waiting = self.loading.remove(&id).unwrap_or_default();
        match result {
            Ok(Some(x)) if !self.executions.contains_key(&id) => {
                self.executions.insert(id, *x);
                self.resume(id);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(execution_id = %id, error = %e, "cannot load an execution");
            }
        }
        for command in waiting {
            self.command(command);
        }
    }

    /// A durable timer is due: applies it, loading its execution first if needed.
    pub(super) fn fire(&mut self, id: ExecutionId, key: TimerKey, loaded: bool) {
        if !self.executions.contains_key(&id) {
            if !loaded {
                self.load_then(
                    id,
                    Command::Fire {
                        execution: id,
                        key,
                        loaded: true,
                    },
                    false,
                );
            }
            // Ended meanwhile (its timers went with it), or moved to another node (which
            // armed them).
            return;
        }
        self.batch.timers_fired.push((id, key.clone()));
        let event = match key {
            // A sleep that ends is its attempt succeeding (if it still sleeps: see
            // `record`).
            TimerKey::Sleep {
                task,
                item,
                attempt,
            } => Event::AttemptSucceeded {
                task,
                item,
                attempt,
                output: serde_json::Value::Null,
                usage: None,
            },
            // The end of a signal wait: its kind decides the result.
            key @ TimerKey::Wait { .. } => {
                self.guarded(id, |s| s.expire_wait(id, key));
                return;
            }
            key => Event::TimerFired { key },
        };
        self.batch.work.push_back((id, event));
    }

    /// A child ended: its parent's waiting attempt gets its result, the parent being
    /// loaded first if needed.
    pub(super) fn child_finished(&mut self, child: ExecutionRecord, loaded: bool) {
        let Some(link) = child.parent.clone() else {
            return;
        };
        let Some(parent) = self.executions.get(&link.execution) else {
            if !loaded {
                self.load_then(
                    link.execution,
                    Command::ChildFinished {
                        child: Box::new(child),
                        loaded: true,
                    },
                    true,
                );
            }
            return;
        };
        let Some(t) = parent.task_index(&link.task) else {
            return;
        };
        let Some(u) = parent.tasks[t].unit_of(link.item) else {
            return;
        };
        let a = AttemptRef {
            task: t,
            item: link.item,
            attempt: parent.tasks[t].units[u as usize].attempt,
        };
        self.child_ended(link.execution, a, &child);
    }
}

/// Execution `id`, read from the store and replayed, if it has not ended; first
/// claimed for a node (`claim`: the node, and whether to steal; see `load_then`) unless
/// it is claimed already.
/// How a load holds the execution it loads.
enum Claim<'a> {
    /// Claimed now by `node` (from its owner, with `steal`).
    Now { node: &'a str, steal: bool },
    /// Claimed already, at this fence.
    Held(u64),
}

/// Claims and loads one execution; `None` when it has ended, is another live node's,
/// or was claimed by another node between this claim and the read (its fence moved
/// on: loading it with that fence would make two writers of it).
async fn load(
    store: &Arc<dyn Store>,
    plans: &Arc<Plans>,
    id: ExecutionId,
    claim: Claim<'_>,
) -> Result<Option<Box<Execution>>> {
    let fence = match claim {
        Claim::Now { node, steal } => match store.claim(id, node, Timestamp::now(), steal).await? {
            Some(fence) => fence,
            None => return Ok(None),
        },
        Claim::Held(fence) => fence,
    };
    match store.execution(id).await? {
        Some(record) if record.fence != fence => {
            tracing::info!(execution_id = %id, "another node claimed this execution while it was loaded here; it is theirs");
            Ok(None)
        }
        Some(record) if !record.status.is_terminal() => {
            match replayed(store, plans, &record).await {
                Ok(x) => Ok(Some(Box::new(x))),
                // As at start: a log that does not replay fails its execution only.
                Err(crate::Error::Storage(harmonia_storage::Error::Corrupt(why))) => {
                    super::guard::unrecoverable(store.as_ref(), &record, &why).await;
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        }
        _ => Ok(None),
    }
}

/// The state of the execution of `record`, rebuilt by replaying its log.
pub(crate) async fn replayed(
    store: &Arc<dyn Store>,
    plans: &Arc<Plans>,
    record: &ExecutionRecord,
) -> Result<Execution> {
    let events = store.events(record.id).await?;
    let mut parsed = Vec::with_capacity(events.len());
    for e in &events {
        let event: Event = e.data.decode().map_err(|err| {
            harmonia_storage::Error::Corrupt(format!(
                "event {} of execution {}: {err}",
                e.seq, e.execution
            ))
        })?;
        parsed.push((event, e.at));
    }
    let Some((
        first @ Event::ExecutionStarted {
            workflow, version, ..
        },
        at,
    )) = parsed.first()
    else {
        return Err(harmonia_storage::Error::Corrupt(format!(
            "execution {} has no start event",
            record.id
        ))
        .into());
    };
    let plan = plans.get(workflow, Some(*version)).await?.plan;
    let mut x = machine::start(record.id, plan, first, *at).ok_or_else(|| {
        harmonia_storage::Error::Corrupt(format!("execution {} cannot start", record.id))
    })?;
    // Its row is stored already (its inputs are not written again), with its fence.
    x.row_stored = true;
    x.fence = record.fence;
    x.parked_stored = record.parked;
    x.status_stored = record.status;
    let replayed = catch_unwind(AssertUnwindSafe(|| {
        for (event, at) in &parsed {
            machine::replay(&mut x, event, *at);
        }
    }));
    if let Err(panic) = replayed {
        return Err(harmonia_storage::Error::Corrupt(format!(
            "replaying the log of execution {} failed: {}",
            record.id,
            super::panic_message(panic.as_ref())
        ))
        .into());
    }
    Ok(x)
}
