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
//!
//! When nodes share the store (`shared.rs`), the store's locks are the leases and the
//! board is this node's view: what waits on every node as of the last reload, which of
//! it other nodes lease, and the leases granted here (a cache whose expiry the store
//! decides, so [`Board::expired`] is not used).

use std::collections::{HashMap, HashSet, VecDeque};
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
    /// Shared mode: every attempt waiting for a worker on any node, at the last reload.
    waiting: HashSet<AttemptKey>,
    /// Shared mode: when the last reload began reading.
    reloaded_at: Option<Timestamp>,
    /// Shared mode: per queue, the attempts other nodes lease.
    leased_elsewhere: HashMap<String, usize>,
}

/// What a reload of a shared board read from the store.
#[derive(Debug, Default)]
pub struct Reload {
    /// When the reading began.
    pub at: Timestamp,
    /// Every attempt waiting for a worker, oldest first.
    pub waiting: Vec<Ready>,
    /// The attempts leased (on any node), each with its lease id and how that lease
    /// ended, if it has.
    pub leased: HashMap<AttemptKey, (String, Option<Ended>)>,
    /// Per queue, the live leases held by other nodes' workers.
    pub leased_elsewhere: HashMap<String, usize>,
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
        if self.ended.insert(id.to_string(), how).is_none() {
            self.remember(id);
        }
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
        for (q, n) in &self.leased_elsewhere {
            by.entry(q).or_default().1 += n;
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

    /// Takes in a reload of a shared board: the ready attempts become those that wait
    /// and nobody leases (those known already keep their place); a lease granted here
    /// whose lock ended or is gone (another node settled it) ends here as its lock
    /// says, or as expired.
    pub fn reload(&mut self, reload: Reload) {
        self.waiting = reload.waiting.iter().map(|r| r.key.clone()).collect();
        let free: HashSet<AttemptKey> = reload
            .waiting
            .iter()
            .map(|r| &r.key)
            .filter(|k| !reload.leased.contains_key(*k) && !self.leased.contains_key(*k))
            .cloned()
            .collect();
        self.ready.retain(|k, _| free.contains(k));
        for ready in reload.waiting {
            if free.contains(&ready.key) && !self.ready.contains_key(&ready.key) {
                self.offer(ready);
            }
        }
        let gone: Vec<(String, Ended)> = self
            .leases
            .values()
            .filter(|l| l.leased_at < reload.at)
            .filter_map(|l| match reload.leased.get(&l.ready.key) {
                Some((id, None)) if *id == l.id => None,
                Some((id, Some(how))) if *id == l.id => Some((l.id.clone(), *how)),
                _ => Some((l.id.clone(), Ended::Expired)),
            })
            .collect();
        for (id, how) in gone {
            self.end(&id, how);
        }
        self.leased_elsewhere = reload.leased_elsewhere;
        self.reloaded_at = Some(reload.at);
    }

    /// Whether a lease granted at `granted_at` on `key` is known to have lost its
    /// attempt: flagged here, or (shared mode) the attempt no longer waited at a reload
    /// that began after the grant.
    pub fn attempt_ended(&self, id: &str, key: &AttemptKey, granted_at: Timestamp) -> bool {
        self.leases.get(id).is_some_and(|l| l.cancelled)
            || (self.reloaded_at.is_some_and(|at| granted_at < at) && !self.waiting.contains(key))
    }

    /// How lease `id` ended, if this board knows.
    pub fn why(&self, id: &str) -> Option<Ended> {
        self.ended.get(id).copied()
    }

    /// Whether lease `id` was granted here and is held.
    pub fn holds(&self, id: &str) -> bool {
        self.leases.contains_key(id)
    }

    /// Records that lease `id` ended as `how` (ending it here if it was granted here).
    pub fn settle(&mut self, id: &str, how: Ended) {
        if self.end(id, how).is_none() {
            self.mark(id, how);
        }
    }

    /// Moves the expiry of lease `id`, if granted here, to what the store now says.
    pub fn extend(&mut self, id: &str, expires_at: Timestamp) {
        if let Some(l) = self.leases.get_mut(id) {
            l.expires = Instant::now() + expires_at.since(Timestamp::now());
            l.expires_at = expires_at;
        }
    }

    /// Drops a lease granted here that the store refused (another node leases the
    /// attempt): it was never held.
    pub fn drop_lease(&mut self, id: &str) {
        if let Some(lease) = self.leases.remove(id) {
            self.leased.remove(&lease.ready.key);
        }
    }

    /// Puts a lease granted here back as a ready attempt (the store could not be asked).
    pub fn unlease(&mut self, id: &str) {
        if let Some(lease) = self.leases.remove(id) {
            self.leased.remove(&lease.ready.key);
            self.offer(lease.ready);
        }
    }

    /// Forgets every ready attempt (before a rebuild from the store); leases stay.
    pub fn clear_ready(&mut self) {
        self.ready.clear();
        self.queues.clear();
    }

    fn end(&mut self, id: &str, how: Ended) -> Option<Lease> {
        let lease = self.leases.remove(id)?;
        self.leased.remove(&lease.ready.key);
        if self.ended.insert(id.to_string(), how).is_none() {
            self.remember(id);
        }
        Some(lease)
    }

    fn remember(&mut self, id: &str) {
        self.ended_order.push_back(id.to_string());
        while self.ended_order.len() > REMEMBERED {
            if let Some(old) = self.ended_order.pop_front() {
                self.ended.remove(&old);
            }
        }
    }
}

/// A new lease id: `ls_` and the 32 hex digits of a UUID v7 (74 random bits).
fn lease_id() -> String {
    format!("ls_{}", ExecutionId::new().to_string().replace('-', ""))
}

/// When lease `id` was granted: the milliseconds of its UUID v7 (its first 12 hex
/// digits), or `None` for an id this board never makes.
pub(super) fn granted_at(id: &str) -> Option<Timestamp> {
    let hex = id.strip_prefix("ls_")?;
    if hex.len() != 32 {
        return None;
    }
    let ms = i64::from_str_radix(hex.get(..12)?, 16).ok()?;
    Some(Timestamp(ms))
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
    fn a_reload_offers_what_waits_unleased_and_settles_leases_ended_elsewhere() {
        let mut b = Board::default();
        let (x, y, z) = (ExecutionId::new(), ExecutionId::new(), ExecutionId::new());
        b.offer(ready(x, 1));
        b.offer(ready(y, 1));
        let mine = b.take(&["q".into()], 2, "w");
        assert_eq!(mine.len(), 2);
        let (on_x, on_y) = (&mine[0].id, &mine[1].id);
        std::thread::sleep(Duration::from_millis(2));
        // At the reload, x's lease ended on another node (completed), y's lock is gone,
        // z waits leased by another node, and w waits free.
        let w = ExecutionId::new();
        let mut leased = HashMap::new();
        leased.insert(ready(x, 1).key, (on_x.clone(), Some(Ended::Completed)));
        leased.insert(ready(z, 1).key, ("ls_other".to_string(), None));
        b.reload(Reload {
            at: Timestamp::now(),
            waiting: vec![ready(y, 1), ready(z, 1), ready(w, 1)],
            leased,
            leased_elsewhere: HashMap::from([("q".to_string(), 1)]),
        });
        assert_eq!(b.why(on_x), Some(Ended::Completed));
        assert_eq!(b.why(on_y), Some(Ended::Expired));
        let stats = b.stats();
        assert_eq!((stats[0].ready, stats[0].leased), (1, 1), "{stats:?}");
        let got = b.take(&["q".into()], 5, "w");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].ready.key.execution, w);
        // A lease granted after the reload's reading began is not judged by it.
        assert!(!b.attempt_ended(&got[0].id, &got[0].ready.key, Timestamp::now()));
        assert!(b.attempt_ended("ls_any", &ready(x, 1).key, Timestamp(0)));
        assert!(!b.attempt_ended("ls_any", &ready(w, 1).key, Timestamp(0)));
    }

    #[test]
    fn a_lease_id_tells_when_it_was_granted() {
        let before = Timestamp::now();
        let id = lease_id();
        let at = granted_at(&id).expect("a lease id of ours");
        assert!(at >= before && at <= Timestamp::now(), "{at:?}");
        assert_eq!(granted_at("ls_short"), None);
        assert_eq!(granted_at("nope"), None);
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
