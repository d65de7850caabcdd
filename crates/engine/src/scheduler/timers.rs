//! Durable timers, armed in memory.
//!
//! The due times are in the event log (retry scheduled, a sleep's or a wait's end, the
//! workflow's timeout) and, written in the same commit, in the store's timer rows. After
//! a restart, `resume` arms those of a loaded execution again with their remaining
//! time, and the rows arm those of a parked one (see `loading`). Here they only wait: a heap ordered by due time, the earliest first. A timer that no
//! longer applies when it fires (its unit moved on) is ignored by the state machine.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use harmonia_storage::{ExecutionId, Timestamp};

use crate::event::TimerKey;

/// Pending timers of all executions.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Timestamp, u64, ExecutionId, TimerKey)>>,
    /// The timers in the heap: one of each (execution, key) at most.
    pending: HashSet<(ExecutionId, TimerKey)>,
    seq: u64,
}

impl Timers {
    /// Arms a timer, unless the same timer of the same execution is armed already (a
    /// parked execution's timers are armed from their rows, then again when it is
    /// loaded and resumes: the due time is the same, from the log).
    pub(crate) fn set(&mut self, execution: ExecutionId, key: TimerKey, due: Timestamp) {
        if !self.pending.insert((execution, key.clone())) {
            return;
        }
        self.seq += 1;
        self.heap.push(Reverse((due, self.seq, execution, key)));
    }

    /// Forgets every timer of `execution` (another engine runs it now).
    pub(crate) fn forget(&mut self, execution: ExecutionId) {
        self.heap.retain(|Reverse((_, _, x, _))| *x != execution);
        self.pending.retain(|(x, _)| *x != execution);
    }

    /// When the earliest timer is due.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        self.heap.peek().map(|Reverse((due, ..))| *due)
    }

    /// Removes and returns the timers due at `now`.
    pub(crate) fn take_due(&mut self, now: Timestamp) -> Vec<(ExecutionId, TimerKey)> {
        let mut out = Vec::new();
        while let Some(Reverse((due, ..))) = self.heap.peek() {
            if *due > now {
                break;
            }
            if let Some(Reverse((_, _, execution, key))) = self.heap.pop() {
                self.pending.remove(&(execution, key.clone()));
                out.push((execution, key));
            }
        }
        out
    }

    /// How many timers are armed.
    pub(crate) fn count(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_come_out_in_due_order() {
        let mut t = Timers::default();
        let x = ExecutionId::new();
        t.set(x, TimerKey::Timeout, Timestamp(30));
        t.set(
            x,
            TimerKey::Retry {
                task: "a".into(),
                item: None,
                attempt: 2,
            },
            Timestamp(10),
        );
        t.set(
            x,
            TimerKey::Sleep {
                task: "b".into(),
                item: Some(1),
                attempt: 1,
            },
            Timestamp(20),
        );
        assert_eq!(t.next_due(), Some(Timestamp(10)));
        assert_eq!(t.take_due(Timestamp(5)), vec![]);
        let due: Vec<TimerKey> = t
            .take_due(Timestamp(20))
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        assert_eq!(due.len(), 2);
        assert!(matches!(due[0], TimerKey::Retry { .. }));
        assert_eq!(t.count(), 1);
    }
}
