//! `transform`: runs a jq program (`expr`) over `input`.
//!
//! Parameters: `expr` (a jq program, required), `input` (any value, default null). The
//! program may also read the task's variables ($inputs, $tasks, $item, ...). The output
//! is the program's only result: no result is `null`, several are an error (collect
//! them with `[ ... ]`). Programs are compiled once per distinct text and cached; the
//! validator has compiled them already, so a compile error here means the program was
//! computed at run time. Pure and fast, so it runs inline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use harmonia_expr::{Program, Val, Var, VarSet};
use harmonia_model::{ErrorClass, ParamProblem};
use serde_json::{Value, json};

use super::call::Call;
use super::kind::{Description, Inline, Run, TaskKind};
use crate::event::TaskError;

/// What a `transform` program may read: a task's variables, not `$output` (it is
/// not a task's `output:`), `$secrets` (it is pure), `$event` or `$request`.
const VARS: VarSet = VarSet::ALL
    .without(Var::Output)
    .without(Var::Secrets)
    .without(Var::Event)
    .without(Var::Request)
    .without(Var::Trigger);

/// The `transform` kind.
#[derive(Debug, Default)]
pub struct Transform {
    cache: Mutex<HashMap<String, Arc<Program>>>,
}

/// Programs kept compiled at most; beyond, the cache starts over.
const CACHE_LIMIT: usize = 4096;

impl Transform {
    fn program(&self, code: &str) -> Result<Arc<Program>, TaskError> {
        if let Ok(cache) = self.cache.lock()
            && let Some(p) = cache.get(code)
        {
            return Ok(p.clone());
        }
        let program = Program::compile(code, VARS)
            .map(Arc::new)
            .map_err(|errors| {
                let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
                TaskError::new(
                    ErrorClass::Expression,
                    format!("invalid jq program: {}", text.join("; ")),
                )
            })?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(code.to_string(), program.clone());
        }
        Ok(program)
    }

    fn run(&self, call: &Call) -> Result<Value, TaskError> {
        let Some(code) = call.params.get("expr").and_then(Value::as_str) else {
            return Err(TaskError::new(
                ErrorClass::Validation,
                "`expr` must be a jq program (a string)",
            ));
        };
        let program = self.program(code)?;
        let input = Val::from(call.params.get("input").unwrap_or(&Value::Null));
        program
            .eval_one(&call.ctx, &input, &call.limits)
            .and_then(|v| v.to_json(call.limits.max_output_bytes))
            .map_err(|e| {
                TaskError::new(
                    ErrorClass::Expression,
                    format!("the jq program failed: {e}"),
                )
            })
    }
}

impl TaskKind for Transform {
    fn name(&self) -> &'static str {
        "transform"
    }

    fn describe(&self) -> Description {
        Description {
            summary: "Runs a jq program (`expr`) over `input`; the output is the program's result.",
            params: json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["expr"],
                "properties": {
                    "input": {"description": "The data the program reads as `.` (default null)."},
                    "expr": {"type": "string", "minLength": 1, "description": "A jq program, such as `map(select(.ok))`. It may also read $inputs, $tasks and the other variables."}
                }
            }),
            output: json!({"description": "The program's only result (`null` when it has none)."}),
            check: Some(check),
            deferred: Vec::new(),
        }
    }

    fn run(&self) -> Run<'_> {
        Run::Inline(self)
    }
}

impl Inline for Transform {
    fn run(&self, call: &Call) -> Result<Value, TaskError> {
        Transform::run(self, call)
    }
}

/// `expr` must compile, unless it is computed at run time.
fn check(with: &Value) -> Vec<ParamProblem> {
    let Some(expr) = with.get("expr").and_then(Value::as_str) else {
        return Vec::new();
    };
    if harmonia_expr::Template::has_expressions(expr) {
        return Vec::new();
    }
    match Program::compile(expr, VARS) {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use harmonia_expr::Context;
    use serde_json::json;
    use tokio_util::sync::CancellationToken;

    use super::*;

    fn call(params: Value) -> Call {
        Call {
            ctx: Context::new().with(Var::Inputs, Val::from(json!({"min": 2}))),
            ..Call::for_test(
                "t",
                params,
                Some(Duration::from_secs(1)),
                CancellationToken::new(),
            )
        }
    }

    #[test]
    fn runs_the_program_over_its_input_with_the_context() {
        let t = Transform::default();
        let out = t.run(&call(
            json!({"input": [1, 2, 3], "expr": "map(select(. >= $inputs.min))"}),
        ));
        assert_eq!(out.ok(), Some(json!([2, 3])));
        // Cached: the same text compiles once.
        let _ = t.run(&call(
            json!({"input": [5], "expr": "map(select(. >= $inputs.min))"}),
        ));
        assert_eq!(t.cache.lock().map(|c| c.len()).ok(), Some(1));
    }

    #[test]
    fn programs_are_checked_at_validation_unless_computed() {
        assert_eq!(check(&json!({"expr": "map(.a"})).len(), 1);
        assert!(check(&json!({"expr": "map(.a)"})).is_empty());
        assert!(check(&json!({"expr": "${ $inputs.program }"})).is_empty());
        assert_eq!(check(&json!({"expr": "$event"})).len(), 1);
    }

    #[test]
    fn errors_are_classified_as_expression_errors() {
        let t = Transform::default();
        let e = t
            .run(&call(json!({"input": 1, "expr": ".[0]"})))
            .expect_err("cannot index");
        assert_eq!(e.class, ErrorClass::Expression);
        let e = t
            .run(&call(json!({"input": [1, 2], "expr": ".[]"})))
            .expect_err("two results");
        assert!(e.message.contains("more than one value"), "{}", e.message);
        let e = t
            .run(&call(json!({"input": 1, "expr": "map("})))
            .expect_err("bad program");
        assert!(e.message.starts_with("invalid jq program"), "{}", e.message);
        let e = t.run(&call(json!({"input": 1}))).expect_err("no program");
        assert_eq!(e.class, ErrorClass::Validation);
    }
}
