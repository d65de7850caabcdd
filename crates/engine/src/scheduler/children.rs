//! Sub-workflows: starting a child for a `workflow` task and reporting its end.
//!
//! The child's definition is resolved off the loop (a store read, perhaps a definition
//! file found beside the parent's); its inputs are validated against the child's
//! schema. The child then starts in the same turn as the parent's attempt records that
//! it waits on it, so the link is in one commit. When the child ends, the parent's
//! attempt result is recorded in the same turn as the child's end. After a restart, a
//! parent waiting on a child that already ended reads the child's record and goes on.
//!
//! Cancelling the parent cancels the child; a child that fails fails the parent's task
//! with the child's error. Nesting is bounded, so a workflow that calls itself fails
//! instead of starting children forever.

use harmonia_model::ErrorClass;
use harmonia_storage::{
    ExecutionId, ExecutionRecord, ExecutionStatus, Origin, OriginKind, ParentLink,
};
use serde_json::Value;

use super::output::Applied;
use super::service::{After, Service};
use super::waits::ChildCall;
use super::{Command, StartRequest};
use crate::event::{Event, TaskError, Wait};
use crate::machine::AttemptRef;
use crate::plans::Workflow;

/// The deepest chain of sub-workflows.
const MAX_DEPTH: usize = 32;

impl Service {
    /// Resolves the child of a `workflow` task off the loop, then reports it.
    pub(super) fn resolve_child(&mut self, parent: ExecutionId, a: AttemptRef, call: ChildCall) {
        let plans = self.plans.clone();
        let tx = self.tx.clone();
        self.rt.spawn(async move {
            let child = resolve(&plans, call).await;
            let _ = tx
                .send(Command::ChildReady {
                    parent,
                    attempt: a,
                    child,
                })
                .await;
        });
    }

    fn depth(&self, mut id: ExecutionId) -> usize {
        let mut depth = 0;
        while let Some(link) = self.executions.get(&id).and_then(|x| x.parent.as_ref()) {
            depth += 1;
            id = link.execution;
            if depth > MAX_DEPTH {
                break;
            }
        }
        depth
    }

    /// Starts the resolved child and records that the parent's attempt waits on it.
    pub(super) fn child_ready(
        &mut self,
        parent: ExecutionId,
        a: AttemptRef,
        child: Result<(Workflow, Value), TaskError>,
    ) {
        let Some(x) = self.executions.get(&parent) else {
            return;
        };
        let Some(u) = x.tasks[a.task].unit_of(a.item) else {
            return;
        };
        if x.tasks[a.task].units[u as usize].attempt + 1 != a.attempt
            || x.tasks[a.task].units[u as usize].status != harmonia_storage::TaskStatus::Queued
        {
            return; // Cancelled meanwhile.
        }
        let task = x.plan.tasks[a.task].name.clone();
        let started = Event::AttemptStarted {
            task: task.clone(),
            item: a.item,
            attempt: a.attempt,
            recovered: false,
        };
        let child = child.and_then(|c| {
            if self.depth(parent) + 1 >= MAX_DEPTH {
                Err(TaskError::new(
                    ErrorClass::Validation,
                    format!(
                        "sub-workflows nest deeper than {MAX_DEPTH} levels; does `{}` call itself?",
                        c.0.record.name
                    ),
                ))
            } else {
                Ok(c)
            }
        });
        match child {
            Ok((workflow, inputs)) => {
                let link = ParentLink {
                    execution: parent,
                    task: task.clone(),
                    item: a.item,
                };
                let request = StartRequest::new(workflow, inputs.clone())
                    .with_origin(Origin::by(OriginKind::Workflow, parent.to_string()));
                self.record(parent, started);
                let child = self.create(request, inputs, Some(link));
                self.record(
                    parent,
                    Event::AttemptWaiting {
                        task,
                        item: a.item,
                        attempt: a.attempt,
                        wait: Box::new(Wait::Child { execution: child }),
                    },
                );
            }
            Err(error) => {
                self.record(parent, started);
                if let Some(done) = self.result_event(parent, a, Err(error)) {
                    self.record(parent, done);
                }
            }
        }
    }

    /// When execution `id` ended and has a parent, records the parent attempt's result.
    pub(super) fn deliver_to_parent(&mut self, id: ExecutionId) {
        let Some(child) = self.executions.get(&id) else {
            return;
        };
        if child.parent.is_some() {
            let record = child.record(harmonia_storage::Timestamp::now());
            // The parent may be parked and not in memory: then it is loaded first.
            self.child_finished(record, false);
        }
    }

    /// Records the result of a parent's attempt from its child's final record.
    pub(super) fn child_ended(
        &mut self,
        parent: ExecutionId,
        a: AttemptRef,
        child: &ExecutionRecord,
    ) {
        if !self.executions.contains_key(&parent) {
            return;
        }
        let raw = match child.status {
            ExecutionStatus::Succeeded => Ok(child.outputs.clone().unwrap_or(Value::Null)),
            ExecutionStatus::Cancelled => Err(TaskError::new(
                ErrorClass::Cancelled,
                format!(
                    "sub-workflow `{}` ({}) was cancelled",
                    child.workflow, child.id
                ),
            )),
            _ => {
                let cause: Option<TaskError> = child
                    .error
                    .clone()
                    .and_then(|e| serde_json::from_value(e).ok());
                let class = cause.as_ref().map_or(ErrorClass::Validation, |c| c.class);
                let message = cause.map_or_else(|| "failed".to_string(), |c| c.message);
                Err(TaskError::new(
                    class,
                    format!(
                        "sub-workflow `{}` ({}) failed: {message}",
                        child.workflow, child.id
                    ),
                ))
            }
        };
        // The task's `output:` applies to the child's outputs: in the turn when quick.
        match self.apply_output(parent, a, raw) {
            Applied::Now(result) => {
                if let Some(event) = self.result_event(parent, a, result) {
                    self.batch.work.push_back((parent, event));
                }
            }
            Applied::Later(later) => later.then(move |result| Command::AttemptDone {
                execution: parent,
                attempt: a,
                result,
                usage: None,
            }),
            Applied::Gone => {}
        }
    }

    /// After a restart: a parent waits on `child`; if the child already ended, report it.
    pub(super) fn await_child(&mut self, parent: ExecutionId, a: AttemptRef, child: ExecutionId) {
        if !self.executions.contains_key(&child) {
            self.batch.after.push(After::AwaitChild(parent, a, child));
        }
    }

    /// Reads a child's record off the loop and reports it if it ended.
    pub(super) fn fetch_child(&mut self, parent: ExecutionId, a: AttemptRef, child: ExecutionId) {
        let store = self.store.clone();
        let tx = self.tx.clone();
        self.rt.spawn(async move {
            match store.execution(child).await {
                Ok(Some(record)) if record.status.is_terminal() => {
                    let _ = tx
                        .send(Command::ChildEnded {
                            parent,
                            attempt: a,
                            child: record,
                        })
                        .await;
                }
                Ok(_) => {
                    tracing::warn!(%parent, %child, "a parent waits on a child that is neither running nor ended")
                }
                Err(e) => {
                    tracing::error!(%parent, %child, error = %e, "cannot read a child execution")
                }
            }
        });
    }
}

/// Finds the child's definition and validates its inputs.
async fn resolve(
    plans: &crate::plans::Plans,
    call: ChildCall,
) -> Result<(Workflow, Value), TaskError> {
    let ChildCall {
        workflow: name,
        version,
        inputs,
    } = call;
    let workflow = plans
        .get(&name, version)
        .await
        .map_err(|e| TaskError::new(ErrorClass::Validation, e.to_string()))?;
    let inputs = workflow.plan.prepare_inputs(inputs).map_err(|violations| {
        let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
        TaskError::new(
            ErrorClass::Validation,
            format!(
                "invalid inputs for sub-workflow `{name}`: {}",
                text.join("; ")
            ),
        )
        .with_details(serde_json::to_value(&violations).unwrap_or(Value::Null))
    })?;
    Ok((workflow, inputs))
}
