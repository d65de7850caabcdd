//! The registry of task types and their parameters.
//!
//! Each task type declares the JSON Schema of its `with:` parameters, and optionally a
//! check for what a schema cannot say (a jq program that must compile). Validation runs
//! both on every task, so an `http` task without `url` fails at validation time, not at
//! run time. The engine registers its executors under the same names; a type that is
//! here but has no executor cannot run, and the engine says so at start-up.
//!
//! The registry is open: [`TaskTypes::register`] adds a type (the integration work adds
//! `wait_event`, `llm`, `component`, `worker`).

use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Value, json};

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

/// A task type: its name, what it does, and its parameters.
#[derive(Clone)]
pub struct TaskType {
    name: String,
    description: String,
    schema: Value,
    validator: Arc<jsonschema::Validator>,
    check: Option<ParamCheck>,
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
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| SchemaError {
                name: name.clone(),
                message: e.to_string(),
            })?;
        Ok(TaskType {
            name,
            description: description.into(),
            schema,
            validator: Arc::new(validator),
            check,
        })
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

    /// The compiled schema.
    pub fn validator(&self) -> &jsonschema::Validator {
        &self.validator
    }

    /// Runs the type-specific check.
    pub fn check(&self, with: &Value) -> Vec<ParamProblem> {
        self.check.map(|c| c(with)).unwrap_or_default()
    }
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

    /// The built-in types: `set`, `transform`, `http`, `shell`, `sleep`, `workflow`.
    pub fn builtin() -> TaskTypes {
        let mut t = TaskTypes::empty();
        for ty in builtin_types() {
            t.register(ty);
        }
        t
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

fn builtin_types() -> Vec<TaskType> {
    let specs: Vec<(&str, &str, Value, Option<ParamCheck>)> = vec![
        (
            "set",
            "Outputs its evaluated `with:` value as it is.",
            json!({}),
            None,
        ),
        (
            "transform",
            "Runs a jq program (`expr`) over `input`; the output is the program's result.",
            json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["expr"],
                "properties": {
                    "input": {"description": "The data the program reads as `.` (default null)."},
                    "expr": {"type": "string", "minLength": 1, "description": "A jq program, such as `map(select(.ok))`. It may also read $inputs, $tasks and the other variables."}
                }
            }),
            Some(check_transform),
        ),
        (
            "http",
            "Makes an HTTP request; the output is `{status, headers, body}` (body parsed when JSON).",
            json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["url"],
                "properties": {
                    "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], "default": "GET"},
                    "url": {"type": "string", "minLength": 1, "description": "An http:// or https:// URL."},
                    "headers": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                    "query": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean", "array"]}},
                    "json": {"description": "A JSON body (sets Content-Type: application/json)."},
                    "body": {"type": "string", "description": "A raw text body."},
                    "auth": {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": {
                            "basic": {
                                "type": "object",
                                "additionalProperties": false,
                                "required": ["username"],
                                "properties": {"username": {"type": "string"}, "password": {"type": "string"}}
                            },
                            "bearer": {"type": "string", "minLength": 1}
                        },
                        "minProperties": 1,
                        "maxProperties": 1
                    },
                    "expect_status": {
                        "type": "array", "items": {"type": "integer", "minimum": 100, "maximum": 599},
                        "description": "Statuses that count as success (default: any 2xx or 3xx)."
                    }
                }
            }),
            Some(check_http),
        ),
        (
            "shell",
            "Runs a process (`argv`) or a `script` with `sh -c`; the output is `{exit_code, stdout, stderr, json}`.",
            json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "argv": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    "script": {"type": "string", "minLength": 1},
                    "env": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                    "cwd": {"type": "string", "minLength": 1},
                    "stdin": {"type": "string"}
                }
            }),
            Some(check_shell),
        ),
        (
            "sleep",
            "Waits for `duration` on a durable timer.",
            json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["duration"],
                "properties": {
                    "duration": {"type": "string", "description": "A duration such as `500ms`, `30s` or `1h30m`."}
                }
            }),
            Some(check_sleep),
        ),
        (
            "workflow",
            "Runs another workflow by name as a child execution; the output is its outputs.",
            json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["workflow"],
                "properties": {
                    "workflow": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
                    "version": {"type": "integer", "minimum": 1},
                    "inputs": {"type": "object"}
                }
            }),
            None,
        ),
    ];
    specs
        .into_iter()
        .filter_map(|(name, description, schema, check)| {
            TaskType::new(name, description, schema, check).ok()
        })
        .collect()
}

fn is_expression(v: &Value) -> bool {
    v.as_str()
        .is_some_and(harmonia_expr::Template::has_expressions)
}

fn check_transform(with: &Value) -> Vec<ParamProblem> {
    let Some(expr) = with.get("expr").and_then(Value::as_str) else {
        return Vec::new();
    };
    if harmonia_expr::Template::has_expressions(expr) {
        // The program itself is computed at run time.
        return Vec::new();
    }
    match harmonia_expr::Program::compile(
        expr,
        harmonia_expr::VarSet::ALL.without(harmonia_expr::Var::Output),
    ) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .into_iter()
            .map(|e| ParamProblem {
                pointer: "/expr".into(),
                message: match &e {
                    // Not "invalid jq program: invalid expression: ...".
                    harmonia_expr::Error::Syntax { message, .. } => {
                        format!("invalid jq program: {message}")
                    }
                    other => format!("invalid jq program: {other}"),
                },
                span: e.span(),
            })
            .collect(),
    }
}

fn check_http(with: &Value) -> Vec<ParamProblem> {
    let mut out = Vec::new();
    if with.get("json").is_some() && with.get("body").is_some() {
        out.push(ParamProblem {
            pointer: String::new(),
            message: "set either `json` or `body`, not both".into(),
            span: None,
        });
    }
    if let Some(url) = with.get("url").and_then(Value::as_str)
        && !is_expression(&Value::String(url.to_string()))
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        out.push(ParamProblem {
            pointer: "/url".into(),
            message: format!("expected an http:// or https:// URL, found `{url}`"),
            span: None,
        });
    }
    out
}

fn check_sleep(with: &Value) -> Vec<ParamProblem> {
    match with.get("duration").and_then(Value::as_str) {
        Some(d) if !harmonia_expr::Template::has_expressions(d) => {
            match crate::duration::Dur::parse(d) {
                Ok(_) => Vec::new(),
                Err(message) => vec![ParamProblem {
                    pointer: "/duration".into(),
                    message,
                    span: None,
                }],
            }
        }
        _ => Vec::new(),
    }
}

fn check_shell(with: &Value) -> Vec<ParamProblem> {
    let argv = with.get("argv").is_some();
    let script = with.get("script").is_some();
    match (argv, script) {
        (true, true) => vec![ParamProblem {
            pointer: String::new(),
            message: "set either `argv` or `script`, not both".into(),
            span: None,
        }],
        (false, false) => vec![ParamProblem {
            pointer: String::new(),
            message: "missing the command: set `argv` (a list) or `script` (run by `sh -c`)".into(),
            span: None,
        }],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_all_there() {
        let t = TaskTypes::builtin();
        let names: Vec<_> = t.names().collect();
        assert_eq!(
            names,
            ["set", "transform", "http", "shell", "sleep", "workflow"]
        );
    }

    #[test]
    fn registry_is_open() {
        let mut t = TaskTypes::builtin();
        let ty = TaskType::new("noop", "Does nothing.", json!({"type": "object"}), None)
            .expect("valid schema");
        t.register(ty);
        assert!(t.get("noop").is_some());
        assert!(TaskType::new("bad", "", json!({"type": 12}), None).is_err());
    }

    #[test]
    fn checks_beyond_the_schema() {
        let shell = TaskTypes::builtin();
        let shell = shell.get("shell").expect("shell");
        assert_eq!(shell.check(&json!({})).len(), 1);
        assert_eq!(shell.check(&json!({"argv": ["a"], "script": "b"})).len(), 1);
        assert!(shell.check(&json!({"script": "echo"})).is_empty());
        let types = TaskTypes::builtin();
        let tr = types.get("transform").expect("transform");
        assert!(tr.check(&json!({"expr": "map(.a"})).len() == 1);
        assert!(tr.check(&json!({"expr": "map(.a)"})).is_empty());
        let http = types.get("http").expect("http");
        assert_eq!(http.check(&json!({"url": "ftp://x"})).len(), 1);
        assert!(http.check(&json!({"url": "${ $inputs.url }"})).is_empty());
    }
}
