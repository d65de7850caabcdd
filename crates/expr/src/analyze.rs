//! Static analysis of a parsed jq program.
//!
//! Finds what validation needs to know without running anything:
//! - the tasks an expression reads (`$tasks.fetch`, `$tasks["fetch"].output`), with the
//!   span of each reference, so that reading a task that is not upstream is an error at
//!   validation time;
//! - whether `$tasks` is also read in a way that cannot be resolved statically
//!   (`$tasks[$name]`, `$tasks | keys`);
//! - which of the context's variables it reads at all (an expression reading
//!   `$secrets` computes tainted values, see `program`);
//! - the paths read from `$inputs`, `$params` and `$secrets` (`$inputs.customer.name`,
//!   `$params["region"]`, `$inputs.items[0]`), as far as they are static, with the span
//!   of each reference, so that a key the `inputs` (or `parameters`) schema does not
//!   declare can be reported at validation time;
//! - user-defined recursive functions, which are rejected: they are the one way to loop
//!   that would bypass the deadline checks of `limits`.
//!
//! A variable rebound by the program (`. as $tasks | ...`, `def f($inputs): ...`) is not
//! the context's variable; references under such a binding are ignored.

use std::ops::Range;

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Def, Pattern, Term};
use jaq_core::path::Part;

use crate::{PathSeg, Var, VarSet};

/// A static reference to a task's result: `$tasks.<task>[.<field>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRef {
    /// The task's name.
    pub task: String,
    /// The field read from it (`output`, `status`, `error`, `attempts`), when static.
    pub field: Option<String>,
    /// Where the reference is, in bytes of the program's source.
    pub span: Range<usize>,
}

/// A static path read from `$inputs` or `$params`: `$inputs.customer.name` is
/// `Inputs` with `[Key("customer"), Key("name")]`.
///
/// The path stops at the first step that is not a literal key or index
/// (`$inputs.a[$i].b` is `[Key("a")]`); a variable read whole (`$inputs`) or only
/// dynamically (`$inputs[$k]`) has no reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarPath {
    /// `Var::Inputs`, `Var::Params` or `Var::Secrets`.
    pub var: Var,
    /// The keys and indices read, outermost first (never empty).
    pub path: Vec<PathSeg>,
    /// Where the reference is, from the variable to the end of the text of its last
    /// static step (a quoted key's closing quote is not included), in bytes of the
    /// program's source.
    pub span: Range<usize>,
}

/// The variables whose static paths [`analyze`] collects.
const PATH_VARS: [Var; 3] = [Var::Inputs, Var::Params, Var::Secrets];

/// What [`analyze`] finds.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    pub(crate) task_refs: Vec<TaskRef>,
    pub(crate) var_paths: Vec<VarPath>,
    /// The context's variables the program reads at all (statically or not).
    pub(crate) reads: VarSet,
    pub(crate) dynamic_tasks: bool,
    /// Recursive definitions: name and the span of the name in the source.
    pub(crate) recursive_defs: Vec<(String, Range<usize>)>,
}

/// Analyzes a parsed program whose slices point into `code`.
pub(crate) fn analyze(code: &str, term: &Term<&str>) -> Analysis {
    let mut w = Walker {
        code,
        bound: Vec::new(),
        out: Analysis::default(),
    };
    w.term(term);
    w.out
}

struct Walker<'c> {
    code: &'c str,
    /// Variables bound by the program itself, innermost last.
    bound: Vec<String>,
    out: Analysis,
}

impl Walker<'_> {
    fn span(&self, part: &str) -> Range<usize> {
        let start = (part.as_ptr() as usize).wrapping_sub(self.code.as_ptr() as usize);
        if start <= self.code.len() && start + part.len() <= self.code.len() {
            start..start + part.len()
        } else {
            0..0
        }
    }

    /// Notes that the program reads `$name`, if it is the context's variable.
    fn read(&mut self, name: &str) {
        if self.is_context(name)
            && let Some(var) = Var::from_name(name)
        {
            self.out.reads = self.out.reads.with(var);
        }
    }

    /// Whether `$name` here is the context's variable, not one the program bound.
    fn is_context(&self, name: &str) -> bool {
        !self.bound.iter().any(|b| b == name)
    }

    fn with_bound<T>(&mut self, names: Vec<String>, f: impl FnOnce(&mut Self) -> T) -> T {
        let n = names.len();
        self.bound.extend(names);
        let out = f(self);
        self.bound.truncate(self.bound.len() - n);
        out
    }

    fn term(&mut self, t: &Term<&str>) {
        match t {
            Term::Id | Term::Recurse | Term::Num(_) | Term::Break(_) => {}
            Term::Str(_, parts) => self.str_parts(parts),
            Term::Arr(a) => {
                if let Some(a) = a {
                    self.term(a)
                }
            }
            Term::Obj(entries) => {
                for (k, v) in entries {
                    self.term(k);
                    if let Some(v) = v {
                        self.term(v);
                    }
                }
            }
            Term::Neg(x) => self.term(x),
            Term::BinOp(l, op, r) => {
                self.term(l);
                if let BinaryOp::Pipe(Some(p)) = op {
                    self.pattern_keys(p);
                    let names = pattern_vars(p);
                    self.with_bound(names, |w| w.term(r));
                } else {
                    self.term(r);
                }
            }
            Term::Label(_, x) => self.term(x),
            Term::Fold(_, src, pat, args) => {
                self.term(src);
                self.pattern_keys(pat);
                let names = pattern_vars(pat);
                self.with_bound(names, |w| {
                    for a in args {
                        w.term(a);
                    }
                });
            }
            Term::TryCatch(t, c) => {
                self.term(t);
                if let Some(c) = c {
                    self.term(c);
                }
            }
            Term::IfThenElse(branches, els) => {
                for (c, b) in branches {
                    self.term(c);
                    self.term(b);
                }
                if let Some(e) = els {
                    self.term(e);
                }
            }
            Term::Def(defs, body) => {
                for d in defs {
                    self.def(d);
                }
                self.term(body);
            }
            Term::Call(_, args) => {
                for a in args {
                    self.term(a);
                }
            }
            Term::Var(v) => {
                self.read(v);
                if *v == "$tasks" && self.is_context(v) {
                    // `$tasks` not followed by a static key.
                    self.out.dynamic_tasks = true;
                }
            }
            Term::Path(head, path) => {
                if let Term::Var(v) = &**head {
                    self.read(v);
                }
                match &**head {
                    Term::Var(v) if *v == "$tasks" && self.is_context(v) => {
                        self.tasks_path(v, &path.0);
                    }
                    Term::Var(v) if self.is_context(v) => {
                        if let Some(var) = PATH_VARS.into_iter().find(|p| p.name() == *v) {
                            self.var_path(var, v, &path.0);
                        }
                    }
                    _ => self.term(head),
                }
                for (part, _) in &path.0 {
                    self.part(part);
                }
            }
        }
    }

    fn tasks_path(&mut self, var: &str, parts: &[(Part<Term<&str>>, jaq_core::path::Opt)]) {
        let task = parts.first().and_then(|(p, _)| static_key(p));
        let Some((task, task_end)) = task else {
            self.out.dynamic_tasks = true;
            return;
        };
        let field = parts.get(1).and_then(|(p, _)| static_key(p));
        let start = self.span(var).start;
        let end = field
            .as_ref()
            .map_or(task_end, |(_, e)| *e)
            .map_or(start + var.len(), |s| self.span(s).end);
        self.out.task_refs.push(TaskRef {
            task,
            field: field.map(|(f, _)| f),
            span: start..end.max(start),
        });
    }

    fn var_path(
        &mut self,
        var: Var,
        name: &str,
        parts: &[(Part<Term<&str>>, jaq_core::path::Opt)],
    ) {
        let start = self.span(name).start;
        let mut end = start + name.len();
        let mut path = Vec::new();
        for (part, _) in parts {
            let Some((seg, last)) = static_step(part) else {
                break;
            };
            if let Some(last) = last {
                end = end.max(self.span(last).end);
            }
            path.push(seg);
        }
        if !path.is_empty() {
            self.out.var_paths.push(VarPath {
                var,
                path,
                span: start..end,
            });
        }
    }

    fn part(&mut self, p: &Part<Term<&str>>) {
        match p {
            Part::Index(i) => self.term(i),
            Part::Range(a, b) => {
                if let Some(a) = a {
                    self.term(a);
                }
                if let Some(b) = b {
                    self.term(b);
                }
            }
        }
    }

    fn str_parts(&mut self, parts: &[StrPart<&str, Term<&str>>]) {
        for p in parts {
            if let StrPart::Term(t) = p {
                self.term(t);
            }
        }
    }

    fn pattern_keys(&mut self, p: &Pattern<&str>) {
        match p {
            Pattern::Var(_) => {}
            Pattern::Arr(ps) => ps.iter().for_each(|p| self.pattern_keys(p)),
            Pattern::Obj(entries) => {
                for (k, v) in entries {
                    self.term(k);
                    self.pattern_keys(v);
                }
            }
        }
    }

    fn def(&mut self, d: &Def<&str, Term<&str>>) {
        if calls(&d.body, d.name, d.args.len()) {
            let span = self.span(d.name);
            self.out.recursive_defs.push((d.name.to_string(), span));
        }
        let vars = d
            .args
            .iter()
            .filter(|a| a.starts_with('$'))
            .map(|a| a.to_string())
            .collect();
        self.with_bound(vars, |w| w.term(&d.body));
    }
}

/// The static key of a path part (`.name`, `["name"]`), with the slice that ends it.
fn static_key<'s>(p: &Part<Term<&'s str>>) -> Option<(String, Option<&'s str>)> {
    let Part::Index(Term::Str(None, parts)) = p else {
        return None;
    };
    let mut key = String::new();
    let mut last = None;
    for part in parts {
        match part {
            StrPart::Str(s) => {
                key.push_str(s);
                last = Some(*s);
            }
            StrPart::Char(c) => key.push(*c),
            StrPart::Term(_) => return None,
        }
    }
    Some((key, last))
}

/// A path part that is a literal key (`.name`, `["name"]`) or a literal index (`[0]`),
/// with the slice that ends it.
fn static_step<'s>(p: &Part<Term<&'s str>>) -> Option<(PathSeg, Option<&'s str>)> {
    if let Part::Index(Term::Num(n)) = p {
        return n
            .parse::<usize>()
            .ok()
            .map(|i| (PathSeg::Index(i), Some(*n)));
    }
    static_key(p).map(|(key, last)| (PathSeg::Key(key), last))
}

fn pattern_vars(p: &Pattern<&str>) -> Vec<String> {
    match p {
        Pattern::Var(v) => vec![v.to_string()],
        Pattern::Arr(ps) => ps.iter().flat_map(pattern_vars).collect(),
        Pattern::Obj(entries) => entries.iter().flat_map(|(_, v)| pattern_vars(v)).collect(),
    }
}

/// Adds to `out` the name of every filter `t` calls, formats (`@base64`) included.
/// Arity is ignored: the result may name more filters than are called, never fewer.
pub(crate) fn called_names<'s>(t: &Term<&'s str>, out: &mut std::collections::HashSet<&'s str>) {
    let mut go = |t: &Term<&'s str>| called_names(t, out);
    match t {
        Term::Id | Term::Recurse | Term::Num(_) | Term::Break(_) | Term::Var(_) => {}
        Term::Str(fmt, parts) => {
            if let Some(f) = fmt {
                out.insert(f);
            }
            for p in parts {
                if let StrPart::Term(t) = p {
                    called_names(t, out);
                }
            }
        }
        Term::Arr(a) => {
            if let Some(a) = a {
                go(a);
            }
        }
        Term::Obj(entries) => {
            for (k, v) in entries {
                called_names(k, out);
                if let Some(v) = v {
                    called_names(v, out);
                }
            }
        }
        Term::Neg(x) | Term::Label(_, x) => go(x),
        Term::BinOp(l, op, r) => {
            if let BinaryOp::Pipe(Some(p)) = op {
                pattern_calls(p, out);
            }
            called_names(l, out);
            called_names(r, out);
        }
        Term::Fold(_, src, pat, args) => {
            called_names(src, out);
            pattern_calls(pat, out);
            for a in args {
                called_names(a, out);
            }
        }
        Term::TryCatch(t, c) => {
            called_names(t, out);
            if let Some(c) = c {
                called_names(c, out);
            }
        }
        Term::IfThenElse(branches, els) => {
            for (c, b) in branches {
                called_names(c, out);
                called_names(b, out);
            }
            if let Some(e) = els {
                called_names(e, out);
            }
        }
        Term::Def(defs, body) => {
            for d in defs {
                called_names(&d.body, out);
            }
            called_names(body, out);
        }
        Term::Call(name, args) => {
            out.insert(name);
            for a in args {
                called_names(a, out);
            }
        }
        Term::Path(head, path) => {
            called_names(head, out);
            for (p, _) in &path.0 {
                match p {
                    Part::Index(i) => called_names(i, out),
                    Part::Range(a, b) => {
                        if let Some(a) = a {
                            called_names(a, out);
                        }
                        if let Some(b) = b {
                            called_names(b, out);
                        }
                    }
                }
            }
        }
    }
}

fn pattern_calls<'s>(p: &Pattern<&'s str>, out: &mut std::collections::HashSet<&'s str>) {
    match p {
        Pattern::Var(_) => {}
        Pattern::Arr(ps) => ps.iter().for_each(|p| pattern_calls(p, out)),
        Pattern::Obj(entries) => {
            for (k, v) in entries {
                called_names(k, out);
                pattern_calls(v, out);
            }
        }
    }
}

/// Whether `t` calls the filter `name` with `arity` arguments.
fn calls(t: &Term<&str>, name: &str, arity: usize) -> bool {
    let c = |t: &Term<&str>| calls(t, name, arity);
    match t {
        Term::Id | Term::Recurse | Term::Num(_) | Term::Break(_) | Term::Var(_) => false,
        Term::Str(_, parts) => parts.iter().any(|p| match p {
            StrPart::Term(t) => c(t),
            _ => false,
        }),
        Term::Arr(a) => a.as_deref().is_some_and(c),
        Term::Obj(entries) => entries
            .iter()
            .any(|(k, v)| c(k) || v.as_ref().is_some_and(c)),
        Term::Neg(x) | Term::Label(_, x) => c(x),
        Term::BinOp(l, _, r) => c(l) || c(r),
        Term::Fold(_, src, _, args) => c(src) || args.iter().any(c),
        Term::TryCatch(t, k) => c(t) || k.as_deref().is_some_and(c),
        Term::IfThenElse(branches, els) => {
            branches.iter().any(|(a, b)| c(a) || c(b)) || els.as_deref().is_some_and(c)
        }
        Term::Def(defs, body) => defs.iter().any(|d| c(&d.body)) || c(body),
        Term::Call(n, args) => (*n == name && args.len() == arity) || args.iter().any(c),
        Term::Path(head, path) => {
            c(head)
                || path.0.iter().any(|(p, _)| match p {
                    Part::Index(i) => c(i),
                    Part::Range(a, b) => a.as_ref().is_some_and(c) || b.as_ref().is_some_and(c),
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: &str) -> Analysis {
        let term = jaq_core::load::parse(code, |p| p.term()).expect("parses");
        analyze(code, &term)
    }

    #[test]
    fn finds_static_task_references() {
        let code = r#"$tasks.fetch.output + $tasks["b-c"].status + ($tasks.d | .x)"#;
        let a = run(code);
        let refs: Vec<_> = a
            .task_refs
            .iter()
            .map(|r| (r.task.as_str(), r.field.as_deref(), &code[r.span.clone()]))
            .collect();
        assert_eq!(
            refs,
            vec![
                ("fetch", Some("output"), "$tasks.fetch.output"),
                ("b-c", Some("status"), r#"$tasks["b-c"].status"#),
                ("d", None, "$tasks.d"),
            ]
        );
        assert!(!a.dynamic_tasks);
    }

    #[test]
    fn dynamic_access_is_flagged() {
        assert!(run("$tasks | keys").dynamic_tasks);
        assert!(run("$tasks[$inputs.name]").dynamic_tasks);
        assert!(!run("$inputs.x").dynamic_tasks);
    }

    #[test]
    fn rebound_tasks_is_not_the_context() {
        let a = run("{} as $tasks | $tasks.nope");
        assert!(a.task_refs.is_empty());
        assert!(!a.dynamic_tasks);
        let a = run("def f($tasks): $tasks.x; f(1) + $tasks.y.output");
        assert_eq!(a.task_refs.len(), 1);
        assert_eq!(a.task_refs[0].task, "y");
    }

    #[test]
    fn references_inside_strings_and_objects() {
        let a = run(r#"{a: "\($tasks.one.output)", ($tasks.two.output): 1}"#);
        let names: Vec<_> = a.task_refs.iter().map(|r| r.task.as_str()).collect();
        assert_eq!(names, vec!["one", "two"]);
    }

    fn paths(code: &str) -> Vec<(Var, Vec<PathSeg>, &str)> {
        run(code)
            .var_paths
            .into_iter()
            .map(|r| (r.var, r.path, &code[r.span]))
            .collect()
    }

    fn key(k: &str) -> PathSeg {
        PathSeg::Key(k.to_string())
    }

    #[test]
    fn finds_static_input_and_param_paths() {
        let code = r#"$inputs.customer.name + $params["re gion"] + $inputs.items[0].id"#;
        assert_eq!(
            paths(code),
            vec![
                (
                    Var::Inputs,
                    vec![key("customer"), key("name")],
                    "$inputs.customer.name"
                ),
                // The span ends with the key's text (jaq keeps no slice of `"]`).
                (Var::Params, vec![key("re gion")], r#"$params["re gion"#),
                (
                    Var::Inputs,
                    vec![key("items"), PathSeg::Index(0), key("id")],
                    "$inputs.items[0].id"
                ),
            ]
        );
    }

    #[test]
    fn input_paths_stop_at_the_first_dynamic_step() {
        assert_eq!(
            paths("$inputs.a[$inputs.k].b"),
            vec![
                (Var::Inputs, vec![key("a")], "$inputs.a"),
                (Var::Inputs, vec![key("k")], "$inputs.k"),
            ]
        );
        assert!(paths("$inputs | keys").is_empty());
        assert!(paths("$inputs[.x]").is_empty());
        assert_eq!(
            paths("$inputs.a[1:2]"),
            vec![(Var::Inputs, vec![key("a")], "$inputs.a")]
        );
        assert_eq!(
            paths(r#""\($inputs.a)" | {b: $params.b?}"#),
            vec![
                (Var::Inputs, vec![key("a")], "$inputs.a"),
                (Var::Params, vec![key("b")], "$params.b"),
            ]
        );
    }

    #[test]
    fn rebound_inputs_are_not_the_context() {
        assert!(paths("{} as $inputs | $inputs.nope").is_empty());
        assert!(paths("def f($params): $params.x; f(1)").is_empty());
        assert_eq!(
            paths("reduce .[] as $inputs (0; . + $inputs.x) + $inputs.y"),
            vec![(Var::Inputs, vec![key("y")], "$inputs.y")]
        );
        // Other variables are not collected.
        assert!(paths("$item.x + $execution.id").is_empty());
    }

    #[test]
    fn recursion_is_found() {
        let code = "def f: 1 + f; f";
        let a = run(code);
        assert_eq!(a.recursive_defs.len(), 1);
        assert_eq!(&code[a.recursive_defs[0].1.clone()], "f");
        let a = run("def f: def g: f; g; f");
        assert_eq!(a.recursive_defs.len(), 1);
        assert!(run("def f: 1; def g: f; g").recursive_defs.is_empty());
        // A filter argument with another name is not recursion.
        assert!(run("def f(g): g; f(.)").recursive_defs.is_empty());
    }
}
