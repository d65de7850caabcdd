//! The Harmonia expression language: jq inside `${ }`, over a workflow's context.
//!
//! ```
//! use harmonia_expr::{Context, Limits, Template, Val, Var, VarSet};
//! use serde_json::json;
//!
//! let vars = VarSet::of(&[Var::Inputs]);
//! let t = Template::compile("Hello ${ $inputs.who }!", vars).expect("compiles");
//! let ctx = Context::new().with(Var::Inputs, Val::from(json!({"who": "world"})));
//! let out = t.eval(&ctx, &Limits::default()).expect("evaluates");
//! assert_eq!(out.to_json(1024).ok(), Some(json!("Hello world!")));
//! ```
//!
//! The parts:
//! - [`Program`]: one jq program, compiled once against a [`VarSet`] and run many times.
//!   Compilation reports every problem with its byte span; evaluation is bounded by
//!   [`Limits`] and never panics.
//! - [`Template`]: a string with `${ }` expressions (whole-value or interpolated).
//! - [`ValueTemplate`]: a JSON value whose strings are templates, such as `with:`.
//! - [`Context`]: the values of the variables (`$inputs`, `$tasks`, ...) for one evaluation.
//!
//! Every evaluation is bounded by its [`Limits`] (time and memory) and by
//! [`MAX_DEPTH`] (how deeply a value may nest), whatever builtins it uses: see the
//! `limits` and `instrument` modules.
//!
//! This crate is pure: no I/O, no clock beyond deadlines, no global state but caches.

mod analyze;
mod instrument;
mod limits;
mod program;
mod shape;
mod template;
mod value;
mod value_template;
mod var;

use std::ops::Range;
use std::time::Duration;

pub use analyze::{TaskRef, VarPath};
pub use limits::{Limits, THREAD_STACK, memory_is_measured, watch};
pub use program::Program;
pub use shape::{MAX_PROGRAM_DEPTH, MAX_SOURCE_BYTES};
pub use template::{Part, Template};
pub use value::{Val, json_deeper_than, text_nests_deeper_than};

/// How many containers deep a value may be nested, wherever it goes: what expressions
/// build, what tasks output, what inputs carry, what is stored. Stores read JSON back
/// with a limit well above this, and the API's answers, which hold values a few levels
/// down (an execution's tasks, an event), stay within the 128 levels that common JSON
/// parsers accept.
pub const MAX_DEPTH: usize = 100;
pub use value_template::{PathError, PathSeg, ValueTemplate};
pub use var::{Var, VarSet};

/// What can go wrong compiling or evaluating an expression.
///
/// Spans are byte ranges in the source that was compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The text is not valid jq. The message says so first, then what the parser
    /// expected and found.
    #[error("invalid expression: {message}")]
    Syntax {
        /// What was expected and found.
        message: String,
        /// Where.
        span: Range<usize>,
    },
    /// A variable that does not exist anywhere.
    #[error("unknown variable `{}`{}", clip(name), did_you_mean(suggestion))]
    UnknownVariable {
        /// The name, with its `$`.
        name: String,
        /// The closest variable that exists here.
        suggestion: Option<String>,
        /// Where.
        span: Range<usize>,
    },
    /// A context variable that exists, but not where it is used.
    #[error("`{var}` is not available here")]
    VariableNotAllowed {
        /// The variable.
        var: Var,
        /// Where.
        span: Range<usize>,
    },
    /// A call of a filter that does not exist.
    #[error(
        "unknown function `{}/{arity}`{}",
        clip(name),
        did_you_mean(suggestion)
    )]
    UnknownFunction {
        /// The name.
        name: String,
        /// The number of arguments it was called with.
        arity: usize,
        /// The closest function that exists.
        suggestion: Option<String>,
        /// Where.
        span: Range<usize>,
    },
    /// A recursive function definition.
    #[error(
        "recursive function `{}` is not allowed in workflow expressions (it could run forever); use `recurse`, `until`, `while` or `repeat`",
        clip(name)
    )]
    Recursion {
        /// The function's name.
        name: String,
        /// Where it is defined.
        span: Range<usize>,
    },
    /// The program failed while running (`error(...)`, a type error, ...).
    #[error("{0}")]
    Runtime(String),
    /// A whole-value expression produced more than one value.
    #[error(
        "the expression produced more than one value; collect them into an array with `[ ... ]`"
    )]
    MultipleOutputs,
    /// A program produced more outputs than allowed.
    #[error("the expression produced more than {limit} values")]
    TooManyOutputs {
        /// The limit.
        limit: usize,
    },
    /// The evaluation did not finish in time.
    #[error("the expression did not finish within {limit:?}")]
    Timeout {
        /// The limit.
        limit: Duration,
    },
    /// The result is too large.
    #[error("the expression's result is larger than {limit} bytes")]
    OutputTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The evaluation held more memory than its budget.
    #[error("the expression used more than its memory limit of {} MiB", limit / (1024 * 1024))]
    MemoryLimit {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The expression built a value nested deeper than allowed.
    #[error("the expression built a value nested more than {limit} levels deep")]
    TooDeep {
        /// The limit ([`MAX_DEPTH`]).
        limit: usize,
    },
    /// The expression failed, and it reads `$secrets`: its message, which may quote the
    /// values it failed on, is withheld.
    #[error("the expression failed; its message is withheld because the expression reads $secrets")]
    Withheld,
    /// The evaluation recursed until its stack was nearly exhausted.
    #[error("the expression recursed too deeply")]
    StackLimit,
    /// jaq panicked; this is a bug, reported instead of crashing.
    #[error("internal error while evaluating the expression: {0}")]
    Internal(String),
}

fn did_you_mean(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

impl Error {
    /// The error's span in the compiled source, for compile errors.
    pub fn span(&self) -> Option<Range<usize>> {
        match self {
            Error::Syntax { span, .. }
            | Error::UnknownVariable { span, .. }
            | Error::VariableNotAllowed { span, .. }
            | Error::UnknownFunction { span, .. }
            | Error::Recursion { span, .. } => Some(span.clone()),
            _ => None,
        }
    }

    /// The same error with its span moved `by` bytes to the right.
    #[must_use]
    pub fn shifted(mut self, by: usize) -> Error {
        match &mut self {
            Error::Syntax { span, .. }
            | Error::UnknownVariable { span, .. }
            | Error::VariableNotAllowed { span, .. }
            | Error::UnknownFunction { span, .. }
            | Error::Recursion { span, .. } => *span = span.start + by..span.end + by,
            _ => {}
        }
        self
    }
}

/// The values of the variables for one evaluation. Unset variables are `null`.
#[derive(Debug, Clone, Default)]
pub struct Context {
    vals: [Val; Var::ALL.len()],
}

impl Context {
    /// A context where every variable is `null`.
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets `var`.
    pub fn set(&mut self, var: Var, value: Val) {
        self.vals[var as usize] = value;
    }

    /// This context with `var` set.
    #[must_use]
    pub fn with(mut self, var: Var, value: Val) -> Context {
        self.set(var, value);
        self
    }

    /// The value of `var`.
    pub fn get(&self, var: Var) -> &Val {
        &self.vals[var as usize]
    }
}

/// A JSON value's type as messages name it (`an array`), never its content.
pub fn kind_of(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The most characters of a user's text that a message quotes.
pub const CLIP_CHARS: usize = 128;

/// `text` as a message may quote it: at most [`CLIP_CHARS`] characters, cut with `…`.
///
/// Every message that quotes what a user wrote (a name, a key, a value, a piece of an
/// expression) goes through this, so that a definition with a megabyte-long name gets
/// an error of a few lines, not the megabyte back. Valid names (at most 128
/// characters) are never cut.
pub fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(CLIP_CHARS) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..end])),
    }
}

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    // Close by edit distance (short names) or by Jaro-Winkler, which favours a shared
    // prefix (`retires` for `retry`); ties go to the smaller edit distance. A name far
    // longer than any name we know is no typo, and comparing it would cost time and
    // memory in proportion to its length.
    if name.len() > 4 * CLIP_CHARS {
        return None;
    }
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .filter_map(|c| {
            let other = c.to_lowercase();
            let distance = strsim::damerau_levenshtein(&lower, &other);
            let similarity = strsim::jaro_winkler(&lower, &other);
            let longest = other.chars().count().max(lower.chars().count());
            let close =
                (distance <= 1.max(longest / 3) && distance < longest) || similarity >= 0.85;
            close.then_some((distance, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping() {
        assert_eq!(clip("short"), "short");
        let exact = "é".repeat(CLIP_CHARS);
        assert_eq!(clip(&exact), exact);
        let long = "é".repeat(CLIP_CHARS + 1);
        assert_eq!(clip(&long), format!("{}…", "é".repeat(CLIP_CHARS)));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("retires", ["retry", "timeout"]),
            Some("retry".into())
        );
        assert_eq!(suggest("neds", ["needs", "name"]), Some("needs".into()));
        assert_eq!(suggest("zzz", ["needs", "name"]), None);
        assert_eq!(suggest(&"needs".repeat(1 << 18), ["needs"]), None);
        assert_eq!(suggest("ab", ["xy"]), None);
        assert_eq!(
            suggest("tiemout", ["timeout", "type"]),
            Some("timeout".into())
        );
        assert_eq!(
            suggest("exponentail", ["fixed", "linear", "exponential"]),
            Some("exponential".into())
        );
        assert_eq!(suggest("url", ["method", "headers"]), None);
        assert_eq!(
            suggest("htpp", ["http", "shell", "set"]),
            Some("http".into())
        );
        assert_eq!(
            suggest("$inptus", ["$inputs", "$tasks"]),
            Some("$inputs".into())
        );
    }
}
