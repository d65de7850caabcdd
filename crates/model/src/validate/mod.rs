//! Validation of a read workflow, and its compilation into a [`Plan`].
//!
//! The rules, each reported with the field and position it concerns, all in one pass:
//! - the workflow's name is `[a-z0-9][a-z0-9_-]*`, and so is `template.name`;
//! - every task's `type` is a registered task type;
//! - every name in `needs` is a task, not the task itself; the graph has no cycle (each
//!   cycle is printed, `a -> b -> a`);
//! - every expression compiles, reads only the variables available where it is written,
//!   and reads `$tasks.X` only for a task X that is upstream of it (for workflow
//!   outputs, any task); the field read is one a task result has;
//! - `if` and `output` are single expressions; `for_each` is a list or an expression;
//!   `concurrency` is only set with `for_each`;
//! - `inputs` is a valid JSON Schema describing an object;
//! - a static path read from `$inputs` (from `$params`, in a template's body) names
//!   keys the `inputs` (`parameters`) schema declares, as far as the schema describes
//!   them (see `declared`): an error where that level is closed
//!   (`additionalProperties: false`, so the value is always null), a warning
//!   otherwise, with "did you mean". Without a schema nothing is said;
//! - each task's `with` matches its type's parameter schema and check. Values that are
//!   `${ }` expressions are only known at run time and are not type-checked here.
//!
//! `$params` may be read wherever `$inputs` may; its value is the workflow's `params`
//! (null without them). `params` is data, not checked against anything here: a
//! template checks parameter values against its `parameters` schema when it is
//! instantiated.
//!
//! Warnings (the definition works, but probably not as meant): `join` without `needs`;
//! a read of an input or parameter that an open schema does not declare.
//!
//! Layout, one concept per file: this file holds the pass (the `Validator`, the order of
//! its checks, and the compilation of each task into a [`PlanTask`]); `names` checks the
//! workflow and template names; `needs` resolves the dependency graph and reports cycles;
//! `expressions` compiles expressions and checks what they read; `params` checks each
//! task's `with` against its type; `schema` checks and compiles the `inputs` (and
//! `parameters`) schema.

mod expressions;
pub use expressions::RESULT_FIELDS;
mod names;
mod needs;
mod params;
mod schema;
mod triggers;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use harmonia_expr::{PathSeg, ValueTemplate, VarSet};
use serde_json::Value;

use crate::definition::{Join, Task, Workflow};
use crate::diagnostic::{Diagnostics, FieldPath, Locations};
use crate::plan::{Condition, ForEach, InputSchema, Phase, Plan, PlanTask, Retry};
use crate::task_types::TaskTypes;
use expressions::Place;
#[cfg(test)]
pub(crate) use names::is_valid_name;
pub(crate) use names::{fix_name, name_problem};
pub(crate) use schema::{object_schema, schema_message};

/// Validates `wf` and compiles it. `params` is the JSON Schema of the values `$params`
/// reads, when there is one (a template's `parameters`, for its body).
pub(crate) fn validate(
    wf: &Workflow,
    locs: &Locations,
    types: &TaskTypes,
    params: Option<&Value>,
    diags: &mut Diagnostics<'_>,
) -> Option<Plan> {
    // The workflow's tasks, then its handler blocks: one index space, since handlers
    // read the tasks' results (`$tasks`) and each other's.
    let mut entries: Vec<(&str, &str, &Task)> = wf
        .tasks
        .iter()
        .map(|(n, t)| ("tasks", n.as_str(), t))
        .collect();
    for block in Workflow::HANDLER_BLOCKS {
        entries.extend(
            wf.handlers(block)
                .iter()
                .map(|(n, t)| (block, n.as_str(), t)),
        );
    }
    // Each `compensate` is a task of its own, `NAME.compensate` (a name no task can
    // have), after the handlers.
    let compensated: Vec<(String, &str, &Task)> = wf
        .tasks
        .iter()
        .filter_map(|(n, t)| {
            Some((
                format!("{n}.compensate"),
                n.as_str(),
                t.compensate.as_deref()?,
            ))
        })
        .collect();
    entries.extend(
        compensated
            .iter()
            .map(|(name, _, t)| ("compensate", name.as_str(), *t)),
    );
    // Each `fallback` too, `NAME.fallback`, with its task's dependencies (in `tasks`:
    // it runs with them).
    let fallbacks: Vec<(String, &str, &Task)> = wf
        .tasks
        .iter()
        .filter_map(|(n, t)| Some((format!("{n}.fallback"), n.as_str(), t.fallback.as_deref()?)))
        .collect();
    entries.extend(
        fallbacks
            .iter()
            .map(|(name, _, t)| ("tasks", name.as_str(), *t)),
    );
    let mut paths: Vec<FieldPath> = entries
        .iter()
        .map(|(block, name, _)| FieldPath::keys(&[block, name]))
        .collect();
    let first_compensation = entries.len() - compensated.len() - fallbacks.len();
    let first_fallback = entries.len() - fallbacks.len();
    for (k, (_, of, _)) in compensated.iter().enumerate() {
        paths[first_compensation + k] = FieldPath::root().key("tasks").key(of).key("compensate");
    }
    for (k, (_, of, _)) in fallbacks.iter().enumerate() {
        paths[first_fallback + k] = FieldPath::root().key("tasks").key(of).key("fallback");
    }
    let names: Vec<&str> = entries.iter().map(|(_, n, _)| *n).collect();
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(names.len());
    for (i, (block, name, _)) in entries.iter().enumerate() {
        if let Some(&first) = index.get(name) {
            let path = FieldPath::root().key(block).key(name);
            let offset = locs.key(&path);
            diags.error(
                &path,
                offset,
                format!(
                    "task `{}` is also in `{}`: the tasks of `tasks`, `on_failure`, `on_success` and `finally` share one namespace (`$tasks`)",
                    harmonia_expr::clip(name),
                    entries[first].0
                ),
            );
        } else {
            index.insert(name, i);
        }
    }
    let mut v = Validator {
        wf,
        locs,
        types,
        diags,
        names,
        blocks: entries.iter().map(|(b, _, _)| *b).collect(),
        paths,
        compensates: compensated
            .iter()
            .map(|(_, of, _)| index.get(of).copied())
            .collect(),
        first_compensation,
        first_fallback,
        fallback_of: fallbacks
            .iter()
            .map(|(_, of, _)| index.get(of).copied())
            .collect(),
        entries: entries.iter().map(|(_, _, t)| *t).collect(),
        index,
        ancestors: HashMap::new(),
        needs: Vec::new(),
        inputs_schema: None,
        params_schema: params,
    };
    v.run()
}

struct Validator<'a, 's> {
    wf: &'a Workflow,
    locs: &'a Locations,
    types: &'a TaskTypes,
    diags: &'a mut Diagnostics<'s>,
    names: Vec<&'a str>,
    /// The block of each task (`tasks`, `on_failure`, `on_success`, `finally`).
    blocks: Vec<&'a str>,
    /// Each task's definition, by index.
    entries: Vec<&'a Task>,
    /// Where each task is written.
    paths: Vec<FieldPath>,
    /// The index of the first compensation (they come last).
    first_compensation: usize,
    /// For each compensation, in order, the task it undoes.
    compensates: Vec<Option<usize>>,
    /// The index of the first fallback (they come after the compensations).
    first_fallback: usize,
    /// For each fallback, in order, the task it stands in for.
    fallback_of: Vec<Option<usize>>,
    index: HashMap<&'a str, usize>,
    /// Resolved `needs`, by task index.
    needs: Vec<Vec<usize>>,
    /// Ancestor sets, computed on demand.
    ancestors: HashMap<usize, HashSet<usize>>,
    /// The `inputs` schema, once it is known to be valid.
    inputs_schema: Option<&'a Value>,
    /// The schema of `$params`, when there is one.
    params_schema: Option<&'a Value>,
}

impl Validator<'_, '_> {
    fn error(&mut self, path: &FieldPath, offset: usize, message: impl Into<String>) {
        self.diags.error(path, offset, message);
    }

    fn task_path(&self, i: usize) -> FieldPath {
        self.paths[i].clone()
    }

    /// The task that compensation `i` undoes, when `i` is a compensation.
    fn compensated(&self, i: usize) -> Option<usize> {
        if i >= self.first_fallback {
            return None;
        }
        i.checked_sub(self.first_compensation)
            .and_then(|k| self.compensates.get(k).copied().flatten())
    }

    /// The task that fallback `i` stands in for, when `i` is a fallback.
    fn falls_back_for(&self, i: usize) -> Option<usize> {
        i.checked_sub(self.first_fallback)
            .and_then(|k| self.fallback_of.get(k).copied().flatten())
    }

    /// The fallback of task `i`, if it has one.
    fn fallback_of_task(&self, i: usize) -> Option<usize> {
        (self.first_fallback..self.names.len()).find(|&f| self.falls_back_for(f) == Some(i))
    }

    /// The phase task `i` runs in.
    fn phase(&self, i: usize) -> Phase {
        Phase::of_block(self.blocks[i])
    }

    fn run(&mut self) -> Option<Plan> {
        self.check_name();
        self.resolve_needs();
        let order = self.order();
        let inputs = self.inputs();

        let mut tasks = Vec::with_capacity(self.names.len());
        let entries = self.entries.clone();
        for (i, task) in entries.into_iter().enumerate() {
            tasks.push(self.task(i, task));
        }
        let outputs = self.outputs();
        let triggers = self.triggers();
        let concurrency = self.concurrency();

        if self.diags.has_errors() {
            return None;
        }
        let mut tasks: Vec<PlanTask> = tasks.into_iter().collect::<Option<_>>()?;
        for i in 0..tasks.len() {
            for &n in &self.needs[i] {
                tasks[n].dependents.push(i);
            }
        }
        Some(Plan {
            workflow: Arc::new(self.wf.clone()),
            inputs,
            outputs,
            timeout: self.wf.timeout.map(|d| d.get()),
            by_name: Plan::index_names(&tasks),
            tasks,
            order: order.unwrap_or_default(),
            triggers: triggers.unwrap_or_default(),
            concurrency,
        })
    }

    fn inputs(&mut self) -> Option<InputSchema> {
        let schema = self.wf.inputs.as_ref()?;
        let base = FieldPath::root().key("inputs");
        let validator = object_schema(schema, &base, "inputs", self.locs, self.diags)?;
        self.inputs_schema = Some(schema);
        Some(InputSchema {
            schema: schema.clone(),
            validator,
        })
    }

    fn task(&mut self, i: usize, task: &Task) -> Option<PlanTask> {
        let path = self.task_path(i);
        let fan_out = task.for_each.is_some();

        self.check_type(i, task);
        if task.join != Join::All && task.needs.is_empty() {
            let p = path.key("join");
            let offset = self.locs.key(&p);
            self.diags
                .warning(&p, offset, "`join` has no effect on a task without `needs`");
        }
        if task.concurrency.is_some() && !fan_out {
            let p = path.key("concurrency");
            let offset = self.locs.key(&p);
            self.error(
                &p,
                offset,
                "`concurrency` limits a fan-out: set `for_each` too, or remove `concurrency`",
            );
        }

        let condition = match &task.condition {
            None | Some(Value::Bool(true)) => Some(Condition::Always),
            Some(Value::Bool(false)) => Some(Condition::Never),
            Some(Value::String(s)) => self
                .single(s, &path.key("if"), Place::If, Some(i))
                .map(Condition::When),
            Some(_) => None,
        };
        let for_each = match &task.for_each {
            None => None,
            Some(Value::String(s)) => self
                .single(s, &path.key("for_each"), Place::ForEach, Some(i))
                .map(ForEach::Expr),
            Some(items) => self
                .value(items, &path.key("for_each"), Place::ForEach, Some(i))
                .map(ForEach::Items),
        };
        // Parameters the kind evaluates later are compiled apart, with their own
        // variables, and left out of what is evaluated when an attempt starts.
        let deferred_keys: Vec<(String, VarSet)> = self
            .types
            .get(&task.kind)
            .map(|ty| {
                ty.deferred()
                    .iter()
                    .map(|d| (d.key.clone(), d.vars))
                    .collect()
            })
            .unwrap_or_default();
        let mut now_part = task.with.clone();
        let mut deferred = Vec::new();
        let mut deferred_ok = true;
        if let Value::Object(map) = &mut now_part {
            for (key, vars) in &deferred_keys {
                if let Some(value) = map.remove(key) {
                    let place = Place::Deferred {
                        fan_out,
                        vars: *vars,
                    };
                    match self.value(&value, &path.key("with").key(key), place, Some(i)) {
                        Some(t) => deferred.push((key.clone(), t)),
                        None => deferred_ok = false,
                    }
                }
            }
        }
        let with = self.value(
            &now_part,
            &path.key("with"),
            Place::With { fan_out },
            Some(i),
        );
        let output = match &task.output {
            None => None,
            Some(s) => {
                Some(self.single(s, &path.key("output"), Place::Output { fan_out }, Some(i))?)
            }
        };
        let defaults = &self.wf.defaults;
        let compensates = self.compensated(i);
        Some(PlanTask {
            name: self.names[i].to_string(),
            phase: self.phase(i),
            compensates,
            fallback: self.fallback_of_task(i),
            falls_back_for: self.falls_back_for(i),
            kind: task.kind.clone(),
            needs: self.needs[i].clone(),
            dependents: Vec::new(),
            condition: condition?,
            // A compensation runs whatever became of the compensations it waits for.
            join: if compensates.is_some() {
                Join::AllDone
            } else {
                task.join
            },
            on_error: task.on_error,
            with: with?,
            deferred: if deferred_ok { deferred } else { return None },
            for_each: match (&task.for_each, for_each) {
                (None, _) => None,
                (Some(_), Some(f)) => Some(f),
                (Some(_), None) => return None,
            },
            concurrency: task.concurrency,
            output,
            retry: Retry::resolve(task.retry.as_ref(), defaults.retry.as_ref()),
            timeout: task.timeout.or(defaults.timeout).map(|d| d.get()),
        })
    }

    fn outputs(&mut self) -> Vec<(String, ValueTemplate)> {
        let mut out = Vec::new();
        for (name, value) in &self.wf.outputs {
            let path = FieldPath::root().key("outputs").key(name);
            if let Some(t) = self.value(value, &path, Place::WorkflowOutput, None) {
                out.push((name.clone(), t));
            }
        }
        out
    }
}

/// The value at `segs` under `root`, if there is one.
fn lookup<'v>(root: &'v Value, segs: &[PathSeg]) -> Option<&'v Value> {
    segs.iter().try_fold(root, |v, seg| match (seg, v) {
        (PathSeg::Key(k), Value::Object(m)) => m.get(k),
        (PathSeg::Index(n), Value::Array(a)) => a.get(*n),
        _ => None,
    })
}

/// `base` followed by `segs`.
fn extend(base: &FieldPath, segs: &[PathSeg]) -> FieldPath {
    segs.iter().fold(base.clone(), |p, s| match s {
        PathSeg::Key(k) => p.key(k),
        PathSeg::Index(i) => p.index(*i),
    })
}
