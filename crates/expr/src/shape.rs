//! Limits on the shape of a program: the length of its text and the depth of its tree.
//!
//! jaq parses, compiles and runs a program by recursing over its syntax tree, and the
//! tree of `1, 1, 1, ...` is as deep as the list is long. Bounding the text bounds the
//! parser's recursion (which runs with a large stack, see `limits::with_stack`);
//! bounding the depth of the parsed tree bounds every later recursion over it
//! (analysis, rewriting, compilation, evaluation), so that they fit in the stack's red
//! zone. Both limits are far above what a workflow expression needs; a program that
//! exceeds them is a syntax error that says which limit and by how much.

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Pattern, Term};
use jaq_core::path::Part;

use crate::Error;

/// The longest program text, in bytes.
pub const MAX_SOURCE_BYTES: usize = 64 * 1024;
/// The deepest program tree: nesting plus the length of operator chains.
pub const MAX_PROGRAM_DEPTH: usize = 512;

/// Checks the length of a program's text.
pub(crate) fn check_source(code: &str) -> Result<(), Error> {
    if code.len() > MAX_SOURCE_BYTES {
        return Err(Error::Syntax {
            message: format!(
                "it is {} bytes long; the limit is {MAX_SOURCE_BYTES} (split the work over several tasks)",
                code.len()
            ),
            span: 0..0,
        });
    }
    Ok(())
}

/// Checks the depth of a parsed program.
pub(crate) fn check_depth(code: &str, term: &Term<&str>) -> Result<(), Error> {
    if deeper_than(term, MAX_PROGRAM_DEPTH) {
        return Err(Error::Syntax {
            message: format!(
                "it nests more than {MAX_PROGRAM_DEPTH} levels deep (counting each operator of a chain such as `a, b, c` as a level); simplify it or split it"
            ),
            span: 0..code.len().min(1),
        });
    }
    Ok(())
}

/// Whether the tree of `t` is deeper than `limit` (stops looking once it is).
fn deeper_than(t: &Term<&str>, limit: usize) -> bool {
    let Some(below) = limit.checked_sub(1) else {
        return true;
    };
    let go = |t: &Term<&str>| deeper_than(t, below);
    match t {
        Term::Id | Term::Recurse | Term::Num(_) | Term::Break(_) | Term::Var(_) => false,
        Term::Str(_, parts) => parts.iter().any(|p| match p {
            StrPart::Term(t) => go(t),
            _ => false,
        }),
        Term::Arr(a) => a.as_deref().is_some_and(go),
        Term::Obj(entries) => entries
            .iter()
            .any(|(k, v)| go(k) || v.as_ref().is_some_and(go)),
        Term::Neg(x) | Term::Label(_, x) => go(x),
        Term::BinOp(l, op, r) => {
            go(l) || go(r) || matches!(op, BinaryOp::Pipe(Some(p)) if pattern_deeper_than(p, below))
        }
        Term::Fold(_, src, pat, args) => {
            go(src) || pattern_deeper_than(pat, below) || args.iter().any(go)
        }
        Term::TryCatch(t, c) => go(t) || c.as_deref().is_some_and(go),
        Term::IfThenElse(branches, els) => {
            branches.iter().any(|(c, b)| go(c) || go(b)) || els.as_deref().is_some_and(go)
        }
        Term::Def(defs, body) => defs.iter().any(|d| go(&d.body)) || go(body),
        Term::Call(_, args) => args.iter().any(go),
        // A path's parts run one after the other, but an update along them recurses
        // once per part: each counts as a level.
        Term::Path(head, path) => {
            let Some(rest) = below.checked_sub(path.0.len()) else {
                return true;
            };
            deeper_than(head, rest)
                || path.0.iter().any(|(part, _)| match part {
                    Part::Index(i) => deeper_than(i, rest),
                    Part::Range(a, b) => {
                        a.as_ref().is_some_and(|a| deeper_than(a, rest))
                            || b.as_ref().is_some_and(|b| deeper_than(b, rest))
                    }
                })
        }
    }
}

fn pattern_deeper_than(p: &Pattern<&str>, limit: usize) -> bool {
    let Some(below) = limit.checked_sub(1) else {
        return true;
    };
    match p {
        Pattern::Var(_) => false,
        Pattern::Arr(ps) => ps.iter().any(|p| pattern_deeper_than(p, below)),
        Pattern::Obj(entries) => entries
            .iter()
            .any(|(k, v)| deeper_than(k, below) || pattern_deeper_than(v, below)),
    }
}
