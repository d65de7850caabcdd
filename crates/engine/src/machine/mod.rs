//! The pure state machine of an execution.
//!
//! `apply(state, event, env) -> effects`: no I/O, no clock, no randomness inside. The
//! time and a random seed come in through [`Env`]; everything the machine wants done
//! comes out as [`Effect`]s for the scheduler to perform after the events are durable.
//! Among the effects are [`Effect::Record`]s: decisions the machine made (a task is
//! skipped, a retry is scheduled, the execution ended), which the scheduler appends to
//! the log right after the event that caused them, in the same commit.
//!
//! [`replay`] rebuilds a state from a log without effects, and [`resume`] lists what a
//! replayed execution needs to continue (attempts in flight run again as `recovered`,
//! timers are armed with their remaining time).
//!
//! Modules: `state` (what is kept), `evolve` (folding an event in), `decide` (what
//! follows), `records` (the read models).

mod decide;
pub(crate) mod evaluate;
mod evolve;
mod records;
mod state;

use std::sync::Arc;

use harmonia_expr::Limits;
use harmonia_model::Plan;
use harmonia_storage::{ExecutionId, TaskStatus, Timestamp};

pub(crate) use evaluate::{Evaluated, Job};
pub(crate) use evolve::reopenable;
pub(crate) use state::{Execution, Unit};

use crate::eval::Budget;
use crate::event::{Event, TimerKey, Wait};
use evaluate::Pending;

/// What the machine may use from outside: the time of the event, randomness, limits,
/// and the time left in the scheduler's turn for evaluating expressions.
#[derive(Debug, Clone)]
pub(crate) struct Env {
    /// The time the event happened.
    pub now: Timestamp,
    /// Bounds on expression evaluation.
    pub limits: Limits,
    /// What is left of the turn for evaluations inside it; the rest go off the turn
    /// as [`Effect::Evaluate`].
    pub budget: Budget,
    rng: u64,
}

impl Env {
    /// An environment at `now`, drawing jitter from `seed`, with a fresh turn's budget.
    pub(crate) fn new(now: Timestamp, seed: u64, limits: Limits) -> Env {
        Env {
            now,
            limits,
            budget: Budget::turn(),
            rng: seed,
        }
    }

    /// A uniform number in [0, 1) (splitmix64 over the seed).
    pub(crate) fn sample(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An attempt of a task (and item).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct AttemptRef {
    /// The task's index in the plan.
    pub task: usize,
    /// The item, for a fan-out.
    pub item: Option<u32>,
    /// The attempt number, from 1.
    pub attempt: u32,
}

/// Something the machine wants done.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// Append this decided event to the log (it is already applied to the state).
    Record(Box<Event>),
    /// Run this attempt; report `AttemptStarted` when it really starts.
    Dispatch {
        /// Which.
        attempt: AttemptRef,
        /// Whether it re-runs an attempt that was in flight at a crash.
        recovered: bool,
    },
    /// Stop this attempt (running, or queued for a slot).
    Abort(AttemptRef),
    /// Fire `TimerFired { key }` at `due`.
    SetTimer {
        /// Which timer.
        key: TimerKey,
        /// When.
        due: Timestamp,
    },
    /// Cancel this child execution.
    CancelChild(ExecutionId),
    /// Report the end of this child to the attempt waiting on it (after a restart).
    AwaitChild {
        /// The waiting attempt.
        attempt: AttemptRef,
        /// The child.
        child: ExecutionId,
    },
    /// Run this evaluation off the turn and bring its result back with [`evaluated`].
    Evaluate(Job),
    /// More decisions or dispatches may follow: call [`proceed`] in a later turn.
    Continue,
    /// The execution ended.
    Finished,
}

/// Creates the state of an execution from its first event; the event itself is then
/// applied (or replayed) like any other.
pub(crate) fn start(
    id: ExecutionId,
    plan: Arc<Plan>,
    first: &Event,
    at: Timestamp,
) -> Option<Execution> {
    let Event::ExecutionStarted {
        workflow_id,
        version,
        inputs,
        params,
        parent,
        retry_of,
        origin,
        ..
    } = first
    else {
        return None;
    };
    Some(Execution::new(
        id,
        plan,
        *workflow_id,
        *version,
        inputs.clone(),
        params.clone(),
        parent.clone(),
        *retry_of,
        origin.clone(),
        at,
    ))
}

/// Applies `event` and settles: records the decisions that follow and lists what to do.
pub(crate) fn apply(x: &mut Execution, event: &Event, env: &mut Env) -> Vec<Effect> {
    let mut effects = evolve::evolve(x, event, env.now);
    settle(x, env, &mut effects);
    effects
}

/// Applies a logged event during replay: no decisions, no effects.
pub(crate) fn replay(x: &mut Execution, event: &Event, at: Timestamp) {
    let _ = evolve::evolve(x, event, at);
}

/// What a replayed execution needs to go on: attempts in flight run again (as
/// `recovered`), timers are armed again, and pending work is dispatched.
/// Whether `event` is an attempt's result for an attempt that is no longer the one in
/// progress (it ended, or another started): the machine would ignore it, and the log
/// must not say a unit ended twice. Such a result comes from a timer armed twice (a
/// parked execution loaded by its own timer arms it again when it resumes) or from
/// work that outlived its attempt.
pub(crate) fn stale_result(x: &Execution, event: &Event) -> bool {
    match event {
        Event::AttemptSucceeded {
            task,
            item,
            attempt,
            ..
        }
        | Event::AttemptFailed {
            task,
            item,
            attempt,
            ..
        } => {
            !evolve::locate(x, task, *item).is_some_and(|(t, u)| evolve::current(x, t, u, *attempt))
        }
        _ => false,
    }
}

pub(crate) fn resume(x: &mut Execution, env: &mut Env) -> Vec<Effect> {
    let mut effects = Vec::new();
    if x.status.is_terminal() {
        return effects;
    }
    if let Some(timeout) = x.plan.timeout {
        effects.push(Effect::SetTimer {
            key: TimerKey::Timeout,
            due: x.started_at.plus(timeout),
        });
    }
    for t in 0..x.tasks.len() {
        if x.tasks[t].status != TaskStatus::Running {
            continue;
        }
        let name = x.plan.tasks[t].name.clone();
        for u in 0..x.tasks[t].units.len() as u32 {
            let item = x.tasks[t].item_of(u);
            let unit = &x.tasks[t].units[u as usize];
            let attempt = AttemptRef {
                task: t,
                item,
                attempt: unit.attempt,
            };
            match (unit.status, unit.wait.as_deref()) {
                (TaskStatus::Running, Some(Wait::Child { execution })) => {
                    effects.push(Effect::AwaitChild {
                        attempt,
                        child: *execution,
                    })
                }
                // A sleep's end, a signal wait's `until`: armed again with what is left.
                (TaskStatus::Running, Some(wait)) => {
                    if let Some((key, due)) = evolve::wait_timer(&name, item, unit.attempt, wait) {
                        effects.push(Effect::SetTimer { key, due });
                    }
                }
                (TaskStatus::Running, None) => {
                    x.set_unit(t, u, TaskStatus::Queued);
                    effects.push(Effect::Dispatch {
                        attempt: AttemptRef {
                            attempt: attempt.attempt + 1,
                            ..attempt
                        },
                        recovered: true,
                    });
                }
                (TaskStatus::Retrying, _) => match unit.retry_due {
                    Some(due) => effects.push(Effect::SetTimer {
                        key: TimerKey::Retry {
                            task: name.clone(),
                            item,
                            attempt: unit.attempt + 1,
                        },
                        due,
                    }),
                    None => x.retries.push_back((t, u)),
                },
                (TaskStatus::Pending, _) if u < x.tasks[t].next => x.tasks[t].requeue.push_back(u),
                _ => {}
            }
        }
    }
    let n = x.tasks.len();
    x.candidates.extend(0..n);
    x.completions.extend(0..n);
    x.dispatch.extend(0..n);
    settle(x, env, &mut effects);
    effects
}

/// Gives up on an execution whose state cannot be trusted (the scheduler caught a
/// panic while working on it): it is failed with `error`, and every task and unit that
/// had not ended is cancelled, so that the read models say so. Nothing is decided and
/// no counter is relied on: this must work on a broken state.
pub(crate) fn abandon(x: &mut Execution, error: crate::event::TaskError, now: Timestamp) {
    for (t, task) in x.tasks.iter_mut().enumerate() {
        if !task.status.is_terminal() {
            task.status = TaskStatus::Cancelled;
            task.ended_at = Some(now);
        }
        for unit in &mut task.units {
            if !unit.status.is_terminal() {
                unit.status = TaskStatus::Cancelled;
                unit.ended_at = Some(now);
            }
        }
        if task.fan_out {
            x.dirty
                .rows
                .extend((0..task.units.len() as u32).map(|u| (t, Some(u))));
        }
        x.dirty.rows.push((t, None));
    }
    x.dirty.execution = true;
    x.status = harmonia_storage::ExecutionStatus::Failed;
    x.error = Some(error);
    x.ended_at = Some(now);
    x.paused = false;
}

/// Takes in the result of an evaluation that ran off the turn, and settles.
pub(crate) fn evaluated(x: &mut Execution, done: Evaluated, env: &mut Env) -> Vec<Effect> {
    let mut effects = Vec::new();
    match done {
        Evaluated::Start { task, outcome } => {
            if let Some(ts) = x.tasks.get_mut(task)
                && ts.start == Some(Pending::Evaluating)
            {
                ts.start = Some(Pending::Done(outcome));
                x.candidates.push_back(task);
            }
        }
        Evaluated::Outputs(result) => {
            if x.outputs_eval == Some(Pending::Evaluating) {
                x.outputs_eval = Some(Pending::Done(result));
            }
        }
    }
    settle(x, env, &mut effects);
    effects
}

/// Goes on deciding and dispatching after an [`Effect::Continue`].
pub(crate) fn proceed(x: &mut Execution, env: &mut Env) -> Vec<Effect> {
    let mut effects = Vec::new();
    settle(x, env, &mut effects);
    effects
}

/// The most decisions, and the most dispatches, one application makes; what is left
/// follows an [`Effect::Continue`]. A plan of 20,000 tasks then takes many short turns
/// of the scheduler instead of one long one, and other executions get in between.
const MAX_STEPS: usize = 1024;

/// Decides until nothing more follows, then dispatches what may start (at most
/// [`MAX_STEPS`] of each).
fn settle(x: &mut Execution, env: &mut Env, effects: &mut Vec<Effect>) {
    let mut decided = 0;
    while decided < MAX_STEPS
        && let Some(decision) = decide::decide(x, env)
    {
        effects.extend(evolve::evolve(x, &decision, env.now));
        effects.push(Effect::Record(Box::new(decision)));
        decided += 1;
    }
    effects.extend(x.evaluations.drain(..).map(Effect::Evaluate));
    let dispatched = dispatch(x, effects);
    if decided == MAX_STEPS || dispatched == MAX_STEPS {
        effects.push(Effect::Continue);
    }
}

/// Dispatches pending units of the tasks in the dispatch worklist, within each task's
/// concurrency, unless the execution is paused, stopping or over; at most
/// [`MAX_STEPS`] (the task stays in the worklist). Returns how many it dispatched.
fn dispatch(x: &mut Execution, effects: &mut Vec<Effect>) -> usize {
    // While the handlers run, the tasks' stop (a failure) does not stop them.
    let stopped = match x.ending {
        Some(_) => x.handlers_stopped,
        None => x.stopping.is_some(),
    };
    if x.paused || stopped || x.status.is_terminal() {
        x.dispatch.clear();
        return 0;
    }
    let mut dispatched = 0;
    while let Some(t) = x.dispatch.pop_front() {
        if x.tasks[t].status != TaskStatus::Running {
            continue;
        }
        let limit = x.plan.tasks[t].concurrency.unwrap_or(u32::MAX);
        while x.tasks[t].in_flight < limit {
            if dispatched == MAX_STEPS {
                x.dispatch.push_front(t);
                return dispatched;
            }
            let ts = &mut x.tasks[t];
            let next = match ts.requeue.pop_front() {
                Some(u) => u,
                None if (ts.next as usize) < ts.units.len() => {
                    ts.next += 1;
                    ts.next - 1
                }
                None => break,
            };
            if ts.units[next as usize].status != TaskStatus::Pending {
                continue;
            }
            let attempt = AttemptRef {
                task: t,
                item: ts.item_of(next),
                attempt: ts.units[next as usize].attempt + 1,
            };
            x.set_unit(t, next, TaskStatus::Queued);
            effects.push(Effect::Dispatch {
                attempt,
                recovered: false,
            });
            dispatched += 1;
        }
    }
    dispatched
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod wait_tests;
