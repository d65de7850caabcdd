//! The registry of task types and their parameters, as validation sees them.
//!
//! Each task type declares the JSON Schema of its `with:` parameters, the shape of its
//! output (documentation), optionally a check for what a schema cannot say (a jq program
//! that must compile), and the parameters it evaluates later than the others
//! ([`Deferred`]: a `wait_event` filter that reads `$event`). Validation runs the schema
//! and the check on every task, so an `http` task without `url` fails at validation
//! time, not at run time.
//!
//! This crate defines no types itself: the engine's task kinds describe themselves, and
//! the registry a program validates with is derived from the kinds it runs
//! (`harmonia_engine::kinds::Kinds::task_types`), so the two cannot disagree.

use std::sync::{Arc, OnceLock};

use indexmap::IndexMap;
use serde_json::Value;
#[cfg(test)]
use serde_json::json;

/// A problem with a task's parameters: the path inside `with` (JSON pointer) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamProblem {
    /// JSON pointer inside `with`, such as `/url` (empty for `with` itself).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// Where inside the string at `pointer`, in bytes, when the problem is in a string.
    pub span: Option<std::ops::Range<usize>>,
}

/// A type-specific check of `with`, beyond its schema. It sees the parameters as written
/// (strings may still hold `${ }` expressions).
pub type ParamCheck = fn(&Value) -> Vec<ParamProblem>;

/// A parameter of `with:` that is evaluated later than the others, with variables of
/// its own: not when the attempt starts, but when the kind asks (a `wait_event` task's
/// `filter`, for each event that arrives, with `$event`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferred {
    /// The key inside `with`.
    pub key: String,
    /// The variables it may read beyond a task's usual ones.
    pub vars: harmonia_expr::VarSet,
}

/// A task type: its name, what it does, and its parameters.
#[derive(Clone)]
pub struct TaskType {
    name: String,
    description: String,
    /// Shared, as the registry is cloned whole (once per engine and per validator of a
    /// local run) and a schema is a tree of many small allocations.
    schema: Arc<Value>,
    output: Arc<Value>,
    /// Compiled by [`TaskType::new`], or on first use for a [`TaskType::trusted`] one
    /// (with what is wrong when it does not compile).
    validator: Arc<OnceLock<Result<jsonschema::Validator, String>>>,
    check: Option<ParamCheck>,
    deferred: Vec<Deferred>,
}

impl std::fmt::Debug for TaskType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskType")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A parameter schema that is not a valid JSON Schema.
#[derive(Debug, thiserror::Error)]
#[error("invalid parameter schema for task type `{name}`: {message}")]
pub struct SchemaError {
    /// The task type.
    pub name: String,
    /// What is wrong with the schema.
    pub message: String,
}

impl TaskType {
    /// A task type whose `with` must match `schema` (a JSON Schema) and pass `check`.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        schema: Value,
        check: Option<ParamCheck>,
    ) -> Result<TaskType, SchemaError> {
        let name = name.into();
        let validator = compile(&schema).map_err(|message| SchemaError {
            name: name.clone(),
            message,
        })?;
        Ok(TaskType {
            name,
            description: description.into(),
            schema: Arc::new(schema),
            output: Arc::default(),
            validator: Arc::new(OnceLock::from(Ok(validator))),
            check,
            deferred: Vec::new(),
        })
    }

    /// A task type whose `schema` is known to be valid (a constant of the program,
    /// checked by a test), compiled when first used: a process that starts, validates
    /// one workflow and exits compiles only the types that workflow uses. Should the
    /// schema not compile after all, [`TaskType::validator`] says why.
    pub fn trusted(
        name: impl Into<String>,
        description: impl Into<String>,
        schema: Value,
        check: Option<ParamCheck>,
    ) -> TaskType {
        TaskType {
            name: name.into(),
            description: description.into(),
            schema: Arc::new(schema),
            output: Arc::default(),
            validator: Arc::default(),
            check,
            deferred: Vec::new(),
        }
    }

    /// This type, documenting its output with `schema` (a JSON Schema with
    /// descriptions).
    #[must_use]
    pub fn with_output(mut self, schema: Value) -> TaskType {
        self.output = Arc::new(schema);
        self
    }

    /// This type, evaluating `with.<key>` later, where it may also read `vars`.
    #[must_use]
    pub fn with_deferred(
        mut self,
        key: impl Into<String>,
        vars: harmonia_expr::VarSet,
    ) -> TaskType {
        self.deferred.push(Deferred {
            key: key.into(),
            vars,
        });
        self
    }

    /// The name used in `type:`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One sentence on what the type does.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The JSON Schema of `with`.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// The shape of its output (a JSON Schema; `null` when undocumented).
    pub fn output(&self) -> &Value {
        &self.output
    }

    /// The parameters evaluated later than the others.
    pub fn deferred(&self) -> &[Deferred] {
        &self.deferred
    }

    /// The compiled schema, or why it does not compile (only a [`TaskType::trusted`]
    /// type can get that far with a bad one).
    pub fn validator(&self) -> Result<&jsonschema::Validator, &str> {
        self.validator
            .get_or_init(|| compile(&self.schema))
            .as_ref()
            .map_err(String::as_str)
    }

    /// Runs the type-specific check.
    pub fn check(&self, with: &Value) -> Vec<ParamProblem> {
        self.check.map(|c| c(with)).unwrap_or_default()
    }
}

/// `schema` compiled, formats checked; what is wrong with it otherwise.
fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// The task types a workflow may use.
#[derive(Debug, Clone, Default)]
pub struct TaskTypes {
    types: IndexMap<String, TaskType>,
}

impl TaskTypes {
    /// No types.
    pub fn empty() -> TaskTypes {
        TaskTypes::default()
    }

    /// Adds a type, replacing one of the same name.
    pub fn register(&mut self, ty: TaskType) {
        self.types.insert(ty.name.clone(), ty);
    }

    /// The type named `name`.
    pub fn get(&self, name: &str) -> Option<&TaskType> {
        self.types.get(name)
    }

    /// The names, in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }

    /// Every type.
    pub fn iter(&self) -> impl Iterator<Item = &TaskType> {
        self.types.values()
    }
}

/// Stand-in types for this crate's unit tests, which check validation itself: the real
/// ones are the engine's kinds, tested with it.
#[cfg(test)]
pub(crate) fn test_types() -> TaskTypes {
    let mut t = TaskTypes::empty();
    let specs = [
        ("set", json!({})),
        (
            "http",
            json!({"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}}),
        ),
        (
            "workflow",
            json!({"type": "object", "required": ["workflow"], "properties": {"workflow": {"type": "string"}}}),
        ),
    ];
    for (name, schema) in specs {
        if let Ok(ty) = TaskType::new(name, "A test type.", schema, None) {
            t.register(ty);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_open() {
        let mut t = test_types();
        let ty = TaskType::new("noop", "Does nothing.", json!({"type": "object"}), None)
            .expect("valid schema")
            .with_output(json!({"type": "null"}))
            .with_deferred("filter", harmonia_expr::VarSet::EMPTY);
        t.register(ty);
        let noop = t.get("noop").expect("registered");
        assert_eq!(noop.output(), &json!({"type": "null"}));
        assert_eq!(noop.deferred()[0].key, "filter");
        assert_eq!(t.names().last(), Some("noop"));
        assert!(TaskType::new("bad", "", json!({"type": 12}), None).is_err());
    }

    /// A trusted type is compiled on first use; one whose schema does not compile
    /// refuses every task of its type with a problem that says so, and panics nowhere.
    #[test]
    fn a_trusted_schema_that_does_not_compile_is_a_problem_of_its_type() {
        let mut t = test_types();
        t.register(TaskType::trusted("broken", "", json!({"type": 12}), None));
        assert!(t.get("broken").expect("registered").validator().is_err());
        assert!(t.get("http").expect("registered").validator().is_ok());
        let text = "name: w\ntasks:\n  a: {type: broken, with: {}}\n";
        let source = crate::Source::new("w.yaml", text, crate::Format::Yaml);
        let Err(crate::Error::Invalid { diagnostics, .. }) = crate::load(&source, &t) else {
            panic!("a task of a type whose schema does not compile is invalid");
        };
        assert!(
            diagnostics.iter().any(|d| d.path == "tasks.a.with"
                && d.message
                    .contains("task type `broken` has a parameter schema that does not compile")),
            "{diagnostics:#?}"
        );
    }
}
