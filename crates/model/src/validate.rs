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

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use harmonia_expr::{PathSeg, Program, Template, ValueTemplate, Var, VarSet, clip};
use petgraph::graph::{DiGraph, NodeIndex};
use serde_json::Value;

use crate::declared::undeclared;
use crate::definition::{Join, Task, Workflow};
use crate::diagnostic::{Diagnostics, FieldPath, Locations};
use crate::json_errors::constraint_message;
use crate::plan::{Condition, ForEach, InputSchema, Plan, PlanTask, Retry};
use crate::task_types::TaskTypes;

/// Variables of expressions evaluated once per task, before any fan-out.
const TASK_VARS: VarSet = VarSet::of(&[Var::Inputs, Var::Tasks, Var::Params, Var::Execution]);
/// Fields of a task's result in `$tasks.<name>`.
const RESULT_FIELDS: [&str; 5] = ["output", "status", "error", "attempts", "skip_reason"];

/// Where an expression is written, which decides its variables and its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
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
                "`$event` is only available where an event is judged (a `wait_event` task's `filter`)".to_string()
            }
            (Var::Secrets, _) => {
                "`$secrets` is only available in `with:`, where secrets are resolved inside the executor and never stored".to_string()
            }
            (var, _) => format!("`{var}` is not available here"),
        }
    }
}

/// Validates `wf` and compiles it. `params` is the JSON Schema of the values `$params`
/// reads, when there is one (a template's `parameters`, for its body).
pub(crate) fn validate(
    wf: &Workflow,
    locs: &Locations,
    types: &TaskTypes,
    params: Option<&Value>,
    diags: &mut Diagnostics<'_>,
) -> Option<Plan> {
    let names: Vec<&str> = wf.tasks.keys().map(String::as_str).collect();
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut v = Validator {
        wf,
        locs,
        types,
        diags,
        names,
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
        FieldPath::root().key("tasks").key(self.names[i])
    }

    fn run(&mut self) -> Option<Plan> {
        self.check_name();
        self.resolve_needs();
        let order = self.order();
        let inputs = self.inputs();

        let mut tasks = Vec::with_capacity(self.names.len());
        for (i, task) in self.wf.tasks.values().enumerate() {
            tasks.push(self.task(i, task));
        }
        let outputs = self.outputs();

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
        })
    }

    fn check_name(&mut self) {
        let name = &self.wf.name;
        // An empty name is reported as missing by the reader (or is a template's body).
        if !name.is_empty()
            && let Some(message) = name_problem("workflow", name)
        {
            let path = FieldPath::root().key("name");
            let offset = self.locs.value(&path);
            self.error(&path, offset, message);
        }
        if let Some(t) = &self.wf.template
            && let Some(message) = name_problem("template", &t.name)
        {
            let path = FieldPath::root().key("template").key("name");
            let offset = self.locs.value(&path);
            self.error(&path, offset, message);
        }
    }

    fn resolve_needs(&mut self) {
        let mut all = Vec::with_capacity(self.names.len());
        for (i, task) in self.wf.tasks.values().enumerate() {
            let mut resolved = Vec::new();
            for (k, need) in task.needs.iter().enumerate() {
                let path = self.task_path(i).key("needs").index(k);
                let offset = self.locs.value(&path);
                match self.index.get(need.as_str()) {
                    Some(&j) if j == i => self.error(
                        &path,
                        offset,
                        format!("task `{}` cannot need itself", clip(need)),
                    ),
                    Some(&j) => resolved.push(j),
                    None => {
                        let hint = harmonia_expr::suggest(need, self.names.iter().copied())
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                        self.error(
                            &path,
                            offset,
                            format!("unknown task `{}` in `needs`{hint}", clip(need)),
                        );
                    }
                }
            }
            all.push(resolved);
        }
        self.needs = all;
    }

    /// A topological order, or `None` after reporting every cycle.
    fn order(&mut self) -> Option<Vec<usize>> {
        let mut g: DiGraph<usize, ()> = DiGraph::with_capacity(self.names.len(), 0);
        let nodes: Vec<NodeIndex> = (0..self.names.len()).map(|i| g.add_node(i)).collect();
        for (i, needs) in self.needs.iter().enumerate() {
            for &n in needs {
                g.add_edge(nodes[n], nodes[i], ());
            }
        }
        if let Ok(order) = petgraph::algo::toposort(&g, None) {
            return Some(order.into_iter().map(|n| g[n]).collect());
        }
        let mut sccs: Vec<Vec<usize>> = petgraph::algo::tarjan_scc(&g)
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| c.into_iter().map(|n| g[n]).collect())
            .collect();
        for scc in &mut sccs {
            scc.sort_unstable();
        }
        sccs.sort();
        for scc in sccs {
            let cycle = self.cycle_in(&scc);
            let start = cycle[0];
            let text: Vec<std::borrow::Cow<'_, str>> = cycle
                .iter()
                .chain([&start])
                .map(|&i| clip(self.names[i]))
                .collect();
            let path = self.task_path(start).key("needs");
            let offset = self.locs.key(&path);
            self.error(
                &path,
                offset,
                format!("dependency cycle: {}", text.join(" -> ")),
            );
        }
        None
    }

    /// A cycle through the strongly connected component `scc`, starting at its first
    /// task, following `needs` (so printed as "a needs b needs c needs a").
    fn cycle_in(&self, scc: &[usize]) -> Vec<usize> {
        let members: HashSet<usize> = scc.iter().copied().collect();
        let start = scc[0];
        let mut path = vec![start];
        let mut seen = HashSet::from([start]);
        let mut current = start;
        loop {
            let next = self.needs[current]
                .iter()
                .copied()
                .filter(|n| members.contains(n))
                .find(|n| *n == start || !seen.contains(n));
            match next {
                Some(n) if n == start => return path,
                Some(n) => {
                    seen.insert(n);
                    path.push(n);
                    current = n;
                }
                None => {
                    // Dead end inside the component: cut the path back to a node
                    // that has a way on. A component always has a cycle through start.
                    let Some(n) = self.needs[current]
                        .iter()
                        .copied()
                        .find(|n| members.contains(n))
                    else {
                        return path;
                    };
                    if let Some(pos) = path.iter().position(|p| *p == n) {
                        return path[pos..].to_vec();
                    }
                    return path;
                }
            }
        }
    }

    /// Whether `candidate` is reachable from `of` through `needs` (cycles included:
    /// a task in a cycle is its own ancestor, and the cycle is reported separately).
    fn is_upstream(&mut self, of: usize, candidate: usize) -> bool {
        if !self.ancestors.contains_key(&of) {
            let mut seen = HashSet::new();
            let mut stack: Vec<usize> = self.needs[of].clone();
            while let Some(n) = stack.pop() {
                if seen.insert(n) {
                    stack.extend(self.needs[n].iter().copied());
                }
            }
            self.ancestors.insert(of, seen);
        }
        self.ancestors
            .get(&of)
            .is_some_and(|a| a.contains(&candidate))
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
        Some(PlanTask {
            name: self.names[i].to_string(),
            kind: task.kind.clone(),
            needs: self.needs[i].clone(),
            dependents: Vec::new(),
            condition: condition?,
            join: task.join,
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

    fn check_type(&mut self, i: usize, task: &Task) {
        if task.kind.is_empty() {
            return; // Missing or malformed: reported by the reader.
        }
        let path = self.task_path(i);
        let Some(ty) = self.types.get(&task.kind).cloned() else {
            let p = path.key("type");
            let offset = self.locs.value(&p);
            let hint = harmonia_expr::suggest(&task.kind, self.types.names())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            let known: Vec<&str> = self.types.names().collect();
            self.error(
                &p,
                offset,
                format!(
                    "unknown task type `{}`{hint}; known types: {}",
                    clip(&task.kind),
                    known.join(", ")
                ),
            );
            return;
        };
        let with_path = path.key("with");
        let with = if task.with.is_null() && ty.schema().get("type").is_some_and(|t| t == "object")
        {
            Value::Object(serde_json::Map::new())
        } else {
            task.with.clone()
        };
        for e in ty.validator().iter_errors(&with) {
            let segs: Vec<PathSeg> = e
                .instance_path()
                .iter()
                .map(|s| match s {
                    jsonschema::paths::LocationSegment::Property(p) => PathSeg::Key(p.into_owned()),
                    jsonschema::paths::LocationSegment::Index(i) => PathSeg::Index(i),
                })
                .collect();
            if is_dynamic(&with, &segs) {
                continue;
            }
            let at = extend(&with_path, &segs);
            self.param_error(&ty, &at, &e);
        }
        for problem in ty.check(&task.with) {
            let segs = pointer_segs(&problem.pointer, &task.with);
            let at = extend(&with_path, &segs);
            let mut offset = self.locs.value(&at);
            if let (Some(span), Some(Value::String(s))) = (&problem.span, lookup(&task.with, &segs))
            {
                offset = self.diags.source.offset_in_scalar(offset, s, span.start);
            }
            self.error(&at, offset, problem.message);
        }
    }

    fn param_error(
        &mut self,
        ty: &crate::task_types::TaskType,
        at: &FieldPath,
        e: &jsonschema::ValidationError<'_>,
    ) {
        use jsonschema::error::ValidationErrorKind as K;
        let name = ty.name();
        match e.kind() {
            K::Required { property } => {
                let prop = property.as_str().unwrap_or_default();
                let offset = self.locs.key(at);
                self.error(
                    at,
                    offset,
                    format!("missing required parameter `{prop}` for a `{name}` task"),
                );
            }
            K::AdditionalProperties { unexpected } => {
                let allowed = allowed_properties(ty.schema(), e.schema_path().as_str());
                for prop in unexpected {
                    let p = at.key(prop);
                    let offset = self.locs.key(&p);
                    let hint = harmonia_expr::suggest(prop, allowed.iter().map(String::as_str))
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_else(|| format!("; expected one of: {}", allowed.join(", ")));
                    self.error(
                        &p,
                        offset,
                        format!(
                            "unknown parameter `{}` for a `{name}` task{hint}",
                            clip(prop)
                        ),
                    );
                }
            }
            K::Type { .. } => {
                let offset = self.locs.value(at);
                self.error(at, offset, constraint_message(e));
            }
            K::Enum { options } => {
                let names: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let found = e
                    .instance()
                    .as_str()
                    .map_or_else(|| e.instance().to_string(), str::to_string);
                let hint = harmonia_expr::suggest(&found, names.iter().map(String::as_str))
                    .or_else(|| {
                        names
                            .iter()
                            .find(|n| n.eq_ignore_ascii_case(&found))
                            .cloned()
                    })
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                let offset = self.locs.value(at);
                self.error(
                    at,
                    offset,
                    format!(
                        "unknown value `{}`{hint}; expected one of: {}",
                        clip(&found),
                        names.join(", ")
                    ),
                );
            }
            _ => {
                let offset = self.locs.value(at);
                self.error(at, offset, constraint_message(e));
            }
        }
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

    /// Compiles a string that must be exactly one expression.
    fn single(
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
    fn value(
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
                let Some(me) = task else { continue };
                if target == me {
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

/// Checks a JSON Schema that describes an object of named values (a workflow's
/// `inputs`, a template's `parameters`) at `base`, and compiles it. `what` names the
/// values in messages ("inputs", "parameters").
pub(crate) fn object_schema(
    schema: &Value,
    base: &FieldPath,
    what: &str,
    locs: &Locations,
    diags: &mut Diagnostics<'_>,
) -> Option<Arc<jsonschema::Validator>> {
    let mut ok = true;
    match jsonschema::meta::validator_for(schema) {
        Ok(meta) => {
            for e in meta.iter_errors(schema) {
                ok = false;
                let path = json_path(base, e.instance_path());
                let offset = locs.value(&path);
                diags.error(&path, offset, schema_message(&e));
            }
        }
        Err(e) => {
            ok = false;
            let offset = locs.value(base);
            diags.error(base, offset, format!("invalid JSON Schema: {e}"));
        }
    }
    if let Some(t) = schema.get("type")
        && t != "object"
    {
        ok = false;
        let path = base.key("type");
        let offset = locs.value(&path);
        diags.error(
            &path,
            offset,
            format!(
                "{what} are a mapping of names to values: `type` must be `object`, found {}",
                clip(&t.to_string())
            ),
        );
    }
    if !ok {
        return None;
    }
    match jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
    {
        Ok(v) => Some(Arc::new(v)),
        Err(e) => {
            let offset = locs.value(base);
            diags.error(base, offset, format!("invalid JSON Schema: {e}"));
            None
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

/// Whether `name` is a valid workflow (or template) name: `[a-z0-9][a-z0-9_-]*`, at
/// most 128 characters.
pub(crate) fn is_valid_name(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// The name `name` made valid, as a suggestion: lowercase, other characters as `-`.
pub(crate) fn fix_name(name: &str) -> String {
    let fixed: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut out = String::with_capacity(fixed.len());
    for c in fixed.chars() {
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let trimmed = out.trim_matches(|c| c == '-' || c == '_');
    trimmed.chars().take(128).collect()
}

/// What is wrong with a workflow or template name (`what`), if anything.
pub(crate) fn name_problem(what: &str, name: &str) -> Option<String> {
    if is_valid_name(name) {
        return None;
    }
    Some(format!(
        "invalid {what} name `{}`: use lowercase letters, digits, `_` and `-`, starting with a letter or digit (at most 128); try `{}`",
        clip(name),
        fix_name(name)
    ))
}

/// Whether the value at `segs`, or a value above it, is a string with expressions
/// (only known at run time).
fn is_dynamic(root: &Value, segs: &[PathSeg]) -> bool {
    let is_expr = |v: &Value| v.as_str().is_some_and(Template::has_expressions);
    let mut v = root;
    if is_expr(v) {
        return true;
    }
    for seg in segs {
        match lookup(v, std::slice::from_ref(seg)) {
            Some(next) => v = next,
            None => return false,
        }
        if is_expr(v) {
            return true;
        }
    }
    false
}

fn lookup<'v>(root: &'v Value, segs: &[PathSeg]) -> Option<&'v Value> {
    segs.iter().try_fold(root, |v, seg| match (seg, v) {
        (PathSeg::Key(k), Value::Object(m)) => m.get(k),
        (PathSeg::Index(n), Value::Array(a)) => a.get(*n),
        _ => None,
    })
}

fn extend(base: &FieldPath, segs: &[PathSeg]) -> FieldPath {
    segs.iter().fold(base.clone(), |p, s| match s {
        PathSeg::Key(k) => p.key(k),
        PathSeg::Index(i) => p.index(*i),
    })
}

/// Segments of a JSON pointer, resolved against `root` (numbers index arrays).
fn pointer_segs(pointer: &str, root: &Value) -> Vec<PathSeg> {
    let mut out = Vec::new();
    let mut v = Some(root);
    for raw in pointer.split('/').skip(1) {
        let key = raw.replace("~1", "/").replace("~0", "~");
        let seg = match (v, key.parse::<usize>()) {
            (Some(Value::Array(_)), Ok(n)) => PathSeg::Index(n),
            _ => PathSeg::Key(key),
        };
        v = v.and_then(|v| lookup(v, std::slice::from_ref(&seg)));
        out.push(seg);
    }
    out
}

pub(crate) fn json_path(base: &FieldPath, loc: &jsonschema::paths::Location) -> FieldPath {
    loc.iter().fold(base.clone(), |p, s| match s {
        jsonschema::paths::LocationSegment::Property(k) => p.key(&k),
        jsonschema::paths::LocationSegment::Index(i) => p.index(i),
    })
}

/// The property names allowed where an `additionalProperties` error was raised.
fn allowed_properties(schema: &Value, schema_path: &str) -> Vec<String> {
    let parent = schema_path.rsplit_once('/').map_or("", |(p, _)| p);
    schema
        .pointer(parent)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

const JSON_TYPES: [&str; 7] = [
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// A meta-schema violation in words: the common case (a misspelled `type`) by name.
pub(crate) fn schema_message(e: &jsonschema::ValidationError<'_>) -> String {
    let at_type = matches!(
        e.instance_path().iter().last(),
        Some(jsonschema::paths::LocationSegment::Property(p)) if p == "type"
    );
    if at_type && let Some(found) = e.instance().as_str() {
        let hint = harmonia_expr::suggest(found, JSON_TYPES)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return format!(
            "invalid JSON Schema: unknown type `{}`{hint}; expected one of: {}",
            clip(found),
            JSON_TYPES.join(", ")
        );
    }
    format!("invalid JSON Schema: {}", constraint_message(e))
}
