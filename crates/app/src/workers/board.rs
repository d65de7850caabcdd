//! The board: which `worker` attempts wait on which queue, and which are leased, by
//! whom and until when. Plain data under one lock, no I/O, so every transition is
//! atomic and tested here.
//!
//! An attempt is *ready* (offered once, in the order it began waiting) until a poll
//! leases it; a lease ends exactly once: completed, failed, expired (no heartbeat in
//! time) or cancelled (its attempt ended otherwise). Ended leases are remembered (the
//! newest [`REMEMBERED`]) so that a late answer learns why it is refused. An attempt
//! leased once is never offered again: its next try is a new attempt.
//!
//! Invariants: at most one lease per attempt; a lease id is never reused; the board
//! holds only what the engine's log holds (it is rebuilt from the store at start), so
//! losing it loses no work, only the leases, whose holders are then refused.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use harmonia_storage::{ExecutionId, Timestamp};
use serde_json::Value;

/// How many ended leases are remembered.
pub const REMEMBERED: usize = 10_000;

/// One attempt of one task (or fan-out item).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttemptKey {
    /// The execution.
    pub execution: ExecutionId,
    /// The task.
    pub task: String,
    /// The fan-out item.
    pub item: Option<u32>,
    /// The attempt, from 1.
    pub attempt: u32,
}

/// An attempt waiting for a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    /// Which attempt.
    pub key: AttemptKey,
    /// Its workflow.
    pub workflow: String,
    /// Its queue.
    pub queue: String,
    /// What the worker is given.
    pub input: Value,
    /// How long its holder may go without a heartbeat.
    pub heartbeat: Duration,
    /// When it began waiting (as the log says, or as first seen).
    pub enqueued_at: Timestamp,
    /// When the board learned of it.
    pub since: Instant,
}

/// A leased attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    /// Its id.
    pub id: String,
    /// The attempt.
    pub ready: Ready,
    /// Who holds it.
    pub worker: String,
    /// When it was leased.
    pub leased_at: Timestamp,
    /// When it expires without another heartbeat.
    pub expires: Instant,
    /// The same, as a time.
    pub expires_at: Timestamp,
    /// Its attempt ended otherwise (a cancel): the holder is told at its next heartbeat.
    pub cancelled: bool,
}

/// Why a lease is no longer held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its holder completed it.
    Completed,
    /// Its holder failed it.
    Failed,
    /// No heartbeat came in time.
    Expired,
    /// Its attempt ended otherwise (the execution was cancelled, the task timed out).
    Cancelled,
}

impl Ended {
    /// Its name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Ended::Completed => "completed",
            Ended::Failed => "failed",
            Ended::Expired => "expired",
            Ended::Cancelled => "cancelled",
        }
    }
}

/// How a queue stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStats {
    /// Its name.
    pub queue: String,
    /// Attempts waiting for a worker.
    pub ready: usize,
    /// Attempts held by workers.
    pub leased: usize,
}

/// The board (see the module doc).
#[derive(Debug, Default)]
pub struct Board {
    /// Per queue, attempts in the order they became ready (possibly withdrawn since:
    /// skipped when met).
    queues: HashMap<String, VecDeque<AttemptKey>>,
    ready: HashMap<AttemptKey, Ready>,
    leases: HashMap<String, Lease>,
    leased: HashMap<AttemptKey, String>,
    ended: HashMap<String, Ended>,
    ended_order: VecDeque<String>,
}

impl Board {
    /// Offers an attempt; false when it is known already (ready or leased).
    pub fn offer(&mut self, ready: Ready) -> bool {
        if self.ready.contains_key(&ready.key) || self.leased.contains_key(&ready.key) {
            return false;
        }
        self.queues
            .entry(ready.queue.clone())
            .or_default()
            .push_back(ready.key.clone());
        self.ready.insert(ready.key.clone(), ready);
        true
    }

    /// The attempts of `execution` matching `task`, `item` and `attempt` (each `None`:
    /// any) have ended: no longer offered, and their leases are cancelled (their
    /// holders learn it at the next heartbeat).
    pub fn withdraw(
        &mut self,
        execution: ExecutionId,
        task: Option<&str>,
        item: Option<Option<u32>>,
        attempt: Option<u32>,
    ) {
        let hit = |k: &AttemptKey| {
            k.execution == execution
                && task.is_none_or(|t| k.task == t)
                && item.is_none_or(|i| k.item == i)
                && attempt.is_none_or(|a| k.attempt == a)
        };
        self.ready.retain(|k, _| !hit(k));
        for (k, id) in &self.leased {
            if hit(k)
                && let Some(l) = self.leases.get_mut(id)
            {
                l.cancelled = true;
            }
        }
    }

    /// Leases up to `max` ready attempts of `queues` (in the order given, each oldest
    /// first) to `worker`.
    pub fn take(&mut self, queues: &[String], max: usize, worker: &str) -> Vec<Lease> {
        let mut out = Vec::new();
        for q in queues {
            let Some(keys) = self.queues.get_mut(q) else {
                continue;
            };
            while out.len() < max {
                let Some(key) = keys.pop_front() else { break };
                let Some(ready) = self.ready.remove(&key) else {
                    continue;
                };
                let id = lease_id();
                let now = Instant::now();
                let lease = Lease {
                    id: id.clone(),
                    worker: worker.to_string(),
                    leased_at: Timestamp::now(),
                    expires: now + ready.heartbeat,
                    expires_at: Timestamp::now().plus(ready.heartbeat),
                    cancelled: false,
                    ready,
                };
                self.leased.insert(key, id.clone());
                self.leases.insert(id, lease.clone());
                out.push(lease);
            }
            if keys.is_empty() {
                self.queues.remove(q);
            }
            if out.len() >= max {
                break;
            }
        }
        out
    }

    /// A heartbeat: the lease extended (unless its attempt was cancelled), or why it is
    /// no longer held. A cancelled lease ends here.
    pub fn heartbeat(&mut self, id: &str) -> Result<Lease, Option<Ended>> {
        let now = Instant::now();
        match self.leases.get_mut(id) {
            Some(l) if l.cancelled => {
                let l = l.clone();
                self.end(id, Ended::Cancelled);
                Ok(l)
            }
            Some(l) if l.expires > now => {
                l.expires = now + l.ready.heartbeat;
                l.expires_at = Timestamp::now().plus(l.ready.heartbeat);
                Ok(l.clone())
            }
            Some(_) => {
                self.end(id, Ended::Expired);
                Err(Some(Ended::Expired))
            }
            None => Err(self.ended.get(id).copied()),
        }
    }

    /// Ends a lease as `how` (its holder answered), or says why it cannot: it ended
    /// already, it expired, or it is unknown.
    pub fn finish(&mut self, id: &str, how: Ended) -> Result<Lease, Option<Ended>> {
        match self.leases.get(id) {
            Some(l) if l.cancelled => {
                self.end(id, Ended::Cancelled);
                Err(Some(Ended::Cancelled))
            }
            Some(l) if l.expires <= Instant::now() => {
                self.end(id, Ended::Expired);
                Err(Some(Ended::Expired))
            }
            Some(_) => self.end(id, how).ok_or(None),
            None => Err(self.ended.get(id).copied()),
        }
    }

    /// Puts back a lease whose answer could not be recorded (the engine was busy), so
    /// that its holder may try again.
    pub fn restore(&mut self, lease: Lease) {
        self.ended.remove(&lease.id);
        self.leased
            .insert(lease.ready.key.clone(), lease.id.clone());
        self.leases.insert(lease.id.clone(), lease);
    }

    /// Records that a lease ended otherwise than its holder said (the engine refused
    /// the answer: the attempt had ended).
    pub fn mark(&mut self, id: &str, how: Ended) {
        self.ended.insert(id.to_string(), how);
    }

    /// Ends and returns the leases whose time is up.
    pub fn expired(&mut self) -> Vec<Lease> {
        let now = Instant::now();
        let ids: Vec<String> = self
            .leases
            .values()
            .filter(|l| l.expires <= now && !l.cancelled)
            .map(|l| l.id.clone())
            .collect();
        ids.iter()
            .filter_map(|id| self.end(id, Ended::Expired))
            .collect()
    }

    /// How each queue stands, by name.
    pub fn stats(&self) -> Vec<QueueStats> {
        let mut by: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
        for r in self.ready.values() {
            by.entry(&r.queue).or_default().0 += 1;
        }
        for l in self.leases.values() {
            by.entry(&l.ready.queue).or_default().1 += 1;
        }
        by.into_iter()
            .map(|(q, (ready, leased))| QueueStats {
                queue: q.to_string(),
                ready,
                leased,
            })
            .collect()
    }

    /// Drops the queues' keys of attempts withdrawn since they were offered, once they
    /// outnumber the ready ones: a queue nobody polls does not grow without bound.
    pub fn compact(&mut self) {
        let keys: usize = self.queues.values().map(VecDeque::len).sum();
        if keys <= 2 * self.ready.len() + 1024 {
            return;
        }
        let ready = &self.ready;
        for keys in self.queues.values_mut() {
            keys.retain(|k| ready.contains_key(k));
        }
        self.queues.retain(|_, keys| !keys.is_empty());
    }

    /// Forgets every ready attempt (before a rebuild from the store); leases stay.
    pub fn clear_ready(&mut self) {
        self.ready.clear();
        self.queues.clear();
    }

    fn end(&mut self, id: &str, how: Ended) -> Option<Lease> {
        let lease = self.leases.remove(id)?;
        self.leased.remove(&lease.ready.key);
        self.ended.insert(id.to_string(), how);
        self.ended_order.push_back(id.to_string());
        while self.ended_order.len() > REMEMBERED {
            if let Some(old) = self.ended_order.pop_front() {
                self.ended.remove(&old);
            }
        }
        Some(lease)
    }
}

/// A new lease id: `ls_` and the 32 hex digits of a UUID v7 (74 random bits).
fn lease_id() -> String {
    format!("ls_{}", ExecutionId::new().to_string().replace('-', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(execution: ExecutionId, attempt: u32) -> Ready {
        Ready {
            key: AttemptKey {
                execution,
                task: "t".into(),
                item: None,
                attempt,
            },
            workflow: "w".into(),
            queue: "q".into(),
            input: Value::Null,
            heartbeat: Duration::from_millis(50),
            enqueued_at: Timestamp::now(),
            since: Instant::now(),
        }
    }

    #[test]
    fn an_attempt_is_leased_once_and_ends_once() {
        let mut b = Board::default();
        let x = ExecutionId::new();
        assert!(b.offer(ready(x, 1)));
        assert!(!b.offer(ready(x, 1)), "offered twice");
        let got = b.take(&["q".into()], 5, "w1");
        assert_eq!(got.len(), 1);
        assert!(
            !b.offer(ready(x, 1)),
            "a leased attempt is not offered again"
        );
        assert!(b.take(&["q".into()], 5, "w2").is_empty());
        let id = got[0].id.clone();
        assert!(b.finish(&id, Ended::Completed).is_ok());
        assert_eq!(
            b.finish(&id, Ended::Failed).err(),
            Some(Some(Ended::Completed))
        );
        assert_eq!(b.heartbeat("ls_none").err(), Some(None));
    }

    #[test]
    fn leases_expire_and_withdrawn_attempts_cancel_theirs() {
        let mut b = Board::default();
        let (x, y) = (ExecutionId::new(), ExecutionId::new());
        b.offer(ready(x, 1));
        b.offer(ready(y, 1));
        let got = b.take(&["q".into()], 2, "w");
        b.withdraw(y, None, None, None);
        let y_lease = got.iter().find(|l| l.ready.key.execution == y).unwrap();
        assert!(b.heartbeat(&y_lease.id).unwrap().cancelled);
        assert_eq!(b.heartbeat(&y_lease.id).err(), Some(Some(Ended::Cancelled)));
        std::thread::sleep(Duration::from_millis(60));
        let expired = b.expired();
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].ready.key.execution, x);
        assert!(b.stats().is_empty());
    }

    #[test]
    fn withdrawn_keys_are_compacted_away() {
        let mut b = Board::default();
        let x = ExecutionId::new();
        for a in 0..5000 {
            b.offer(ready(x, a));
        }
        b.withdraw(x, None, None, None);
        b.offer(ready(ExecutionId::new(), 1));
        b.compact();
        assert_eq!(b.queues.values().map(VecDeque::len).sum::<usize>(), 1);
        assert_eq!(b.take(&["q".into()], 10, "w").len(), 1);
    }
}
