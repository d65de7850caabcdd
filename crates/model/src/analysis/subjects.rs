//! What every check walks: the plan's tasks, each with its definition as written, the
//! field path it is written at, and its compiled expressions; plus the timings, cleaned.
//!
//! A plan holds the workflow's tasks, then its handlers, then compensations
//! (`NAME.compensate`) and fallbacks (`NAME.fallback`), one index space. A [`Subject`]
//! maps an index back to what the user wrote and where (`tasks.fetch`,
//! `tasks.fetch.fallback`, `on_failure.alert`), and carries a rank (the plan index of
//! the task it belongs to) so that findings sort in definition order.

use std::collections::BTreeMap;

use harmonia_expr::{Program, Template, ValueTemplate};

use super::Timing;
use crate::definition::{Task, Workflow};
use crate::diagnostic::FieldPath;
use crate::plan::{Condition, ForEach, Phase, Plan, PlanTask};

/// One task of the plan, with what the user wrote.
#[derive(Debug)]
pub(super) struct Subject<'a> {
    /// Its index in the plan.
    pub(super) index: usize,
    /// Its compiled form.
    pub(super) plan: &'a PlanTask,
    /// Its definition, as written.
    pub(super) def: &'a Task,
    /// Where it is written (`tasks.fetch`, `tasks.fetch.fallback`, `finally.cleanup`).
    pub(super) path: FieldPath,
    /// The plan index of the task it belongs to (itself, or the task a fallback or
    /// compensation is of): definition order.
    pub(super) rank: usize,
}

impl<'a> Subject<'a> {
    /// Whether it is one of the workflow's `tasks` (not a fallback, compensation or
    /// handler).
    pub(super) fn in_tasks(&self) -> bool {
        self.plan.phase == Phase::Main && self.plan.falls_back_for.is_none()
    }

    /// Its name as the plan knows it (`fetch`, `fetch.fallback`).
    pub(super) fn name(&self) -> &str {
        &self.plan.name
    }

    /// Every expression it holds, with the field it is written in.
    pub(super) fn programs(&self) -> Vec<(FieldPath, &'a Program)> {
        let mut out = Vec::new();
        let plan: &'a PlanTask = self.plan;
        if let Condition::When(t) = &plan.condition {
            template(&mut out, self.path.key("if"), t);
        }
        match &plan.for_each {
            Some(ForEach::Expr(t)) => template(&mut out, self.path.key("for_each"), t),
            Some(ForEach::Items(v)) => value(&mut out, self.path.key("for_each"), v),
            None => {}
        }
        value(&mut out, self.path.key("with"), &plan.with);
        for (key, v) in &plan.deferred {
            value(&mut out, self.path.key("with").key(key), v);
        }
        if let Some(t) = &plan.output {
            template(&mut out, self.path.key("output"), t);
        }
        out
    }
}

/// Adds the programs of `t`, written at `path`.
fn template<'a>(out: &mut Vec<(FieldPath, &'a Program)>, path: FieldPath, t: &'a Template) {
    for p in t.programs() {
        out.push((path.clone(), p));
    }
}

/// Adds the programs of every template in `v`, written at `path` and below.
fn value<'a>(out: &mut Vec<(FieldPath, &'a Program)>, path: FieldPath, v: &'a ValueTemplate) {
    match v {
        ValueTemplate::Const(_) => {}
        ValueTemplate::Template(t) => template(out, path, t),
        ValueTemplate::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                value(out, path.index(i), item);
            }
        }
        ValueTemplate::Object(entries) => {
            for (k, item) in entries {
                value(out, path.key(k), item);
            }
        }
    }
}

/// The plan, its subjects, and the timings by task.
#[derive(Debug)]
pub(super) struct Context<'a> {
    /// The plan analyzed.
    pub(super) plan: &'a Plan,
    /// The definition.
    pub(super) wf: &'a Workflow,
    /// One per plan task, by plan index (`None` only if the plan and its definition
    /// disagree, which a plan built by `load` never does).
    pub(super) subjects: Vec<Option<Subject<'a>>>,
    /// The valid samples of each task of `tasks` that has some, in milliseconds.
    pub(super) samples: BTreeMap<String, Vec<f64>>,
    /// Names in the timings that are no task of `tasks`, sorted.
    pub(super) unknown_timings: Vec<String>,
}

impl<'a> Context<'a> {
    /// Builds the context of `plan` with `timings`.
    pub(super) fn new(plan: &'a Plan, timings: &[Timing]) -> Context<'a> {
        let wf: &Workflow = &plan.workflow;
        let subjects: Vec<Option<Subject<'a>>> = plan
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| subject(wf, plan, i, t))
            .collect();
        let mut samples: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut unknown = Vec::new();
        for t in timings {
            if !wf.tasks.contains_key(&t.task) {
                unknown.push(t.task.clone());
                continue;
            }
            let valid = t
                .samples_ms
                .iter()
                .copied()
                .filter(|x| x.is_finite() && *x >= 0.0);
            samples.entry(t.task.clone()).or_default().extend(valid);
        }
        samples.retain(|_, v| !v.is_empty());
        unknown.sort();
        unknown.dedup();
        Context {
            plan,
            wf,
            subjects,
            samples,
            unknown_timings: unknown,
        }
    }

    /// Every subject, in plan order.
    pub(super) fn all(&self) -> impl Iterator<Item = &Subject<'a>> {
        self.subjects.iter().flatten()
    }

    /// The subjects of the workflow's `tasks`, in definition order.
    pub(super) fn tasks(&self) -> impl Iterator<Item = &Subject<'a>> {
        self.all().filter(|s| s.in_tasks())
    }

    /// The subject at plan index `i`.
    pub(super) fn at(&self, i: usize) -> Option<&Subject<'a>> {
        self.subjects.get(i).and_then(Option::as_ref)
    }

    /// The valid samples of task `name`, if it has any.
    pub(super) fn samples(&self, name: &str) -> Option<&[f64]> {
        self.samples.get(name).map(Vec::as_slice)
    }
}

/// The subject of plan task `i`: its definition and path.
fn subject<'a>(wf: &'a Workflow, plan: &Plan, i: usize, t: &'a PlanTask) -> Option<Subject<'a>> {
    let owner = |o: usize| plan.tasks.get(o).map(|p| p.name.as_str());
    let tasks = FieldPath::root().key("tasks");
    let (def, path, rank): (&Task, FieldPath, usize) = match t.phase {
        Phase::Compensate => {
            let o = t.compensates?;
            let name = owner(o)?;
            let def = wf.tasks.get(name)?.compensate.as_deref()?;
            (def, tasks.key(name).key("compensate"), o)
        }
        Phase::Main => match t.falls_back_for {
            Some(o) => {
                let name = owner(o)?;
                let def = wf.tasks.get(name)?.fallback.as_deref()?;
                (def, tasks.key(name).key("fallback"), o)
            }
            None => (wf.tasks.get(&t.name)?, tasks.key(&t.name), i),
        },
        Phase::OnFailure | Phase::OnSuccess | Phase::Finally => {
            let block = match t.phase {
                Phase::OnFailure => "on_failure",
                Phase::OnSuccess => "on_success",
                _ => "finally",
            };
            let def = wf.handlers(block).get(&t.name)?;
            (def, FieldPath::root().key(block).key(&t.name), i)
        }
    };
    Some(Subject {
        index: i,
        plan: t,
        def,
        path,
        rank,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::load_yaml;
    use super::*;

    #[test]
    fn subjects_map_plan_tasks_back_to_their_definitions() {
        let plan = load_yaml(
            "name: w
tasks:
  a:
    type: set
    with: {x: '${ $inputs.x }'}
    fallback: {type: set, with: 1}
    compensate: {type: set, with: 2}
  b: {type: set, needs: a, if: '${ $tasks.a.output != null }', with: 3, output: '${ $output }'}
finally:
  z: {type: set, with: done}
",
        );
        let cx = Context::new(&plan, &[]);
        let paths: Vec<(String, usize)> = cx.all().map(|s| (s.path.to_string(), s.rank)).collect();
        assert_eq!(
            paths,
            vec![
                ("tasks.a".to_string(), 0),
                ("tasks.b".to_string(), 1),
                ("finally.z".to_string(), 2),
                ("tasks.a.compensate".to_string(), 0),
                ("tasks.a.fallback".to_string(), 0),
            ]
        );
        let names: Vec<&str> = cx.tasks().map(Subject::name).collect();
        assert_eq!(names, ["a", "b"]);
        let a: Vec<String> = cx.subjects[0]
            .as_ref()
            .expect("a")
            .programs()
            .iter()
            .map(|(p, _)| p.to_string())
            .collect();
        assert_eq!(a, ["tasks.a.with.x"]);
        let b: Vec<String> = cx.subjects[1]
            .as_ref()
            .expect("b")
            .programs()
            .iter()
            .map(|(p, _)| p.to_string())
            .collect();
        assert_eq!(b, ["tasks.b.if", "tasks.b.output"]);
    }

    #[test]
    fn timings_are_cleaned_and_merged() {
        let plan = load_yaml("name: w\ntasks:\n  a: {type: set, with: 1}\n");
        let timings = [
            Timing {
                task: "a".into(),
                samples_ms: vec![1.0, f64::NAN, -3.0, f64::INFINITY],
            },
            Timing {
                task: "a".into(),
                samples_ms: vec![2.0],
            },
            Timing {
                task: "ghost".into(),
                samples_ms: vec![5.0],
            },
        ];
        let cx = Context::new(&plan, &timings);
        assert_eq!(cx.samples("a"), Some(&[1.0, 2.0][..]));
        assert_eq!(cx.unknown_timings, ["ghost"]);
        assert_eq!(cx.at(0).map(Subject::name), Some("a"));
    }
}
