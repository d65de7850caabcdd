//! A compiled jq program: compile once, run many times against a [`Context`].
//!
//! Programs run on jaq with its core, standard and JSON libraries, minus what an
//! expression in a workflow must not do: `env` (the engine's environment holds secrets)
//! fails, `halt` is an error instead of an exit, `debug` and `stderr` print nothing (a
//! log line is a place values must not leak to), and modules cannot be imported.
//!
//! A program is compiled as the body of one more definition of the prelude, `__main`,
//! so that it and the standard library can be rewritten by `instrument` before jaq
//! compiles them: every loop then passes through `__tick`, which enforces the deadline
//! and the memory budget of [`Limits`] (see `limits`).
//!
//! Invariants: compiling never panics, never recurses deeper than the nesting limit
//! allows (see `nesting`), and reports every problem jaq finds, each with its byte span
//! in the source; running never panics (a panic inside jaq becomes [`Error::Internal`])
//! and ends within its [`Limits`].

use std::collections::HashSet;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use jaq_core::box_iter::box_once;
use jaq_core::load::parse::Def;
use jaq_core::load::{self, Arena, File, Loader};
use jaq_core::native::{Fun, bome, v};
use jaq_core::{Compiler, Ctx, Cv, DataT, Native, ValXs, Vars, compile, data};

use crate::analyze::{Analysis, TaskRef, VarPath, analyze, called_names};
use crate::limits::{self, Armed, Exceeded, Limits};
use crate::{Context, Error, MAX_DEPTH, Val, Var, VarSet, suggest};
use crate::{instrument, shape};

type D = data::JustLut<jaq_json::Val>;
type Filter = jaq_core::Filter<D>;

/// Our additions to the prelude, first so that jaq's own definitions use them:
/// `range/3` ticks for every number it yields (the native generator is renamed
/// `__range`), and `fromjson` checks the nesting of the text before parsing it (jaq's
/// parser recurses once per level).
const PRELUDE_FIRST: &str = r#"
def range($from; $upto; $by): __range($from; $upto; $by) | __tick;
def fromjson: __jsonok | __fromjson;
"#;

/// The name of the definition a program is compiled as.
const MAIN: &str = "__main";

fn parse_defs(code: &'static str) -> Vec<Def<&'static str>> {
    load::parse(code, |p| p.defs()).unwrap_or_default()
}

/// The prelude, instrumented (see `instrument`).
static PRELUDE: LazyLock<Vec<Def<&'static str>>> = LazyLock::new(|| {
    parse_defs(PRELUDE_FIRST)
        .into_iter()
        .chain(jaq_core::defs())
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .map(instrument::def)
        .collect()
});

/// For each prelude definition, the names its body calls.
static PRELUDE_CALLS: LazyLock<Vec<HashSet<&'static str>>> = LazyLock::new(|| {
    PRELUDE
        .iter()
        .map(|d| {
            let mut names = HashSet::new();
            called_names(&d.body, &mut names);
            names
        })
        .collect()
});

/// The prelude definitions a program calling `names` needs, in prelude order.
///
/// Compiling jaq's whole prelude costs about 300 µs per program; most expressions use
/// a handful of its definitions. A definition is kept when its name is called by the
/// program or by a kept definition that comes after it (definitions only see earlier
/// ones), so the result compiles exactly as the whole prelude would.
///
/// A program that calls nothing (`$tasks.a.output`, `$inputs.n + 1`, most of them)
/// needs none, and does not make the process parse the prelude (about 1.6 M
/// instructions, once).
fn prelude_for(mut names: HashSet<&str>) -> Vec<Def<&'static str>> {
    if names.is_empty() {
        return Vec::new();
    }
    let mut keep = vec![false; PRELUDE.len()];
    for (i, def) in PRELUDE.iter().enumerate().rev() {
        if names.contains(def.name) {
            keep[i] = true;
            names.extend(PRELUDE_CALLS[i].iter().copied());
        }
    }
    PRELUDE
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(d, _)| d.clone())
        .collect()
}

/// The error `__tick` fails with once a bound is hit (the caller reports which).
fn exceeded<'a, V: jaq_core::ValT>() -> jaq_core::Exn<'a, V> {
    jaq_core::Exn::from(jaq_core::Error::str("expression exceeded its limits"))
}

/// `__tick`: the identity for values, paths and updates, failing once a bound is hit.
fn tick() -> Native<D> {
    Native::new(|cv| match limits::tick() {
        None => box_once(Ok(cv.1)),
        Some(_) => box_once(Err(exceeded())),
    })
    .with_paths(|cv| match limits::tick() {
        None => box_once(Ok(cv.1)),
        Some(_) => box_once(Err(exceeded())),
    })
    .with_update(|cv, f| match limits::tick() {
        None => f(cv.1),
        Some(_) => box_once(Err(exceeded())),
    })
}

/// `__mul(r; l)`: `l * r`, refusing a string repetition that would exceed the memory
/// budget before it allocates.
fn mul(mut cv: Cv<'_, D>) -> ValXs<'_, jaq_json::Val> {
    let l = cv.0.pop_var();
    let r = cv.0.pop_var();
    let repeated = match (&l, &r) {
        (jaq_json::Val::TStr(s) | jaq_json::Val::BStr(s), n)
        | (n, jaq_json::Val::TStr(s) | jaq_json::Val::BStr(s)) => {
            jaq_std::ValT::as_f64(n).map(|n| (s.len() as f64) * n.max(0.0))
        }
        _ => None,
    };
    if let Some(bytes) = repeated
        && (bytes >= usize::MAX as f64 || limits::would_exceed(bytes as usize))
    {
        limits::trip_now(Exceeded::Memory);
        return box_once(Err(exceeded()));
    }
    bome(l * r)
}

/// `__nest`: the identity, failing when the value is nested deeper than [`MAX_DEPTH`]
/// (every array and object an expression builds passes through it).
fn nest(cv: Cv<'_, D>) -> ValXs<'_, jaq_json::Val> {
    if crate::value::deeper_than(&cv.1, MAX_DEPTH) {
        limits::trip_now(Exceeded::Nesting);
        return box_once(Err(exceeded()));
    }
    box_once(Ok(cv.1))
}

/// `__jsonok`: the identity, failing when the input is text whose brackets nest deeper
/// than [`MAX_DEPTH`] (what `fromjson` would build, refused before parsing).
fn json_ok(cv: Cv<'_, D>) -> ValXs<'_, jaq_json::Val> {
    if let jaq_json::Val::TStr(b) | jaq_json::Val::BStr(b) = &cv.1
        && crate::value::text_nests_deeper_than(b, MAX_DEPTH)
    {
        limits::trip_now(Exceeded::Nesting);
        return box_once(Err(exceeded()));
    }
    box_once(Ok(cv.1))
}

/// A native that outputs nothing and has no effect (`debug`, `stderr`).
fn silent<T: DataT>(_: Cv<'_, T>) -> ValXs<'_, T::V<'_>> {
    Box::new(std::iter::empty())
}

fn no_env<T: DataT>(_: Cv<'_, T>) -> ValXs<'_, T::V<'_>> {
    bome(Err(jaq_core::Error::str(
        "`env` is not available in workflow expressions; pass values in through $inputs or $secrets",
    )))
}

/// The native filters, built for each compilation (jaq's `Native` is not `Clone`).
fn funs() -> impl Iterator<Item = Fun<D>> {
    jaq_core::funs::<D>()
        .chain(jaq_std::funs::<D>())
        .chain(jaq_json::funs::<D>())
        .map(|(name, args, f)| match (name, args.len()) {
            ("range", 3) => ("__range", args, f),
            ("fromjson", 0) => ("__fromjson", args, f),
            ("env", 0) => jaq_core::native::run::<D>(("env", args, no_env::<D>)),
            ("debug_empty" | "stderr_empty", 0) => {
                jaq_core::native::run::<D>((name, args, silent::<D>))
            }
            _ => (name, args, f),
        })
        .chain([
            (instrument::TICK, v(0), tick()),
            jaq_core::native::run::<D>((instrument::MUL, v(2), mul)),
            jaq_core::native::run::<D>((instrument::NEST, v(0), nest)),
            jaq_core::native::run::<D>(("__jsonok", v(0), json_ok)),
        ])
}

/// Names of the filters a program can call, for "did you mean" suggestions.
static FILTER_NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut names: Vec<&'static str> = PRELUDE
        .iter()
        .map(|d| d.name)
        .chain(funs().map(|f| f.0))
        .filter(|n| !n.starts_with('_') && !n.starts_with('!'))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
});

/// A compiled jq program.
#[derive(Clone)]
pub struct Program {
    inner: Arc<Inner>,
}

struct Inner {
    source: String,
    /// Byte offset of `source` in the template it was compiled from.
    offset: usize,
    vars: VarSet,
    filter: Filter,
    task_refs: Vec<TaskRef>,
    var_paths: Vec<VarPath>,
    /// The context's variables the program reads.
    reads: VarSet,
    dynamic_tasks: bool,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("source", &self.inner.source)
            .finish_non_exhaustive()
    }
}

impl Program {
    /// Compiles `code`, which may read the variables in `vars`.
    ///
    /// Returns every problem found, each with its span in `code`.
    pub fn compile(code: &str, vars: VarSet) -> Result<Program, Vec<Error>> {
        Program::compile_at(code, vars, 0)
    }

    /// Compiles `code`, found at byte `offset` of a template (see [`Program::offset`]).
    /// Error spans stay relative to `code`.
    pub(crate) fn compile_at(
        code: &str,
        vars: VarSet,
        offset: usize,
    ) -> Result<Program, Vec<Error>> {
        match catch_unwind(|| limits::with_stack(|| compile_inner(code, vars, offset))) {
            Ok(r) => r,
            Err(_) => Err(vec![Error::Syntax {
                message: "the expression could not be compiled".into(),
                span: 0..code.len(),
            }]),
        }
    }

    /// The program's source text.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// The byte offset of the program's source in the template string it came from
    /// (0 for a program compiled on its own). Spans of [`Program::task_refs`] are
    /// relative to the source: add this offset to place them in the template.
    pub fn offset(&self) -> usize {
        self.inner.offset
    }

    /// The variables the program was compiled to read.
    pub fn vars(&self) -> VarSet {
        self.inner.vars
    }

    /// Static references to `$tasks.<name>`, with their spans in the source.
    pub fn task_refs(&self) -> &[TaskRef] {
        &self.inner.task_refs
    }

    /// Static paths read from `$inputs` and `$params`, with their spans in the source.
    pub fn var_paths(&self) -> &[VarPath] {
        &self.inner.var_paths
    }

    /// Whether the program reads the context's variable `var` (statically or not).
    /// What a program reading `$secrets` computes is tainted: it may go into a task's
    /// parameters, never into a stored or shown value, and its error messages are
    /// withheld ([`Error::Withheld`]).
    pub fn reads(&self, var: Var) -> bool {
        self.inner.reads.contains(var)
    }

    /// Whether the program also reads `$tasks` in a way that cannot be known statically.
    pub fn reads_tasks_dynamically(&self) -> bool {
        self.inner.dynamic_tasks
    }

    /// Runs the program on `input` and returns its only output: `null` when it produces
    /// none, an error when it produces more than one.
    pub fn eval_one(&self, ctx: &Context, input: &Val, limits: &Limits) -> Result<Val, Error> {
        let mut outs = self.eval_n(ctx, input, limits, 2)?;
        match outs.len() {
            0 => Ok(Val::null()),
            1 => Ok(outs.remove(0)),
            _ => Err(Error::MultipleOutputs),
        }
    }

    /// Runs the program on `input` and returns all its outputs, at most `max_outputs`
    /// (one more is an error).
    pub fn eval_all(
        &self,
        ctx: &Context,
        input: &Val,
        limits: &Limits,
        max_outputs: usize,
    ) -> Result<Vec<Val>, Error> {
        let outs = self.eval_n(ctx, input, limits, max_outputs.saturating_add(1))?;
        if outs.len() > max_outputs {
            return Err(Error::TooManyOutputs { limit: max_outputs });
        }
        Ok(outs)
    }

    /// Collects up to `n` outputs.
    fn eval_n(
        &self,
        ctx: &Context,
        input: &Val,
        limits: &Limits,
        n: usize,
    ) -> Result<Vec<Val>, Error> {
        let deadline = Instant::now() + limits.timeout;
        let run = || {
            let _armed = Armed::arm(deadline, limits.max_memory_bytes);
            let vars = Vars::new(self.inner.vars.iter().map(|v| ctx.get(v).0.clone()));
            let jctx = Ctx::<D>::new(&self.inner.filter.lut, vars);
            let mut outs = Vec::new();
            for out in self.inner.filter.id.run((jctx, input.0.clone())) {
                let out = out.map_err(|e| exception(e, limits))?;
                outs.push(Val(out));
                if outs.len() >= n {
                    break;
                }
                if let Some(why) = limits::exceeded() {
                    return Err(bound_error(why, limits));
                }
            }
            Ok(outs)
        };
        let result =
            catch_unwind(AssertUnwindSafe(|| limits::with_stack(run))).unwrap_or_else(|panic| {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(Error::Internal(message))
            });
        // A message may quote the values it failed on: not when they come from secrets.
        match result {
            Err(Error::Runtime(_) | Error::Internal(_)) if self.reads(Var::Secrets) => {
                Err(Error::Withheld)
            }
            other => other,
        }
    }
}

/// The error for a bound that was hit.
fn bound_error(why: Exceeded, limits: &Limits) -> Error {
    match why {
        Exceeded::Time => Error::Timeout {
            limit: limits.timeout,
        },
        Exceeded::Memory => Error::MemoryLimit {
            limit: limits.max_memory_bytes,
        },
        Exceeded::Nesting => Error::TooDeep { limit: MAX_DEPTH },
        Exceeded::Stack => Error::StackLimit,
    }
}

/// Turns a jaq exception into our error.
fn exception(e: jaq_core::Exn<'_, jaq_json::Val>, limits: &Limits) -> Error {
    if let Some(why) = limits::exceeded() {
        return bound_error(why, limits);
    }
    match e.get_err() {
        Ok(err) => Error::Runtime(runtime_message(err)),
        Err(e) => match e.get_halt() {
            Ok(code) => Error::Runtime(format!(
                "halt({code}) is not allowed in workflow expressions"
            )),
            Err(_) => Error::Internal("unexpected control flow escaped the expression".into()),
        },
    }
}

fn runtime_message(err: jaq_core::Error<jaq_json::Val>) -> String {
    // `error("text")` carries a string value: show it without JSON quotes.
    let v = err.into_val();
    match &v {
        jaq_json::Val::TStr(b) | jaq_json::Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.to_string(),
    }
}

fn compile_inner(code: &str, vars: VarSet, offset: usize) -> Result<Program, Vec<Error>> {
    shape::check_source(code).map_err(|e| vec![e])?;
    let Some(term) = load::parse(code, |p| p.term()) else {
        // Unparsable: the loader says why.
        let arena = Arena::default();
        return Err(
            match Loader::new([]).load(&arena, File { code, path: () }) {
                Err(errs) => load_errors(code, errs),
                Ok(_) => vec![Error::Syntax {
                    message: "the expression could not be parsed".into(),
                    span: 0..code.len(),
                }],
            },
        );
    };
    shape::check_depth(code, &term).map_err(|e| vec![e])?;
    let Analysis {
        task_refs,
        var_paths,
        reads,
        dynamic_tasks,
        recursive_defs,
    } = analyze(code, &term);
    let mut names = HashSet::new();
    called_names(&term, &mut names);
    let mut prelude = prelude_for(names);
    prelude.push(Def {
        name: MAIN,
        args: Vec::new(),
        body: instrument::term(term),
    });
    let arena = Arena::default();
    let modules = Loader::new(prelude)
        .load(
            &arena,
            File {
                code: MAIN,
                path: (),
            },
        )
        .map_err(|errs| load_errors(code, errs))?;

    let globals: Vec<&str> = vars.iter().map(Var::name).collect();
    let filter = Compiler::default()
        .with_funs(funs())
        .with_global_vars(globals)
        .compile(modules)
        .map_err(|errs| compile_errors(code, vars, errs))?;

    if !recursive_defs.is_empty() {
        return Err(recursive_defs
            .into_iter()
            .map(|(name, span)| Error::Recursion { name, span })
            .collect());
    }
    Ok(Program {
        inner: Arc::new(Inner {
            source: code.to_string(),
            offset,
            vars,
            filter,
            task_refs,
            var_paths,
            reads,
            dynamic_tasks,
        }),
    })
}

fn span_in(code: &str, part: &str) -> Range<usize> {
    let start = (part.as_ptr() as usize).wrapping_sub(code.as_ptr() as usize);
    if start <= code.len() && start + part.len() <= code.len() {
        start..start + part.len()
    } else {
        code.len()..code.len()
    }
}

fn load_errors(code: &str, errs: load::Errors<&str, ()>) -> Vec<Error> {
    let mut out = Vec::new();
    for (_file, err) in errs {
        match err {
            load::Error::Io(items) => {
                for (path, msg) in items {
                    out.push(Error::Syntax {
                        message: format!("cannot import `{path}`: {msg}"),
                        span: span_in(code, path),
                    });
                }
            }
            load::Error::Lex(items) => {
                for (expect, found) in items {
                    let expected = match expect {
                        load::lex::Expect::Delim(d) if !matches!(d, "(" | "[" | "{" | "\"") => {
                            "closing delimiter"
                        }
                        other => other.as_str(),
                    };
                    out.push(syntax_error(code, expected, found));
                }
            }
            load::Error::Parse(items) => {
                for (expect, found) in items {
                    out.push(syntax_error(code, expect.as_str(), found));
                }
            }
        }
    }
    out
}

fn syntax_error(code: &str, expected: &str, found: &str) -> Error {
    let span = span_in(code, found);
    let found_text: String = found.chars().take(20).collect();
    let message = if found.is_empty() {
        format!("expected {expected}, found the end of the expression")
    } else {
        format!("expected {expected}, found `{found_text}`")
    };
    // Point at the start of what was found, one character wide.
    let width = found.chars().next().map_or(0, char::len_utf8);
    Error::Syntax {
        message,
        span: span.start..span.start + width,
    }
}

fn compile_errors(code: &str, vars: VarSet, errs: compile::Errors<&str, ()>) -> Vec<Error> {
    let mut out = Vec::new();
    for (_file, items) in errs {
        for (name, undefined) in items {
            let span = span_in(code, name);
            let err = match undefined {
                compile::Undefined::Var => match Var::from_name(name) {
                    Some(var) => Error::VariableNotAllowed { var, span },
                    None => {
                        let known: Vec<&str> = vars.iter().map(Var::name).collect();
                        Error::UnknownVariable {
                            name: name.to_string(),
                            suggestion: suggest(name, known.iter().copied()),
                            span,
                        }
                    }
                },
                compile::Undefined::Filter(arity) => Error::UnknownFunction {
                    name: name.to_string(),
                    arity,
                    suggestion: suggest(name, FILTER_NAMES.iter().copied()),
                    span,
                },
                other => Error::Syntax {
                    message: format!("unknown {} `{name}`", other.as_str()),
                    span,
                },
            };
            out.push(err);
        }
    }
    out
}
