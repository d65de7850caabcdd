//! What a conditional commit writes: the decision every backend shares, so that the
//! rules of fences and idempotency keys are written once (as `import::plan` is for
//! imports).
//!
//! A backend reads, inside its commit's transaction, the stored fence of every
//! execution in [`CommitBatch::fences`] and the stored record of every idempotency key
//! in [`CommitBatch::idempotency`], then calls [`decide`]. The [`Decision`] says which
//! executions are left out (and why: the [`CommitReport`]), which idempotency records
//! are written, and gives the batch to write ([`Decision::kept`]).
//!
//! The rules (the `ExecutionLog` contract):
//! 1. Fences first: an execution of `fences` whose stored row is missing or has
//!    another fence is *fenced*, reported once.
//! 2. Then the idempotency records, in order, except those of executions already left
//!    out (they are neither checked nor written). A record is a *duplicate* when its
//!    (scope, key) is held by a record that is unexpired at the new record's
//!    `created_at` (see [`IdempotencyRecord::holds_at`]) and that belongs to another
//!    execution: the stored one, or an earlier record of this batch that was accepted.
//!    A duplicate leaves its execution out, reported with the holder. Otherwise the
//!    record is accepted: it replaces an expired holder (or one of its own execution).
//! 3. Every write of a left-out execution is left out: events, execution rows, task
//!    runs, timers set and cleared, idempotency records (also those accepted before
//!    its duplicate was found: an execution with two keys, the second taken, writes
//!    neither). A record found a duplicate of such an unwritten record stays a
//!    duplicate: decisions are made once, in order.
//!
//! A batch with neither fences nor idempotency records leaves nothing out, and a
//! backend need not read anything for it.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use crate::ExecutionId;
use crate::records::{CommitBatch, CommitReport, IdempotencyRecord};

/// What a commit writes of its batch (see the module doc).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// What was left out, for the caller.
    pub report: CommitReport,
    /// The executions left out: fenced, or with a duplicate key.
    pub left_out: HashSet<ExecutionId>,
    /// The indexes in [`CommitBatch::idempotency`] of the records to write, in order.
    pub accepted: Vec<usize>,
}

/// Decides what of `batch` is written, given what is stored: `stored_fence` answers the
/// stored fence of an execution (`None`: no row), `stored_key` the stored idempotency
/// record of a (scope, key), expired or not.
pub fn decide(
    batch: &CommitBatch,
    mut stored_fence: impl FnMut(ExecutionId) -> Option<u64>,
    mut stored_key: impl FnMut(&str, &str) -> Option<IdempotencyRecord>,
) -> Decision {
    let mut d = Decision::default();
    for &(id, fence) in &batch.fences {
        if d.left_out.contains(&id) {
            continue;
        }
        if stored_fence(id) != Some(fence) {
            d.left_out.insert(id);
            d.report.fenced.push(id);
        }
    }
    // The record of this batch that holds each key so far.
    let mut held: HashMap<(&str, &str), usize> = HashMap::new();
    let mut accepted = Vec::new();
    for (i, r) in batch.idempotency.iter().enumerate() {
        if d.left_out.contains(&r.execution) {
            continue;
        }
        let key = (r.scope.as_str(), r.key.as_str());
        let holder = match held.get(&key) {
            Some(&j) => Some(batch.idempotency[j].clone()),
            None => stored_key(&r.scope, &r.key),
        };
        match holder {
            Some(h) if h.execution != r.execution && h.holds_at(r.created_at) => {
                d.left_out.insert(r.execution);
                d.report.duplicates.push((r.execution, h));
            }
            _ => {
                held.insert(key, i);
                accepted.push(i);
            }
        }
    }
    d.accepted = accepted
        .into_iter()
        .filter(|&i| !d.left_out.contains(&batch.idempotency[i].execution))
        .collect();
    d
}

impl Decision {
    /// The batch to write: `batch` without the writes of left-out executions, and with
    /// only the accepted idempotency records (borrowed when that is all of it).
    pub fn kept<'a>(&self, batch: &'a CommitBatch) -> Cow<'a, CommitBatch> {
        if self.left_out.is_empty() && self.accepted.len() == batch.idempotency.len() {
            return Cow::Borrowed(batch);
        }
        let keep = |id: &ExecutionId| !self.left_out.contains(id);
        Cow::Owned(CommitBatch {
            events: batch
                .events
                .iter()
                .filter(|e| keep(&e.execution))
                .cloned()
                .collect(),
            executions: batch
                .executions
                .iter()
                .filter(|x| keep(&x.id))
                .cloned()
                .collect(),
            task_runs: batch
                .task_runs
                .iter()
                .filter(|t| keep(&t.execution))
                .cloned()
                .collect(),
            timers_set: batch
                .timers_set
                .iter()
                .filter(|t| keep(&t.execution))
                .cloned()
                .collect(),
            timers_cleared: batch
                .timers_cleared
                .iter()
                .filter(|(id, _)| keep(id))
                .cloned()
                .collect(),
            idempotency: self
                .accepted
                .iter()
                .map(|&i| batch.idempotency[i].clone())
                .collect(),
            fences: batch
                .fences
                .iter()
                .filter(|(id, _)| keep(id))
                .copied()
                .collect(),
        })
    }
}

/// The executions whose row, as `batch` leaves it (the last row of each id wins), has
/// ended: their timers are deleted with the batch.
pub fn ended(batch: &CommitBatch) -> Vec<ExecutionId> {
    let mut last: HashMap<ExecutionId, bool> = HashMap::new();
    for x in &batch.executions {
        last.insert(x.id, x.status.is_terminal());
    }
    let mut ended: Vec<ExecutionId> = last
        .into_iter()
        .filter_map(|(id, terminal)| terminal.then_some(id))
        .collect();
    ended.sort();
    ended
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    fn key(scope: &str, execution: ExecutionId, at: i64, until: i64) -> IdempotencyRecord {
        IdempotencyRecord {
            scope: scope.into(),
            key: "k".into(),
            body_hash: "h".into(),
            execution,
            created_at: Timestamp(at),
            expires_at: Timestamp(until),
        }
    }

    #[test]
    fn an_execution_with_one_key_taken_writes_none_of_its_keys() {
        let (a, b, c) = (ExecutionId::new(), ExecutionId::new(), ExecutionId::new());
        let stored = key("s2", c, 0, 100);
        let batch = CommitBatch {
            idempotency: vec![
                key("s1", a, 10, 20),
                key("s2", a, 10, 20),
                key("s1", b, 10, 20),
            ],
            ..CommitBatch::default()
        };
        let d = decide(
            &batch,
            |_| None,
            |scope, _| (scope == "s2").then(|| stored.clone()),
        );
        assert_eq!(d.left_out, HashSet::from([a, b]));
        assert!(d.accepted.is_empty());
        // `b` met `a`'s record, which is then not written: decisions are made once.
        assert_eq!(
            d.report.duplicates,
            vec![(a, stored), (b, key("s1", a, 10, 20))]
        );
        assert!(d.kept(&batch).idempotency.is_empty());
    }

    #[test]
    fn a_record_never_duplicates_its_own_execution_and_expired_ones_give_way() {
        let (a, b) = (ExecutionId::new(), ExecutionId::new());
        let batch = CommitBatch {
            idempotency: vec![key("s", a, 10, 20), key("t", b, 10, 20)],
            ..CommitBatch::default()
        };
        let d = decide(
            &batch,
            |_| None,
            |scope, _| match scope {
                "s" => Some(key("s", a, 0, 100)),
                _ => Some(key("t", a, 0, 10)),
            },
        );
        assert!(d.report.is_clean(), "{d:?}");
        assert_eq!(d.accepted, [0, 1]);
        assert!(matches!(d.kept(&batch), Cow::Borrowed(_)));
    }
}
