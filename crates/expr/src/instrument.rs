//! Rewriting a parsed program so that every way to loop can be bounded.
//!
//! jaq gives no hook into evaluation, but it compiles a prelude of definitions that we
//! hand it as syntax trees. Every program is compiled as the body of one more prelude
//! definition (see `program`), after this rewrite, and so is every definition of the
//! standard library. The rewrite inserts a call of the native `__tick` (which checks
//! the deadline and the memory budget, see `limits`) at:
//! - the start of every definition's body: every call of a jq-defined function, and so
//!   every step of every recursion;
//! - after every iteration (`.[]`, `.a[]?`): once per element;
//! - after every element of the source of `reduce` and `foreach`;
//!
//! and it passes every array and object the program builds (`[f]`, `{a: f}`) through
//! `__nest`, which fails when the value is nested deeper than [`crate::MAX_DEPTH`], so
//! that no expression can build a value whose recursive drop, comparison or conversion
//! would exhaust the stack; and it replaces `l * r` by `__mul(r; l)`, which checks the size of a string
//! repetition before allocating it (`__mul` takes its arguments in that order so that
//! the outputs of generators come in jq's order: for each `r`, for each `l`).
//!
//! `__tick` is the identity for values, paths and updates, so a rewritten path
//! expression (`.[] |= f`, `path(..)`) stays one. Tail calls stay tail calls: the
//! inserted call sits before the body, in a pipe.

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Def, Pattern, Term};
use jaq_core::ops::Math;
use jaq_core::path::{Part, Path};

/// The name of the native that checks the bounds.
pub(crate) const TICK: &str = "__tick";
/// The name of the native that multiplies with a size check.
pub(crate) const MUL: &str = "__mul";
/// The name of the native that checks the nesting of a value built.
pub(crate) const NEST: &str = "__nest";

fn nest(t: Term<&str>) -> Term<&str> {
    pipe(t, Term::Call(NEST, Vec::new()))
}

fn tick() -> Term<&'static str> {
    Term::Call(TICK, Vec::new())
}

fn pipe<'s>(l: Term<&'s str>, r: Term<&'s str>) -> Term<&'s str> {
    Term::BinOp(Box::new(l), BinaryOp::Pipe(None), Box::new(r))
}

/// `def`s of the prelude, rewritten.
pub(crate) fn def(d: Def<&str>) -> Def<&str> {
    Def {
        name: d.name,
        args: d.args,
        body: pipe(tick(), term(d.body)),
    }
}

/// A term, rewritten.
pub(crate) fn term(t: Term<&str>) -> Term<&str> {
    match t {
        Term::Id | Term::Recurse | Term::Num(_) | Term::Break(_) | Term::Var(_) => t,
        Term::Str(fmt, parts) => Term::Str(fmt, parts.into_iter().map(str_part).collect()),
        Term::Arr(a) => nest(Term::Arr(a.map(|a| Box::new(term(*a))))),
        Term::Obj(entries) => nest(Term::Obj(
            entries
                .into_iter()
                .map(|(k, v)| (term(k), v.map(term)))
                .collect(),
        )),
        Term::Neg(x) => Term::Neg(Box::new(term(*x))),
        Term::BinOp(l, BinaryOp::Math(Math::Mul), r) => Term::Call(MUL, vec![term(*r), term(*l)]),
        Term::BinOp(l, op, r) => {
            Term::BinOp(Box::new(term(*l)), pattern_op(op), Box::new(term(*r)))
        }
        Term::Label(l, x) => Term::Label(l, Box::new(term(*x))),
        Term::Fold(kind, src, pat, args) => Term::Fold(
            kind,
            Box::new(pipe(term(*src), tick())),
            pattern(pat),
            args.into_iter().map(term).collect(),
        ),
        Term::TryCatch(t, c) => Term::TryCatch(Box::new(term(*t)), c.map(|c| Box::new(term(*c)))),
        Term::IfThenElse(branches, els) => Term::IfThenElse(
            branches
                .into_iter()
                .map(|(c, b)| (term(c), term(b)))
                .collect(),
            els.map(|e| Box::new(term(*e))),
        ),
        Term::Def(defs, body) => {
            Term::Def(defs.into_iter().map(def).collect(), Box::new(term(*body)))
        }
        Term::Call(name, args) => Term::Call(name, args.into_iter().map(term).collect()),
        Term::Path(head, path) => path_term(term(*head), path),
    }
}

fn str_part<'s>(p: StrPart<&'s str, Term<&'s str>>) -> StrPart<&'s str, Term<&'s str>> {
    match p {
        StrPart::Term(t) => StrPart::Term(term(t)),
        other => other,
    }
}

fn pattern_op(op: BinaryOp<&str>) -> BinaryOp<&str> {
    match op {
        BinaryOp::Pipe(Some(p)) => BinaryOp::Pipe(Some(pattern(p))),
        other => other,
    }
}

fn pattern(p: Pattern<&str>) -> Pattern<&str> {
    match p {
        Pattern::Var(v) => Pattern::Var(v),
        Pattern::Arr(ps) => Pattern::Arr(ps.into_iter().map(pattern).collect()),
        Pattern::Obj(entries) => Pattern::Obj(
            entries
                .into_iter()
                .map(|(k, v)| (term(k), pattern(v)))
                .collect(),
        ),
    }
}

/// `head` followed by `path`, with a tick after each iteration: `h.a[].b` becomes
/// `((h.a[] | __tick)).b`.
fn path_term<'s>(head: Term<&'s str>, path: Path<Term<&'s str>>) -> Term<&'s str> {
    let mut head = head;
    let mut pending = Vec::new();
    for (part, opt) in path.0 {
        let part = match part {
            Part::Index(i) => Part::Index(term(i)),
            Part::Range(a, b) => Part::Range(a.map(term), b.map(term)),
        };
        let iterates = matches!(part, Part::Range(None, None));
        pending.push((part, opt));
        if iterates {
            let done = Term::Path(Box::new(head), Path(std::mem::take(&mut pending)));
            head = pipe(done, tick());
        }
    }
    if pending.is_empty() {
        head
    } else {
        Term::Path(Box::new(head), Path(pending))
    }
}
