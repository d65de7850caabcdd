//! Worker leases shared by the nodes of one store: a worker may poll, heart-beat and
//! answer through any node, whichever node runs the execution.
//!
//! Used when the engine is a member of a cluster (it holds a node lease); a lone
//! server keeps its leases in memory only (`board.rs`). Here the store's named locks
//! are the leases:
//! - a lease is the lock [`lock_name`] of its attempt (execution, task, item, attempt,
//!   heartbeat timeout, queue), held by the lease's id until it expires, its note
//!   naming the worker ([`Note`]); a poll leases an attempt only if it takes that lock,
//!   so of two nodes offering one attempt, one leases it;
//! - each node's board reloads every [`RELOAD`] what waits on any node
//!   (`Timers::waiting`) and which of it is leased (the locks), so a poll on any node
//!   sees every queue (an attempt that begins waiting on another node is offered here
//!   within [`RELOAD`]);
//! - a heartbeat or an answer finds the lock from the lease id (`lock_held_by`), on
//!   any node. The node that runs the execution sends an answer to its engine at once;
//!   another node writes it into the lock's note as *pending* and waits (up to
//!   [`ANSWER_WAIT`]) for the execution's node, which looks for pending answers every
//!   [`ANSWERS`], to apply it and write how it went. Answers never move executions
//!   between nodes: a fan-out answered through every node stays where it runs. If
//!   that node died, the node that takes its executions over applies the answer;
//! - a lease's note moves one way: held, answer left, answer *claimed* (by the node
//!   applying it, until [`ANSWER_WAIT`] from the claim), ended. Every move is a swap
//!   from the note as read (`Nodes::swap_lock`), so of two calls or nodes moving it
//!   from one state, one does and the other reads it again. Only the claim's holder
//!   sends the answer to the engine: an answer is applied once, a copy of it sent
//!   meanwhile (through any node) waits for the tombstone, and a refusal means the
//!   attempt ended otherwise. (Before, a node that saw the execution end applied a
//!   pending answer the execution's node had just recorded, was refused, and wrote
//!   `cancelled` over it.) One case stays ambiguous: a claim that lapses (its node
//!   died, or stalled past [`ANSWER_WAIT`], between the engine's commit and the
//!   tombstone) is taken over, and the new claimant's refusal is recorded as
//!   `cancelled` though the answer was recorded;
//! - a lease that ended keeps its lock for [`KEPT`] as a tombstone whose note says how
//!   (so a late call, on any node, learns why it is refused); then a sweep deletes it.
//!   The tombstone keeps the attempt's lock name taken: a board that still offers the
//!   attempt (its reload came before the end) cannot lease it again. So it must stay
//!   under the same name, and for well over [`RELOAD`];
//! - every [`RELOAD`], each node sweeps the expired locks of the executions it runs
//!   (so an expiry never moves an execution either): it marks each expired and sends
//!   the attempt's `expired` answer. An expired lock with a pending answer gets that
//!   answer instead. Two answers for one attempt cannot both be recorded: the engine
//!   takes one per attempt.
//!
//! Invariant: at most one live lease per attempt across the nodes (the lock), and the
//! engine records at most one answer per attempt (its attempt check).

use std::collections::HashMap;
use std::time::Duration;

use harmonia_storage::{LockRecord, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::board::{AttemptKey, Ended, Lease, Reload, granted_at};
use super::{Heartbeat, Workers, lost, ready_of};
use crate::{Error, Result};

/// The prefix of the locks of worker leases.
pub(super) const PREFIX: &str = "worker:";
/// How often a node reloads the queues and sweeps expired leases.
pub const RELOAD: Duration = Duration::from_secs(1);
/// How long an ended lease's tombstone is kept.
pub const KEPT: Duration = Duration::from_secs(300);
/// How often a node looks for answers left for the executions it runs.
pub const ANSWERS: Duration = Duration::from_millis(200);
/// How long an answer left for another node waits to be applied.
pub const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// What a lease's lock notes: its worker, and how it ended, once it has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Note {
    /// The worker holding it.
    pub worker: String,
    /// How it ended (`None`: held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    /// An answer left for the execution's node to apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Pending>,
    /// The node applying `answer` now (its claim lasts until the lock's time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applying: Option<String>,
}

/// An answer waiting for the node that runs its execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Pending {
    /// `completed` or `failed`.
    pub how: String,
    /// The signal's outcome.
    pub outcome: serde_json::Value,
    /// Who answered (a token's name), and their role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<(String, Option<String>)>,
}

impl Pending {
    fn ended(&self) -> Ended {
        if self.how == "failed" {
            Ended::Failed
        } else {
            Ended::Completed
        }
    }

    fn actor(&self) -> Option<harmonia_engine::kinds::Actor> {
        self.by
            .clone()
            .map(|(name, role)| harmonia_engine::kinds::Actor { name, role })
    }
}

impl Note {
    fn held(worker: &str) -> String {
        json!({"worker": worker}).to_string()
    }

    fn encode(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::Internal(e.to_string()))
    }

    fn ended(&self) -> Option<Ended> {
        match self.ended.as_deref()? {
            "completed" => Some(Ended::Completed),
            "failed" => Some(Ended::Failed),
            "cancelled" => Some(Ended::Cancelled),
            _ => Some(Ended::Expired),
        }
    }
}

/// A lease's lock, read back.
#[derive(Debug, Clone)]
pub(super) struct Held {
    /// The attempt.
    pub key: AttemptKey,
    /// Its queue.
    pub queue: String,
    /// Its heartbeat timeout.
    pub heartbeat: Duration,
    /// The lock as stored.
    pub lock: LockRecord,
    /// Its note.
    pub note: Note,
}

impl Held {
    /// Reads a lock of [`PREFIX`]; `None` for one this module did not write.
    pub(super) fn read(lock: LockRecord) -> Option<Held> {
        let mut parts = lock.name.strip_prefix(PREFIX)?.splitn(6, ':');
        let execution = parts.next()?.parse().ok()?;
        let task = parts.next()?.to_string();
        let item = match parts.next()? {
            "-" => None,
            n => Some(n.parse().ok()?),
        };
        let attempt = parts.next()?.parse().ok()?;
        let heartbeat = Duration::from_millis(parts.next()?.parse().ok()?);
        let queue = parts.next()?.to_string();
        let note = serde_json::from_str(&lock.note).ok()?;
        Some(Held {
            key: AttemptKey {
                execution,
                task,
                item,
                attempt,
            },
            queue,
            heartbeat,
            lock,
            note,
        })
    }
}

impl Held {
    /// The same lease, as it is once its lock was swapped to `note` until `until`.
    fn moved(&self, note: Note, encoded: String, until: Timestamp) -> Held {
        Held {
            lock: LockRecord {
                note: encoded,
                expires_at: until,
                ..self.lock.clone()
            },
            note,
            ..self.clone()
        }
    }
}

/// How many times one call reads a lease again after its lock moved under it (a lock
/// moves at most from held to left to applying to ended, so a few suffice).
const MOVES: usize = 8;

/// The lock of a lease on `lease`'s attempt.
pub(super) fn lock_name(lease: &Lease) -> String {
    let k = &lease.ready.key;
    let item = k.item.map_or_else(|| "-".to_string(), |i| i.to_string());
    format!(
        "{PREFIX}{}:{}:{item}:{}:{}:{}",
        k.execution,
        k.task,
        k.attempt,
        lease.ready.heartbeat.as_millis(),
        lease.ready.queue
    )
}

/// `HARMONIA_TEST_PAUSE_AT=POINT:MS` holds this node for MS milliseconds at `POINT`, the
/// windows in which other calls and nodes move a lease's lock on:
/// - `worker_answer_recorded`: between the engine's commit of a worker's answer and the
///   lease's tombstone;
/// - `worker_heartbeat_read`: between a heartbeat's read of the lock and its extension.
///
/// Tests only; unset, it costs one lookup per process.
async fn pause_point(point: &str) {
    static PAUSE: std::sync::OnceLock<Option<(String, Duration)>> = std::sync::OnceLock::new();
    let pause = PAUSE.get_or_init(|| {
        let value = std::env::var("HARMONIA_TEST_PAUSE_AT").ok()?;
        let (at, ms) = value.split_once(':')?;
        Some((
            at.trim().to_string(),
            Duration::from_millis(ms.trim().parse().ok()?),
        ))
    });
    if let Some((at, pause)) = pause
        && at == point
    {
        tracing::warn!(?pause, point, "test pause");
        tokio::time::sleep(*pause).await;
    }
}

fn millis(d: Duration) -> Timestamp {
    Timestamp::now().plus(d)
}

impl Workers {
    /// Whether the leases are shared with other nodes (the engine holds a node lease).
    pub(super) fn is_shared(&self) -> bool {
        self.ctx.handle.node().lease.is_some()
    }

    /// Takes the store's lock of each lease the board granted; those another node
    /// holds are dropped. A store that cannot be asked puts them back.
    pub(super) async fn lock_leases(&self, leases: Vec<Lease>) -> Result<Vec<Lease>> {
        let store = self.ctx.store();
        let mut held = Vec::with_capacity(leases.len());
        let mut rest = leases.into_iter();
        while let Some(lease) = rest.next() {
            let now = Timestamp::now();
            let taken = store
                .try_lock(
                    &lock_name(&lease),
                    &lease.id,
                    &Note::held(&lease.worker),
                    now,
                    lease.expires_at,
                )
                .await;
            match taken {
                Ok(true) => held.push(lease),
                Ok(false) => self.board().drop_lease(&lease.id),
                Err(e) => {
                    let mut board = self.board();
                    board.unlease(&lease.id);
                    for l in rest.by_ref() {
                        board.unlease(&l.id);
                    }
                    // The leases already locked are the holder's: handed out, the
                    // attempts would wait for them to expire.
                    if held.is_empty() {
                        return Err(Error::Storage(e));
                    }
                    tracing::warn!(error = %e, "a worker poll leased fewer attempts: the store failed");
                }
            }
        }
        Ok(held)
    }

    /// The live lease `id`, from the store, or why it is not held.
    async fn live(&self, id: &str) -> Result<Held> {
        let lock = self.ctx.store().lock_held_by(id).await?;
        let Some(held) = lock.and_then(Held::read) else {
            return Err(lost(id, self.board().why(id)));
        };
        if let Some(how) = held.note.ended() {
            self.board().settle(id, how);
            return Err(lost(id, Some(how)));
        }
        // An answer left for another node stays until it is applied, however long.
        if held.note.answer.is_none() && held.lock.expires_at <= Timestamp::now() {
            return Err(lost(id, Some(Ended::Expired)));
        }
        Ok(held)
    }

    /// Whether `held`'s attempt is known to have ended otherwise.
    fn attempt_ended(&self, held: &Held) -> bool {
        let id = &held.lock.holder;
        let granted = granted_at(id).unwrap_or(Timestamp(i64::MAX));
        self.board().attempt_ended(id, &held.key, granted)
    }

    /// Swaps `held`'s lock from the note it was read with to `note` until `until`: the
    /// lease as it then is, or `None` when the lock moved meanwhile (another call or
    /// node got there first: read it again).
    async fn swap(&self, held: &Held, note: Note, until: Timestamp) -> Result<Option<Held>> {
        let encoded = note.encode()?;
        let swapped = self
            .ctx
            .store()
            .swap_lock(
                &held.lock.name,
                &held.lock.holder,
                &held.lock.note,
                &encoded,
                until,
            )
            .await?;
        Ok(swapped.then(|| held.moved(note, encoded, until)))
    }

    /// Writes `held`'s tombstone, if its lock is still as read: it ended as `how`.
    /// False when the lock moved meanwhile.
    async fn bury(&self, held: &Held, how: Ended) -> Result<bool> {
        let note = Note {
            worker: held.note.worker.clone(),
            ended: Some(how.name().to_string()),
            answer: None,
            applying: None,
        };
        let buried = self.swap(held, note, millis(KEPT)).await?.is_some();
        if buried {
            self.board().settle(&held.lock.holder, how);
        }
        Ok(buried)
    }

    /// The error for a lease whose lock kept moving under a call.
    fn still_moving(id: &str) -> Error {
        Error::Busy(format!(
            "lease `{}` kept changing while this call read it; send it again",
            harmonia_expr::clip(id)
        ))
    }

    /// A heartbeat through the store.
    pub(super) async fn heartbeat_shared(&self, id: &str) -> Result<Heartbeat> {
        for _ in 0..MOVES {
            let held = self.live(id).await?;
            if held.note.answer.is_some() {
                // Answered: the lease holds until the answer is applied.
                return Ok(Heartbeat {
                    lease_id: id.to_string(),
                    expires_at: held.lock.expires_at,
                    cancel_requested: false,
                });
            }
            if self.attempt_ended(&held) {
                if self.bury(&held, Ended::Cancelled).await? {
                    return Ok(Heartbeat {
                        lease_id: id.to_string(),
                        expires_at: held.lock.expires_at,
                        cancel_requested: true,
                    });
                }
                continue;
            }
            pause_point("worker_heartbeat_read").await;
            let until = Timestamp::now().plus(held.heartbeat);
            // Extended only as read: an answer or an end written meanwhile stays.
            if self.swap(&held, held.note.clone(), until).await?.is_some() {
                self.board().extend(id, until);
                return Ok(Heartbeat {
                    lease_id: id.to_string(),
                    expires_at: until,
                    cancel_requested: false,
                });
            }
        }
        Err(Self::still_moving(id))
    }

    /// An answer through the store: `how` is [`Ended::Completed`] or
    /// [`Ended::Failed`]. Applied here when this node runs the execution; otherwise
    /// left in the lock for the node that does, and waited for. An answer already left
    /// or being applied (the same call sent again, or through another node) is waited
    /// for, never applied twice.
    pub(super) async fn answer_shared(
        &self,
        id: &str,
        how: Ended,
        outcome: serde_json::Value,
        by: Option<harmonia_engine::kinds::Actor>,
    ) -> Result<()> {
        let pending = Pending {
            how: how.name().to_string(),
            outcome,
            by: by.map(|a| (a.name, a.role)),
        };
        for _ in 0..MOVES {
            let held = self.live(id).await?;
            if held.note.answer.is_some() {
                return self.await_answer(id, how).await;
            }
            if self.attempt_ended(&held) {
                if self.bury(&held, Ended::Cancelled).await? {
                    return Err(lost(id, Some(Ended::Cancelled)));
                }
                continue;
            }
            let until = Timestamp::now().plus(ANSWER_WAIT);
            if self.runs_here(&held).await? {
                if let Some(claimed) = self.claim(&held, pending.clone(), until).await? {
                    return self.apply_answer(&claimed).await;
                }
                continue;
            }
            let left = Note {
                answer: Some(pending.clone()),
                ..held.note.clone()
            };
            if self.swap(&held, left, until).await?.is_some() {
                return self.await_answer(id, how).await;
            }
        }
        Err(Self::still_moving(id))
    }

    /// Claims the application of `answer` to `held`'s attempt for this node until
    /// `until`, if the lock is still as read: the lease as claimed, or `None`.
    async fn claim(&self, held: &Held, answer: Pending, until: Timestamp) -> Result<Option<Held>> {
        let claim = Note {
            worker: held.note.worker.clone(),
            ended: None,
            answer: Some(answer),
            applying: Some(self.ctx.handle.node().id),
        };
        self.swap(held, claim, until).await
    }

    /// Whether this node is the one to send the engine `held`'s answers: its execution
    /// runs here or on no node (as the store says), or has ended or is gone (the answer
    /// is then refused, whoever sends it).
    async fn runs_here(&self, held: &Held) -> Result<bool> {
        let node = self.ctx.handle.node().id;
        Ok(
            match self.ctx.store().execution(held.key.execution).await? {
                None => true,
                Some(r) if r.status.is_terminal() => true,
                Some(r) => r.owner.is_none() || r.owner.as_deref() == Some(node.as_str()),
            },
        )
    }

    /// [`Workers::runs_here`], with a failure to read the store logged and taken as no
    /// (a later look tries again).
    async fn answered_here(&self, held: &Held) -> bool {
        self.runs_here(held).await.unwrap_or_else(|e| {
            tracing::debug!(lease = %held.lock.holder, error = %e, "cannot read a worker lease's execution");
            false
        })
    }

    /// Sends the answer `claimed` holds (this node's claim) to the engine and writes how
    /// it went. Only the claim's holder sends it, so a refusal means the attempt ended
    /// otherwise, not that the same answer was recorded by someone else (unless a claim
    /// outlived [`ANSWER_WAIT`] and was taken over: see the module doc).
    async fn apply_answer(&self, claimed: &Held) -> Result<()> {
        let id = &claimed.lock.holder;
        let Some(pending) = claimed.note.answer.clone() else {
            return Err(Error::Internal(format!(
                "lease `{id}` has no answer to apply"
            )));
        };
        let sent = self
            .send(
                &claimed.key,
                id,
                &claimed.note.worker,
                pending.outcome.clone(),
                pending.actor(),
            )
            .await;
        match sent {
            Ok(true) => {
                pause_point("worker_answer_recorded").await;
                if !self.bury(claimed, pending.ended()).await? {
                    tracing::warn!(lease = %id, "a worker's answer was recorded, but its lease had moved on before its tombstone");
                }
                Ok(())
            }
            Ok(false) => {
                tracing::info!(lease = %id, task = %claimed.key.task, item = ?claimed.key.item, attempt = claimed.key.attempt, "a worker's answer is refused: the engine says its attempt ended");
                self.bury(claimed, Ended::Cancelled).await?;
                Err(lost(id, Some(Ended::Cancelled)))
            }
            Err(e) => {
                // Not recorded: left as it was before the claim, for a later look.
                let left = Note {
                    applying: None,
                    ..claimed.note.clone()
                };
                if let Err(undo) = self.swap(claimed, left, claimed.lock.expires_at).await {
                    tracing::debug!(lease = %id, error = %undo, "cannot release a claim on a worker's answer; it lapses");
                }
                Err(e)
            }
        }
    }

    /// Waits for the answer left in lease `id`'s lock to be applied.
    async fn await_answer(&self, id: &str, how: Ended) -> Result<()> {
        let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
        let mut pause = Duration::from_millis(20);
        loop {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
            let lock = self.ctx.store().lock_held_by(id).await?;
            let Some(held) = lock.and_then(Held::read) else {
                return Err(lost(id, self.board().why(id)));
            };
            match held.note.ended() {
                Some(ended) if ended == how => {
                    self.board().settle(id, ended);
                    return Ok(());
                }
                Some(ended) => {
                    self.board().settle(id, ended);
                    return Err(lost(id, Some(ended)));
                }
                None if tokio::time::Instant::now() >= deadline => {
                    return Err(Error::Busy(format!(
                        "lease `{}`'s answer is kept, and waits for the node that runs its execution; send it again to learn how it went",
                        harmonia_expr::clip(id)
                    )));
                }
                None => {}
            }
        }
    }

    /// Applies the answers other nodes left for the executions this node runs.
    pub(super) async fn take_answers(&self) {
        let locks = match self.ctx.store().locks(PREFIX).await {
            Ok(locks) => locks,
            Err(e) => {
                tracing::debug!(error = %e, "cannot look for worker answers");
                return;
            }
        };
        for held in locks.into_iter().filter_map(Held::read) {
            // Left and not claimed (a claim lapses with its lock's time: the sweep's).
            if held.note.answer.is_none()
                || held.note.applying.is_some()
                || held.note.ended.is_some()
            {
                continue;
            }
            self.claim_and_apply(&held).await;
        }
    }

    /// Applies the answer left in `held`, if this node is the one to and its claim
    /// succeeds; failures are logged (a later look tries again).
    async fn claim_and_apply(&self, held: &Held) {
        let Some(pending) = held.note.answer.clone() else {
            return;
        };
        if !self.answered_here(held).await {
            return;
        }
        let until = Timestamp::now().plus(ANSWER_WAIT);
        let claimed = match self.claim(held, pending, until).await {
            Ok(Some(claimed)) => claimed,
            Ok(None) => return, // Another call or node got there first.
            Err(e) => {
                tracing::debug!(lease = %held.lock.holder, error = %e, "cannot claim a worker's answer; trying again");
                return;
            }
        };
        if let Err(e) = self.apply_answer(&claimed).await
            && !matches!(e, Error::LeaseLost { .. })
        {
            tracing::warn!(lease = %held.lock.holder, error = %e, "cannot apply a worker's answer; trying again");
        }
    }

    /// Reloads the board from the store: what waits on any node, and which of it is
    /// leased.
    pub(super) async fn reload(&self) {
        let at = Timestamp::now();
        let store = self.ctx.store();
        let rows = store.waiting(harmonia_engine::kinds::WORKER_SIGNAL, None);
        let locks = store.locks(PREFIX);
        let (rows, locks) = match tokio::try_join!(rows, locks) {
            Ok(both) => both,
            Err(e) => {
                tracing::warn!(error = %e, "cannot reload the worker queues");
                return;
            }
        };
        let mut waiting: Vec<_> = rows
            .into_iter()
            .filter_map(|row| {
                let wait = row
                    .wait
                    .and_then(|w| serde_json::from_value::<harmonia_engine::event::Wait>(w).ok());
                let harmonia_engine::event::Wait::Signal { spec, .. } = wait? else {
                    return None;
                };
                ready_of(
                    row.execution,
                    row.task,
                    row.item,
                    &spec,
                    row.started_at.unwrap_or(at),
                )
            })
            .collect();
        waiting.sort_by_key(|r| r.enqueued_at);
        let mut leased = HashMap::new();
        let mut leased_elsewhere: HashMap<String, usize> = HashMap::new();
        let board_holds = {
            let board = self.board();
            locks
                .iter()
                .map(|l| board.holds(&l.holder))
                .collect::<Vec<_>>()
        };
        for (lock, here) in locks.into_iter().zip(board_holds) {
            let Some(held) = Held::read(lock) else {
                continue;
            };
            let ended = held.note.ended();
            if ended.is_none() && !here {
                *leased_elsewhere.entry(held.queue.clone()).or_default() += 1;
            }
            leased.insert(held.key, (held.lock.holder, ended));
        }
        self.board().reload(Reload {
            at,
            waiting,
            leased,
            leased_elsewhere,
        });
        self.shared.notify.notify_waiters();
    }

    /// Fails the attempts of expired leases as `timeout`, and deletes old tombstones.
    pub(super) async fn sweep_shared(&self) {
        let store = self.ctx.store();
        let locks = match store.locks(PREFIX).await {
            Ok(locks) => locks,
            Err(e) => {
                tracing::warn!(error = %e, "cannot sweep the worker leases");
                return;
            }
        };
        let now = Timestamp::now();
        for lock in locks.into_iter().filter(|l| l.expires_at <= now) {
            let Some(held) = Held::read(lock.clone()) else {
                continue;
            };
            if held.note.ended.is_some() {
                if let Err(e) = store.unlock(&lock.name, &lock.holder).await {
                    tracing::debug!(error = %e, "cannot delete a worker lease's tombstone");
                }
                continue;
            }
            if held.note.answer.is_some() {
                // Left and not applied in time, or claimed by a node that did not
                // finish: applied here if this node runs the execution.
                self.claim_and_apply(&held).await;
                continue;
            }
            // The node that runs the execution ends its leases, so that an expiry never
            // moves an execution; a node that died has its executions, and with them
            // this, taken over by another within its lease.
            if !self.answered_here(&held).await {
                continue;
            }
            if let Err(e) = self.expire(&held).await {
                tracing::warn!(lease = %lock.holder, error = %e, "cannot fail an expired worker lease");
            }
        }
    }

    /// Fails the attempt of expired lease `held` as `timeout`, unless another node
    /// got to it first.
    async fn expire(&self, held: &Held) -> Result<()> {
        let note = Note {
            worker: held.note.worker.clone(),
            ended: Some(Ended::Expired.name().to_string()),
            answer: None,
            applying: None,
        };
        // Marked expired only if it still is as read (not extended, answered or ended
        // since): of two sweepers, one goes on.
        let Some(expired) = self.swap(held, note, millis(KEPT)).await? else {
            return Ok(());
        };
        let after = harmonia_model::Dur::from(held.heartbeat).to_string();
        let outcome = json!({"expired": {"after": after}});
        match self
            .send(
                &held.key,
                &held.lock.holder,
                &held.note.worker,
                outcome,
                None,
            )
            .await
        {
            Ok(recorded) => {
                self.board().settle(&held.lock.holder, Ended::Expired);
                if recorded {
                    tracing::info!(lease = %held.lock.holder, worker = %held.note.worker, task = %held.key.task, "a worker's lease expired; its attempt failed as a timeout");
                }
                Ok(())
            }
            Err(e) => {
                // Not recorded: left expired as it was, for the next sweep to try again.
                self.swap(&expired, held.note.clone(), held.lock.expires_at)
                    .await?;
                Err(e)
            }
        }
    }
}
