//! Problems found in a definition, each with where it is.
//!
//! A [`Diagnostic`] names the field (`tasks.fetch.with.url`), the task when there is one,
//! and the position in the source. [`Diagnostic::render`] prints the compiler-style line
//! `FILE:LINE:COL: error: FIELD: MESSAGE` that `harmonia validate` shows.
//!
//! [`FieldPath`] is the field path type; [`Locations`] maps paths to byte offsets while the
//! document is read, so that checks running later on the typed definition can still say
//! where a problem is.
//!
//! Invariant: a diagnostic never carries a user's text longer than
//! [`harmonia_expr::clip`] allows: messages quote names, keys and values through it,
//! and the path and task of a diagnostic are clipped the same way (a path may go
//! through a huge key).

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::source::{Position, Source};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The definition cannot be used.
    Error,
    /// The definition works, but probably not as intended.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem in a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The field, such as `tasks.fetch.with.url` (empty for the whole document).
    pub path: String,
    /// The task the problem is in, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// What is wrong, and what would fix it when that is known.
    pub message: String,
    /// Where, in the source.
    #[serde(flatten)]
    pub position: Position,
}

impl Diagnostic {
    /// The one-line form: `FILE:LINE:COL: error: FIELD: MESSAGE`.
    pub fn render(&self, file: &str) -> String {
        format!("{file}:{}: {self}", self.position)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.severity, self.message)
        } else {
            write!(f, "{}: {}: {}", self.severity, self.path, self.message)
        }
    }
}

/// A path to a field: `tasks.fetch.with.headers["X-Id"]`, `tasks.a.needs[0]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<Seg>);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Seg {
    Key(String),
    Index(usize),
}

impl FieldPath {
    /// The root: the whole document.
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    /// The path through `keys` from the root (`["tasks", "fetch"]` is `tasks.fetch`),
    /// made at once.
    pub fn keys(keys: &[&str]) -> FieldPath {
        FieldPath(keys.iter().map(|k| Seg::Key((*k).to_string())).collect())
    }

    /// This path with a key appended.
    #[must_use]
    pub fn key(&self, key: &str) -> FieldPath {
        self.then(Seg::Key(key.to_string()))
    }

    /// This path with an index appended.
    #[must_use]
    pub fn index(&self, i: usize) -> FieldPath {
        self.then(Seg::Index(i))
    }

    /// This path with `seg` appended, in one allocation: a clone has no room for one
    /// more step, and growing it moved the whole path again (the reader and the
    /// validator make a few paths for every task).
    fn then(&self, seg: Seg) -> FieldPath {
        let mut steps = Vec::with_capacity(self.0.len() + 1);
        steps.extend(self.0.iter().cloned());
        steps.push(seg);
        FieldPath(steps)
    }

    /// The path without its last step (the root stays the root).
    #[must_use]
    pub fn parent(&self) -> FieldPath {
        let mut p = self.clone();
        p.0.pop();
        p
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// This path followed by `rest`.
    #[must_use]
    pub fn join(&self, rest: &FieldPath) -> FieldPath {
        let mut steps = Vec::with_capacity(self.0.len() + rest.0.len());
        steps.extend(self.0.iter().chain(&rest.0).cloned());
        FieldPath(steps)
    }

    /// The task this path is inside (`tasks.<name>...`).
    pub fn task(&self) -> Option<&str> {
        match self.0.as_slice() {
            [Seg::Key(t), Seg::Key(name), ..] if t == "tasks" => Some(name),
            _ => None,
        }
    }
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
}

impl FieldPath {
    /// The path as diagnostics show it: each key clipped (see [`harmonia_expr::clip`]),
    /// so that a path through a huge key stays short. [`Display`](fmt::Display) is
    /// exact, for lookups.
    pub fn shown(&self) -> String {
        let mut out = String::new();
        let _ = self.write(&mut out, true);
        out
    }

    fn write(&self, f: &mut impl fmt::Write, clipped: bool) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            // Borrowed unless clipped: the reader formats a path for every field it
            // records a location of (`Locations`), thousands in a large workflow.
            fn shown(k: &str, clipped: bool) -> std::borrow::Cow<'_, str> {
                if clipped {
                    harmonia_expr::clip(k)
                } else {
                    std::borrow::Cow::Borrowed(k)
                }
            }
            let key = |k| shown(k, clipped);
            match seg {
                Seg::Key(k) if is_plain_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(&key(k))?;
                }
                Seg::Key(k) => write!(f, "[{}]", serde_json::Value::String(key(k).into_owned()))?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }

    /// The exact text of [`Display`](fmt::Display), in a string of about the right
    /// size from the start.
    fn text(&self) -> String {
        let size = self
            .0
            .iter()
            .map(|seg| match seg {
                Seg::Key(k) => k.len() + 1,
                Seg::Index(_) => 6,
            })
            .sum();
        let mut out = String::with_capacity(size);
        let _ = self.write(&mut out, false);
        out
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

/// Byte offsets of the nodes of a document, by field path, plus the offsets of keys.
///
/// One entry per path, holding both offsets: the reader records thousands in a large
/// workflow (every field), and each costs a formatted path and a hash. The hasher is
/// foldhash, seeded at random per process (the paths are the document's, which a
/// client of the API chooses), several times faster than the standard one on keys
/// this short.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    at: HashMap<String, Place, foldhash::fast::RandomState>,
}

/// Where a path's key and value start, as far as recorded.
#[derive(Debug, Clone, Copy, Default)]
struct Place {
    key: Option<usize>,
    value: Option<usize>,
}

impl Locations {
    pub(crate) fn set_value(&mut self, path: &FieldPath, offset: usize) {
        self.at.entry(path.text()).or_default().value = Some(offset);
    }

    pub(crate) fn set_key(&mut self, path: &FieldPath, offset: usize) {
        self.at.entry(path.text()).or_default().key = Some(offset);
    }

    /// Records a field: where its key and its value start.
    pub(crate) fn set_field(&mut self, path: &FieldPath, key: usize, value: usize) {
        self.at.insert(
            path.text(),
            Place {
                key: Some(key),
                value: Some(value),
            },
        );
    }

    /// The offset of the value at `path`, or of its closest recorded ancestor.
    pub fn value(&self, path: &FieldPath) -> usize {
        let mut p = path.clone();
        loop {
            if let Some(o) = self.at.get(&p.text()).and_then(|place| place.value) {
                return o;
            }
            if p.is_root() {
                return 0;
            }
            p = p.parent();
        }
    }

    /// The offset of the key that names the field at `path` (or of its value, when the
    /// field is a list element or not recorded).
    pub fn key(&self, path: &FieldPath) -> usize {
        self.at
            .get(&path.text())
            .and_then(|place| place.key)
            .unwrap_or_else(|| self.value(path))
    }
}

/// Collects diagnostics for one source.
///
/// Paths given to it may be relative to a part of the document (a template's
/// `workflow:`, read and validated as a workflow of its own): the `prefix` is put in
/// front of them, while the task a diagnostic is about is taken from the relative path.
#[derive(Debug)]
pub(crate) struct Diagnostics<'s> {
    pub(crate) source: &'s Source,
    pub(crate) list: Vec<Diagnostic>,
    prefix: FieldPath,
}

impl<'s> Diagnostics<'s> {
    pub(crate) fn new(source: &'s Source) -> Diagnostics<'s> {
        Diagnostics {
            source,
            list: Vec::new(),
            prefix: FieldPath::root(),
        }
    }

    /// Sets the prefix of the paths that follow (the root to stop).
    pub(crate) fn set_prefix(&mut self, prefix: FieldPath) {
        self.prefix = prefix;
    }

    /// Records an error at a byte offset.
    pub(crate) fn error(&mut self, path: &FieldPath, offset: usize, message: impl Into<String>) {
        self.push(Severity::Error, path, offset, message.into());
    }

    /// Records a warning at a byte offset.
    pub(crate) fn warning(&mut self, path: &FieldPath, offset: usize, message: impl Into<String>) {
        self.push(Severity::Warning, path, offset, message.into());
    }

    fn push(&mut self, severity: Severity, path: &FieldPath, offset: usize, message: String) {
        self.list.push(Diagnostic {
            severity,
            path: self.prefix.join(path).shown(),
            task: path.task().map(|t| harmonia_expr::clip(t).into_owned()),
            message,
            position: self.source.position(offset),
        });
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }

    /// The diagnostics in source order (stable for equal positions).
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        self.list.sort_by_key(|d| d.position);
        self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_jq() {
        let p = FieldPath::root()
            .key("tasks")
            .key("fetch")
            .key("with")
            .key("headers")
            .key("X Id")
            .index(0);
        assert_eq!(p.to_string(), r#"tasks.fetch.with.headers["X Id"][0]"#);
        assert_eq!(p.task(), Some("fetch"));
        assert_eq!(FieldPath::root().key("name").task(), None);
        assert_eq!(FieldPath::root().to_string(), "");
    }

    /// The constructors that make a path in one allocation make the same path as
    /// appending step by step.
    #[test]
    fn a_path_made_at_once_equals_one_made_step_by_step() {
        let steps = FieldPath::root().key("tasks").key("fetch");
        assert_eq!(FieldPath::keys(&["tasks", "fetch"]), steps);
        assert_eq!(FieldPath::keys(&[]), FieldPath::root());
        let rest = FieldPath::root().key("with").index(2);
        let joined = steps.join(&rest);
        assert_eq!(joined, steps.key("with").index(2));
        assert_eq!(joined.to_string(), "tasks.fetch.with[2]");
        assert_eq!(joined.parent(), steps.key("with"));
    }

    #[test]
    fn locations_fall_back_to_ancestors() {
        let mut l = Locations::default();
        let tasks = FieldPath::root().key("tasks");
        l.set_value(&tasks, 10);
        l.set_key(&tasks, 3);
        assert_eq!(l.value(&tasks.key("a").key("with")), 10);
        assert_eq!(l.key(&tasks), 3);
        assert_eq!(l.key(&tasks.key("zz")), 10);
        assert_eq!(l.value(&FieldPath::root().key("nope")), 0);
    }

    #[test]
    fn a_field_records_both_offsets_and_a_key_alone_falls_back_for_its_value() {
        let mut l = Locations::default();
        let tasks = FieldPath::root().key("tasks");
        let a = tasks.key("a");
        l.set_field(&tasks, 0, 7);
        l.set_key(&a, 9);
        assert_eq!((l.key(&tasks), l.value(&tasks)), (0, 7));
        // `a`'s value was not recorded: its ancestor's stands in, its key is its own.
        assert_eq!((l.key(&a), l.value(&a)), (9, 7));
        l.set_value(&a, 12);
        assert_eq!((l.key(&a), l.value(&a)), (9, 12));
        // Recording a field again replaces both offsets.
        l.set_field(&a, 20, 25);
        assert_eq!((l.key(&a), l.value(&a)), (20, 25));
    }
}
