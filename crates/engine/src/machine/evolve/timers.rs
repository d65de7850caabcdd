//! Durable timers firing: the workflow's timeout, a retry's backoff, a sleep's end, a
//! signal wait's timeout.

use harmonia_storage::{TaskStatus, Timestamp};
use serde_json::Value;

use super::{end_wait, locate, succeed_unit, waiting};
use crate::event::{TimerKey, Wait};
use crate::machine::Effect;
use crate::machine::state::Execution;

/// Applies a timer that fired.
pub(super) fn apply(x: &mut Execution, key: &TimerKey, at: Timestamp, _effects: &mut Vec<Effect>) {
    match key {
        TimerKey::Timeout => {
            if !x.status.is_terminal() {
                x.timed_out = true;
            }
        }
        TimerKey::Retry {
            task,
            item,
            attempt,
        } => {
            if let Some((t, u)) = locate(x, task, *item) {
                let unit = &x.tasks[t].units[u as usize];
                if unit.status == TaskStatus::Retrying && unit.attempt + 1 == *attempt {
                    x.tasks[t].units[u as usize].retry_due = None;
                    x.set_unit(t, u, TaskStatus::Pending);
                    x.tasks[t].requeue.push_back(u);
                    x.dispatch.push_back(t);
                }
            }
        }
        TimerKey::Sleep {
            task,
            item,
            attempt,
        } => {
            let timer = |w: &Wait| matches!(w, Wait::Timer { .. });
            if let Some((t, u)) = waiting(x, task, *item, *attempt, timer) {
                succeed_unit(x, t, u, Value::Null, at);
            }
        }
        // The end of a signal wait: what it means is the task's kind's to decide,
        // and comes next as the attempt's result (see `scheduler::waits`). The wait
        // ends here, so that no signal can end it too.
        TimerKey::Wait {
            task,
            item,
            attempt,
        } => {
            let signal = |w: &Wait| matches!(w, Wait::Signal { .. });
            if let Some((t, u)) = waiting(x, task, *item, *attempt, signal) {
                end_wait(x, t, u);
            }
        }
    }
}
