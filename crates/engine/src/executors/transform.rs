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

use async_trait::async_trait;
use harmonia_expr::{Program, Val, Var, VarSet};
use harmonia_model::ErrorClass;
use serde_json::Value;

use super::{Call, Executor};
use crate::event::TaskError;

/// The `transform` executor.
#[derive(Debug, Default)]
pub struct TransformExecutor {
    cache: Mutex<HashMap<String, Arc<Program>>>,
}

/// Programs kept compiled at most; beyond, the cache starts over.
const CACHE_LIMIT: usize = 4096;

impl TransformExecutor {
    fn program(&self, code: &str) -> Result<Arc<Program>, TaskError> {
        if let Ok(cache) = self.cache.lock()
            && let Some(p) = cache.get(code)
        {
            return Ok(p.clone());
        }
        let program =
            Program::compile(code, VarSet::ALL.without(Var::Output).without(Var::Secrets))
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

#[async_trait]
impl Executor for TransformExecutor {
    fn kind(&self) -> &'static str {
        "transform"
    }

    async fn execute(&self, call: Call) -> Result<Value, TaskError> {
        self.run(&call)
    }

    fn pure(&self) -> bool {
        true
    }

    fn run_inline(&self, call: &Call) -> Option<Result<Value, TaskError>> {
        Some(self.run(call))
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
        let t = TransformExecutor::default();
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
    fn errors_are_classified_as_expression_errors() {
        let t = TransformExecutor::default();
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
