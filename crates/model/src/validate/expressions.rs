//! The expressions of a workflow: compiling them where they are written, with the
//! variables that place allows, and checking what they read.
//!
//! Invariants:
//! - each place ([`Place`]) decides the variables available: `$inputs`, `$tasks`, `$params`
//!   and `$execution` everywhere; `$secrets` only in `with`; `$output` only in a task's
//!   `output`; `$item` and `$index` only in the `with` (deferred parameters included) and
//!   `output` of a task with `for_each`; a deferred parameter adds the variables of its
//!   kind and loses `$secrets`; a variable read where it is not available is reported
//!   saying where it is;
//! - `if`, `output` and a `for_each` string are exactly one expression;
//! - `$tasks.X` names a task, never the reading task itself, and, in a task, only one
//!   upstream of it (a workflow output may read any task); the field read is one a task
//!   result has ([`RESULT_FIELDS`]);
//! - a static path read from `$inputs` or `$params` that their schema does not declare is
//!   an error where the schema is closed and a warning otherwise; without a schema
//!   nothing is said;
//! - a problem points inside its string, at the expression concerned, whenever that
//!   position is known; otherwise at the field.

use harmonia_expr::{PathSeg, Program, Template, ValueTemplate, Var, VarSet, clip};
use serde_json::Value;

use super::{Validator, extend, lookup};
use crate::declared::undeclared;
use crate::diagnostic::FieldPath;

/// Variables of expressions evaluated once per task, before any fan-out.
const TASK_VARS: VarSet = VarSet::of(&[Var::Inputs, Var::Tasks, Var::Params, Var::Execution]);
/// Variables of a trigger's expressions: the execution does not exist yet.
const TRIGGER_VARS: VarSet = VarSet::of(&[Var::Event, Var::Params]);
/// Variables of a webhook trigger's expressions.
const WEBHOOK_VARS: VarSet = VarSet::of(&[Var::Request, Var::Params]);
/// What `concurrency.key` reads: the inputs (and `$params`).
const CONCURRENCY_VARS: VarSet = VarSet::of(&[Var::Inputs, Var::Params]);
/// What a schedule trigger's `inputs` reads: the fire (and `$params`).
const SCHEDULE_VARS: VarSet = VarSet::of(&[Var::Trigger, Var::Params]);
/// Fields of a task's result in `$tasks.<name>`: what the engine puts there (its tests
/// check that the two agree).
pub const RESULT_FIELDS: [&str; 6] = [
    "output",
    "status",
    "error",
    "attempts",
    "skip_reason",
    "recovered_by",
];

/// Where an expression is written, which decides its variables and its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    If,
    ForEach,
    With {
        fan_out: bool,
    },
    /// A parameter of `with` that its kind evaluates later, with variables of its own.
    Deferred {
        fan_out: bool,
        vars: VarSet,
    },
    Output {
        fan_out: bool,
    },
    WorkflowOutput,
    /// A trigger's `filter` and `inputs`: only the event that fired (and `$params`).
    Trigger,
    /// A webhook trigger's `dedup` and `inputs`: only the request (and `$params`).
    Webhook,
    /// A schedule trigger's `inputs`: only the fire (and `$params`).
    Schedule,
    /// `concurrency.key`: only the inputs (and `$params`).
    Concurrency,
}

impl Place {
    fn vars(self) -> VarSet {
        let fan = |vars: VarSet, on: bool| {
            if on {
                vars.with(Var::Item).with(Var::Index)
            } else {
                vars
            }
        };
        match self {
            Place::If | Place::ForEach | Place::WorkflowOutput => TASK_VARS,
            Place::Trigger => TRIGGER_VARS,
            Place::Webhook => WEBHOOK_VARS,
            Place::Schedule => SCHEDULE_VARS,
            Place::Concurrency => CONCURRENCY_VARS,
            Place::With { fan_out } => fan(TASK_VARS.with(Var::Secrets), fan_out),
            Place::Output { fan_out } => fan(TASK_VARS.with(Var::Output), fan_out),
            Place::Deferred { fan_out, vars } => {
                let mut all = fan(TASK_VARS, fan_out);
                for v in vars.iter() {
                    all = all.with(v);
                }
                all
            }
        }
    }

    fn not_allowed(self, var: Var) -> String {
        match (var, self) {
            (var, Place::Trigger) => format!(
                "`{var}` is not available in a trigger: it runs before the execution exists; read the event as `$event` (and `$params`)"
            ),
            (var, Place::Webhook) => format!(
                "`{var}` is not available in a webhook trigger: it runs before the execution exists; read the request as `$request` (and `$params`)"
            ),
            (var, Place::Schedule) => format!(
                "`{var}` is not available in a schedule trigger: it runs before the execution exists; read the fire as `$trigger` (`id`, `scheduled_at`, `fired_at`) and `$params`"
            ),
            (var, Place::Concurrency) => format!(
                "`{var}` is not available in `concurrency.key`: it is decided before the execution starts; read `$inputs` (and `$params`)"
            ),
            (Var::Request, _) => "`$request` is only available in a `webhook` trigger".to_string(),
            (Var::Trigger, _) => "`$trigger` is only available in a `schedule` trigger's `inputs`".to_string(),
            (Var::Item | Var::Index, Place::If) => format!(
                "`{var}` is not available in `if`: it is evaluated once, before the fan-out; filter the `for_each` list instead"
            ),
            (Var::Item | Var::Index, Place::ForEach) => {
                format!("`{var}` is not available in `for_each` itself, only in the task's `with` and `output`")
            }
            (Var::Item | Var::Index, _) => format!("`{var}` is only available in tasks with `for_each`"),
            (Var::Output, _) => "`$output` is only available in a task's `output:`".to_string(),
            (Var::Secrets, Place::Deferred { .. }) => {
                "`$secrets` is not available here: this parameter is evaluated inside the engine, where secrets are never given".to_string()
            }
            (Var::Event, _) => {
                "`$event` is only available where an event is judged (a `wait_event` task's `filter`, an `event` trigger)".to_string()
            }
            (Var::Secrets, _) => {
                "`$secrets` is only available in `with:`, where secrets are resolved inside the executor and never stored".to_string()
            }
            (var, _) => format!("`{var}` is not available here"),
        }
    }
}

impl Validator<'_, '_> {
    /// Compiles a string that must be exactly one expression.
    pub(super) fn single(
        &mut self,
        s: &str,
        path: &FieldPath,
        place: Place,
        task: Option<usize>,
    ) -> Option<Template> {
        let offset = self.locs.value(path);
        match Template::compile(s, place.vars()) {
            Ok(t @ Template::Single(_)) => {
                self.check_refs(&t, s, path, offset, task, place);
                Some(t)
            }
            Ok(_) => {
                self.error(
                    path,
                    offset,
                    "expected exactly one `${ }` expression here (no text around it)",
                );
                None
            }
            Err(errors) => {
                self.expr_errors(errors, s, path, offset, place);
                None
            }
        }
    }

    /// Compiles a value whose strings may hold expressions.
    pub(super) fn value(
        &mut self,
        value: &Value,
        path: &FieldPath,
        place: Place,
        task: Option<usize>,
    ) -> Option<ValueTemplate> {
        match ValueTemplate::compile(value, place.vars()) {
            Ok(t) => {
                let mut found: Vec<(Vec<PathSeg>, Template)> = Vec::new();
                t.for_each_template(&mut |segs, tmpl| found.push((segs.to_vec(), tmpl.clone())));
                for (segs, tmpl) in found {
                    let at = extend(path, &segs);
                    let offset = self.locs.value(&at);
                    let text = lookup(value, &segs)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    self.check_refs(&tmpl, &text, &at, offset, task, place);
                }
                Some(t)
            }
            Err(errors) => {
                for pe in errors {
                    let at = extend(path, &pe.path);
                    let offset = self.locs.value(&at);
                    let text = lookup(value, &pe.path)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    self.expr_errors(vec![pe.error], &text, &at, offset, place);
                }
                None
            }
        }
    }

    fn expr_errors(
        &mut self,
        errors: Vec<harmonia_expr::Error>,
        text: &str,
        path: &FieldPath,
        node: usize,
        place: Place,
    ) {
        for e in errors {
            let offset = e.span().map_or(node, |s| {
                self.diags.source.offset_in_scalar(node, text, s.start)
            });
            let message = match &e {
                harmonia_expr::Error::VariableNotAllowed { var, .. } => place.not_allowed(*var),
                other => other.to_string(),
            };
            self.error(path, offset, message);
        }
    }

    fn check_refs(
        &mut self,
        t: &Template,
        text: &str,
        path: &FieldPath,
        node: usize,
        task: Option<usize>,
        place: Place,
    ) {
        let programs: Vec<Program> = t.programs().cloned().collect();
        for p in programs {
            for r in p.task_refs() {
                let at = p.offset() + r.span.start;
                let offset = self.diags.source.offset_in_scalar(node, text, at);
                let Some(&target) = self.index.get(r.task.as_str()) else {
                    let hint = harmonia_expr::suggest(&r.task, self.names.iter().copied())
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    self.error(
                        path,
                        offset,
                        format!("`$tasks.{}` reads an unknown task{hint}", clip(&r.task)),
                    );
                    continue;
                };
                if let Some(field) = &r.field
                    && !RESULT_FIELDS.contains(&field.as_str())
                {
                    let hint = harmonia_expr::suggest(field, RESULT_FIELDS)
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    self.error(
                        path,
                        offset,
                        format!(
                            "a task result has no field `{}`{hint}; it has {}",
                            clip(field),
                            RESULT_FIELDS.join(", ")
                        ),
                    );
                }
                let Some(me) = task else {
                    if self.blocks[target] != "tasks" {
                        self.error(
                            path,
                            offset,
                            format!(
                                "`$tasks.{}` is a handler (in `{}`): the workflow's outputs are computed before handlers run",
                                clip(&r.task),
                                self.blocks[target]
                            ),
                        );
                    }
                    continue;
                };
                let handler = self.blocks[me] != "tasks";
                if handler && self.blocks[target] == "tasks" {
                    // A handler runs after every task of `tasks` has ended.
                    continue;
                }
                if handler && self.blocks[target] != self.blocks[me] {
                    self.error(
                        path,
                        offset,
                        format!(
                            "`$tasks.{}` is in `{}`, which may not run with `{}`: a handler reads the workflow's tasks and its own block's",
                            clip(&r.task),
                            self.blocks[target],
                            self.blocks[me]
                        ),
                    );
                } else if self.blocks[me] == "tasks" && self.blocks[target] != "tasks" {
                    self.error(
                        path,
                        offset,
                        format!(
                            "`$tasks.{}` is a handler (in `{}`): it runs after the workflow's tasks, so they cannot read it",
                            clip(&r.task),
                            self.blocks[target]
                        ),
                    );
                } else if target == me {
                    let hint = if matches!(place, Place::Output { .. }) {
                        "; in `output:`, the raw result is `$output`"
                    } else {
                        ""
                    };
                    self.error(
                        path,
                        offset,
                        format!("task `{}` cannot read its own result{hint}", clip(&r.task)),
                    );
                } else if !self.is_upstream(me, target) {
                    self.error(
                        path,
                        offset,
                        format!(
                            "`$tasks.{0}` is read here, but `{0}` is not upstream of `{1}`, so its result may not exist yet; add `{0}` to `needs` of `{1}`",
                            clip(&r.task),
                            clip(self.names[me])
                        ),
                    );
                }
            }
            for r in p.var_paths() {
                let at = p.offset() + r.span.start;
                let offset = self.diags.source.offset_in_scalar(node, text, at);
                self.check_declared(r, path, offset);
            }
        }
    }

    /// Reports a path read from `$inputs` or `$params` that their schema does not
    /// declare (see `declared`).
    fn check_declared(&mut self, r: &harmonia_expr::VarPath, path: &FieldPath, offset: usize) {
        let (schema, what, others) = match r.var {
            Var::Inputs => (self.inputs_schema, "the `inputs` schema", "inputs"),
            Var::Params => (
                self.params_schema,
                "the template's `parameters` schema",
                "parameters",
            ),
            _ => return,
        };
        let Some(u) = schema.and_then(|s| undeclared(s, &r.path)) else {
            return;
        };
        let read = &r.path[..u.depth];
        let shown = var_path_text(r.var, read);
        let key = match read.last() {
            Some(PathSeg::Key(k)) => harmonia_expr::clip(k),
            _ => return,
        };
        let hint = u
            .suggestion
            .map(|s| {
                let mut fixed = read.to_vec();
                fixed.pop();
                fixed.push(PathSeg::Key(s));
                format!(" (did you mean `{}`?)", var_path_text(r.var, &fixed))
            })
            .unwrap_or_default();
        if u.closed {
            self.error(
                path,
                offset,
                format!(
                    "`{shown}` reads `{key}`, which {what} does not declare, and it allows no other {others} (`additionalProperties: false`): the value is always null{hint}"
                ),
            );
        } else {
            self.diags.warning(
                path,
                offset,
                format!("`{shown}` reads `{key}`, which {what} does not declare{hint}"),
            );
        }
    }
}

/// `$inputs.a["b c"][0]`: a variable and a static path as an expression writes it,
/// each key clipped (see `harmonia_expr::clip`).
fn var_path_text(var: Var, path: &[PathSeg]) -> String {
    let mut out = var.name().to_string();
    for seg in path {
        match seg {
            PathSeg::Key(k) if is_identifier(k) => {
                out.push('.');
                out.push_str(&harmonia_expr::clip(k));
            }
            PathSeg::Key(k) => {
                out.push('[');
                out.push_str(&Value::String(harmonia_expr::clip(k).into_owned()).to_string());
                out.push(']');
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Whether `k` can follow a `.` in jq (`.name`, not `.["a-b"]`).
fn is_identifier(k: &str) -> bool {
    k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
