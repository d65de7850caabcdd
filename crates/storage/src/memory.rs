//! An in-memory store, for tests and for runs that need no durability.
//!
//! It follows the same contract as the durable stores (the shared suite runs against
//! it), except that nothing survives the process. One lock guards everything, so each
//! call is atomic. Its catalogs are [`Shelf`]s, the in-memory form of the catalog
//! contract, one per document kind; its commits decide their conditions (fences,
//! idempotency keys) with [`commit::decide`], as every backend does. Inbox events are
//! kept in `seq` order, so `seq - 1` is an event's index.

mod analytics;
mod nodes;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

use crate::catalog::{Catalog, Document, Put, Shelf, TemplateDoc, WorkflowDoc};
use crate::json::RawJson;
use crate::records::{
    CommitBatch, CommitReport, EventRecord, ExecutionQuery, ExecutionRecord, IdempotencyRecord,
    InboxEvent, InboxQuery, OnConflict, Page, Received, TaskRunRecord, TimerRecord, TokenRecord,
};
use crate::{
    DEFAULT_LIMIT, Deliveries, DeliveryQuery, DeliveryRecord, Error, ExecutionId, ExecutionLog,
    ExecutionQueries, Idempotency, Inbox, KEPT_PER_TRIGGER, LockRecord, NewDelivery, NodeRecord,
    Result, TaskStatus, Timers, Timestamp, Tokens, TriggerStates, commit,
};

/// A store in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    events: HashMap<ExecutionId, Vec<EventRecord>>,
    executions: BTreeMap<ExecutionId, ExecutionRecord>,
    task_runs: HashMap<ExecutionId, BTreeMap<(String, i64), TaskRunRecord>>,
    workflows: Shelf<WorkflowDoc>,
    templates: Shelf<TemplateDoc>,
    tokens: Vec<TokenRecord>,
    had_tokens: bool,
    /// Paused triggers, since when.
    paused_triggers: BTreeMap<String, Timestamp>,
    /// The latest fire time of each schedule.
    fire_marks: BTreeMap<String, Timestamp>,
    /// Webhook deliveries by `seq - 1` (forgotten ones are `None`).
    deliveries: Vec<Option<DeliveryRecord>>,
    timers: BTreeMap<(ExecutionId, String), Timestamp>,
    /// By (scope, key).
    idempotency: HashMap<(String, String), IdempotencyRecord>,
    /// By `seq - 1`: seqs are 1, 2, 3, ...
    inbox: Vec<InboxEvent>,
    /// How many batches `commit` took (what the engine's group commit is measured by).
    commits: u64,
    /// (source, id) to `seq`.
    inbox_ids: HashMap<(String, String), u64>,
    /// The nodes' rows, by id.
    nodes: BTreeMap<String, NodeRecord>,
    /// Locks by name: holder, until when.
    locks: BTreeMap<String, LockRecord>,
}

/// The document kinds a [`MemoryStore`] keeps, each on its shelf.
trait Shelved: Document + Sized {
    fn shelf(inner: &mut Inner) -> &mut Shelf<Self>;
}

impl Shelved for WorkflowDoc {
    fn shelf(inner: &mut Inner) -> &mut Shelf<WorkflowDoc> {
        &mut inner.workflows
    }
}

impl Shelved for TemplateDoc {
    fn shelf(inner: &mut Inner) -> &mut Shelf<TemplateDoc> {
        &mut inner.templates
    }
}

impl MemoryStore {
    /// The commit itself: everything happens under the lock, so it never waits on
    /// anything but the lock.
    fn commit_now(&self, batch: &CommitBatch) -> Result<CommitReport> {
        batch.check_json()?;
        let mut inner = self.lock()?;
        if !batch.is_empty() {
            inner.commits += 1;
        }
        let decision = commit::decide(
            batch,
            |id| inner.executions.get(&id).map(|x| x.fence),
            |scope, key| {
                inner
                    .idempotency
                    .get(&(scope.to_owned(), key.to_owned()))
                    .cloned()
            },
        );
        let batch = decision.kept(batch);
        // Check every event first, so that a conflict writes nothing.
        let mut seen: HashMap<ExecutionId, HashSet<u64>> = HashMap::new();
        for e in &batch.events {
            let seqs = seen.entry(e.execution).or_insert_with(|| {
                inner
                    .events
                    .get(&e.execution)
                    .map(|v| v.iter().map(|x| x.seq).collect())
                    .unwrap_or_default()
            });
            if !seqs.insert(e.seq) {
                return Err(Error::Conflict(format!(
                    "event {} of execution {} already exists",
                    e.seq, e.execution
                )));
            }
        }
        for e in &batch.events {
            inner.events.entry(e.execution).or_default().push(e.clone());
        }
        for id in seen.keys() {
            if let Some(events) = inner.events.get_mut(id) {
                events.sort_by_key(|e| e.seq);
            }
        }
        for x in &batch.executions {
            // An execution's inputs and identity are written once (see the `Store`
            // contract).
            let mut row = x.clone();
            if let Some(old) = inner.executions.get(&x.id) {
                row.inputs = old.inputs.clone();
                row.workflow_id = old.workflow_id;
                row.workflow = old.workflow.clone();
                row.version = old.version;
                row.created_at = old.created_at;
                row.parent = old.parent.clone();
                row.retry_of = old.retry_of;
                row.origin = old.origin.clone();
            }
            inner.executions.insert(x.id, row);
        }
        for t in &batch.task_runs {
            inner
                .task_runs
                .entry(t.execution)
                .or_default()
                .insert((t.task.clone(), item_key(t.item)), t.clone());
        }
        for (execution, key) in &batch.timers_cleared {
            inner.timers.remove(&(*execution, key.clone()));
        }
        for t in &batch.timers_set {
            inner.timers.insert((t.execution, t.key.clone()), t.due);
        }
        let ended: HashSet<ExecutionId> = commit::ended(&batch).into_iter().collect();
        if !ended.is_empty() {
            inner.timers.retain(|(id, _), _| !ended.contains(id));
        }
        for r in &batch.idempotency {
            inner
                .idempotency
                .insert((r.scope.clone(), r.key.clone()), r.clone());
        }
        Ok(decision.report)
    }

    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// How many non-empty batches have been committed so far.
    pub fn commits(&self) -> u64 {
        self.lock().map_or(0, |inner| inner.commits)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>> {
        self.inner
            .lock()
            .map_err(|_| Error::Backend("the in-memory store's lock is poisoned".into()))
    }

    /// The shelf of kind `D`, under the lock.
    fn with_shelf<D: Shelved, T>(&self, f: impl FnOnce(&mut Shelf<D>) -> T) -> Result<T> {
        Ok(f(D::shelf(&mut *self.lock()?)))
    }
}

fn item_key(item: Option<u32>) -> i64 {
    item.map_or(-1, i64::from)
}

#[async_trait]
impl ExecutionLog for MemoryStore {
    async fn commit(&self, batch: &CommitBatch) -> Result<CommitReport> {
        self.commit_now(batch)
    }

    fn commit_here(&self, batch: &CommitBatch) -> Option<Result<CommitReport>> {
        Some(self.commit_now(batch))
    }

    async fn events(&self, execution: ExecutionId) -> Result<Vec<EventRecord>> {
        Ok(self
            .lock()?
            .events
            .get(&execution)
            .cloned()
            .unwrap_or_default())
    }

    async fn events_after(&self, execution: ExecutionId, seq: u64) -> Result<Vec<EventRecord>> {
        Ok(self
            .lock()?
            .events
            .get(&execution)
            .map(|events| events.iter().filter(|e| e.seq > seq).cloned().collect())
            .unwrap_or_default())
    }
}

#[async_trait]
impl ExecutionQueries for MemoryStore {
    async fn execution(&self, id: ExecutionId) -> Result<Option<ExecutionRecord>> {
        Ok(self.lock()?.executions.get(&id).cloned())
    }

    async fn executions(&self, q: &ExecutionQuery) -> Result<Vec<ExecutionRecord>> {
        let inner = self.lock()?;
        let limit = if q.limit == 0 { DEFAULT_LIMIT } else { q.limit };
        Ok(inner
            .executions
            .values()
            .rev()
            .filter(|x| q.workflow.as_ref().is_none_or(|w| &x.workflow == w))
            .filter(|x| q.statuses.is_empty() || q.statuses.contains(&x.status))
            .filter(|x| {
                q.id_prefix
                    .as_deref()
                    .is_none_or(|p| x.id.to_string().starts_with(p))
            })
            .filter(|x| {
                q.origins.is_empty()
                    || x.origin
                        .as_ref()
                        .is_some_and(|o| q.origins.contains(&o.kind))
            })
            .filter(|x| {
                q.trigger.as_deref().is_none_or(|t| {
                    x.origin
                        .as_ref()
                        .is_some_and(|o| o.kind.is_trigger() && o.by.as_deref() == Some(t))
                })
            })
            .filter(|x| {
                // The inputs as a SQL store keeps them: `serde_json`'s compact text.
                q.input.as_deref().is_none_or(|text| {
                    serde_json::to_string(x.inputs.as_ref()).is_ok_and(|j| j.contains(text))
                })
            })
            .filter(|x| q.since.is_none_or(|t| x.created_at >= t))
            .filter(|x| q.until.is_none_or(|t| x.created_at < t))
            .filter(|x| q.after.is_none_or(|c| x.id < c))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn unfinished(&self) -> Result<Vec<ExecutionRecord>> {
        // Executions sort by id, and ids by creation: oldest first.
        Ok(self
            .lock()?
            .executions
            .values()
            .filter(|x| !x.status.is_terminal())
            .cloned()
            .collect())
    }

    async fn task_runs(&self, execution: ExecutionId) -> Result<Vec<TaskRunRecord>> {
        Ok(self
            .lock()?
            .task_runs
            .get(&execution)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }
}

#[async_trait]
impl Timers for MemoryStore {
    async fn timers(&self) -> Result<Vec<TimerRecord>> {
        let mut timers: Vec<TimerRecord> = self
            .lock()?
            .timers
            .iter()
            .map(|((execution, key), due)| TimerRecord {
                execution: *execution,
                key: key.clone(),
                due: *due,
            })
            .collect();
        // Stable: ties keep the map's (execution, key) order.
        timers.sort_by_key(|t| t.due);
        Ok(timers)
    }

    async fn waiting(&self, wait_for: &str, wait_key: Option<&str>) -> Result<Vec<TaskRunRecord>> {
        let inner = self.lock()?;
        let mut open: Vec<&ExecutionId> = inner
            .task_runs
            .keys()
            .filter(|id| {
                inner
                    .executions
                    .get(id)
                    .is_some_and(|x| !x.status.is_terminal())
            })
            .collect();
        open.sort();
        Ok(open
            .into_iter()
            .filter_map(|id| inner.task_runs.get(id))
            .flat_map(|runs| runs.values())
            .filter(|t| {
                t.status == TaskStatus::Running
                    && t.wait_for.as_deref() == Some(wait_for)
                    && wait_key.is_none_or(|k| t.wait_key.as_deref() == Some(k))
            })
            .cloned()
            .collect())
    }
}

#[async_trait]
impl Inbox for MemoryStore {
    async fn receive(
        &self,
        source: &str,
        id: &str,
        ty: &str,
        event: &RawJson,
        at: Timestamp,
    ) -> Result<Received> {
        event
            .check()
            .map_err(|m| Error::Invalid(format!("inbox event `{id}` of `{source}`: {m}")))?;
        let mut inner = self.lock()?;
        let key = (source.to_owned(), id.to_owned());
        if let Some(&seq) = inner.inbox_ids.get(&key) {
            return inbox_event(&inner, seq)
                .cloned()
                .map(Received::Duplicate)
                .ok_or_else(|| Error::Corrupt(format!("inbox event {seq} is missing")));
        }
        let seq = inner.inbox.len() as u64 + 1;
        let stored = InboxEvent {
            seq,
            source: source.to_owned(),
            id: id.to_owned(),
            ty: ty.to_owned(),
            received_at: at,
            event: event.clone(),
            routed_at: None,
            deliveries: None,
        };
        inner.inbox.push(stored.clone());
        inner.inbox_ids.insert(key, seq);
        Ok(Received::New(stored))
    }

    async fn mark_routed(&self, seq: u64, deliveries: &Value, at: Timestamp) -> Result<()> {
        crate::json::check(deliveries)
            .map_err(|m| Error::Invalid(format!("deliveries of inbox event {seq}: {m}")))?;
        let mut inner = self.lock()?;
        let event = seq
            .checked_sub(1)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| inner.inbox.get_mut(i))
            .ok_or_else(|| Error::Invalid(format!("no inbox event has seq {seq}")))?;
        event.routed_at = Some(at);
        event.deliveries = Some(deliveries.clone());
        Ok(())
    }

    async fn unrouted(&self) -> Result<Vec<InboxEvent>> {
        Ok(self
            .lock()?
            .inbox
            .iter()
            .filter(|e| e.routed_at.is_none())
            .cloned()
            .collect())
    }

    async fn inbox(&self, q: &InboxQuery) -> Result<Page<InboxEvent>> {
        let inner = self.lock()?;
        let limit = if q.limit == 0 { DEFAULT_LIMIT } else { q.limit };
        let items = inner
            .inbox
            .iter()
            .rev()
            .filter(|e| q.ty.as_ref().is_none_or(|t| &e.ty == t))
            .filter(|e| q.after.is_none_or(|c| e.seq < c))
            .take(limit.saturating_add(1))
            .cloned()
            .collect();
        Ok(Page::of(items, limit))
    }
}

/// The inbox event of `seq`.
fn inbox_event(inner: &Inner, seq: u64) -> Option<&InboxEvent> {
    let i = usize::try_from(seq.checked_sub(1)?).ok()?;
    inner.inbox.get(i)
}

#[async_trait]
impl Idempotency for MemoryStore {
    async fn idempotency(
        &self,
        scope: &str,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>> {
        Ok(self
            .lock()?
            .idempotency
            .get(&(scope.to_owned(), key.to_owned()))
            .filter(|r| r.holds_at(now))
            .cloned())
    }

    async fn prune_idempotency(&self, now: Timestamp) -> Result<u64> {
        let mut inner = self.lock()?;
        let before = inner.idempotency.len();
        inner.idempotency.retain(|_, r| r.holds_at(now));
        Ok((before - inner.idempotency.len()) as u64)
    }
}

#[async_trait]
impl<D: Shelved> Catalog<D> for MemoryStore {
    async fn put(&self, new: &D::New) -> Result<Put<D::Record>> {
        self.with_shelf(|s: &mut Shelf<D>| s.put(new))?
    }

    async fn import(
        &self,
        versions: &[D::New],
        on_conflict: OnConflict,
    ) -> Result<Vec<Put<D::Record>>> {
        self.with_shelf(|s: &mut Shelf<D>| s.import(versions, on_conflict))?
    }

    async fn get(&self, name: &str, version: Option<u32>) -> Result<Option<D::Record>> {
        self.with_shelf(|s: &mut Shelf<D>| s.get(name, version))
    }

    async fn get_by_id(&self, id: D::Id, version: Option<u32>) -> Result<Option<D::Record>> {
        self.with_shelf(|s: &mut Shelf<D>| s.get_by_id(id, version))
    }

    async fn latest(&self, query: &D::Query) -> Result<Vec<D::Record>> {
        self.with_shelf(|s: &mut Shelf<D>| s.latest(query))
    }

    async fn versions(&self, name: &str) -> Result<Vec<D::Record>> {
        self.with_shelf(|s: &mut Shelf<D>| s.versions(name))
    }

    async fn delete(&self, name: &str) -> Result<bool> {
        self.with_shelf(|s: &mut Shelf<D>| s.delete(name))
    }
}

#[async_trait]
impl Tokens for MemoryStore {
    async fn put_token(&self, token: &TokenRecord) -> Result<()> {
        let mut inner = self.lock()?;
        if inner
            .tokens
            .iter()
            .any(|t| t.id == token.id || t.hash == token.hash)
        {
            return Err(Error::Conflict(format!(
                "token {} already exists",
                token.id
            )));
        }
        inner.tokens.push(token.clone());
        inner.had_tokens = true;
        Ok(())
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>> {
        Ok(self.lock()?.tokens.iter().find(|t| t.hash == hash).cloned())
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        Ok(self.lock()?.tokens.clone())
    }

    async fn delete_token(&self, id: &str) -> Result<bool> {
        let mut inner = self.lock()?;
        let before = inner.tokens.len();
        inner.tokens.retain(|t| t.id != id);
        Ok(inner.tokens.len() != before)
    }

    async fn had_tokens(&self) -> Result<bool> {
        Ok(self.lock()?.had_tokens)
    }
}

#[async_trait]
impl TriggerStates for MemoryStore {
    async fn set_trigger_paused(&self, id: &str, paused: bool, at: Timestamp) -> Result<()> {
        let mut inner = self.lock()?;
        if paused {
            inner.paused_triggers.entry(id.to_string()).or_insert(at);
        } else {
            inner.paused_triggers.remove(id);
        }
        Ok(())
    }

    async fn paused_triggers(&self) -> Result<Vec<(String, Timestamp)>> {
        Ok(self
            .lock()?
            .paused_triggers
            .iter()
            .map(|(id, at)| (id.clone(), *at))
            .collect())
    }

    async fn mark_fired(&self, id: &str, at: Timestamp) -> Result<()> {
        let mut inner = self.lock()?;
        let mark = inner.fire_marks.entry(id.to_string()).or_insert(at);
        *mark = (*mark).max(at);
        Ok(())
    }

    async fn fire_marks(&self) -> Result<Vec<(String, Timestamp)>> {
        Ok(self
            .lock()?
            .fire_marks
            .iter()
            .map(|(id, at)| (id.clone(), *at))
            .collect())
    }
}

#[async_trait]
impl Deliveries for MemoryStore {
    async fn record_delivery(&self, delivery: &NewDelivery) -> Result<DeliveryRecord> {
        let mut inner = self.lock()?;
        let record = DeliveryRecord {
            seq: inner.deliveries.len() as u64 + 1,
            delivery: delivery.clone(),
        };
        inner.deliveries.push(Some(record.clone()));
        let kept: Vec<usize> = inner
            .deliveries
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                d.as_ref()
                    .is_some_and(|d| d.delivery.trigger == delivery.trigger)
            })
            .map(|(i, _)| i)
            .collect();
        if let Some(excess) = kept.len().checked_sub(KEPT_PER_TRIGGER) {
            for &i in &kept[..excess] {
                if let Some(slot) = inner.deliveries.get_mut(i) {
                    *slot = None;
                }
            }
        }
        Ok(record)
    }

    async fn delivery(&self, seq: u64) -> Result<Option<DeliveryRecord>> {
        let inner = self.lock()?;
        Ok(usize::try_from(seq)
            .ok()
            .and_then(|s| s.checked_sub(1))
            .and_then(|i| inner.deliveries.get(i))
            .and_then(Clone::clone))
    }

    async fn deliveries(&self, trigger: &str, q: &DeliveryQuery) -> Result<Page<DeliveryRecord>> {
        let limit = if q.limit == 0 { DEFAULT_LIMIT } else { q.limit };
        let inner = self.lock()?;
        let items: Vec<DeliveryRecord> = inner
            .deliveries
            .iter()
            .rev()
            .flatten()
            .filter(|d| d.delivery.trigger == trigger && q.after.is_none_or(|a| d.seq < a))
            .take(limit.saturating_add(1))
            .cloned()
            .collect();
        Ok(Page::of(items, limit))
    }
}

#[cfg(test)]
mod tests {
    crate::storage_suite!(async { crate::MemoryStore::new() });
}
