//! The state of one execution, as the state machine keeps it.
//!
//! A task has one *unit* (a plain task) or one unit per item (a fan-out). Units carry
//! the attempt-level status; the task carries the outcome. Counters on the task
//! (`in_flight`, `terminal`, ...) are only changed through [`Execution::set_unit`], so
//! they always agree with the units, whether the state was built live or by replay.
//!
//! The worklists (`candidates`, `completions`, `retries`, `dispatch`) are hints for the
//! decide step: every entry is re-checked before use, so a stale entry is harmless and a
//! replay that rebuilds them from events reaches the same decisions.

use std::collections::VecDeque;
use std::sync::Arc;

use harmonia_expr::{Val, Var};
use harmonia_model::Plan;
use harmonia_storage::{
    ExecutionId, ExecutionStatus, Origin, ParentLink, TaskStatus, Timestamp, WorkflowId,
};
use serde_json::{Value, json};

use super::evaluate::{Job, Pending, StartOutcome};
use crate::event::{SkipReason, StopReason, TaskError, Wait};

/// One execution: what it runs, where it is, and what each task did.
#[derive(Debug, Clone)]
pub(crate) struct Execution {
    /// Its id.
    pub id: ExecutionId,
    /// The plan it runs (a pinned workflow version).
    pub plan: Arc<Plan>,
    /// The workflow's id.
    pub workflow_id: WorkflowId,
    /// The workflow's name.
    pub workflow: String,
    /// The pinned version.
    pub version: u32,
    /// Where it is.
    pub status: ExecutionStatus,
    /// Its inputs (shared with its first event), until its row is written: then `null`
    /// (the store has them; expressions read them from the context).
    pub inputs: Arc<Value>,
    /// Whether its read-model row is stored (then the row's inputs, which never
    /// change, are not written again).
    pub(crate) row_stored: bool,
    /// The fence of this node's ownership (see `scheduler::commit`): its writes go in
    /// only while the stored row still carries it.
    pub(crate) fence: u64,
    /// Whether the stored row says it is parked (see [`Execution::is_parked`]).
    pub(crate) parked_stored: bool,
    /// The status the stored row says (meaningless before `row_stored`).
    pub(crate) status_stored: ExecutionStatus,
    /// The task that started it, for a sub-workflow.
    pub parent: Option<ParentLink>,
    /// The execution it retries.
    pub retry_of: Option<ExecutionId>,
    /// What started it (from its first event; never changes).
    pub origin: Option<Origin>,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// Its outputs, once succeeded.
    pub outputs: Option<Value>,
    /// Why it failed.
    pub error: Option<TaskError>,
    /// Set once it stops starting work.
    pub stopping: Option<StopReason>,
    /// A cancel was asked for and not yet acted on.
    pub(crate) cancel_requested: Option<Option<String>>,
    /// The workflow's timeout fired and was not yet acted on.
    pub(crate) timed_out: bool,
    /// A task failed under `on_error: fail` and the execution does not stop yet.
    pub(crate) failed_task: Option<usize>,
    /// Paused by a user.
    pub paused: bool,
    /// Every task has ended with this outcome and the handlers run (see
    /// `Event::Ending`).
    pub(crate) ending: Option<Box<crate::event::Event>>,
    /// A cancel or a timeout stopped the handlers.
    pub(crate) handlers_stopped: bool,
    /// The tasks, in plan order.
    pub tasks: Vec<TaskState>,
    /// The LLM tokens its attempts spent, from their recorded results (so a replay
    /// rebuilds it): what the `llm` kind's per-execution budget is checked against.
    pub tokens_used: u64,
    /// The number of the last event applied.
    pub seq: u64,
    /// Tasks not yet terminal.
    pub(crate) open_tasks: usize,
    pub(crate) ctx: ContextVals,
    pub(crate) candidates: VecDeque<usize>,
    pub(crate) completions: VecDeque<usize>,
    pub(crate) retries: VecDeque<(usize, u32)>,
    pub(crate) dispatch: VecDeque<usize>,
    /// The outputs, while they are evaluated off the turn.
    pub(crate) outputs_eval: Option<Pending<Result<Value, TaskError>>>,
    /// Evaluations to run off the turn, for `settle` to hand out as effects.
    pub(crate) evaluations: Vec<Job>,
    pub(crate) dirty: Dirty,
}

/// The values of the context variables that do not depend on the task.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContextVals {
    pub(crate) inputs: Val,
    pub(crate) params: Val,
    pub(crate) execution: Val,
    /// `{name: {output, status, error, attempts, skip_reason}}` of ended tasks.
    pub(crate) tasks: Val,
}

/// What changed since the read models were last written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dirty {
    pub(crate) execution: bool,
    /// `(task, unit)`; `None` for the task row.
    pub(crate) rows: Vec<(usize, Option<u32>)>,
}

/// The state of one task.
#[derive(Debug, Clone)]
pub(crate) struct TaskState {
    /// Where it is.
    pub status: TaskStatus,
    /// Why it was skipped.
    pub skip_reason: Option<SkipReason>,
    /// Its output, once succeeded (for a fan-out: the item outputs, in item order).
    pub output: Option<Value>,
    /// Why it failed.
    pub error: Option<TaskError>,
    /// When its first attempt started.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// Whether it fans out.
    pub fan_out: bool,
    /// The fan-out items (`$item`), or empty.
    pub items: Vec<Value>,
    pub(crate) item_vals: Vec<Val>,
    /// The units: one for a plain task, one per item for a fan-out.
    pub units: Vec<Unit>,
    /// Units queued or running.
    pub(crate) in_flight: u32,
    /// Units that ended.
    pub(crate) terminal: u32,
    /// Attempts over all units (the sum of their `attempt`), kept where an attempt
    /// starts: every commit writes the task's row, and summing a fan-out of 100,000
    /// units there was the bulk of its turns.
    pub(crate) attempts_total: u32,
    /// The next unit never dispatched.
    pub(crate) next: u32,
    /// Units to dispatch again (retries), before `next`.
    pub(crate) requeue: VecDeque<u32>,
    /// Its `if` and `for_each`, while they are evaluated off the turn.
    pub(crate) start: Option<Pending<StartOutcome>>,
    /// Its fallback's output stands in (`TaskRecovered`).
    pub recovered: bool,
    pub(crate) dirty: bool,
}

/// The state of one attempt-carrying unit: a plain task, or one item of a fan-out.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unit {
    /// Where it is.
    pub status: TaskStatus,
    /// The last attempt started (0 before the first).
    pub attempt: u32,
    /// Attempts that failed.
    pub failures: u32,
    /// The output, once succeeded.
    pub output: Option<Value>,
    /// The last error.
    pub error: Option<TaskError>,
    /// When the first attempt started.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// When the next attempt is due, while retrying.
    pub retry_due: Option<Timestamp>,
    /// What the running attempt waits on.
    pub wait: Option<Box<Wait>>,
    pub(crate) dirty: bool,
}

impl Unit {
    fn new() -> Unit {
        Unit {
            status: TaskStatus::Pending,
            attempt: 0,
            failures: 0,
            output: None,
            error: None,
            started_at: None,
            ended_at: None,
            retry_due: None,
            wait: None,
            dirty: false,
        }
    }
}

impl TaskState {
    fn new() -> TaskState {
        TaskState {
            status: TaskStatus::Pending,
            skip_reason: None,
            output: None,
            error: None,
            started_at: None,
            ended_at: None,
            fan_out: false,
            items: Vec::new(),
            item_vals: Vec::new(),
            units: Vec::new(),
            in_flight: 0,
            terminal: 0,
            attempts_total: 0,
            next: 0,
            requeue: VecDeque::new(),
            start: None,
            recovered: false,
            dirty: false,
        }
    }

    /// The item index of unit `u` (`None` for a plain task).
    pub(crate) fn item_of(&self, u: u32) -> Option<u32> {
        self.fan_out.then_some(u)
    }

    /// The unit of an item (`None` for a plain task's only unit).
    pub(crate) fn unit_of(&self, item: Option<u32>) -> Option<u32> {
        match (self.fan_out, item) {
            (false, None) => (!self.units.is_empty()).then_some(0),
            (true, Some(i)) => ((i as usize) < self.units.len()).then_some(i),
            _ => None,
        }
    }

    /// Attempts over all units.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts_total
    }

    pub(crate) fn all_units_terminal(&self) -> bool {
        self.terminal as usize == self.units.len()
    }
}

fn counts_in_flight(s: TaskStatus) -> bool {
    matches!(s, TaskStatus::Queued | TaskStatus::Running)
}

impl Execution {
    /// A new execution in the state `ExecutionStarted` leaves it in.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: ExecutionId,
        plan: Arc<Plan>,
        workflow_id: WorkflowId,
        version: u32,
        inputs: Arc<Value>,
        params: Value,
        parent: Option<ParentLink>,
        retry_of: Option<ExecutionId>,
        origin: Option<Origin>,
        at: Timestamp,
    ) -> Execution {
        let workflow = plan.workflow.name.clone();
        let execution = json!({
            "id": id.to_string(),
            "workflow": workflow,
            "version": version,
            "started_at": at.to_string(),
        });
        let ctx = ContextVals {
            inputs: Val::from(inputs.as_ref()),
            params: Val::from(&params),
            execution: Val::from(execution),
            tasks: Val::object(Vec::<(String, Val)>::new()),
        };
        let n = plan.tasks.len();
        // Handlers open when every task has ended (`Event::Ending`).
        let main = |t: &harmonia_model::PlanTask| t.phase == harmonia_model::Phase::Main;
        let candidates = plan
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.needs.is_empty() && main(t))
            .map(|(i, _)| i)
            .collect();
        let open_tasks = plan.tasks.iter().filter(|t| main(t)).count();
        Execution {
            id,
            workflow_id,
            workflow,
            version,
            status: ExecutionStatus::Running,
            inputs,
            row_stored: false,
            fence: 1,
            parked_stored: false,
            status_stored: ExecutionStatus::Running,
            parent,
            retry_of,
            origin,
            started_at: at,
            ended_at: None,
            outputs: None,
            error: None,
            stopping: None,
            cancel_requested: None,
            timed_out: false,
            failed_task: None,
            paused: false,
            ending: None,
            handlers_stopped: false,
            tasks: (0..n).map(|_| TaskState::new()).collect(),
            tokens_used: 0,
            seq: 0,
            open_tasks,
            ctx,
            candidates,
            completions: VecDeque::new(),
            retries: VecDeque::new(),
            dispatch: VecDeque::new(),
            outputs_eval: None,
            evaluations: Vec::new(),
            dirty: Dirty {
                execution: true,
                rows: Vec::new(),
            },
            plan,
        }
    }

    /// The index of the task named `name`.
    /// Whether it has nothing to do until a timer fires or a signal arrives: every
    /// unit that has not ended waits (on a timer, a signal, a child) or waits for
    /// other units, and no decision is pending. A parked execution need not be in
    /// memory: after a restart it is loaded when one of its timers is due or someone
    /// addresses it.
    pub(crate) fn is_parked(&self) -> bool {
        if self.status.is_terminal()
            || self.stopping.is_some()
            || self.cancel_requested.is_some()
            || self.timed_out
            || !self.candidates.is_empty()
            || !self.completions.is_empty()
            || !self.retries.is_empty()
            || !self.dispatch.is_empty()
            // A decision evaluated off the turn (a task's `if` or `for_each`, the
            // outputs) is work: its result is not logged, and only a loaded
            // execution evaluates it again.
            || self.outputs_eval.is_some()
            || self.tasks.iter().any(|t| t.start.is_some())
        {
            return false;
        }
        // Every commit of the execution asks, so the walk must not cost the whole
        // fan-out each time: an ended task's units have all ended, and the units most
        // likely still at work are the last ones dispatched, so the walk starts there
        // and goes back (the answer does not depend on the order, only its cost).
        self.tasks.iter().all(|t| {
            let next = (t.next as usize).min(t.units.len());
            t.all_units_terminal()
                || t.units[..next]
                    .iter()
                    .rev()
                    .chain(&t.units[next..])
                    .all(|u| match u.status {
                        TaskStatus::Queued => false,
                        TaskStatus::Running => u.wait.is_some(),
                        TaskStatus::Retrying => u.retry_due.is_some(),
                        _ => true,
                    })
        })
    }

    pub(crate) fn task_index(&self, name: &str) -> Option<usize> {
        self.plan.task_index(name)
    }

    /// Whether the execution has ended.
    pub(crate) fn is_finished(&self) -> bool {
        self.status.is_terminal()
    }

    /// Changes a unit's status, keeping the task's counters right.
    pub(crate) fn set_unit(&mut self, t: usize, u: u32, status: TaskStatus) {
        let task = &mut self.tasks[t];
        let unit = &mut task.units[u as usize];
        let old = unit.status;
        if old == status {
            return;
        }
        if counts_in_flight(old) {
            task.in_flight -= 1;
        }
        if counts_in_flight(status) {
            task.in_flight += 1;
        }
        if !old.is_terminal() && status.is_terminal() {
            task.terminal += 1;
        }
        // A unit opened again (a held task retried) is no longer ended.
        if old.is_terminal() && !status.is_terminal() {
            task.terminal -= 1;
        }
        unit.status = status;
        self.mark_unit(t, u);
    }

    /// Marks a unit's read-model row (for a fan-out item) and its task's row changed.
    pub(crate) fn mark_unit(&mut self, t: usize, u: u32) {
        let task = &mut self.tasks[t];
        if task.fan_out {
            let unit = &mut task.units[u as usize];
            if !unit.dirty {
                unit.dirty = true;
                self.dirty.rows.push((t, Some(u)));
            }
        }
        self.mark_task(t);
    }

    /// Marks a task's read-model row changed (a plain task's row includes its unit).
    /// The execution's row is not: it changes with the execution's own state (status,
    /// outputs, error, end, parking), not with each task's.
    pub(crate) fn mark_task(&mut self, t: usize) {
        let task = &mut self.tasks[t];
        if !task.dirty {
            task.dirty = true;
            self.dirty.rows.push((t, None));
        }
    }

    /// Records that task `t` ended: its entry in `$tasks`, the open count, and its
    /// dependents become candidates.
    pub(crate) fn task_ended(&mut self, t: usize) {
        self.open_tasks -= 1;
        let task = &self.tasks[t];
        let entry = Val::from(json!({
            "output": task.output.clone().unwrap_or(Value::Null),
            "status": task.status.as_str(),
            "error": task.error.as_ref().map_or(Value::Null, TaskError::to_json),
            "attempts": task.attempts(),
            "skip_reason": task.skip_reason.map_or(Value::Null, |r| Value::from(r.as_str())),
            "recovered_by": if task.recovered { Value::from("fallback") } else { Value::Null },
        }));
        // A task's fallback is decided once the task ends (not needed), and a task
        // waits for its fallback to end.
        if let Some(f) = self.plan.tasks[t].fallback {
            self.candidates.push_back(f);
        }
        if let Some(of) = self.plan.tasks[t].falls_back_for {
            self.completions.push_back(of);
        }
        let name = self.plan.tasks[t].name.clone();
        self.ctx.tasks.insert(&name, entry);
        let dependents = self.plan.tasks[t].dependents.clone();
        self.candidates.extend(dependents);
        self.mark_task(t);
    }

    /// The expression context for task `t` (and unit `u` of a fan-out).
    pub(crate) fn context(&self, t: usize, u: Option<u32>) -> harmonia_expr::Context {
        let mut ctx = harmonia_expr::Context::new()
            .with(Var::Inputs, self.ctx.inputs.clone())
            .with(Var::Params, self.ctx.params.clone())
            .with(Var::Execution, self.ctx.execution.clone())
            .with(Var::Tasks, self.ctx.tasks.clone());
        let task = &self.tasks[t];
        if let Some(u) = u
            && task.fan_out
            && let Some(item) = task.item_vals.get(u as usize)
        {
            ctx.set(Var::Item, item.clone());
            ctx.set(Var::Index, Val::from(Value::from(u)));
        }
        ctx
    }
}

/// Marks a task started with its units.
pub(crate) fn start_task(x: &mut Execution, t: usize, items: Option<&Vec<Value>>, at: Timestamp) {
    let task = &mut x.tasks[t];
    task.status = TaskStatus::Running;
    task.started_at = Some(at);
    match items {
        Some(items) => {
            task.fan_out = true;
            task.items = items.clone();
            task.item_vals = items.iter().map(Val::from).collect();
            task.units = (0..items.len()).map(|_| Unit::new()).collect();
        }
        None => task.units = vec![Unit::new()],
    }
    task.attempts_total = 0;
    x.mark_task(t);
    if x.tasks[t].units.is_empty() {
        // An empty fan-out ends at once.
        x.completions.push_back(t);
    } else {
        x.dispatch.push_back(t);
    }
}
