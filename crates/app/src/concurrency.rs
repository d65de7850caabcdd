//! Concurrency policies: how many executions of a workflow run at once per key
//! (`concurrency: {key, limit, on_conflict}`), and what a start beyond the limit does.
//!
//! A start goes through [`start`] when its workflow has a policy. Its key is
//! `concurrency.key` over the inputs (defaults applied); the group is the unfinished
//! top-level executions of the workflow with that key. When fewer than `limit` run and
//! none waits, it starts. Otherwise, by `on_conflict`:
//! - `queue`: it starts *held* (created and paused in its first commit, before any task
//!   runs) and waits its turn, first come first served;
//! - `coalesce`: it starts held and the starts waiting before it are cancelled, so a
//!   burst collapses into one run after the ones running;
//! - `cancel_new`: it is created held and cancelled at once, with the reason;
//! - `cancel_old`: the oldest running ones are cancelled to make room, and it starts.
//!
//! A held execution is one whose log has a `Paused` before any attempt started, and no
//! `Resumed` (what a held start writes in its first commit): the queue is the store itself, so it outlives a restart and needs
//! no table of its own. [`Concurrency::release`] resumes the oldest held executions of
//! a group while fewer than `limit` run; [`Concurrency::run`] calls it when an
//! execution ends (and every second, for what a restart left).
//!
//! Invariant: decisions about one workflow are taken one at a time (an in-process lock
//! per workflow and, when the engine is one of several nodes on a store, the store's
//! lock of that workflow, `concurrency:NAME`, held until the start is committed), so
//! concurrent starts never both take the last slot, on one node or across nodes. The
//! store's lock expires after [`LOCK_TTL`], so a node that dies holding it blocks the
//! others that long at most; a decision that waits [`LOCK_WAIT`] for it fails.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harmonia_engine::Workflow;
use harmonia_engine::event::Event;
use harmonia_expr::{Context, Limits, Val, Var};
use harmonia_model::{ConcurrencyPlan, ConflictPolicy};
use harmonia_storage::prelude::*;
use harmonia_storage::{ExecutionId, ExecutionRecord, ExecutionStatus};
use serde_json::Value;

use crate::{Ctx, Error, Result};

/// How long the store's lock of a workflow is held at most (a decision takes
/// milliseconds; a node that dies holding it blocks the others this long).
pub const LOCK_TTL: Duration = Duration::from_secs(30);
/// How long a decision waits for another node's.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

/// A decision's hold on its workflow: this process's lock, and the store's when the
/// engine shares its store with other nodes (released when dropped).
pub(crate) struct Hold {
    _local: tokio::sync::OwnedMutexGuard<()>,
    _shared: Option<SharedLock>,
}

/// The store's lock of a workflow, held by this decision; released on drop (in the
/// background: it expires anyway).
struct SharedLock {
    store: Arc<dyn Store>,
    name: String,
    holder: String,
}

impl Drop for SharedLock {
    fn drop(&mut self) {
        let (store, name, holder) = (
            self.store.clone(),
            std::mem::take(&mut self.name),
            std::mem::take(&mut self.holder),
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store.unlock(&name, &holder).await {
                    tracing::warn!(lock = %name, error = %e, "cannot release a lock; it expires");
                }
            });
        }
    }
}

/// The per-workflow locks that serialize decisions, and what is known of paused
/// executions (held or not).
#[derive(Default)]
pub(crate) struct Gates {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    held: Mutex<HashMap<ExecutionId, bool>>,
}

impl Gates {
    /// Notes whether paused execution `id` is held.
    pub(crate) fn note(&self, id: ExecutionId, held: bool) {
        let mut known = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        known.insert(id, held);
    }

    fn of(&self, workflow: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(workflow.to_string()).or_default().clone()
    }
}

/// Takes the decisions of `workflow` (see the module doc).
async fn hold(ctx: &Ctx, workflow: &str) -> Result<Hold> {
    let local = ctx.gates.of(workflow).lock_owned().await;
    let node = ctx.handle.node();
    if node.lease.is_none() {
        return Ok(Hold {
            _local: local,
            _shared: None,
        });
    }
    let store = ctx.store().clone();
    let name = format!("concurrency:{workflow}");
    let holder = format!("{}/{}", node.id, ExecutionId::new());
    let ttl = i64::try_from(LOCK_TTL.as_millis()).unwrap_or(i64::MAX);
    let deadline = tokio::time::Instant::now() + LOCK_WAIT;
    let mut pause = Duration::from_millis(2);
    loop {
        let now = harmonia_storage::Timestamp::now();
        let until = harmonia_storage::Timestamp(now.0.saturating_add(ttl));
        if store.try_lock(&name, &holder, "", now, until).await? {
            return Ok(Hold {
                _local: local,
                _shared: Some(SharedLock {
                    store,
                    name,
                    holder,
                }),
            });
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::Storage(harmonia_storage::Error::Conflict(format!(
                "another node has been deciding a start of workflow `{workflow}` (its concurrency policy) for {}s; try again",
                LOCK_WAIT.as_secs()
            ))));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Concurrency policies (see the module doc).
#[derive(Clone)]
pub struct Concurrency(pub(crate) Ctx);

/// How a start went through its workflow's policy.
pub(crate) struct Admitted {
    /// Start it held.
    pub(crate) held: bool,
    /// Cancel it once created (`cancel_new`), with this reason.
    pub(crate) refuse: Option<String>,
    /// Executions to cancel once it is created (`coalesce`: the starts it replaces).
    pub(crate) replaces: Vec<ExecutionId>,
    /// The lock, held until the start is committed.
    pub(crate) _guard: Hold,
}

impl Concurrency {
    /// Decides how a start of `workflow` on `inputs` goes (see the module doc).
    pub(crate) async fn admit(
        &self,
        workflow: &Workflow,
        plan: &ConcurrencyPlan,
        inputs: &Value,
    ) -> Result<Admitted> {
        let name = &workflow.record.name;
        let guard = hold(&self.0, name).await?;
        let key = match workflow.plan.prepare_inputs(inputs.clone()) {
            Ok(prepared) => key_of(workflow, plan, &prepared)?,
            // The start will be refused with every violation: no slot is taken.
            Err(_) => {
                return Ok(Admitted {
                    held: false,
                    refuse: None,
                    replaces: Vec::new(),
                    _guard: guard,
                });
            }
        };
        let groups = self.groups(workflow, plan).await?;
        let (running, held) = groups.get(&key).cloned().unwrap_or_default();
        let mut admitted = Admitted {
            held: false,
            refuse: None,
            replaces: Vec::new(),
            _guard: guard,
        };
        if running.len() < plan.limit as usize && held.is_empty() {
            return Ok(admitted);
        }
        match plan.on_conflict {
            ConflictPolicy::Queue => admitted.held = true,
            ConflictPolicy::Coalesce => {
                admitted.held = true;
                admitted.replaces = held;
            }
            ConflictPolicy::CancelNew => {
                admitted.held = true;
                admitted.refuse = Some(format!(
                    "{} of `{name}` already run{} for key `{}` (limit {}, `on_conflict: cancel_new`)",
                    running.len(),
                    if running.len() == 1 { "s" } else { "" },
                    harmonia_expr::clip(&key),
                    plan.limit
                ));
            }
            ConflictPolicy::CancelOld => {
                let excess = (running.len() + 1).saturating_sub(plan.limit as usize);
                for id in running.into_iter().take(excess) {
                    let reason = format!(
                        "cancelled to make room for a newer run (`{name}` allows {} per key, `on_conflict: cancel_old`)",
                        plan.limit
                    );
                    if let Err(e) = self.0.handle.cancel(id, Some(reason)).await {
                        tracing::debug!(execution = %id, error = %e, "cancelling an older run");
                    }
                }
            }
        }
        Ok(admitted)
    }

    /// Resumes the oldest held executions of each group of `workflow` while fewer than
    /// its limit run; returns how many it resumed.
    pub async fn release(&self, workflow: &str) -> Result<usize> {
        let Some(record) = self.0.store().workflow(workflow, None).await? else {
            return Ok(0);
        };
        let latest = self.0.plans().get(workflow, Some(record.version)).await?;
        let Some(plan) = latest.plan.concurrency.clone() else {
            return Ok(0);
        };
        let _guard = hold(&self.0, workflow).await?;
        let mut resumed = 0;
        for (running, held) in self.groups(&latest, &plan).await?.into_values() {
            let free = (plan.limit as usize).saturating_sub(running.len());
            for id in held.into_iter().take(free) {
                match self.0.handle.resume(id).await {
                    Ok(_) => {
                        self.remember(id, false);
                        resumed += 1;
                    }
                    Err(e) => tracing::debug!(execution = %id, error = %e, "resuming a held run"),
                }
            }
        }
        Ok(resumed)
    }

    /// Releases held executions as executions end, until `stop` is cancelled.
    pub async fn run(&self, stop: tokio_util::sync::CancellationToken) {
        let mut events = self.0.handle.subscribe();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let ended = tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => None,
                e = events.recv() => match e {
                    Ok(e) => match e.event {
                        Event::ExecutionSucceeded { .. }
                        | Event::ExecutionFailed { .. }
                        | Event::ExecutionCancelled => Some(e.execution),
                        _ => continue,
                    },
                    Err(_) => None,
                },
            };
            if let Err(e) = self.release_after(ended).await {
                tracing::error!(error = %e, "releasing held runs failed; trying again");
            }
        }
    }

    /// Releases the workflow of `ended`, or every workflow with a policy.
    async fn release_after(&self, ended: Option<ExecutionId>) -> Result<()> {
        if let Some(id) = ended {
            if let Some(x) = self.0.store().execution(id).await? {
                self.release(&x.workflow).await?;
            }
            return Ok(());
        }
        for record in self.0.store().workflows().await? {
            self.release(&record.name).await?;
        }
        Ok(())
    }

    /// The unfinished top-level executions of `workflow` by key: the running ones and
    /// the held ones, each oldest first.
    async fn groups(
        &self,
        workflow: &Workflow,
        plan: &ConcurrencyPlan,
    ) -> Result<BTreeMap<String, (Vec<ExecutionId>, Vec<ExecutionId>)>> {
        let mut members: Vec<ExecutionRecord> = self
            .0
            .store()
            .unfinished()
            .await?
            .into_iter()
            .filter(|e| e.workflow == workflow.record.name && e.parent.is_none())
            .collect();
        members.sort_by_key(|e| (e.created_at, e.id));
        let mut out: BTreeMap<String, (Vec<ExecutionId>, Vec<ExecutionId>)> = BTreeMap::new();
        for e in members {
            let key = key_of(workflow, plan, &e.inputs)?;
            let group = out.entry(key).or_default();
            if e.status == ExecutionStatus::Paused && self.is_held(e.id).await? {
                group.1.push(e.id);
            } else {
                // Running (or paused by a person): it holds a slot.
                self.forget(e.id);
                group.0.push(e.id);
            }
        }
        Ok(out)
    }

    /// Whether paused execution `id` was started held and not resumed since: its log
    /// has a `Paused` before any attempt started, and no `Resumed`. Remembered, since
    /// a held run stays held until it is resumed.
    async fn is_held(&self, id: ExecutionId) -> Result<bool> {
        if let Some(&known) = self
            .0
            .gates
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&id)
        {
            return Ok(known);
        }
        let log = self.0.handle.history(id).await?;
        let mut held = false;
        for e in &log {
            match e.event {
                Event::Paused => held = true,
                Event::AttemptStarted { .. } | Event::Resumed => {
                    held = false;
                    break;
                }
                _ => {}
            }
        }
        self.remember(id, held);
        Ok(held)
    }

    fn remember(&self, id: ExecutionId, held: bool) {
        self.0.gates.note(id, held);
    }

    fn forget(&self, id: ExecutionId) {
        let mut known = self
            .0
            .gates
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        known.remove(&id);
    }
}

/// The key of an execution on `inputs` (defaults applied): the text of the key's
/// value (`""` for null), or `""` without a key.
fn key_of(workflow: &Workflow, plan: &ConcurrencyPlan, inputs: &Value) -> Result<String> {
    let Some(template) = &plan.key else {
        return Ok(String::new());
    };
    let limits = Limits::default();
    let params = workflow.plan.workflow.params.clone().unwrap_or(Value::Null);
    let ctx = Context::new()
        .with(Var::Inputs, Val::from(inputs))
        .with(Var::Params, Val::from(&params));
    let value = template
        .eval(&ctx, &limits)
        .and_then(|v| v.to_json(limits.max_output_bytes))
        .map_err(|e| {
            Error::InvalidRequest(format!("`concurrency.key` failed on these inputs: {e}"))
        })?;
    Ok(match value {
        Value::Null => String::new(),
        Value::String(s) => s,
        other => other.to_string(),
    })
}
